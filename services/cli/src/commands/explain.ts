// `avcstream explain --policy FILE [--booleans FILE|DIR] [--format text|ndjson] [INPUT|-]`:
// replay AVC / USER_AVC denials against a binary policy, audit2why-style, with verified fixes.
import { createReadStream, readFileSync, statSync } from 'node:fs';
import type { Readable, Writable } from 'node:stream';
import { parseArgs } from 'node:util';
import { type AuditRecord, parseLine } from '@avcstream/audit';
import { createExplainer, type Explainer, type Explanation, readBooleans } from '@avcstream/selinux-access';
import { readPolicy } from '@avcstream/selinux-policy';
import type { CliIo } from '../cli.ts';

const USAGE = `Usage: avcstream explain --policy FILE [options] [INPUT|-]

Replays every denied AVC and USER_AVC record of an audit log (a file, or standard input for '-' or no
INPUT) against a binary SELinux policy and says why it was denied and how to fix it, like audit2why.

Options:
  --policy FILE            binary policy (policy.NN or /sys/fs/selinux/policy), required
  --booleans FILE|DIR      boolean values: "name value" lines, getsebool -a output, or a directory laid
                           out like /sys/fs/selinux/booleans (default: the policy's own defaults)
  --format text|ndjson     text close to audit2why (default), or one JSON object per denied record
  -h, --help               this help

NDJSON keys: line, node, serial, scontext, tcontext, tclass, perms, verdict, booleans, evidence, fixes.
Exit status: 0 on success (malformed lines are skipped and counted on standard error), 64 on a usage
error, 65 when the policy or booleans file is malformed, 66 when a file cannot be opened, 74 on a read
or write error.
`;

const EX_USAGE = 64;
const EX_DATAERR = 65;
const EX_NOINPUT = 66;
const EX_IOERR = 74;
const MAX_POLICY_BYTES = 256 * 1024 * 1024;
const MAX_LINE = 1024 * 1024;
const OUT_BYTES = 1024 * 1024;

function errorCode(e: unknown): string {
  return typeof e === 'object' && e !== null && 'code' in e ? String((e as { code: unknown }).code) : '';
}

