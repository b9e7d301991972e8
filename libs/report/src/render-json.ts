import { z } from 'zod';
import { ReportError } from './errors.ts';
import type { Summary } from './types.ts';

const UNICODE_ESCAPES: Record<string, string> = {
  '<': '\\u003c',
  '>': '\\u003e',
  '&': '\\u0026',
  '\u2028': '\\u2028',
  '\u2029': '\\u2029',
};

/**
 * The JSON form: `Summary` with its stable top-level key order (statistics, policyLoads,
 * enforcementToggles, booleanChanges, allowListing, denyListing, views, truncated, charts, configChanges, and
 * malformedLines when listed).
 * Control characters are escaped by JSON.stringify, and `< > &` U+2028 U+2029 as `\uXXXX`; consumers must
 * still escape values for their own medium.
 */
export function renderJson(summary: Summary, indent = 2): string {
  const ordered: Summary = {
    statistics: summary.statistics,
    policyLoads: summary.policyLoads,
    enforcementToggles: summary.enforcementToggles,
    booleanChanges: summary.booleanChanges,
    allowListing: summary.allowListing,
    denyListing: summary.denyListing,
    views: summary.views,
    truncated: summary.truncated,
    charts: summary.charts,
    configChanges: summary.configChanges,
    ...(summary.malformedLines === undefined ? {} : { malformedLines: summary.malformedLines }),
  };
  // `<`, `>`, `&` and U+2028/U+2029 as \u escapes: still the same JSON, but safe to embed in HTML or JS.
  const text = JSON.stringify(ordered, null, indent).replace(
    /[<>&\u2028\u2029]/g,
    (c) => UNICODE_ESCAPES[c] ?? c,
  );
  return `${text}\n`;
}

const MAX_SUMMARY_BYTES = 64 << 20;

const statisticsSchema = z.object({
  totalMessages: z.number(),
  policyLoads: z.number(),
  enforcementToggles: z.number(),
  booleanChanges: z.number(),
  allowMessages: z.number(),
  deniedMessages: z.number(),
  hosts: z.number(),
  malformed: z.number(),
  firstEvent: z.string().nullable(),
  lastEvent: z.string().nullable(),
  // Added later: summaries written before it (an older state dir) read as 0 / [].
  configChanges: z.number().default(0),
  malformedUnfiltered: z.number().default(0),
});

const summarySchema = z.object({
  statistics: statisticsSchema,
  policyLoads: z.array(z.record(z.string(), z.unknown())),
  enforcementToggles: z.array(z.record(z.string(), z.unknown())),
  booleanChanges: z.array(z.record(z.string(), z.unknown())),
  allowListing: z.array(z.record(z.string(), z.unknown())),
  denyListing: z.array(z.record(z.string(), z.unknown())),
  views: z.array(z.record(z.string(), z.unknown())),
  truncated: z.record(z.string(), z.number()),
  charts: z.object({
    timeline: z.object({ bucketSeconds: z.number(), buckets: z.array(z.unknown()) }),
    topSourceTypes: z.array(z.unknown()),
    topTargetTypes: z.array(z.unknown()),
  }),
  configChanges: z.array(z.record(z.string(), z.unknown())).default([]),
  malformedLines: z.array(z.record(z.string(), z.unknown())).optional(),
});

/**
 * Reads a summary written by `renderJson` (e.g. the embedded mode's state dir). Checks the top-level
 * shape only; throws ReportError AVC_ERR_REPORT_SUMMARY on anything else.
 */
export function parseSummaryJson(text: string): Summary {
  if (text.length > MAX_SUMMARY_BYTES) {
    throw new ReportError('AVC_ERR_REPORT_SUMMARY', 'summary JSON larger than 64 MiB');
  }
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (cause) {
    throw new ReportError('AVC_ERR_REPORT_SUMMARY', 'summary is not valid JSON', { cause });
  }
  const parsed = summarySchema.safeParse(doc);
  if (!parsed.success) {
    throw new ReportError(
      'AVC_ERR_REPORT_SUMMARY',
      `summary JSON has the wrong shape:\n${z.prettifyError(parsed.error)}`,
    );
  }
  const summary = doc as Summary;
  // Groups of a summary written before the verdict breakdown and the caution existed: none known.
  for (const g of [...summary.denyListing, ...summary.views.flatMap((v) => v.groups ?? [])]) {
    if (!Array.isArray(g.verdicts)) g.verdicts = [];
    if (typeof g.caution !== 'string') g.caution = null;
  }
  summary.statistics.configChanges = parsed.data.statistics.configChanges;
  summary.statistics.malformedUnfiltered = parsed.data.statistics.malformedUnfiltered;
  summary.configChanges ??= [];
  summary.truncated.configChanges ??= 0;
  return summary;
}
