import { avcObjectPath, avcPortOf, ioctlCommandOf, isAppArmorAvc, isMalformedAvc } from '@avcstream/audit';
import type {
  AllowRow,
  EventLike as AuditEvent,
  RecordLike as AuditRecord,
  AvcLike as AvcInfo,
  BooleanChangeRow,
  ConfigChangeRow,
  EnforcementToggleRow,
  ExplainLookup,
  ExplanationLike,
  GroupExplanation,
  MalformedLineInput,
  MalformedLineRow,
  PolicyLoadRow,
  RankedCount,
  Signature,
  SignatureGroup,
  Statistics,
  Summary,
  SummaryLimits,
  SummaryOptions,
  Timeline,
  Truncation,
  VerdictCount,
  ViewDefinition,
  ViewResult,
} from './types.ts';
import { compileView, type ViewSubject } from './views.ts';

export const DEFAULT_LIMITS: Readonly<SummaryLimits> = Object.freeze({
  maxSignatures: 5000,
  maxRows: 1000,
  maxSamples: 8,
  maxViewGroups: 500,
  maxBuckets: 240,
  topN: 10,
  maxMalformedLines: 100,
  maxMalformedLineChars: 512,
});

/** Distinct source/target types tracked for the top-N charts; later ones are counted as `(other)`. */
const MAX_RANKED = 10_000;
/** Distinct verdicts counted per group (the explainer's are a handful; stored ones could be anything). */
const MAX_VERDICTS = 32;
/** Input files told apart in the malformed listing's order (later ones sort last). */
const MAX_FILES = 100_000;
/** Distinct host names tracked for `statistics.hosts`. */
const MAX_HOSTS = 100_000;
const OTHER = '(other)';

/**
 * True for AVC, USER_AVC, SELINUX_ERR, USER_SELINUX_ERR, USER_MAC_CONFIG_CHANGE, USER_MAC_POLICY_LOAD and MAC_*
 * records.
 */
export function isSelinuxRecordType(type: string): boolean {
  return (
    type === 'AVC' ||
    type === 'USER_AVC' ||
    type === 'SELINUX_ERR' ||
    type === 'USER_SELINUX_ERR' ||
    type === 'USER_MAC_CONFIG_CHANGE' ||
    type === 'USER_MAC_POLICY_LOAD' ||
    type.startsWith('MAC_')
  );
}

/**
 * Where a record was read and its raw text (the caller keeps it), for the malformed listing; undefined when
 * unknown.
 */
export type MalformedLineLookup = (record: AuditRecord) => MalformedLineInput | undefined;

export interface SummaryBuilder {
  /**
   * Adds one event (all its records). `explain` is asked for each denied record. With `listMalformed`,
   * `malformedLine` gives the line of an AVC / USER_AVC record whose body did not parse, to list it.
   */
  add(event: AuditEvent, explain?: ExplainLookup, malformedLine?: MalformedLineLookup): void;
  /**
   * Counts lines the parser rejected: `n`, or with `lines` (those same lines) each line, filtered by the host
   * and time filters where its `node=` and audit time can be read. With `listMalformed`, the lines (of the
   * selection) are listed up to `maxMalformedLines`, each cut to `maxMalformedLineChars`. A bare count under a
   * filter counts in `malformedUnfiltered`.
   */
  addMalformed(n: number, lines?: readonly MalformedLineInput[]): void;
  /**
   * Adds denied AVC / USER_AVC records summarised elsewhere (Elasticsearch aggregations) with the same effect
   * on statistics, charts and the deny listing as `add`-ing them one by one. The caller applies the time and
   * host filters; views are not fed (they need the records).
   */
  addDenied(agg: DeniedAggregate): void;
  /** A snapshot; the builder keeps accepting events afterwards. */
  build(): Summary;
}

/** Denied records already grouped by signature (see `SummaryBuilder.addDenied`). */
export interface DeniedAggregate {
  /** Denied records. */
  count: number;
  /** Every distinct host with a denied record. */
  hosts: Iterable<string>;
  /** Denied records per time bucket: `epoch` is any second inside the bucket (buckets of 60·2^k s align). */
  timeline: Iterable<{ epoch: number; count: number }>;
  /**
   * Every signature group once (distinct signatures), with its first and last epoch (seconds). Kept in
   * first-seen order up to the limit.
   */
  groups: Iterable<{ firstEpoch: number; lastEpoch: number; group: SignatureGroup }>;
}