function message(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

function waitDrain(out: Writable): Promise<void> {
  return new Promise((resolve, reject) => {
    const onDrain = () => {
      out.off('error', onError);
      resolve();
    };
    const onError = (e: Error) => {
      out.off('drain', onDrain);
      reject(e);
    };
    out.once('drain', onDrain);
    out.once('error', onError);
  });
}

/** audit2why-like text for one explanation (without the record line). */
export function explanationText(e: Explanation): string {
  let s = '\n\tWas caused by:\n';
  const ev = (line: string) => {
    s += `\t${line}\n`;
  };
  switch (e.verdict) {
    case 'ALLOWED':
      ev('Unknown - would be allowed by active policy');
      break;
    case 'DONTAUDIT':
      ev('Unknown - a dontaudit rule hides this denial; it would need an allow rule.');
      break;
    case 'TE_MISSING':
      ev('Missing type enforcement (TE) allow rule.');
      break;
    case 'BOOLEAN':
      ev(
        e.booleans.length === 1
          ? `The boolean ${e.booleans[0]?.name} was set incorrectly.`
          : 'One of the following booleans was set incorrectly.',
      );
      break;
    case 'CONSTRAINT':
      ev('Constraint rule:');
      break;
    case 'RBAC':
      ev('Missing role allow rule.');
      break;
    case 'BOUNDS':
      ev('Typebounds violation.');
      break;
    case 'INVALID_CONTEXT':
      ev('Invalid context for this policy.');
      break;
    case 'UNKNOWN_CLASS':
      ev('Unknown class for this policy.');
      break;
    case 'UNKNOWN_PERM':
      ev('Unknown permission for this policy.');
      break;
  }
  for (const line of e.evidence) ev(line);
  const runnable = e.fixes.filter((f) => f.kind !== 'note');
  const notes = e.fixes.filter((f) => f.kind === 'note');
  if (runnable.length > 0) {
    s += '\n';
    ev(e.verdict === 'BOOLEAN' ? 'Allow access by executing:' : 'You can use audit2allow to generate a loadable module:');
    for (const f of runnable) ev(`${f.kind === 'setsebool' ? '# ' : ''}${f.text}${f.verified ? '' : '   (not sufficient alone)'}`);
  }
  for (const n of notes) {
    s += '\n';
    ev(n.text);
  }
  return `${s}\n`;
}

function explanationJson(e: Explanation): string {
  // Everything after the record-specific keys, precomputed once per (memoized) explanation.
  return `,"verdict":${JSON.stringify(e.verdict)},"booleans":${JSON.stringify(
    e.booleans.map((b) => ({ name: b.name, current: b.current, blastRadius: b.blastRadius })),
  )},"evidence":${JSON.stringify(e.evidence)},"fixes":${JSON.stringify(e.fixes)}}\n`;
}

/** The fields of one AVC / USER_AVC record that `explain` needs. */
export interface FastAvc {
  node: string | null;
  serial: number;
  denied: boolean;
  perms: string[];
  scontext: string;
  tcontext: string;
  tclass: string;
  permissive: boolean | null;
}

const MAX_FAST_PERMS = 64;

const K_OTHER = 0;
const K_RECORD = 1;
const K_SCONTEXT = 2;
const K_TCONTEXT = 3;
const K_TCLASS = 4;
const K_PERMISSIVE = 5;

function keyAt(line: string, at: number, len: number): number {
  switch (len) {
    case 8:
      if (line.startsWith('scontext', at)) return K_SCONTEXT;
      if (line.startsWith('tcontext', at)) return K_TCONTEXT;
      return K_OTHER;
    case 6:
      return line.startsWith('tclass', at) ? K_TCLASS : K_OTHER;
    case 10:
      return line.startsWith('permissive', at) ? K_PERMISSIVE : K_OTHER;
    case 4:
      return line.startsWith('type', at) || line.startsWith('node', at) ? K_RECORD : K_OTHER;
    case 3:
      return line.startsWith('msg', at) ? K_RECORD : K_OTHER;
    default:
      return K_OTHER;
  }
}

function digitsAt(s: string, from: number, to: number): boolean {
  if (to <= from) return false;
  for (let i = from; i < to; i++) {
    const c = s.charCodeAt(i);
    if (c < 48 || c > 57) return false;
  }
  return true;
}

/**
 * A narrow fast path for the common raw forms `[node=N ]type=AVC msg=audit(S.M:N): avc:  denied  { .. } ..`
 * and `type=USER_AVC msg=audit(..): .. msg='avc: ..'`. Anything else, or anything ambiguous (several
 * records on a line, duplicate keys, quotes before the AVC body), returns null and the line goes through
 * `@avcstream/audit`'s full parser, which stays the reference (a test checks both agree on the corpus).
 */
export function fastAvc(line: string): FastAvc | null {
  let p = 0;
  let node: string | null = null;
  if (line.startsWith('node=')) {
    const sp = line.indexOf(' ');
    if (sp < 0) return null;
    node = line.slice(5, sp);
    p = sp + 1;
  }
  let user = false;
  if (line.startsWith('type=AVC msg=audit(', p)) p += 19;
  else if (line.startsWith('type=USER_AVC msg=audit(', p)) {
    p += 24;
    user = true;
  } else return null;
  // Stamp: digits '.' digits ':' digits '):'
  const close = line.indexOf('):', p);
  if (close < 0 || close - p > 40) return null;
  const colon = line.indexOf(':', p);
  if (colon < 0 || colon > close) return null;
  if (!digitsAt(line, colon + 1, close) || close - colon > 20) return null;
  const dot = line.indexOf('.', p);
  if (dot < 0 || dot > colon || !digitsAt(line, p, dot) || !digitsAt(line, dot + 1, colon)) return null;
  const serial = Number(line.slice(colon + 1, close));
  p = close + 2;
  let end = line.length;
  while (end > p && (line.charCodeAt(end - 1) === 13 || line.charCodeAt(end - 1) === 10)) end--;
  if (user) {
    const m = line.indexOf("msg='avc:", p);
    if (m < 0) return null;
    for (let i = p; i < m; i++) {
      const ch = line.charCodeAt(i);
      if (ch === 34 || ch === 39 || ch === 0x1d) return null;
    }
    p = m + 9;
  } else {
    while (p < end && line.charCodeAt(p) === 32) p++;
    if (!line.startsWith('avc:', p)) return null;
    p += 4;
  }
  while (p < end && line.charCodeAt(p) === 32) p++;
  let denied: boolean;
  if (line.startsWith('denied', p)) {
    denied = true;
    p += 6;
  } else if (line.startsWith('granted', p)) {
    denied = false;
    p += 7;
  } else return null;
  while (p < end && line.charCodeAt(p) === 32) p++;
  if (line.charCodeAt(p) !== 123 /* { */) return null;
  const rbrace = line.indexOf('}', p);
  if (rbrace < 0 || rbrace > end) return null;
  const perms: string[] = [];
  for (let i = p + 1; i < rbrace; ) {
    let ch = line.charCodeAt(i);
    if (ch === 32) {
      i++;
      continue;
    }
    const st = i;
    while (i < rbrace) {
      ch = line.charCodeAt(i);
      if (ch === 32) break;
      if (ch === 34 || ch === 39 || ch === 61) return null;
      i++;
    }
    perms.push(line.slice(st, i));
  }
  if (perms.length === 0 || perms.length > MAX_FAST_PERMS) return null;
  p = rbrace + 1;
  let scontext: string | undefined;
  let tcontext: string | undefined;
  let tclass: string | undefined;
  let permissive: boolean | null = null;
  let sawPermissive = false;
  while (p < end) {
    let ch = line.charCodeAt(p);
    if (ch === 32) {
      p++;
      continue;
    }
    if (ch === 0x1d) break; // ENRICHED part
    if (user && ch === 39 /* closing quote of msg='...' */) {
      // Only the trailing fields of the USER_AVC record may follow.
      const rest = line.slice(p + 1, end);
      if (rest.includes("'") || /(^|\s)(type|msg)=/.test(rest)) return null;
      break;
    }
    if (ch === 34 || ch === 39) return null;
    const keyStart = p;
    while (p < end) {
      ch = line.charCodeAt(p);
      if (ch === 61 || ch === 32 || ch === 0x1d || (user && ch === 39)) break;
      p++;
    }
    if (ch !== 61) continue; // a bare word such as "for"
    // Only these keys matter; they are recognised by length and spelling without building strings.
    const key = keyAt(line, keyStart, p - keyStart);
    p++;
    let vs: number;
    let ve: number;
    if (line.charCodeAt(p) === 34) {
      const q = line.indexOf('"', p + 1);
      if (q < 0 || q >= end) return null;
      vs = p + 1;
      ve = q;
      p = q + 1;
    } else {
      vs = p;
      while (p < end) {
        ch = line.charCodeAt(p);
        if (ch === 32 || ch === 0x1d || (user && ch === 39)) break;
        if (ch === 34 || (!user && ch === 39)) return null;
        p++;
      }
      ve = p;
    }
    if (key === K_OTHER) continue;
    switch (key) {
      case K_RECORD:
        return null; // another record on the same line
      case K_SCONTEXT:
        if (scontext !== undefined) return null;
        scontext = line.slice(vs, ve);
        break;
      case K_TCONTEXT:
        if (tcontext !== undefined) return null;
        tcontext = line.slice(vs, ve);
        break;
      case K_TCLASS:
        if (tclass !== undefined) return null;
        tclass = line.slice(vs, ve);
        break;
      case K_PERMISSIVE: {
        const value = line.slice(vs, ve);
        if (sawPermissive || (value !== '0' && value !== '1')) return null;
        sawPermissive = true;
        permissive = value === '1';
        break;
      }
    }
  }
  if (!scontext || !tcontext || !tclass) return null;
  return { node, serial, denied, perms, scontext, tcontext, tclass, permissive };
}

const CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f]/;
const CONTROL_ALL = /[\u0000-\u0008\u000b-\u001f\u007f]/g;
/** Text output goes to terminals: control characters from a forged log are shown as '?'. */
function printable(s: string): string {
  return CONTROL.test(s) ? s.replace(CONTROL_ALL, '?') : s;
}

