// Public data model of @avcstream/selinux-access. Shared by every downstream package: change with care.

export type Verdict =
  | 'ALLOWED'
  | 'DONTAUDIT'
  | 'TE_MISSING'
  | 'BOOLEAN'
  | 'CONSTRAINT'
  | 'RBAC'
  | 'BOUNDS'
  | 'INVALID_CONTEXT'
  | 'UNKNOWN_CLASS'
  | 'UNKNOWN_PERM';

/** One AVC denial to explain: contexts as written in the record. */
export interface Denial {
  scontext: string;
  tcontext: string;
  tclass: string;
  perms: string[];
  permissive?: boolean | null;
  /**
   * `ioctlcmd=0x…` of an ioctl denial (0..0xffff): checked against the policy's allowxperm rules, which
   * the kernel applies and audit2why ignores.
   */
  ioctlcmd?: number | null;
  /**
   * The port of a `name_bind` (`src=`) or `name_connect` (`dest=`) socket denial (an integer 0..65535),
   * written into the `semanage port` fix; anything else counts as unknown (the fix then holds `<port>`).
   */
  port?: number | null;
  /**
   * The default label file_contexts gives the object's path (looked up by the caller, e.g. with
   * parseFileContexts, from the record's full path), or null/absent when unknown. A file denial whose
   * object has another label gets restorecon advice when the default label allows the access.
   * `customizable`: the object's current type is in contexts/customizable_types (restorecon -F).
   */
  defaultLabel?: { type: string; spec: string; customizable?: boolean } | null;
}

export interface BlastRadius {
  /** Allow rules (avtab entries, attributes unexpanded) the boolean would enable. */
  rules: number;
  /** Distinct (source type, target type, class) triples those rules cover, attributes expanded. */
  triples: number;
}

export interface BooleanSuggestion {
  name: string;
  /** The boolean's current value in the state the decision was made with. */
  current: boolean;
  blastRadius: BlastRadius;
}

export interface Fix {
  kind: 'allow' | 'setsebool' | 'restorecon' | 'semanage' | 'note';
  /**
   * A ready-to-run command or rule, e.g. `allow httpd_t shadow_t:file read;` or `setsebool -P x 1` (only
   * built from names that are checkpolicy identifiers), or the text of a note. No newline or control
   * character.
   */
  text: string;
  /** True when the fix was checked against the model and does grant every denied permission. */
  verified: boolean;
}

export interface Explanation {
  verdict: Verdict;
  /** Booleans whose flip allows all denied permissions (empty unless verdict is BOOLEAN). */
  booleans: BooleanSuggestion[];
  /** Human-readable evidence lines (rules found or missing, failing constraint rendered readably...). */
  evidence: string[];
  /** For CONSTRAINT: the failing constraint rendered readably, and which of user/role/level caused it. */
  constraint?: { text: string; causes: Array<'user' | 'role' | 'type' | 'level'> };
  fixes: Fix[];
  /**
   * Set when the fixes would allow an access that guards the system (authentication data, security files,
   * the security server, kernel-level permissions): why. The evidence says so too, in a `Caution:` line.
   */
  caution?: string;
}
