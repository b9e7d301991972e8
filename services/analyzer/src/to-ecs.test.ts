import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createAuditDecoder } from '@avcstream/audit';
import {
  chunkPolicy,
  denialDocSchema,
  type EventMessage,
  policyStateId,
  selinuxEventDocSchema,
  sha256Hex,
} from '@avcstream/contracts';
import { parseBooleans } from '@avcstream/selinux-access';
import { describe, expect, it } from 'vitest';
import { createPolicyStore } from './policy-store.ts';
import { toEcs } from './to-ecs.ts';

const sample = join(import.meta.dirname, '../../cli/sample');
const policyBytes = readFileSync(join(sample, 'policy/policy.33'));
const booleans = parseBooleans(readFileSync(join(sample, 'booleans'), 'utf8'));
const sha = sha256Hex(policyBytes);
const stateId = policyStateId(sha, true, booleans);

function messages(): EventMessage[] {
  const dec = createAuditDecoder();
  const a = dec.write(readFileSync(join(sample, 'audit.log')));
  const b = dec.end();
  return [...a.events, ...b.events].map((event) => ({
    schema: 'avcstream.events.v1',
    host: event.node ?? 'nohost',
    ingesterId: 'i',
    source: { path: '/var/log/audit/audit.log', dev: 1, ino: 1, fp: 'x', fpLen: 1, offset: 0 },
    policy: { stateId, sha256: sha },
    event,
    publishedAt: new Date(0).toISOString(),
  }));
}

function loadedStore() {
  const store = createPolicyStore();
  for (const c of chunkPolicy(policyBytes, 4096).chunks) store.apply(c.message);
  store.apply({
    schema: 'avcstream.policy.v1',
    kind: 'state',
    stateId,
    host: 'h',
    takenAt: new Date(0).toISOString(),
    reason: 'start',
    policy: { sha256: sha, bytes: policyBytes.length, chunks: 3 },
    enforcing: true,
    booleans,
  });
  return store;
}