interface Totals {
  lines: number;
  denials: number;
  malformed: number;
  longLines: number;
}

function makeProcessor(
  explainer: Explainer,
  format: 'text' | 'ndjson',
  emit: (a: string, b: string) => void,
  totals: Totals,
) {
  const textCache = new WeakMap<Explanation, string>();
  const jsonCache = new WeakMap<Explanation, string>();
  // Per distinct (contexts, class, perms, permissive): the rendered output after the record-specific part.
  // Keyed scontext -> tcontext -> "class perms permissive": short keys hash faster than one long one.
  let rendered = new Map<string, Map<string, Map<string, string>>>();
  let renderedCount = 0;
  const nodes = new Map<string | null, string>();
  const MAX_RENDERED = 100_000;
  const onAvc = (
    line: number,
    nodeName: string | null,
    serial: number,
    a: { scontext: string; tcontext: string; tclass: string; perms: string[]; permissive: boolean | null },
    raw: string,
  ) => {
    totals.denials++;
    const rest = `${a.tclass} ${a.perms.length === 1 ? a.perms[0] : a.perms.join(' ')}${a.permissive === true ? ' 1' : ''}`;
    let byTarget = rendered.get(a.scontext);
    let byRest = byTarget?.get(a.tcontext);
    let body = byRest?.get(rest);
    if (body === undefined) {
      const e = explainer.explain({
        scontext: a.scontext,
        tcontext: a.tcontext,
        tclass: a.tclass,
        perms: a.perms,
        permissive: a.permissive,
      });
      if (format === 'ndjson') {
        let tail = jsonCache.get(e);
        if (tail === undefined) {
          tail = explanationJson(e);
          jsonCache.set(e, tail);
        }
        body = `,"scontext":${JSON.stringify(a.scontext)},"tcontext":${JSON.stringify(a.tcontext)},"tclass":${JSON.stringify(a.tclass)},"perms":${JSON.stringify(a.perms)}${tail}`;
      } else {
        body = textCache.get(e);
        if (body === undefined) {
          body = printable(explanationText(e));
          textCache.set(e, body);
        }
      }
      if (renderedCount >= MAX_RENDERED) {
        rendered = new Map();
        renderedCount = 0;
        byTarget = undefined;
        byRest = undefined;
      }
      if (byTarget === undefined) {
        byTarget = new Map();
        rendered.set(a.scontext, byTarget);
      }
      if (byRest === undefined) {
        byRest = new Map();
        byTarget.set(a.tcontext, byRest);
      }
      byRest.set(rest, body);
      renderedCount++;
    }
    if (format === 'ndjson') {
      let node = nodes.get(nodeName);
      if (node === undefined) {
        node = JSON.stringify(nodeName);
        if (nodes.size < 10_000) nodes.set(nodeName, node);
      }
      emit(`{"line":${line},"node":${node},"serial":${serial}`, body);
    } else {
      emit(`${printable(raw)}\n`, body);
    }
  };
  const onRecord = (r: AuditRecord, raw: string) => {
    const avc = r.avc;
    if (avc?.decision !== 'denied' || (r.type !== 'AVC' && r.type !== 'USER_AVC')) return;
    onAvc(
      r.line,
      r.node,
      r.serial,
      {
        scontext: avc.scontext.raw,
        tcontext: avc.tcontext.raw,
        tclass: avc.tclass,
        perms: avc.perms,
        permissive: avc.permissive,
      },
      raw,
    );
  };
  return (line: string) => {
    totals.lines++;
    if (line.length > MAX_LINE) {
      totals.longLines++;
      return;
    }
    // Only lines holding an AVC record matter here; skip the others without parsing them.
    if (!line.includes('avc:')) return;
    const raw = line.endsWith('\r') ? line.slice(0, -1) : line;
    const f = fastAvc(line);
    if (f !== null) {
      if (f.denied) onAvc(totals.lines, f.node, f.serial, f, raw);
      return;
    }
    const r = parseLine(line, totals.lines);
    if (r === null) return;
    if (!Array.isArray(r)) {
      totals.malformed++;
      return;
    }
    for (const rec of r) onRecord(rec, raw);
  };
}

