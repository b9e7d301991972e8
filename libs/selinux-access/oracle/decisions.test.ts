// Our verdicts == audit2why's on >= 5000 random AVC denials built from the Debian policy's real types,
// classes, permissions, roles, users and rules (TE, boolean-gated, dontaudit, constraint-violating,
// MCS, role changes, invalid contexts, unknown classes/permissions), and the boolean lists are equal.
// audit2why = libsepol via `selinux.audit2why.analyze`, called once per batch (oracle.py gen).
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { readPolicy } from '@avcstream/selinux-policy';
import { beforeAll, describe, expect, it } from 'vitest';
import { createExplainer, type Explainer } from '../src/index.ts';
import { differences, type GenAnswer, type GeneratedDenial, oracleOutcome, ourOutcome } from './compare.ts';
import {
  AUDIT2WHY_VERDICT,
  cacheDir,
  DEBIAN_POLICY,
  debianPolicyConf,
  gate,
  ORACLE_DIR,
  oracleJson,
  oracleSeed,
  run,
  sha256,
} from './env.ts';

const DENIALS = 5000;

const g = gate('decisions vs audit2why', ['python-modules', 'audit2allow', 'checkpolicy', 'debian-policy']);
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

  it("renders every failed constraint exactly as libsepol's explanation text", () => {
    const constrained = answer.denials.filter((d) => d.code === 4);
    const diffs: string[] = [];
    for (const d of constrained) {
      const text = explainer.explain(d).constraint?.text;
      // libsepol ends each paragraph with a newline; ours joins paragraphs with one.
      if (text !== String(d.data).trimEnd())
        diffs.push(`${JSON.stringify(text)} != ${JSON.stringify(d.data)}`);
    }
    expect(constrained.length).toBeGreaterThanOrEqual(150);
    expect(diffs.slice(0, 5), `${diffs.length} of ${constrained.length} differ`).toEqual([]);
  }, 120_000);

  it('suggests for missing TE rules exactly the rule audit2allow writes', () => {
    // One record per distinct (source type, target type, class), so audit2allow merges nothing.
    const seen = new Set<string>();
    const picked: GeneratedDenial[] = [];
    for (const d of answer.denials) {
      const key = `${d.scontext.split(':')[2]} ${d.tcontext.split(':')[2]} ${d.tclass}`;
      if (d.code !== 2 || seen.has(key) || picked.length >= 300) continue;
      seen.add(key);
      picked.push(d);
    }
    expect(picked.length).toBe(300);
    const log = picked
      .map(
        (d, i) =>
          `type=AVC msg=audit(1763900000.${String(i % 1000).padStart(3, '0')}:${1000 + i}): avc:  denied  ` +
          `{ ${d.perms.join(' ')} } for  pid=1 comm="x" scontext=${d.scontext} tcontext=${d.tcontext} ` +
          `tclass=${d.tclass} permissive=0`,
      )
      .join('\n');
    const file = join(cacheDir(), `audit2allow-${sha256(log).slice(0, 16)}.log`);
    writeFileSync(file, `${log}\n`);
    const theirs = run('audit2allow', ['-p', DEBIAN_POLICY, '-i', file])
      .split('\n')
      .filter((l) => l.startsWith('allow '))
      .sort();
    const ours = picked
      .map((d) => explainer.explain(d).fixes.filter((f) => f.kind === 'allow'))
      .map((fs) => (fs.length === 1 ? (fs[0] as { text: string }).text : `(${fs.length} allow fixes)`))
      .sort();
    expect(ours).toEqual(theirs);

    // "verified" must mean: with that rule added to the policy, audit2why says the access is allowed.
    const conf = readFileSync(debianPolicyConf(), 'utf8');
    const at = conf.indexOf('\nuser ');
    expect(at).toBeGreaterThan(0);
    const withRules = `${conf.slice(0, at)}\n${ours.join('\n')}${conf.slice(at)}`;
    const base = join(cacheDir(), `with-fixes-${sha256(withRules).slice(0, 16)}`);
    if (!existsSync(`${base}.33`)) {
      writeFileSync(`${base}.conf`, withRules);
      run('checkpolicy', [
        '-M',
        '-U',
        'allow',
        '-c',
        '33',
        '-o',
        `${base}.${process.pid}.tmp`,
        `${base}.conf`,
      ]);
      renameSync(`${base}.${process.pid}.tmp`, `${base}.33`);
    }
    const after = oracleJson<Array<[number, unknown]>>(
      'analyze',
      `${base}.33`,
      [],
      JSON.stringify(picked.map((d) => [d.scontext, d.tcontext, d.tclass, d.perms])),
    );
    const mismatch = picked
      .map((d, i) => {
        const verified = explainer.explain(d).fixes.some((f) => f.kind === 'allow' && f.verified);
        const code = (after[i] as [number, unknown])[0];
        return verified === (code === 0)
          ? null
          : `${d.scontext} ${d.tcontext} ${d.tclass} ${d.perms}: verified ${verified}, audit2why with the rule: ${AUDIT2WHY_VERDICT[code]}`;
      })
      .filter((x) => x !== null);
    expect(mismatch.slice(0, 5), `${mismatch.length} of ${picked.length}`).toEqual([]);
    // Both kinds occur: plain missing rules, and rules a constraint would still block.
    expect(after.filter(([c]) => c === 0).length).toBeGreaterThanOrEqual(50);
    expect(after.filter(([c]) => c !== 0).length).toBeGreaterThanOrEqual(5);
  }, 180_000);

  it('gives every suggested boolean the blast radius setools counts', () => {
    // For each boolean audit2why suggests somewhere in the sample: the allow rules its flip would enable
    // (avtab entries) and the (source type, target type, class) triples they cover.
    const firstUse = new Map<string, GeneratedDenial>();
    for (const d of answer.denials) {
      if (d.code !== 3) continue;
      for (const [name] of d.data as Array<[string, number]>) if (!firstUse.has(name)) firstUse.set(name, d);
    }
    expect(firstUse.size).toBeGreaterThanOrEqual(40);
    const names = [...firstUse.keys()].sort();
    const theirs = oracleJson<Record<string, { rules: number; triples: number | null }>>(
      'blast',
      DEBIAN_POLICY,
      ['400000'],
      JSON.stringify(names),
    );
    const diffs: string[] = [];
    let triplesChecked = 0;
    for (const name of names) {
      const ours = explainer
        .explain(firstUse.get(name) as GeneratedDenial)
        .booleans.find((b) => b.name === name);
      const t = theirs[name] as { rules: number; triples: number | null };
      const want = { rules: t.rules, triples: t.triples ?? ours?.blastRadius.triples };
      if (t.triples !== null) triplesChecked++;
      if (
        ours === undefined ||
        ours.blastRadius.rules !== want.rules ||
        ours.blastRadius.triples !== want.triples
      ) {
        diffs.push(`${name}: ours ${JSON.stringify(ours?.blastRadius)}, setools ${JSON.stringify(t)}`);
      }
    }
    expect(diffs.slice(0, 10), `${diffs.length} of ${names.length} differ`).toEqual([]);
    expect(triplesChecked).toBeGreaterThanOrEqual(names.length * 0.8);
  }, 180_000);

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

