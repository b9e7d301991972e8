// One audit.log line -> typed records. A hand-written scanner (no regex on the hot path): the line is
// walked once with charCodeAt, values are sliced, and hex is decoded only for fields the field dictionary
// marks as encoded.
import { parseContext } from './context.ts';
import { markIncompleteArgs } from './execve.ts';
import {
  addField,
  buildFields,
  builtKinds,
  fieldCount,
  indexOfKey,
  isEncodedField,
  isEncodedIn,
  predictedEncoded,
  predictedKey,
  predictKeyAt,
  resetFields,
  setValueAt,
  valueAt,
} from './fields-builder.ts';
import { decodeHex, isHexString } from './hex.ts';
import { interpret } from './interpret-hook.ts';
import { MESSAGE_TYPE_NAMES } from './tables/message-types.generated.ts';
import type { AuditRecord, AvcInfo, ParseError } from './types.ts';

export interface ParseOptions {
  /** Resolves uid/gid to names. Pass it only on the host that wrote the log. */
  resolveIds?: (kind: 'uid' | 'gid', id: number) => string | undefined;
  /** Fill `interpreted` (default true). False leaves only ENRICHED uppercase fields there (counting). */
  interpret?: boolean;
  /**
   * Headers only (default false): records carry type, node, stamp and line number, with empty (frozen,
   * shared) `fields` and `interpreted`. Enough to group and count events, at a fraction of the cost.
   * AVC and USER_AVC records (and lines that may hold a glued record) are still parsed in full, so
   * malformed decisions are counted as with a full parse. Parse errors are the same as with a full
   * parse; EXECVE records continuing a long argument are not joined into the first one.
   */
  headersOnly?: boolean;
  /**
   * How the local-time dates of `ausearch -i` output with slashes are read: 'mdy' (default, the C and
   * en_US locales' MM/DD/YY) or 'dmy' (DD/MM/YY: en_GB, fr_FR, ...). See slashDateOrder.
   */
  slashDates?: 'mdy' | 'dmy';
}

/** Stable error codes of parse errors. */
export const PARSE_ERROR_CODES = {
  noType: 'AVC_ERR_AUDIT_NO_TYPE',
  badStamp: 'AVC_ERR_AUDIT_BAD_STAMP',
  lineTooLong: 'AVC_ERR_AUDIT_LINE_TOO_LONG',
  /** Not a ParseError of parseLine: the decoder's `onMalformedAvc` (the record is kept). */
  avcBody: 'AVC_ERR_AUDIT_AVC_BODY',
} as const;

const SP = 32;
const TAB = 9;
const GS = 0x1d; // ENRICHED separator
const EQ = 61;
const DQ = 34;
const SQ = 39;
const LBRACE = 123;
const LPAREN = 40;

/** Interned type names: records share one flat string per type instead of slices of the input. */
const TYPE_NAMES = new Map<string, string>();
for (const name of MESSAGE_TYPE_NAMES.values()) TYPE_NAMES.set(name, name);

/** Known type names by first char and length, to resolve a type token without slicing it. */
const TYPES_BY_HEAD = new Map<number, string[]>();
for (const name of MESSAGE_TYPE_NAMES.values()) {
  const k = name.charCodeAt(0) * 64 + (name.length & 63);
  const list = TYPES_BY_HEAD.get(k);
  if (list === undefined) TYPES_BY_HEAD.set(k, [name]);
  else list.push(name);
}

function resolveTypeAt(line: string, ts: number, te: number): string {
  const n = te - ts;
  if (n < 64) {
    const list = TYPES_BY_HEAD.get(line.charCodeAt(ts) * 64 + n);
    if (list !== undefined) {
      for (let i = 0; i < list.length; i++) if (line.startsWith(list[i]!, ts)) return list[i]!;
    }
  }
  return resolveType(line.slice(ts, te));
}

/** A record type token as written (`AVC`, `1400`, `UNKNOWN[1420]`) to its type name. */
export function resolveType(tok: string): string {
  const known = TYPE_NAMES.get(tok);
  if (known !== undefined) return known;
  const c = tok.charCodeAt(0);
  if (c >= 48 && c <= 57) {
    let n = 0;
    for (let i = 0; i < tok.length; i++) {
      const d = tok.charCodeAt(i) - 48;
      if (d < 0 || d > 9 || i > 6) return tok;
      n = n * 10 + d;
    }
    return MESSAGE_TYPE_NAMES.get(n) ?? `UNKNOWN[${n}]`;
  }
  return tok;
}

