import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { PassThrough, Readable, Writable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { report } from './report.ts';
import { run } from './run.ts';

// Real third-party logs and the host's policy (the oracles of the lead's environment); required under CI.
const CORPUS = resolve(import.meta.dirname, '../../../../../shared/corpus/audit');
const HOST_POLICY = '/etc/selinux/default/policy/policy.33';
const IN_CI = process.env.CI !== undefined && process.env.CI !== '' && process.env.CI !== 'false';
const CORPUS_READY = existsSync(CORPUS) && existsSync(HOST_POLICY);
if (!existsSync(HOST_POLICY) && !IN_CI) {
  console.warn(
    `SKIPPED: the host policy ${HOST_POLICY} is absent (selinux-policy-default); set CI=1 to make this fail`,
  );
} else if (!CORPUS_READY && !IN_CI) {
  console.warn(`SKIPPED: the audit corpus ${CORPUS} is absent; set CI=1 to make this fail`);
}

/** Runs a command with captured output. */
async function capture(
  command: typeof run,
  argv: string[],
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
  const code = await command(argv, { stdout, stderr, stdin: Readable.from([]) });
  return { code, out, err };
}

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'avc-run-'));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

const denial = (serial: number, type: string) =>
  `type=AVC msg=audit(1763802001.000:${serial}): avc:  denied  { read } for  pid=1 comm="cat" name="x" scontext=system_u:system_r:${type}:s0 tcontext=system_u:object_r:user_home_t:s0 tclass=file permissive=0\n`;

describe('avcstream run --once', () => {
  it('stops writing when stdout is a closed pipe (EPIPE) and still stores the run and releases the lock', async () => {
    writeFileSync(join(dir, 'audit.log'), denial(1, 'httpd_t') + denial(2, 'sshd_t') + denial(3, 'cron_t'));
    let writes = 0;
    // `| head -1`: the first write fails with EPIPE, as the reader has gone.
    const stdout = new Writable({
      write(_chunk, _enc, cb) {
        writes++;
        cb(Object.assign(new Error('write EPIPE'), { code: 'EPIPE' }));
      },
    });
    const stderr = new PassThrough();
    const errText: Buffer[] = [];
    stderr.on('data', (b: Buffer) => errText.push(b));
    const state = join(dir, 'state');
    const code = await run(
      [
        '--once',
        '--input',
        join(dir, 'audit.log'),
        '--policy',
        'none',
        '--booleans',
        'none',
        '--state-dir',
        state,
      ],
      { stdout, stderr, stdin: Readable.from([]) },
    );
    expect(code).toBe(0);
    expect(writes).toBe(1);
    expect(Buffer.concat(errText).toString()).toBe('');
    expect(existsSync(join(state, 'report.txt'))).toBe(true);
    expect(existsSync(join(state, 'lock'))).toBe(false);
  });

  it('quotes an unknown option escaped (64): an ESC in it cannot drive the terminal', async () => {
    const stderr = new PassThrough();
    const errText: Buffer[] = [];
    stderr.on('data', (b: Buffer) => errText.push(b));
    const code = await run(['--x\u001b[2J'], { stdout: new PassThrough(), stderr, stdin: Readable.from([]) });
    expect(code).toBe(64);
    const text = Buffer.concat(errText).toString();
    expect(text).toContain('--x\\x1b[2J');
    expect(text).not.toContain('\u001b');
  });

  it('exits 78 with a clear message for a state dir under /proc instead of spinning in mkdir', async () => {
    writeFileSync(join(dir, 'audit.log'), denial(1, 'httpd_t'));
    const stderr = new PassThrough();
    const errText: Buffer[] = [];
    stderr.on('data', (b: Buffer) => errText.push(b));
    const code = await run(
      [
        '--once',
        '--input',
        join(dir, 'audit.log'),
        '--policy',
        'none',
        '--booleans',
        'none',
        '--state-dir',
        '/proc/avcstream-xx/state',
      ],
      { stdout: new PassThrough(), stderr, stdin: Readable.from([]) },
    );
    expect(code).toBe(78);
    expect(Buffer.concat(errText).toString()).toBe(
      'avcstream run: bad state dir /proc/avcstream-xx/state: on a proc filesystem (/proc), not a regular one\n',
    );
  });
});