describe('toEcs on the bundled sample', () => {
  it('gives the 28 denials with the verdicts of the sample README (booleans file)', () => {
    const store = loadedStore();
    const lookup = store.lookup(stateId);
    expect(lookup.kind).toBe('ready');
    if (lookup.kind !== 'ready') return;
    const verdicts: Record<string, number> = {};
    const ids = new Set<string>();
    let selinux = 0;
    for (const [i, msg] of messages().entries()) {
      const docs = toEcs(
        msg,
        { partition: 0, offset: String(i) },
        new Date(0),
        (d) => ({ explanation: lookup.explainer.explain(d, lookup.booleans), error: null }),
        () => 'a'.repeat(32),
      );
      for (const d of docs.denials) {
        denialDocSchema.parse(d.doc);
        ids.add(d.id);
        const v = d.doc.decision.verdict ?? 'none';
        verdicts[v] = (verdicts[v] ?? 0) + 1;
      }
      for (const d of docs.selinux) {
        selinuxEventDocSchema.parse(d.doc);
        ids.add(d.id);
        selinux++;
      }
    }
    expect(verdicts).toEqual({
      ALLOWED: 3,
      DONTAUDIT: 2,
      TE_MISSING: 6,
      BOOLEAN: 7,
      CONSTRAINT: 2,
      RBAC: 1,
      BOUNDS: 2,
      INVALID_CONTEXT: 3,
      UNKNOWN_CLASS: 1,
      UNKNOWN_PERM: 1,
    });
    // 3 granted AVCs, 3 MAC_STATUS, 2 MAC_POLICY_LOAD, 2 MAC_CONFIG_CHANGE, 1 USER_AVC policyload notice, and
    // the 2 AVC records whose body does not parse (lines 94, 154: kept, not dropped silently)
    expect(selinux).toBe(13);
    expect(ids.size).toBe(28 + 13);
  });

  it('fills the ECS fields of a denial (process, user, file path, contexts, decision)', () => {
    const store = loadedStore();
    const lookup = store.lookup(stateId);
    if (lookup.kind !== 'ready') throw new Error('not ready');
    const all = messages().flatMap(
      (msg) =>
        toEcs(
          msg,
          { partition: 0, offset: '0' },
          new Date(0),
          (d) => ({ explanation: lookup.explainer.explain(d, lookup.booleans), error: null }),
          () => 'b'.repeat(32),
        ).denials,
    );
    const boolean = all.find((d) => d.doc.decision.verdict === 'BOOLEAN' && d.doc.selinux.tclass === 'dir');
    expect(boolean?.doc).toMatchObject({
      event: { action: 'violated-selinux-policy', category: ['file'] },
      host: { name: 'web01.example.com' },
      selinux: { scontext: { type: 'httpd_t' }, tcontext: { type: 'user_home_t' }, seresult: 'denied' },
      policy: { sha256: sha, state_id: stateId },
    });
    expect(boolean?.doc.decision.booleans[0]?.name).toBe('httpd_read_user_content');
    expect(boolean?.doc.decision.blast_radius).not.toBeNull();
    const hostile = all.find((d) => d.doc.process.name === '<script>alert(1)</script>');
    expect(hostile?.doc.process.working_directory).toBe('/srv/www/<svg/onload=alert(document.domain)>');
  });

  it('replays a name_bind / name_connect denial with its port (src= / dest=)', () => {
    const asked: Array<{ perms: string[]; port?: number | null }> = [];
    for (const msg of messages())
      toEcs(
        msg,
        { partition: 0, offset: '0' },
        new Date(0),
        (d) => {
          asked.push(d);
          return { explanation: null, error: 'x' };
        },
        () => 'b'.repeat(32),
      );
    const ports = asked.filter((d) => d.perms.includes('name_bind') || d.perms.includes('name_connect'));
    expect(ports.map((d) => d.port)).toContain(4460);
    expect(ports.map((d) => d.port)).toContain(5432);
    expect(asked.find((d) => d.perms.includes('read'))?.port).toBeNull();
  });

  it("hands replay the path of the object the kernel checked: path=, else the PATH record of the AVC's inode", () => {
    const text =
      'type=SYSCALL msg=audit(1763802001.000:9): arch=c000003e syscall=257 success=no exit=-13 a0=ffffff9c a1=7f a2=0 a3=0 items=1 ppid=1 pid=1 comm="httpd" exe="/usr/sbin/httpd" key=(null)\n' +
      'type=AVC msg=audit(1763802001.000:9): avc:  denied  { read } for  pid=1 comm="httpd" name="x" dev="dm-0" ino=2 scontext=system_u:system_r:httpd_t:s0 tcontext=system_u:object_r:user_home_t:s0 tclass=file permissive=0\n' +
      'type=AVC msg=audit(1763802001.000:9): avc:  denied  { search } for  pid=1 comm="httpd" name="html" dev="dm-0" ino=7 scontext=system_u:system_r:httpd_t:s0 tcontext=system_u:object_r:user_home_t:s0 tclass=dir permissive=0\n' +
      'type=CWD msg=audit(1763802001.000:9): cwd="/var/www"\n' +
      'type=PATH msg=audit(1763802001.000:9): item=0 name="html/x" inode=2 dev=fd:00 mode=0100644 obj=system_u:object_r:user_home_t:s0 nametype=NORMAL\n' +
      'type=PROCTITLE msg=audit(1763802001.000:9): proctitle=6874747064\n';
    const dec = createAuditDecoder();
    const events = [...dec.write(Buffer.from(text)).events, ...dec.end().events];
    expect(events).toHaveLength(1);
    const msg: EventMessage = { ...messages()[0]!, event: events[0]! };
    const paths: Array<[string, string | null]> = [];
    const docs = toEcs(
      msg,
      { partition: 0, offset: '0' },
      new Date(0),
      (d, objectPath) => {
        paths.push([d.tclass, objectPath]);
        return { explanation: null, error: 'x' };
      },
      () => 'd'.repeat(32),
    );
    // The search on a directory of the walk is another inode: no path for the label lookup.
    expect(paths).toEqual([
      ['file', '/var/www/html/x'],
      ['dir', null],
    ]);
    // file.path is that object's full path when the event tells it, else the PATH name that ends in name=.
    expect(docs.denials.map((d) => d.doc.file.path)).toEqual(['/var/www/html/x', 'html/x']);
  });

  it('without a policy the denial is still indexed, with verdict null and the reason', () => {
    const msg = messages().find((m) => m.event.records.some((r) => r.avc?.decision === 'denied'))!;
    const docs = toEcs(
      msg,
      { partition: 0, offset: '1' },
      new Date(0),
      () => ({ explanation: null, error: 'policy state not received in time' }),
      () => 'c'.repeat(32),
    );
    expect(docs.denials[0]?.doc.decision).toMatchObject({
      verdict: null,
      error: 'policy state not received in time',
    });
    denialDocSchema.parse(docs.denials[0]!.doc);
  });

  it('policy store: pending until state and every chunk arrived; corrupt binaries are errors', async () => {
    const store = createPolicyStore();
    expect(store.lookup(stateId)).toEqual({ kind: 'pending', reason: 'state' });
    const { chunks } = chunkPolicy(policyBytes, 4096);
    store.apply({
      schema: 'avcstream.policy.v1',
      kind: 'state',
      stateId,
      host: 'h',
      takenAt: new Date(0).toISOString(),
      reason: 'start',
      policy: { sha256: sha, bytes: policyBytes.length, chunks: chunks.length },
      enforcing: true,
      booleans,
    });
    expect(store.lookup(stateId)).toEqual({ kind: 'pending', reason: 'binary' });
    const waiting = store.waitFor(stateId, 5000);
    for (const c of chunks) store.apply(c.message);
    expect((await waiting).kind).toBe('ready');

    const junk = Buffer.from('not a policy at all');
    const bad = chunkPolicy(junk);
    const badState = policyStateId(bad.sha256, true, {});
    store.apply(bad.chunks[0]!.message);
    store.apply({
      schema: 'avcstream.policy.v1',
      kind: 'state',
      stateId: badState,
      host: 'h',
      takenAt: new Date(0).toISOString(),
      reason: 'start',
      policy: { sha256: bad.sha256, bytes: junk.length, chunks: 1 },
      enforcing: true,
      booleans: {},
    });
    expect(store.lookup(badState).kind).toBe('error');
  });
});

