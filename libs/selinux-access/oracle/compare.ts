// Shared helpers of the decision oracle tests: the generated denials and both sides' outcomes.
import type { Explainer } from '../src/index.ts';
import { AUDIT2WHY_VERDICT } from './env.ts';

export interface GeneratedDenial {
  kind: string;
  scontext: string;
  tcontext: string;
  tclass: string;
  perms: string[];
  /** audit2why result code and data (boolean list for BOOLEAN, constraint text for CONSTRAINT). */
  code: number;
  data: unknown;
}

export interface GenAnswer {
  seed: number;
  mls: boolean;
  denials: GeneratedDenial[];
}

export interface Outcome {
  verdict: string;
  booleans: string[];
}

/** audit2why's answer in our terms: verdict and `name=value-to-set` list. */
export function oracleOutcome(code: number, data: unknown): Outcome {
  const booleans = code === 3 ? (data as Array<[string, number]>).map(([n, v]) => `${n}=${v}`) : [];
  return { verdict: AUDIT2WHY_VERDICT[code] ?? `code ${code}`, booleans };
}

export function ourOutcome(
  explainer: Explainer,
  d: Pick<GeneratedDenial, 'scontext' | 'tcontext' | 'tclass' | 'perms'>,
) {
  const e = explainer.explain({
    scontext: d.scontext,
    tcontext: d.tcontext,
    tclass: d.tclass,
    perms: d.perms,
  });
  return { verdict: e.verdict, booleans: e.booleans.map((b) => `${b.name}=${b.current ? 0 : 1}`) };
}

/**
 * Compare; return readable lines for the differences. Boolean lists are compared in order (audit2why lists
 * them by boolean value) unless `booleanOrder` is `any`: a policy rebuilt from source renumbers booleans.
 */
export function differences(
  denials: GeneratedDenial[],
  ours: (d: GeneratedDenial) => Outcome,
  theirs: (d: GeneratedDenial) => Outcome,
  opts: { booleanOrder: 'exact' | 'any' } = { booleanOrder: 'exact' },
): string[] {
  const out: string[] = [];
  const norm = (o: Outcome): Outcome =>
    opts.booleanOrder === 'exact' ? o : { verdict: o.verdict, booleans: [...o.booleans].sort() };
  for (const d of denials) {
    const a = norm(ours(d));
    const b = norm(theirs(d));
    if (a.verdict !== b.verdict || a.booleans.join(',') !== b.booleans.join(',')) {
      out.push(
        `[${d.kind}] ${d.scontext} ${d.tcontext} ${d.tclass} { ${d.perms.join(' ')} }: ours ${a.verdict}` +
          `${a.booleans.length ? ` [${a.booleans}]` : ''}, audit2why ${b.verdict}${b.booleans.length ? ` [${b.booleans}]` : ''}`,
      );
    }
  }
  return out;
}
