import {
  appendFileSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openStore, type Store } from '@avcstream/store';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createEmbeddedApp } from './app.ts';
import { parseRunArgs, type RunOptions } from './options.ts';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'avc-app-'));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

const denial = (serial: number) =>
  `type=AVC msg=audit(1763802001.000:${serial}): avc:  denied  { read } for  pid=1 comm="cat" name="x" scontext=system_u:system_r:httpd_t:s0 tcontext=system_u:object_r:user_home_t:s0 tclass=file permissive=0\n`;

function options(extra: string[]): RunOptions {
  const o = parseRunArgs([
    '--input',
    join(dir, 'audit.log'),
    '--policy',
    'none',
    '--booleans',
    'none',
    '--state-dir',
    join(dir, 'state'),
    '--host',
    'h',
    '--log-level',
    'warn',
    ...extra,
  ]);
  if (o === null) throw new Error('no options');
  return o;
}

describe('/readyz', () => {
  it('answers 503 while state commits fail (intake waits) and 200 again once they succeed', async () => {
    writeFileSync(join(dir, 'audit.log'), denial(1));
    let failing = false;
    let notify: ((ok: boolean) => void) | null = null;
    const failingStore = (o: Parameters<typeof openStore>[0]): Store => {
      const real = openStore(o);
      return {
        ...real,
        commitBatch(b) {
          if (failing) {
            notify?.(false);
            throw Object.assign(new Error('disk full'), { code: 'AVC_ERR_STORE_IO' });
          }
          const r = real.commitBatch(b);
          notify?.(true);
          return r;
        },
      };
    };
    const logs: string[] = [];
    const app = await createEmbeddedApp(
      options(['--http', '127.0.0.1:0', '--poll-interval-ms', '20', '--commit-interval-ms', '0']),
      { out: () => {}, logStream: { write: (s: string) => logs.push(s) } },
      { openStore: failingStore },
    );
    await app.start();
    const readyz = async () => (await fetch(`http://127.0.0.1:${app.httpPort()}/readyz`)).status;
    expect(await readyz()).toBe(200);
    const next = (want: boolean) =>
      new Promise<void>((resolve) => {
        notify = (ok) => {
          if (ok === want) resolve();
        };
      });
    failing = true;
    const failed = next(false);
    appendFileSync(join(dir, 'audit.log'), denial(2));
    await failed;
    expect(await readyz()).toBe(503);
    expect(logs.some((l) => l.includes('state commit failed'))).toBe(true);
    const recovered = next(true);
    failing = false;
    await recovered;
    expect(await readyz()).toBe(200);
    expect(await app.shutdown('test')).toBe(0);
    const s = openStore({ dir: join(dir, 'state'), readOnly: true });
    expect(s.counters().lines).toBe(2);
  });
});

describe('bad lines', () => {
  it('are dead-lettered to deadletter.ndjson in the state dir with their file offset and raw bytes', async () => {
    const good = denial(1);
    writeFileSync(join(dir, 'audit.log'), `${good}not an audit record\n${denial(2)}type=AVC oops\n`);
    const app = await createEmbeddedApp(options(['--once']), {
      out: () => {},
      logStream: { write: () => true },
    });
    await app.start();
    await app.runOnce();
    expect(await app.shutdown('done')).toBe(0);
    const entries = readFileSync(join(dir, 'state', 'deadletter.ndjson'), 'utf8')
      .trim()
      .split('\n')
      .map(
        (l) =>
          JSON.parse(l) as {
            reason: { code: string };
            raw: string;
            source: { offset: number; path: string };
          },
      );
    expect(entries.map((e) => [e.source.offset, Buffer.from(e.raw, 'base64').toString()])).toEqual([
      [good.length, 'not an audit record'],
      [good.length + 20 + good.length, 'type=AVC oops'],
    ]);
    expect(entries[0]?.source.path).toBe(join(dir, 'audit.log'));
  });
});

