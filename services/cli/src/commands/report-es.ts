// `avcstream report --es`: the summary from the analyzer's Elasticsearch indices (see @avcstream/contracts
// indexNames). Denials, the large index, are summarised by aggregations in Elasticsearch; the SELinux events
// index (MAC_*, granted AVCs) is small and listed row by row; views page through the matching documents.
import { avcPortOf, ioctlCommandOf } from '@avcstream/audit';
import type { EsClient } from '@avcstream/elasticsearch';
import { cautionOfEvidence } from '@avcstream/selinux-access';
import {
  createSummaryBuilder,
  DEFAULT_LIMITS,
  type DeniedGroupRow,
  type EventLike,
  type ExplainLookup,
  foldDeniedGroups,
  type RecordLike,
  type SampleDimension,
  type SampleRow,
  type Summary,
  type SummaryOptions,
} from '@avcstream/report';

/** Documents or buckets per request; `AVCSTREAM_ES_PAGE_SIZE` (1–10000) overrides it. */
const PAGE = (() => {
  const n = Number(process.env.AVCSTREAM_ES_PAGE_SIZE);
  return Number.isInteger(n) && n >= 1 && n <= 10_000 ? n : 1000;
})();
/** The timeline's finest bucket, as in the summary builder: 60 s, doubled until the span fits. */
const BASE_BUCKET_S = 60;

type Json = Record<string, unknown>;
const obj = (v: unknown): Json =>
  typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Json) : {};
const strOrNull = (v: unknown): string | null => (typeof v === 'string' ? v : null);

function contextOf(
  v: unknown,
): { user: string; role: string; type: string; level: string | null; raw: string } | null {
  const c = obj(v);
  if (typeof c.user !== 'string' || typeof c.role !== 'string' || typeof c.type !== 'string') return null;
  const level = strOrNull(c.level);
  return {
    user: c.user,
    role: c.role,
    type: c.type,
    level,
    raw: [c.user, c.role, c.type, ...(level === null ? [] : [level])].join(':'),
  };
}

/**
 * One analyzer document (`<prefix>-denials` or `<prefix>-selinux-events`) as a one-record event, plus the
 * explanation the analyzer stored with a denial. Returns null for a document of another shape.
 */
export function esDocToEvent(source: unknown): { event: EventLike; explain: ExplainLookup } | null {
  const d = obj(source);
  const ts = strOrNull(d['@timestamp']);
  const ms = ts === null ? Number.NaN : Date.parse(ts);
  const host = strOrNull(obj(d.host).name);
  if (!Number.isFinite(ms) || host === null) return null;
  const ev = obj(d.event);
  const proc = obj(d.process);
  const se = obj(d.selinux);
  const fields: Record<string, string> = {};
  const comm = strOrNull(proc.name);
  const exe = strOrNull(proc.executable);
  const path = strOrNull(obj(d.file).path);
  const auditd = obj(d.auditd);
  for (const [k, v] of Object.entries(obj(auditd.data))) if (typeof v === 'string') fields[k] = v;
  if (comm !== null) fields.comm = comm;
  if (exe !== null) fields.exe = exe;
  if (path !== null) fields.path = path;
  const original = strOrNull(ev.original) ?? '';
  const type =
    typeof auditd.message_type === 'string'
      ? auditd.message_type.toUpperCase()
      : (/(?:^|\s)type=(USER_AVC|AVC)\s/.exec(original)?.[1] ?? 'AVC');
  const record: RecordLike = { type, fields };
  const scontext = contextOf(se.scontext);
  const tcontext = contextOf(se.tcontext);
  const seresult = se.seresult;
  if (
    (seresult === 'denied' || seresult === 'granted') &&
    scontext !== null &&
    tcontext !== null &&
    typeof se.tclass === 'string'
  ) {
    record.avc = {
      decision: seresult,
      perms: Array.isArray(se.perms) ? se.perms.filter((p): p is string => typeof p === 'string') : [],
      scontext,
      tcontext,
      tclass: se.tclass,
      permissive: typeof se.permissive === 'boolean' ? se.permissive : null,
    };
    fields.seresult = seresult;
  }
  const decision = obj(d.decision);
  const explain: ExplainLookup = () => {
    if (typeof decision.verdict !== 'string') return null;
    const fixes = Array.isArray(decision.fix) ? decision.fix.map(obj) : [];
    const booleans = Array.isArray(decision.booleans) ? decision.booleans.map(obj) : [];
    const caution = cautionOfEvidence(decision.evidence);
    return {
      verdict: decision.verdict,
      fixes: fixes.map((f) => ({
        kind: String(f.kind ?? ''),
        text: String(f.text ?? ''),
        verified: f.verified === true,
      })),
      booleans: booleans.map((b) => {
        const r = obj(b.blast_radius);
        return {
          name: String(b.name ?? ''),
          current: b.current === true,
          ...(typeof r.rules === 'number' && typeof r.triples === 'number'
            ? { blastRadius: { rules: r.rules, triples: r.triples } }
            : {}),
        };
      }),
      ...(caution === null ? {} : { caution }),
    };
  };
  const serial = typeof ev.sequence === 'number' ? ev.sequence : 0;
  return {
    event: { node: host, time: new Date(ms).toISOString(), epoch: ms / 1000, serial, records: [record] },
    explain,
  };
}