interface GroupState {
  group: SignatureGroup;
  firstEpoch: number;
  lastEpoch: number;
}

interface GroupTable {
  map: Map<string, GroupState>;
  max: number;
  dropped: number;
}

function toInt(v: string | undefined): number | null {
  return v !== undefined && /^-?\d{1,9}$/.test(v) ? Number(v) : null;
}

/** A field value, or null when absent, empty or `(null)` (what audit writes for no name). */
function nonEmpty(v: string | undefined): string | null {
  return v === undefined || v === '' || v === '(null)' ? null : v;
}

function joinPath(dir: string, name: string): string {
  return dir.endsWith('/') ? dir + name : `${dir}/${name}`;
}

/**
 * The path of the object an AVC record is about, as the alerts of `avcstream run` show it: the record's
 * `path=`; else the event's first PATH record that is not a PARENT (a bare name below a PARENT record joined
 * to it, as a create's), made absolute with the event's CWD when relative; else the AVC's `name=` below the
 * PARENT record; else `name=` as written (no record says which directory holds it). Null when there is none.
 */
export function objectPathOf(avcRecord: AuditRecord, event: AuditEvent): string | null {
  const direct = nonEmpty(avcRecord.fields.path);
  if (direct !== null) return direct;
  let cwd: string | null = null;
  let normal: string | null = null;
  let parent: string | null = null;
  for (const r of event.records) {
    if (r.type === 'CWD') cwd ??= nonEmpty(r.fields.cwd);
    if (r.type !== 'PATH') continue;
    const name = nonEmpty(r.fields.name);
    if (name === null) continue;
    if (r.fields.nametype === 'PARENT') parent ??= name;
    else normal ??= name;
  }
  const name = nonEmpty(avcRecord.fields.name);
  let pick: string;
  if (normal !== null) {
    pick =
      normal.startsWith('/') || parent === null || normal.includes('/') ? normal : joinPath(parent, normal);
  } else if (parent !== null && name !== null && !name.includes('/')) pick = joinPath(parent, name);
  else return name ?? parent;
  return pick.startsWith('/') || cwd === null ? pick : joinPath(cwd, pick);
}

/** `comm` / `exe` of the record, else of the event's SYSCALL. Exported for tests. */
export function fieldFromEvent(
  avcRecord: AuditRecord,
  event: AuditEvent,
  key: 'comm' | 'exe',
): string | null {
  const own = avcRecord.fields[key];
  if (own !== undefined) return own;
  for (const r of event.records) {
    if (r.type === 'SYSCALL' && r.fields[key] !== undefined) return r.fields[key];
  }
  return null;
}

function addSample(list: string[], value: string | null, max: number): number {
  if (value === null || list.includes(value)) return 0;
  if (list.length < max) {
    list.push(value);
    return 0;
  }
  return 1;
}

/** Counts one record's verdict in a group's breakdown (bounded to MAX_VERDICTS distinct verdicts). */
function countVerdict(list: VerdictCount[], verdict: string, n = 1): void {
  const hit = list.find((v) => v.verdict === verdict);
  if (hit !== undefined) hit.count += n;
  else if (list.length < MAX_VERDICTS) list.push({ verdict, count: n });
}

/** Most frequent first, ties by verdict name: the same order whatever the input order or source. */
function sortedVerdicts(list: readonly VerdictCount[] | undefined): VerdictCount[] {
  return (list ?? [])
    .map((v) => ({ ...v }))
    .sort((a, b) => b.count - a.count || (a.verdict < b.verdict ? -1 : a.verdict > b.verdict ? 1 : 0));
}

function copyGroup(g: SignatureGroup): SignatureGroup {
  return {
    ...g,
    signature: { ...g.signature, perms: [...g.signature.perms] },
    hosts: [...g.hosts],
    scontexts: [...g.scontexts],
    tcontexts: [...g.tcontexts],
    comms: [...g.comms],
    exes: [...g.exes],
    explanation: g.explanation === null ? null : structuredClone(g.explanation),
    verdicts: sortedVerdicts(g.verdicts),
    caution: typeof g.caution === 'string' ? g.caution : null,
  };
}

