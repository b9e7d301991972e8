import { escapeText as e } from './escape.ts';
import type { SignatureGroup, Summary, VerdictCount } from './types.ts';

/** Header facts the caller knows (the core never reads the clock). */
export interface RenderOptions {
  title?: string;
  /** ISO time the report was made. */
  generatedAt?: string;
  /** Where the data came from (file names, an ES URL, a state dir). */
  sources?: string[];
}

const RULE = '-'.repeat(72);

function heading(title: string): string {
  return `\n${title}\n${'-'.repeat(title.length)}\n`;
}

function table(headers: string[], rows: string[][]): string {
  const widths = headers.map((h, i) =>
    Math.min(60, Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length))),
  );
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i] ?? 0)))
      .join('  ')
      .trimEnd();
  return [line(headers), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n') + '\n';
}

function change(old: number | null, next: number | null): string {
  return `${old ?? '?'} -> ${next ?? '?'}`;
}

/**
 * Malformed lines counted but neither listed nor dropped from the listing: AVC records whose body did not
 * parse (the summary counts them; their raw line is not kept).
 */
export function unlistedMalformed(summary: Summary): number {
  const listed = (summary.malformedLines?.length ?? 0) + (summary.truncated.malformedLines ?? 0);
  return Math.max(0, summary.statistics.malformed - listed);
}

/**
 * The group's verdict breakdown when its records did not all get the same verdict (more than one verdict, or
 * some records without one), else null: `[[verdict, count]...]` plus the records without a verdict.
 */
export function mixedVerdicts(g: SignatureGroup): { verdicts: VerdictCount[]; unknown: number } | null {
  const verdicts = g.verdicts ?? [];
  const known = verdicts.reduce((n, v) => n + v.count, 0);
  const unknown = Math.max(0, g.count - known);
  if (verdicts.length > 1 || (verdicts.length === 1 && unknown > 0)) return { verdicts, unknown };
  return null;
}

/**
 * Says which malformed lines a host or time filter could not be applied to (counted for the whole input), or
 * ''.
 */
export function malformedScope(summary: Summary): string {
  const st = summary.statistics;
  const n = st.malformedUnfiltered ?? 0;
  if (n <= 0) return '';
  const of = n >= st.malformed ? '' : `${n} of them `;
  return ` (${of}in the input, all hosts and times: not filtered)`;
}

/**
 * The group's caution as a sentence (as the console alert says it), each audit-derived part through `esc`:
 * the reason, why it matters and what to do first.
 */
export function cautionText(g: SignatureGroup, esc: (s: string) => string): string {
  return (
    `${esc(g.caution ?? '')}; this denial may come from an attack or a compromised process rather than a gap in the ` +
    `policy: find out why ${esc(g.signature.sourceType)} asked before applying a fix`
  );
}

function truncNote(n: number, what: string): string {
  return n > 0 ? `(${n} more ${what} not listed: listing limit reached)\n` : '';
}