const STREAM_SORT = [
  { '@timestamp': 'asc' },
  { 'host.name': 'asc' },
  { 'event.sequence': 'asc' },
  { 'avcstream.record_index': 'asc' },
];

/** Every document matching `query`, in stream order, in pages (search_after). */
async function pageDocs(
  es: EsClient,
  index: string,
  query: Json,
  onDoc: (source: unknown) => void,
): Promise<void> {
  let after: unknown[] | undefined;
  for (;;) {
    const page = await es.search(index, {
      size: PAGE,
      query,
      sort: STREAM_SORT,
      track_total_hits: false,
      ...(after === undefined ? {} : { search_after: after }),
    });
    for (const hit of page.hits) onDoc(hit.source);
    const last = page.hits.at(-1);
    if (page.hits.length < PAGE || last === undefined) return;
    const src = obj(last.source);
    after = [
      Date.parse(String(src['@timestamp'])),
      obj(src.host).name,
      obj(src.event).sequence,
      obj(src.avcstream).record_index,
    ];
  }
}

interface CompositeBucket {
  key: Record<string, unknown>;
  doc_count: number;
  [sub: string]: unknown;
}

/** Every bucket of a composite aggregation over `sources`, page by page (`after_key`). */
async function compositeBuckets(
  es: EsClient,
  index: string,
  query: Json,
  sources: Array<Record<string, Json>>,
  aggs: Json,
  onBucket: (b: CompositeBucket) => void,
): Promise<void> {
  let after: unknown;
  for (;;) {
    const r = await es.search(index, {
      size: 0,
      query,
      track_total_hits: false,
      aggs: {
        c: {
          composite: { size: PAGE, sources, ...(after === undefined ? {} : { after }) },
          ...(Object.keys(aggs).length > 0 ? { aggs } : {}),
        },
      },
    });
    const c = obj(obj(r.aggregations).c);
    const buckets = Array.isArray(c.buckets) ? (c.buckets as CompositeBucket[]) : [];
    for (const b of buckets) onBucket(b);
    if (buckets.length < PAGE || c.after_key === undefined) return;
    after = c.after_key;
  }
}

const metric = (b: CompositeBucket, name: string): number => {
  const v = obj(b[name]).value;
  return typeof v === 'number' ? v : Number.NaN;
};

const str = (v: unknown): string | null => (typeof v === 'string' && v !== '' ? v : null);

function contextRaw(key: Record<string, unknown>, type: string): string {
  const level = str(key.level);
  return [String(key.user ?? ''), String(key.role ?? ''), type, ...(level === null ? [] : [level])].join(':');
}

/** The width of the timeline buckets for a span (seconds): 60 s doubled until it fits in `maxBuckets`. */
function bucketSecondsFor(minS: number, maxS: number, maxBuckets: number): number {
  let w = BASE_BUCKET_S;
  while (Math.floor(maxS / w) - Math.floor(minS / w) + 1 > maxBuckets) w *= 2;
  return w;
}

