// Public data model of @avcstream/report. The JSON renderer emits `Summary` as-is (see README "Report JSON").

/*
 * Input shapes. These are the parts of `AuditEvent` / `AuditRecord` / `AvcInfo` (@avcstream/audit) the
 * report reads, written structurally so that any AuditEvent is accepted as it is.
 */
export interface ContextLike {
  user: string;
  role: string;
  type: string;
  level: string | null;
  raw: string;
}

export interface AvcLike {
  decision: 'denied' | 'granted';
  perms: string[];
  scontext: ContextLike;
  tcontext: ContextLike;
  tclass: string;
  permissive: boolean | null;
}

export interface RecordLike {
  type: string;
  fields: Record<string, string>;
  avc?: AvcLike;
  /** 1-based line number in the input (`AuditRecord.line`), for the malformed listing. */
  line?: number;
}

export interface EventLike {
  node: string | null;
  /** ISO-8601 UTC time. */
  time: string;
  /** Seconds since the epoch. */
  epoch: number;
  serial: number;
  records: readonly RecordLike[];
}

/** Counters over SELinux records (AVC, USER_AVC, SELINUX_ERR, USER_SELINUX_ERR, MAC_*). */
export interface Statistics {
  /** SELinux records: AVC, USER_AVC, SELINUX_ERR, USER_SELINUX_ERR, USER_MAC_CONFIG_CHANGE and every MAC_* record. */
  totalMessages: number;
  /** MAC_POLICY_LOAD and USER_MAC_POLICY_LOAD records. */
  policyLoads: number;
  /** MAC_STATUS records carrying `enforcing=`. */
  enforcementToggles: number;
  /** MAC_CONFIG_CHANGE records (one per boolean). */
  booleanChanges: number;
  /** Granted AVC and USER_AVC records. */
  allowMessages: number;
  /** Denied AVC and USER_AVC records. */
  deniedMessages: number;
  /** Distinct hosts (`node=`; records without a node count as the default host) with SELinux records. */
  hosts: number;
  /**
   * Lines the parser could not read (fed through `addMalformed`) and AVC / USER_AVC records whose body did not
   * parse. With a host or time filter, lines are filtered by their own `node=` (none: the default host) and
   * audit time; see `malformedUnfiltered`.
   */
  malformed: number;
  /** ISO time of the first / last SELinux record, or null when there were none. */
  firstEvent: string | null;
  lastEvent: string | null;
  /**
   * USER_MAC_CONFIG_CHANGE records: persistent changes made through libsemanage (`semanage boolean|fcontext|
   * port|module|login ...`, `setsebool -P`). Added after the others (stable key order).
   */
  configChanges: number;
  /**
   * Of `malformed`, the lines a host or time filter could not be applied to, counted for the whole input (all
   * hosts and times): given as a bare count (the state dir's counter), or without a readable audit time under a
   * time filter. 0 without a filter. Added after the others (an older summary reads back with 0).
   */
  malformedUnfiltered: number;
}

export interface PolicyLoadRow {
  time: string;
  host: string;
  /** `auid=` as written, or `unset` for 4294967295 and -1; null when absent. */
  auid: string | null;
  /** MAC_POLICY_LOAD (the kernel loaded a policy) or USER_MAC_POLICY_LOAD (a userspace AVC took the reload in). */
  type: 'MAC_POLICY_LOAD' | 'USER_MAC_POLICY_LOAD';
  /** `exe=` of the record, else of the event's SYSCALL (load_policy, semodule, systemd, dbus-broker); null when absent. */
  exe: string | null;
}

export interface EnforcementToggleRow {
  time: string;
  host: string;
  /** `old_enforcing=` (0 permissive, 1 enforcing) or null. */
  old: number | null;
  /** `enforcing=` or null. */
  new: number | null;
  auid: string | null;
}

export interface BooleanChangeRow {
  time: string;
  host: string;
  boolean: string;
  old: number | null;
  new: number | null;
  auid: string | null;
}

/** One USER_MAC_CONFIG_CHANGE record (libsemanage): `msg='resrc=... op=... name=... val=...'`. */
export interface ConfigChangeRow {
  time: string;
  host: string;
  /** `resrc=`: boolean, fcontext, port, module, login, user, ... */
  resource: string | null;
  /** `op=`: add, modify, delete, ... */
  op: string | null;
  /** `name=` (a boolean or module name); null for resources without one (port, fcontext). */
  name: string | null;
  /** `val=` (a boolean's new value). */
  value: string | null;
  exe: string | null;
  /** `res=`: success or failed. */
  result: string | null;
  auid: string | null;
}