/** The records of anchors §5.2 (serial 4243) and the sample's name_connect denial (serial 8218). */
const ANCHOR_AVC = [
  'type=AVC msg=audit(1700000001.456:4243): avc:  denied  { read } for  pid=2345 comm="httpd" name="index.html" dev="dm-0" ino=393231 scontext=system_u:system_r:httpd_t:s0 tcontext=unconfined_u:object_r:user_home_t:s0 tclass=file permissive=0',
  'type=SYSCALL msg=audit(1700000001.456:4243): arch=c000003e syscall=257 success=no exit=-13 a0=ffffff9c a1=7f0e5c0b1e28 a2=80000 a3=0 items=1 ppid=1 pid=2345 auid=4294967295 uid=48 gid=48 euid=48 suid=48 fsuid=48 egid=48 sgid=48 fsgid=48 tty=(none) ses=4294967295 comm="httpd" exe="/usr/sbin/httpd" subj=system_u:system_r:httpd_t:s0 key=(null)',
  'type=CWD msg=audit(1700000001.456:4243): cwd="/"',
  'type=PATH msg=audit(1700000001.456:4243): item=0 name="/var/www/html/index.html" inode=393231 dev=fd:00 mode=0100644 ouid=1000 ogid=1000 rdev=00:00 obj=unconfined_u:object_r:user_home_t:s0 nametype=NORMAL cap_fp=0 cap_fi=0 cap_fe=0 cap_fver=0 cap_frootid=0',
  'type=PROCTITLE msg=audit(1700000001.456:4243): proctitle=2F7573722F7362696E2F6874747064002D44464F524547524F554E44',
];

function denialsOf(text: string) {
  const dec = createAuditDecoder();
  const events = [...dec.write(Buffer.from(`${text}\n`)).events, ...dec.end().events];
  return events.flatMap((event) => {
    const msg: EventMessage = {
      schema: 'avcstream.events.v1',
      host: event.node ?? 'web01',
      ingesterId: 'i',
      source: { path: '/var/log/audit/audit.log', dev: 1, ino: 1, fp: 'x', fpLen: 1, offset: 0 },
      policy: null,
      event,
      publishedAt: new Date(0).toISOString(),
    };
    return toEcs(
      msg,
      { partition: 0, offset: '0' },
      new Date(0),
      () => ({ explanation: null, error: 'none' }),
      () => 'd'.repeat(32),
    ).denials;
  });
}

