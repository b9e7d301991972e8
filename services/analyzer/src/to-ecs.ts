// Pure: one validated events.v1 message (+ replayed decisions) -> ECS documents with deterministic ids.
import { isIP } from 'node:net';
import {
  type AuditRecord,
  avcObjectPath,
  avcPortOf,
  ioctlCommandOf,
  isAppArmorAvc,
  parseContext,
  type SecurityContext,
} from '@avcstream/audit';
import {
  AUDITD_BOUNDS,
  AUDITD_PATH_KEYS,
  BOUNDS,
  type DecisionDoc,
  type DenialDoc,
  docId,
  type EventMessage,
  type SelinuxEventDoc,
} from '@avcstream/contracts';
import type { Denial, Explanation } from '@avcstream/selinux-access';

export interface Position {
  partition: number;
  offset: string;
}

export interface Replay {
  explanation: Explanation | null;
  /** Why there is no explanation (policy state unknown, unreadable policy, engine error). */
  error: string | null;
}

export interface DenialOut {
  id: string;
  doc: DenialDoc;
  denial: Denial;
  record: AuditRecord;
  explanation: Explanation | null;
}

export interface EcsDocs {
  denials: DenialOut[];
  selinux: Array<{ id: string; doc: SelinuxEventDoc }>;
}

const cut = (s: string | undefined | null, max: number): string | null =>
  s === undefined || s === null ? null : s.length > max ? s.slice(0, max) : s;

const int = (s: string | undefined): number | null => {
  if (s === undefined || !/^-?\d{1,15}$/.test(s)) return null;
  return Number(s);
};

const parts = (c: SecurityContext) => ({
  user: cut(c.user, BOUNDS.maxContextChars) ?? '',
  role: cut(c.role, BOUNDS.maxContextChars) ?? '',
  type: cut(c.type, BOUNDS.maxContextChars) ?? '',
  level: cut(c.level, BOUNDS.maxContextChars),
});

const FILE_CLASSES = new Set([
  'file',
  'dir',
  'lnk_file',
  'chr_file',
  'blk_file',
  'sock_file',
  'fifo_file',
  'filesystem',
  'anon_inode',
]);

/** ECS category from the object class (audit.log AVCs carry no syscall table; this mirrors its outcome). */
export function categoryOf(tclass: string | null): string[] {
  if (tclass === null) return ['intrusion_detection'];
  if (FILE_CLASSES.has(tclass)) return ['file'];
  if (tclass.endsWith('socket') || tclass === 'node' || tclass === 'netif' || tclass === 'packet')
    return ['network'];
  if (tclass === 'process' || tclass === 'process2' || tclass === 'capability' || tclass === 'capability2') {
    return ['process'];
  }
  return ['intrusion_detection'];
}

/**
 * ECS `event.type` of a denial. Anchors §5.2 (notes): Elastic gives `connect` denied by `name_connect`
 * `["connection","start"]`; every other denial `["info"]` (its file read example; the anchor names no
 * other shape, e.g. none for bind).
 */
function denialTypeOf(perms: readonly string[]): string[] {
  return perms.includes('name_connect') ? ['connection', 'start'] : ['info'];
}

interface EventFacts {
  pid: number | null;
  ppid: number | null;
  comm: string | null;
  exe: string | null;
  title: string | null;
  cwd: string | null;
  uid: string | null;
  gid: string | null;
  success: 'success' | 'failure' | null;
  paths: string[];
}

function factsOf(records: readonly AuditRecord[]): EventFacts {
  const f: EventFacts = {
    pid: null,
    ppid: null,
    comm: null,
    exe: null,
    title: null,
    cwd: null,
    uid: null,
    gid: null,
    success: null,
    paths: [],
  };
  let syscall: AuditRecord | undefined;
  for (const r of records) {
    if (r.type === 'SYSCALL') syscall ??= r;
    else if (r.type === 'CWD') f.cwd ??= r.fields.cwd ?? null;
    else if (r.type === 'PROCTITLE' && r.fields.proctitle !== undefined) {
      f.title ??= r.fields.proctitle.replace(/\u0000+$/, '').replace(/\u0000/g, ' ');
    } else if (r.type === 'PATH' && r.fields.name !== undefined && f.paths.length < 16)
      f.paths.push(r.fields.name);
  }
  const src = syscall ?? records.find((r) => r.fields.pid !== undefined);
  if (src !== undefined) {
    f.pid = int(src.fields.pid);
    f.ppid = int(src.fields.ppid);
    f.comm = src.fields.comm ?? null;
    f.exe = src.fields.exe ?? null;
    f.uid = src.fields.uid ?? null;
    f.gid = src.fields.gid ?? null;
  }
  if (syscall?.fields.success === 'yes') f.success = 'success';
  else if (syscall?.fields.success === 'no') f.success = 'failure';
  // Fill from any record that has them (USER_AVC, AVC) when the SYSCALL lacks them.
  for (const r of records) {
    f.pid ??= int(r.fields.pid);
    f.comm ??= r.fields.comm ?? null;
    f.exe ??= r.fields.exe ?? null;
    f.uid ??= r.fields.uid ?? null;
  }
  return f;
}

