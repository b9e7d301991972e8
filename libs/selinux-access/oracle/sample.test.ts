// The bundled sample (services/cli/sample): its policy.33 is what policy.conf compiles to, and our
// verdicts on its audit.log are the known truth listed in its README (checked against audit2why too),
// with the policy defaults and with the `booleans` file.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { readPolicy } from '@avcstream/selinux-policy';
import { afterAll, describe, expect, it } from 'vitest';
import { createExplainer, parseBooleans } from '../src/index.ts';
import { oracleOutcome } from './compare.ts';
import { avcFields, cacheDir, gate, ORACLE_DIR, oracleJson, run, sha256 } from './env.ts';

const SAMPLE = join(ORACLE_DIR, '..', '..', '..', 'services', 'cli', 'sample');
const POLICY = join(SAMPLE, 'policy', 'policy.33');

// line -> [verdict with policy defaults, verdict with the booleans file] (README "Per denial" table).
const TRUTH: Record<number, [string, string]> = {
  5: ['TE_MISSING', 'TE_MISSING'],
  11: ['TE_MISSING', 'TE_MISSING'],
  17: ['BOUNDS', 'BOUNDS'],
  26: ['BOOLEAN httpd_read_user_content=1', 'BOOLEAN httpd_read_user_content=1'],
  31: ['BOOLEAN httpd_read_user_content=1', 'BOOLEAN httpd_read_user_content=1'],
  36: ['BOUNDS', 'BOUNDS'],
  41: ['CONSTRAINT', 'CONSTRAINT'],
  46: ['BOOLEAN httpd_read_user_content=1', 'BOOLEAN httpd_read_user_content=1'],
  51: ['BOOLEAN httpd_read_user_content=1', 'BOOLEAN httpd_read_user_content=1'],
  56: ['TE_MISSING', 'TE_MISSING'],
  61: ['INVALID_CONTEXT', 'INVALID_CONTEXT'],
  65: ['BOOLEAN httpd_can_network_connect=1', 'ALLOWED'],
  68: ['INVALID_CONTEXT', 'INVALID_CONTEXT'],
  72: ['BOOLEAN ssh_chroot_rw_homedirs=1', 'BOOLEAN ssh_chroot_rw_homedirs=1'],
  78: ['BOOLEAN httpd_can_network_connect=1', 'ALLOWED'],
  80: ['TE_MISSING', 'TE_MISSING'],
  83: ['CONSTRAINT', 'CONSTRAINT'],
  88: ['UNKNOWN_CLASS', 'UNKNOWN_CLASS'],
  91: ['UNKNOWN_PERM', 'UNKNOWN_PERM'],
  97: ['RBAC', 'RBAC'],
  110: ['ALLOWED', 'BOOLEAN deny_ptrace=0'],
  113: ['INVALID_CONTEXT', 'INVALID_CONTEXT'],
  118: ['TE_MISSING', 'TE_MISSING'],
  123: ['DONTAUDIT', 'DONTAUDIT'],
  127: ['DONTAUDIT', 'DONTAUDIT'],
  133: ['ALLOWED', 'ALLOWED'],
  138: ['TE_MISSING', 'TE_MISSING'],
  146: ['BOOLEAN ssh_chroot_rw_homedirs=1', 'BOOLEAN ssh_chroot_rw_homedirs=1'],
};

/** The well-formed denied AVC / USER_AVC lines of the sample log, by 1-based line number. */
function denials() {
  const out: Array<{ line: number; scontext: string; tcontext: string; tclass: string; perms: string[] }> =
    [];
  readFileSync(join(SAMPLE, 'audit.log'), 'utf8')
    .split('\n')
    .forEach((text, i) => {
      if (!/ (type=AVC|type=USER_AVC) /.test(text) || !text.includes('avc:  denied')) return;
      try {
        out.push({ line: i + 1, ...avcFields(text) });
      } catch {
        // malformed lines (94, 154) carry no complete denial
      }
    });
  return out;
}

