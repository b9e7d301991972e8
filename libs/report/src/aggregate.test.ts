// `addDenied` + `foldDeniedGroups` (the Elasticsearch aggregation path of `avcstream report --es`) must give the
// same report as feeding every record: here the rows an aggregation would return are computed in memory.
import { parseAuditText } from '@avcstream/audit';
import { describe, expect, it } from 'vitest';
import { type DeniedGroupRow, foldDeniedGroups, type SampleDimension, type SampleRow } from './aggregate.ts';
import {
  buildSummary,
  createSummaryBuilder,
  DEFAULT_LIMITS,
  fieldFromEvent,
  objectPathOf,
} from './summary.ts';
import { generateAuditLog } from './testing/generate.ts';
import type { EventLike } from './types.ts';

/** What the ES queries return: one row per signature group, one per (group, sample dimension, value). */
function aggregate(events: readonly EventLike[]) {
  const groups = new Map<string, DeniedGroupRow>();
  const samples = new Map<string, SampleRow>();
  const hosts = new Set<string>();
  const perMinute = new Map<number, number>();
  let count = 0;
  for (const ev of events) {
    const host = ev.node ?? 'localhost';
    for (const r of ev.records) {
      const avc = r.avc;
      if ((r.type !== 'AVC' && r.type !== 'USER_AVC') || avc?.decision !== 'denied') continue;
      if (r.fields.apparmor !== undefined) continue;
      count++;
      hosts.add(host);
      const minute = Math.floor(ev.epoch / 60) * 60;
      perMinute.set(minute, (perMinute.get(minute) ?? 0) + 1);
      const perms = [...new Set(avc.perms)].sort();
      const key = [avc.scontext.type, avc.tcontext.type, avc.tclass, perms.join(' ')].join('|');
      const ms = Math.round(ev.epoch * 1000);
      let g = groups.get(key);
      if (g === undefined) {
        g = {
          key,
          sourceType: avc.scontext.type,
          targetType: avc.tcontext.type,
          class: avc.tclass,
          perms,
          count: 0,
          firstMs: ms,
          lastMs: ms,
          permissive: false,
          pathSample: null,
          explanation: null,
        };
        groups.set(key, g);
      }
      g.count++;
      g.firstMs = Math.min(g.firstMs, ms);
      g.lastMs = Math.max(g.lastMs, ms);
      if (avc.permissive === true) g.permissive = true;
      g.pathSample ??= objectPathOf(r, ev);
      const values: Array<[SampleDimension, string | null]> = [
        ['hosts', host],
        ['scontexts', avc.scontext.raw],
        ['tcontexts', avc.tcontext.raw],
        ['comms', fieldFromEvent(r, ev, 'comm')],
        ['exes', fieldFromEvent(r, ev, 'exe')],
      ];
      for (const [dim, value] of values) {
        if (value === null) continue;
        const sk = `${key}\u0000${dim}\u0000${value}`;
        const s = samples.get(sk);
        if (s === undefined) samples.set(sk, { key, dim, value, count: 1, firstMs: ms });
        else s.count++;
      }
    }
  }
  return { count, hosts, perMinute, groups: [...groups.values()], samples: [...samples.values()] };
}

/** The same events without their denied AVC / USER_AVC records. */
function withoutDenied(events: readonly EventLike[]): EventLike[] {
  return events.map((ev) => ({
    ...ev,
    records: ev.records.filter(
      (r) => !((r.type === 'AVC' || r.type === 'USER_AVC') && r.avc?.decision === 'denied'),
    ),
  }));
}

describe('addDenied (aggregated denials)', () => {
  for (const seed of [3, 11, 29]) {
    it(`gives the same summary as adding every record (seed ${seed})`, () => {
      const { text } = generateAuditLog({ seed, events: 600, hostile: true });
      const events = parseAuditText(text).events;
      const limits = { maxSamples: 2 }; // small, so that samples overflow and `samplesDropped` is exercised
      const expected = buildSummary(events, { limits });
      expect(expected.denyListing.some((g) => g.samplesDropped > 0)).toBe(true);

      const b = createSummaryBuilder({ limits });
      for (const ev of withoutDenied(events)) b.add(ev);
      const a = aggregate(events);
      b.addDenied({
        count: a.count,
        hosts: a.hosts,
        timeline: [...a.perMinute].map(([epoch, count]) => ({ epoch, count })),
        groups: foldDeniedGroups(a.groups, a.samples, limits.maxSamples),
      });
      const got = b.build();
      expect(got.statistics).toEqual(expected.statistics);
      expect(got.charts).toEqual(expected.charts);
      expect(got.truncated).toEqual(expected.truncated);
      const norm = (s: typeof got) =>
        s.denyListing.map((g) => ({ ...g, hosts: [...g.hosts].sort(), scontexts: [...g.scontexts].sort() }));
      expect(norm(got)).toEqual(norm(expected));
    });
  }

  it('keeps the first groups up to maxSignatures and counts the records of the others as dropped', () => {
    const { text } = generateAuditLog({ seed: 5, events: 400 });
    const events = parseAuditText(text).events;
    const limits = { maxSignatures: 3 };
    const expected = buildSummary(events, { limits });
    const b = createSummaryBuilder({ limits });
    for (const ev of withoutDenied(events)) b.add(ev);
    const a = aggregate(events);
    b.addDenied({
      count: a.count,
      hosts: a.hosts,
      timeline: [],
      groups: foldDeniedGroups(a.groups, a.samples, DEFAULT_LIMITS.maxSamples),
    });
    const got = b.build();
    expect(got.denyListing.map((g) => g.signature)).toEqual(expected.denyListing.map((g) => g.signature));
    expect(got.truncated.denyListing).toBe(expected.truncated.denyListing);
    expect(got.truncated.denyListing).toBeGreaterThan(0);
  });
});

describe('foldDeniedGroups', () => {
  it("carries a row's caution to its group (null when the row has none)", () => {
    const row = (key: string, caution?: string | null): DeniedGroupRow => ({
      key,
      sourceType: 'httpd_t',
      targetType: key,
      class: 'file',
      perms: ['read'],
      count: 1,
      firstMs: 1_700_000_000_000,
      lastMs: 1_700_000_000_000,
      permissive: false,
      pathSample: null,
      explanation: { verdict: 'TE_MISSING', booleans: [], fixes: [] },
      ...(caution === undefined ? {} : { caution }),
    });
    const reason = 'shadow_t holds authentication data (a file type outside non_auth_file_type)';
    const folded = foldDeniedGroups([row('shadow_t', reason), row('etc_t', null), row('tmp_t')], [], 8);
    expect(folded.map((f) => f.group.caution)).toEqual([reason, null, null]);
  });
});