/** `avcstream run --once` on `input` without a policy or booleans, its state in `stateDir`. */
function runOnce(input: string, stateDir: string) {
  return capture(run, [
    '--once',
    '--input',
    input,
    '--policy',
    'none',
    '--booleans',
    'none',
    '--state-dir',
    stateDir,
  ]);
}

describe('avcstream run report', () => {
  it('has the title avcstream report gives the same log', async () => {
    writeFileSync(join(dir, 'audit.log'), denial(1, 'httpd_t'));
    const state = join(dir, 'state');
    const r = await runOnce(join(dir, 'audit.log'), state);
    expect(r.code).toBe(0);
    const offline = await capture(report, [join(dir, 'audit.log')]);
    const title = (text: string) => text.split('\n')[0];
    expect(title(offline.out)).toBe('# Begin SELinux audit report');
    expect(title(readFileSync(join(state, 'report.txt'), 'utf8'))).toBe(title(offline.out));
    const html = (await capture(report, ['--format', 'html', join(dir, 'audit.log')])).out;
    const titleTag = (h: string) => /<title>([^<]*)<\/title>/.exec(h)?.[1];
    expect(titleTag(readFileSync(join(state, 'report.html'), 'utf8'))).toBe(titleTag(html));
  });
});

describe('avcstream run: bad lines', () => {
  it('dead-letters every malformed line of the bundled sample with its bytes, the cut AVC decisions too', async () => {
    const sample = join(import.meta.dirname, '../../sample/audit.log');
    const state = join(dir, 'state');
    const r = await runOnce(sample, state);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/4 malformed lines/);
    const text = readFileSync(sample);
    const lineAt = (offset: number) => {
      const nl = text.indexOf(0x0a, offset);
      return text.subarray(offset, nl < 0 ? text.length : nl);
    };
    const dead = readFileSync(join(state, 'deadletter.ndjson'), 'utf8')
      .split('\n')
      .filter((l) => l !== '')
      .map(
        (l) =>
          JSON.parse(l) as {
            reason: { code: string };
            raw: string;
            source: { line: number; offset: number };
          },
      );
    // As many entries as malformed lines counted: two lines that are not audit records, and two AVC records
    // whose decision did not parse (cut off; no tcontext), which stay in their events as well.
    expect(
      dead.map((d) => [d.source.line, d.reason.code]).sort((a, b) => Number(a[0]) - Number(b[0])),
    ).toEqual([
      [94, 'AVC_ERR_AUDIT_AVC_BODY'],
      [95, 'AVC_ERR_AUDIT_BAD_STAMP'],
      [153, 'AVC_ERR_AUDIT_NO_TYPE'],
      [154, 'AVC_ERR_AUDIT_AVC_BODY'],
    ]);
    for (const d of dead) expect(Buffer.from(d.raw, 'base64')).toEqual(lineAt(d.source.offset));
  });
});