describe('bundled sample: verdicts are the README truth', () => {
  const policy = readPolicy(readFileSync(POLICY));
  const booleans = parseBooleans(readFileSync(join(SAMPLE, 'booleans'), 'utf8'));
  const ds = denials();
  const show = (e: { verdict: string; booleans: Array<{ name: string; current: boolean }> }) =>
    [e.verdict, ...e.booleans.map((b) => `${b.name}=${b.current ? 0 : 1}`)].join(' ');

  it('finds the 28 denials', () => {
    expect(ds.map((d) => d.line)).toEqual(Object.keys(TRUTH).map(Number));
  });
  it('with the policy defaults', () => {
    const ex = createExplainer(policy);
    expect(Object.fromEntries(ds.map((d) => [d.line, show(ex.explain(d))]))).toEqual(
      Object.fromEntries(ds.map((d) => [d.line, (TRUTH[d.line] as [string, string])[0]])),
    );
  });
  it('with the booleans file', () => {
    const ex = createExplainer(policy, { booleans });
    expect(Object.fromEntries(ds.map((d) => [d.line, show(ex.explain(d))]))).toEqual(
      Object.fromEntries(ds.map((d) => [d.line, (TRUTH[d.line] as [string, string])[1]])),
    );
  });
  it('avcstream explain --format ndjson prints the same, per line, with both boolean states', () => {
    const cli = join(SAMPLE, '..', 'bin', 'avcstream.js');
    for (const [i, extra] of [
      [0, []],
      [1, ['--booleans', join(SAMPLE, 'booleans')]],
    ] as const) {
      const out = run(process.execPath, [
        cli,
        'explain',
        '--policy',
        POLICY,
        ...extra,
        '--format',
        'ndjson',
        join(SAMPLE, 'audit.log'),
      ]);
      const got = Object.fromEntries(
        out
          .trim()
          .split('\n')
          .map(
            (l) =>
              JSON.parse(l) as {
                line: number;
                verdict: string;
                booleans: Array<{ name: string; current: boolean }>;
              },
          )
          .map((o) => [o.line, show(o)]),
      );
      expect(got).toEqual(Object.fromEntries(Object.entries(TRUTH).map(([line, v]) => [line, v[i]])));
    }
  }, 60_000);

  it('names httpd_read_user_content with its blast radius for the public_html example', () => {
    const d = ds.find((x) => x.line === 26);
    expect(d).toBeDefined();
    const e = createExplainer(policy).explain(d as (typeof ds)[number]);
    expect(e.booleans).toEqual([
      { name: 'httpd_read_user_content', current: false, blastRadius: { rules: 2, triples: 2 } },
    ]);
  });
});

const cp = gate('sample policy rebuild', ['checkpolicy']);
describe.runIf(cp.run)('bundled sample: policy.33 == checkpolicy(policy.conf)', () => {
  const tmp = mkdtempSync(join(cacheDir(), 'sample-'));
  afterAll(() => rmSync(tmp, { recursive: true, force: true }));
  it('has checkpolicy', () => expect(cp.missing).toEqual([]));
  it('rebuilds byte for byte', () => {
    const out = join(tmp, 'policy.33');
    run('checkpolicy', ['-M', '-c', '33', '-o', out, join(SAMPLE, 'policy', 'policy.conf')]);
    expect(sha256(readFileSync(out))).toBe(sha256(readFileSync(POLICY)));
  }, 60_000);
});

const a2w = gate('sample truth vs audit2why', ['python-modules']);
describe.runIf(a2w.run)('bundled sample: audit2why agrees with the truth (policy defaults)', () => {
  it('has the audit2why module', () => expect(a2w.missing).toEqual([]));
  it('every denial', () => {
    const ds = denials();
    const answers = oracleJson<Array<[number, unknown]>>(
      'analyze',
      POLICY,
      [],
      JSON.stringify(ds.map((d) => [d.scontext, d.tcontext, d.tclass, d.perms])),
    );
    const got = Object.fromEntries(
      ds.map((d, i) => {
        const [code, data] = answers[i] as [number, unknown];
        const o = oracleOutcome(code, data);
        return [d.line, [o.verdict, ...o.booleans].join(' ')];
      }),
    );
    expect(got).toEqual(Object.fromEntries(ds.map((d) => [d.line, (TRUTH[d.line] as [string, string])[0]])));
  }, 60_000);
});
