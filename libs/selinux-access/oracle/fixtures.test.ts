// Hand-written fixture policies, one per verdict kind (libs/selinux-access/fixtures/<VERDICT>/).
// - Our verdicts on the committed binaries (always runs: no oracle needed).
// - checkpolicy rebuilds each policy.conf to exactly the committed policy.33.
// - audit2why (libsepol) gives the expected verdicts and boolean lists too.
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { readPolicy } from '@avcstream/selinux-policy';
import { afterAll, describe, expect, it } from 'vitest';
import { createExplainer } from '../src/index.ts';
import {
  AUDIT2WHY_VERDICT,
  avcFields,
  cacheDir,
  FIXTURES_DIR,
  gate,
  ORACLE_PY,
  PYTHON,
  run,
  sha256,
} from './env.ts';

interface FixtureCase {
  avc: string;
  verdict: string;
  booleans: Array<{ name: string; value: number }>;
  causes?: string[];
  note?: string;
  /** audit2why's verdict where it differs from ours by design (it ignores ioctl xperm rules). */
  audit2why?: string;
}

const fixtures = readdirSync(FIXTURES_DIR, { withFileTypes: true })
  .filter((d) => d.isDirectory())
  .map((d) => d.name)
  .sort();

function cases(dir: string): FixtureCase[] {
  return (JSON.parse(readFileSync(join(FIXTURES_DIR, dir, 'cases.json'), 'utf8')) as { cases: FixtureCase[] })
    .cases;
}

function checkpolicyArgs(dir: string): string[] {
  const first = readFileSync(join(FIXTURES_DIR, dir, 'policy.conf'), 'utf8').split('\n')[0] ?? '';
  const m = /^# checkpolicy (.*)$/.exec(first);
  if (!m) throw new Error(`${dir}/policy.conf: first line must be "# checkpolicy <options>"`);
  return (m[1] as string).split(/\s+/).filter((a) => a !== '');
}

describe('fixture set', () => {
  it('has one fixture per verdict kind', () => {
    expect(fixtures).toEqual(
      [
        'ALLOWED',
        'BOOLEAN',
        'BOUNDS',
        'CONSTRAINT',
        'DONTAUDIT',
        'INVALID_CONTEXT',
        'RBAC',
        'TE_MISSING',
        'UNKNOWN_CLASS',
        'UNKNOWN_PERM',
      ].sort(),
    );
    for (const f of fixtures) expect(cases(f).some((c) => c.verdict === f)).toBe(true);
  });
});

describe.each(fixtures)('fixture %s: our verdicts on the committed binary', (dir) => {
  const policy = readPolicy(readFileSync(join(FIXTURES_DIR, dir, 'policy.33')));
  const explainer = createExplainer(policy);
  it.each(cases(dir).map((c, i) => [i + 1, c] as const))('case %i', (_i, c) => {
    const f = avcFields(c.avc);
    const e = explainer.explain({ ...f, permissive: false });
    expect({ verdict: e.verdict, note: c.note }).toEqual({ verdict: c.verdict, note: c.note });
    const ours = e.booleans.map((b) => ({ name: b.name, value: b.current ? 0 : 1 }));
    expect(ours).toEqual(c.booleans);
    if (c.verdict === 'BOOLEAN') {
      for (const b of e.booleans) expect(b.blastRadius.rules).toBeGreaterThan(0);
      expect(e.fixes.some((x) => x.kind === 'setsebool' && x.verified)).toBe(true);
    }
    if (c.causes) {
      expect(e.constraint).toBeDefined();
      for (const cause of c.causes) expect(e.constraint?.causes).toContain(cause);
    }
  });
});

const cpGate = gate('fixture rebuild with checkpolicy', ['checkpolicy']);
describe.runIf(cpGate.run)('fixtures: checkpolicy rebuilds the committed binaries', () => {
  const tmp = mkdtempSync(join(cacheDir(), 'fixtures-'));
  afterAll(() => rmSync(tmp, { recursive: true, force: true }));
  it('has checkpolicy', () => expect(cpGate.missing).toEqual([]));
  it.each(fixtures)(
    '%s/policy.33 == checkpolicy(policy.conf)',
    (dir) => {
      const out = join(tmp, `${dir}.33`);
      run('checkpolicy', [...checkpolicyArgs(dir), '-o', out, join(FIXTURES_DIR, dir, 'policy.conf')]);
      expect(sha256(readFileSync(out))).toBe(sha256(readFileSync(join(FIXTURES_DIR, dir, 'policy.33'))));
    },
    60_000,
  );
});

const a2wGate = gate('fixture verdicts against audit2why', ['python-modules']);
describe.runIf(a2wGate.run)('fixtures: audit2why agrees with the expected verdicts', () => {
  it('has the audit2why Python module', () => expect(a2wGate.missing).toEqual([]));
  it.each(fixtures)(
    '%s',
    (dir) => {
      const cs = cases(dir);
      const items = cs.map((c) => {
        const f = avcFields(c.avc);
        return [f.scontext, f.tcontext, f.tclass, f.perms];
      });
      const out = JSON.parse(
        run(PYTHON, [ORACLE_PY, 'analyze', join(FIXTURES_DIR, dir, 'policy.33')], JSON.stringify(items)),
      ) as Array<[number, unknown]>;
      const got = out.map(([code, data]) => ({
        verdict: AUDIT2WHY_VERDICT[code],
        booleans:
          code === 3 ? (data as Array<[string, number]>).map(([name, value]) => ({ name, value })) : [],
      }));
      expect(got).toEqual(cs.map((c) => ({ verdict: c.audit2why ?? c.verdict, booleans: c.booleans })));
    },
    60_000,
  );
});
