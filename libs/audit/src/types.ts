// Public data model of @avcstream/audit. Shared by every downstream package: change with care.

/** An SELinux security context split into its parts. `level` is the MLS range, or null when absent. */
export interface SecurityContext {
  user: string;
  role: string;
  type: string;
  level: string | null;
  /** The context exactly as written in the record. */
  raw: string;
}

/** The parsed body of an AVC or USER_AVC record. */
export interface AvcInfo {
  decision: 'denied' | 'granted';
  perms: string[];
  scontext: SecurityContext;
  tcontext: SecurityContext;
  tclass: string;
  /** `permissive=0|1` when present, else null (old kernels). */
  permissive: boolean | null;
}

/** One audit record (one `type=... msg=audit(...)` unit). */
export interface AuditRecord {
  /** Record type name: `AVC`, `SYSCALL`, ... ; unknown numeric types stay as written, e.g. `UNKNOWN[1420]`. */
  type: string;
  node: string | null;
  /** Seconds since the epoch and milliseconds, as in `audit(SEC.MSEC:SERIAL)`. */
  sec: number;
  msec: number;
  serial: number;
  /**
   * Raw fields: surrounding quotes removed; values the field dictionary marks as hex-encoded are decoded
   * to text (`exe`, `comm`, `path`, `name`, `cwd`, `proctitle`, ...). Other values are kept as written,
   * so `dest=5432` stays `"5432"`. For USER_* records the nested `msg='...'` fields are merged in.
   */
  fields: Record<string, string>;
  /**
   * Interpreted values: syscall and arch names, errno names, `unset` ids, sockaddr, mode, proctitle argv,
   * execve argv, and ENRICHED uppercase fields (`UID`, `AUID`, ...) as given by auditd.
   */
  interpreted: Record<string, unknown>;
  /** Present on AVC and USER_AVC records whose body parsed. */
  avc?: AvcInfo;
  /** 1-based line number in the input. */
  line: number;
}

/** A group of records sharing `(node, sec.msec, serial)`. */
export interface AuditEvent {
  node: string | null;
  /** ISO-8601 UTC time with milliseconds. */
  time: string;
  /** sec + msec / 1000. */
  epoch: number;
  serial: number;
  /** Records in input order. */
  records: AuditRecord[];
  /** True when the event was cut short (evicted from a full in-flight table). */
  partial: boolean;
}

/** A line that could not be parsed. Returned as a value, never thrown. */
export interface ParseError {
  kind: 'parse-error';
  /** Stable error code, `AVC_ERR_AUDIT_<WHAT>` (additive; always set by this package). */
  code?: string;
  /** Byte offset of the line in the stream, when parsed by the streaming decoder. */
  offset?: number;
  /** 1-based line number. */
  line: number;
  message: string;
  /** The raw line, as written (without the trailing newline), decoded as UTF-8 (invalid bytes: U+FFFD). */
  raw: string;
  /**
   * The line's bytes, as written (without the trailing CR/LF; an over-long line keeps the same first bytes
   * as `raw`). Set by the streaming decoder (`createAuditDecoder`, `parseAuditText`), not by `parseLine`:
   * dead letters carry these.
   */
  bytes?: Uint8Array;
  /**
   * Length of the whole line in bytes, up to (not including) its LF. Set by the streaming decoder on an over-long
   * line (`AVC_ERR_AUDIT_LINE_TOO_LONG`), whose `bytes` keep only the first 4096: dead letters report this
   * length as `rawBytes` with `truncated: true`.
   */
  lineBytes?: number;
}