/** Mutable state while one record's body is scanned. */
interface Builder {
  type: string;
  enriched: Record<string, string> | null;
  enrichedMode: boolean;
  /** Values as `ausearch -i` prints them (already interpreted): no hex decoding, no interpretation. */
  plain: boolean;
  /** EXECVE `aN[k]` pieces by base name, and whether every piece was unquoted (hex). */
  pieces: Map<string, { parts: string[]; hex: boolean; index: number }> | null;
  execve: boolean;
  decision: string | null;
  perms: string[] | null;
}

/** `aN` or `aN[k]` (an argument or a piece of one); `aN_len` and `argc` are not arguments. */
function isExecveArgKey(key: string): boolean {
  const n = key.length;
  if (key.charCodeAt(0) !== 97 /* a */ || n < 2) return false;
  let i = 1;
  while (i < n) {
    const c = key.charCodeAt(i);
    if (c < 48 || c > 57) break;
    i++;
  }
  return i > 1 && (i === n || key.charCodeAt(i) === 91) /* [ */;
}

/** First position of char code `ch` in text[from, end), or -1 (never searches past the line). */
function indexOfIn(text: string, ch: number, from: number, end: number): number {
  for (let i = from; i < end; i++) if (text.charCodeAt(i) === ch) return i;
  return -1;
}

/** Parses `avc:  denied  { perm perm } for ` starting at `pos` (on the `a`); returns the position after. */
function scanAvcHeader(line: string, pos: number, end: number, b: Builder): number {
  let p = pos + 4;
  while (p < end && line.charCodeAt(p) === SP) p++;
  const ws = p;
  while (p < end && line.charCodeAt(p) !== SP) p++;
  const decision = line.slice(ws, p);
  if (decision !== 'denied' && decision !== 'granted') return pos + 4;
  while (p < end && line.charCodeAt(p) === SP) p++;
  const perms: string[] = [];
  if (p < end && line.charCodeAt(p) === LBRACE) {
    let q = indexOfIn(line, 125 /* } */, p + 1, end);
    if (q < 0) q = end;
    let i = p + 1;
    while (i < q) {
      while (i < q && line.charCodeAt(i) === SP) i++;
      const s = i;
      while (i < q && line.charCodeAt(i) !== SP) i++;
      if (i > s) perms.push(line.slice(s, i));
    }
    p = q < end ? q + 1 : end;
    while (p < end && line.charCodeAt(p) === SP) p++;
    if (line.startsWith('for', p) && (p + 3 === end || line.charCodeAt(p + 3) === SP)) p += 3;
  }
  b.decision = decision;
  b.perms = perms;
  addField('seresult', decision);
  addField('seperms', perms.join(','));
  return p;
}

// The text may be a whole chunk of lines (the decoder parses lines in place), so forward searches must
// not run to its end on every record: the next ENRICHED separator is searched once and remembered.
let gsText = '';
let gsFrom = 0;
let gsAt = -1;

/** Position of the first GS (0x1d) at or after `from` in `text`, or -1. */
function findGs(text: string, from: number): number {
  if (text !== gsText || from < gsFrom || (gsAt >= 0 && gsAt < from)) {
    gsText = text;
    gsAt = text.indexOf('\x1d', from);
  }
  gsFrom = from;
  return gsAt;
}

/**
 * Scans `key=value` pairs in [pos, end). Returns the start of a second record glued onto the same line
 * (`... type=CWD msg=audit(...)`), or -1.
 */
