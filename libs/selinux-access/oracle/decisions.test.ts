// Our verdicts == audit2why's on >= 5000 random AVC denials built from the Debian policy's real types,
// classes, permissions, roles, users and rules (TE, boolean-gated, dontaudit, constraint-violating,
// MCS, role changes, invalid contexts, unknown classes/permissions), and the boolean lists are equal.
// audit2why = libsepol via `selinux.audit2why.analyze`, called once per batch (oracle.py gen).
import { readFileSync } from 'node:fs';
import { readPolicy } from '@avcstream/selinux-policy';
import { beforeAll, describe, expect, it } from 'vitest';
import { createExplainer, type Explainer } from '../src/index.ts';
import { differences, type GenAnswer, type GeneratedDenial, oracleOutcome, ourOutcome } from './compare.ts';
import { AUDIT2WHY_VERDICT, DEBIAN_POLICY, gate, oracleJson, oracleSeed } from './env.ts';

const DENIALS = 5000;

const g = gate('decisions vs audit2why', ['python-modules', 'debian-policy']);
describe.runIf(g.run)(`verdicts == audit2why on ${DENIALS} random denials (Debian policy)`, () => {
  it('has the audit2why module and the Debian policy', () => expect(g.missing).toEqual([]));
  if (g.missing.length > 0) return;

  const seed = oracleSeed();
  let answer: GenAnswer;
  let explainer: Explainer;
  beforeAll(() => {
    answer = oracleJson<GenAnswer>('gen', DEBIAN_POLICY, [String(seed), String(DENIALS)]);
    explainer = createExplainer(readPolicy(readFileSync(DEBIAN_POLICY)));
  }, 240_000);

  it('the sample covers every case kind audit2why can tell apart in this policy', () => {
    expect(answer.denials).toHaveLength(DENIALS);
    const count = (f: (d: GeneratedDenial) => boolean) => answer.denials.filter(f).length;
    const byVerdict = (v: string) => count((d) => AUDIT2WHY_VERDICT[d.code] === v);
    expect(byVerdict('ALLOWED')).toBeGreaterThanOrEqual(500);
    expect(byVerdict('TE_MISSING')).toBeGreaterThanOrEqual(500);
    expect(byVerdict('BOOLEAN')).toBeGreaterThanOrEqual(150);
    expect(byVerdict('DONTAUDIT')).toBeGreaterThanOrEqual(80);
    expect(byVerdict('CONSTRAINT')).toBeGreaterThanOrEqual(150);
    expect(byVerdict('INVALID_CONTEXT')).toBeGreaterThanOrEqual(300);
    expect(byVerdict('UNKNOWN_CLASS') + byVerdict('UNKNOWN_PERM')).toBeGreaterThanOrEqual(20);
    // MCS constraint failures (mlsconstrain) and boolean lists with more than one entry.
    expect(count((d) => d.code === 4 && String(d.data).includes('mlsconstrain'))).toBeGreaterThanOrEqual(30);
    expect(count((d) => d.code === 3 && (d.data as unknown[]).length > 1)).toBeGreaterThanOrEqual(3);
  });

  it('gives the same verdict and boolean list as audit2why for every denial', () => {
    const diffs = differences(
      answer.denials,
      (d) => ourOutcome(explainer, d),
      (d) => oracleOutcome(d.code, d.data),
    );
    expect(
      diffs.slice(0, 15),
      `seed ${seed}: ${diffs.length} of ${answer.denials.length} denials differ`,
    ).toEqual([]);
  }, 120_000);
});
