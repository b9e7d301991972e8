// Every denied kernel AVC of the real audit logs in ../shared/corpus/audit (read in place, never copied),
// replayed against the Debian reference policy: our verdict and boolean list must be audit2why's. Most of
// these logs come from Fedora/RHEL hosts, so many contexts are unknown here (INVALID_CONTEXT, audit2why's
// "Possible mismatch"); the rest exercise TE, booleans, dontaudit and constraints on real denials.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { readPolicy } from '@avcstream/selinux-policy';
import { describe, expect, it } from 'vitest';
import { createExplainer } from '../src/index.ts';
import { type Outcome, oracleOutcome, ourOutcome } from './compare.ts';
import { avcFields, DEBIAN_POLICY, gate, IN_CI, ORACLE_DIR, oracleJson, run } from './env.ts';

const CORPUS = join(ORACLE_DIR, '..', '..', '..', '..', 'shared', 'corpus', 'audit');
const haveCorpus = existsSync(CORPUS);
if (!haveCorpus && !IN_CI) console.warn(`[oracle] SKIPPING corpus AVCs: no corpus at ${CORPUS} (CI=1 fails)`);
const g = gate('corpus AVCs against audit2why', ['python-modules', 'debian-policy']);

/** Raw kernel AVC lines (`type=AVC` or `type=1400`, optional `node=`) that deny something. */
const AVC_LINE = /^(?:node=\S+ )?type=(?:AVC|1400) msg=audit\(/;

function files(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir).sort()) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...files(p));
    else if (!/\.(md|csv|json)$/.test(name)) out.push(p);
  }
  return out;
}

interface DenialLike {
  scontext: string;
  tcontext: string;
  tclass: string;
  perms: string[];
}

const denialKey = (d: DenialLike) => `${d.scontext} ${d.tcontext} ${d.tclass} ${d.perms.join(' ')}`;

/** The denials on which `ours` differs from audit2why's verdict and boolean list (answers cached). */
function disagreements<T extends DenialLike>(list: T[], ours: (d: T) => Outcome) {
  const items = list.map((d) => [d.scontext, d.tcontext, d.tclass, d.perms]);
  const theirs = oracleJson<Array<[number, unknown]>>('analyze', DEBIAN_POLICY, [], JSON.stringify(items));
  return list
    .map((d, i) => {
      const [code, data] = theirs[i] as [number, unknown];
      return { denial: denialKey(d), ours: ours(d), audit2why: oracleOutcome(code, data) };
    })
    .filter((m) => JSON.stringify(m.ours) !== JSON.stringify(m.audit2why));
}

describe.runIf((haveCorpus || IN_CI) && g.run)('corpus AVC denials: our verdicts are audit2why', () => {
  it('has the corpus and the oracle', () => {
    expect(haveCorpus, `corpus missing at ${CORPUS}`).toBe(true);
    expect(g.missing).toEqual([]);
  });

  it('gives audit2why verdict and boolean list for every distinct denial', () => {
    const seen = new Set<string>();
    const denials: Array<ReturnType<typeof avcFields>> = [];
    let lines = 0;
    for (const f of files(CORPUS)) {
      for (const text of readFileSync(f, 'utf8').split('\n')) {
        if (!AVC_LINE.test(text) || !text.includes('avc:  denied') || !text.includes(' tcontext=')) continue;
        lines++;
        const d = avcFields(text);
        const key = denialKey(d);
        if (seen.has(key)) continue;
        seen.add(key);
        denials.push(d);
      }
    }
    // 5,403 denied AVC lines, 2,334 of them distinct.
    expect(lines).toBeGreaterThan(5000);
    const explainer = createExplainer(readPolicy(readFileSync(DEBIAN_POLICY)));
    const mismatches = disagreements(denials, (d) => ourOutcome(explainer, d));
    expect(mismatches.slice(0, 5)).toEqual([]);
    // Not only invalid contexts: real TE, boolean, dontaudit and constraint verdicts are compared too.
    const verdicts = new Set(denials.map((d) => ourOutcome(explainer, d).verdict));
    for (const v of ['INVALID_CONTEXT', 'TE_MISSING', 'BOOLEAN', 'ALLOWED', 'CONSTRAINT', 'DONTAUDIT']) {
      expect(verdicts).toContain(v);
    }
  }, 600_000);

  it('avcstream explain on every corpus log (AVC and USER_AVC, every format) agrees with audit2why', () => {
    // The whole path a user runs: the CLI reads the logs (raw, node=, syslog-wrapped, ENRICHED, USER_AVC
    // msg='...'), and each denied record it reports must get audit2why's verdict and booleans.
    const cli = join(ORACLE_DIR, '..', '..', '..', 'services', 'cli', 'bin', 'avcstream.js');
    const input = files(CORPUS)
      .map((f) => readFileSync(f, 'utf8'))
      .map((t) => (t.endsWith('\n') ? t : `${t}\n`))
      .join('');
    const out = run(
      process.execPath,
      [cli, 'explain', '--policy', DEBIAN_POLICY, '--format', 'ndjson', '-'],
      input,
    );
    interface Row extends DenialLike {
      verdict: string;
      booleans: Array<{ name: string; current: boolean }>;
    }
    const rows = out
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Row);
    const distinct = new Map<string, Row>();
    for (const r of rows) distinct.set(denialKey(r), r);
    const list = [...distinct.values()];
    // 8,752 denied records (MANIFEST.md counts 8,753 denied AVC lines; one is cut short), 2,339 distinct.
    expect(rows.length).toBeGreaterThan(8700);
    expect(list.some((r) => r.scontext.includes('dbusd'))).toBe(true);
    const mismatches = disagreements(list, (r) => ({
      verdict: r.verdict,
      booleans: r.booleans.map((b) => `${b.name}=${b.current ? 0 : 1}`),
    }));
    expect(mismatches.slice(0, 5)).toEqual([]);
  }, 600_000);
});