function scanFields(line: string, pos: number, end: number, b: Builder, nested: boolean): number {
  let prefix = '';
  let paren = false;
  if (line.startsWith('avc:', pos)) pos = scanAvcHeader(line, pos, end, b);
  // Values end at a space or at the ENRICHED separator; find the separator once.
  let gs = b.enrichedMode ? end : findGs(line, pos);
  if (gs < 0 || gs > end) gs = end;
  while (pos < end) {
    let c = line.charCodeAt(pos);
    if (c === SP || c === TAB) {
      pos++;
      continue;
    }
    if (c === GS) {
      // auditd's ENRICHED tail: 0x1d, then its uppercase interpretations (`ARCH=x86_64 ...`). Real raw
      // fields never hold 0x1d (control bytes are hex-encoded); a stray one elsewhere is skipped.
      const u = line.charCodeAt(pos + 1);
      if (pos + 1 < end && u >= 65 && u <= 90) b.enrichedMode = true;
      gs = findGs(line, pos + 1);
      if (gs < 0 || gs > end) gs = end;
      pos++;
      continue;
    }
    const ks = pos;
    // Fast path: the key the record's usual shape expects here, followed by '='.
    const pk = b.enrichedMode ? null : predictKeyAt(line, pos);
    if (pk !== null) {
      pos += pk.length;
      c = EQ;
    } else {
      while (pos < end) {
        c = line.charCodeAt(pos);
        if (c === EQ || c === SP || c === GS) break;
        pos++;
      }
    }
    if (pos >= end || c !== EQ) {
      // A bare word: `old auid=` / `new auid=` (old LOGIN format) name the next key; others are prose.
      const n = pos - ks;
      if (n === 3) {
        const w = line.slice(ks, pos);
        if (w === 'old') prefix = 'old-';
        else if (w === 'new') prefix = '';
      }
      continue;
    }
    const ke = pos;
    pos++; // '='
    let kstart = ks;
    if (pk === null && line.charCodeAt(ks) === LPAREN) {
      kstart++;
      paren = true;
    }
    if (kstart === ke) {
      // `=value` with no key: skip the value.
      while (pos < end && line.charCodeAt(pos) !== SP) pos++;
      continue;
    }
    let key = pk ?? (b.enrichedMode ? null : predictedKey(line, kstart, ke)) ?? line.slice(kstart, ke);
    let value: string;
    let quoted = false;
    c = pos < end ? line.charCodeAt(pos) : -1;
    if (c === DQ) {
      let q = line.indexOf('"', pos + 1);
      if (q < 0 || q >= end) q = end;
      value = line.slice(pos + 1, q);
      pos = q < end ? q + 1 : end;
      quoted = true;
    } else if (c === SQ && !b.enrichedMode) {
      // Nested msg='...' of user-space records: its own fields, merged into this record.
      let limit = findGs(line, pos);
      if (limit < 0 || limit > end) limit = end;
      let q = line.lastIndexOf("'", limit - 1);
      if (q <= pos) q = limit;
      if (key === 'msg' && !nested) {
        const inner = line.slice(pos + 1, q);
        if (inner.indexOf('=') >= 0) {
          scanFields(line, pos + 1, q, b, true);
        } else {
          addField(key, inner);
        }
      } else {
        addField(key, line.slice(pos + 1, q));
      }
      pos = q < end ? q + 1 : end;
      prefix = '';
      continue;
    } else if (c === LBRACE && b.enrichedMode) {
      let q = indexOfIn(line, 125 /* } */, pos + 1, end);
      if (q < 0) q = end - 1;
      value = line.slice(pos, q + 1);
      pos = q + 1;
    } else {
      const vs = pos;
      const limit = gs > pos ? gs : end;
      pos = line.indexOf(' ', pos);
      if (pos < 0 || pos > limit) pos = limit;
      let ve = pos;
      if (paren) {
        // Old USER_AVC tail: `(sauid=81, hostname=?, addr=?, terminal=?)`.
        const last = line.charCodeAt(ve - 1);
        if (last === 41 /* ) */) paren = false;
        if ((last === 44 /* , */ || last === 41) && ve > vs) ve--;
      } else if (nested && ve > vs + 1 && line.charCodeAt(ve - 1) === 58 /* : */) {
        // Old USER_LOGIN: `msg='uid=848: exe=...'`.
        let digits = true;
        for (let i = vs; i < ve - 1; i++) {
          const d = line.charCodeAt(i);
          if (d < 48 || d > 57) {
            digits = false;
            break;
          }
        }
        if (digits) ve--;
      }
      value = line.slice(vs, ve);
    }
    // (Not in ausearch -i output: it prints one record per line, and its bare values may hold any text.)
    if (!nested && !b.plain && ke - ks === 4 && key === 'type' && line.startsWith(' msg=audit(', pos))
      return ks;
    if (!nested && ke - ks === 4 && key === 'node' && line.startsWith(' type=', pos)) return ks;
    if (b.enrichedMode) {
      if (b.enriched === null) b.enriched = {};
      if (typeof b.enriched[key] !== 'string' && key !== '__proto__') b.enriched[key] = value;
      continue;
    }
    if (prefix !== '') {
      key = prefix + key;
      prefix = '';
    }
    if (b.execve && isExecveArgKey(key)) {
      const br = key.indexOf('[');
      if (br > 0) {
        const base = key.slice(0, br);
        if (b.pieces === null) b.pieces = new Map();
        let p = b.pieces.get(base);
        if (p === undefined) {
          p = { parts: [], hex: true, index: -1 };
          b.pieces.set(base, p);
          p.index = indexOfKey(base);
          if (p.index < 0) {
            p.index = fieldCount();
            addField(base, '');
          }
        }
        p.parts.push(value);
        if (quoted || b.plain) p.hex = false;
        continue;
      }
      if (!quoted && !b.plain && isHexString(value)) value = decodeHex(value);
      addField(key, value);
      continue;
    }
    if (
      !quoted &&
      !b.plain &&
      isEncodedIn(b.type, key, pk !== null ? predictedEncoded() : isEncodedField(key)) &&
      isHexString(value)
    ) {
      value = decodeHex(value);
    }
    addField(key, value);
  }
  return -1;
}

