import type { GroupExplanation, SignatureGroup, VerdictCount } from './types.ts';

/** One signature group of denied records as an aggregation returns it (no samples yet). */
export interface DeniedGroupRow {
  /** Any id unique per (source type, target type, class, permission set), e.g. the analyzer's `signature`. */
  key: string;
  sourceType: string;
  targetType: string;
  class: string;
  /** Sorted, distinct. */
  perms: string[];
  count: number;
  /** Epoch milliseconds of the first and last record. */
  firstMs: number;
  lastMs: number;
  permissive: boolean;
  pathSample: string | null;
  explanation: GroupExplanation | null;
  /** Records per verdict (e.g. a terms aggregation over the stored verdict); absent: none known. */
  verdicts?: VerdictCount[];
  /** The group's `caution` (a stored explanation's); absent: none. */
  caution?: string | null;
}

export type SampleDimension = 'hosts' | 'scontexts' | 'tcontexts' | 'comms' | 'exes';

/** How often one value of one sample dimension occurs in a group, and when it was first seen. */
export interface SampleRow {
  key: string;
  dim: SampleDimension;
  value: string;
  count: number;
  firstMs: number;
}

const DIMS: readonly SampleDimension[] = ['hosts', 'scontexts', 'tcontexts', 'comms', 'exes'];

/**
 * Turns aggregated rows into deny-listing groups with the sample lists `createSummaryBuilder` keeps: per
 * dimension the first `maxSamples` distinct values in first-seen order, and `samplesDropped` counting the
 * records whose value did not fit (ties in first-seen time are broken by value).
 */
export function foldDeniedGroups(
  groups: Iterable<DeniedGroupRow>,
  samples: Iterable<SampleRow>,
  maxSamples: number,
): Array<{ firstEpoch: number; lastEpoch: number; group: SignatureGroup }> {
  const byKey = new Map<string, Map<SampleDimension, SampleRow[]>>();
  for (const s of samples) {
    let dims = byKey.get(s.key);
    if (dims === undefined) {
      dims = new Map();
      byKey.set(s.key, dims);
    }
    const list = dims.get(s.dim);
    if (list === undefined) dims.set(s.dim, [s]);
    else list.push(s);
  }
  const out: Array<{ firstEpoch: number; lastEpoch: number; group: SignatureGroup }> = [];
  for (const g of groups) {
    const group: SignatureGroup = {
      decision: 'denied',
      signature: { sourceType: g.sourceType, targetType: g.targetType, class: g.class, perms: [...g.perms] },
      count: g.count,
      firstSeen: new Date(g.firstMs).toISOString(),
      lastSeen: new Date(g.lastMs).toISOString(),
      hosts: [],
      scontexts: [],
      tcontexts: [],
      comms: [],
      exes: [],
      pathSample: g.pathSample,
      permissive: g.permissive,
      samplesDropped: 0,
      explanation: g.explanation,
      verdicts: (g.verdicts ?? []).map((v) => ({ verdict: v.verdict, count: v.count })),
      caution: g.caution ?? null,
    };
    const dims = byKey.get(g.key);
    for (const dim of DIMS) {
      const rows = [...(dims?.get(dim) ?? [])].sort(
        (a, b) => a.firstMs - b.firstMs || (a.value < b.value ? -1 : a.value > b.value ? 1 : 0),
      );
      rows.forEach((r, i) => {
        if (i < maxSamples) group[dim].push(r.value);
        else group.samplesDropped += r.count;
      });
    }
    out.push({ firstEpoch: g.firstMs / 1000, lastEpoch: g.lastMs / 1000, group });
  }
  return out;
}