/** The path an AVC is about: its own `path=`, else the PATH record ending in its `name=`, else the first PATH. */
function pathOf(r: AuditRecord, facts: EventFacts): string | null {
  if (r.fields.path !== undefined) return r.fields.path;
  const name = r.fields.name;
  if (name !== undefined) {
    const hit = facts.paths.find((p) => p === name || p.endsWith(`/${name}`));
    if (hit !== undefined) return hit;
  }
  return facts.paths[0] ?? (name?.startsWith('/') ? name : null);
}

type DenialAuditd = DenialDoc['auditd'];
type SelinuxUser = NonNullable<DenialAuditd['user']['selinux']>;
type AuditdPath = DenialAuditd['paths'][number];

/** Ids audit writes for "not set" (auid, ses). */
const UNSET = new Set(['4294967295', '-1', 'unset']);
const setId = (v: string | undefined): string | undefined =>
  v === undefined || UNSET.has(v) ? undefined : (cut(v, 32) ?? undefined);

/** A context split as Elastic's auditd module does: `user:role:domain:level[:category]`. */
function selinuxUserOf(raw: string | undefined): SelinuxUser | undefined {
  const c = raw === undefined ? null : parseContext(raw);
  if (c === null) return undefined;
  const m = BOUNDS.maxContextChars;
  const out: SelinuxUser = {
    user: cut(c.user, m) ?? '',
    role: cut(c.role, m) ?? '',
    domain: cut(c.type, m) ?? '',
  };
  if (c.level !== null) {
    const k = c.level.indexOf(':');
    out.level = cut(k < 0 ? c.level : c.level.slice(0, k), m) ?? '';
    if (k >= 0) out.category = cut(c.level.slice(k + 1), m) ?? '';
  }
  return out;
}

const idGroupOf = (id: string | undefined, gid: string | undefined) =>
  id === undefined && gid === undefined
    ? undefined
    : {
        ...(id === undefined ? {} : { id: cut(id, 32) ?? '' }),
        ...(gid === undefined ? {} : { group: { id: cut(gid, 32) ?? '' } }),
      };

/** SYSCALL fields Elastic keeps in `auditd.data` (the others go to process.*, user.* or are dropped). */
const SYSCALL_DATA_KEYS = ['arch', 'syscall', 'exit', 'a0', 'a1', 'a2', 'a3', 'tty'] as const;
/** AVC fields that go to process.* instead of `auditd.data` (the SYSCALL's win, as in Elastic). */
const AVC_NOT_DATA = new Set(['pid', 'comm']);

/**
 * `auditd.data`: the AVC's fields (`seresult`, `seperms`, contexts, `tclass`, `permissive` and the object:
 * `name`, `path`, `dev`, `ino`, `dest`, `saddr`, `capability`...) then the SYSCALL's arch, syscall and exit
 * names, `a0`-`a3` and `tty`. Keys: hyphens become underscores; bounded in keys and value length.
 */
function auditdDataOf(r: AuditRecord, syscall: AuditRecord | undefined): Record<string, string> {
  const data: Record<string, string> = {};
  let n = 0;
  const put = (k: string, v: string) => {
    const key = k.replace(/-/g, '_');
    if (n >= AUDITD_BOUNDS.maxDataKeys || Object.hasOwn(data, key)) return;
    data[key] = cut(v, AUDITD_BOUNDS.maxDataValueChars) ?? '';
    n++;
  };
  for (const [k, v] of Object.entries(r.fields)) if (!AVC_NOT_DATA.has(k)) put(k, v);
  if (syscall !== undefined) {
    for (const k of SYSCALL_DATA_KEYS) {
      const named = syscall.interpreted[k];
      const v = typeof named === 'string' ? named : syscall.fields[k];
      if (v !== undefined) put(k, v);
    }
  }
  return data;
}