/** One builder, reused: parsing is synchronous and a glued record is parsed after the first is built. */
const builder: Builder = {
  type: '',
  enriched: null,
  enrichedMode: false,
  plain: false,
  pieces: null,
  execve: false,
  decision: null,
  perms: null,
};

/** The last value of a repeated key (`key`, then `key#2`, `key#3`, ...), or undefined. */
function lastValue(f: Record<string, string>, key: string): string | undefined {
  let v = f[key];
  if (v === undefined) return undefined;
  for (let i = 2; ; i++) {
    const next = f[`${key}#${i}`];
    if (next === undefined) return v;
    v = next;
  }
}

function buildAvc(b: Builder, f: Record<string, string>): AvcInfo | undefined {
  let decision = b.decision;
  let perms = b.perms;
  if (decision === null) {
    const r = f.seresult;
    if (r === undefined || f.seperms === undefined) return undefined;
    decision = r === '1' ? 'denied' : r === '0' ? 'granted' : r;
    perms = f.seperms === '' ? [] : f.seperms.split(',');
  }
  if (decision !== 'denied' && decision !== 'granted') return undefined;
  // ausearch -i prints decoded names bare (a file "x tcontext=..." reads as one more key), and the kernel
  // writes comm, name and path before the contexts and class: there the last value is the kernel's.
  const s = b.plain ? lastValue(f, 'scontext') : f.scontext;
  const t = b.plain ? lastValue(f, 'tcontext') : f.tcontext;
  const tclass = b.plain ? lastValue(f, 'tclass') : f.tclass;
  if (s === undefined || t === undefined || tclass === undefined) return undefined;
  const scontext = parseContext(s);
  const tcontext = parseContext(t);
  if (scontext === null || tcontext === null) return undefined;
  const p = b.plain ? lastValue(f, 'permissive') : f.permissive;
  return {
    decision,
    perms: perms ?? [],
    scontext,
    tcontext,
    tclass,
    permissive: p === '1' ? true : p === '0' ? false : null,
  };
}

function parseDigits(line: string, pos: number, end: number): number {
  // Returns the value, and leaves the end position in `digitsEnd`.
  let n = 0;
  let i = pos;
  while (i < end && i - pos < 16) {
    const d = line.charCodeAt(i) - 48;
    if (d < 0 || d > 9) break;
    n = n * 10 + d;
    i++;
  }
  digitsEnd = i;
  return n;
}
let digitsEnd = 0;

// The stamp localStampAt read last.
let stampSec = 0;
let stampMsec = 0;
let stampSerial = 0;

/** Exactly 2 digits at `pos` followed by `next`, or -1. */
function twoDigits(line: string, pos: number, end: number, next: number): number {
  const n = parseDigits(line, pos, end);
  return digitsEnd - pos !== 2 || line.charCodeAt(digitsEnd) !== next ? -1 : n;
}

/** Longest stamp `ausearch -i` writes inside `audit(...)` (the Korean date is the longest, ~32). */
const MAX_LOCAL_STAMP = 64;

