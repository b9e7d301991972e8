import { execFileSync, spawn, spawnSync } from 'node:child_process';
import {
  copyFileSync,
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
import { avcPortOf, parseLine } from '@avcstream/audit';
import { PassThrough, Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createExplainer } from '@avcstream/selinux-access';
import { readPolicy } from '@avcstream/selinux-policy';
import { avcOffsets, explain, explainBytes, fastAvc, RenderedBytes } from './explain.ts';
import { policy } from './policy.ts';

const SAMPLE = resolve(import.meta.dirname, '../../sample');
const SAMPLE_POLICY = `${SAMPLE}/policy/policy.33`;
const DEBIAN = '/etc/selinux/default/policy/policy.33';
const DEBIAN_FC_DIR = '/etc/selinux/default/contexts/files';
const runDebian = existsSync(DEBIAN) || Boolean(process.env.CI);
if (!runDebian)
  console.warn(`SKIPPED: ${DEBIAN} is absent (selinux-policy-default); set CI=1 to make this fail`);

type Cmd = typeof explain;
async function run(
  cmd: Cmd,
  argv: string[],
  stdinText = '',
  hostRoot?: string,
): Promise<{ code: number; out: string; err: string }> {
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
  const io = { stdout, stderr, stdin: Readable.from([stdinText]) };
  const code = await cmd(argv, hostRoot === undefined ? io : { ...io, hostRoot });
  return { code, out, err };
}

const REDHAT =
  'type=AVC msg=audit(1700000000.123:100): avc:  denied  { getattr } for  pid=1234 comm="httpd" ' +
  'path="/home/user/public_html" dev="dm-0" ino=12345 scontext=system_u:system_r:httpd_t:s0 ' +
  'tcontext=unconfined_u:object_r:user_home_t:s0 tclass=dir permissive=0\n';

describe('avcstream explain on the sample', { timeout: 60_000 }, () => {
  it('prints one NDJSON object per denied AVC/USER_AVC record, in input order, with stable keys', async () => {
    const r = await run(explain, [
      '--policy',
      SAMPLE_POLICY,
      '--booleans',
      `${SAMPLE}/booleans`,
      '--format',
      'ndjson',
      `${SAMPLE}/audit.log`,
    ]);
    expect(r.code).toBe(0);
    const rows = r.out
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(rows.length).toBe(28);
    for (const row of rows) {
      expect(Object.keys(row)).toEqual([
        'line',
        'node',
        'serial',
        'scontext',
        'tcontext',
        'tclass',
        'perms',
        'verdict',
        'booleans',
        'evidence',
        'fixes',
      ]);
    }
    const lines = rows.map((x) => x.line as number);
    expect([...lines].sort((a, b) => a - b)).toEqual(lines);
    const verdicts = new Set(rows.map((x) => x.verdict));
    for (const v of ['TE_MISSING', 'BOOLEAN', 'CONSTRAINT', 'RBAC', 'BOUNDS', 'INVALID_CONTEXT', 'ALLOWED']) {
      expect(verdicts.has(v)).toBe(true);
    }
    const unknownType = rows.find((x) => String(x.tcontext).includes('container_file_t'));
    expect(unknownType?.verdict).toBe('INVALID_CONTEXT');
  });

  it('takes -p POLICY as audit2why and audit2allow do', async () => {
    const long = await run(explain, ['--policy', SAMPLE_POLICY, '--format', 'ndjson', '-'], REDHAT);
    const short = await run(explain, ['-p', SAMPLE_POLICY, '--format', 'ndjson', '-'], REDHAT);
    expect(short.code).toBe(0);
    expect(short.out).not.toBe('');
    expect(short.out).toBe(long.out);
    expect((await run(explain, ['--help'])).out).toMatch(/^ {2}-p, --policy FILE /m);
  });

  it('prints audit2why-like text from standard input', async () => {
    const line =
      'type=AVC msg=audit(1763802000.5:9): avc:  denied  { transition } for pid=1 comm="x" ' +
      'scontext=user_u:user_r:user_t:s0 tcontext=system_u:system_r:passwd_t:s0 tclass=process permissive=0';
    const r = await run(explain, ['--policy', SAMPLE_POLICY, '-'], `${line}\n`);
    expect(r.code).toBe(0);
    expect(r.out.startsWith(`${line}\n\n\tWas caused by:\n\tMissing role allow rule.\n`)).toBe(true);
    expect(r.out).toMatch(/allow rule will not help/);
  });

  it('says in text output that explain --format module builds the module of the allow rule', async () => {
    const line =
      'type=AVC msg=audit(1763802000.5:9): avc:  denied  { read } for pid=1 comm="httpd" name="shadow" ' +
      'scontext=system_u:system_r:httpd_t:s0 tcontext=system_u:object_r:shadow_t:s0 tclass=file permissive=0';
    const r = await run(explain, ['--policy', SAMPLE_POLICY, '-'], `${line}\n`);
    expect(r.code).toBe(0);
    expect(r.out).toContain(
      '\tAllow access with a loadable module (avcstream explain --format module builds one):\n\tallow httpd_t shadow_t:file read;\n',
    );
    expect(r.out).not.toContain('audit2allow');
  });

  it('shows control characters of a forged line as visible escapes in text output', async () => {
    const line =
      'type=AVC msg=audit(1763802000.5:9): avc:  denied  { transition } for pid=1 comm="x\u001b[2J" ' +
      'scontext=user_u:user_r:user_t:s0 tcontext=system_u:system_r:passwd_t:s0 tclass=process permissive=0';
    const r = await run(explain, ['--policy', SAMPLE_POLICY, '-'], `${line}\n`);
    expect(r.out).not.toContain('\u001b');
    expect(r.out).toContain('comm="x\\x1b[2J"');
  });

  it('escapes C1 controls, bidi overrides and backslashes of a forged line in text output (fast and full parser)', async () => {
    const rest =
      'avc:  denied  { transition } for pid=1 comm="a\u009b2J\u202eevil\\x1b" ' +
      'scontext=user_u:user_r:user_t:s0 tcontext=system_u:system_r:passwd_t:s0 tclass=process permissive=0';
    // The first line takes the byte fast path, the syslog-wrapped one the full parser.
    const fast = `type=AVC msg=audit(1763802000.5:9): ${rest}`;
    const slow = `Jan 14 19:10:04 host kernel: audit(1763802000.5:10): ${rest}`;
    const r = await run(explain, ['--policy', SAMPLE_POLICY, '-'], `${fast}\n${slow}\n`);
    expect(r.code).toBe(0);
    expect(r.out).not.toMatch(/[\u0080-\u009f\u202e]/);
    expect(r.out.split('comm="a\\x9b2J\\u202eevil\\\\x1b"').length).toBe(3);
    // The explanation's own layout is unchanged: one tab-indented line per evidence line.
    expect(r.out).toContain('\n\tWas caused by:\n\tMissing role allow rule.\n');
  });

  it('fails cleanly on usage errors, missing files and corrupt policies', async () => {
    // No --policy, and a host without one (neither selinuxfs nor /etc/selinux/config).
    const none = await run(explain, [], '', mkdtempSync(join(tmpdir(), 'avc-root-')));
    expect(none.code).toBe(64);
    expect(none.err).toMatch(/^avcstream explain: no --policy given, and this host has no policy/);
    expect((await run(explain, ['--policy', SAMPLE_POLICY, '--format', 'xml'])).code).toBe(64);
    expect((await run(explain, ['--policy', '/nonexistent/policy.33'])).code).toBe(66);
    const bad = await run(explain, ['--policy', `${SAMPLE}/booleans`, '-'], REDHAT);
    expect(bad.code).toBe(65);
    expect(bad.err).toMatch(/AVC_ERR_POLICY_FORMAT/);
    // A file that is not a binary policy at all says so, not only its magic number.
    expect(bad.err).toContain('not an SELinux binary policy');
  });

  it('starts every usage error with one line naming the problem, then the usage (64)', async () => {
    const p = ['--policy', SAMPLE_POLICY];
    const cases: [string[], string][] = [
      [[...p, '--format', 'xml'], '--format must be text, ndjson or module'],
      [[...p, 'a.log', 'b.log'], 'expected at most one INPUT, got 2'],
      [[...p, '--bogus'], "Unknown option '--bogus'"],
      [['--policy'], "--policy <value>' argument missing"],
      [[...p, '--module', 'x', '-'], '--module needs --format module'],
      [
        [...p, '--format', 'module', '--module', 'module', '-'],
        'module name "module" is not a checkpolicy identifier',
      ],
      // The user's own text is escaped, so the line stays one visible line.
      [[...p, '--x\u001b[2J'], "Unknown option '--x\\x1b[2J'"],
    ];
    for (const [argv, problem] of cases) {
      const r = await run(explain, argv);
      expect(r.code, argv.join(' ')).toBe(64);
      expect(r.out).toBe('');
      const [first, blank, usage] = r.err.split('\n');
      expect(first, argv.join(' ')).toMatch(/^avcstream explain: /);
      expect(first).toContain(problem);
      expect([blank, usage]).toEqual(['', 'Usage: avcstream explain [--policy FILE] [options] [INPUT|-]']);
    }
  });
});

describe('avcstream policy on the sample', () => {
  it('info prints seinfo-style statistics', async () => {
    const r = await run(policy, ['info', SAMPLE_POLICY]);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/Policy Version:\s+33 \(MLS enabled\)/);
    expect(r.out).toMatch(/Handle unknown classes:\s+deny/);
    expect(r.out).toMatch(/Types:\s+37\s+Attributes:\s+11/);
  });

  it('query lists rules with indirect matching and boolean state', async () => {
    const off = await run(policy, [
      'query',
      SAMPLE_POLICY,
      '-s',
      'httpd_t',
      '-t',
      'user_home_t',
      '-c',
      'dir',
    ]);
    expect(off.code).toBe(0);
    expect(off.out).toMatch(
      /^allow httpd_t user_home_t:dir .*\[ httpd_read_user_content \]:True # disabled$/m,
    );
    const on = await run(policy, [
      'query',
      SAMPLE_POLICY,
      '-s',
      'httpd_t',
      '-t',
      'user_home_t',
      '-c',
      'dir',
      '--bool',
      'httpd_read_user_content=1',
    ]);
    expect(on.out).not.toMatch(/# disabled/);
    expect((await run(policy, ['query', SAMPLE_POLICY, '-s', 'nope_t'])).code).toBe(65);
    const none = await run(policy, ['info'], '', mkdtempSync(join(tmpdir(), 'avc-root-')));
    expect(none.code).toBe(64);
    expect(none.err).toMatch(/^avcstream policy: no FILE given, and this host has no policy/);
  });

  it('starts every usage error with one line naming the problem, then the usage (64)', async () => {
    const cases: [string[], string][] = [
      [[], 'missing subcommand: info or query'],
      [['infos', SAMPLE_POLICY], 'unknown subcommand "infos": info or query'],
      [['info', SAMPLE_POLICY, 'x'], 'expected at most one FILE, got 2'],
      [['query', SAMPLE_POLICY, '--bogus'], "Unknown option '--bogus'"],
      [['query', SAMPLE_POLICY, '-s'], "Option '-s, --source <value>' argument missing"],
      [['query', SAMPLE_POLICY, '--bool', 'httpd_read_user_content'], '--bool expects NAME=VALUE'],
      [
        ['info', SAMPLE_POLICY, '-s', 'httpd_t'],
        '-s, -t, -c, -p, --bool and the rule kinds apply to query only',
      ],
      // Escaped once: the ESC shows as \x1b, not as a JSON-doubled \\x1b.
      [['x\u001b[2J'], 'unknown subcommand "x\\x1b[2J": info or query'],
    ];
    for (const [argv, problem] of cases) {
      const r = await run(policy, argv);
      expect(r.code, argv.join(' ')).toBe(64);
      expect(r.out).toBe('');
      const [first, blank, usage] = r.err.split('\n');
      expect(first, argv.join(' ')).toMatch(/^avcstream policy: /);
      expect(first).toContain(problem);
      expect([blank, usage]).toEqual(['', 'Usage:']);
    }
  });

  it('query escapes names of a crafted policy (a type renamed to an OSC and erase sequence), info too', async () => {
    // The sample with user_home_t renamed, byte for byte, to ESC ] 0;PWN BEL ESC [ J (built here).
    const evil = '\u001b]0;PWN\u0007\u001b[J';
    const dir = mkdtempSync(join(tmpdir(), 'avc-evil-'));
    try {
      const bytes = readFileSync(SAMPLE_POLICY);
      const at = bytes.indexOf('user_home_t');
      expect(at).toBeGreaterThan(0);
      Buffer.from(evil, 'latin1').copy(bytes, at);
      const file = join(dir, 'evil\u001b[2J.33');
      writeFileSync(file, bytes);
      const q = await run(policy, ['query', file, '-s', 'httpd_t', '-c', 'file']);
      expect(q.code).toBe(0);
      expect(q.out).not.toMatch(/[\u0000-\u0009\u000b-\u001f\u007f-\u009f]/);
      expect(q.out).toContain('allow httpd_t \\x1b]0;PWN\\x07\\x1b[J:file ');
      // JSON keeps the name as data.
      const j = await run(policy, ['query', file, '-s', 'httpd_t', '-c', 'file', '--json']);
      expect(j.out.split('\n').some((l) => l !== '' && JSON.parse(l).text.includes(evil))).toBe(true);
      const info = await run(policy, ['info', file]);
      expect(info.code).toBe(0);
      expect(info.out).not.toMatch(/[\u0000-\u0009\u000b-\u001f\u007f-\u009f]/);
      expect(info.out).toContain('evil\\x1b[2J.33');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('a --policy that is not a regular file', { timeout: 60_000 }, () => {
  const BIN = resolve(import.meta.dirname, '../../bin/avcstream.js');
  const LINE =
    'type=AVC msg=audit(1763802000.5:9): avc:  denied  { transition } for pid=1 comm="x" ' +
    'scontext=user_u:user_r:user_t:s0 tcontext=system_u:system_r:passwd_t:s0 tclass=process permissive=0\n';

  /** A FIFO another process fills with the sample policy; `use` reads it (synchronously or not). */
  async function withFifo<T>(use: (path: string) => Promise<T>): Promise<T> {
    const dir = mkdtempSync(join(tmpdir(), 'avc-fifo-'));
    try {
      const fifo = join(dir, 'policy');
      execFileSync('mkfifo', [fifo]);
      const writer = spawn('sh', ['-c', 'cat "$1" > "$2"', 'sh', SAMPLE_POLICY, fifo], { stdio: 'ignore' });
      const done = new Promise((r) => writer.on('exit', r));
      const out = await use(fifo);
      await done;
      return out;
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }

  it('explain --policy /dev/zero fails with "policy file too large" and 65', async () => {
    const r = await run(explain, ['--policy', '/dev/zero', '-'], LINE);
    expect(r.code).toBe(65);
    expect(r.err).toBe('avcstream explain: policy file too large\n');
  });

  it('policy info and policy query on /dev/zero fail with "policy file too large" and 65', async () => {
    for (const argv of [
      ['info', '/dev/zero'],
      ['query', '/dev/zero', '-s', 'httpd_t'],
    ]) {
      const r = await run(policy, argv);
      expect(r.code).toBe(65);
      expect(r.err).toBe('avcstream policy: policy file too large\n');
    }
  });

  it('explain --policy FIFO within the bound works', async () => {
    const r = await withFifo((fifo) => run(explain, ['--policy', fifo, '-'], LINE));
    expect(r.code).toBe(0);
    expect(r.out).toContain('Missing role allow rule.');
  });

  it('policy info FIFO within the bound works', async () => {
    const r = await withFifo((fifo) => run(policy, ['info', fifo, '--json']));
    expect(r.code).toBe(0);
    expect(JSON.parse(r.out).types).toBeGreaterThan(0);
  });

  it('policy info /dev/stdin (a pipe) works', () => {
    // A shell pipe: node's own stdio pipes are sockets, which /dev/stdin cannot reopen.
    const r = spawnSync(
      'sh',
      [
        '-c',
        'cat "$1" | "$2" "$3" policy info /dev/stdin --json',
        'sh',
        SAMPLE_POLICY,
        process.execPath,
        BIN,
      ],
      { encoding: 'utf8' },
    );
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(JSON.parse(r.stdout).types).toBeGreaterThan(0);
  });
});

describe.runIf(runDebian)('avcstream explain on the Debian policy', { timeout: 120_000 }, () => {
  it("without --policy, replays against the host's policy (here Debian's, named by /etc/selinux/config)", async () => {
    const root = mkdtempSync(join(tmpdir(), 'avc-root-'));
    try {
      mkdirSync(join(root, 'etc/selinux/default/policy'), { recursive: true });
      writeFileSync(join(root, 'etc/selinux/config'), 'SELINUX=enforcing\nSELINUXTYPE=default\n');
      copyFileSync(DEBIAN, join(root, 'etc/selinux/default/policy/policy.33'));
      // The policy's file_contexts beside it, as /etc/selinux lays them out.
      const fcDir = join(root, 'etc/selinux/default/contexts/files');
      mkdirSync(fcDir, { recursive: true });
      for (const n of ['file_contexts', 'file_contexts.homedirs', 'file_contexts.subs_dist']) {
        copyFileSync(join(DEBIAN_FC_DIR, n), join(fcDir, n));
      }
      const r = await run(explain, ['--format', 'ndjson', '-'], REDHAT, root);
      expect(r.code).toBe(0);
      expect(r.err).toContain(
        `avcstream explain: no --policy: using ${join(root, 'etc/selinux/default/policy/policy.33')}`,
      );
      const given = await run(explain, ['--policy', DEBIAN, '--format', 'ndjson', '-'], REDHAT);
      expect(r.out).toBe(given.out);
      expect(JSON.parse(r.out).verdict).toBe('BOOLEAN');
      // policy info and query take the same default, as seinfo and sesearch do.
      const info = await run(policy, ['info', '--json'], '', root);
      expect(info.code).toBe(0);
      expect(info.out).toBe((await run(policy, ['info', DEBIAN, '--json'])).out);
      const q = ['-s', 'httpd_t', '-t', 'user_home_t', '-c', 'dir'];
      const query = await run(policy, ['query', ...q], '', root);
      expect(query.code).toBe(0);
      expect(query.out).toContain('allow ');
      expect(query.out).toBe((await run(policy, ['query', DEBIAN, ...q])).out);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });

  it('names httpd_read_user_content with its blast radius for the Red Hat public_html denial', async () => {
    const r = await run(explain, ['--policy', DEBIAN, '--format', 'ndjson', '-'], REDHAT);
    expect(r.code).toBe(0);
    const row = JSON.parse(r.out);
    expect(row.verdict).toBe('BOOLEAN');
    expect(row.booleans).toEqual([
      { name: 'httpd_read_user_content', current: false, blastRadius: { rules: 21, triples: 20 } },
    ]);
    // file_contexts labels ~/public_html httpd_user_content_t, which httpd_t may getattr: the directory
    // lost its label (created or moved without it), and restorecon, narrower than the boolean, comes first.
    expect(row.fixes).toEqual([
      { kind: 'restorecon', text: "restorecon -v '<path>'", verified: true },
      { kind: 'setsebool', text: 'setsebool -P httpd_read_user_content 1', verified: true },
    ]);
    expect(row.evidence.join('\n')).toContain(
      'file_contexts gives its path the type httpd_user_content_t (spec "/home/[^/]+/((www)|(web)|(public_html))(/.+)?")',
    );
    const text = await run(explain, ['--policy', DEBIAN, '-'], REDHAT);
    expect(text.out).toContain(
      "\tRestore the object's default label (narrower), or set the boolean:\n\t# restorecon -v '<path>'\n\t# setsebool -P httpd_read_user_content 1\n",
    );
    // Without file_contexts (turned off, or a policy that is not a host's): the boolean alone, as audit2why.
    const off = await run(
      explain,
      ['--policy', DEBIAN, '--no-file-contexts', '--format', 'ndjson', '-'],
      REDHAT,
    );
    expect(JSON.parse(off.out).fixes).toEqual([
      { kind: 'setsebool', text: 'setsebool -P httpd_read_user_content 1', verified: true },
    ]);
    expect(JSON.parse(off.out).booleans).toEqual(row.booleans);
  });
});

const CORPUS = resolve(import.meta.dirname, '../../../../../shared/corpus/audit');
const haveCorpus = existsSync(CORPUS);
if (!haveCorpus && !process.env.CI)
  console.warn(`SKIPPED: audit corpus ${CORPUS} is absent; set CI=1 to make this fail`);

const bindLine = (serial: number, port: number) =>
  `type=AVC msg=audit(1165963069.244:${serial}): avc:  denied  { name_bind } for  pid=21134 comm="httpd" src=${port} ` +
  'scontext=system_u:system_r:httpd_t:s0 tcontext=system_u:object_r:reserved_port_t:s0 tclass=tcp_socket\n';

const AUSEARCH = ['/usr/sbin/ausearch', '/sbin/ausearch'].find((p) => existsSync(p));
if (AUSEARCH === undefined && !process.env.CI)
  console.warn('SKIPPED: ausearch (Debian auditd) is absent; set CI=1 to make this fail');

describe.runIf(
  runDebian && (haveCorpus || Boolean(process.env.CI)) && (AUSEARCH !== undefined || Boolean(process.env.CI)),
)('avcstream explain on ausearch -i output (Debian)', { timeout: 120_000 }, () => {
  it('explains `ausearch -m avc -i` output as it explains the raw records, as audit2why does', async () => {
    const file = join(CORPUS, 'selinux-sepolgen/audit.log');
    const search = (mode: string) =>
      execFileSync(AUSEARCH as string, ['-if', file, '-m', 'AVC,USER_AVC', mode], {
        env: { PATH: process.env.PATH ?? '/usr/bin:/bin', LC_ALL: 'C' },
        encoding: 'utf8',
        maxBuffer: 64 * 1024 * 1024,
      });
    const rows = async (text: string) => {
      const r = await run(explain, ['--policy', DEBIAN, '--format', 'ndjson', '-'], text);
      expect(r.code).toBe(0);
      expect(r.err).not.toMatch(/[1-9][0-9]* malformed/);
      // The line numbers differ between the two outputs; ausearch -i lists an event's records in
      // another order, so the rows are compared as a multiset. It prints the path of an abstract unix
      // socket (hex 00...) without its leading NUL.
      return r.out
        .trim()
        .split('\n')
        .map((l) => {
          const { line: _line, ...rest } = JSON.parse(l);
          if (typeof rest.path === 'string') rest.path = rest.path.replace(/^\u0000/, '');
          return JSON.stringify(rest);
        })
        .sort();
    };
    const raw = await rows(search('--raw'));
    expect(raw.length).toBeGreaterThan(1000);
    expect(await rows(search('-i'))).toEqual(raw);
  });
});

describe.runIf(runDebian)('avcstream explain: label and port advice (Debian)', { timeout: 120_000 }, () => {
  it.runIf(haveCorpus || Boolean(process.env.CI))(
    'offers semanage port -a -t http_port_t -p tcp 81 for setroubleshoot bind_ports.log, before the allow rule',
    async () => {
      const file = join(CORPUS, 'setroubleshoot/bind_ports.log');
      const r = await run(explain, ['--policy', DEBIAN, '--format', 'ndjson', file]);
      expect(r.code).toBe(0);
      const row = JSON.parse(r.out);
      expect(row.verdict).toBe('TE_MISSING');
      expect(row.fixes).toContainEqual({
        kind: 'semanage',
        text: 'semanage port -a -t http_port_t -p tcp 81',
        verified: true,
      });
      expect(row.fixes.at(-1)).toEqual({
        kind: 'allow',
        text: 'allow httpd_t reserved_port_t:tcp_socket name_bind;',
        verified: true,
      });
      const text = await run(explain, ['--policy', DEBIAN, file]);
      expect(text.out).toContain('semanage port -a -t http_port_t -p tcp 81');
    },
  );

  it('writes the port of each record, not the one of the first record with the same contexts', async () => {
    const r = await run(
      explain,
      ['--policy', DEBIAN, '--format', 'ndjson', '-'],
      bindLine(1, 81) + bindLine(2, 8081) + bindLine(3, 81),
    );
    const ports = r.out
      .trim()
      .split('\n')
      .map((l) => (JSON.parse(l).fixes[0].text as string).split(' ').at(-1));
    expect(ports).toEqual(['81', '8081', '81']);
  });

  it('offers the port label before the boolean of a BOOLEAN port denial, the verdict unchanged (sshd_t on 2222)', async () => {
    const line = bindLine(1, 2222)
      .replace('httpd_t', 'sshd_t')
      .replace('reserved_port_t', 'unreserved_port_t');
    const r = await run(explain, ['--policy', DEBIAN, '--format', 'ndjson', '-'], line);
    const row = JSON.parse(r.out);
    expect(row.verdict).toBe('BOOLEAN');
    expect(row.booleans.map((b: { name: string }) => b.name)).toEqual(['sshd_port_forwarding']);
    expect(row.fixes.map((f: { text: string }) => f.text)).toEqual([
      'semanage port -a -t ssh_port_t -p tcp 2222',
      'semanage port -a -t xserver_port_t -p tcp 2222',
      'setsebool -P sshd_port_forwarding 1',
    ]);
    const text = await run(explain, ['--policy', DEBIAN, '-'], line);
    expect(text.out).toContain(
      '\tLabel the port with one of the semanage commands (narrower), or set the boolean:\n' +
        '\t# semanage port -a -t ssh_port_t -p tcp 2222\n',
    );
    // Every command line carries the root prompt (audit2why's "# setsebool"), so pasting the block runs
    // none of them by accident and all read alike.
    expect(text.out).toContain('\t# setsebool -P sshd_port_forwarding 1\n');
  });

  it('says in text output that the label comes first, and marks a command without the port unverified', async () => {
    const r = await run(explain, ['--policy', DEBIAN, '-'], bindLine(1, 81).replace(' src=81', ''));
    expect(r.out).toContain(
      'Label the object or port with one of the semanage commands, or as a last resort load a module (avcstream explain --format module):',
    );
    expect(r.out).toContain('\t# semanage port -a -t http_port_t -p tcp <port>   (unverified)\n');
    expect(r.out).toContain('\tallow httpd_t reserved_port_t:tcp_socket name_bind;\n');
  });
});

function corpusFiles(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...corpusFiles(p));
    else out.push(p);
  }
  return out;
}

describe('fastAvc', { timeout: 120_000 }, () => {
  it('reads the common raw AVC and USER_AVC forms', () => {
    expect(fastAvc(REDHAT.trim())).toEqual({
      node: null,
      serial: 100,
      denied: true,
      perms: ['getattr'],
      scontext: 'system_u:system_r:httpd_t:s0',
      tcontext: 'unconfined_u:object_r:user_home_t:s0',
      tclass: 'dir',
      permissive: false,
      port: null,
    });
    const user =
      'node=h1 type=USER_AVC msg=audit(1700000000.1:7): pid=1 uid=0 auid=4294967295 ses=4294967295 subj=system_u:system_r:init_t:s0 msg=\'avc:  denied  { start } for auid=n/a uid=0 gid=0 path="/usr/lib/systemd/system/x.service" cmdline="" scontext=system_u:system_r:init_t:s0 tcontext=system_u:object_r:systemd_unit_file_t:s0 tclass=service permissive=0  exe="/usr/lib/systemd/systemd" sauid=0 hostname=? addr=? terminal=?\'';
    expect(fastAvc(user)).toMatchObject({ node: 'h1', serial: 7, perms: ['start'], tclass: 'service' });
  });

  it('leaves ambiguous lines to the full parser', () => {
    // A quoted value pretending to carry the contexts, several records on a line, a syslog prefix.
    const spoof =
      'type=USER_AVC msg=audit(1.2:3): pid=1 msg=\'avc:  denied  { x } for cmdline="a scontext=u:r:t:s0" scontext=u:r:t:s0 tcontext=u:r:t:s0 tclass=c\' type=AVC';
    expect(fastAvc(spoof)).toBeNull();
    expect(fastAvc(`${REDHAT.trim()} type=SYSCALL msg=audit(1700000000.123:100): arch=c000003e`)).toBeNull();
    expect(fastAvc(`Nov 22 10:00:00 host audit: ${REDHAT.trim()}`)).toBeNull();
    expect(fastAvc(REDHAT.trim().replace('scontext=', 'scontext=a scontext='))).toBeNull();
  });

  it('reads the port of name_bind / name_connect socket denials (src= / dest=, src= on old kernels) as avcPortOf does', () => {
    const bind = bindLine(5, 81).trim();
    expect(fastAvc(bind)?.port).toBe(81);
    const connect = bind.replace('name_bind', 'name_connect').replace('tcp_socket', 'sctp_socket');
    // Old kernels wrote a name_connect's port as src= (no dest= field).
    expect(fastAvc(connect)?.port).toBe(81);
    expect(fastAvc(connect.replace('src=81', 'src=81 dest=0x9'))?.port).toBeNull();
    expect(fastAvc(connect.replace('src=81', 'dest=5432'))?.port).toBe(5432);
    expect(fastAvc(bind.replace('name_bind', 'node_bind'))?.port).toBeNull();
    expect(fastAvc(bind.replace('tcp_socket', 'rawip_socket'))?.port).toBeNull();
    for (const bad of ['081', '65536', '0x51', '8.1', ''])
      expect(fastAvc(bind.replace('src=81', `src=${bad}`))?.port, bad).toBeNull();
    expect(fastAvc(bind.replace('src=81', 'src=81 src=82'))?.port).toBe(81);
  });

  it.runIf(haveCorpus || Boolean(process.env.CI))(
    'agrees with @avcstream/audit parseLine on every corpus AVC line',
    () => {
      let fast = 0;
      let total = 0;
      for (const file of corpusFiles(CORPUS)) {
        const text = readFileSync(file, 'utf8');
        for (const line of text.split('\n')) {
          if (!line.includes('avc:')) continue;
          total++;
          const f = fastAvc(line);
          if (f === null) continue;
          fast++;
          const r = parseLine(line, 1);
          expect(Array.isArray(r), line).toBe(true);
          const recs = (r as Exclude<typeof r, null | { kind: 'parse-error' }>).filter((x) => x.avc);
          expect(recs.length, line).toBe(1);
          const rec = recs[0]!;
          const avc = rec.avc!;
          expect(
            {
              node: rec.node,
              serial: rec.serial,
              denied: avc.decision === 'denied',
              perms: avc.perms,
              scontext: avc.scontext.raw,
              tcontext: avc.tcontext.raw,
              tclass: avc.tclass,
              permissive: avc.permissive,
              port: avcPortOf(rec),
            },
            line,
          ).toEqual(f);
        }
      }
      expect(total).toBeGreaterThan(1000);
      expect(fast).toBeGreaterThan(total / 2);
    },
  );
});

describe('RenderedBytes', () => {
  const line = (perms: string, s: string, t: string, c: string, px: string) =>
    Buffer.from(
      `type=AVC msg=audit(1.2:3): avc:  denied  { ${perms} } for pid=1 scontext=${s} tcontext=${t} tclass=${c}${px}`,
    );
  // Records differing in one field each (or in how the bytes split between fields), all given one hash.
  const lines = [
    line('read', 'u:r:a_t:s0', 'u:r:b_t:s0', 'file', ' permissive=0'),
    line('read', 'u:r:a_t:s0', 'u:r:b_t:s0', 'file', ' permissive=1'),
    line('read', 'u:r:a_t:s0', 'u:r:b_t:s0', 'file', ''),
    line('read write', 'u:r:a_t:s0', 'u:r:b_t:s0', 'file', ''),
    line('read', 'u:r:a_t:s0', 'u:r:b_t:s0', 'dir', ''),
    line('read', 'u:r:a_t:s0', 'u:r:c_t:s0', 'file', ''),
    line('read', 'u:r:a_t:s0:c1', 'u:r:b_t:s0', 'file', ''),
    line('read', 'u:r:a_t:s0', 'u:r:a_t:s0', 'file', ''),
  ];
  const offsets = lines.map((b) => avcOffsets(b) as Int32Array);
  const bodyOf = (c: RenderedBytes, slot: number) => {
    const out = Buffer.alloc(c.bodyLength(slot));
    c.copyBody(slot, out, 0);
    return out.toString();
  };

  it('tells apart records whose hashes collide and returns each body as added', () => {
    const c = new RenderedBytes(100, 1 << 20);
    lines.forEach((b, i) => {
      expect(c.find(b, offsets[i]!, 7)).toBe(-1);
      c.add(b, offsets[i]!, 7, `{body ${i} é`, 0x2c, 0x0a);
    });
    lines.forEach((b, i) => {
      const slot = c.find(b, offsets[i]!, 7);
      expect(slot).toBeGreaterThanOrEqual(0);
      expect(bodyOf(c, slot)).toBe(`,body ${i} é\n`);
    });
    // The same record found from another line (other pid, serial) holding it.
    const again = line('read', 'u:r:a_t:s0', 'u:r:b_t:s0', 'dir', '');
    expect(bodyOf(c, c.find(again, avcOffsets(again)!, 7))).toBe(',body 4 é\n');
  });

  it('keeps bodies larger than an arena chunk, and entries added after a clear reuse the chunks', () => {
    const c = new RenderedBytes(4, 1 << 30);
    const big = (i: number) => `${i}${'é'.repeat(3_000_000)}`; // 6 MB: more than a 4 MiB chunk
    const bodies = [`small 0`, big(1), `small 2`, `small 3`, big(4), `small 5`, big(6), `small 7`];
    bodies.forEach((body, i) => {
      c.add(lines[i]!, offsets[i]!, i, body, -1, -1);
      // The last added, and those added since the last clear (every 4 entries), are found intact.
      for (let k = i - (i % 4); k <= i; k++)
        expect(bodyOf(c, c.find(lines[k]!, offsets[k]!, k))).toBe(bodies[k]);
    });
  });

  it('is bounded: cleared when full, by entries or by bytes', () => {
    const byCount = new RenderedBytes(3, 1 << 20);
    const byBytes = new RenderedBytes(100, 64);
    lines.slice(0, 4).forEach((b, i) => {
      byCount.add(b, offsets[i]!, i, `body ${i}`, -1, -1);
      byBytes.add(b, offsets[i]!, i, `body ${i}`, -1, -1);
    });
    expect(lines.slice(0, 4).map((b, i) => byCount.find(b, offsets[i]!, i) >= 0)).toEqual([
      false,
      false,
      false,
      true,
    ]);
    expect(lines.slice(0, 4).map((b, i) => byBytes.find(b, offsets[i]!, i) >= 0)).toEqual([
      false,
      false,
      false,
      true,
    ]);
  });
});

describe('avcstream explain: ioctl commands and allowxperm rules', { timeout: 60_000 }, () => {
  // allow web_t web_content_t:file ioctl; allowxperm web_t web_content_t:file ioctl { 0x5401 0x8900-0x89ff };
  const XPERM_POLICY = resolve(
    import.meta.dirname,
    '../../../../libs/selinux-access/fixtures/TE_MISSING/policy.33',
  );
  const line = (serial: number, cmd: string) =>
    `type=AVC msg=audit(1763805000.1:${serial}): avc:  denied  { ioctl } for  pid=811 comm="webd" ` +
    `path="/srv/www/index.html" dev="vda1" ino=4101 ioctlcmd=${cmd} scontext=system_u:system_r:web_t ` +
    'tcontext=system_u:object_r:web_content_t tclass=file permissive=0\n';

  it('replays the command: unlisted ones are TE_MISSING with an allowxperm fix, never mixed up in the cache', async () => {
    const input = line(1, '0x5413') + line(2, '0x5401') + line(3, '0x5413') + line(4, '0x8927');
    const r = await run(explain, ['--policy', XPERM_POLICY, '--format', 'ndjson', '-'], input);
    expect(r.code).toBe(0);
    const rows = r.out
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { verdict: string; fixes: Array<{ text: string; verified: boolean }> });
    expect(rows.map((x) => x.verdict)).toEqual(['TE_MISSING', 'ALLOWED', 'TE_MISSING', 'ALLOWED']);
    expect(rows[0]?.fixes).toEqual([
      { kind: 'allow', text: 'allowxperm web_t web_content_t:file ioctl 0x5413;', verified: true },
    ]);
  });

  it('reads the command names of ausearch -i (ioctlcmd=TIOCGWINSZ) as their numbers', async () => {
    const raw = line(1, '0x5413') + line(2, '0x5401') + line(3, '0x8927');
    const named = [
      [1, 'TIOCGWINSZ'],
      [2, 'TCGETS'],
      [3, 'SIOCGIFHWADDR'],
    ]
      .map(([serial, name]) =>
        line(serial as number, name as string).replace(
          /msg=audit\([^)]*\):/,
          `msg=audit(11/22/25 09:50:00.100:${serial}) :`,
        ),
      )
      .join('');
    const a = await run(explain, ['--policy', XPERM_POLICY, '--format', 'ndjson', '-'], raw);
    const b = await run(explain, ['--policy', XPERM_POLICY, '--format', 'ndjson', '-'], named);
    expect(b.code).toBe(0);
    // The same rows but for the line numbers and the stamps (the named lines get another one).
    const same = (l: string) => l.replace(/"line":\d+,/, '').replace(/"time":"[^"]*",/, '');
    expect(b.out.split('\n').map(same)).toEqual(a.out.split('\n').map(same));
    expect(JSON.parse(b.out.split('\n')[0] as string).verdict).toBe('TE_MISSING');
  });
});

describe('explain --format ndjson: time, comm, exe and path of each record', { timeout: 120_000 }, () => {
  const explainer = createExplainer(readPolicy(readFileSync(SAMPLE_POLICY)), { memoize: false });
  const both = (text: string) => ({
    fast: explainBytes(explainer, 'ndjson', Buffer.from(text, 'latin1'), {
      fastPath: true,
      recordFields: true,
    }),
    slow: explainBytes(explainer, 'ndjson', Buffer.from(text, 'latin1'), {
      fastPath: false,
      recordFields: true,
    }),
  });
  const tail = (row: Record<string, unknown>) => ({
    time: row.time,
    comm: row.comm,
    exe: row.exe,
    path: row.path,
  });
  const rows = (out: string) =>
    out
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
  // Lines are given as latin1 strings: one character per byte, so a test can write any byte (\xff).
  // `fields` go before the contexts, as the kernel writes them; `after` after them.
  const avcLine = (serial: number, fields: string, stamp = '1700000000.123', after = '') =>
    `type=AVC msg=audit(${stamp}:${serial}): avc:  denied  { read } for  pid=1 ${fields} ` +
    `scontext=system_u:system_r:httpd_t:s0 tcontext=system_u:object_r:shadow_t:s0 tclass=file permissive=0${after}`;
  const hex = (s: string) => Buffer.from(s, 'utf8').toString('hex').toUpperCase();

  it('appends time, comm, exe and path (or name) after the existing keys, per record despite the cache', async () => {
    const text =
      `${avcLine(1, 'comm="httpd" exe="/usr/sbin/httpd" name="shadow"')}\n` +
      `${avcLine(2, 'comm="cat" path="/etc/shadow" name="shadow"', '1700000001.5')}\n` +
      `${avcLine(3, 'ino=1')}\n`;
    for (const out of Object.values(both(text))) {
      const r = rows(out);
      expect(Object.keys(r[0] as object)).toEqual([
        'line',
        'node',
        'serial',
        'scontext',
        'tcontext',
        'tclass',
        'perms',
        'verdict',
        'booleans',
        'evidence',
        'fixes',
        'time',
        'comm',
        'exe',
        'path',
      ]);
      expect(r.map(tail)).toEqual([
        { time: '2023-11-14T22:13:20.123Z', comm: 'httpd', exe: '/usr/sbin/httpd', path: 'shadow' },
        { time: '2023-11-14T22:13:21.005Z', comm: 'cat', exe: null, path: '/etc/shadow' },
        { time: '2023-11-14T22:13:20.123Z', comm: null, exe: null, path: null },
      ]);
      // The same denial: the cached body is the same, the record's own fields are not.
      expect(r.map((x) => x.verdict)).toEqual(['TE_MISSING', 'TE_MISSING', 'TE_MISSING']);
    }
    // Through the command too, with --record-fields; without it a row ends at fixes (the keys).
    const plain = await run(explain, ['--policy', SAMPLE_POLICY, '--format', 'ndjson', '-'], REDHAT);
    expect(Object.keys(JSON.parse(plain.out)).at(-1)).toBe('fixes');
    for (const fastPath of [true, false]) {
      const out = explainBytes(explainer, 'ndjson', Buffer.from(text, 'latin1'), { fastPath });
      expect(rows(out).map((x) => Object.keys(x).at(-1))).toEqual(['fixes', 'fixes', 'fixes']);
    }
    const r = await run(
      explain,
      ['--policy', SAMPLE_POLICY, '--format', 'ndjson', '--record-fields', '-'],
      REDHAT,
    );
    expect(tail(JSON.parse(r.out))).toEqual({
      time: '2023-11-14T22:13:20.123Z',
      comm: 'httpd',
      exe: null,
      path: '/home/user/public_html',
    });
  });

  it('decodes hex values as the parser does and JSON-escapes hostile ones, fast path and full parser alike', () => {
    const cases: [string, Record<string, string | null>][] = [
      // Hex-encoded (the kernel's form for values with spaces, quotes or control bytes), valid UTF-8.
      [
        `comm=${hex('a "b" \\ c')} exe=${hex('/tmp/x y')} path=${hex('/tmp/\u001b[2J\u2028é')}`,
        {
          comm: 'a "b" \\ c',
          exe: '/tmp/x y',
          path: '/tmp/\u001b[2J\u2028é',
        },
      ],
      // Hex that is not UTF-8 stays hex, as the parser keeps it; an odd length or a non-hex digit is text.
      ['comm=FF41 exe=ABC name=0G', { comm: 'FF41', exe: 'ABC', path: '0G' }],
      // Quoted values are never hex-decoded; raw bytes that are not UTF-8 read as U+FFFD.
      [
        'comm="414243" path="/srv/\xff\xfe/x" exe="\xe9t\xe9"',
        { comm: '414243', exe: '\ufffdt\ufffd', path: '/srv/\ufffd\ufffd/x' },
      ],
      // Backslashes and quotes of a raw value, UTF-8 text.
      ['comm=a\\b\\"c name="d\\\\e" exe=\xc3\xa9', { comm: null, exe: null, path: null }],
      ['comm=a\\b name="d\\\\e" exe=\xc3\xa9', { comm: 'a\\b', exe: 'é', path: 'd\\\\e' }],
      // The first of repeated keys, as the parser's fields keep it; an empty value.
      ['comm="first" comm="second" path= name="n"', { comm: 'first', exe: null, path: '' }],
      ['exe=(null) comm=?', { comm: '?', exe: '(null)', path: null }],
    ];
    for (const [fields, want] of cases) {
      const line = avcLine(7, fields);
      const { fast, slow } = both(`${line}\n`);
      expect(fast, fields).toBe(slow);
      if (want.comm === null && want.exe === null && want.path === null) continue;
      // These are the fast path's own lines (the test is not vacuous).
      expect(avcOffsets(Buffer.from(line, 'latin1')), fields).not.toBeNull();
      expect(tail(JSON.parse(fast)), fields).toEqual({ time: '2023-11-14T22:13:20.123Z', ...want });
      // Every value is one JSON string: nothing leaks out of it (a row is one line of valid JSON).
      expect(fast.trim().split('\n')).toHaveLength(1);
    }
  });

  it('gives the same rows on the fast path and the full parser for odd and hostile lines', () => {
    const user =
      'type=USER_AVC msg=audit(1700000000.1:7): pid=1 uid=0 auid=4294967295 ses=4294967295 subj=system_u:system_r:init_t:s0 msg=\'avc:  denied  { read } for auid=n/a uid=0 gid=0 path="/usr/lib/systemd/system/x.service" cmdline="" scontext=system_u:system_r:httpd_t:s0 tcontext=system_u:object_r:shadow_t:s0 tclass=file permissive=0  exe="/usr/lib/systemd/systemd" sauid=0 hostname=? addr=? terminal=?\'';
    const lines = [
      user,
      user.replace('exe="/usr/lib/systemd/systemd"', `exe=${hex('/bin/a b')}`),
      user.replace('pid=1 ', 'pid=1 comm=outer '),
      user.replace('pid=1 ', 'pid=1 exe=outer '),
      user.replace('pid=1 ', 'pid=1 xmsg=x '),
      user.replace("msg='avc:", "xmsg='avc:"),
      user.replace('exe="/usr/lib/systemd/systemd"', 'exe="/a\'b"'),
      user.replace('exe="/usr/lib/systemd/systemd"', 'exe=12:'),
      user.replace('exe="/usr/lib/systemd/systemd"', 'exe=/x\x1dY'),
      `${user}\x1dUID="root"`,
      `${user} comm=after`,
      avcLine(1, 'comm="x"\tcomm="y"'),
      avcLine(1, '\tcomm="tab" comm="space"'),
      avcLine(1, 'old comm="old" comm="new"'),
      avcLine(1, '(comm=paren) comm="plain"'),
      avcLine(1, '="x comm=evil" comm="plain"'),
      avcLine(1, 'comm="a\x1db" exe=x\x1dY'),
      avcLine(1, 'exe=x\x1dy comm="z"'),
      avcLine(1, 'exe=x \x1dcomm="z"'),
      avcLine(1, 'exe=x \x1dCOMM="z" comm="z"'),
      // After the contexts: a stray GS (the parser reads on), a GS inside quotes (the parser's end of
      // later values moves on), the ENRICHED part (the parser stops).
      avcLine(1, 'pid=2', undefined, ' \x1dcomm="after"'),
      avcLine(1, 'pid=2', undefined, ' comm="a\x1db" exe=x\x1dY'),
      avcLine(1, 'pid=2', undefined, ' \x1dUID="root" comm="enriched"'),
      avcLine(1, 'comm="x"', '1700000000.1234'),
      avcLine(1, 'comm="x"', '17000000000000.1'),
      avcLine(1, 'comm="x"', '1700000000.'),
      avcLine(12345678901, 'comm="x"'),
      `node=h1 ${avcLine(1, 'comm="node"')}`,
      `${avcLine(1, 'comm="crlf"')}\r`,
      avcLine(1, 'comm="unterminated'),
    ];
    const text = `${lines.join('\n')}\n`;
    const { fast, slow } = both(text);
    expect(fast).toBe(slow);
    expect(rows(fast).length).toBeGreaterThan(15);
  });

  it('gives the same rows on the fast path and the full parser for random lines (property)', () => {
    // A seeded generator of AVC lines from tokens the two readers might split differently.
    let seed = 12345;
    const rnd = (n: number) => {
      seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
      return (seed >>> 8) % n;
    };
    const pick = <T>(xs: T[]): T => xs[rnd(xs.length)] as T;
    const values = [
      '"q"',
      '"a b"',
      '"x\\y"',
      '"\xff"',
      '4142',
      'FF',
      'abc',
      '"4142"',
      '',
      '"',
      '"\x1d"',
      "'s'",
      'v:',
      '12:',
      '(n)',
      '?',
    ];
    const keys = [
      'comm',
      'exe',
      'path',
      'name',
      'pid',
      'dev',
      'ino',
      'old',
      'new',
      '(comm',
      '',
      'for',
      'src',
      'dest',
    ];
    const seps = [' ', ' ', ' ', '  ', '\t', ' \x1d', ' \x1dX', '\x1d'];
    let fastCount = 0;
    const lines: string[] = [];
    for (let i = 0; i < 3000; i++) {
      let f = '';
      const n = 1 + rnd(5);
      for (let k = 0; k < n; k++) {
        const key = pick(keys);
        f += rnd(8) === 0 ? key : `${key}=${pick(values)}`;
        f += pick(seps);
      }
      // The tokens before the contexts, after them, or both.
      const cut = rnd(3) === 0 ? 0 : rnd(2) === 0 ? f.length : rnd(f.length + 1);
      const line = avcLine(
        i + 1,
        f.slice(0, cut).trimEnd(),
        `1700000000.${rnd(1000)}`,
        ` ${f.slice(cut)}`.trimEnd(),
      );
      if (avcOffsets(Buffer.from(line, 'latin1')) !== null) fastCount++;
      lines.push(line);
    }
    const text = `${lines.join('\n')}\n`;
    const { fast, slow } = both(text);
    const f = fast.split('\n');
    const s = slow.split('\n');
    for (let i = 0; i < Math.max(f.length, s.length); i++) expect(f[i], `row ${i}`).toBe(s[i]);
    expect(fastCount).toBeGreaterThan(400);
  });

  it.runIf(haveCorpus || Boolean(process.env.CI))(
    'gives the same rows on the fast path and the full parser for every corpus AVC line',
    () => {
      let n = 0;
      for (const file of corpusFiles(CORPUS)) {
        const bytes = readFileSync(file);
        if (!bytes.includes('avc:')) continue;
        const fast = explainBytes(explainer, 'ndjson', bytes, { fastPath: true, recordFields: true });
        const slow = explainBytes(explainer, 'ndjson', bytes, { fastPath: false, recordFields: true });
        expect(fast, file).toBe(slow);
        n += fast.split('\n').length - 1;
      }
      expect(n).toBeGreaterThan(1000);
    },
  );
});
