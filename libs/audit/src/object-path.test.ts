import { describe, expect, it } from 'vitest';
import { parseAuditText } from './decoder.ts';
import { avcObjectPath } from './object-path.ts';

const CTX = 'scontext=system_u:system_r:httpd_t:s0 tcontext=unconfined_u:object_r:user_home_t:s0';

/** The object path of the first AVC of the one event in `lines`. */
function objectPath(lines: string[]): string | null {
  const { events } = parseAuditText(`${lines.join('\n')}\n`);
  expect(events).toHaveLength(1);
  const ev = events[0]!;
  const avc = ev.records.find((r) => r.type === 'AVC');
  expect(avc?.avc).toBeDefined();
  return avcObjectPath(avc!, ev);
}

const avc = (body: string) =>
  `type=AVC msg=audit(1763802001.000:7): avc:  denied  { read } for  pid=9 comm="httpd" ${body} ${CTX} tclass=file permissive=0`;
const syscall = (name: number, a0: string) =>
  `type=SYSCALL msg=audit(1763802001.000:7): arch=c000003e syscall=${name} success=no exit=-13 a0=${a0} a1=7ffd a2=0 a3=0 items=1 ppid=1 pid=9 auid=0 uid=48 gid=48 euid=48 suid=48 fsuid=48 egid=48 sgid=48 fsgid=48 tty=(none) ses=1 comm="httpd" exe="/usr/sbin/httpd" subj=system_u:system_r:httpd_t:s0 key=(null)`;
const cwd = (dir: string) => `type=CWD msg=audit(1763802001.000:7): cwd="${dir}"`;
const path = (name: string, inode: number, obj = 'unconfined_u:object_r:user_home_t:s0') =>
  `type=PATH msg=audit(1763802001.000:7): item=0 name="${name}" inode=${inode} dev=fd:00 mode=0100644 ouid=0 ogid=0 rdev=00:00 obj=${obj} nametype=NORMAL`;
const proctitle = 'type=PROCTITLE msg=audit(1763802001.000:7): proctitle=6874747064';

describe('avcObjectPath', () => {
  it("is the AVC's own path= when it has one", () => {
    expect(objectPath([avc('path="/srv/www/a b" dev="dm-0" ino=5')])).toBe('/srv/www/a b');
  });

  it('is the name of the PATH record with the same inode, last component and context', () => {
    const lines = [
      syscall(257, 'ffffff9c'),
      avc('name="index.html" dev="dm-0" ino=1234'),
      cwd('/'),
      path('/var/www/html/index.html', 1234),
      proctitle,
    ];
    expect(objectPath(lines)).toBe('/var/www/html/index.html');
  });

  it('finds the PATH record among several, and decodes hex-encoded names as the parser does', () => {
    const hexName = Buffer.from('/var/www/html/my page.html').toString('hex').toUpperCase();
    const lines = [
      syscall(257, 'ffffff9c'),
      avc('name="my page.html" dev="dm-0" ino=77'),
      path('/var/www/html', 12),
      `type=PATH msg=audit(1763802001.000:7): item=1 name=${hexName} inode=77 dev=fd:00 mode=0100644 obj=unconfined_u:object_r:user_home_t:s0 nametype=NORMAL`,
    ];
    expect(objectPath(lines)).toBe('/var/www/html/my page.html');
  });

  it('joins a relative name to the CWD for AT_FDCWD and for cwd-relative syscalls', () => {
    expect(
      objectPath([syscall(257, 'ffffff9c'), avc('name="x" ino=3'), cwd('/var/www/html'), path('./sub/x', 3)]),
    ).toBe('/var/www/html/sub/x');
    // open(2) (x86_64 syscall 2) has no directory fd.
    expect(objectPath([syscall(2, '7ffd1234'), avc('name="x" ino=3'), cwd('/var/www'), path('x', 3)])).toBe(
      '/var/www/x',
    );
  });

  it('does not join a name relative to another directory fd, or one with a .. component', () => {
    // openat(5, "x"): relative to fd 5, whose path the event does not hold.
    expect(objectPath([syscall(257, '5'), avc('name="x" ino=3'), cwd('/var/www'), path('x', 3)])).toBeNull();
    // renameat (264) takes its directory fds in a0 and a2.
    expect(
      objectPath([syscall(264, 'ffffff9c'), avc('name="x" ino=3'), cwd('/var/www'), path('x', 3)]),
    ).toBeNull();
    // No SYSCALL record: the syscall is unknown.
    expect(objectPath([avc('name="x" ino=3'), cwd('/var/www'), path('x', 3)])).toBeNull();
    expect(
      objectPath([syscall(257, 'ffffff9c'), avc('name="x" ino=3'), path('/var/www/../x', 3)]),
    ).toBeNull();
    expect(
      objectPath([syscall(257, 'ffffff9c'), avc('name="x" ino=3'), cwd('/var'), path('../x', 3)]),
    ).toBeNull();
  });

  it('is null when no PATH record is the object the kernel checked', () => {
    const at = syscall(257, 'ffffff9c');
    // A directory of the path walk (another inode), as for a search denial.
    expect(objectPath([at, avc('name="html" ino=40'), path('/var/www/html/index.html', 1234)])).toBeNull();
    // Same inode, other last component (another file system's inode).
    expect(objectPath([at, avc('name="other" ino=1234'), path('/var/www/html/index.html', 1234)])).toBeNull();
    // Same inode and name, other context.
    expect(
      objectPath([
        at,
        avc('name="index.html" ino=1234'),
        path('/var/www/html/index.html', 1234, 'system_u:object_r:etc_t:s0'),
      ]),
    ).toBeNull();
    // No ino= on the AVC, or no name on the PATH record.
    expect(objectPath([at, avc('name="index.html"'), path('/var/www/html/index.html', 1234)])).toBeNull();
    expect(objectPath([at, avc('name="index.html" ino=1234'), path('(null)', 1234)])).toBeNull();
  });
});
