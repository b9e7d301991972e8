import { rankingChart, timelineChart } from './charts.ts';
import { escapeHtml as h } from './escape.ts';
import {
  cautionText,
  malformedScope,
  mixedVerdicts,
  type RenderOptions,
  unlistedMalformed,
} from './render-text.ts';
import type { SignatureGroup, Summary } from './types.ts';

/** The Content-Security-Policy the HTML report declares: no script, no external loads at all. */
export const REPORT_CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:";

const CSS = `
:root { color-scheme: light; }
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; color: #1d2330; margin: 0; background: #eef0f4; }
header { background: #1d2d44; color: #fff; padding: 16px 28px; }
header h1 { margin: 0 0 4px; font-size: 20px; }
header p { margin: 0; color: #c9d3e3; font-size: 13px; }
main { padding: 18px 28px 40px; max-width: 1280px; }
section { background: #fff; border-radius: 6px; padding: 12px 18px 16px; margin: 0 0 16px; box-shadow: 0 1px 2px rgba(0,0,0,.08); }
h2 { font-size: 16px; margin: 4px 0 10px; }
.stats { display: grid; grid-template-columns: repeat(auto-fill, minmax(132px, 1fr)); gap: 10px; }
.stat { background: #f6f7f9; border-radius: 4px; padding: 8px 10px; }
.stat b { display: block; font-size: 20px; }
.stat span { color: #56607a; font-size: 12px; }
.stat.denied b { color: #b03a2e; }
.charts { display: flex; flex-wrap: wrap; gap: 18px; align-items: flex-start; }
.charts figure { margin: 0; }
.charts figcaption { font-size: 12px; color: #56607a; margin-bottom: 4px; }
table { border-collapse: collapse; width: 100%; font-size: 13px; }
table.groups { table-layout: fixed; }
table.groups td { overflow-wrap: anywhere; }
th, td { text-align: left; padding: 4px 8px; border-bottom: 1px solid #e3e6ec; vertical-align: top; }
th { background: #f6f7f9; font-weight: 600; }
td code, li code { font: 12px ui-monospace, SFMono-Regular, Menlo, monospace; overflow-wrap: anywhere; }
.nowrap, .nowrap code { white-space: nowrap; }
.k { color: #7a8399; font-size: 11px; margin-right: 4px; }
td div + div { margin-top: 2px; }
.sig { font: 600 13px ui-monospace, SFMono-Regular, Menlo, monospace; }
.verdict { display: inline-block; padding: 1px 6px; border-radius: 3px; background: #fdebd0; font-size: 12px; }
.permissive { color: #8e6b00; font-size: 12px; }
ul.plain { margin: 0; padding-left: 16px; }
.muted { color: #7a8399; }
.note { color: #8e6b00; font-size: 12px; }
.caution { color: #b03a2e; font-size: 12px; margin: 3px 0; }
`;

function code(values: string[], label = ''): string {
  if (values.length === 0) return label === '' ? '<span class="muted">-</span>' : '';
  const k = label === '' ? '' : `<span class="k">${label}</span>`;
  return values.map((v) => `<div>${k}<code>${h(v)}</code></div>`).join('');
}

/** `2023-11-14T22:13:20.456Z` -> `2023-11-14 22:13:20Z` (the ISO value stays in the title). */
function when(iso: string): string {
  const [date = '', time = ''] = iso.replace(/\.\d+Z$/, 'Z').split('T');
  return `<span title="${h(iso)}"><span class="nowrap">${h(date)}</span> <span class="nowrap">${h(time)}</span></span>`;
}

function truncNote(n: number, what: string): string {
  return n > 0 ? `<p class="note">${n} more ${what} not listed: listing limit reached.</p>` : '';
}

function change(old: number | null, next: number | null): string {
  return `${old ?? '?'} &rarr; ${next ?? '?'}`;
}