function sortedGroups(table: GroupTable): SignatureGroup[] {
  return [...table.map.values()]
    .sort(
      (a, b) =>
        b.group.count - a.group.count ||
        a.firstEpoch - b.firstEpoch ||
        (a.group.signature.sourceType + a.group.signature.targetType).localeCompare(
          b.group.signature.sourceType + b.group.signature.targetType,
        ),
    )
    .map((s) => copyGroup(s.group));
}

function ranked(map: Map<string, number>, n: number): RankedCount[] {
  return [...map.entries()]
    .map(([name, count]) => ({ name, count }))
    .sort((a, b) => b.count - a.count || a.name.localeCompare(b.name))
    .slice(0, n);
}

function bump(map: Map<string, number>, key: string, n = 1): void {
  const cur = map.get(key);
  if (cur !== undefined) map.set(key, cur + n);
  else if (map.size < MAX_RANKED) map.set(key, n);
  else map.set(OTHER, (map.get(OTHER) ?? 0) + n);
}

/**
 * The rows of one listing, in time order (ties in input order), bounded to the earliest `max`: inputs need not
 * come in time order (`audit.log*` expands newest first; several hosts' logs). Memory stays under 2·max rows.
 */
interface TimedRows<T> {
  push(epoch: number, row: T): void;
  /** The kept rows, earliest first. */
  list(): T[];
  /** Rows pushed but not kept. */
  dropped(): number;
}

function createTimedRows<T>(max: number): TimedRows<T> {
  let rows: Array<{ epoch: number; seq: number; row: T }> = [];
  let total = 0;
  let seq = 0;
  /** Once `max` rows are kept: the time of the latest kept one (a later row can never be kept). */
  let cutoff = Number.POSITIVE_INFINITY;
  const compact = () => {
    rows.sort((a, b) => a.epoch - b.epoch || a.seq - b.seq);
    if (rows.length >= max) {
      rows = rows.slice(0, max);
      cutoff =
        rows.length > 0 ? (rows[rows.length - 1] as { epoch: number }).epoch : Number.NEGATIVE_INFINITY;
    }
  };
  return {
    push(epoch, row) {
      total++;
      if (epoch >= cutoff) return;
      rows.push({ epoch, seq: seq++, row });
      if (rows.length > 2 * max) compact();
    },
    list() {
      compact();
      return rows.map((r) => r.row);
    },
    dropped: () => total - Math.min(total, max),
  };
}

function groupKey(decision: SignatureGroup['decision'], s: Signature): string {
  return `${decision}\u0000${s.sourceType}\u0000${s.targetType}\u0000${s.class}\u0000${s.perms.join(' ')}`;
}

/** The explainer's answer for one denied AVC; null when it has none or throws. */
function explainRecord(
  explain: ExplainLookup,
  avc: AvcInfo,
  perms: string[],
  record: AuditRecord,
  event: AuditEvent,
): ExplanationLike | null {
  try {
    const e = explain({
      scontext: avc.scontext.raw,
      tcontext: avc.tcontext.raw,
      tclass: avc.tclass,
      perms,
      permissive: avc.permissive,
      ioctlcmd: ioctlCommandOf(record),
      port: avcPortOf(record),
      // The object's path when the event says which object the kernel checked: a default-label lookup.
      path: avcObjectPath(record, event),
    });
    return e == null || typeof e.verdict !== 'string' ? null : e;
  } catch {
    return null;
  }
}

/** A copy of an explainer's answer as a group explanation (the explainer may share and freeze its objects). */
function groupExplanationOf(e: ExplanationLike): GroupExplanation {
  return {
    verdict: e.verdict,
    fixes: e.fixes.map((f) => ({ kind: f.kind, text: f.text, verified: f.verified })),
    booleans: e.booleans.map((b) =>
      b.blastRadius === undefined
        ? { name: b.name, current: b.current }
        : { name: b.name, current: b.current, blastRadius: { ...b.blastRadius } },
    ),
  };
}