/** One granted AVC / USER_AVC record. */
export interface AllowRow {
  time: string;
  host: string;
  serial: number;
  scontext: string;
  tcontext: string;
  class: string;
  perms: string[];
  comm: string | null;
  exe: string | null;
  path: string | null;
}

/** The (source type, target type, class, permission set) key of a grouped listing. */
export interface Signature {
  sourceType: string;
  targetType: string;
  class: string;
  /** Sorted, distinct. */
  perms: string[];
}

/** Verdict and fixes attached to a denied signature, from an offline or live replay. */
export interface GroupExplanation {
  verdict: string;
  fixes: Array<{ kind: string; text: string; verified: boolean }>;
  booleans: Array<{ name: string; current: boolean; blastRadius?: { rules: number; triples: number } }>;
}

/** How many denied records of a group got one verdict (`SignatureGroup.verdicts`). */
export interface VerdictCount {
  verdict: string;
  count: number;
}

/** AVC messages grouped by signature (and decision). Sample lists are capped; see `*Overflow`. */
export interface SignatureGroup {
  decision: 'denied' | 'granted';
  signature: Signature;
  count: number;
  firstSeen: string;
  lastSeen: string;
  hosts: string[];
  scontexts: string[];
  tcontexts: string[];
  comms: string[];
  exes: string[];
  /** The first path-like field seen (`path`, `name`, PATH record name, `dest`/`src` port...). */
  pathSample: string | null;
  /** True when at least one of the records was logged with `permissive=1`. */
  permissive: boolean;
  /** Distinct sample values dropped because a sample list was full. */
  samplesDropped: number;
  /**
   * Null when no explainer was given or it had no answer. The first record's (in input order) that had one:
   * with `verdicts` listing more than one verdict, its booleans and fixes are those of that record.
   */
  explanation: GroupExplanation | null;
  /**
   * Denied records per verdict, most frequent first (ties by verdict name): records of one signature can get
   * different verdicts when their full contexts differ (a constraint on the user, the level). Records without a
   * verdict are not counted, so the counts may sum to less than `count`. Empty without an explainer, and in a
   * summary written before it existed (added after the other keys).
   */
  verdicts: VerdictCount[];
  /**
   * Set when the explainer said its fixes would allow an access that guards the system (authentication data,
   * security files, the security server, kernel-level permissions): why, as it says it (`Explanation.caution`
   * of @avcstream/selinux-access, e.g. `shadow_t holds authentication data (...)`), so a denial here may be an
   * attack rather than a gap in the policy. The first record's (in input order) that had one, whatever the
   * record `explanation` comes from; null when none did or without an explainer, and in a summary written
   * before it existed (added after the other keys).
   */
  caution: string | null;
}

export interface ViewCriteria {
  sourceUser?: string[];
  sourceRole?: string[];
  sourceType?: string[];
  sourceLevel?: string[];
  targetUser?: string[];
  targetRole?: string[];
  targetType?: string[];
  targetLevel?: string[];
  class?: string[];
  perm?: string[];
  exe?: string[];
  comm?: string[];
  path?: string[];
  host?: string[];
  /** Inclusive bounds, ISO-8601 or epoch seconds. */
  since?: string;
  until?: string;
}

/** A named filter over AVC messages (seaudit "view"). */
export interface ViewDefinition {
  name: string;
  description?: string;
  /** `all`: every given criterion must match; `any`: one is enough. */
  match: 'all' | 'any';
  criteria: ViewCriteria;
}

export interface ViewResult {
  name: string;
  description: string | null;
  match: 'all' | 'any';
  /** Matching AVC / USER_AVC records. */
  count: number;
  denied: number;
  granted: number;
  groups: SignatureGroup[];
  groupsDropped: number;
}

export interface TimelineBucket {
  /** ISO start of the bucket. */
  start: string;
  denied: number;
  granted: number;
}

export interface Timeline {
  bucketSeconds: number;
  buckets: TimelineBucket[];
}

export interface RankedCount {
  name: string;
  count: number;
}