function groupsTable(list: SignatureGroup[]): string {
  if (list.length === 0) return '<p class="muted">None.</p>';
  const rows = list.map((g) => {
    const s = g.signature;
    const sig =
      `<span class="sig">${h(s.sourceType)} &rarr; ${h(s.targetType)}:${h(s.class)} ` +
      `{ ${s.perms.map(h).join(' ')} }</span>` +
      (g.permissive ? ' <span class="permissive">permissive</span>' : '') +
      (g.decision === 'granted' ? ' <span class="muted">granted</span>' : '');
    let verdict = '<span class="muted">-</span>';
    const mixed = mixedVerdicts(g);
    // Before the booleans and fixes: they would open an access that guards the system.
    const caution =
      typeof g.caution === 'string' ? `<div class="caution"><b>Caution:</b> ${cautionText(g, h)}.</div>` : '';
    if (g.explanation !== null || mixed !== null || caution !== '') {
      const ex = g.explanation ?? { verdict: '', booleans: [], fixes: [] };
      const items = [
        ...ex.booleans.map(
          (b) =>
            `<li>boolean <code>${h(b.name)}</code> is ${b.current ? 'on' : 'off'}` +
            (b.blastRadius === undefined ? '' : ` (enables ${b.blastRadius.rules} rules)`) +
            '</li>',
        ),
        ...ex.fixes.map((f) =>
          f.kind === 'note'
            ? `<li>${h(f.text)}</li>`
            : `<li><code>${h(f.text)}</code>${f.verified ? '' : ' <span class="muted">(unverified)</span>'}</li>`,
        ),
      ];
      const head =
        mixed === null
          ? g.explanation === null
            ? ''
            : `<span class="verdict">${h(ex.verdict)}</span>`
          : mixed.verdicts.map((v) => `<span class="verdict">${h(v.verdict)}</span> ×${v.count}`).join(', ') +
            (mixed.unknown > 0 ? `, <span class="muted">no verdict</span> ×${mixed.unknown}` : '');
      const firstRecord =
        mixed !== null && items.length > 0
          ? `<div class="muted">records' contexts differ; below: the first record's (${h(ex.verdict)})</div>`
          : '';
      verdict =
        head + caution + firstRecord + (items.length > 0 ? `<ul class="plain">${items.join('')}</ul>` : '');
    }
    return (
      '<tr>' +
      `<td>${sig}</td>` +
      `<td>${g.count}</td>` +
      `<td>${code(g.hosts)}</td>` +
      `<td><div>${when(g.firstSeen)}</div><div>${when(g.lastSeen)}</div></td>` +
      `<td>${code(g.scontexts, 's')}${code(g.tcontexts, 't')}</td>` +
      `<td>${code(g.comms, 'comm') + code(g.exes, 'exe') || '<span class="muted">-</span>'}</td>` +
      `<td>${g.pathSample === null ? '<span class="muted">-</span>' : `${g.pathSample.startsWith('/') ? '' : '<span class="muted">name </span>'}<code>${h(g.pathSample)}</code>`}</td>` +
      `<td>${verdict}</td>` +
      '</tr>'
    );
  });
  return (
    '<table class="groups"><colgroup><col style="width:16%"><col style="width:4%"><col style="width:12%">' +
    '<col style="width:12%"><col style="width:17%"><col style="width:12%"><col style="width:11%">' +
    '<col style="width:16%"></colgroup><thead><tr><th>Signature</th><th>Count</th><th>Hosts</th><th>First / last seen</th>' +
    '<th>Contexts</th><th>Process</th><th>Path or name</th><th>Verdict and fix</th>' +
    `</tr></thead><tbody>${rows.join('')}</tbody></table>`
  );
}

function plainTable(headers: string[], rows: string[][]): string {
  if (rows.length === 0) return '<p class="muted">None.</p>';
  return (
    `<table><thead><tr>${headers.map((x) => `<th>${x}</th>`).join('')}</tr></thead><tbody>` +
    rows.map((r) => `<tr>${r.map((c) => `<td>${c}</td>`).join('')}</tr>`).join('') +
    '</tbody></table>'
  );
}

/**
 * A self-contained HTML page: inline CSS, inline SVG charts, no script, and a CSP meta tag that forbids
 * script and any external load. Every audit-derived value goes through `escapeHtml`.
 */