describe('toEcs: the auditd_manager shape of anchors §5', () => {
  it('an AVC with SYSCALL, CWD, PATH and PROCTITLE carries auditd.*, user.selinux and event.original', () => {
    const [d, ...rest] = denialsOf(ANCHOR_AVC.join('\n'));
    expect(rest).toHaveLength(0);
    const doc = denialDocSchema.parse(d!.doc);
    expect(doc.auditd).toEqual({
      message_type: 'avc',
      result: 'fail',
      summary: {
        actor: { primary: 'system_u:system_r:httpd_t:s0', secondary: '48' },
        object: { primary: 'unconfined_u:object_r:user_home_t:s0', secondary: 'file' },
        how: '/usr/sbin/httpd',
      },
      user: {
        selinux: { user: 'system_u', role: 'system_r', domain: 'httpd_t', level: 's0' },
        saved: { id: '48', group: { id: '48' } },
        filesystem: { id: '48', group: { id: '48' } },
      },
      data: {
        seresult: 'denied',
        seperms: 'read',
        scontext: 'system_u:system_r:httpd_t:s0',
        tcontext: 'unconfined_u:object_r:user_home_t:s0',
        tclass: 'file',
        permissive: '0',
        name: 'index.html',
        dev: 'dm-0',
        ino: '393231',
        arch: 'x86_64',
        syscall: 'openat',
        exit: 'EACCES',
        a0: 'ffffff9c',
        a1: '7f0e5c0b1e28',
        a2: '80000',
        a3: '0',
        tty: '(none)',
      },
      paths: [
        {
          item: '0',
          name: '/var/www/html/index.html',
          nametype: 'NORMAL',
          inode: '393231',
          dev: 'fd:00',
          mode: '0100644',
          ouid: '1000',
          ogid: '1000',
          rdev: '00:00',
          obj_user: 'unconfined_u',
          obj_role: 'object_r',
          obj_domain: 'user_home_t',
          obj_level: 's0',
          cap_fp: '0',
          cap_fi: '0',
          cap_fe: '0',
          cap_fver: '0',
          cap_frootid: '0',
        },
      ],
    });
    expect(doc.user).toEqual({
      id: '48',
      group: { id: '48' },
      selinux: { user: 'system_u', role: 'system_r', domain: 'httpd_t', level: 's0' },
    });
    expect(doc.process).toMatchObject({ title: '/usr/sbin/httpd -DFOREGROUND', working_directory: '/' });
    expect(doc.destination).toBeUndefined();
    // event.original: the records as audit.log lines (re-rendered from the parsed fields).
    expect(doc.event.original.split('\n')).toEqual([
      'type=AVC msg=audit(1700000001.456:4243): avc:  denied  { read } for  pid=2345 comm="httpd" name="index.html" dev="dm-0" ino=393231 scontext=system_u:system_r:httpd_t:s0 tcontext=unconfined_u:object_r:user_home_t:s0 tclass=file permissive=0',
      ANCHOR_AVC[1],
      ANCHOR_AVC[2],
      ANCHOR_AVC[3],
      ANCHOR_AVC[4],
    ]);
  });

  it('a name_connect denial carries dest=5432 as auditd.data.dest and destination.port', () => {
    const msg = messages().find((m) => m.event.serial === 8218)!;
    const d = toEcs(
      msg,
      { partition: 0, offset: '0' },
      new Date(0),
      () => ({ explanation: null, error: 'x' }),
      () => 'e'.repeat(32),
    ).denials[0]!;
    const doc = denialDocSchema.parse(d.doc);
    expect(doc.auditd.data).toMatchObject({
      dest: '5432',
      tclass: 'tcp_socket',
      seperms: 'name_connect',
      syscall: 'connect',
    });
    expect(doc.auditd.message_type).toBe('avc');
    expect(doc.destination).toEqual({ port: 5432 });
    expect(doc.network).toEqual({ direction: 'egress' });
    expect(doc.event.original).toContain('dest=5432');
    expect(doc.event.original.split('\n')[0]).toMatch(
      /^node=web01\.example\.com type=SYSCALL msg=audit\(1763802109\.439:8218\): /,
    );
  });

  it('a name_connect denial has event.category ["network"] and event.type ["connection","start"] (anchors §5.2 notes)', () => {
    const msg = messages().find((m) => m.event.serial === 8218)!;
    const doc = denialDocSchema.parse(
      toEcs(
        msg,
        { partition: 0, offset: '0' },
        new Date(0),
        () => ({ explanation: null, error: 'x' }),
        () => 'e'.repeat(32),
      ).denials[0]!.doc,
    );
    expect(doc.event.category).toEqual(['network']);
    expect(doc.event.type).toEqual(['connection', 'start']);
    // Other denials keep ["info"] (anchors §5.2: the file read).
    const [file] = denialsOf(ANCHOR_AVC.join('\n'));
    expect(file!.doc.event.type).toEqual(['info']);
  });

  it('a name_bind denial keeps src= in auditd.data.src only: the anchor shape has no source.port for bind', () => {
    const msg = messages().find((m) => m.event.serial === 5404)!;
    const raw = toEcs(
      msg,
      { partition: 0, offset: '0' },
      new Date(0),
      () => ({ explanation: null, error: 'x' }),
      () => 'e'.repeat(32),
    ).denials[0]!.doc;
    expect(Object.hasOwn(raw, 'source')).toBe(false);
    const doc = denialDocSchema.parse(raw);
    expect(doc.auditd.data).toMatchObject({ src: '4460', seperms: 'name_bind', tclass: 'udp_socket' });
    expect(doc.event.category).toEqual(['network']);
    expect(doc.event.type).toEqual(['info']);
    expect(doc.destination).toBeUndefined();
    expect(doc.network).toBeUndefined();
  });

  it('keeps attacker-controlled text in bounds (event.original, auditd.data, auditd.paths)', () => {
    const long = 'A'.repeat(70_000);
    const paths = Array.from(
      { length: 20 },
      (_, i) =>
        `type=PATH msg=audit(1700000001.456:4243): item=${i} name="/${long.slice(0, 5000)}" nametype=NORMAL`,
    );
    const text = [
      ANCHOR_AVC[0]!.replace('name="index.html"', `name="${long}"`),
      ANCHOR_AVC[1],
      ...paths,
    ].join('\n');
    const [d] = denialsOf(text);
    const doc = denialDocSchema.parse(d!.doc);
    expect(doc.event.original.length).toBeLessThanOrEqual(65_536);
    expect(doc.auditd.data.name).toHaveLength(4096);
    expect(doc.auditd.paths).toHaveLength(16);
    expect(doc.auditd.paths[0]!.name).toHaveLength(4096);
  });
});