function group(g: SignatureGroup, index: number): string {
  const s = g.signature;
  const out: string[] = [];
  out.push(
    `[${index}] ${e(s.sourceType)} -> ${e(s.targetType)}:${e(s.class)} { ${s.perms.map(e).join(' ')} }  ` +
      `${g.decision}, count ${g.count}${g.permissive ? ', permissive' : ''}`,
  );
  out.push(`    first seen: ${g.firstSeen}   last seen: ${g.lastSeen}`);
  out.push(`    hosts:      ${g.hosts.map(e).join(', ')}`);
  out.push(`    scontext:   ${g.scontexts.map(e).join(', ')}`);
  out.push(`    tcontext:   ${g.tcontexts.map(e).join(', ')}`);
  if (g.comms.length > 0) out.push(`    comm:       ${g.comms.map(e).join(', ')}`);
  if (g.exes.length > 0) out.push(`    exe:        ${g.exes.map(e).join(', ')}`);
  // A bare name (the AVC's name= alone, no PATH record to complete it) is not a path: say which it is.
  if (g.pathSample !== null)
    out.push(`    ${g.pathSample.startsWith('/') ? 'path:' : 'name:'}       ${e(g.pathSample)}`);
  if (g.samplesDropped > 0) out.push(`    (${g.samplesDropped} further distinct sample values not shown)`);
  const mixed = mixedVerdicts(g);
  if (mixed !== null) {
    const parts = mixed.verdicts.map((v) => `${e(v.verdict)} ×${v.count}`);
    if (mixed.unknown > 0) parts.push(`no verdict ×${mixed.unknown}`);
    out.push(`    verdict:    ${parts.join(', ')}`);
  } else if (g.explanation !== null) out.push(`    verdict:    ${e(g.explanation.verdict)}`);
  // Before the booleans and fixes: they would open an access that guards the system.
  if (typeof g.caution === 'string') out.push(`    caution:    ${cautionText(g, e)}`);
  if (
    mixed !== null &&
    g.explanation !== null &&
    (g.explanation.booleans.length > 0 || g.explanation.fixes.length > 0)
  ) {
    out.push(
      `    (records' contexts differ; the lines below explain the first record: ${e(g.explanation.verdict)})`,
    );
  }
  if (g.explanation !== null) {
    for (const b of g.explanation.booleans) {
      const radius = b.blastRadius === undefined ? '' : ` (enables ${b.blastRadius.rules} rules)`;
      out.push(`    boolean:    ${e(b.name)} is ${b.current ? 'on' : 'off'}${radius}`);
    }
    for (const f of g.explanation.fixes) {
      if (f.kind === 'note') out.push(`    note:       ${e(f.text)}`);
      else out.push(`    fix:        ${e(f.text)}${f.verified ? '' : '  (unverified)'}`);
    }
  }
  return out.join('\n') + '\n';
}

function groups(list: SignatureGroup[]): string {
  if (list.length === 0) return 'None.\n';
  return list.map((g, i) => group(g, i + 1)).join('\n');
}

/**
 * Plain text laid out like seaudit-report (sections Statistics, PolicyLoads, EnforcementToggles,
 * PolicyBooleans, AllowListing, DenyListing, then one section per custom view), for logwatch-style mail.
 * Every audit-derived value goes through `escapeText`.
 */