/**
 * The stamp `ausearch -i` prints, `msg=audit(DATE HH:MM:SS.mmm:SERIAL) :`, read from its first character
 * at `pos`. DATE is strftime's `%x` in ausearch's locale: three runs of ASCII digits with anything between
 * them, year first when the first run has 4 digits (`2025-11-22`, `2025年11月22日`, `2025년 11월 22일`),
 * else year last: `DD.MM.YY`, `DD-MM-YY` day first, and `MM/DD/YY` (C, en_US) unless `dayFirst`
 * (`DD/MM/YY`: en_GB, fr_FR, ...). Two-digit years are strptime's `%y` (69-99 are 19xx); Buddhist-era
 * years (th_TH, 2400 and later) are shifted back 543 years. A day first where the order says a month
 * must be (13/12/06 read as MM/DD) is refused, never swapped. The time is local time, read in this
 * process's TZ (which should be ausearch's). Returns the position after the stamp (and its ` :`), or -1;
 * the values are left in stampSec, stampMsec and stampSerial.
 */
function localStampAt(line: string, pos: number, end: number, dayFirst: boolean): number {
  let close = -1;
  for (let i = pos; i < end && i - pos <= MAX_LOCAL_STAMP; i++) {
    if (line.charCodeAt(i) === 41 /* ) */) {
      close = i;
      break;
    }
  }
  if (close < 0) return -1;
  // The time and serial: the last word before ')'.
  let sp = close - 1;
  while (sp > pos && line.charCodeAt(sp) !== SP) sp--;
  if (sp <= pos) return -1;
  const hour = twoDigits(line, sp + 1, close, 58 /* : */);
  const minute = hour < 0 ? -1 : twoDigits(line, digitsEnd + 1, close, 58);
  const second = minute < 0 ? -1 : twoDigits(line, digitsEnd + 1, close, 46 /* . */);
  if (second < 0 || hour > 23 || minute > 59 || second > 60) return -1;
  let p = digitsEnd + 1;
  const ms = parseDigits(line, p, close);
  if (digitsEnd - p !== 3 || line.charCodeAt(digitsEnd) !== 58 /* : */) return -1;
  p = digitsEnd + 1;
  const serial = parseDigits(line, p, close);
  if (digitsEnd === p || digitsEnd - p > 10 || digitsEnd !== close) return -1;
  // The date: three runs of ASCII digits in [pos, sp).
  let g0 = 0;
  let g1 = 0;
  let g2 = 0;
  let len0 = 0;
  let len2 = 0;
  let sep0 = 0;
  let groups = 0;
  for (let i = pos; i < sp; ) {
    const c = line.charCodeAt(i);
    if (c < 48 || c > 57) {
      i++;
      continue;
    }
    const v = parseDigits(line, i, sp);
    const len = digitsEnd - i;
    if (len > 4 || groups === 3) return -1;
    if (groups === 0) {
      g0 = v;
      len0 = len;
      sep0 = line.charCodeAt(digitsEnd);
    } else if (groups === 1) g1 = v;
    else {
      g2 = v;
      len2 = len;
    }
    groups++;
    i = digitsEnd;
  }
  if (groups !== 3) return -1;
  let year: number;
  let month: number;
  let day: number;
  if (len0 === 4) {
    year = g0;
    month = g1;
    day = g2;
  } else {
    if (len0 > 2 || (len2 !== 2 && len2 !== 4)) return -1;
    year = len2 === 2 ? g2 + (g2 >= 69 ? 1900 : 2000) : g2;
    const monthFirst = sep0 === 47 /* / */ && !dayFirst;
    month = monthFirst ? g0 : g1;
    day = monthFirst ? g1 : g0;
  }
  if (year >= 2400) year -= 543;
  if (day < 1 || month < 1 || month > 12 || year < 1970) return -1;
  const date = new Date(year, month - 1, day, hour, minute, second);
  // Date rolls an impossible day over (11/31 -> 12/01): refuse it instead.
  if (date.getDate() !== day || date.getMonth() !== month - 1) return -1;
  stampSec = date.getTime() / 1000;
  stampMsec = ms;
  stampSerial = serial;
  p = close + 1;
  if (p < end && line.charCodeAt(p) === SP && line.charCodeAt(p + 1) === 58 /* : */) p += 2;
  else if (p < end && line.charCodeAt(p) === 58) p++;
  return p;
}

