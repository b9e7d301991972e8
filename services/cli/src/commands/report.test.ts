import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { eventToJson, parseAuditText } from '@avcstream/audit';
import { createExplainer } from '@avcstream/selinux-access';
import { readPolicy } from '@avcstream/selinux-policy';
import { openStore } from '@avcstream/store';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { explain } from './explain.ts';
import { report, rotationOrder } from './report.ts';
import { esDocToEvent } from './report-es.ts';

const SAMPLE = resolve(import.meta.dirname, '../../sample/audit.log');
const dir = mkdtempSync(join(tmpdir(), 'avcstream-report-cli-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

// Real third-party logs and the host's policy (the oracles of the lead's environment); required under CI.
const CORPUS = resolve(import.meta.dirname, '../../../../../shared/corpus/audit');
const HOST_POLICY = '/etc/selinux/default/policy/policy.33';
const IN_CI = process.env.CI !== undefined && process.env.CI !== '' && process.env.CI !== 'false';
const CORPUS_READY = existsSync(CORPUS) && existsSync(HOST_POLICY);
if (!CORPUS_READY && !IN_CI) {
  console.warn(
    `SKIPPED: the audit corpus (${CORPUS}) or the host policy (${HOST_POLICY}) is absent; set CI=1 to make this fail`,
  );
}

async function run(argv: string[], stdinText = ''): Promise<{ code: number; out: string; err: string }> {
  return runCommand(report, argv, stdinText);
}

async function runCommand(
  command: typeof report,
  argv: string[],
  stdinText = '',
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
  const code = await command(argv, { stdout, stderr, stdin: Readable.from([stdinText]) });
  return { code, out, err };
}

// The known truth of the bundled sample (services/cli/sample/README.md).
const SAMPLE_STATS = {
  totalMessages: 39,
  policyLoads: 2,
  enforcementToggles: 3,
  booleanChanges: 2,
  allowMessages: 3,
  deniedMessages: 28,
  hosts: 3,
  malformed: 4,
};

describe('avcstream report --input', () => {
  it('summarises the bundled sample as JSON with its known truth', async () => {
    const { code, out } = await run(['--format', 'json', '--input', SAMPLE]);
    expect(code).toBe(0);
    const json = JSON.parse(out);
    expect(json.statistics).toMatchObject(SAMPLE_STATS);
    expect(
      json.enforcementToggles.map((t: { host: string; old: number; new: number }) => [t.host, t.old, t.new]),
    ).toEqual([
      ['web01.example.com', 0, 1],
      ['bastion.example.com', 1, 0],
      ['bastion.example.com', 0, 1],
    ]);
    expect(json.booleanChanges.map((b: { boolean: string }) => b.boolean)).toEqual([
      'httpd_can_network_connect',
      'deny_ptrace',
    ]);
    expect(json.denyListing.reduce((n: number, g: { count: number }) => n + g.count, 0)).toBe(28);
  });

  it('reads stdin with "-" and filters by host and time', async () => {
    const text = readFileSync(SAMPLE, 'utf8');
    const { code, out } = await run(
      ['--format', 'json', '--host', 'web01.example.com', '--until', '2025-11-22T09:02:00Z', '-'],
      text,
    );
    expect(code).toBe(0);
    const s = JSON.parse(out).statistics;
    expect(s.hosts).toBe(1);
    expect(s.lastEvent < '2025-11-22T09:02:00.001Z').toBe(true);
    expect(s.deniedMessages).toBeGreaterThan(0);
    expect(s.deniedMessages).toBeLessThan(28);
  });

  it('writes a script-free HTML file with --out', async () => {
    const file = join(dir, 'r.html');
    const { code, out } = await run(['--format', 'html', '--out', file, SAMPLE]);
    expect(code).toBe(0);
    expect(out).toBe('');
    const html = readFileSync(file, 'utf8');
    expect(html).toContain('Content-Security-Policy');
    expect(html.toLowerCase()).not.toContain('<script');
    expect(html).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
  });

  it('adds the selected custom views', async () => {
    const views = join(dir, 'views.yaml');
    writeFileSync(
      views,
      'views:\n  - name: web\n    criteria: { sourceType: "httpd_*" }\n  - name: bastion\n    criteria: { host: "bastion*" }\n',
    );
    const { code, out } = await run(['--format', 'json', '--views', views, '--view', 'bastion', SAMPLE]);
    expect(code).toBe(0);
    const v = JSON.parse(out).views;
    expect(v.map((x: { name: string }) => x.name)).toEqual(['bastion']);
    expect(v[0].count).toBeGreaterThan(0);
    const text = await run(['--views', views, SAMPLE]);
    expect(text.out).toContain('\nView: web\n');
    expect(text.out).toContain('\nView: bastion\n');
  });

  it('replays denials against --policy with --booleans (verdicts of the sample README)', async () => {
    const policy = resolve(import.meta.dirname, '../../sample/policy/policy.33');
    const booleans = resolve(import.meta.dirname, '../../sample/booleans');
    const verdicts = async (argv: string[]) => {
      const { code, out } = await run(['--format', 'json', ...argv, SAMPLE]);
      expect(code).toBe(0);
      const groups: Array<{
        signature: { sourceType: string; targetType: string; class: string; perms: string[] };
        explanation: { verdict: string } | null;
      }> = JSON.parse(out).denyListing;
      return Object.fromEntries(
        groups.map((g) => [
          `${g.signature.sourceType}>${g.signature.targetType}:${g.signature.class}{${g.signature.perms.join(' ')}}`,
          g.explanation?.verdict,
        ]),
      );
    };
    const defaults = await verdicts(['--policy', policy]);
    const withBooleans = await verdicts(['--policy', policy, '--booleans', booleans]);
    expect(defaults['httpd_t>unreserved_port_t:tcp_socket{name_connect}']).toBe('BOOLEAN');
    expect(withBooleans['httpd_t>unreserved_port_t:tcp_socket{name_connect}']).toBe('ALLOWED');
    expect(withBooleans['httpd_t>user_home_t:dir{getattr}']).toBe('BOOLEAN');
    expect(withBooleans['httpd_sys_script_t>httpd_sys_content_t:file{read}']).toBe('BOUNDS');
    expect(withBooleans['user_t>passwd_t:process{transition}']).toBe('RBAC');
    expect(withBooleans['init_t>init_t:bpf{map_create}']).toBe('UNKNOWN_CLASS');
    expect(Object.values(withBooleans).every((v) => typeof v === 'string')).toBe(true);
    expect((await run(['--policy', join(dir, 'nope.33'), SAMPLE])).code).toBe(66);
    const junk = join(dir, 'junk.33');
    writeFileSync(junk, 'not a policy');
    expect((await run(['--policy', junk, SAMPLE])).code).toBe(78);
  });

  describe.runIf(CORPUS_READY || IN_CI)('a signature whose records get different verdicts', () => {
    // selinux-sepolgen/httpd.log: staff_t -> user_home_t:file { read } merges three tcontext users; a user
    // constraint denies 16 records, the policy allows the 17th. The oracle: `avcstream explain` per record.
    const HTTPD = join(CORPUS, 'selinux-sepolgen/httpd.log');
    const argv = ['--policy', HOST_POLICY, HTTPD];
    type Group = {
      signature: { sourceType: string; targetType: string; class: string; perms: string[] };
      count: number;
      explanation: { verdict: string } | null;
      verdicts: Array<{ verdict: string; count: number }>;
    };
    const keyOf = (st: string, tt: string, cls: string, perms: string[]) =>
      `${st} ${tt}:${cls} { ${[...new Set(perms)].sort().join(' ')} }`;

    it('JSON: the breakdown per group equals explain per record, the old field kept', async () => {
      const { code, out } = await run(['--format', 'json', ...argv]);
      expect(code).toBe(0);
      const groups: Group[] = JSON.parse(out).denyListing;
      const perRecord = new Map<string, Map<string, number>>();
      const ex = await runCommand(explain, ['--policy', HOST_POLICY, '--format', 'ndjson', HTTPD]);
      expect(ex.code).toBe(0);
      for (const line of ex.out.split('\n').filter((l) => l !== '')) {
        const r = JSON.parse(line);
        const k = keyOf(r.scontext.split(':')[2], r.tcontext.split(':')[2], r.tclass, r.perms);
        const m = perRecord.get(k) ?? new Map<string, number>();
        m.set(r.verdict, (m.get(r.verdict) ?? 0) + 1);
        perRecord.set(k, m);
      }
      expect(groups.length).toBe(perRecord.size);
      for (const g of groups) {
        const s = g.signature;
        const want = perRecord.get(keyOf(s.sourceType, s.targetType, s.class, s.perms));
        expect(Object.fromEntries(g.verdicts.map((v) => [v.verdict, v.count]))).toEqual(
          Object.fromEntries(want ?? []),
        );
        expect(g.verdicts.map((v) => v.verdict)).toContain(g.explanation?.verdict);
      }
      const read = groups.find(
        (g) =>
          keyOf(g.signature.sourceType, g.signature.targetType, g.signature.class, g.signature.perms) ===
          'staff_t user_home_t:file { read }',
      );
      expect(read).toMatchObject({ count: 17, explanation: { verdict: 'CONSTRAINT' } });
      expect(read!.verdicts).toEqual([
        { verdict: 'CONSTRAINT', count: 16 },
        { verdict: 'ALLOWED', count: 1 },
      ]);
    }, 30_000);

    it('text and HTML show the breakdown', async () => {
      const text = await run(argv);
      const block = text.out.split('\n\n').find((b) => b.includes('staff_t -> user_home_t:file { read }'));
      expect(block).toContain('denied, count 17\n');
      expect(block).toContain('\n    verdict:    CONSTRAINT ×16, ALLOWED ×1\n');
      const html = await run(['--format', 'html', ...argv]);
      expect(html.out).toContain(
        '<span class="verdict">CONSTRAINT</span> ×16, <span class="verdict">ALLOWED</span> ×1',
      );
    }, 30_000);
  });

  it('fails with "policy file too large" and 65 on an endless --policy (/dev/zero)', async () => {
    const r = await run(['--policy', '/dev/zero', SAMPLE]);
    expect(r.code).toBe(65);
    expect(r.err).toBe('avcstream report: policy file too large\n');
  });

  it('answers usage errors with exit codes', async () => {
    expect((await run([])).code).toBe(64);
    expect((await run(['--format', 'pdf', SAMPLE])).code).toBe(64);
    expect((await run(['--bogus', SAMPLE])).code).toBe(64);
    // The option as typed is quoted escaped: an ESC in it cannot drive the terminal.
    const esc = await run(['--x\u001b[2J', SAMPLE]);
    expect(esc.code).toBe(64);
    expect(esc.err).toContain('--x\\x1b[2J');
    expect(esc.err).not.toContain('\u001b');
    expect((await run(['--view', 'x', SAMPLE])).code).toBe(64);
    expect((await run([SAMPLE, '--es', 'http://127.0.0.1:9'])).code).toBe(64);
    expect((await run([join(dir, 'missing.log')])).code).toBe(66);
    const bad = join(dir, 'bad.yaml');
    writeFileSync(bad, 'views: [{ name: x, criteria: { colour: red } }]');
    const r = await run(['--views', bad, SAMPLE]);
    expect(r.code).toBe(78);
    expect(r.err).toContain('colour');
    const help = await run(['--help']);
    expect(help.code).toBe(0);
    expect(help.out).toContain('--state-dir');
  });
});

describe('avcstream report --policy with file_contexts', () => {
  const POLICY = resolve(import.meta.dirname, '../../sample/policy/policy.33');
  it('gives the restorecon fix explain gives: a denied file whose default label allows the access', async () => {
    const fc = join(dir, 'report_file_contexts');
    writeFileSync(fc, '/var/www(/.*)?\tsystem_u:object_r:httpd_sys_content_t:s0\n');
    const log = join(dir, 'report-fc.log');
    writeFileSync(
      log,
      'type=AVC msg=audit(1700000000.000:1): avc:  denied  { read } for  pid=1 comm="httpd" path="/var/www/html/a.html" dev="sda1" ino=2 scontext=system_u:system_r:httpd_t:s0 tcontext=system_u:object_r:user_home_t:s0 tclass=file permissive=0\n',
    );
    const withFc = await run(['--input', log, '--policy', POLICY, '--file-contexts', fc]);
    expect(withFc.code).toBe(0);
    expect(withFc.out).toMatch(/fix:\s+restorecon -v '<path>'/);
    const ex = await runCommand(explain, ['--policy', POLICY, '--file-contexts', fc, log]);
    expect(ex.out).toContain("# restorecon -v '<path>'");
    // Turned off: the allow rule alone, as before.
    const without = await run(['--input', log, '--policy', POLICY, '--no-file-contexts']);
    expect(without.out).not.toContain('restorecon');
    expect((await run(['--input', log, '--file-contexts', fc])).code).toBe(64);
    const missing = await run(['--input', log, '--policy', POLICY, '--file-contexts', join(dir, 'nope')]);
    expect(missing.code).toBe(66);
    expect(missing.err).toMatch(/^avcstream report: cannot read file_contexts /);
  });
});

// The explainer's caution: a fix that would open an access guarding the system. The sample policy flags
// security_t (a named type); the host's (Debian) policy flags shadow_t too (outside non_auth_file_type).
const HOST_POLICY_TESTS = existsSync(HOST_POLICY) || IN_CI;
if (!HOST_POLICY_TESTS)
  console.warn(`SKIPPED: ${HOST_POLICY} is absent (selinux-policy-default); set CI=1 to make this fail`);
const SECURITY_T_CAUTION = 'security_t is the SELinux security server (selinuxfs)';
const SHADOW_T_CAUTION = 'shadow_t holds authentication data (a file type outside non_auth_file_type)';
const httpdRead = (serial: number, target: string) =>
  `type=AVC msg=audit(1700000000.${String(serial).padStart(3, '0')}:${serial}): avc:  denied  { read } for  pid=1 comm="httpd" name="x" scontext=system_u:system_r:httpd_t:s0 tcontext=system_u:object_r:${target}:s0 tclass=file permissive=0\n`;
type CautionGroup = { signature: { targetType: string }; caution: string | null };
const cautionByTarget = (json: string) =>
  new Map((JSON.parse(json).denyListing as CautionGroup[]).map((g) => [g.signature.targetType, g.caution]));
/** The text report's block of the httpd_t -> TARGET:file { read } group, as lines. */
const textBlock = (text: string, target: string) =>
  (text.split('\n\n').find((b) => b.includes(`httpd_t -> ${target}:file { read }`)) ?? '').split('\n');
/** The caution line of a group's block comes after its verdict and before its fixes. */
function expectCautionNearFix(block: string[], caution: string): void {
  const at = block.findIndex((l) => l.startsWith('    caution:    '));
  expect(at, `no caution line in:\n${block.join('\n')}`).toBeGreaterThanOrEqual(0);
  expect(block[at]).toContain(`    caution:    ${caution}; `);
  expect(block[at]).toContain('find out why httpd_t asked before applying a fix');
  expect(at).toBeGreaterThan(block.findIndex((l) => l.startsWith('    verdict:')));
  expect(at).toBeLessThan(block.findIndex((l) => l.startsWith('    fix:')));
}

describe('avcstream report --policy: the caution of an access that guards the system', () => {
  const POLICY = resolve(import.meta.dirname, '../../sample/policy/policy.33');

  it('JSON, text and HTML carry it near the fix (sample policy: httpd_t reading security_t)', async () => {
    const log = join(dir, 'caution-sample.log');
    writeFileSync(log, httpdRead(1, 'security_t') + httpdRead(2, 'user_home_t'));
    const json = await run(['--format', 'json', '--policy', POLICY, log]);
    expect(json.code, json.err).toBe(0);
    const caution = cautionByTarget(json.out);
    expect(caution.get('security_t')).toBe(SECURITY_T_CAUTION);
    expect(caution.get('user_home_t')).toBeNull();
    const text = await run(['--policy', POLICY, log]);
    expectCautionNearFix(textBlock(text.out, 'security_t'), SECURITY_T_CAUTION);
    expect(textBlock(text.out, 'security_t')).toContain(
      '    fix:        allow httpd_t security_t:file read;',
    );
    expect(textBlock(text.out, 'user_home_t').join('\n')).not.toContain('caution');
    const html = await run(['--format', 'html', '--policy', POLICY, log]);
    const row = html.out.split('<tr>').find((r) => r.includes('&rarr; security_t:file')) ?? '';
    expect(row).toContain(`<div class="caution"><b>Caution:</b> ${SECURITY_T_CAUTION}; `);
    expect(row.indexOf('class="caution"')).toBeLessThan(row.indexOf('allow httpd_t security_t:file read;'));
    expect(html.out.split('<tr>').find((r) => r.includes('&rarr; user_home_t:file'))).not.toContain(
      'caution',
    );
  });

  it.runIf(HOST_POLICY_TESTS)('carries it for httpd_t reading shadow_t (host policy)', async () => {
    const log = join(dir, 'caution-host.log');
    writeFileSync(log, httpdRead(1, 'shadow_t'));
    const json = await run(['--format', 'json', '--policy', HOST_POLICY, log]);
    expect(json.code, json.err).toBe(0);
    expect(cautionByTarget(json.out).get('shadow_t')).toBe(SHADOW_T_CAUTION);
    const text = await run(['--policy', HOST_POLICY, log]);
    expectCautionNearFix(textBlock(text.out, 'shadow_t'), SHADOW_T_CAUTION);
    const html = await run(['--format', 'html', '--policy', HOST_POLICY, log]);
    expect(html.out).toContain(`<div class="caution"><b>Caution:</b> ${SHADOW_T_CAUTION}; `);
  });
});

describe('avcstream report --since/--until', () => {
  // The sample's events are on 2025-11-22 from 09:00 UTC; the clock is injected, the local zone is UTC here
  // (keywords are local time, as ausearch's; libs/report tests other zones).
  const tz = process.env.TZ;
  beforeAll(() => {
    process.env.TZ = 'UTC';
  });
  afterAll(() => {
    if (tz === undefined) delete process.env.TZ;
    else process.env.TZ = tz;
  });
  const at = (iso: string) => () => Date.parse(iso);
  const denied = async (argv: string[], now: () => number) => {
    const r = await runCommand((a, io) => report(a, io, { now }), ['--format', 'json', ...argv, SAMPLE]);
    expect(r.code, r.err).toBe(0);
    return JSON.parse(r.out).statistics.deniedMessages as number;
  };

  it("accept ausearch's keywords, in local time, with the clock injected", async () => {
    expect(await denied(['--since', 'today'], at('2025-11-22T23:00:00Z'))).toBe(28);
    expect(await denied(['--since', 'today'], at('2025-11-23T12:00:00Z'))).toBe(0);
    expect(await denied(['--since', 'yesterday'], at('2025-11-23T12:00:00Z'))).toBe(28);
    expect(await denied(['--until', 'yesterday'], at('2025-11-23T12:00:00Z'))).toBe(0);
    // 2025-11-22 is a Saturday: the week (from Sunday, as ausearch's tm_wday) began on the 16th.
    expect(await denied(['--since', 'this-week', '--until', 'now'], at('2025-11-22T12:00:00Z'))).toBe(28);
    expect(await denied(['--since', 'this-week'], at('2025-11-23T00:30:00Z'))).toBe(0);
    expect(await denied(['--since', 'recent'], at('2025-11-22T09:10:00Z'))).toBeGreaterThan(0);
    expect(await denied(['--since', 'this-hour'], at('2025-11-22T10:30:00Z'))).toBe(0);
    const bad = await runCommand(
      (a, io) => report(a, io, { now: at('2025-11-23T00:00:00Z') }),
      ['--since', 'boot', SAMPLE],
    );
    expect(bad.code).toBe(64);
    expect(bad.err).toContain('this-week');
  });

  it('--since later than --until is a usage error (64), not an empty report', async () => {
    const r = await runCommand(
      (a, io) => report(a, io, { now: at('2025-11-23T12:00:00Z') }),
      ['--since', 'today', '--until', 'yesterday', SAMPLE],
    );
    expect(r.code).toBe(64);
    expect(r.out).toBe('');
    expect(r.err).toContain(
      '--since (2025-11-23T00:00:00.000Z) is later than --until (2025-11-22T00:00:00.000Z)',
    );
    const iso = await run(['--since', '2025-11-22T10:00:00Z', '--until', '2025-11-22T09:00:00Z', SAMPLE]);
    expect(iso.code).toBe(64);
    // Equal bounds select that instant.
    expect((await run(['--since', '1763802084', '--until', '1763802084', SAMPLE])).code).toBe(0);
  });
});

describe('avcstream report --help', () => {
  it("says each listing's order: plain listings by time, grouped listings by count", async () => {
    const { code, out: help } = await run(['--help']);
    expect(code).toBe(0);
    const out = help.replace(/\s+/g, ' ');
    expect(out).not.toContain('every listing is in time order');
    expect(out).toMatch(/allow listing[^.]*in time order/);
    expect(out).toMatch(/deny listing and (each|the) views?[^.]*most frequent first/);
  });

  it('shows the views schema by an example that is a valid views file, and says where the rest is', async () => {
    const { out } = await run(['--help']);
    const example = /e\.g\.\n((?: {30}.*\n)+)/.exec(out)?.[1];
    expect(example).toBeDefined();
    const file = join(dir, 'help-example.yaml');
    writeFileSync(file, example!.replace(/^ {30}/gm, ''));
    const r = await run(['--format', 'json', '--views', file, SAMPLE]);
    expect(r.err).toBe('');
    expect(JSON.parse(r.out).views).toHaveLength(1);
    expect(out).toContain('Custom views');
  });

  it('names where a wrong views file is wrong and what is wrong (exit 78)', async () => {
    const bad = join(dir, 'wrong-views.yaml');
    writeFileSync(bad, 'views:\n  - name: web\n    match: some\n    criteria: { sourceTyp: httpd_t }\n');
    const r = await run(['--views', bad, SAMPLE]);
    expect(r.code).toBe(78);
    expect(r.err).toContain('views[0].match: expected one of "all", "any"');
    expect(r.err).toContain('views[0].criteria: unknown key "sourceTyp"');
    expect(r.err).not.toContain('Invalid input');
  });
});

describe('avcstream report --malformed', () => {
  const bad = join(dir, 'bad.log');
  writeFileSync(
    bad,
    [
      'type=MAC_POLICY_LOAD msg=audit(1763900030.000:703): auid=1000 ses=2 lsm=selinux res=1',
      'garbage \u001b[31m<b>not audit</b>',
      'type=MAC_STATUS msg=audit(1763900040.000:704): enforcing=1 old_enforcing=0 auid=0 ses=2',
      `type=AVC msg=audit(${'x'.repeat(2000)}`,
      '',
    ].join('\n'),
  );

  it('lists the lines the parser rejected with file and line, escaped and bounded (JSON)', async () => {
    const { code, out } = await run(['--format', 'json', '--malformed', bad]);
    expect(code).toBe(0);
    const json = JSON.parse(out);
    expect(json.statistics.malformed).toBe(2);
    expect(json.malformedLines).toHaveLength(2);
    expect(json.malformedLines[0]).toEqual({
      file: bad,
      line: 2,
      text: 'garbage \u001b[31m<b>not audit</b>',
      cut: false,
    });
    expect(json.malformedLines[1]).toMatchObject({ file: bad, line: 4, cut: true });
    expect(json.malformedLines[1].text.length).toBe(512);
  });

  it('appends them to the text report, escaped, with stdin named (stdin)', async () => {
    const { code, out } = await run(['--malformed', '-'], 'garbage \u001b[31m\n');
    expect(code).toBe(0);
    expect(out).toMatch(/Malformed Lines[\s\S]*\(stdin\):1: garbage \\x1b\[31m/);
    expect(out).not.toContain('\u001b');
  });

  it('lists AVC records whose body did not parse too, in line order (sample lines 94 and 154)', async () => {
    for (const argv of [[SAMPLE], ['-']]) {
      const { code, out } = await run(
        ['--format', 'json', '--malformed', ...argv],
        readFileSync(SAMPLE, 'utf8'),
      );
      expect(code).toBe(0);
      const json = JSON.parse(out);
      expect(json.statistics.malformed).toBe(4);
      expect(json.malformedLines.map((l: { line: number }) => l.line)).toEqual([94, 95, 153, 154]);
      expect(json.malformedLines[0].text).toMatch(
        /^node=web02\.example\.com type=AVC msg=audit\(1763802160\.044:11899\): avc: {2}denied/,
      );
      expect(json.malformedLines[3].text).toContain('scontext=user_u:user_r:user_t:s0 tclass=file');
    }
    const text = await run(['--malformed', SAMPLE]);
    expect(text.out).toContain(`${SAMPLE}:154: node=bastion.example.com type=AVC`);
    expect(text.out).not.toContain('not listed');
  });

  it('an AVC line with a hostile, cut off body is escaped and cut like the others', async () => {
    const file = join(dir, 'broken-avc.log');
    writeFileSync(
      file,
      `type=AVC msg=audit(1763900050.000:706): avc:  denied  { read } for  pid=1 comm="\u001b]0;pwn\u0007<script>" ${'a'.repeat(600)}\n`,
    );
    const json = JSON.parse((await run(['--format', 'json', '--malformed', file])).out);
    expect(json.statistics.malformed).toBe(1);
    expect(json.malformedLines).toEqual([expect.objectContaining({ file, line: 1, cut: true })]);
    expect(json.malformedLines[0].text.length).toBe(512);
    const text = (await run(['--malformed', file])).out;
    expect(text).toContain(`${file}:1: type=AVC`);
    expect(text).toContain('\\x1b]0;pwn\\x07<script>');
    expect(text).not.toContain('\u001b');
    const html = (await run(['--format', 'html', '--malformed', file])).out;
    expect(html).toContain('&lt;script&gt;');
  });

  it('is not listed without the flag, and needs --input', async () => {
    const { out } = await run(['--format', 'json', bad]);
    expect(JSON.parse(out).malformedLines).toBeUndefined();
    const es = await run(['--malformed', '--es', 'http://127.0.0.1:1']);
    expect(es.code).toBe(64);
    expect(es.err).toContain('--malformed');
  });
});

describe('malformed lines with --host / --since', () => {
  it("counts only the selected hosts' malformed lines (node=, else localhost)", async () => {
    const malformed = async (argv: string[]) => {
      const { code, out } = await run(['--format', 'json', ...argv, SAMPLE]);
      expect(code).toBe(0);
      return JSON.parse(out).statistics as { malformed: number; malformedUnfiltered: number };
    };
    // Sample lines 94 (web02's cut AVC) and 95 (web02), 153 (no node=), 154 (bastion's AVC without tcontext).
    expect(await malformed(['--host', 'web01'])).toEqual(
      expect.objectContaining({ malformed: 0, malformedUnfiltered: 0 }),
    );
    expect(await malformed(['--host', 'web02.example.com'])).toMatchObject({
      malformed: 2,
      malformedUnfiltered: 0,
    });
    expect(await malformed(['--host', 'localhost'])).toMatchObject({ malformed: 1 });
    expect(await malformed(['--host', 'bastion.example.com'])).toMatchObject({ malformed: 1 });
    const text = await run(['--host', 'web01', SAMPLE]);
    expect(text.out).toMatch(/Number of malformed lines: +0\n/);
    const listed = await run(['--format', 'json', '--malformed', '--host', 'web02.example.com', SAMPLE]);
    expect(JSON.parse(listed.out).malformedLines.map((l: { line: number }) => l.line)).toEqual([94, 95]);
  });

  it('applies --since/--until to lines with a readable audit time; the others are labelled unfiltered', async () => {
    const { out } = await run(['--format', 'json', '--since', '1763802200', SAMPLE]);
    // 94 is before; 95 (a broken stamp) and 153 have no readable time; 154 is after.
    expect(JSON.parse(out).statistics).toMatchObject({ malformed: 3, malformedUnfiltered: 2 });
    const text = await run(['--since', '1763802200', SAMPLE]);
    expect(text.out).toContain('3 (2 of them in the input, all hosts and times: not filtered)');
  });
});

describe('source errors', () => {
  it('--state-dir on an existing directory that is not a state dir is 66 "no state dir", not an empty report', async () => {
    const empty = mkdtempSync(join(dir, 'not-state-'));
    const r = await run(['--state-dir', empty]);
    expect(r.code).toBe(66);
    expect(r.err).toContain(`no state dir at ${empty}`);
    expect(r.out).toBe('');
  });

  it('--es that is not an http(s) URL is a usage error (64)', async () => {
    for (const bad of ['not-a-url', 'ftp://example.com', 'example.com:9200']) {
      const r = await run(['--es', bad]);
      expect(r.code, bad).toBe(64);
      expect(r.err, bad).toContain('--es');
    }
  });

  it('an unreachable --es names the URL without its credentials, and the cause', async () => {
    // Port 1 on the loopback: nothing listens there, the connection is refused at once.
    const r = await run(['--es', 'http://elastic:s3cret@127.0.0.1:1']);
    expect(r.code).toBe(1);
    expect(r.err).toContain('http://127.0.0.1:1');
    expect(r.err).not.toContain('s3cret');
    expect(r.err).toMatch(/ECONNREFUSED|connect/i);
  });
});

describe('rotated inputs', () => {
  it('reads rotated generations oldest first, as aureport does (audit.log* expands newest first)', () => {
    expect(rotationOrder(['/l/audit.log', '/l/audit.log.1', '/l/audit.log.10', '/l/audit.log.2'])).toEqual([
      '/l/audit.log.10',
      '/l/audit.log.2',
      '/l/audit.log.1',
      '/l/audit.log',
    ]);
    // other files keep their place; each rotation set takes the place of its first file
    expect(rotationOrder(['x.log', 'a/audit.log', 'a/audit.log.1', 'y.log', 'b/audit.log.1', '-'])).toEqual([
      'x.log',
      'a/audit.log.1',
      'a/audit.log',
      'y.log',
      'b/audit.log.1',
      '-',
    ]);
  });

  it('lists the sample split into audit.log.1 and audit.log, given newest first, in time order', async () => {
    const lines = readFileSync(SAMPLE, 'utf8').split(/(?<=\n)/);
    const rot = mkdtempSync(join(dir, 'rot-'));
    writeFileSync(join(rot, 'audit.log.1'), lines.slice(0, 100).join(''));
    writeFileSync(join(rot, 'audit.log'), lines.slice(100).join(''));
    const whole = JSON.parse((await run(['--format', 'json', SAMPLE])).out);
    const split = await run(['--format', 'json', join(rot, 'audit.log'), join(rot, 'audit.log.1')]);
    expect(split.code).toBe(0);
    const json = JSON.parse(split.out);
    for (const k of ['policyLoads', 'enforcementToggles', 'booleanChanges', 'allowListing']) {
      expect(json[k]).toEqual(whole[k]);
    }
  });
});

describe('avcstream report --state-dir', () => {
  it('builds the report from the events kept in the store', async () => {
    const state = join(dir, 'state');
    const store = openStore({ dir: state });
    const parsed = parseAuditText(readFileSync(SAMPLE, 'utf8'));
    store.commitBatch({
      events: parsed.events.map((e) => JSON.parse(eventToJson(e))),
      counters: { malformed: parsed.errors.length },
    });
    store.close();
    const { code, out } = await run(['--format', 'json', '--state-dir', state]);
    expect(code).toBe(0);
    // The two lines the parser rejects are in the counter, the two broken AVC bodies are in the events.
    expect(JSON.parse(out).statistics).toMatchObject(SAMPLE_STATS);
    // With --host, the broken AVC bodies are filtered with their events; the counter cannot be: it is labelled.
    const web02 = await run(['--state-dir', state, '--host', 'web02.example.com']);
    expect(web02.out).toMatch(
      /Number of malformed lines: +3 \(2 of them in the input, all hosts and times: not filtered\)\n/,
    );
  });

  it('prefers the summary.json the embedded mode writes when no filter is given', async () => {
    const state = join(dir, 'state2');
    const first = await run(['--format', 'json', SAMPLE]);
    openStore({ dir: state }).close();
    writeFileSync(join(state, 'summary.json'), first.out);
    const { code, out } = await run(['--format', 'json', '--state-dir', state]);
    expect(code).toBe(0);
    expect(JSON.parse(out)).toEqual(JSON.parse(first.out));
    writeFileSync(join(state, 'summary.json'), '{"statistics":{}}');
    expect((await run(['--state-dir', state])).code).toBe(78);
  });
});

describe('Elasticsearch documents', () => {
  it('turns a denial document into a denied AVC with its stored explanation', () => {
    const x = esDocToEvent({
      '@timestamp': '2025-11-22T09:01:24.839Z',
      event: {
        sequence: 8216,
        original: 'node=web01 type=AVC msg=audit(1763802084.839:8216): avc:  denied ...',
      },
      host: { name: 'web01.example.com' },
      process: { name: '<script>', executable: '/usr/sbin/httpd' },
      file: { path: '/home/alice/public_html/index.html' },
      selinux: {
        scontext: { user: 'system_u', role: 'system_r', type: 'httpd_t', level: 's0' },
        tcontext: { user: 'unconfined_u', role: 'object_r', type: 'user_home_t', level: 's0' },
        tclass: 'file',
        perms: ['read', 'open'],
        permissive: false,
        seresult: 'denied',
      },
      decision: {
        verdict: 'BOOLEAN',
        booleans: [
          { name: 'httpd_read_user_content', current: false, blast_radius: { rules: 4, triples: 9 } },
        ],
        fix: [{ kind: 'setsebool', text: 'setsebool -P httpd_read_user_content 1', verified: true }],
      },
    });
    expect(x).not.toBeNull();
    const rec = x!.event.records[0]!;
    expect(x!.event).toMatchObject({ node: 'web01.example.com', serial: 8216, epoch: 1763802084.839 });
    expect(rec.type).toBe('AVC');
    expect(rec.fields).toMatchObject({
      comm: '<script>',
      exe: '/usr/sbin/httpd',
      path: '/home/alice/public_html/index.html',
    });
    expect(rec.avc?.scontext.raw).toBe('system_u:system_r:httpd_t:s0');
    expect(rec.avc?.decision).toBe('denied');
    expect(x!.explain({ scontext: '', tcontext: '', tclass: '', perms: [] })).toEqual({
      verdict: 'BOOLEAN',
      booleans: [{ name: 'httpd_read_user_content', current: false, blastRadius: { rules: 4, triples: 9 } }],
      fixes: [{ kind: 'setsebool', text: 'setsebool -P httpd_read_user_content 1', verified: true }],
    });
  });

  it("gives the caution of the stored explanation's evidence (the analyzer stores the explainer's lines)", () => {
    // The explainer's own evidence for httpd_t reading security_t on the sample policy, as decisionDoc stores it.
    const policy = readPolicy(readFileSync(resolve(import.meta.dirname, '../../sample/policy/policy.33')));
    const denial = {
      scontext: 'system_u:system_r:httpd_t:s0',
      tcontext: 'system_u:object_r:security_t:s0',
      tclass: 'file',
      perms: ['read'],
    };
    const ex = createExplainer(policy).explain(denial);
    expect(ex.caution).toBe(SECURITY_T_CAUTION);
    const doc = (evidence: string[]) => ({
      '@timestamp': '2025-11-22T09:01:24.839Z',
      event: { sequence: 1 },
      host: { name: 'web01' },
      selinux: {
        scontext: { user: 'system_u', role: 'system_r', type: 'httpd_t', level: 's0' },
        tcontext: { user: 'system_u', role: 'object_r', type: 'security_t', level: 's0' },
        tclass: 'file',
        perms: ['read'],
        permissive: false,
        seresult: 'denied',
      },
      decision: { verdict: ex.verdict, booleans: [], fix: ex.fixes, evidence },
    });
    expect(esDocToEvent(doc(ex.evidence))!.explain(denial)).toMatchObject({ caution: SECURITY_T_CAUTION });
    const none = esDocToEvent(doc(['No allow rule grants httpd_t security_t:file read.']))!.explain(denial);
    expect(none).not.toBeNull();
    expect(none!.caution).toBeUndefined();
  });

  it('turns a SELinux event document into its record type and fields', () => {
    const x = esDocToEvent({
      '@timestamp': '2025-11-22T09:03:47.739Z',
      event: { sequence: 8220 },
      host: { name: 'web01.example.com' },
      process: { name: 'setsebool', executable: null },
      auditd: {
        message_type: 'mac_config_change',
        data: { bool: 'httpd_can_network_connect', val: '1', old_val: '0' },
      },
      selinux: { scontext: null, tcontext: null, tclass: null, perms: [], permissive: null, seresult: null },
    });
    expect(x!.event.records[0]).toEqual({
      type: 'MAC_CONFIG_CHANGE',
      fields: { bool: 'httpd_can_network_connect', val: '1', old_val: '0', comm: 'setsebool' },
    });
    expect(esDocToEvent({ host: { name: 'x' } })).toBeNull();
  });
});