/** The denials index, summarised in Elasticsearch: totals, hosts, timeline, signature groups and samples. */
async function addDenials(
  es: EsClient,
  index: string,
  query: Json,
  builder: ReturnType<typeof createSummaryBuilder>,
  options: SummaryOptions,
): Promise<void> {
  const limits = { ...DEFAULT_LIMITS, ...options.limits };
  const overview = await es.search(index, {
    size: 0,
    query,
    track_total_hits: true,
    aggs: { first: { min: { field: '@timestamp' } }, last: { max: { field: '@timestamp' } } },
  });
  const count = overview.total;
  if (count === 0) return;
  const firstMs = Number(obj(obj(overview.aggregations).first).value);
  const lastMs = Number(obj(obj(overview.aggregations).last).value);

  const hosts: string[] = [];
  await compositeBuckets(es, index, query, [{ host: { terms: { field: 'host.name' } } }], {}, (b) => {
    if (typeof b.key.host === 'string') hosts.push(b.key.host);
  });

  const width = bucketSecondsFor(firstMs / 1000, lastMs / 1000, limits.maxBuckets);
  const histogram = await es.search(index, {
    size: 0,
    query,
    track_total_hits: false,
    aggs: { t: { date_histogram: { field: '@timestamp', fixed_interval: `${width}s`, min_doc_count: 1 } } },
  });
  const tBuckets = obj(obj(histogram.aggregations).t).buckets;
  const timeline = (Array.isArray(tBuckets) ? tBuckets : []).map((b) => ({
    epoch: Number(obj(b).key) / 1000,
    count: Number(obj(b).doc_count),
  }));

  // One bucket per signature (the analyzer's id over source type, target type, class and permission set): its
  // first document gives the signature, the stored verdict and fixes; its first document with a path, the path;
  // a terms aggregation the documents per stored verdict (records of one signature whose full contexts differ
  // can get different verdicts; documents without one, no policy then, are not counted).
  const groups: DeniedGroupRow[] = [];
  const firstDoc = { size: 1, sort: STREAM_SORT };
  await compositeBuckets(
    es,
    index,
    query,
    [{ sig: { terms: { field: 'signature' } } }],
    {
      first: { min: { field: '@timestamp' } },
      last: { max: { field: '@timestamp' } },
      permissive: { filter: { term: { 'selinux.permissive': true } } },
      verdicts: { terms: { field: 'decision.verdict', size: 32 } },
      doc: { top_hits: firstDoc },
      path: {
        filter: { exists: { field: 'file.path' } },
        aggs: { doc: { top_hits: { ...firstDoc, _source: ['file.path'] } } },
      },
    },
    (b) => {
      const hit = topHit(b.doc);
      const x = hit === undefined ? null : esDocToEvent(hit);
      const rec = x?.event.records[0];
      const avc = rec?.avc;
      if (x === null || rec === undefined || avc === undefined || typeof b.key.sig !== 'string') return;
      const e = x.explain({
        scontext: avc.scontext.raw,
        tcontext: avc.tcontext.raw,
        tclass: avc.tclass,
        perms: avc.perms,
        permissive: avc.permissive,
        ioctlcmd: ioctlCommandOf(rec),
        port: avcPortOf(rec),
      });
      groups.push({
        key: b.key.sig,
        sourceType: avc.scontext.type,
        targetType: avc.tcontext.type,
        class: avc.tclass,
        perms: [...new Set(avc.perms)].sort(),
        count: b.doc_count,
        firstMs: metric(b, 'first'),
        lastMs: metric(b, 'last'),
        permissive: Number(obj(b.permissive).doc_count) > 0,
        pathSample: str(obj(obj(topHit(obj(b.path).doc)).file).path),
        verdicts: verdictBuckets(b.verdicts),
        caution: e?.caution ?? null,
        explanation:
          e == null
            ? null
            : {
                verdict: e.verdict,
                fixes: e.fixes.map((f) => ({ kind: f.kind, text: f.text, verified: f.verified })),
                booleans: e.booleans.map((bo) => ({ ...bo })),
              },
      });
    },
  );

  // Sample values per signature, each with its count and first time: the folding keeps the first ones.
  const samples: SampleRow[] = [];
  const first = { first: { min: { field: '@timestamp' } } };
  const sig = { sig: { terms: { field: 'signature' } } };
  const byGroup = new Map(groups.map((g) => [g.key, g]));
  type SampleQuery = [
    SampleDimension,
    Array<Record<string, Json>>,
    (k: Record<string, unknown>) => string | null,
  ];
  const field = (f: string): SampleQuery[1] => [sig, { v: { terms: { field: f } } }];
  const context = (c: 'scontext' | 'tcontext'): SampleQuery => [
    c === 'scontext' ? 'scontexts' : 'tcontexts',
    [
      sig,
      { user: { terms: { field: `selinux.${c}.user` } } },
      { role: { terms: { field: `selinux.${c}.role` } } },
      { level: { terms: { field: `selinux.${c}.level`, missing_bucket: true } } },
    ],
    (k) => {
      const g = byGroup.get(String(k.sig));
      return g === undefined ? null : contextRaw(k, c === 'scontext' ? g.sourceType : g.targetType);
    },
  ];
  const sampleQueries: SampleQuery[] = [
    ['hosts', field('host.name'), (k) => str(k.v)],
    ['comms', field('process.name'), (k) => str(k.v)],
    ['exes', field('process.executable'), (k) => str(k.v)],
    context('scontext'),
    context('tcontext'),
  ];
  for (const [dim, sources, sampleOf] of sampleQueries) {
    await compositeBuckets(es, index, query, sources, first, (b) => {
      const value = sampleOf(b.key);
      if (value !== null && typeof b.key.sig === 'string')
        samples.push({ key: b.key.sig, dim, value, count: b.doc_count, firstMs: metric(b, 'first') });
    });
  }

  builder.addDenied({ count, hosts, timeline, groups: foldDeniedGroups(groups, samples, limits.maxSamples) });
}