/** `auditd.paths[]`: the PATH records, `obj=` split into obj_user/obj_role/obj_domain/obj_level. */
function auditdPathsOf(records: readonly AuditRecord[]): AuditdPath[] {
  const out: AuditdPath[] = [];
  for (const r of records) {
    if (r.type !== 'PATH') continue;
    if (out.length >= AUDITD_BOUNDS.maxPaths) break;
    const p: AuditdPath = {};
    const f = r.fields;
    const obj = f.obj === undefined ? null : parseContext(f.obj);
    const values: Record<string, string | undefined> = {
      ...f,
      obj_user: obj?.user,
      obj_role: obj?.role,
      obj_domain: obj?.type,
      obj_level: obj?.level ?? undefined,
    };
    for (const k of AUDITD_PATH_KEYS) {
      const v = values[k];
      if (v !== undefined) p[k] = cut(v, k === 'name' ? BOUNDS.maxPathChars : BOUNDS.maxContextChars) ?? '';
    }
    out.push(p);
  }
  return out;
}

/** Values auditd writes in double quotes (when not hex-encoded). */
const QUOTED = new Set(['comm', 'exe', 'name', 'path', 'cwd', 'key']);

/**
 * One record as an audit.log line, re-rendered from its parsed fields (events.v1 carries no raw line):
 * values with a space, a quote or a non-printable byte are hex-encoded, as auditd does for untrusted strings.
 * Close to the line written, not byte-exact (an unquoted value auditd had quoted, ENRICHED fields dropped).
 */
