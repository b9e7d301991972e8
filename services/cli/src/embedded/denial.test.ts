import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseAuditText } from '@avcstream/audit';
import { buildSummary } from '@avcstream/report';
import { describe, expect, it } from 'vitest';
import { denialsOf, eventKey } from './denial.ts';

const LOG = [
  'node=h1 type=AVC msg=audit(1700000000.100:42): avc:  denied  { read write } for  pid=7 comm="cat" name="shadow" dev="vda1" ino=5 scontext=system_u:system_r:httpd_t:s0 tcontext=system_u:object_r:shadow_t:s0 tclass=file permissive=0',
  'node=h1 type=SYSCALL msg=audit(1700000000.100:42): arch=c000003e syscall=257 success=no exit=-13 a0=1 a1=2 a2=0 a3=0 items=1 ppid=1 pid=7 auid=0 uid=0 gid=0 euid=0 suid=0 fsuid=0 egid=0 sgid=0 fsgid=0 tty=(none) ses=1 comm="cat" exe="/usr/bin/cat" subj=system_u:system_r:httpd_t:s0 key=(null)',
  'node=h1 type=CWD msg=audit(1700000000.100:42): cwd="/etc"',
  'node=h1 type=PATH msg=audit(1700000000.100:42): item=0 name="shadow" inode=5 dev=fc:01 mode=0100600 ouid=0 ogid=0 rdev=00:00 obj=system_u:object_r:shadow_t:s0 nametype=NORMAL cap_fp=0 cap_fi=0 cap_fe=0 cap_fver=0',
  'type=AVC msg=audit(1700000001.000:43): avc:  granted  { setenforce } for  pid=1 comm="setenforce" scontext=system_u:system_r:kernel_t:s0 tcontext=system_u:object_r:security_t:s0 tclass=security',
  '',
].join('\n');

describe('denialsOf', () => {
  it('extracts denied AVCs with exe from SYSCALL and a path joined with the cwd', () => {
    const { events } = parseAuditText(LOG);
    const all = events.flatMap((e) => denialsOf(e, 'local'));
    expect(all).toHaveLength(1);
    const d = all[0]!;
    expect(d).toMatchObject({
      host: 'h1',
      serial: 42,
      pid: 7,
      comm: 'cat',
      exe: '/usr/bin/cat',
      path: '/etc/shadow',
    });
    expect(d.avc.perms).toEqual(['read', 'write']);
    expect(d.port).toBeNull();
    expect(events.map((e) => eventKey(e, 'local'))).toEqual(['h1|1700000000.1|42', 'local|1700000001|43']);
  });

  it("gives the path the report shows for the same event (the sample's chcon notes.txt in /home/carol)", () => {
    const sample = readFileSync(resolve(import.meta.dirname, '../../sample/audit.log'), 'utf8');
    const { events } = parseAuditText(sample);
    const chcon = events.filter((e) => e.serial === 5406 && e.node === 'bastion.example.com');
    expect(chcon.flatMap((e) => denialsOf(e, 'local')).map((d) => d.path)).toEqual(['/home/carol/notes.txt']);
    const summary = buildSummary(chcon);
    expect(summary.denyListing.map((g) => g.pathSample)).toEqual(['/home/carol/notes.txt']);
    // Every denial of the sample: the alert's path is the report's.
    for (const e of events) {
      for (const d of denialsOf(e, 'local')) {
        const g = buildSummary([e]).denyListing.find(
          (x) => x.signature.sourceType === d.avc.scontext.type && x.signature.class === d.avc.tclass,
        );
        expect(g?.pathSample ?? null, `${e.node} ${e.serial}`).toBe(d.path);
      }
    }
  });

  it('carries the port of a name_bind denial (src=)', () => {
    const { events } = parseAuditText(
      'type=AVC msg=audit(1165963069.244:851): avc:  denied  { name_bind } for  pid=21134 comm="httpd" src=81 scontext=system_u:system_r:httpd_t:s0 tcontext=system_u:object_r:reserved_port_t:s0 tclass=tcp_socket\n',
    );
    expect(events.flatMap((e) => denialsOf(e, 'local')).map((d) => d.port)).toEqual([81]);
  });
});
