// explain with file_contexts: restorecon when the default label of the record's path allows the access.
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { createExplainer, parseFileContexts } from '@avcstream/selinux-access';
import { readPolicy } from '@avcstream/selinux-policy';
import fcheck from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { readFileContexts } from '../policy-file.ts';
import { explain, explainBytes } from './explain.ts';

const SAMPLE = resolve(import.meta.dirname, '../../sample/policy/policy.33');
const DEBIAN = '/etc/selinux/default/policy/policy.33';
const DEBIAN_FC = '/etc/selinux/default/contexts/files/file_contexts';
const runDebian = (existsSync(DEBIAN) && existsSync(DEBIAN_FC)) || Boolean(process.env.CI);
if (!runDebian)
  console.warn(
    `SKIPPED: ${DEBIAN} or ${DEBIAN_FC} is absent (selinux-policy-default); set CI=1 to make this fail`,
  );
const CORPUS = resolve(import.meta.dirname, '../../../../../shared/corpus/audit');
const haveCorpus = existsSync(CORPUS);
if (!haveCorpus && !process.env.CI)
  console.warn(`SKIPPED: audit corpus ${CORPUS} is absent; set CI=1 to make this fail`);

async function run(argv: string[], stdinText = ''): Promise<{ code: number; out: string; err: string }> {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let out = '';
  let err = '';
  stdout.on('data', (c) => {
    out += c;
  });
  stderr.on('data', (c) => {
    err += c;
  });
  const code = await explain(argv, { stdout, stderr, stdin: Readable.from([stdinText]) });
  return { code, out, err };
}