/**
 * How `ausearch -i` wrote dates with slashes, from the locale it ran in (LC_ALL, else LC_TIME, else LANG,
 * as setlocale reads them): 'dmy' for DD/MM/YY locales (en_GB, fr_FR, es_ES, ...), 'mdy' for C, POSIX,
 * en_US and any locale this runtime does not know. Pass `process.env` when ausearch ran in this shell.
 */
export function slashDateOrder(env: Readonly<Record<string, string | undefined>>): 'mdy' | 'dmy' {
  const name = env.LC_ALL || env.LC_TIME || env.LANG || '';
  if (name === '' || name === 'C' || name === 'POSIX' || name.startsWith('C.')) return 'mdy';
  const tag = (name.split(/[.@]/)[0] ?? '').replace('_', '-');
  try {
    const parts = new Intl.DateTimeFormat(tag, {
      year: '2-digit',
      month: '2-digit',
      day: '2-digit',
    }).formatToParts(new Date(2006, 11, 13));
    const dayAt = parts.findIndex((x) => x.type === 'day');
    const monthAt = parts.findIndex((x) => x.type === 'month');
    return dayAt >= 0 && dayAt < monthAt ? 'dmy' : 'mdy';
  } catch {
    return 'mdy';
  }
}

// Kernel audit lines as syslog, journald or dmesg print them: an optional `<PRI>DATE HOST ` prefix (the
// host becomes the node), then any of `kernel:`, `[uptime]`, `audit:`, then the audit stamp.
const SYSLOG_RE =
  /^(?:(?:<\d+>)?(?:[A-Z][a-z]{2} +\d{1,2} \d{2}:\d{2}:\d{2}|\d{4}-\d{2}-\d{2}T\S+) +(\S+) +kernel: *)?(?:kernel: *)?(?:\[ *\d+\.\d+\] *)?(?:audit: *)?(?:type=(\S+) +)?(?:msg=)?audit\((\d{1,12})\.(\d{1,3}):(\d{1,10})\): */;

/** The records of one line, in a reusable array: `items[0 .. count)` (the decoder keeps one). */
export interface LineRecords {
  items: AuditRecord[];
  count: number;
}

/** Node names seen lately: records share one string per host (no slice pinning the chunk's text). */
const NODES: string[] = [];
const MAX_NODES = 16;
let nodesNext = 0;

function nodeAt(line: string, start: number, end: number): string {
  const n = end - start;
  for (let i = 0; i < NODES.length; i++) {
    const k = NODES[i]!;
    if (k.length === n && line.startsWith(k, start)) return k;
  }
  // A flat copy: a slice of the chunk would keep the whole chunk text alive as long as the name.
  const name = ` ${line.slice(start, end)}`.slice(1);
  NODES[nodesNext] = name;
  nodesNext = (nodesNext + 1) % MAX_NODES;
  return name;
}

/**
 * Parses the record starting at `pos` (and any glued onto the same line). Appends records to `out`;
 * returns an error message, or null.
 */
