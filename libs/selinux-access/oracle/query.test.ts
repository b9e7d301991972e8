// queryRules (`avcstream policy query`) == sesearch -A/--auditallow/--dontaudit -s S -t T -c C (indirect
// matching through attributes, conditional rules included) on random triples of the Debian policy.
// The oracle answers come from setools in one Python process (oracle.py query); its indexed search is
// self-checked there against setools.TERuleQuery, and one triple here against the sesearch binary.
import { readFileSync } from 'node:fs';
import { type Policy, queryRules, readPolicy } from '@avcstream/selinux-policy';
import { beforeAll, describe, expect, it } from 'vitest';
import { DEBIAN_POLICY, gate, oracleJson, oracleSeed, run } from './env.ts';

const TRIPLES = 200;

interface QueryAnswer {
  triples: Array<{ source: string; target: string; tclass: string; rules: string[] }>;
}

const g = gate('policy query vs sesearch', ['python-modules', 'sesearch', 'debian-policy']);
describe.runIf(g.run)('queryRules == sesearch (Debian policy)', () => {
  it('has setools and the Debian policy', () => expect(g.missing).toEqual([]));
  if (g.missing.length > 0) return;

  const seed = oracleSeed();
  let answer: QueryAnswer;
  let policy: Policy;
  beforeAll(() => {
    answer = oracleJson<QueryAnswer>('query', DEBIAN_POLICY, [String(seed), String(TRIPLES)]);
    policy = readPolicy(readFileSync(DEBIAN_POLICY));
  }, 240_000);
  const ours = (s: string, t: string, c: string) =>
    queryRules(policy, { source: s, target: t, tclass: c, kinds: ['allow', 'auditallow', 'dontaudit'] })
      .map((r) => r.text)
      .sort();

  it(`covers ${TRIPLES} triples with attributes and conditional rules`, () => {
    expect(answer.triples).toHaveLength(TRIPLES);
    const attrs = new Set(policy.types.filter((t) => t.isAttribute).map((t) => t.name));
    expect(
      answer.triples.filter((q) => attrs.has(q.source) || attrs.has(q.target)).length,
    ).toBeGreaterThanOrEqual(20);
    expect(
      answer.triples.filter((q) => q.rules.some((r) => r.includes(' ]:'))).length,
    ).toBeGreaterThanOrEqual(50);
    expect(answer.triples.filter((q) => q.rules.length === 0).length).toBeGreaterThanOrEqual(5);
  });

  it('returns the same rule lines for every triple', () => {
    const diffs: string[] = [];
    for (const q of answer.triples) {
      const got = ours(q.source, q.target, q.tclass);
      const want = [...q.rules].sort();
      if (JSON.stringify(got) !== JSON.stringify(want)) {
        const missing = want.filter((r) => !got.includes(r));
        const extra = got.filter((r) => !want.includes(r));
        diffs.push(
          `-s ${q.source} -t ${q.target} -c ${q.tclass}: ${got.length} vs ${want.length} rules; ` +
            `missing ${JSON.stringify(missing.slice(0, 3))} extra ${JSON.stringify(extra.slice(0, 3))}`,
        );
      }
    }
    expect(
      diffs.slice(0, 10),
      `seed ${seed}: ${diffs.length} of ${answer.triples.length} triples differ`,
    ).toEqual([]);
  }, 60_000);

  it('agrees with the sesearch binary itself on one triple', () => {
    const out = run('sesearch', [
      '--allow',
      '--auditallow',
      '--dontaudit',
      '-s',
      'httpd_t',
      '-t',
      'user_home_t',
      '-c',
      'dir',
      DEBIAN_POLICY,
    ]);
    const want = out
      .split('\n')
      .map((l) => l.trim())
      .filter((l) => l !== '')
      .sort();
    expect(want.length).toBeGreaterThan(0);
    expect(ours('httpd_t', 'user_home_t', 'dir')).toEqual(want);
  }, 60_000);
});