describe('avcstream run alerts', () => {
  it('show permissive=1 on a denial logged in permissive mode', async () => {
    writeFileSync(
      join(dir, 'audit.log'),
      denial(1, 'httpd_t').replace('permissive=0', 'permissive=1') + denial(2, 'sshd_t'),
    );
    const r = await runOnce(join(dir, 'audit.log'), join(dir, 'state'));
    expect(r.code).toBe(0);
    const alerts = r.out.split(/\n(?=\[)/);
    expect(alerts.find((a) => a.includes('httpd_t:user_home_t'))).toContain(
      'class=file permissive=1 (logged, not enforced)',
    );
    const enforced = alerts.find((a) => a.includes('sshd_t:user_home_t'));
    expect(enforced).toContain('class=file permissive=0\n');
    expect(enforced).not.toContain('permissive=1');
  });
});

describe('avcstream run --log-alerts', () => {
  it('writes each alert as a JSON log line at the default --log-level (warn)', async () => {
    writeFileSync(join(dir, 'audit.log'), denial(1, 'httpd_t') + denial(2, 'sshd_t'));
    const argv = (state: string, ...more: string[]) => [
      '--once',
      '--input',
      join(dir, 'audit.log'),
      '--policy',
      'none',
      '--booleans',
      'none',
      '--state-dir',
      join(dir, state),
      ...more,
    ];
    type Line = {
      level: string;
      msg: string;
      alert?: { signature: { key: string }; event: { comm: string } };
    };
    const alertLines = (err: string) =>
      err
        .split('\n')
        .filter((l) => l.startsWith('{'))
        .map((l) => JSON.parse(l) as Line)
        .filter((l) => l.alert !== undefined);
    const r = await capture(run, argv('state', '--log-alerts'));
    expect(r.code, r.err).toBe(0);
    // pino JSON: a constant message, the alert (audit text included) in its fields.
    expect(
      alertLines(r.err).map((l) => [l.level, l.msg, l.alert!.signature.key, l.alert!.event.comm]),
    ).toEqual([
      ['warn', 'new denial signature', 'httpd_t:user_home_t:file:read', 'cat'],
      ['warn', 'new denial signature', 'sshd_t:user_home_t:file:read', 'cat'],
    ]);
    // Without the option, no alert in the log; a level above warn silences it, as any warning.
    expect(alertLines((await capture(run, argv('state2'))).err)).toEqual([]);
    const quiet = await capture(run, argv('state3', '--log-alerts', '--log-level', 'error'));
    expect(quiet.code).toBe(0);
    expect(alertLines(quiet.err)).toEqual([]);
  });
});

/** An alert's lines from `run`'s console output: the one whose head names `key`. */
function alertOf(out: string, key: string): string[] {
  const text = out.split(/\n(?=\[)/).find((a) => a.startsWith('[NEW DENIAL] ') && a.includes(` ${key} `));
  expect(text, key).toBeDefined();
  return (text as string).split('\n');
}

/** The caution line comes after the verdict and before the first fix. */
function expectCautionBeforeFix(lines: string[], caution: string): void {
  const at = lines.findIndex((l) => l.startsWith('  caution: '));
  expect(at, `no caution line in:\n${lines.join('\n')}`).toBeGreaterThanOrEqual(0);
  expect(lines[at]).toContain(`  caution: ${caution};`);
  expect(at).toBeGreaterThan(lines.findIndex((l) => l.startsWith('  verdict=')));
  expect(at).toBeLessThan(lines.findIndex((l) => l.startsWith('  fix (')));
}

describe('avcstream run alerts: the caution of an access that guards the system', () => {
  const avc = (serial: number, target: string, tclass: string, perm: string) =>
    `type=AVC msg=audit(1763802001.000:${serial}): avc:  denied  { ${perm} } for  pid=1 comm="httpd" name="x" scontext=system_u:system_r:httpd_t:s0 tcontext=system_u:object_r:${target}:s0 tclass=${tclass} permissive=0\n`;
  const runWith = (policy: string, log: string) => {
    writeFileSync(join(dir, 'audit.log'), log);
    return capture(run, [
      '--once',
      '--input',
      join(dir, 'audit.log'),
      '--policy',
      policy,
      '--booleans',
      'none',
      '--state-dir',
      join(dir, 'state'),
      // At the default --log-level (warn): the log sink writes the alerts at warn.
      '--log-alerts',
    ]);
  };
  /** The sample policy flags security_t; user_home_t is a plain file type. */
  const SAMPLE_CAUTION = 'security_t is the SELinux security server (selinuxfs)';
  const runSample = () =>
    runWith(
      join(import.meta.dirname, '../../sample/policy/policy.33'),
      avc(1, 'security_t', 'file', 'read') + avc(2, 'user_home_t', 'file', 'read'),
    );

  it('shows it before the fix and carries it in the JSON (sample policy: security_t)', async () => {
    const r = await runSample();
    expect(r.code).toBe(0);
    const caution = SAMPLE_CAUTION;
    const lines = alertOf(r.out, 'httpd_t:security_t:file:read');
    expectCautionBeforeFix(lines, caution);
    expect(lines).toContain('  fix (allow, verified): allow httpd_t security_t:file read;');
    expect(alertOf(r.out, 'httpd_t:user_home_t:file:read').join('\n')).not.toContain('caution');
    // --log-alerts: the alert document of the JSON log line has the field, with a constant message.
    const logged = r.err
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as { msg: string; alert?: { signature: { key: string }; caution: unknown } })
      .filter((l) => l.alert !== undefined);
    const byKey = new Map(logged.map((l) => [l.alert!.signature.key, l]));
    expect(byKey.get('httpd_t:security_t:file:read')).toMatchObject({
      msg: 'new denial signature',
      alert: { caution },
    });
    expect(byKey.get('httpd_t:user_home_t:file:read')?.alert?.caution).toBeNull();
  });

  it("is in run's report (report.txt, report.html, summary.json) and in report --state-dir", async () => {
    const r = await runSample();
    expect(r.code).toBe(0);
    const caution = SAMPLE_CAUTION;
    const state = join(dir, 'state');
    type Group = { signature: { targetType: string }; caution: string | null };
    const byTarget = (json: string) =>
      new Map((JSON.parse(json).denyListing as Group[]).map((g) => [g.signature.targetType, g.caution]));
    const stored = byTarget(readFileSync(join(state, 'summary.json'), 'utf8'));
    expect(stored.get('security_t')).toBe(caution);
    expect(stored.get('user_home_t')).toBeNull();
    const block = (text: string) =>
      text.split('\n\n').find((b) => b.includes('httpd_t -> security_t:file { read }')) ?? '';
    const lines = block(readFileSync(join(state, 'report.txt'), 'utf8')).split('\n');
    const at = lines.findIndex((l) => l.startsWith(`    caution:    ${caution}; `));
    expect(at, lines.join('\n')).toBeGreaterThan(0);
    expect(at).toBeLessThan(lines.indexOf('    fix:        allow httpd_t security_t:file read;'));
    expect(readFileSync(join(state, 'report.html'), 'utf8')).toContain(
      `<div class="caution"><b>Caution:</b> ${caution}; `,
    );
    const json = await capture(report, ['--state-dir', state, '--format', 'json']);
    expect(json.code).toBe(0);
    expect(byTarget(json.out).get('security_t')).toBe(caution);
    const text = await capture(report, ['--state-dir', state]);
    expect(block(text.out)).toContain(`\n    caution:    ${caution}; `);
  });

  it.runIf(existsSync(HOST_POLICY) || IN_CI)(
    'shows it for httpd_t reading shadow_t (host policy)',
    async () => {
      const r = await runWith(HOST_POLICY, avc(1, 'shadow_t', 'file', 'read'));
      expect(r.code).toBe(0);
      expectCautionBeforeFix(
        alertOf(r.out, 'httpd_t:shadow_t:file:read'),
        'shadow_t holds authentication data (a file type outside non_auth_file_type)',
      );
    },
  );
});

describe.runIf(CORPUS_READY || IN_CI)('avcstream run --once, then report --state-dir', () => {
  it('keeps the verdict breakdown of a signature whose records get different verdicts', async () => {
    const state = join(dir, 'state');
    const input = join(CORPUS, 'selinux-sepolgen/httpd.log');
    const r = await capture(run, [
      '--once',
      '--input',
      input,
      '--policy',
      HOST_POLICY,
      '--booleans',
      'none',
      '--state-dir',
      state,
      '--log-level',
      'silent',
    ]);
    expect(r.code).toBe(0);
    const json = await capture(report, ['--state-dir', state, '--format', 'json']);
    expect(json.code).toBe(0);
    const group = (
      JSON.parse(json.out).denyListing as Array<{
        signature: { sourceType: string; targetType: string; class: string; perms: string[] };
        verdicts: unknown;
      }>
    ).find(
      (g) =>
        g.signature.sourceType === 'staff_t' &&
        g.signature.targetType === 'user_home_t' &&
        g.signature.class === 'file' &&
        g.signature.perms.join(' ') === 'read',
    );
    expect(group?.verdicts).toEqual([
      { verdict: 'CONSTRAINT', count: 16 },
      { verdict: 'ALLOWED', count: 1 },
    ]);
    const text = await capture(report, ['--state-dir', state]);
    expect(text.out).toContain('    verdict:    CONSTRAINT ×16, ALLOWED ×1\n');
  }, 30_000);
});