function parseAt(
  line: string,
  pos: number,
  end: number,
  lineNo: number,
  out: LineRecords,
  opts: ParseOptions | undefined,
  nodeIn: string | null,
): ParseError | null {
  let node = nodeIn;
  // `node=HOST ` (remote logging); some old tools wrote `host=HOST `.
  const nodeLen = line.startsWith('node=', pos) ? 5 : line.startsWith('host=', pos) ? 5 : 0;
  if (nodeLen > 0) {
    let sp = pos + nodeLen;
    while (sp < end && line.charCodeAt(sp) !== SP) sp++;
    node = nodeAt(line, pos + nodeLen, sp);
    pos = sp;
    while (pos < end && line.charCodeAt(pos) === SP) pos++;
  }
  let type: string;
  let sec: number;
  let msec = 0;
  let serial = 0;
  // A stamp in local time, as `ausearch -i` prints it: the values are interpreted too.
  let local = false;
  if (line.startsWith('type=', pos)) {
    const ts = pos + 5;
    let te = ts;
    while (te < end && line.charCodeAt(te) !== SP) te++;
    if (te === ts) return err(lineNo, line, end, 'noType', 'empty record type');
    type = resolveTypeAt(line, ts, te);
    pos = te;
    while (pos < end && line.charCodeAt(pos) === SP) pos++;
    if (!line.startsWith('msg=audit(', pos)) {
      return err(lineNo, line, end, 'badStamp', 'no msg=audit(SEC.MSEC:SERIAL) stamp');
    }
    pos += 10;
    const stampAt = pos;
    sec = parseDigits(line, pos, end);
    let bad = digitsEnd === pos || digitsEnd - pos > 12 || line.charCodeAt(digitsEnd) !== 46; /* . */
    if (!bad) {
      pos = digitsEnd + 1;
      msec = parseDigits(line, pos, end);
      bad = digitsEnd === pos || digitsEnd - pos > 3 || line.charCodeAt(digitsEnd) !== 58; /* : */
    }
    if (!bad) {
      pos = digitsEnd + 1;
      serial = parseDigits(line, pos, end);
      bad = digitsEnd === pos || digitsEnd - pos > 10 || line.charCodeAt(digitsEnd) !== 41; /* ) */
    }
    if (!bad) {
      pos = digitsEnd + 1;
      if (pos < end && line.charCodeAt(pos) === 58 /* : */) pos++;
    } else {
      pos = localStampAt(line, stampAt, end, opts?.slashDates === 'dmy');
      if (pos < 0) return err(lineNo, line, end, 'badStamp', 'malformed msg=audit(SEC.MSEC:SERIAL) stamp');
      sec = stampSec;
      msec = stampMsec;
      serial = stampSerial;
      local = true;
    }
  } else if (node === null && out.count === 0) {
    const m = SYSLOG_RE.exec(pos === 0 && end === line.length ? line : line.slice(pos, end));
    if (m === null) return err(lineNo, line, end, 'noType', 'no type= or node= at the start of the line');
    node = m[1] ?? null;
    sec = Number(m[3]);
    msec = Number(m[4]);
    serial = Number(m[5]);
    pos += m[0].length;
    if (m[2] !== undefined) type = resolveType(m[2]);
    else if (line.startsWith('avc:', pos)) type = 'AVC';
    else return err(lineNo, line, end, 'noType', 'syslog audit line without a record type');
  } else {
    return err(lineNo, line, end, 'noType', 'no type= after node=');
  }
  while (pos < end && line.charCodeAt(pos) === SP) pos++;

  // Headers only: a second record can be glued onto this one only at ` msg=audit(` (after `type=X`) or at
  // ` type=` (after `node=X`); without either the body needs no scan at all. Lines that may hold a glued
  // record are parsed in full, so a header-only record is always alone on its line.
  // AVC / USER_AVC bodies are always parsed: whether the decision parsed is part of the totals
  // (isMalformedAvc), and --selinux-only keeps them anyway.
  if (
    opts?.headersOnly === true &&
    out.count === 0 &&
    type !== 'AVC' &&
    type !== 'USER_AVC' &&
    !mayGlue(line, pos, end)
  ) {
    out.items[out.count++] = {
      type,
      node,
      sec,
      msec,
      serial,
      fields: NO_FIELDS,
      interpreted: NO_INTERPRETED,
      line: lineNo,
    };
    return null;
  }

  resetFields(type);
  const b = builder;
  b.type = type;
  b.enriched = null;
  b.enrichedMode = false;
  b.plain = local;
  b.pieces = null;
  b.execve = type === 'EXECVE';
  b.decision = null;
  b.perms = null;
  const glued = scanFields(line, pos, end, b, false);
  let incomplete: Map<string, boolean> | null = null;
  // (scanFields filled these; TypeScript still sees the nulls assigned above.)
  const pieces = b.pieces as Builder['pieces'];
  const enriched = b.enriched as Builder['enriched'];
  if (pieces !== null && pieces.size > 0) {
    for (const [base, p] of pieces) {
      const joined = p.parts.join('');
      // aN_len is the length of the whole argument as written (hex digits when encoded).
      const li = indexOfKey(`${base}_len`);
      const want = li < 0 ? -1 : Number(valueAt(li));
      if (want >= 0 && joined.length >= want) {
        setValueAt(p.index, p.hex && isHexString(joined) ? decodeHex(joined) : joined);
      } else {
        // Continues in the next EXECVE record: kept raw until the reassembler joins it.
        setValueAt(p.index, joined);
        if (incomplete === null) incomplete = new Map();
        incomplete.set(base, p.hex);
      }
    }
  }
  const fields = buildFields();
  const interpreted: Record<string, unknown> =
    opts?.interpret === false || local ? {} : interpret(type, fields, opts, builtKinds());
  if (enriched !== null) {
    for (const k in enriched) interpreted[k] = enriched[k];
  }
  const rec: AuditRecord = { type, node, sec, msec, serial, fields, interpreted, line: lineNo };
  if (type === 'AVC' || type === 'USER_AVC') {
    const avc = buildAvc(b, fields);
    if (avc !== undefined) rec.avc = avc;
  }
  if (incomplete !== null) markIncompleteArgs(rec, incomplete);
  out.items[out.count++] = rec;
  if (glued >= 0) return parseAt(line, glued, end, lineNo, out, opts, node);
  return null;
}

