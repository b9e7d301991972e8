// Summarises a V8 .cpuprofile (from `node --cpu-prof`): self time per function, top N.
import { readFileSync } from 'node:fs';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
}
interface Profile {
  nodes: ProfileNode[];
  samples?: number[];
  timeDeltas?: number[];
}

export interface HotSpot {
  fn: string;
  where: string;
  selfPct: number;
}

export function topSelfTime(file: string, n = 15): HotSpot[] {
  const prof = JSON.parse(readFileSync(file, 'utf8')) as Profile;
  const byId = new Map<number, ProfileNode>();
  for (const node of prof.nodes) byId.set(node.id, node);
  const self = new Map<number, number>();
  const samples = prof.samples ?? [];
  const deltas = prof.timeDeltas ?? [];
  let total = 0;
  for (let i = 0; i < samples.length; i++) {
    const dt = deltas[i] ?? 0;
    self.set(samples[i]!, (self.get(samples[i]!) ?? 0) + dt);
    total += dt;
  }
  const agg = new Map<string, HotSpot>();
  for (const [id, t] of self) {
    const cf = byId.get(id)?.callFrame;
    if (!cf) continue;
    const url = cf.url.replace(/^file:\/\//, '').replace(/^.*\/work\/main\//, '');
    const where = url ? `${url}:${cf.lineNumber + 1}` : '(native)';
    const fn = cf.functionName || '(anonymous)';
    const key = `${fn}@${where}`;
    const cur = agg.get(key) ?? { fn, where, selfPct: 0 };
    cur.selfPct += total > 0 ? (100 * t) / total : 0;
    agg.set(key, cur);
  }
  return [...agg.values()].sort((a, b) => b.selfPct - a.selfPct).slice(0, n);
}