const dir = mkdtempSync(join(tmpdir(), 'avc-fc-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** httpd_t reading a file at `path` labelled `type`, the path written quoted or hex-encoded. */
const readLine = (serial: number, path: string, type: string, hex = false) =>
  `type=AVC msg=audit(1700000000.000:${serial}): avc:  denied  { read } for  pid=1 comm="httpd" ` +
  `path=${hex ? Buffer.from(path).toString('hex').toUpperCase() : JSON.stringify(path)} dev="sda1" ino=2 ` +
  `scontext=system_u:system_r:httpd_t:s0 tcontext=system_u:object_r:${type}:s0 tclass=file permissive=0\n`;

describe('avcstream explain --file-contexts (sample policy)', { timeout: 60_000 }, () => {
  const fc = join(dir, 'file_contexts');
  writeFileSync(
    fc,
    [
      '/.*\tsystem_u:object_r:etc_t:s0',
      '/var/www(/.*)?\tsystem_u:object_r:httpd_sys_content_t:s0',
      '/home/[^/]+/.+\tsystem_u:object_r:user_home_t:s0',
    ].join('\n'),
  );
  writeFileSync(`${fc}.subs`, '/srv/www /var/www\n');

  it('puts restorecon first when the default label of path= allows the access, hex-encoded paths too', async () => {
    const input =
      readLine(1, '/var/www/html/a.html', 'user_home_t') +
      readLine(2, '/srv/www/b.html', 'user_home_t', true) +
      readLine(3, '/home/alice/notes', 'user_home_t');
    const r = await run(['--policy', SAMPLE, '--file-contexts', fc, '--format', 'ndjson', '-'], input);
    expect(r.code).toBe(0);
    const rows = r.out
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(rows.map((x) => x.fixes[0].kind)).toEqual([
      'restorecon',
      'restorecon',
      expect.not.stringMatching('restorecon'),
    ]);
    expect(rows[0].fixes[0]).toEqual({ kind: 'restorecon', text: "restorecon -v '<path>'", verified: true });
    // The alias of .subs applies: /srv/www is /var/www.
    expect(rows[1].evidence.join('\n')).toContain('httpd_sys_content_t (spec "/var/www(/.*)?")');
    expect(rows[2].evidence.join('\n')).toContain(
      'its label is the default, so restorecon alone would not change it',
    );
    // The path itself is never written into the output.
    expect(r.out).not.toContain('a.html');
    expect(r.out).not.toContain('/srv/www/b.html');
  });

  it('finds the path of a name=-only AVC in the PATH record of its event (same inode), in input order', async () => {
    // A read denial names its object by name= and ino= only; the openat's PATH record holds that inode under
    // its name relative to the CWD. Lines of other events, before and after, keep their places.
    const event = (serial: number, name: string, ino: number, pathName: string, enriched = false) => {
      const t = `msg=audit(1700000000.100:${serial}):`;
      const sys = `type=SYSCALL ${t} arch=c000003e syscall=257 success=no exit=-13 a0=ffffff9c a1=7f a2=0 a3=0 items=1 ppid=1 pid=1 comm="httpd" exe="/usr/sbin/httpd" key=(null)`;
      return (
        `type=AVC ${t} avc:  denied  { read } for  pid=1 comm="httpd" name="${name}" dev="dm-0" ino=${ino} ` +
        `scontext=system_u:system_r:httpd_t:s0 tcontext=system_u:object_r:user_home_t:s0 tclass=file permissive=0\n` +
        `${enriched ? `${sys}\x1dARCH=x86_64 SYSCALL=openat` : sys}\n` +
        `type=CWD ${t} cwd="/var/www"\n` +
        `type=PATH ${t} item=0 name="${pathName}" inode=${ino} dev=fd:00 mode=0100644 obj=system_u:object_r:user_home_t:s0 nametype=NORMAL\n` +
        `type=PROCTITLE ${t} proctitle=6874747064\n`
      );
    };
    const input =
      readLine(1, '/home/alice/notes', 'user_home_t') +
      event(2, 'x', 5, 'html/x') +
      // The PATH record is another inode (a directory of the walk): no path, no restorecon.
      event(3, 'y', 6, 'html/z') +
      event(4, 'w', 7, 'html/w', true) +
      readLine(5, '/var/www/html/a.html', 'user_home_t');
    for (const fmt of ['ndjson', 'text']) {
      const r = await run(['--policy', SAMPLE, '--file-contexts', fc, '--format', fmt, '-'], input);
      expect(r.code).toBe(0);
      if (fmt === 'text') {
        expect(r.out.match(/restorecon -v/g)).toHaveLength(3);
        continue;
      }
      const rows = r.out
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l));
      expect(rows.map((x) => [x.line, x.serial, x.fixes[0].kind])).toEqual([
        [1, 1, expect.not.stringMatching('restorecon')],
        [2, 2, 'restorecon'],
        [7, 3, expect.not.stringMatching('restorecon')],
        [12, 4, 'restorecon'],
        [17, 5, 'restorecon'],
      ]);
    }
    // Read in pieces of 7 bytes: held lines span the stream's chunks.
    const whole = await run(['--policy', SAMPLE, '--file-contexts', fc, '--format', 'ndjson', '-'], input);
    const pieces: string[] = [];
    for (let i = 0; i < input.length; i += 7) pieces.push(input.slice(i, i + 7));
    const stdout = new PassThrough();
    let chunked = '';
    stdout.on('data', (c) => {
      chunked += c;
    });
    const code = await explain(['--policy', SAMPLE, '--file-contexts', fc, '--format', 'ndjson', '-'], {
      stdout,
      stderr: new PassThrough(),
      stdin: Readable.from(pieces.map((x) => Buffer.from(x))),
    });
    expect(code).toBe(0);
    expect(chunked).toBe(whole.out);
    // A line of another event between the AVC and its PATH record ends the wait: no path, no restorecon.
    const lines = event(8, 'x', 5, 'html/x').split('\n');
    const cut = [lines[0], readLine(9, '/home/alice/notes', 'user_home_t').trimEnd(), ...lines.slice(1)].join(
      '\n',
    );
    const rc = await run(['--policy', SAMPLE, '--file-contexts', fc, '--format', 'ndjson', '-'], cut);
    expect(
      rc.out
        .trim()
        .split('\n')
        .map((l) => [JSON.parse(l).line, JSON.parse(l).fixes[0].kind]),
    ).toEqual([
      [1, 'setsebool'],
      [2, 'setsebool'],
    ]);
    // Past the first 4096 lines, events whose PATH records were all held are still held (the window follows
    // the PATH lines, held or not).
    let long = '';
    for (let k = 0; k < 1000; k++) long += event(100 + k, `f${k}`, 1000 + k, `html/f${k}`);
    const rl = await run(['--policy', SAMPLE, '--file-contexts', fc, '--format', 'ndjson', '-'], long);
    const kinds = rl.out
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l).fixes[0].kind);
    expect(kinds).toHaveLength(1000);
    expect(kinds.filter((k) => k === 'restorecon')).toHaveLength(1000);
    // The fast path and the full parser give the same bytes.
    const policy = readPolicy(readFileSync(SAMPLE));
    const fcs = readFileContexts(fc);
    const bytes = Buffer.from(input);
    for (const fmt of ['ndjson', 'text'] as const) {
      const fast = explainBytes(createExplainer(policy), fmt, bytes, { fastPath: true, fileContexts: fcs });
      const slow = explainBytes(createExplainer(policy), fmt, bytes, { fastPath: false, fileContexts: fcs });
      expect(fast).toBe(slow);
      expect(fast.match(/restorecon -v/g)).toHaveLength(3);
    }
  });

  it('finds the path in the PATH record before the AVC too, as ausearch prints an event (AVC last)', async () => {
    // `ausearch -m AVC` output: `----`, then the event's records last to first; `ausearch -i` writes the
    // stamp as a date and a0 of openat as AT_FDCWD.
    const event = (stamp: string, a0: string, ino: number, name: string) =>
      '----\n' +
      `type=PROCTITLE msg=audit(${stamp}): proctitle=6874747064\n` +
      `type=PATH msg=audit(${stamp}): item=0 name=${name} inode=${ino} dev=fd:00 mode=0100644 obj=system_u:object_r:user_home_t:s0 nametype=NORMAL\n` +
      `type=CWD msg=audit(${stamp}): cwd=/var/www\n` +
      `type=SYSCALL msg=audit(${stamp}): arch=x86_64 syscall=openat success=no exit=EACCES a0=${a0} a1=0x7f a2=O_RDONLY a3=0x0 items=1 ppid=1 pid=1 comm=httpd exe=/usr/sbin/httpd key=(null)\n` +
      `type=AVC msg=audit(${stamp}): avc:  denied  { read } for  pid=1 comm=httpd name=x dev="dm-0" ino=${ino} ` +
      'scontext=system_u:system_r:httpd_t:s0 tcontext=system_u:object_r:user_home_t:s0 tclass=file permissive=0\n';
    const input =
      event('1700000000.200:21', 'ffffff9c', 5, 'html/x') +
      event('11/14/2023 22:13:20.300:22', 'AT_FDCWD', 6, '/var/www/html/x') +
      // Another inode: no path.
      event('1700000000.400:23', 'ffffff9c', 7, 'html/y');
    const r = await run(['--policy', SAMPLE, '--file-contexts', fc, '--format', 'ndjson', '-'], input);
    expect(r.code).toBe(0);
    expect(
      r.out
        .trim()
        .split('\n')
        .map((l) => [JSON.parse(l).line, JSON.parse(l).serial, JSON.parse(l).fixes[0].kind]),
    ).toEqual([
      [6, 21, 'restorecon'],
      [12, 22, 'restorecon'],
      [18, 23, 'setsebool'],
    ]);
  });

  it('holding events never moves, drops or changes a row: random logs of full events, extracts and noise', () => {
    const policy = readPolicy(readFileSync(SAMPLE));
    const fcs = readFileContexts(fc);
    type Unit =
      | {
          kind: 'event';
          join: boolean;
          rel: boolean;
          noise: boolean;
          node: boolean;
          eoe: boolean;
          rev: boolean;
        }
      | { kind: 'avc' | 'noise'; node: boolean };
    const unit = fcheck.oneof(
      fcheck.record({
        kind: fcheck.constant('event' as const),
        join: fcheck.boolean(),
        rel: fcheck.boolean(),
        noise: fcheck.boolean(),
        node: fcheck.boolean(),
        eoe: fcheck.boolean(),
        rev: fcheck.boolean(),
      }),
      fcheck.record({ kind: fcheck.constantFrom('avc' as const, 'noise' as const), node: fcheck.boolean() }),
    );
    const render = (units: Unit[]) => {
      let text = '';
      let expected = 0;
      units.forEach((u, k) => {
        const serial = 500 + k;
        const pre = u.node ? 'node=web1 ' : '';
        const t = `msg=audit(1700000001.${String(k % 1000).padStart(3, '0')}:${serial}):`;
        const avc = `${pre}type=AVC ${t} avc:  denied  { read } for  pid=1 comm="httpd" name="f${k}" dev="dm-0" ino=${7000 + k} scontext=system_u:system_r:httpd_t:s0 tcontext=system_u:object_r:user_home_t:s0 tclass=file permissive=0`;
        if (u.kind !== 'event') {
          text +=
            u.kind === 'noise'
              ? `${pre}type=USER_LOGIN ${t} pid=1 uid=0 msg='op=login acct="root" res=success'\n`
              : `${avc}\n`;
          return;
        }
        const noise = `type=USER_LOGIN msg=audit(1700000009.999:9${serial}): pid=1 uid=0 msg='op=login res=success'`;
        const name = u.rel ? `html/f${k}` : `/var/www/html/f${k}`;
        const rest = [
          `${pre}type=SYSCALL ${t} arch=c000003e syscall=257 success=no exit=-13 a0=ffffff9c a1=7f a2=0 a3=0 items=1 pid=1 comm="httpd" exe="/usr/sbin/httpd" key=(null)`,
          `${pre}type=CWD ${t} cwd="/var/www"`,
          `${pre}type=PATH ${t} item=0 name="${name}" inode=${u.join ? 7000 + k : 1} dev=fd:00 mode=0100644 obj=system_u:object_r:user_home_t:s0 nametype=NORMAL`,
          u.eoe && !u.rev ? `${pre}type=EOE ${t}` : `${pre}type=PROCTITLE ${t} proctitle=6874747064`,
        ];
        // As the kernel writes an event (AVC first), or as ausearch prints it (`----`, then last to first).
        const lines = u.rev
          ? ['----', ...rest.reverse(), ...(u.noise ? [noise] : []), avc]
          : [avc, ...(u.noise ? [noise] : []), ...rest];
        text += `${lines.join('\n')}\n`;
        if (u.join && !u.noise) expected++;
      });
      return { text, expected };
    };
    const rows = (out: string) =>
      out
        .trim()
        .split('\n')
        .filter((l) => l !== '')
        .map(
          (l) =>
            JSON.parse(l) as {
              line: number;
              serial: number;
              verdict: string;
              fixes: Array<{ kind: string }>;
            },
        );
    fcheck.assert(
      fcheck.property(fcheck.array(unit, { maxLength: 12 }), (units) => {
        const { text, expected } = render(units);
        const bytes = Buffer.from(text);
        const withFc = explainBytes(createExplainer(policy), 'ndjson', bytes, {
          fastPath: true,
          fileContexts: fcs,
        });
        const slow = explainBytes(createExplainer(policy), 'ndjson', bytes, {
          fastPath: false,
          fileContexts: fcs,
        });
        const without = explainBytes(createExplainer(policy), 'ndjson', bytes, { fastPath: true });
        expect(withFc).toBe(slow);
        const a = rows(withFc);
        const b = rows(without);
        expect(a.map((r) => [r.line, r.serial, r.verdict])).toEqual(
          b.map((r) => [r.line, r.serial, r.verdict]),
        );
        expect(a.filter((r) => r.fixes[0]?.kind === 'restorecon')).toHaveLength(expected);
        expect(b.filter((r) => r.fixes[0]?.kind === 'restorecon')).toHaveLength(0);
      }),
      { numRuns: 150 },
    );
  });

  it('forces restorecon (-F) for a customizable type (contexts/customizable_types beside contexts/files)', async () => {
    const root = join(dir, 'custom');
    mkdirSync(join(root, 'contexts/files'), { recursive: true });
    const cfc = join(root, 'contexts/files/file_contexts');
    writeFileSync(
      cfc,
      '/.*\tsystem_u:object_r:etc_t:s0\n/var/www(/.*)?\tsystem_u:object_r:httpd_sys_content_t:s0\n',
    );
    writeFileSync(join(root, 'contexts/customizable_types'), 'user_home_t\n');
    const input =
      readLine(1, '/var/www/html/a.html', 'user_home_t') + readLine(2, '/var/www/html/b', 'shadow_t');
    const r = await run(['--policy', SAMPLE, '--file-contexts', cfc, '--format', 'ndjson', '-'], input);
    const first = r.out
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l).fixes[0].text);
    expect(first[0]).toBe("restorecon -F -v '<path>'");
    expect(first[1]).toBe("restorecon -v '<path>'");
  });

  it('gives the same rows as without file_contexts when --no-file-contexts is given', async () => {
    const input = readLine(1, '/var/www/html/a.html', 'user_home_t');
    const off = await run(['--policy', SAMPLE, '--no-file-contexts', '--format', 'ndjson', '-'], input);
    const none = await run(['--policy', SAMPLE, '--format', 'ndjson', '-'], input);
    expect(off.out).toBe(none.out);
    expect(JSON.parse(off.out).fixes.map((f: { kind: string }) => f.kind)).not.toContain('restorecon');
  });

  it('reports a missing file, bad lines (with their place) and conflicting options', async () => {
    const missing = await run(['--policy', SAMPLE, '--file-contexts', join(dir, 'nope'), '-'], '');
    expect(missing.code).toBe(66);
    expect(missing.err).toContain('cannot open file_contexts');
    const bad = join(dir, 'bad_contexts');
    writeFileSync(bad, '/ok(/.*)?\tsystem_u:object_r:etc_t:s0\n/broken(\tsystem_u:object_r:etc_t:s0\n');
    const r = await run(
      ['--policy', SAMPLE, '--file-contexts', bad, '--format', 'ndjson', '-'],
      readLine(1, '/ok/x', 'tmp_t'),
    );
    expect(r.code).toBe(0);
    expect(r.err).toContain(`1 file_contexts lines skipped; first: ${bad}:2:`);
    const both = await run(['--policy', SAMPLE, '--file-contexts', fc, '--no-file-contexts', '-'], '');
    expect(both.code).toBe(64);
  });
});