export function createSummaryBuilder(options: SummaryOptions = {}): SummaryBuilder {
  const limits: SummaryLimits = { ...DEFAULT_LIMITS, ...options.limits };
  const defaultHost = options.defaultHost ?? 'localhost';
  const since = options.since ?? Number.NEGATIVE_INFINITY;
  const until = options.until ?? Number.POSITIVE_INFINITY;
  const hostFilter = options.hosts === undefined ? null : new Set(options.hosts);

  const stats: Statistics = {
    totalMessages: 0,
    policyLoads: 0,
    enforcementToggles: 0,
    booleanChanges: 0,
    allowMessages: 0,
    deniedMessages: 0,
    hosts: 0,
    malformed: 0,
    firstEvent: null,
    lastEvent: null,
    configChanges: 0,
    malformedUnfiltered: 0,
  };
  let firstEpoch = Number.POSITIVE_INFINITY;
  let lastEpoch = Number.NEGATIVE_INFINITY;
  const hosts = new Set<string>();
  // Listings are in time order whatever the input order, truncated to their earliest rows.
  const policyLoads = createTimedRows<PolicyLoadRow>(limits.maxRows);
  const toggles = createTimedRows<EnforcementToggleRow>(limits.maxRows);
  const booleans = createTimedRows<BooleanChangeRow>(limits.maxRows);
  const allows = createTimedRows<AllowRow>(limits.maxRows);
  const configChanges = createTimedRows<ConfigChangeRow>(limits.maxRows);
  const listMalformed = options.listMalformed === true;
  // In (file, line) order whatever the order they come in (AVC records come when their event closes).
  const malformedLines = createTimedRows<MalformedLineRow>(limits.maxMalformedLines);
  const fileOrder = new Map<string, number>();
  const filtering = options.since !== undefined || options.until !== undefined || hostFilter !== null;

  function listMalformedLine(l: MalformedLineInput): void {
    if (!fileOrder.has(l.file) && fileOrder.size < MAX_FILES) fileOrder.set(l.file, fileOrder.size);
    const order = fileOrder.get(l.file) ?? MAX_FILES;
    const max = Math.max(1, limits.maxMalformedLineChars);
    // Cut on code points, so a cut never splits a surrogate pair.
    const cut = l.text.length > max && [...l.text].length > max;
    malformedLines.push(order * 2 ** 32 + Math.max(0, Math.min(l.line, 2 ** 32 - 1)), {
      file: l.file,
      line: l.line,
      text: cut ? [...l.text].slice(0, max).join('') : l.text,
      cut,
    });
  }

  /**
   * Whether a rejected line is in the selection: its `node=` (none: the default host) against the host filter,
   * its audit time against since/until; null when the time filter cannot be applied (no readable time).
   */
  function lineSelected(text: string): boolean | null {
    if (hostFilter !== null) {
      const node = /^node=(\S+) /.exec(text)?.[1] ?? defaultHost;
      if (!hostFilter.has(node)) return false;
    }
    if (options.since === undefined && options.until === undefined) return true;
    const m = /\bmsg=audit\((\d{1,12})(?:\.(\d{1,3}))?:\d+\)/.exec(text);
    if (m === null) return null;
    const epoch = Number(m[1]) + (m[2] === undefined ? 0 : Number(m[2]) / 1000);
    return epoch >= since && epoch <= until;
  }
  const denyTable: GroupTable = { map: new Map(), max: limits.maxSignatures, dropped: 0 };
  const views = (options.views ?? []).map((def: ViewDefinition) => ({
    def,
    test: compileView(def),
    table: { map: new Map(), max: limits.maxViewGroups, dropped: 0 } as GroupTable,
    count: 0,
    denied: 0,
    granted: 0,
  }));
  const sourceTypes = new Map<string, number>();
  const targetTypes = new Map<string, number>();

  // Timeline: buckets of `bucketSeconds`, indexed by floor(epoch / bucketSeconds); the width doubles
  // whenever the covered span would exceed maxBuckets, so memory stays bounded for any time span.
  let bucketSeconds = 60;
  let buckets = new Map<number, { denied: number; granted: number }>();
  let minIdx = Number.POSITIVE_INFINITY;
  let maxIdx = Number.NEGATIVE_INFINITY;

  function addToTimeline(epoch: number, decision: 'denied' | 'granted', n = 1): void {
    let idx = Math.floor(epoch / bucketSeconds);
    while (Math.max(maxIdx, idx) - Math.min(minIdx, idx) + 1 > limits.maxBuckets) {
      bucketSeconds *= 2;
      const merged = new Map<number, { denied: number; granted: number }>();
      for (const [i, b] of buckets) {
        const j = Math.floor(i / 2);
        const m = merged.get(j);
        if (m === undefined) merged.set(j, { ...b });
        else {
          m.denied += b.denied;
          m.granted += b.granted;
        }
      }
      buckets = merged;
      minIdx = Math.floor(minIdx / 2);
      maxIdx = Math.floor(maxIdx / 2);
      idx = Math.floor(epoch / bucketSeconds);
    }
    minIdx = Math.min(minIdx, idx);
    maxIdx = Math.max(maxIdx, idx);
    const b = buckets.get(idx);
    if (b === undefined)
      buckets.set(idx, { denied: decision === 'denied' ? n : 0, granted: decision === 'granted' ? n : 0 });
    else b[decision] += n;
  }

  /** `explained`: the record's explanation (denied records, with an explainer), else null. */
  function groupInto(
    table: GroupTable,
    avc: AvcInfo,
    perms: string[],
    record: AuditRecord,
    event: AuditEvent,
    host: string,
    explained: ExplanationLike | null,
  ): boolean {
    const key = groupKey(avc.decision, {
      sourceType: avc.scontext.type,
      targetType: avc.tcontext.type,
      class: avc.tclass,
      perms,
    });
    let state = table.map.get(key);
    if (state === undefined) {
      if (table.map.size >= table.max) {
        table.dropped++;
        return false;
      }
      state = {
        firstEpoch: event.epoch,
        lastEpoch: event.epoch,
        group: {
          decision: avc.decision,
          signature: {
            sourceType: avc.scontext.type,
            targetType: avc.tcontext.type,
            class: avc.tclass,
            perms,
          },
          count: 0,
          firstSeen: event.time,
          lastSeen: event.time,
          hosts: [],
          scontexts: [],
          tcontexts: [],
          comms: [],
          exes: [],
          pathSample: null,
          permissive: false,
          samplesDropped: 0,
          explanation: null,
          verdicts: [],
          caution: null,
        },
      };
      table.map.set(key, state);
    }
    const g = state.group;
    if (explained !== null) {
      // Until one is found: a group's first message may have no verdict (report --es: a document whose policy
      // was not available) while a later one has it. The first explanation found is kept; every record's
      // verdict is counted (records of one signature whose full contexts differ can get different verdicts).
      if (g.explanation === null) g.explanation = groupExplanationOf(explained);
      countVerdict(g.verdicts, explained.verdict);
      // A warning is not dropped because the group's first record got another answer (a verdict without it).
      if (g.caution === null && typeof explained.caution === 'string') g.caution = explained.caution;
    }
    g.count++;
    if (event.epoch < state.firstEpoch) {
      state.firstEpoch = event.epoch;
      g.firstSeen = event.time;
    }
    if (event.epoch > state.lastEpoch) {
      state.lastEpoch = event.epoch;
      g.lastSeen = event.time;
    }
    const max = limits.maxSamples;
    g.samplesDropped +=
      addSample(g.hosts, host, max) +
      addSample(g.scontexts, avc.scontext.raw, max) +
      addSample(g.tcontexts, avc.tcontext.raw, max) +
      addSample(g.comms, fieldFromEvent(record, event, 'comm'), max) +
      addSample(g.exes, fieldFromEvent(record, event, 'exe'), max);
    if (g.pathSample === null) g.pathSample = objectPathOf(record, event);
    if (avc.permissive === true) g.permissive = true;
    return true;
  }

  function add(event: AuditEvent, explain?: ExplainLookup, malformedLine?: MalformedLineLookup): void {
    if (event.epoch < since || event.epoch > until) return;
    const host = event.node ?? defaultHost;
    if (hostFilter !== null && !hostFilter.has(host)) return;
    let selinux = false;
    for (const record of event.records) {
      const type = record.type;
      if (!isSelinuxRecordType(type)) continue;
      if (type === 'AVC' || type === 'USER_AVC') {
        // AppArmor writes its decisions as AVC / USER_AVC records too (apparmor=, no SELinux decision): not ours.
        if (isAppArmorAvc(record)) continue;
        // A decision whose body did not parse (cut off, no tcontext...) is a malformed line, not a message.
        if (isMalformedAvc(record)) {
          stats.malformed++;
          const line = listMalformed ? malformedLine?.(record) : undefined;
          if (line !== undefined) listMalformedLine(line);
          continue;
        }
      }
      selinux = true;
      stats.totalMessages++;
      const f = record.fields;
      const auid = f.auid === '4294967295' || f.auid === '-1' ? 'unset' : (f.auid ?? null);
      if (type === 'MAC_POLICY_LOAD' || type === 'USER_MAC_POLICY_LOAD') {
        // USER_MAC_POLICY_LOAD: a userspace object manager (systemd, dbus) took in a policy reload.
        stats.policyLoads++;
        policyLoads.push(event.epoch, {
          time: event.time,
          host,
          auid,
          type,
          exe: fieldFromEvent(record, event, 'exe'),
        });
      } else if (type === 'MAC_STATUS') {
        if (f.enforcing === undefined) continue;
        stats.enforcementToggles++;
        toggles.push(event.epoch, {
          time: event.time,
          host,
          old: toInt(f.old_enforcing),
          new: toInt(f.enforcing),
          auid,
        });
      } else if (type === 'MAC_CONFIG_CHANGE') {
        stats.booleanChanges++;
        booleans.push(event.epoch, {
          time: event.time,
          host,
          boolean: f.bool ?? '',
          old: toInt(f.old_val),
          new: toInt(f.val),
          auid,
        });
      } else if (type === 'USER_MAC_CONFIG_CHANGE') {
        stats.configChanges++;
        configChanges.push(event.epoch, {
          time: event.time,
          host,
          resource: f.resrc ?? null,
          op: f.op ?? null,
          name: f.name ?? null,
          value: f.val ?? null,
          exe: f.exe ?? null,
          result: f.res ?? null,
          auid,
        });
      } else if ((type === 'AVC' || type === 'USER_AVC') && record.avc !== undefined) {
        const avc = record.avc;
        addToTimeline(event.epoch, avc.decision);
        if (avc.decision === 'granted') {
          stats.allowMessages++;
          allows.push(event.epoch, {
            time: event.time,
            host,
            serial: event.serial,
            scontext: avc.scontext.raw,
            tcontext: avc.tcontext.raw,
            class: avc.tclass,
            perms: [...avc.perms],
            comm: fieldFromEvent(record, event, 'comm'),
            exe: fieldFromEvent(record, event, 'exe'),
            path: objectPathOf(record, event),
          });
        }
        const perms = [...new Set(avc.perms)].sort();
        // Every denied record is explained: the verdict breakdown counts each (the explainer memoizes).
        const explained =
          avc.decision === 'denied' && explain !== undefined
            ? explainRecord(explain, avc, perms, record, event)
            : null;
        if (avc.decision === 'denied') {
          stats.deniedMessages++;
          bump(sourceTypes, avc.scontext.type);
          bump(targetTypes, avc.tcontext.type);
          groupInto(denyTable, avc, perms, record, event, host, explained);
        }
        if (views.length > 0) {
          const subject: ViewSubject = {
            sourceUser: avc.scontext.user,
            sourceRole: avc.scontext.role,
            sourceType: avc.scontext.type,
            sourceLevel: avc.scontext.level,
            targetUser: avc.tcontext.user,
            targetRole: avc.tcontext.role,
            targetType: avc.tcontext.type,
            targetLevel: avc.tcontext.level,
            class: avc.tclass,
            perms: avc.perms,
            exe: fieldFromEvent(record, event, 'exe'),
            comm: fieldFromEvent(record, event, 'comm'),
            path: objectPathOf(record, event),
            host,
            epoch: event.epoch,
          };
          for (const v of views) {
            if (!v.test(subject)) continue;
            v.count++;
            v[avc.decision]++;
            groupInto(v.table, avc, perms, record, event, host, explained);
          }
        }
      }
    }
    if (!selinux) return;
    if (hosts.size < MAX_HOSTS) hosts.add(host);
    seen(event.epoch, event.time);
  }

  function seen(epoch: number, time: string): void {
    if (epoch < firstEpoch) {
      firstEpoch = epoch;
      stats.firstEvent = time;
    }
    if (epoch > lastEpoch) {
      lastEpoch = epoch;
      stats.lastEvent = time;
    }
  }

  function addDenied(agg: DeniedAggregate): void {
    if (!(agg.count > 0)) return;
    stats.totalMessages += agg.count;
    stats.deniedMessages += agg.count;
    for (const h of agg.hosts) if (hosts.size < MAX_HOSTS) hosts.add(h);
    for (const b of agg.timeline) if (b.count > 0) addToTimeline(b.epoch, 'denied', b.count);
    const groups = [...agg.groups].sort((a, b) => a.firstEpoch - b.firstEpoch);
    for (const { firstEpoch: fe, lastEpoch: le, group } of groups) {
      bump(sourceTypes, group.signature.sourceType, group.count);
      bump(targetTypes, group.signature.targetType, group.count);
      seen(fe, group.firstSeen);
      seen(le, group.lastSeen);
      if (denyTable.map.size >= denyTable.max) denyTable.dropped += group.count;
      else
        denyTable.map.set(groupKey(group.decision, group.signature), {
          firstEpoch: fe,
          lastEpoch: le,
          group: copyGroup(group),
        });
    }
  }

  function build(): Summary {
    // A view group has its own records' explanation and verdicts; one without (its records were explained by
    // no one: report --es views) shares the explanation of the deny listing (same signature, decision denied).
    const viewResults: ViewResult[] = views.map((v) => {
      const groups = sortedGroups(v.table);
      for (const g of groups) {
        if (g.decision !== 'denied' || g.explanation !== null) continue;
        const d = denyTable.map.get(groupKey(g.decision, g.signature));
        if (d !== undefined && d.group.explanation !== null) {
          g.explanation = structuredClone(d.group.explanation);
          g.caution = d.group.caution;
        }
      }
      return {
        name: v.def.name,
        description: v.def.description ?? null,
        match: v.def.match,
        count: v.count,
        denied: v.denied,
        granted: v.granted,
        groups,
        groupsDropped: v.table.dropped,
      };
    });
    const timeline: Timeline = { bucketSeconds, buckets: [] };
    if (buckets.size > 0) {
      for (let i = minIdx; i <= maxIdx; i++) {
        const b = buckets.get(i);
        timeline.buckets.push({
          start: new Date(i * bucketSeconds * 1000).toISOString(),
          denied: b?.denied ?? 0,
          granted: b?.granted ?? 0,
        });
      }
    }
    return {
      statistics: { ...stats, hosts: hosts.size },
      policyLoads: policyLoads.list().map((r) => ({ ...r })),
      enforcementToggles: toggles.list().map((r) => ({ ...r })),
      booleanChanges: booleans.list().map((r) => ({ ...r })),
      allowListing: allows.list().map((r) => ({ ...r, perms: [...r.perms] })),
      denyListing: sortedGroups(denyTable),
      views: viewResults,
      truncated: {
        policyLoads: policyLoads.dropped(),
        enforcementToggles: toggles.dropped(),
        booleanChanges: booleans.dropped(),
        allowListing: allows.dropped(),
        denyListing: denyTable.dropped,
        configChanges: configChanges.dropped(),
        ...(listMalformed ? { malformedLines: malformedLines.dropped() } : {}),
      } satisfies Truncation,
      charts: {
        timeline,
        topSourceTypes: ranked(sourceTypes, limits.topN),
        topTargetTypes: ranked(targetTypes, limits.topN),
      },
      configChanges: configChanges.list().map((r) => ({ ...r })),
      ...(listMalformed ? { malformedLines: malformedLines.list().map((r) => ({ ...r })) } : {}),
    };
  }

  return {
    add,
    addMalformed(n: number, lines?: readonly MalformedLineInput[]) {
      const count = Number.isFinite(n) && n > 0 ? Math.floor(n) : 0;
      if (lines === undefined) {
        stats.malformed += count;
        if (filtering) stats.malformedUnfiltered += count;
        return;
      }
      for (const l of lines) {
        const selected = filtering ? lineSelected(l.text) : true;
        if (selected === false) continue;
        stats.malformed++;
        if (selected === null) stats.malformedUnfiltered++;
        if (listMalformed) listMalformedLine(l);
      }
      // A count beyond the lines given: their text is unknown, so no filter applies.
      const extra = count - lines.length;
      if (extra > 0) {
        stats.malformed += extra;
        if (filtering) stats.malformedUnfiltered += extra;
      }
    },
    addDenied,
    build,
  };
}

/** One-shot form of `createSummaryBuilder`. */
export function buildSummary(
  events: Iterable<AuditEvent>,
  options: SummaryOptions & { explain?: ExplainLookup; malformed?: number } = {},
): Summary {
  const b = createSummaryBuilder(options);
  for (const e of events) b.add(e, options.explain);
  if (options.malformed !== undefined) b.addMalformed(options.malformed);
  return b.build();
}