const SAMPLE_POLICY = join(ORACLE_DIR, '..', '..', '..', 'services', 'cli', 'sample', 'policy', 'policy.33');
const SAMPLE_DENIALS = 1500;
const gs = gate('decisions vs audit2why on the sample policy', ['python-modules']);
describe.runIf(gs.run)(
  `verdicts == audit2why on ${SAMPLE_DENIALS} random denials (sample policy: s0-s1, typebounds)`,
  () => {
    it('has the audit2why module', () => expect(gs.missing).toEqual([]));
    if (gs.missing.length > 0) return;
    const seed = oracleSeed();
    it('every denial', () => {
      const answer = oracleJson<GenAnswer>('gen', SAMPLE_POLICY, [String(seed), String(SAMPLE_DENIALS)]);
      const explainer = createExplainer(readPolicy(readFileSync(SAMPLE_POLICY)));
      const byVerdict = (v: string) => answer.denials.filter((d) => AUDIT2WHY_VERDICT[d.code] === v).length;
      expect(byVerdict('CONSTRAINT')).toBeGreaterThanOrEqual(30);
      expect(byVerdict('BOUNDS')).toBeGreaterThanOrEqual(5);
      expect(byVerdict('BOOLEAN')).toBeGreaterThanOrEqual(30);
      const diffs = differences(
        answer.denials,
        (d) => ourOutcome(explainer, d),
        (d) => oracleOutcome(d.code, d.data),
      );
      expect(
        diffs.slice(0, 15),
        `seed ${seed}: ${diffs.length} of ${answer.denials.length} denials differ`,
      ).toEqual([]);
      const constraintText = answer.denials
        .filter((d) => d.code === 4)
        .filter((d) => explainer.explain(d).constraint?.text !== String(d.data).trimEnd());
      expect(constraintText.length).toBe(0);
    }, 180_000);
  },
);
