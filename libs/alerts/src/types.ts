// Structural mirrors of the shared models (`AvcInfo` of @avcstream/audit, `Explanation` of
// @avcstream/selinux-access): those satisfy these, and this package stays usable without either.

/** The parts of an AVC (`AvcInfo`) an alert uses. */
export interface AvcLike {
  decision: 'denied' | 'granted';
  perms: string[];
  scontext: { type: string; raw: string };
  tcontext: { type: string; raw: string };
  tclass: string;
  permissive: boolean | null;
}

export interface FixLike {
  kind: string;
  text: string;
  verified: boolean;
}

export interface BooleanSuggestionLike {
  name: string;
  current: boolean;
  blastRadius: { rules: number; triples: number };
}

/** The parts of an `Explanation` an alert carries. */
export interface ExplanationLike {
  verdict: string;
  booleans: BooleanSuggestionLike[];
  fixes: FixLike[];
  /**
   * Set when the fixes would allow an access that guards the system (authentication data, security files,
   * the security server, kernel-level permissions): why, e.g. `shadow_t holds authentication data (...)`.
   */
  caution?: string;
}

/** What decides a signature. Default: (source type, target type, class, one permission). */
export interface SignatureOptions {
  /** Add the executable and/or the target path to the signature. */
  include?: Array<'exe' | 'path'>;
  /** One signature for the whole denied permission set instead of one per permission. */
  permissionSet?: boolean;
}

export interface SignatureInfo {
  /** sha256 hex (32 chars) of `key`: stable, safe as an ES `_id`. */
  id: string;
  /** `source_t:target_t:class:perm[,perm]` plus `:exe=...` / `:path=...` when configured. */
  key: string;
  sourceType: string;
  targetType: string;
  class: string;
  perms: string[];
  exe?: string;
  path?: string;
}

/** One denial with the facts an alert carries. Built by the caller from an AuditEvent. */
export interface DenialContext {
  host: string;
  /** Event time, ISO-8601. */
  time: string;
  serial: number;
  avc: AvcLike;
  pid: number | null;
  comm: string | null;
  exe: string | null;
  path: string | null;
}

export type AlertKind = 'new-signature' | 'repeat';
export type AlertScope = 'fleet' | 'host';

export interface Alert {
  /** Stable id: receivers de-duplicate on it (a redelivery carries the same id). */
  id: string;
  kind: AlertKind;
  /** `fleet`: never seen anywhere before; `host`: known elsewhere, new on this host. */
  scope: AlertScope;
  signature: SignatureInfo;
  host: string;
  /** Event time of the denial that raised it (for `repeat`: of the last one counted). */
  time: string;
  event: {
    serial: number;
    pid: number | null;
    comm: string | null;
    exe: string | null;
    path: string | null;
    scontext: string;
    tcontext: string;
    tclass: string;
    perms: string[];
    permissive: boolean | null;
  };
  verdict: string | null;
  fixes: FixLike[];
  /** For a BOOLEAN verdict: the booleans that would allow it, each with its blast radius. */
  booleans: BooleanSuggestionLike[];
  /**
   * The explanation's caution: the fixes would allow an access that guards the system (why, as the explainer
   * says it), so the denial may be an attack rather than a gap in the policy. null when there is none or no
   * explanation. Absent from alerts recorded by older versions (a store's or ES outbox).
   */
  caution: string | null;
  /** 1 for a new signature; for `repeat`, how many occurrences the rate limit folded into this alert. */
  count: number;
  /** For `repeat`: the window the count covers (ISO). */
  window?: { from: string; to: string };
  /** Set when the alert is sent again after a restart (it was recorded but not acknowledged). */
  redelivered?: boolean;
}

/** Where alerts go. `send` may be synchronous (console) or return a promise (webhook, Kafka). */
export interface AlertSink {
  readonly name: string;
  send(alert: Alert): void | Promise<void>;
  close?(): Promise<void>;
}

export interface ClaimRequest {
  signature: SignatureInfo;
  host: string;
  time: string;
  /** Builds the alerts for a claim result; a durable registry records them with the claim (outbox). */
  alerts: (result: ClaimResult) => Alert[];
  /**
   * The alerts `alerts` would build for a result, without side effects (no rate limit): the ES registry stores
   * them in the document it creates, before the result is known (outbox).
   */
  preview?: (result: ClaimResult) => Alert[];
  /**
   * The rate-limit windows the alerts built by `alerts` open (asked right after it): a durable registry stores
   * them with the claim, so a restart before the next batch still folds the flood into them.
   */
  windows?: () => RateWindowRecord[];
}

/** A rate-limit window as a durable registry keeps it; `data` is the alert the window follows. */
export interface RateWindowRecord {
  id: string;
  key: string;
  from: number;
  count: number;
  lastTime: string;
  data: Alert;
}

export interface ClaimResult {
  newFleet: boolean;
  newHost: boolean;
}

/** Decides "new" exactly once: the store (embedded), Elasticsearch `create` (fleet), memory (tests). */
export interface SignatureRegistry {
  claim(req: ClaimRequest): Promise<ClaimResult> | ClaimResult;
  /** A sink acknowledged an alert (durable registries keep an outbox). */
  delivered?(alertId: string, sink: string): void | Promise<void>;
  /**
   * Alerts recorded but not acknowledged by every sink (after a crash), with the sinks still to deliver them
   * (absent: every sink). The ES registry's is asynchronous: it takes stale claims over first.
   */
  pending?(): Array<{ alert: Alert; sinks?: string[] }> | Promise<Array<{ alert: Alert; sinks?: string[] }>>;
  /**
   * Record the `repeat` alert a window ended with and drop the window (durable registries), before any sink
   * sees it. False when it was already recorded: it is not sent again.
   */
  recordRepeat?(alert: Alert, windowId: string): boolean | Promise<boolean>;
}
