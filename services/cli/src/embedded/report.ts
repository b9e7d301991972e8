import { join } from 'node:path';
import type { AuditEvent } from '@avcstream/audit';
import { createSummaryBuilder, renderHtml, renderJson, renderText, type Summary } from '@avcstream/report';
import type { Store } from '@avcstream/store';
import { writeFileAtomic } from '@avcstream/tail';
import type { ExplainFn } from './explain.ts';

export interface Reporter {
  add(event: AuditEvent): void;
  addMalformed(n: number): void;
  build(): Summary;
  /** Render text, HTML and JSON into the state dir (atomic replace). */
  write(): Promise<{ html: string; text: string; json: string; summary: Summary }>;
  /** The report as HTML, re-rendered at most every `htmlMaxAgeMs` (default 5 s) so `/` stays cheap. */
  latestHtml(): string;
}

export function createReporter(opts: {
  store: Store;
  stateDir: string;
  defaultHost: string;
  explain: ExplainFn | null;
  sources: string[];
  now?: () => Date;
  htmlMaxAgeMs?: number;
}): Reporter {
  const now = opts.now ?? (() => new Date());
  const explain = opts.explain;
  const lookup = explain === null ? undefined : (d: Parameters<ExplainFn>[0]) => explain(d);
  const builder = createSummaryBuilder({ defaultHost: opts.defaultHost });
  // The report covers the events the store keeps (bounded), plus what this run adds.
  for (const e of opts.store.events()) builder.add(e as AuditEvent, lookup);
  builder.addMalformed(opts.store.counters().malformed ?? 0);
  let lastHtml: string | null = null;
  let lastAt = 0;
  const maxAge = opts.htmlMaxAgeMs ?? 5_000;

  // The renderers' default title, as `avcstream report` writes it: one report, whichever command made it.
  const renderOpts = () => ({
    generatedAt: now().toISOString(),
    sources: opts.sources,
  });

  return {
    add: (e) => builder.add(e, lookup),
    addMalformed: (n) => builder.addMalformed(n),
    build: () => builder.build(),
    async write() {
      const summary = builder.build();
      const o = renderOpts();
      const html = renderHtml(summary, o);
      const text = renderText(summary, o);
      const json = renderJson(summary);
      const files = {
        html: join(opts.stateDir, 'report.html'),
        text: join(opts.stateDir, 'report.txt'),
        json: join(opts.stateDir, 'summary.json'),
      };
      await writeFileAtomic(files.html, html);
      await writeFileAtomic(files.text, text);
      await writeFileAtomic(files.json, json);
      lastHtml = html;
      lastAt = now().getTime();
      return { ...files, summary };
    },
    latestHtml() {
      const t = now().getTime();
      if (lastHtml === null || t - lastAt >= maxAge) {
        lastHtml = renderHtml(builder.build(), renderOpts());
        lastAt = t;
      }
      return lastHtml;
    },
  };
}
