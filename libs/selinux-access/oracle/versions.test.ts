// The Debian policy rebuilt as v24, v28, v30, v31 and v33 (checkpolicy -M -b policy.33 -F, then
// checkpolicy -M -c N) gives identical decisions, equal to audit2why's on the original; a non-MLS
// variant of the same policy agrees with audit2why on that variant. Rebuilt files are cached in a
// temp dir, never in the repo.
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { readPolicy } from '@avcstream/selinux-policy';
import { beforeAll, describe, expect, it } from 'vitest';
import { createExplainer, type Explainer } from '../src/index.ts';
import { differences, type GenAnswer, type GeneratedDenial, oracleOutcome, ourOutcome } from './compare.ts';
import { cacheDir, DEBIAN_POLICY, gate, oracleJson, oracleSeed, run, sha256 } from './env.ts';

const VERSIONS = [24, 28, 30, 31, 33];
const SAMPLE = 800;

/** Drop every MLS statement and the MLS part of every context from a policy.conf written by checkpolicy -F. */
export function stripMls(conf: string): string {
  const ctx = /\b([\w.-]+:[\w.-]+:[\w.-]+):s\d+(?::[\w.,]+)?(?:\s*-\s*s\d+(?::[\w.,]+)?)?/g;
  const out: string[] = [];
  for (let line of conf.split('\n')) {
    if (
      /^(sensitivity|dominance|category|level|mlsconstrain|mlsvalidatetrans|range_transition|default_range) /.test(
        line,
      )
    ) {
      continue;
    }
    if (line.startsWith('user ')) line = line.replace(/ level .*;/, ';');
    if (/^(sid|fs_use_\w+|genfscon|portcon|netifcon|nodecon|ibpkeycon|ibendportcon) /.test(line)) {
      line = line.replace(ctx, '$1');
    }
    out.push(line);
  }
  return out.join('\n');
}

function stripContext(c: string): string {
  return c.split(':').slice(0, 3).join(':');
}

/** Deterministic choice of booleans to flip (every 7th by name, shifted by the seed). */
function flippedBooleans(conf: string, seed: number): Record<string, boolean> {
  const out: Record<string, boolean> = {};
  const bools = [...conf.matchAll(/^bool (\S+) (true|false);$/gm)].sort((a, b) =>
    (a[1] as string) < (b[1] as string) ? -1 : 1,
  );
  bools.forEach((m, i) => {
    if ((i + seed) % 7 === 0) out[m[1] as string] = m[2] !== 'true';
  });
  return out;
}

/** Build (or reuse) the rebuilt policies; returns version label -> path. */
function buildVariants(): Map<string, string> {
  const dir = join(cacheDir(), `versions-${sha256(readFileSync(DEBIAN_POLICY)).slice(0, 16)}`);
  mkdirSync(dir, { recursive: true });
  const once = (file: string, make: (tmp: string) => void): string => {
    const path = join(dir, file);
    if (!existsSync(path)) {
      const tmp = `${path}.${process.pid}.tmp`;
      make(tmp);
      renameSync(tmp, path);
    }
    return path;
  };
  const conf = once('policy.conf', (tmp) => run('checkpolicy', ['-M', '-b', DEBIAN_POLICY, '-F', '-o', tmp]));
  const out = new Map<string, string>();
  for (const v of VERSIONS) {
    out.set(
      `v${v}`,
      once(`policy.${v}`, (tmp) =>
        run('checkpolicy', ['-M', '-U', 'allow', '-c', String(v), '-o', tmp, conf]),
      ),
    );
  }
  const nomlsConf = once('nomls.conf', (tmp) => writeFileSync(tmp, stripMls(readFileSync(conf, 'utf8'))));
  out.set(
    'non-MLS v33',
    once('nomls.33', (tmp) => run('checkpolicy', ['-U', 'allow', '-c', '33', '-o', tmp, nomlsConf])),
  );
  out.set('conf', conf);
  return out;
}