describe('the default policy', () => {
  it('without selinuxfs, replays against the installed policy /etc/selinux/config names', async () => {
    writeFileSync(join(dir, 'audit.log'), denial(1));
    const root = join(dir, 'root');
    mkdirSync(join(root, 'etc/selinux/mls/policy'), { recursive: true });
    writeFileSync(join(root, 'etc/selinux/config'), 'SELINUX=permissive\nSELINUXTYPE=mls\n');
    const installed = join(root, 'etc/selinux/mls/policy/policy.33');
    copyFileSync(join(import.meta.dirname, '../../sample/policy/policy.33'), installed);
    const o = parseRunArgs([
      '--input',
      join(dir, 'audit.log'),
      '--state-dir',
      join(dir, 'state'),
      '--host',
      'h',
      '--log-level',
      'info',
      '--once',
    ]);
    if (o === null) throw new Error('no options');
    expect(o.policyGiven).toBe(false);
    const logs: string[] = [];
    const app = await createEmbeddedApp(
      o,
      { out: () => {}, logStream: { write: (l: string) => logs.push(l) } },
      { hostRoot: root },
    );
    await app.start();
    await app.runOnce();
    expect(await app.shutdown('done')).toBe(0);
    const entries = logs.map((l) => JSON.parse(l) as { msg: string; policy?: string });
    expect(
      entries.find((e) => e.msg === 'no kernel policy: replaying against the installed policy')?.policy,
    ).toBe(installed);
    expect(entries.find((e) => e.msg === 'policy loaded')?.policy).toBe(installed);
    expect(entries.some((e) => e.msg === 'policy not found: denials are not replayed')).toBe(false);
  });
});

describe('explicit --policy / --booleans paths', () => {
  const sample = join(import.meta.dirname, '../../sample');
  const startWith = (extra: string[]) =>
    createEmbeddedApp(options(extra), { out: () => {}, logStream: { write: () => true } });

  it('a --policy that does not exist is a config error (78) naming it, before the state dir is touched', async () => {
    writeFileSync(join(dir, 'audit.log'), denial(1));
    const missing = join(dir, 'policy.3');
    await expect(startWith(['--policy', missing])).rejects.toMatchObject({
      name: 'UsageError',
      exitCode: 78,
      message: expect.stringContaining(missing),
    });
    expect(existsSync(join(dir, 'state'))).toBe(false);
  });

  it('a --booleans that does not exist is a config error (78) naming it, before the state dir is touched', async () => {
    writeFileSync(join(dir, 'audit.log'), denial(1));
    const missing = join(dir, 'booleanz');
    await expect(
      startWith(['--policy', join(sample, 'policy/policy.33'), '--booleans', missing]),
    ).rejects.toMatchObject({ name: 'UsageError', exitCode: 78, message: expect.stringContaining(missing) });
    expect(existsSync(join(dir, 'state'))).toBe(false);
  });

  it('an unreadable --booleans is a config error (78) naming it', async () => {
    writeFileSync(join(dir, 'audit.log'), denial(1));
    const bad = join(dir, 'booleans');
    writeFileSync(bad, 'this is not a booleans file\n');
    await expect(
      startWith(['--policy', join(sample, 'policy/policy.33'), '--booleans', bad]),
    ).rejects.toMatchObject({ name: 'UsageError', exitCode: 78, message: expect.stringContaining(bad) });
    expect(existsSync(join(dir, 'state'))).toBe(false);
  });
});

