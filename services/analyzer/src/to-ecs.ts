// Pure: one validated events.v1 message (+ replayed decisions) -> ECS documents with deterministic ids.
import { type AuditRecord, avcPortOf, ioctlCommandOf, type SecurityContext } from '@avcstream/audit';
import {
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

const isSelinuxRecord = (r: AuditRecord) =>
  r.avc !== undefined ||
  r.type.startsWith('MAC_') ||
  r.type.startsWith('USER_MAC_') ||
  r.type === 'AVC' ||
  r.type === 'USER_AVC' ||
  r.type === 'SELINUX_ERR' ||
  r.type === 'USER_SELINUX_ERR';

/**
 * Documents of one message: a denial doc per denied AVC/USER_AVC record (replayed with `replay`), a SELinux
 * event doc per other SELinux record (granted AVCs, MAC_*, SELINUX_ERR). `signatureOf` names the denial.
 */
export function toEcs(
  msg: EventMessage,
  pos: Position,
  ingestedAt: Date,
  replay: (denial: Denial) => Replay,
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
      const rep = replay(denial);
      const path = pathOf(r, facts);
      const outcome = facts.success ?? (avc.permissive === true ? 'success' : 'failure');
      const doc: DenialDoc = {
        '@timestamp': ev.time,
        ecs: { version: '8.11.0' },
        event: {
          kind: 'event',
          module: 'auditd',
          dataset: 'avcstream.denials',
          action: 'violated-selinux-policy',
          category: categoryOf(avc.tclass),
          type: ['info'],
          outcome,
          sequence: ev.serial,
          ingested,
        },
        host: { name: msg.host },
        process,
        user,
        file: { path: cut(path, BOUNDS.maxPathChars) },
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