export function renderText(summary: Summary, options: RenderOptions = {}): string {
  const st = summary.statistics;
  const parts: string[] = [];
  const title = options.title ?? 'SELinux audit report';
  parts.push(`# Begin ${e(title)}\n`);
  if (options.generatedAt !== undefined) parts.push(`Generated:   ${e(options.generatedAt)}\n`);
  if (options.sources !== undefined && options.sources.length > 0) {
    parts.push(`Sources:     ${options.sources.map(e).join(', ')}\n`);
  }
  parts.push(`Time span:   ${st.firstEvent ?? '-'} .. ${st.lastEvent ?? '-'}\n`);

  parts.push(heading('Statistics'));
  const statRows: Array<[string, number | string]> = [
    ['Number of total messages', st.totalMessages],
    ['Number of policy load messages', st.policyLoads],
    ['Number of enforcement toggles', st.enforcementToggles],
    ['Number of policy boolean changes', st.booleanChanges],
    ['Number of policy config changes', st.configChanges],
    ['Number of allow messages', st.allowMessages],
    ['Number of denied messages', st.deniedMessages],
    ['Number of hosts', st.hosts],
    ['Number of malformed lines', `${st.malformed}${malformedScope(summary)}`],
  ];
  for (const [label, n] of statRows) parts.push(`${`${label}:`.padEnd(36)}${n}\n`);

  parts.push(heading('Policy Loads'));
  parts.push(
    summary.policyLoads.length === 0
      ? 'None.\n'
      : table(
          ['TIME', 'HOST', 'AUID', 'TYPE', 'EXE'],
          summary.policyLoads.map((r) => [r.time, e(r.host), e(r.auid ?? '-'), r.type, e(r.exe ?? '-')]),
        ),
  );
  parts.push(truncNote(summary.truncated.policyLoads, 'policy loads'));

  parts.push(heading('Enforcement Toggles'));
  parts.push(
    summary.enforcementToggles.length === 0
      ? 'None.\n'
      : table(
          ['TIME', 'HOST', 'ENFORCING', 'AUID'],
          summary.enforcementToggles.map((r) => [r.time, e(r.host), change(r.old, r.new), e(r.auid ?? '-')]),
        ),
  );
  parts.push(truncNote(summary.truncated.enforcementToggles, 'toggles'));

  parts.push(heading('Policy Booleans'));
  parts.push(
    summary.booleanChanges.length === 0
      ? 'None.\n'
      : table(
          ['TIME', 'HOST', 'BOOLEAN', 'VALUE', 'AUID'],
          summary.booleanChanges.map((r) => [
            r.time,
            e(r.host),
            e(r.boolean),
            change(r.old, r.new),
            e(r.auid ?? '-'),
          ]),
        ),
  );
  parts.push(truncNote(summary.truncated.booleanChanges, 'boolean changes'));

  parts.push(heading('Policy Configuration Changes (semanage)'));
  parts.push(
    summary.configChanges.length === 0
      ? 'None.\n'
      : table(
          ['TIME', 'HOST', 'RESOURCE', 'OP', 'NAME', 'VALUE', 'EXE', 'RESULT', 'AUID'],
          summary.configChanges.map((r) => [
            r.time,
            e(r.host),
            e(r.resource ?? '-'),
            e(r.op ?? '-'),
            e(r.name ?? '-'),
            e(r.value ?? '-'),
            e(r.exe ?? '-'),
            e(r.result ?? '-'),
            e(r.auid ?? '-'),
          ]),
        ),
  );
  parts.push(truncNote(summary.truncated.configChanges, 'config changes'));

  parts.push(heading('Allow Listing'));
  parts.push(
    summary.allowListing.length === 0
      ? 'None.\n'
      : table(
          ['TIME', 'HOST', 'SOURCE', 'TARGET', 'CLASS', 'PERMS', 'COMM', 'PATH'],
          summary.allowListing.map((r) => [
            r.time,
            e(r.host),
            e(r.scontext),
            e(r.tcontext),
            e(r.class),
            r.perms.map(e).join(' '),
            e(r.comm ?? '-'),
            e(r.path ?? '-'),
          ]),
        ),
  );
  parts.push(truncNote(summary.truncated.allowListing, 'granted messages'));

  parts.push(heading('Deny Listing (grouped by signature)'));
  parts.push(groups(summary.denyListing));
  parts.push(truncNote(summary.truncated.denyListing, 'denied messages with new signatures'));

  for (const v of summary.views) {
    parts.push(heading(`View: ${e(v.name)}`));
    if (v.description !== null) parts.push(`${e(v.description)}\n`);
    parts.push(`Match ${v.match}; ${v.count} messages (${v.denied} denied, ${v.granted} granted)\n\n`);
    parts.push(groups(v.groups));
    parts.push(truncNote(v.groupsDropped, 'messages with new signatures'));
  }
  if (summary.malformedLines !== undefined) {
    // As seaudit-report --malformed: appended, one `file:line: text` per line.
    parts.push(heading('Malformed Lines'));
    if (summary.malformedLines.length === 0) parts.push('None.\n');
    for (const r of summary.malformedLines) {
      parts.push(`${e(r.file)}:${r.line}: ${e(r.text)}${r.cut ? ' [cut]' : ''}\n`);
    }
    parts.push(truncNote(summary.truncated.malformedLines ?? 0, 'malformed lines'));
    const avcs = unlistedMalformed(summary);
    if (avcs > 0) {
      parts.push(
        `(${avcs} more malformed lines counted above are AVC records whose body did not parse: not listed)\n`,
      );
    }
  }
  parts.push(`\n${RULE}\n# End ${e(title)}\n`);
  return parts.join('');
}