/** Counts of rows/groups dropped because a bound was reached. All zero in a complete report. */
export interface Truncation {
  policyLoads: number;
  enforcementToggles: number;
  booleanChanges: number;
  allowListing: number;
  /** Denied records whose signature could not get a group (signature table full). */
  denyListing: number;
  configChanges: number;
  /** Malformed lines not listed (`maxMalformedLines` reached); only with `listMalformed`. */
  malformedLines?: number;
}

/** Input of `SummaryBuilder.addMalformed`: a line the parser rejected. */
export interface MalformedLineInput {
  /** Where it was read (a path, `(stdin)`). */
  file: string;
  /** 1-based line number in that file. */
  line: number;
  /** The raw line (attacker-controlled: renderers escape it). */
  text: string;
}

/** A listed malformed line (`listMalformed`): `text` cut to `maxMalformedLineChars`, `cut` when it was. */
export interface MalformedLineRow {
  file: string;
  line: number;
  text: string;
  cut: boolean;
}

export interface Summary {
  statistics: Statistics;
  policyLoads: PolicyLoadRow[];
  enforcementToggles: EnforcementToggleRow[];
  booleanChanges: BooleanChangeRow[];
  allowListing: AllowRow[];
  denyListing: SignatureGroup[];
  views: ViewResult[];
  truncated: Truncation;
  /** Chart data (denials over time, top source domains and target types of denials). */
  charts: {
    timeline: Timeline;
    topSourceTypes: RankedCount[];
    topTargetTypes: RankedCount[];
  };
  /** USER_MAC_CONFIG_CHANGE records in time order (added after the others: stable key order). */
  configChanges: ConfigChangeRow[];
  /** The malformed lines in input order, only with `listMalformed` (last key). */
  malformedLines?: MalformedLineRow[];
}

/** The part of a denial an explainer needs (structurally the `Denial` of @avcstream/selinux-access). */
export interface DenialInput {
  scontext: string;
  tcontext: string;
  tclass: string;
  perms: string[];
  permissive?: boolean | null;
  /** The record's `ioctlcmd` (checked against allowxperm rules), or null. */
  ioctlcmd?: number | null;
  /** The port of a name_bind (`src=`) / name_connect (`dest=`) denial, or null (`Denial.port`). */
  port?: number | null;
  /**
   * The object's path when the event says which object the kernel checked (`avcObjectPath`), or null: an
   * explainer with file_contexts looks up its default label (restorecon advice).
   */
  path?: string | null;
}

/** Structurally compatible with `Explanation` of @avcstream/selinux-access. */
export interface ExplanationLike {
  verdict: string;
  fixes: Array<{ kind: string; text: string; verified: boolean }>;
  booleans: Array<{ name: string; current: boolean; blastRadius?: { rules: number; triples: number } }>;
  /** The fixes would allow an access that guards the system: why (becomes the group's `caution`). */
  caution?: string;
}

/**
 * Called for each denied record (the group keeps the first answer and counts every verdict); pass a memoizing
 * explainer (`createExplainer` of @avcstream/selinux-access memoizes by default). Should not throw (a throw
 * counts as no answer); return null when unknown.
 */
export type ExplainLookup = (denial: DenialInput) => ExplanationLike | null | undefined;

export interface SummaryLimits {
  /** Distinct denied signatures kept (default 5000). */
  maxSignatures: number;
  /** Rows per plain listing: policy loads, toggles, boolean changes, allow listing (default 1000). */
  maxRows: number;
  /** Distinct values per sample list in a group (default 8). */
  maxSamples: number;
  /** Groups per custom view (default 500). */
  maxViewGroups: number;
  /** Timeline buckets before they are merged pairwise (default 240). */
  maxBuckets: number;
  /** Entries in the top-N tables (default 10). */
  topN: number;
  /** Malformed lines listed with `listMalformed` (default 100). */
  maxMalformedLines: number;
  /** Characters kept of each listed malformed line (default 512). */
  maxMalformedLineChars: number;
}

export interface SummaryOptions {
  limits?: Partial<SummaryLimits>;
  /** Host name for records without `node=` (default `localhost`). */
  defaultHost?: string;
  /** Keep only events in [since, until] (epoch seconds, inclusive). */
  since?: number;
  until?: number;
  /** Keep only events of these hosts (exact names). */
  hosts?: string[];
  views?: ViewDefinition[];
  /** List the malformed lines given to `addMalformed` (bounded), as seaudit-report's `--malformed`. */
  listMalformed?: boolean;
}