export async function explain(argv: string[], io: CliIo): Promise<number> {
  let values: { policy?: string; booleans?: string; format?: string; help?: boolean };
  let positionals: string[];
  try {
    ({ values, positionals } = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        policy: { type: 'string' },
        booleans: { type: 'string' },
        format: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    }));
  } catch (e) {
    io.stderr.write(`avcstream explain: ${message(e)}\n\n${USAGE}`);
    return EX_USAGE;
  }
  if (values.help) {
    io.stdout.write(USAGE);
    return 0;
  }
  const format = values.format ?? 'text';
  if (values.policy === undefined || positionals.length > 1 || (format !== 'text' && format !== 'ndjson')) {
    io.stderr.write(USAGE);
    return EX_USAGE;
  }

  let explainer: Explainer;
  try {
    const st = statSync(values.policy);
    if (st.size > MAX_POLICY_BYTES) {
      io.stderr.write('avcstream explain: policy file too large\n');
      return EX_DATAERR;
    }
    const policy = readPolicy(new Uint8Array(readFileSync(values.policy)));
    const booleans = values.booleans === undefined ? undefined : readBooleans(values.booleans);
    const unknown = booleans ? Object.keys(booleans).filter((n) => !policy.boolByName.has(n)).length : 0;
    if (unknown > 0) io.stderr.write(`avcstream explain: ${unknown} booleans not defined by the policy were ignored\n`);
    // The command caches its rendering of each distinct denial, so the explainer need not memoize.
    explainer = createExplainer(policy, booleans ? { booleans, memoize: false } : { memoize: false });
  } catch (e) {
    const code = errorCode(e);
    if (code === 'ENOENT' || code === 'EACCES' || code === 'EISDIR') {
      io.stderr.write(`avcstream explain: cannot open: ${message(e)}\n`);
      return EX_NOINPUT;
    }
    if (code.startsWith('AVC_ERR_')) {
      io.stderr.write(`avcstream explain: ${code}: ${message(e)}\n`);
      return EX_DATAERR;
    }
    throw e;
  }

  const input = positionals[0];
  let stream: Readable;
  try {
    if (input === undefined || input === '-') stream = io.stdin;
    else {
      statSync(input);
      stream = createReadStream(input, { highWaterMark: 256 * 1024 });
    }
  } catch (e) {
    io.stderr.write(`avcstream explain: cannot open input: ${message(e)}\n`);
    return EX_NOINPUT;
  }

  const totals: Totals = { lines: 0, denials: 0, malformed: 0, longLines: 0 };
  // Output is encoded straight into a buffer: no long string ropes to flatten, little garbage.
  let buf = Buffer.allocUnsafe(OUT_BYTES);
  let used = 0;
  let pending = false;
  const put = (s: string) => {
    if (s.length * 3 > buf.length - used) {
      if (used > 0) {
        chunks.push(buf.subarray(0, used));
        pending = true;
      }
      buf = Buffer.allocUnsafe(Math.max(OUT_BYTES, s.length * 3));
      used = 0;
    }
    used += buf.write(s, used);
  };
  const chunks: Buffer[] = [];
  const emit = (a: string, b: string) => {
    put(a);
    put(b);
  };
  const processLine = makeProcessor(explainer, format, emit, totals);
  const flush = async (all: boolean) => {
    if (all && used > 0) {
      chunks.push(buf.subarray(0, used));
      buf = Buffer.allocUnsafe(OUT_BYTES);
      used = 0;
    }
    pending = false;
    while (chunks.length > 0) {
      const c = chunks.shift() as Buffer;
      if (!io.stdout.write(c)) await waitDrain(io.stdout);
    }
  };
  try {
    stream.setEncoding('utf8');
    let carry = '';
    let skipping = false;
    for await (const chunk of stream as AsyncIterable<string>) {
      let text = carry.length > 0 ? carry + chunk : chunk;
      let pos = 0;
      if (skipping) {
        // Rest of an over-long line: drop up to its newline.
        const nl = text.indexOf('\n');
        if (nl < 0) {
          carry = '';
          continue;
        }
        skipping = false;
        pos = nl + 1;
      }
      for (;;) {
        const nl = text.indexOf('\n', pos);
        if (nl < 0) break;
        processLine(text.slice(pos, nl));
        pos = nl + 1;
      }
      carry = text.slice(pos);
      text = '';
      if (carry.length > MAX_LINE) {
        totals.lines++;
        totals.longLines++;
        carry = '';
        skipping = true;
      }
      if (pending) await flush(false);
    }
    if (carry.length > 0 && !skipping) processLine(carry);
    await flush(true);
  } catch (e) {
    io.stderr.write(`avcstream explain: read or write error: ${message(e)}\n`);
    return EX_IOERR;
  }
  if (totals.malformed > 0 || totals.longLines > 0) {
    io.stderr.write(
      `avcstream explain: ${totals.denials} denials explained; ${totals.malformed} malformed and ${totals.longLines} over-long lines skipped\n`,
    );
  }
  return 0;
}