/** The buckets of a terms aggregation over the stored verdict, as verdict counts. */
function verdictBuckets(agg: unknown): Array<{ verdict: string; count: number }> {
  const buckets = obj(agg).buckets;
  return (Array.isArray(buckets) ? buckets : []).flatMap((b) => {
    const x = obj(b);
    return typeof x.key === 'string' && typeof x.doc_count === 'number' && x.doc_count > 0
      ? [{ verdict: x.key, count: x.doc_count }]
      : [];
  });
}

function topHit(agg: unknown): unknown {
  const hits = obj(obj(agg).hits).hits;
  return Array.isArray(hits) ? obj(hits[0])._source : undefined;
}

/**
 * The summary of the analyzer's documents: statistics, charts and the deny listing from aggregations over
 * `<prefix>-denials*`, the other listings from `<prefix>-selinux-events*` row by row. Views need each record
 * (seaudit globs), so with views the matching documents of both indices are read too.
 */
export async function fromElasticsearch(
  url: string,
  prefix: string,
  options: SummaryOptions,
): Promise<Summary> {
  const { createEsClient } = await import('@avcstream/elasticsearch');
  const es = createEsClient({ node: url, retry: { attempts: 3 } });
  try {
    const filter: Json[] = [];
    if (options.since !== undefined || options.until !== undefined) {
      const range: Json = { format: 'epoch_millis' };
      if (options.since !== undefined) range.gte = Math.floor(options.since * 1000);
      if (options.until !== undefined) range.lte = Math.ceil(options.until * 1000);
      filter.push({ range: { '@timestamp': range } });
    }
    if (options.hosts !== undefined) filter.push({ terms: { 'host.name': options.hosts } });
    const query = { bool: { filter } };
    const denials = `${prefix}-denials*`;
    const events = `${prefix}-selinux-events*`;

    const builder = createSummaryBuilder({ ...options, views: [] });
    await pageDocs(es, events, query, (source) => {
      const x = esDocToEvent(source);
      if (x !== null) builder.add(x.event, x.explain);
    });
    await addDenials(es, denials, query, builder, options);
    const summary = builder.build();
    if ((options.views ?? []).length === 0) return summary;

    const viewsOnly = createSummaryBuilder(options);
    const avcOnly = { bool: { filter: [...filter, { exists: { field: 'selinux.seresult' } }] } };
    for (const index of [denials, events]) {
      await pageDocs(es, index, avcOnly, (source) => {
        const x = esDocToEvent(source);
        if (x !== null) viewsOnly.add(x.event, x.explain);
      });
    }
    return { ...summary, views: viewsOnly.build().views };
  } finally {
    await es.close();
  }
}