/**
 * False when no second record can be glued in [pos, end): that takes a key `type` (followed by
 * ` msg=audit(`) or a ` type=` after `node=X`. A key starts at `pos` or after a delimiter, never after a
 * letter, digit, `_`, `-` or `.` (so `nametype=` does not count).
 */
function mayGlue(text: string, pos: number, end: number): boolean {
  let i = text.indexOf('type=', pos);
  while (i >= 0 && i < end) {
    if (i === pos) return true;
    const c = text.charCodeAt(i - 1);
    const word =
      (c >= 97 && c <= 122) ||
      (c >= 65 && c <= 90) ||
      (c >= 48 && c <= 57) ||
      c === 95 ||
      c === 45 ||
      c === 46;
    if (!word) return true;
    i = text.indexOf('type=', i + 5);
  }
  return false;
}

const NO_FIELDS: Record<string, string> = Object.freeze({}) as Record<string, string>;
const NO_INTERPRETED: Record<string, unknown> = Object.freeze({}) as Record<string, unknown>;

/** True for a record parsed with `headersOnly` whose body was skipped. */
export function isHeaderOnly(r: AuditRecord): boolean {
  return r.fields === NO_FIELDS;
}

function err(
  lineNo: number,
  text: string,
  end: number,
  what: keyof typeof PARSE_ERROR_CODES,
  message: string,
): ParseError {
  const raw = lineStart === 0 && end === text.length ? text : text.slice(lineStart, end);
  return { kind: 'parse-error', code: PARSE_ERROR_CODES[what], line: lineNo, message, raw };
}

/** Start of the line being parsed in its text (for the raw text of errors). */
let lineStart = 0;

/**
 * Parses one line of audit.log. Returns the records on it (usually one; two when a record is glued onto
 * another), null for blank lines, `#` comments and ausearch separators (`----`, `time->...`), or a
 * ParseError value. Never throws on any input.
 */
export function parseLine(
  line: string,
  lineNo: number,
  opts?: ParseOptions,
): AuditRecord[] | ParseError | null {
  return parseLineAt(line, 0, line.length, lineNo, opts);
}

/**
 * parseLine on the line text[start, stop) (no newline inside), parsed in place: the decoder hands over
 * whole chunks so the scanner reads a flat string instead of a slice.
 */
export function parseLineAt(
  line: string,
  start: number,
  stop: number,
  lineNo: number,
  opts?: ParseOptions,
): AuditRecord[] | ParseError | null {
  const out: LineRecords = { items: [], count: 0 };
  const e = parseLineInto(line, start, stop, lineNo, opts, out);
  if (e !== null) return e;
  return out.count === 0 ? null : out.items;
}

/**
 * parseLineAt into a reused array: sets `out.count` to the number of records on the line (0 for blank,
 * comment and separator lines) and returns null, or returns the ParseError (then `out.count` is
 * meaningless).
 */
export function parseLineInto(
  line: string,
  start: number,
  stop: number,
  lineNo: number,
  opts: ParseOptions | undefined,
  out: LineRecords,
): ParseError | null {
  out.count = 0;
  let end = stop;
  while (end > start) {
    const c = line.charCodeAt(end - 1);
    if (c !== 13 && c !== 10) break;
    end--;
  }
  let pos = start;
  while (pos < end) {
    const c = line.charCodeAt(pos);
    if (c !== SP && c !== TAB) break;
    pos++;
  }
  if (pos === end) return null;
  const c0 = line.charCodeAt(pos);
  if (c0 === 35 /* # */) return null;
  if (c0 === 45 /* - */ && line.startsWith('----', pos)) return null;
  if (c0 === 116 /* t */ && line.startsWith('time->', pos)) return null;
  lineStart = start;
  return parseAt(line, pos, end, lineNo, out, opts, null);
}