const g = gate('policy versions and non-MLS variant', ['checkpolicy', 'python-modules', 'debian-policy']);
describe.runIf(g.run)('decisions are identical across policy versions and MLS/non-MLS builds', () => {
  it('has checkpolicy, the audit2why module and the Debian policy', () => expect(g.missing).toEqual([]));
  if (g.missing.length > 0) return;

  const seed = oracleSeed() + 1;
  let variants: Map<string, string>;
  let sample: GenAnswer;
  let v33: Explainer | undefined;
  const rebuilt33 = (): Explainer => {
    v33 ??= createExplainer(readPolicy(readFileSync(variants.get('v33') as string)));
    return v33;
  };
  beforeAll(() => {
    variants = buildVariants();
    sample = oracleJson<GenAnswer>('gen', DEBIAN_POLICY, [String(seed), String(SAMPLE)]);
  }, 300_000);

  it.each(VERSIONS.map((v) => `v${v}`))(
    '%s: same decisions as audit2why on the original policy.33',
    (label) => {
      const path = variants.get(label) as string;
      const policy = readPolicy(readFileSync(path));
      expect(policy.version).toBe(Number(label.slice(1)));
      const explainer = createExplainer(policy);
      const diffs = differences(
        sample.denials,
        (d) => ourOutcome(explainer, d),
        (d) => oracleOutcome(d.code, d.data),
        { booleanOrder: 'any' },
      );
      expect(diffs.slice(0, 10), `${label}, seed ${seed}: ${diffs.length} of ${SAMPLE} differ`).toEqual([]);
      // Rebuilt versions share one numbering: identical outcomes, boolean order included.
      const same = differences(
        sample.denials,
        (d) => ourOutcome(explainer, d),
        (d) => ourOutcome(rebuilt33(), d),
      );
      expect(same.slice(0, 10), `${label} vs rebuilt v33`).toEqual([]);
    },
    120_000,
  );

  it('boolean overrides: same decisions as audit2why on a rebuild whose defaults are those values', () => {
    const conf = readFileSync(variants.get('conf') as string, 'utf8');
    // Every 7th boolean, plus the first suggestion of every other BOOLEAN verdict of the sample, so
    // that the overrides change decisions of this very sample.
    const flips = flippedBooleans(conf, seed);
    sample.denials
      .filter((d) => d.code === 3)
      .forEach((d, i) => {
        const first = (d.data as Array<[string, number]>)[0];
        if (i % 2 === 0 && first) flips[first[0]] = first[1] === 1;
      });
    expect(Object.keys(flips).length).toBeGreaterThanOrEqual(30);
    const key = sha256(JSON.stringify(flips)).slice(0, 12);
    const path = join(dirname(variants.get('conf') as string), `flipped-${key}.33`);
    if (!existsSync(path)) {
      const text = conf.replace(/^bool (\S+) (true|false);$/gm, (line, name: string) =>
        name in flips ? `bool ${name} ${flips[name] ? 'true' : 'false'};` : line,
      );
      const tmpConf = `${path}.${process.pid}.conf`;
      writeFileSync(tmpConf, text);
      run('checkpolicy', ['-M', '-U', 'allow', '-c', '33', '-o', `${path}.${process.pid}.tmp`, tmpConf]);
      renameSync(`${path}.${process.pid}.tmp`, path);
    }
    const answers = oracleJson<Array<[number, unknown]>>(
      'analyze',
      path,
      [],
      JSON.stringify(sample.denials.map((d) => [d.scontext, d.tcontext, d.tclass, d.perms])),
    );
    const explainer = createExplainer(readPolicy(readFileSync(DEBIAN_POLICY)), { booleans: flips });
    let changed = 0;
    const diffs = differences(
      sample.denials,
      (d) => ourOutcome(explainer, d),
      (d) => {
        const [code, data] = answers[sample.denials.indexOf(d)] as [number, unknown];
        if (code !== d.code) changed++;
        return oracleOutcome(code, data);
      },
      { booleanOrder: 'any' },
    );
    expect(diffs.slice(0, 10), `overrides, seed ${seed}: ${diffs.length} of ${SAMPLE} differ`).toEqual([]);
    // The flips matter: some verdicts differ from those under the policy defaults.
    expect(changed).toBeGreaterThanOrEqual(20);
  }, 180_000);

  it('non-MLS variant: same decisions as audit2why on that variant', () => {
    const path = variants.get('non-MLS v33') as string;
    const policy = readPolicy(readFileSync(path));
    expect(policy.mls).toBe(false);
    const seen = new Set<string>();
    const denials: GeneratedDenial[] = [];
    for (const d of sample.denials) {
      const s = { ...d, scontext: stripContext(d.scontext), tcontext: stripContext(d.tcontext) };
      const key = `${s.scontext} ${s.tcontext} ${s.tclass} ${s.perms.join(',')}`;
      if (!seen.has(key)) {
        seen.add(key);
        denials.push(s);
      }
    }
    const answers = oracleJson<Array<[number, unknown]>>(
      'analyze',
      path,
      [],
      JSON.stringify(denials.map((d) => [d.scontext, d.tcontext, d.tclass, d.perms])),
    );
    denials.forEach((d, i) => {
      const a = answers[i] as [number, unknown];
      d.code = a[0];
      d.data = a[1];
    });
    // The MLS-free sample still spans the TE, boolean, constraint and invalid-context verdicts.
    const verdicts = new Set(denials.map((d) => oracleOutcome(d.code, d.data).verdict));
    for (const v of ['ALLOWED', 'TE_MISSING', 'BOOLEAN', 'DONTAUDIT', 'CONSTRAINT', 'INVALID_CONTEXT']) {
      expect(verdicts).toContain(v);
    }
    const explainer = createExplainer(policy);
    const diffs = differences(
      denials,
      (d) => ourOutcome(explainer, d),
      (d) => oracleOutcome(d.code, d.data),
    );
    expect(diffs.slice(0, 10), `non-MLS, seed ${seed}: ${diffs.length} of ${denials.length} differ`).toEqual(
      [],
    );
  }, 180_000);
});