function recordLine(r: AuditRecord): string {
  const head = `${r.node === null ? '' : `node=${r.node} `}type=${r.type} msg=audit(${r.sec}.${String(r.msec).padStart(3, '0')}:${r.serial}): `;
  const parts: string[] = [];
  const f = r.fields;
  const isAvc = r.type === 'AVC' && f.seresult !== undefined && f.seperms !== undefined;
  if (isAvc) parts.push(`avc:  ${f.seresult}  { ${f.seperms?.split(',').join(' ')} } for `);
  for (const [k, v] of Object.entries(f)) {
    if (isAvc && (k === 'seresult' || k === 'seperms')) continue;
    let text: string;
    if (k === 'proctitle' || /[^\x21-\x7e]|"/.test(v))
      text = Buffer.from(v, 'utf8').toString('hex').toUpperCase();
    else if ((QUOTED.has(k) || (isAvc && k === 'dev')) && v !== '(null)') text = `"${v}"`;
    else text = v;
    parts.push(`${k}=${text}`);
  }
  return head + parts.join(' ');
}

/** `event.original`: the event's records as lines, `\n`-joined, cut to the bound. */
function originalOf(records: readonly AuditRecord[]): string {
  const max = AUDITD_BOUNDS.maxOriginalChars;
  let out = '';
  for (const r of records) {
    out += (out === '' ? '' : '\n') + recordLine(r);
    if (out.length >= max) break;
  }
  return cut(out, max) ?? '';
}

/** `destination.*` of a network denial: the AVC's `dest=` port, the SOCKADDR's address (and port). */
function destinationOf(r: AuditRecord, records: readonly AuditRecord[]): DenialDoc['destination'] {
  const dest = int(r.fields.dest);
  let ip: string | undefined;
  let port = dest !== null && dest >= 0 && dest <= 65535 ? dest : undefined;
  if (port !== undefined || r.fields.daddr !== undefined || /socket$/.test(r.avc?.tclass ?? '')) {
    for (const x of records) {
      const sa = x.type === 'SOCKADDR' ? x.interpreted.saddr : undefined;
      if (typeof sa !== 'object' || sa === null) continue;
      const a = sa as { family?: unknown; address?: unknown; port?: unknown };
      if (
        (a.family === 'inet' || a.family === 'inet6') &&
        typeof a.address === 'string' &&
        isIP(a.address) !== 0
      ) {
        ip = a.address;
        if (port === undefined && typeof a.port === 'number') port = a.port;
      }
      break;
    }
  }
  if (ip === undefined && port === undefined) return undefined;
  return { ...(ip === undefined ? {} : { ip }), ...(port === undefined ? {} : { port }) };
}

/** `auditd.*` of a denial (anchors §5: Agent `auditd_manager` placement). */
function auditdOf(r: AuditRecord, records: readonly AuditRecord[], facts: EventFacts): DenialAuditd {
  const syscall = records.find((x) => x.type === 'SYSCALL');
  const avc = r.avc;
  const who = syscall?.fields ?? r.fields;
  const res = r.fields.res ?? syscall?.fields.res;
  const result =
    syscall?.fields.success === 'yes' || res === 'success' || res === '1'
      ? 'success'
      : syscall?.fields.success === 'no' || res === 'failed' || res === '0'
        ? 'fail'
        : null;
  const session = setId(who.ses);
  const auid = setId(who.auid);
  const selinux = selinuxUserOf(
    records.find((x) => x.fields.subj !== undefined)?.fields.subj ?? avc?.scontext.raw,
  );
  const saved = idGroupOf(who.suid, who.sgid);
  const filesystem = idGroupOf(who.fsuid, who.fsgid);
  const how = cut(facts.exe ?? facts.comm, BOUNDS.maxPathChars);
  const uid = cut(facts.uid, 32);
  return {
    message_type: cut(r.type.toLowerCase(), BOUNDS.maxNameChars) ?? '',
    result,
    ...(session === undefined ? {} : { session }),
    summary: {
      actor: {
        primary: cut(avc?.scontext.raw, BOUNDS.maxContextChars) ?? '',
        ...(uid === null ? {} : { secondary: uid }),
      },
      object: {
        primary: cut(avc?.tcontext.raw, BOUNDS.maxContextChars) ?? '',
        secondary: cut(avc?.tclass, BOUNDS.maxNameChars) ?? '',
      },
      ...(how === null ? {} : { how }),
    },
    user: {
      ...(selinux === undefined ? {} : { selinux }),
      ...(auid === undefined ? {} : { audit: { id: auid } }),
      ...(saved === undefined ? {} : { saved }),
      ...(filesystem === undefined ? {} : { filesystem }),
    },
    data: auditdDataOf(r, syscall),
    paths: auditdPathsOf(records),
  };
}

export function decisionDoc(replay: Replay): DecisionDoc {
  const e = replay.explanation;
  if (e === null) {
    return {
      verdict: null,
      booleans: [],
      constraint: null,
      fix: [],
      blast_radius: null,
      evidence: [],
      error: cut(replay.error ?? 'no decision', BOUNDS.maxReasonChars),
    };
  }
  const booleans = e.booleans.slice(0, BOUNDS.maxSuggestions).map((b) => ({
    name: cut(b.name, BOUNDS.maxNameChars) ?? '',
    current: b.current,
    blast_radius: { rules: b.blastRadius.rules, triples: b.blastRadius.triples },
  }));
  return {
    verdict: e.verdict,
    booleans,
    constraint:
      e.constraint === undefined
        ? null
        : {
            text: cut(e.constraint.text, BOUNDS.maxTextChars) ?? '',
            causes: e.constraint.causes.slice(0, 4),
          },
    fix: e.fixes.slice(0, BOUNDS.maxFixes).map((x) => ({
      kind: x.kind,
      text: cut(x.text, BOUNDS.maxTextChars) ?? '',
      verified: x.verified,
    })),
    blast_radius: booleans[0]?.blast_radius ?? null,
    evidence: e.evidence.slice(0, 64).map((x) => cut(x, BOUNDS.maxTextChars) ?? ''),
    error: null,
  };
}

/** SELinux records; AppArmor's AVC / USER_AVC records (apparmor=, no SELinux decision) are not. */
const isSelinuxRecord = (r: AuditRecord) =>
  r.avc !== undefined ||
  r.type.startsWith('MAC_') ||
  r.type.startsWith('USER_MAC_') ||
  ((r.type === 'AVC' || r.type === 'USER_AVC') && !isAppArmorAvc(r)) ||
  r.type === 'SELINUX_ERR' ||
  r.type === 'USER_SELINUX_ERR';

/**
 * Documents of one message: a denial doc per denied AVC/USER_AVC record (replayed with `replay`, given the
 * path of the object the kernel checked when the event tells it, `avcObjectPath`), a SELinux
 * event doc per other SELinux record (granted AVCs, MAC_*, SELINUX_ERR). `signatureOf` names the denial.
 */
export function toEcs(
  msg: EventMessage,
  pos: Position,
  ingestedAt: Date,
  replay: (denial: Denial, objectPath: string | null) => Replay,
  signatureOf: (denial: Denial, record: AuditRecord, path: string | null, exe: string | null) => string,
): EcsDocs {
  const ev = msg.event;
  const facts = factsOf(ev.records);
  const out: EcsDocs = { denials: [], selinux: [] };
  const source = {
    ingester_id: msg.ingesterId,
    path: msg.source.path,
    offset: msg.source.offset,
    kafka: { partition: pos.partition, offset: pos.offset },
  };
  const process = {
    pid: facts.pid,
    parent: { pid: facts.ppid },
    name: cut(facts.comm, BOUNDS.maxTextChars),
    executable: cut(facts.exe, BOUNDS.maxPathChars),
    title: cut(facts.title, BOUNDS.maxTextChars),
    working_directory: cut(facts.cwd, BOUNDS.maxPathChars),
  };
  const user = { id: cut(facts.uid, 32), group: { id: cut(facts.gid, 32) } };
  const policy = { sha256: msg.policy?.sha256 ?? null, state_id: msg.policy?.stateId ?? null };
  const ingested = ingestedAt.toISOString();

  ev.records.forEach((r, index) => {
    if (!isSelinuxRecord(r)) return;
    const id = docId(msg.host, r.sec, r.msec, r.serial, index);
    const avc = r.avc;
    if (avc !== undefined && avc.decision === 'denied') {
      const denial: Denial = {
        scontext: avc.scontext.raw,
        tcontext: avc.tcontext.raw,
        tclass: avc.tclass,
        perms: avc.perms,
        permissive: avc.permissive,
        ioctlcmd: ioctlCommandOf(r),
        port: avcPortOf(r),
      };
      // The object the kernel checked, for the file_contexts lookup (restorecon advice) and file.path.
      const objectPath = avcObjectPath(r, ev);
      const rep = replay(denial, objectPath);
      const path = objectPath ?? pathOf(r, facts);
      const outcome = facts.success ?? (avc.permissive === true ? 'success' : 'failure');
      const auditd = auditdOf(r, ev.records, facts);
      const destination = destinationOf(r, ev.records);
      const doc: DenialDoc = {
        '@timestamp': ev.time,
        ecs: { version: '8.11.0' },
        event: {
          kind: 'event',
          module: 'auditd',
          dataset: 'avcstream.denials',
          action: 'violated-selinux-policy',
          category: categoryOf(avc.tclass),
          type: denialTypeOf(avc.perms),
          outcome,
          sequence: ev.serial,
          ingested,
          original: originalOf(ev.records),
        },
        host: { name: msg.host },
        process,
        user: auditd.user.selinux === undefined ? user : { ...user, selinux: auditd.user.selinux },
        file: { path: cut(path, BOUNDS.maxPathChars) },
        ...(destination === undefined ? {} : { destination, network: { direction: 'egress' as const } }),
        auditd,
        selinux: {
          scontext: parts(avc.scontext),
          tcontext: parts(avc.tcontext),
          tclass: avc.tclass,
          perms: avc.perms.slice(0, BOUNDS.maxPerms),
          permissive: avc.permissive,
          seresult: 'denied',
        },
        decision: decisionDoc(rep),
        policy,
        signature: signatureOf(denial, r, path, facts.exe),
        avcstream: { record_index: index, partial: ev.partial, source },
      };
      out.denials.push({ id, doc, denial, record: r, explanation: rep.explanation });
      return;
    }
    const data: Record<string, string> = {};
    let n = 0;
    for (const [k, v] of Object.entries(r.fields)) {
      if (n++ >= 256) break;
      data[k.replace(/-/g, '_')] = cut(v, 4096) ?? '';
    }
    const action = avc !== undefined ? 'granted-by-selinux-policy' : r.type.toLowerCase().replace(/_/g, '-');
    out.selinux.push({
      id,
      doc: {
        '@timestamp': ev.time,
        event: {
          kind: 'event',
          module: 'auditd',
          dataset: 'avcstream.selinux',
          action,
          category: avc !== undefined ? categoryOf(avc.tclass) : ['configuration'],
          type: avc !== undefined ? ['info'] : ['change'],
          outcome:
            facts.success ??
            (r.fields.res === '1' || r.fields.res === 'success'
              ? 'success'
              : r.fields.res === '0'
                ? 'failure'
                : 'unknown'),
          sequence: ev.serial,
          ingested,
        },
        host: { name: msg.host },
        process,
        user,
        auditd: { message_type: r.type.toLowerCase(), data },
        selinux: {
          scontext: avc ? parts(avc.scontext) : null,
          tcontext: avc ? parts(avc.tcontext) : null,
          tclass: avc?.tclass ?? null,
          perms: avc?.perms.slice(0, BOUNDS.maxPerms) ?? [],
          permissive: avc?.permissive ?? null,
          seresult: avc?.decision ?? null,
        },
        policy,
        avcstream: { record_index: index, partial: ev.partial, source },
      },
    });
  });
  return out;
}
