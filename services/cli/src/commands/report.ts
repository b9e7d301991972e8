// `avcstream report`: seaudit-report style summary from audit logs, Elasticsearch or the embedded state dir.
import { once } from 'node:events';
import { createReadStream, existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { parseArgs } from 'node:util';
import type { DecodeResult, ParseOptions } from '@avcstream/audit';
import { createAuditDecoder, escapeText, isMalformedAvc, parseLine, slashDateOrder } from '@avcstream/audit';
import {
  createSummaryBuilder,
  type EventLike,
  type ExplainLookup,
  parseSummaryJson,
  parseTimeBound,
  parseViews,
  type RecordLike,
  renderHtml,
  renderJson,
  renderText,
  type Summary,
  type SummaryBuilder,
  type SummaryOptions,
  TIME_KEYWORDS,
  type ViewDefinition,
} from '@avcstream/report';
import type { CliIo } from '../cli.ts';
import { fromElasticsearch } from './report-es.ts';

const HELP = `avcstream report — seaudit-report style summary of SELinux activity

Usage:
  avcstream report [--input] FILE... [options]     offline, from audit logs ('-' = stdin); rotated
                                                   generations (audit.log.N ... audit.log) are read oldest
                                                   first
  avcstream report --es URL [options]              from the analyzer's Elasticsearch indices
  avcstream report --state-dir DIR [options]       from the embedded mode's state dir

Order: the policy loads, enforcement toggles, boolean and config changes and the allow listing are in
time order, whatever the order of the inputs. The deny listing and the views group records by signature
(source type, target type, class, permission set), most frequent first, then by first seen. Malformed
lines are by file, then line.

Options:
  --format text|html|json   output format (default text)
  --out FILE                write to FILE instead of stdout
  --since TIME              only events at or after TIME: epoch seconds, ISO-8601 (UTC unless it has
                            an offset, as the report's times), or a word in local time: ausearch's
                            now, recent (10 minutes ago), today, yesterday, this-week (since Sunday),
                            week-ago, this-month, this-year, and this-hour (ours; ausearch has none)
  --until TIME              only events at or before TIME (the same forms; today = now, as ausearch
                            --end today); a --since later than --until is a usage error
  --host NAME               only events of this host (repeatable); records without node= are "localhost"
  --views FILE              custom views, one report section each: YAML or JSON, { views: [...] } or a
                            bare list; each view has a name, an optional description, match all|any
                            and criteria (seaudit globs), e.g.
                              views:
                                - name: web-home
                                  criteria: { sourceType: httpd_*, targetType: "*_home_t", perm: read }
                            criteria: sourceUser sourceRole sourceType sourceLevel targetUser targetRole
                            targetType targetLevel class perm exe comm path host since until; the schema
                            is in the @avcstream/report README (libs/report/README.md), "Custom views"
  --view NAME               only this view of --views (repeatable)
  --policy FILE             replay denials against this binary policy (offline sources): verdict and fix
  --booleans FILE|DIR       boolean values for --policy ("name value" lines, or a selinuxfs booleans dir)
  --file-contexts FILE      file_contexts for --policy: a denied file whose default label allows the access
                            gets restorecon as its fix (default: beside a host policy, as explain reads it)
  --no-file-contexts        do not read file_contexts
  --es-index PREFIX         index prefix for --es (default avcstream)
  --title TEXT              report title
  --malformed               append the malformed lines: those the parser rejected and AVC records whose
                            body did not parse (file:line: text; first 100, each cut to 512 characters;
                            escaped), as seaudit-report --malformed (--input only). With --host/--since/
                            --until, malformed lines are filtered by their own node= and time
  -h, --help                this help

Exit status: 0 report written, 64 usage error (also an --es that is not an http(s) URL), 66 input
unreadable or no state dir, 73 cannot write --out, 78 bad views/policy file, 1 source failed (Elasticsearch:
the message names the URL, without credentials, and the cause).
`;

interface Flags {
  input: string[];
  es: string | undefined;
  esIndex: string;
  stateDir: string | undefined;
  format: 'text' | 'html' | 'json';
  out: string | undefined;
  since: number | undefined;
  until: number | undefined;
  hosts: string[] | undefined;
  views: ViewDefinition[];
  policy: string | undefined;
  booleans: string | undefined;
  /** --file-contexts: a file, null for --no-file-contexts, undefined for the default (beside a host policy). */
  fileContexts: string | null | undefined;
  title: string | undefined;
  malformed: boolean;
}

class UsageError extends Error {
  readonly exitCode: number;
  constructor(message: string, exitCode = 64) {
    super(message);
    this.exitCode = exitCode;
  }
}

function isHttpUrl(v: string): boolean {
  try {
    const u = new URL(v);
    return (u.protocol === 'http:' || u.protocol === 'https:') && u.hostname !== '';
  } catch {
    return false;
  }
}

/** The URL without user name, password, query or fragment: safe to print. */
export function redactUrl(v: string): string {
  try {
    const u = new URL(v);
    return `${u.protocol}//${u.host}${u.pathname === '/' ? '' : u.pathname}`;
  } catch {
    return '(invalid URL)';
  }
}

/** The password of a URL (as written and decoded), to scrub from messages (the URL printed has none). */
function credentialsOf(v: string): string[] {
  try {
    const p = new URL(v).password;
    return p === '' ? [] : [...new Set([p, decodeURIComponent(p)])].sort((a, b) => b.length - a.length);
  } catch {
    return [];
  }
}

/** The innermost causes of an error, as `code` or message, outermost first (at most 3 levels). */
function causesOf(e: unknown): string[] {
  const out: string[] = [];
  let c = (e as { cause?: unknown } | null)?.cause;
  for (let i = 0; i < 3 && c !== undefined && c !== null; i++) {
    const x = c as { code?: unknown; message?: unknown; cause?: unknown };
    const text = typeof x.message === 'string' && x.message !== '' ? x.message : String(x.code ?? c);
    if (!out.includes(text)) out.push(text);
    c = x.cause;
  }
  return out;
}

/** Seams for tests. */
export interface ReportDeps {
  /** The clock (epoch milliseconds) ausearch's time keywords are read against (default Date.now). */
  now?: () => number;
}

async function readFlags(argv: string[], now: () => number): Promise<Flags | 'help'> {
  let parsed: ReturnType<typeof parseArgs<{ options: typeof OPTIONS; allowPositionals: true; strict: true }>>;
  try {
    parsed = parseArgs({ args: argv, options: OPTIONS, allowPositionals: true, strict: true });
  } catch (e) {
    // parseArgs quotes the option as typed: escaped, so it stays one visible line.
    throw new UsageError(escapeText((e as Error).message));
  }
  const v = parsed.values;
  if (v.help === true) return 'help';
  const input = [...(v.input ?? []), ...parsed.positionals];
  const sources = [input.length > 0, v.es !== undefined, v['state-dir'] !== undefined].filter(Boolean).length;
  if (sources !== 1)
    throw new UsageError('give exactly one source: --input FILE..., --es URL or --state-dir DIR');
  const format = v.format ?? 'text';
  if (format !== 'text' && format !== 'html' && format !== 'json') {
    throw new UsageError('--format must be text, html or json');
  }
  if (v.booleans !== undefined && v.policy === undefined) throw new UsageError('--booleans needs --policy');
  if ((v['file-contexts'] !== undefined || v['no-file-contexts'] === true) && v.policy === undefined) {
    throw new UsageError('--file-contexts and --no-file-contexts need --policy');
  }
  if (v.policy !== undefined && input.length === 0) {
    throw new UsageError('--policy replays denials of offline logs: use it with --input');
  }
  if (v.view !== undefined && v.views === undefined) throw new UsageError('--view needs --views FILE');
  if (v.malformed === true && input.length === 0) {
    throw new UsageError('--malformed lists the lines of offline logs: use it with --input');
  }
  if (v.es !== undefined && !isHttpUrl(v.es)) {
    throw new UsageError(`--es must be an http:// or https:// URL, e.g. http://127.0.0.1:9200`);
  }
  const clock = v.since !== undefined || v.until !== undefined ? now() : Number.NaN;
  const time = (name: 'since' | 'until', value: string | undefined) => {
    if (value === undefined) return undefined;
    try {
      return parseTimeBound(value, { now: clock, bound: name });
    } catch {
      throw new UsageError(`--${name} must be epoch seconds, ISO-8601 or one of ${TIME_KEYWORDS.join(', ')}`);
    }
  };
  const since = time('since', v.since);
  const until = time('until', v.until);
  if (since !== undefined && until !== undefined && since > until) {
    const iso = (t: number) => new Date(t * 1000).toISOString();
    throw new UsageError(
      `--since (${iso(since)}) is later than --until (${iso(until)}): no event could match`,
    );
  }
  let views: ViewDefinition[] = [];
  if (v.views !== undefined) {
    let text: string;
    try {
      text = await readFile(v.views, 'utf8');
    } catch {
      throw new UsageError(`cannot read views file ${v.views}`, 66);
    }
    try {
      views = parseViews(text);
    } catch (e) {
      throw new UsageError(`${v.views}: ${(e as Error).message}`, 78);
    }
    if (v.view !== undefined) {
      const wanted = v.view;
      const missing = wanted.filter((n) => !views.some((x) => x.name === n));
      if (missing.length > 0)
        throw new UsageError(`no view named ${missing.map((n) => JSON.stringify(n)).join(', ')}`);
      views = views.filter((x) => wanted.includes(x.name));
    }
  }
  return {
    input,
    es: v.es,
    esIndex: v['es-index'] ?? 'avcstream',
    stateDir: v['state-dir'],
    format,
    out: v.out,
    since,
    until,
    hosts: v.host,
    views,
    policy: v.policy,
    booleans: v.booleans,
    fileContexts: v['no-file-contexts'] === true ? null : v['file-contexts'],
    title: v.title,
    malformed: v.malformed === true,
  };
}

const OPTIONS = {
  input: { type: 'string', multiple: true, short: 'i' },
  es: { type: 'string' },
  'es-index': { type: 'string' },
  'state-dir': { type: 'string' },
  format: { type: 'string', short: 'f' },
  out: { type: 'string', short: 'o' },
  since: { type: 'string' },
  until: { type: 'string' },
  host: { type: 'string', multiple: true },
  views: { type: 'string' },
  view: { type: 'string', multiple: true },
  policy: { type: 'string' },
  booleans: { type: 'string' },
  'file-contexts': { type: 'string' },
  'no-file-contexts': { type: 'boolean' },
  title: { type: 'string' },
  malformed: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

function summaryOptions(f: Flags): SummaryOptions {
  const o: SummaryOptions = { views: f.views };
  if (f.since !== undefined) o.since = f.since;
  if (f.until !== undefined) o.until = f.until;
  if (f.hosts !== undefined) o.hosts = f.hosts;
  if (f.malformed) o.listMalformed = true;
  return o;
}

// ---- policy replay (offline) ----

async function loadExplainer(f: Flags): Promise<ExplainLookup | undefined> {
  if (f.policy === undefined) return undefined;
  // Loaded on demand, as the policy libraries below: a report without --policy does not pay for them.
  const { PolicyTooLargeError, readPolicyFile } = await import('../policy-file.ts');
  let bytes: Uint8Array;
  try {
    bytes = readPolicyFile(f.policy);
  } catch (e) {
    if (e instanceof PolicyTooLargeError) throw new UsageError('policy file too large', 65);
    throw new UsageError(`cannot read policy ${f.policy}`, 66);
  }
  const { readPolicy } = await import('@avcstream/selinux-policy');
  const { createExplainer, readBooleans } = await import('@avcstream/selinux-access');
  let policy: ReturnType<typeof readPolicy>;
  try {
    policy = readPolicy(bytes);
  } catch (e) {
    throw new UsageError(`${f.policy}: ${(e as Error).message}`, 78);
  }
  let booleans: Record<string, boolean> | undefined;
  if (f.booleans !== undefined) {
    try {
      booleans = readBooleans(f.booleans);
    } catch (e) {
      throw new UsageError(`${f.booleans}: ${(e as Error).message}`, 78);
    }
  }
  const explainer = createExplainer(policy, booleans === undefined ? {} : { booleans });
  // file_contexts: named, else the one of a host policy (when there is one), unless turned off: the default
  // label of a denied file's path makes restorecon its fix when that label allows the access (as explain).
  const { defaultLabelAt } = await import('@avcstream/selinux-access');
  const { fileContextsFor, readFileContexts } = await import('../policy-file.ts');
  const fcPath = f.fileContexts === undefined ? fileContextsFor(f.policy) : f.fileContexts;
  let fc: ReturnType<typeof readFileContexts> | null = null;
  if (fcPath !== null) {
    try {
      fc = readFileContexts(fcPath);
    } catch (e) {
      throw new UsageError(escapeText(`cannot read file_contexts ${fcPath}: ${(e as Error).message}`), 66);
    }
  }
  return (d) => explainer.explain({ ...d, defaultLabel: defaultLabelAt(fc, d.path, d.tclass, d.tcontext) });
}

// ---- sources ----

/**
 * Input files in rotation order: the generations of one log (`audit.log.N` ... `audit.log.1`, `audit.log`)
 * oldest first, as aureport reads them, whatever order they were given in (`audit.log*` expands newest first).
 * A rotation set is the files named BASE and BASE.N; it takes the place of its first file, other inputs keep
 * theirs. The listings are in time order anyway; this also keeps samples and ties in log order.
 */
export function rotationOrder(files: readonly string[]): string[] {
  const parse = (f: string) => {
    const m = /^(.*)\.(\d{1,9})$/.exec(f);
    return m === null ? { base: f, gen: 0 } : { base: m[1] as string, gen: Number(m[2]) };
  };
  const sets = new Map<string, string[]>();
  for (const f of files) {
    if (f === '-') continue;
    const { base } = parse(f);
    const set = sets.get(base);
    if (set === undefined) sets.set(base, [f]);
    else set.push(f);
  }
  const out: string[] = [];
  const placed = new Set<string>();
  for (const f of files) {
    if (f === '-') {
      out.push(f);
      continue;
    }
    const { base } = parse(f);
    if (placed.has(base)) continue;
    placed.add(base);
    const set = sets.get(base) ?? [f];
    out.push(...set.sort((a, b) => parse(b).gen - parse(a).gen));
  }
  return out;
}

/** Lines longer than this are the decoder's over-long lines (a parse error with its head), not records. */
const MAX_LINE_BYTES = 1024 * 1024;
/** Characters kept of a line for the listing (the report cuts it to 512). */
const KEPT_LINE_CHARS = 4096;
/** Lines kept until their event comes out of the decoder (oldest dropped first). */
const KEPT_LINES = 1000;

/**
 * With --malformed: the text of the AVC / USER_AVC lines whose body does not parse, by line number, kept from
 * when the line is read until the summary builder meets its record (the decoder emits an event after its last
 * record). Lines are numbered as the decoder numbers them. Bounded: at most KEPT_LINES lines of
 * KEPT_LINE_CHARS characters.
 */
export function createMalformedAvcLines(parseOptions: ParseOptions = {}) {
  const kept = new Map<number, string>();
  let carry: Buffer | null = null;
  let skipping = false;
  let lineNo = 0;
  const line = (bytes: Buffer) => {
    lineNo++;
    // A cheap test first: the record type is written as is, even in ausearch -i output.
    if (bytes.indexOf('AVC') < 0) return;
    const text = bytes.toString('utf8').replace(/\r+$/, '');
    const records = parseLine(text, lineNo, parseOptions);
    if (!Array.isArray(records) || !records.some(isMalformedAvc)) return;
    if (kept.size >= KEPT_LINES) kept.delete(kept.keys().next().value as number);
    kept.set(lineNo, text.length > KEPT_LINE_CHARS ? text.slice(0, KEPT_LINE_CHARS) : text);
  };
  return {
    write(chunk: Uint8Array | string): void {
      let buf =
        typeof chunk === 'string'
          ? Buffer.from(chunk, 'utf8')
          : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
      for (;;) {
        const nl = buf.indexOf(10);
        if (nl < 0) {
          if (!skipping) carry = carry === null ? Buffer.from(buf) : Buffer.concat([carry, buf]);
          // An over-long line: the decoder lists it as a parse error; only its number counts here.
          if (carry !== null && carry.length > MAX_LINE_BYTES) {
            carry = null;
            skipping = true;
          }
          return;
        }
        const head = buf.subarray(0, nl);
        if (skipping) lineNo++;
        else line(carry === null ? head : Buffer.concat([carry, head]));
        carry = null;
        skipping = false;
        buf = buf.subarray(nl + 1);
      }
    },
    end(): void {
      if (skipping) lineNo++;
      else if (carry !== null && carry.length > 0) line(carry);
      carry = null;
      skipping = false;
    },
    /** The kept text of line `n`, once. */
    take(n: number): string | undefined {
      const text = kept.get(n);
      kept.delete(n);
      return text;
    },
  };
}

async function fromFiles(f: Flags, builder: SummaryBuilder, stdin: Readable, explain?: ExplainLookup) {
  const filtered = f.since !== undefined || f.until !== undefined || f.hosts !== undefined;
  for (const file of rotationOrder(f.input)) {
    // ausearch -i output: its DD/MM or MM/DD dates follow the locale of this shell.
    const slashDates = slashDateOrder(process.env);
    const decoder = createAuditDecoder({ slashDates });
    const avcLines = f.malformed ? createMalformedAvcLines({ slashDates }) : null;
    let stream: Readable;
    if (file === '-') stream = stdin;
    else {
      stream = createReadStream(file, { highWaterMark: 256 * 1024 });
      try {
        await once(stream, 'open');
      } catch {
        throw new UsageError(`cannot read ${file}`, 66);
      }
    }
    const name = file === '-' ? '(stdin)' : file;
    const lineOf =
      avcLines === null
        ? undefined
        : (r: RecordLike) => {
            const text = r.line === undefined ? undefined : avcLines.take(r.line);
            return text === undefined ? undefined : { file: name, line: r.line as number, text };
          };
    const take = (r: DecodeResult) => {
      for (const e of r.events) builder.add(e, explain, lineOf);
      // The lines themselves when they are listed, or filtered by their node= and time.
      builder.addMalformed(
        r.errors.length,
        f.malformed || filtered
          ? r.errors.map((x) => ({ file: name, line: x.line, text: x.raw }))
          : undefined,
      );
    };
    for await (const chunk of stream) {
      avcLines?.write(chunk as Uint8Array | string);
      take(decoder.write(chunk as Uint8Array));
    }
    avcLines?.end();
    take(decoder.end());
  }
}

function isRecordLike(r: unknown): r is RecordLike {
  if (typeof r !== 'object' || r === null) return false;
  const x = r as Record<string, unknown>;
  return typeof x.type === 'string' && typeof x.fields === 'object' && x.fields !== null;
}

/** Stored events are opaque JSON to the store; accept those of the `avcstream parse` shape. */
function isEventLike(e: unknown): e is EventLike {
  if (typeof e !== 'object' || e === null) return false;
  const x = e as Record<string, unknown>;
  return (
    (x.node === null || typeof x.node === 'string') &&
    typeof x.time === 'string' &&
    typeof x.epoch === 'number' &&
    typeof x.serial === 'number' &&
    Array.isArray(x.records) &&
    x.records.every(isRecordLike)
  );
}

async function fromStateDir(f: Flags, options: SummaryOptions): Promise<Summary> {
  const dir = f.stateDir as string;
  if (!existsSync(dir)) throw new UsageError(`no state dir at ${dir}`, 66);
  // An existing directory that the embedded mode never wrote (a typo such as /var/lib, an empty dir) would
  // give an empty report: a state dir holds the store's snapshot or journal, or the running summary.
  if (!['snapshot.json', 'journal.ndjson', 'summary.json'].some((n) => existsSync(join(dir, n)))) {
    throw new UsageError(`no state dir at ${dir} (no snapshot.json, journal.ndjson or summary.json)`, 66);
  }
  const filtered =
    f.since !== undefined || f.until !== undefined || f.hosts !== undefined || f.views.length > 0;
  const summaryFile = join(dir, 'summary.json');
  // The embedded mode's running summary covers every event it saw; use it unless the user filters.
  if (!filtered && existsSync(summaryFile)) {
    try {
      return parseSummaryJson(await readFile(summaryFile, 'utf8'));
    } catch (e) {
      throw new UsageError(`${summaryFile}: ${(e as Error).message}`, 78);
    }
  }
  const { openStore } = await import('@avcstream/store');
  const store = openStore({ dir, readOnly: true });
  try {
    const builder = createSummaryBuilder(options);
    for (const e of store.events()) if (isEventLike(e)) builder.add(e);
    const counters = store.counters();
    builder.addMalformed(counters.malformed ?? counters.malformedLines ?? 0);
    return builder.build();
  } finally {
    store.close();
  }
}

export async function report(argv: string[], io: CliIo, deps: ReportDeps = {}): Promise<number> {
  let flags: Flags | 'help';
  try {
    flags = await readFlags(argv, deps.now ?? Date.now);
  } catch (e) {
    if (e instanceof UsageError) {
      io.stderr.write(`avcstream report: ${e.message}\n`);
      if (e.exitCode === 64) io.stderr.write("Run 'avcstream report --help' for the options.\n");
      return e.exitCode;
    }
    throw e;
  }
  if (flags === 'help') {
    io.stdout.write(HELP);
    return 0;
  }
  const f = flags;
  const options = summaryOptions(f);
  let summary: Summary;
  let sources: string[];
  try {
    if (f.input.length > 0) {
      const explain = await loadExplainer(f);
      const builder = createSummaryBuilder(options);
      await fromFiles(f, builder, io.stdin, explain);
      summary = builder.build();
      sources = f.input.map((x) => (x === '-' ? '(stdin)' : x));
    } else if (f.stateDir !== undefined) {
      summary = await fromStateDir(f, options);
      sources = [f.stateDir];
    } else {
      summary = await fromElasticsearch(f.es as string, f.esIndex, options);
      sources = [f.es as string];
    }
  } catch (e) {
    if (e instanceof UsageError) {
      io.stderr.write(`avcstream report: ${e.message}\n`);
      return e.exitCode;
    }
    const err = e as Error & { code?: string };
    const where =
      f.es !== undefined && f.input.length === 0 && f.stateDir === undefined ? ` (${redactUrl(f.es)})` : '';
    // A cause quoting the URL must not print its password either.
    const secrets = f.es === undefined ? [] : credentialsOf(f.es);
    const causes = causesOf(e).map((c) => secrets.reduce((t, x) => t.split(x).join('***'), c));
    io.stderr.write(
      `avcstream report: ${err.code ?? 'error'}: ${err.message}${where}${causes.length > 0 ? `: ${causes.join(': ')}` : ''}\n`,
    );
    return 1;
  }
  const render = {
    sources,
    generatedAt: new Date().toISOString(),
    ...(f.title === undefined ? {} : { title: f.title }),
  };
  const text =
    f.format === 'json'
      ? renderJson(summary)
      : f.format === 'html'
        ? renderHtml(summary, render)
        : renderText(summary, render);
  if (f.out !== undefined) {
    try {
      await writeFile(f.out, text);
    } catch {
      io.stderr.write(`avcstream report: cannot write ${f.out}\n`);
      return 73;
    }
  } else if (!io.stdout.write(text)) {
    await once(io.stdout, 'drain');
  }
  return 0;
}