export function renderHtml(summary: Summary, options: RenderOptions = {}): string {
  const st = summary.statistics;
  const title = options.title ?? 'SELinux audit report';
  const sub: string[] = [`Time span ${h(st.firstEvent ?? '-')} &ndash; ${h(st.lastEvent ?? '-')}`];
  if (options.generatedAt !== undefined) sub.push(`generated ${h(options.generatedAt)}`);
  if (options.sources !== undefined && options.sources.length > 0) {
    sub.push(`from ${options.sources.map((s) => `<code>${h(s)}</code>`).join(', ')}`);
  }
  const stat = (label: string, n: number, cls = '') =>
    `<div class="stat${cls === '' ? '' : ` ${cls}`}"><b>${n}</b><span>${label}</span></div>`;
  const body: string[] = [];
  body.push(
    '<section id="statistics"><h2>Statistics</h2><div class="stats">' +
      stat('SELinux messages', st.totalMessages) +
      stat('denied', st.deniedMessages, 'denied') +
      stat('granted', st.allowMessages) +
      stat('policy loads', st.policyLoads) +
      stat('enforcement toggles', st.enforcementToggles) +
      stat('boolean changes', st.booleanChanges) +
      stat('config changes', st.configChanges) +
      stat('hosts', st.hosts) +
      stat(`malformed lines${h(malformedScope(summary))}`, st.malformed) +
      '</div></section>',
  );
  body.push(
    '<section id="charts"><h2>Charts</h2><div class="charts">' +
      `<figure><figcaption>Denials over time</figcaption>${timelineChart(summary.charts.timeline)}</figure>` +
      `<figure><figcaption>Top source domains (denied)</figcaption>${rankingChart(
        summary.charts.topSourceTypes,
        'chart-sources',
        'Top source domains of denials',
        '#2e6da4',
      )}</figure>` +
      `<figure><figcaption>Top target types (denied)</figcaption>${rankingChart(
        summary.charts.topTargetTypes,
        'chart-targets',
        'Top target types of denials',
        '#8e44ad',
      )}</figure>` +
      '</div></section>',
  );
  body.push(
    '<section id="policy-loads"><h2>Policy loads</h2>' +
      plainTable(
        ['Time', 'Host', 'auid', 'Type', 'exe'],
        summary.policyLoads.map((r) => [
          when(r.time),
          h(r.host),
          h(r.auid ?? '-'),
          h(r.type),
          h(r.exe ?? '-'),
        ]),
      ) +
      truncNote(summary.truncated.policyLoads, 'policy loads') +
      '</section>',
  );
  body.push(
    '<section id="enforcement-toggles"><h2>Enforcement toggles</h2>' +
      plainTable(
        ['Time', 'Host', 'Enforcing', 'auid'],
        summary.enforcementToggles.map((r) => [
          when(r.time),
          h(r.host),
          change(r.old, r.new),
          h(r.auid ?? '-'),
        ]),
      ) +
      truncNote(summary.truncated.enforcementToggles, 'toggles') +
      '</section>',
  );
  body.push(
    '<section id="boolean-changes"><h2>Policy booleans</h2>' +
      plainTable(
        ['Time', 'Host', 'Boolean', 'Value', 'auid'],
        summary.booleanChanges.map((r) => [
          when(r.time),
          h(r.host),
          `<code>${h(r.boolean)}</code>`,
          change(r.old, r.new),
          h(r.auid ?? '-'),
        ]),
      ) +
      truncNote(summary.truncated.booleanChanges, 'boolean changes') +
      '</section>',
  );
  body.push(
    '<section id="config-changes"><h2>Policy configuration changes (semanage)</h2>' +
      plainTable(
        ['Time', 'Host', 'Resource', 'Op', 'Name', 'Value', 'exe', 'Result', 'auid'],
        summary.configChanges.map((r) => [
          when(r.time),
          h(r.host),
          h(r.resource ?? '-'),
          h(r.op ?? '-'),
          `<code>${h(r.name ?? '-')}</code>`,
          h(r.value ?? '-'),
          `<code>${h(r.exe ?? '-')}</code>`,
          h(r.result ?? '-'),
          h(r.auid ?? '-'),
        ]),
      ) +
      truncNote(summary.truncated.configChanges, 'config changes') +
      '</section>',
  );
  body.push(
    '<section id="allow-listing"><h2>Allow listing</h2>' +
      plainTable(
        ['Time', 'Host', 'Source', 'Target', 'Class', 'Perms', 'comm', 'Path'],
        summary.allowListing.map((r) => [
          when(r.time),
          h(r.host),
          `<code>${h(r.scontext)}</code>`,
          `<code>${h(r.tcontext)}</code>`,
          h(r.class),
          r.perms.map(h).join(' '),
          `<code>${h(r.comm ?? '-')}</code>`,
          `<code>${h(r.path ?? '-')}</code>`,
        ]),
      ) +
      truncNote(summary.truncated.allowListing, 'granted messages') +
      '</section>',
  );
  body.push(
    '<section id="deny-listing"><h2>Deny listing (grouped by signature)</h2>' +
      groupsTable(summary.denyListing) +
      truncNote(summary.truncated.denyListing, 'denied messages with new signatures') +
      '</section>',
  );
  summary.views.forEach((v, i) => {
    body.push(
      `<section class="view" id="view-${i + 1}"><h2>View: ${h(v.name)}</h2>` +
        (v.description === null ? '' : `<p>${h(v.description)}</p>`) +
        `<p class="muted">match ${v.match}; ${v.count} messages (${v.denied} denied, ${v.granted} granted)</p>` +
        groupsTable(v.groups) +
        truncNote(v.groupsDropped, 'messages with new signatures') +
        '</section>',
    );
  });
  if (summary.malformedLines !== undefined) {
    body.push(
      '<section id="malformed-lines"><h2>Malformed lines</h2>' +
        plainTable(
          ['File', 'Line', 'Text'],
          summary.malformedLines.map((r) => [
            h(r.file),
            String(r.line),
            `<code>${h(r.text)}</code>${r.cut ? ' <span class="muted">[cut]</span>' : ''}`,
          ]),
        ) +
        truncNote(summary.truncated.malformedLines ?? 0, 'malformed lines') +
        (unlistedMalformed(summary) > 0
          ? `<p class="note">${unlistedMalformed(summary)} more malformed lines counted above are AVC records whose body did not parse: not listed.</p>`
          : '') +
        '</section>',
    );
  }
  return (
    '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">' +
    `<meta http-equiv="Content-Security-Policy" content="${REPORT_CSP}">` +
    '<meta name="viewport" content="width=device-width, initial-scale=1">' +
    `<meta name="referrer" content="no-referrer"><title>${h(title)}</title><style>${CSS}</style></head>\n` +
    `<body><header><h1>${h(title)}</h1><p>${sub.join(' &middot; ')}</p></header>\n<main>\n` +
    body.join('\n') +
    '\n</main></body></html>\n'
  );
}