function corpusFiles(d: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(d)) {
    const p = join(d, name);
    if (statSync(p).isDirectory()) out.push(...corpusFiles(p));
    else out.push(p);
  }
  return out;
}

describe.runIf(runDebian)('explain with Debian file_contexts', { timeout: 300_000 }, () => {
  it.runIf(haveCorpus || Boolean(process.env.CI))(
    'writes the same bytes by the byte fast path and by the full parser on every corpus log',
    () => {
      const explainer = createExplainer(readPolicy(readFileSync(DEBIAN)), { memoize: false });
      const fc = readFileContexts(DEBIAN_FC);
      let restorecon = 0;
      let files = 0;
      for (const file of corpusFiles(CORPUS)) {
        if (!file.endsWith('.log') && !file.endsWith('.txt')) continue;
        const bytes = readFileSync(file);
        if (!bytes.includes('avc:')) continue;
        files++;
        const fast = explainBytes(explainer, 'ndjson', bytes, { fastPath: true, fileContexts: fc });
        const slow = explainBytes(explainer, 'ndjson', bytes, { fastPath: false, fileContexts: fc });
        expect(fast, file).toBe(slow);
        restorecon += fast.split('"kind":"restorecon","text":"restorecon -v').length - 1;
      }
      expect(files).toBeGreaterThan(20);
      // Real denials on mislabelled files are in the corpus: restorecon is offered for some of them.
      expect(restorecon).toBeGreaterThan(0);
    },
  );

  it('keys the rendered rows on the default label: the same denial on two paths gets each its own advice', () => {
    const explainer = createExplainer(readPolicy(readFileSync(DEBIAN)), { memoize: false });
    const fc = parseFileContexts([{ name: 'fc', text: readFileSync(DEBIAN_FC, 'utf8') }]);
    const input = Buffer.from(
      readLine(1, '/var/www/html/a', 'samba_share_t') +
        readLine(2, '/srv/samba/a', 'samba_share_t') +
        readLine(3, '/var/www/html/b', 'samba_share_t'),
    );
    for (const fastPath of [true, false]) {
      const rows = explainBytes(explainer, 'ndjson', input, { fastPath, fileContexts: fc })
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l).fixes[0].kind);
      expect(rows).toEqual(['restorecon', 'allow', 'restorecon']);
    }
  });
});