describe('toEcs: AppArmor records', () => {
  it('an AppArmor AVC / USER_AVC (apparmor=, no SELinux decision) gives no document; SELinux records beside it do', () => {
    const text = [
      // AppArmor only (the ingester forwards it with filter.mode "all").
      'type=AVC msg=audit(1700000002.000:5001): apparmor="DENIED" operation="open" profile="/usr/sbin/cupsd" name="/etc/shadow" pid=9 comm="cupsd" requested_mask="r" denied_mask="r" fsuid=0 ouid=0',
      'type=SYSCALL msg=audit(1700000002.000:5001): arch=c000003e syscall=257 success=no exit=-13 comm="cupsd" exe="/usr/sbin/cupsd"',
      'type=USER_AVC msg=audit(1700000002.100:5002): pid=1 uid=102 auid=4294967295 ses=4294967295 subj=? msg=\'apparmor="DENIED" operation="dbus_method_call"  bus="system" path="/org/freedesktop/DBus" member="Hello" label="snap.x" exe="/usr/bin/dbus-daemon"\'',
      // An AppArmor record in an event with an SELinux denial and a policy-load notice.
      'type=AVC msg=audit(1700000002.200:5003): apparmor="DENIED" operation="ptrace" profile="docker-default" pid=5 comm="metricbeat" requested_mask="trace" denied_mask="trace" peer="unconfined"',
      ANCHOR_AVC[0]!.replace('1700000001.456:4243', '1700000002.200:5003'),
      'type=USER_AVC msg=audit(1700000002.200:5003): pid=1 uid=0 auid=4294967295 ses=4294967295 msg=\'avc:  received policyload notice (seqno=2)  exe="/usr/lib/systemd/systemd" sauid=0 hostname=? addr=? terminal=?\'',
    ].join('\n');
    const dec = createAuditDecoder();
    const events = [...dec.write(Buffer.from(`${text}\n`)).events, ...dec.end().events];
    const docs = events.map((event) =>
      toEcs(
        {
          schema: 'avcstream.events.v1',
          host: 'web01',
          ingesterId: 'i',
          source: { path: '/var/log/audit/audit.log', dev: 1, ino: 1, fp: 'x', fpLen: 1, offset: 0 },
          policy: null,
          event,
          publishedAt: new Date(0).toISOString(),
        },
        { partition: 0, offset: '0' },
        new Date(0),
        () => ({ explanation: null, error: 'none' }),
        () => 'd'.repeat(32),
      ),
    );
    const bySerial = (serial: number) => docs[events.findIndex((e) => e.serial === serial)]!;
    for (const serial of [5001, 5002]) {
      expect(bySerial(serial).denials, String(serial)).toHaveLength(0);
      expect(bySerial(serial).selinux, String(serial)).toHaveLength(0);
    }
    const mixed = bySerial(5003);
    expect(mixed.denials.map((d) => d.doc.selinux.tclass)).toEqual(['file']);
    expect(mixed.selinux.map((d) => selinuxEventDocSchema.parse(d.doc).auditd.message_type)).toEqual([
      'user_avc',
    ]);
  });
});