describe('--file-contexts', () => {
  const sample = join(import.meta.dirname, '../../sample');
  const moved =
    'type=AVC msg=audit(1763802001.000:7): avc:  denied  { read } for  pid=1 comm="cat" path="/var/www/html/x" ' +
    'scontext=system_u:system_r:httpd_t:s0 tcontext=system_u:object_r:user_home_t:s0 tclass=file permissive=0\n';
  const runWith = async (extra: string[]) => {
    const out: string[] = [];
    const app = await createEmbeddedApp(
      options(['--policy', join(sample, 'policy/policy.33'), '--once', ...extra]),
      { out: (s: string) => out.push(s), logStream: { write: () => true } },
    );
    await app.start();
    await app.runOnce();
    expect(await app.shutdown('done')).toBe(0);
    return out.join('');
  };

  it("alerts with restorecon first when the file's default label would allow the access", async () => {
    writeFileSync(join(dir, 'audit.log'), moved);
    const fc = join(dir, 'file_contexts');
    writeFileSync(
      fc,
      '/.*\tsystem_u:object_r:etc_t:s0\n/var/www(/.*)?\tsystem_u:object_r:httpd_sys_content_t:s0\n',
    );
    const text = await runWith(['--file-contexts', fc]);
    expect(text).toContain("fix (restorecon, verified): restorecon -v '<path>'\n  fix (setsebool, verified)");
  });

  it('looks up the path of a name=-only AVC when a PATH record of its event is the same inode', async () => {
    // The classic mislabel: a file moved from a home directory keeps user_home_t. Its read denial names it by
    // name= and ino= only; the openat's PATH record holds the same inode under its full name.
    writeFileSync(
      join(dir, 'audit.log'),
      'type=SYSCALL msg=audit(1763802001.000:9): arch=c000003e syscall=257 success=no exit=-13 a0=ffffff9c a1=7f a2=0 a3=0 items=1 ppid=1 pid=1 comm="httpd" exe="/usr/sbin/httpd" subj=system_u:system_r:httpd_t:s0 key=(null)\n' +
        'type=AVC msg=audit(1763802001.000:9): avc:  denied  { read } for  pid=1 comm="httpd" name="x" dev="dm-0" ino=2 ' +
        'scontext=system_u:system_r:httpd_t:s0 tcontext=system_u:object_r:user_home_t:s0 tclass=file permissive=0\n' +
        'type=CWD msg=audit(1763802001.000:9): cwd="/var/www"\n' +
        'type=PATH msg=audit(1763802001.000:9): item=0 name="html/x" inode=2 dev=fd:00 mode=0100644 obj=system_u:object_r:user_home_t:s0 nametype=NORMAL\n' +
        'type=PROCTITLE msg=audit(1763802001.000:9): proctitle=6874747064\n',
    );
    const fc = join(dir, 'file_contexts');
    writeFileSync(
      fc,
      '/.*\tsystem_u:object_r:etc_t:s0\n/var/www(/.*)?\tsystem_u:object_r:httpd_sys_content_t:s0\n',
    );
    const text = await runWith(['--file-contexts', fc]);
    expect(text).toContain("fix (restorecon, verified): restorecon -v '<path>'\n  fix (setsebool, verified)");
  });

  it('does not look up a path rebuilt from PATH records that are not the inode the kernel checked', async () => {
    // The AVC names the object by name= only, without ino=: the PATH record (the entry a syscall created)
    // cannot be told to be the object the kernel checked, so no default label is looked up for it.
    writeFileSync(
      join(dir, 'audit.log'),
      'type=AVC msg=audit(1763802001.000:8): avc:  denied  { read } for  pid=1 comm="cat" name="x" ' +
        'scontext=system_u:system_r:httpd_t:s0 tcontext=system_u:object_r:user_home_t:s0 tclass=file permissive=0\n' +
        'type=PATH msg=audit(1763802001.000:8): item=0 name="/var/www/html/x" inode=2 dev=08:01 mode=0100644 nametype=NORMAL\n',
    );
    const fc = join(dir, 'file_contexts');
    writeFileSync(
      fc,
      '/.*\tsystem_u:object_r:etc_t:s0\n/var/www(/.*)?\tsystem_u:object_r:httpd_sys_content_t:s0\n',
    );
    const text = await runWith(['--file-contexts', fc]);
    expect(text).toContain('path=/var/www/html/x');
    expect(text).not.toContain('restorecon');
  });

  it("gives no restorecon without file_contexts ('none'), and a missing file is a config error (78)", async () => {
    writeFileSync(join(dir, 'audit.log'), moved);
    const text = await runWith(['--file-contexts', 'none']);
    expect(text).toContain('fix (setsebool, verified)');
    expect(text).not.toContain('restorecon');
    const missing = join(dir, 'no_file_contexts');
    await expect(
      createEmbeddedApp(options(['--policy', join(sample, 'policy/policy.33'), '--file-contexts', missing]), {
        out: () => {},
        logStream: { write: () => true },
      }),
    ).rejects.toMatchObject({ name: 'UsageError', exitCode: 78, message: expect.stringContaining(missing) });
  });
});
