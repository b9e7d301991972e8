// Bytes in (any chunking), events out. Splits lines on byte 0x0a, tracks byte offsets for checkpoints,
// parses each line and feeds the reassembler. Pure and synchronous.
import { isMalformedAvc } from './event.ts';
import { joinExecveRecords } from './execve.ts';
import { createFastRecorder, type FastRecorder, JsonRecord } from './fast-record.ts';
import {
  isHeaderOnly,
  type LineRecords,
  PARSE_ERROR_CODES,
  type ParseOptions,
  parseLineAt,
  parseLineInto,
} from './parse-line.ts';
import { createReassembler } from './reassembler.ts';
import type { AuditEvent, AuditRecord, ParseError } from './types.ts';

export interface DecodeStats {
  /** Lines seen (including blank and comment lines). */
  lines: number;
  /** Records parsed (EOE and ignored duplicates included). */
  records: number;
  /** Events emitted. */
  events: number;
  /** Lines that did not parse (each returned as a ParseError). */
  malformed: number;
  /**
   * Records of emitted events whose AVC / USER_AVC decision did not parse (`isMalformedAvc`: cut off, no
   * tcontext...). They are kept (without `avc`) and counted in `records`, not in `malformed`.
   */
  malformedRecords: number;
  /** Events pushed out of a full in-flight table (emitted with `partial: true`). */
  evicted: number;
  /** Events emitted with `partial: true` (evicted, or late records of an already closed event). */
  partial: number;
  /** Identical duplicate records that were ignored. */
  duplicates: number;
  /** Records parsed by the byte fast path (`recordJson`), included in `records`. */
  jsonRecords: number;
}

export interface AuditDecoderOptions extends ParseOptions {
  /** Event-time horizon after which an open event closes (default 2000 ms, as auparse). */
  horizonMs?: number;
  /** Most open events (default 4096). */
  maxInFlightEvents?: number;
  /** Most bytes of open records (default 32 MiB). */
  maxInFlightBytes?: number;
  /** Longest line accepted, in bytes (default 1 MiB); longer lines become ParseErrors. */
  maxLineBytes?: number;
  /**
   * Only events for which this returns true are returned (the others are still counted in `events`).
   * With `headersOnly` it sees header-only records (types, node, stamp), and the events it keeps are
   * then parsed in full: `--selinux-only` pays the full parse for the selected events only.
   */
  select?: (event: AuditEvent) => boolean;
  /**
   * Plain kernel record lines take the byte fast path (default false): their records are JsonRecords,
   * holding the JSON `eventToJson` writes for them (written by createNdjsonWriter with no further work;
   * `fields` and `interpreted` are parsed from it when read). Used by `avcstream parse`. Ignored with
   * `resolveIds`, `interpret: false`, `headersOnly` or `select`.
   */
  recordJson?: boolean;
  /**
   * Called, as each line is parsed, for every AVC / USER_AVC record of it whose decision did not parse
   * (`isMalformedAvc`: cut off, no tcontext...), with a ParseError (`AVC_ERR_AUDIT_AVC_BODY`) holding the
   * line's position and bytes, so the caller can dead-letter it. The record itself is kept (without `avc`)
   * and counted in `malformedRecords` when its event closes, as without this option. Turns off `recordJson`.
   */
  onMalformedAvc?: (error: ParseError) => void;
}

export interface DecodeResult {
  events: AuditEvent[];
  errors: ParseError[];
}

export interface AuditDecoder {
  write(chunk: Uint8Array | string): DecodeResult;
  /** Idle flush with the caller's clock: closes events that got no record for `horizonMs`. */
  tick(nowMs: number): DecodeResult;
  /** End of input: parses a last line without newline and closes every open event. */
  end(): DecodeResult;
  /** Byte offset before which every record belongs to an event already emitted (checkpoint here). */
  safeOffset(): number;
  stats(): DecodeStats;
}

type Latin1Slice = (this: Buffer, start: number, end: number) => string;
/** Buffer's own latin1 decoder (what toString('latin1') calls after its argument checks), when present. */
const latin1Slice = (Buffer.prototype as unknown as { latin1Slice?: Latin1Slice }).latin1Slice;
function latin1(b: Buffer, start: number, end: number): string {
  return latin1Slice !== undefined ? latin1Slice.call(b, start, end) : b.toString('latin1', start, end);
}

/** Bytes of an over-long line kept in its ParseError's `raw`. */
const RAW_HEAD_BYTES = 4096;

export function createAuditDecoder(opts: AuditDecoderOptions = {}): AuditDecoder {
  const re = createReassembler(opts);
  const maxLineBytes = Math.max(64, opts.maxLineBytes ?? 1024 * 1024);
  const dmy = opts.slashDates === 'dmy';
  const parseOpts: ParseOptions | undefined =
    opts.resolveIds !== undefined || opts.interpret === false || opts.headersOnly === true || dmy
      ? {
          resolveIds: opts.resolveIds,
          interpret: opts.interpret,
          headersOnly: opts.headersOnly,
          slashDates: opts.slashDates,
        }
      : undefined;
  const select = opts.select;
  const onMalformedAvc = opts.onMalformedAvc;
  const fast =
    opts.recordJson === true &&
    onMalformedAvc === undefined &&
    opts.resolveIds === undefined &&
    opts.interpret !== false &&
    opts.headersOnly !== true &&
    select === undefined
      ? createFastRecorder()
      : null;
  /** Fast-path records made by the current write(): those still open after it get their own bytes. */
  const made: JsonRecord[] = [];
  const fullOpts: ParseOptions | undefined =
    opts.resolveIds !== undefined || opts.interpret === false || dmy
      ? { resolveIds: opts.resolveIds, interpret: opts.interpret, slashDates: opts.slashDates }
      : undefined;
  /** Line text of header-only records, to parse them in full once their event is selected. */
  const lineOf =
    select !== undefined && opts.headersOnly === true ? new WeakMap<AuditRecord, string>() : null;
  let carry: Buffer | null = null;
  /** Byte offset of the first unprocessed byte (start of `carry`). */
  let carryStart = 0;
  /** Over-long line being skipped: its first bytes, or null. */
  let skipHead: Buffer | null = null;
  let skipStart = 0;
  /** Bytes of the over-long line seen so far. */
  let skipLength = 0;
  let lineNo = 0;
  const st = { lines: 0, records: 0, malformed: 0, malformedRecords: 0 };
  /** The records of the line being handled (one reused array, not one per line). */
  const recs: LineRecords = { items: [], count: 0 };

  /** An over-long line of `length` bytes (up to its LF) starting at `offset`; `head`: its first bytes. */
  function tooLong(head: Buffer, length: number, offset: number, errors: ParseError[]): void {
    lineNo++;
    st.lines++;
    st.malformed++;
    errors.push({
      kind: 'parse-error',
      code: PARSE_ERROR_CODES.lineTooLong,
      line: lineNo,
      message: `line of ${length} bytes is longer than ${maxLineBytes} bytes (raw keeps the first ${RAW_HEAD_BYTES})`,
      raw: head.subarray(0, RAW_HEAD_BYTES).toString('utf8'),
      bytes: Buffer.from(head.subarray(0, RAW_HEAD_BYTES)),
      lineBytes: length,
      offset,
    });
  }

  /** A copy of data[from, to) without trailing CR/LF (the caller may reuse `data` after write returns). */
  function lineBytes(data: Buffer, from: number, to: number): Buffer {
    while (to > from && (data[to - 1] === 13 || data[to - 1] === 10)) to--;
    return Buffer.from(data.subarray(from, to));
  }

  /**
   * The line is text[start, stop) and its bytes data[from, from + bytes); parsed in place (the scanner
   * reads the flat chunk, not a slice).
   */
  function handleLine(
    text: string,
    start: number,
    stop: number,
    offset: number,
    events: AuditEvent[],
    errors: ParseError[],
    data: Buffer,
    from: number,
    to: number,
  ): void {
    lineNo++;
    st.lines++;
    const e = parseLineInto(text, start, stop, lineNo, parseOpts, recs);
    if (e !== null) {
      e.offset = offset;
      e.bytes = lineBytes(data, from, to);
      st.malformed++;
      errors.push(e);
      return;
    }
    const n = recs.count;
    if (n === 0) return;
    const r = recs.items;
    const line = start === 0 && stop === text.length ? text : text.slice(start, stop);
    if (lineOf !== null && n === 1 && isHeaderOnly(r[0]!)) lineOf.set(r[0]!, line);
    if (onMalformedAvc !== undefined) {
      for (let i = 0; i < n; i++) {
        if (!isMalformedAvc(r[i]!)) continue;
        onMalformedAvc({
          kind: 'parse-error',
          code: PARSE_ERROR_CODES.avcBody,
          line: lineNo,
          offset,
          message: `${r[i]!.type} decision did not parse (cut off, or without scontext, tcontext or tclass); the record is kept without its avc object`,
          raw: line,
          bytes: lineBytes(data, from, to),
        });
      }
    }
    for (let i = 0; i < n; i++) {
      st.records++;
      re.push(r[i]!, events, i === 0 ? line : `${line}\n${i}`, offset);
    }
  }

  /** Parses the header-only records of a selected event in full (as the reassembler would have seen them). */
  function fullRecords(recs: AuditRecord[], lines: WeakMap<AuditRecord, string>): AuditRecord[] {
    const out = new Array<AuditRecord>(recs.length);
    let execve = 0;
    for (let i = 0; i < recs.length; i++) {
      let r = recs[i]!;
      const line = lines.get(r);
      if (line !== undefined) {
        // Without a glued record the full parse gives this one record (errors come from the header only).
        const p = parseLineAt(line, 0, line.length, r.line, fullOpts);
        if (Array.isArray(p) && p.length === 1) r = p[0]!;
      }
      if (r.type === 'EXECVE') execve++;
      out[i] = r;
    }
    return execve > 1 ? joinExecveRecords(out) : out;
  }

  /** Counts the malformed decisions of the events the reassembler closed, then applies `select`. */
  function closed(events: AuditEvent[]): AuditEvent[] {
    for (let i = 0; i < events.length; i++) {
      const recs = events[i]!.records;
      for (let j = 0; j < recs.length; j++) {
        const r = recs[j]!;
        if (r instanceof JsonRecord) r.emitted = true;
        else if (isMalformedAvc(r)) st.malformedRecords++;
      }
    }
    if (select === undefined) return events;
    const out: AuditEvent[] = [];
    for (let i = 0; i < events.length; i++) {
      const e = events[i]!;
      if (!select(e)) continue;
      if (lineOf !== null) e.records = fullRecords(e.records, lineOf);
      out.push(e);
    }
    return out;
  }

  /**
   * The lines of `data` split on its bytes, each decoded and parsed alone; with `f`, the byte fast path
   * first: a line it takes gets a flat copy of its text for the reassembler (a slice of the chunk's text
   * would keep the whole chunk alive, and copied by every scavenge, as long as the event is remembered).
   */
  function byteLines(
    f: FastRecorder | null,
    data: Buffer,
    base: number,
    upto: number,
    events: AuditEvent[],
    errors: ParseError[],
  ): void {
    let p = 0;
    while (p < upto) {
      let nl = data.indexOf(10, p);
      if (nl < 0 || nl >= upto) nl = upto;
      if (nl - p > maxLineBytes) tooLong(data.subarray(p, p + RAW_HEAD_BYTES), nl - p, base + p, errors);
      else {
        const j = f === null ? null : f.record(data, p, nl, lineNo + 1);
        if (j !== null) {
          lineNo++;
          st.lines++;
          st.records++;
          made.push(j);
          // The fast path takes printable ASCII only: its latin1 text is its UTF-8 text.
          re.push(j, events, latin1(data, p, nl), base + p);
        } else {
          const line = data.toString('utf8', p, nl);
          handleLine(line, 0, line.length, base + p, events, errors, data, p, nl);
        }
      }
      p = nl + 1;
    }
  }

  /** Processes the complete lines of `data` (which starts at stream offset `base`) up to `upto`. */
  function lines(data: Buffer, base: number, upto: number, events: AuditEvent[], errors: ParseError[]): void {
    if (fast !== null) {
      byteLines(fast, data, base, upto, events, errors);
      return;
    }
    const text = data.toString('utf8', 0, upto);
    if (text.length !== upto) {
      // Not pure ASCII: split on the bytes so offsets stay exact even around invalid UTF-8.
      byteLines(null, data, base, upto, events, errors);
      return;
    }
    let pos = 0;
    const n = text.length;
    while (pos < n) {
      let nl = text.indexOf('\n', pos);
      if (nl < 0) nl = n;
      if (nl - pos > maxLineBytes)
        tooLong(data.subarray(pos, pos + RAW_HEAD_BYTES), nl - pos, base + pos, errors);
      // One byte per character here (ASCII, or single invalid bytes read as U+FFFD): same positions.
      else handleLine(text, pos, nl, base + pos, events, errors, data, pos, nl);
      pos = nl + 1;
    }
  }

  function write(chunk: Uint8Array | string): DecodeResult {
    const events: AuditEvent[] = [];
    const errors: ParseError[] = [];
    let buf: Buffer =
      typeof chunk === 'string'
        ? Buffer.from(chunk, 'utf8')
        : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    if (buf.length === 0) return { events, errors };
    if (skipHead !== null) {
      const nl = buf.indexOf(10);
      if (skipHead.length < RAW_HEAD_BYTES) {
        const more = buf.subarray(0, Math.min(nl < 0 ? buf.length : nl, RAW_HEAD_BYTES - skipHead.length));
        skipHead = Buffer.concat([skipHead, more]);
      }
      if (nl < 0) {
        carryStart += buf.length;
        skipLength += buf.length;
        return { events, errors };
      }
      skipLength += nl;
      tooLong(skipHead, skipLength, skipStart, errors);
      skipHead = null;
      carryStart += nl + 1;
      buf = buf.subarray(nl + 1);
      if (buf.length === 0) return { events, errors };
    }
    fast?.renew(2 * (buf.length + (carry === null ? 0 : carry.length)));
    let data: Buffer = buf;
    if (carry !== null) {
      const nl = buf.indexOf(10);
      if (nl < 0) data = Buffer.concat([carry, buf]);
      else {
        // The line carried over ends in this chunk: only it is joined, the rest is read in place.
        const head = Buffer.concat([carry, buf.subarray(0, nl + 1)]);
        lines(head, carryStart, head.length, events, errors);
        carryStart += head.length;
        data = buf.subarray(nl + 1);
      }
      carry = null;
    }
    const base = carryStart;
    const last = data.lastIndexOf(10);
    if (last >= 0) {
      lines(data, base, last + 1, events, errors);
      carryStart = base + last + 1;
    }
    const rest = data.length - (last + 1);
    if (rest > 0) {
      if (rest > maxLineBytes) {
        skipHead = Buffer.from(data.subarray(last + 1, last + 1 + RAW_HEAD_BYTES));
        skipStart = carryStart;
        skipLength = rest;
        carryStart += rest;
      } else {
        // Copy: the caller may reuse its buffer after write() returns.
        carry = Buffer.from(data.subarray(last + 1));
      }
    }
    const out = closed(events);
    detachOpen();
    return { events: out, errors };
  }

  /**
   * Records of this write still open keep a copy of their bytes, not the write's whole arena. A run of
   * records of one event (same node and stamp: one open event) shares one buffer; records of different
   * events never do, since a buffer lives as long as any record reading it: a small event left open long
   * would otherwise keep the bytes of every other event detached with it (unbounded by maxInFlightBytes).
   */
  function detachOpen(): void {
    let i = 0;
    const n = made.length;
    while (i < n) {
      const first = made[i]!;
      if (first.emitted) {
        i++;
        continue;
      }
      let bytes = first.to - first.from;
      let j = i + 1;
      for (; j < n; j++) {
        const r = made[j]!;
        if (r.emitted) continue;
        if (
          r.serial !== first.serial ||
          r.msec !== first.msec ||
          r.sec !== first.sec ||
          r.node !== first.node
        )
          break;
        bytes += r.to - r.from;
      }
      // One buffer for the run (not Node's shared pool: an event left open long would keep a slab).
      const own = Buffer.allocUnsafeSlow(bytes);
      let at = 0;
      for (let k = i; k < j; k++) {
        const r = made[k]!;
        if (r.emitted) continue;
        const m = r.buf.copy(own, at, r.from, r.to);
        r.rehome(own, at, at + m);
        at += m;
      }
      i = j;
    }
    made.length = 0;
  }

  function tick(nowMs: number): DecodeResult {
    const events: AuditEvent[] = [];
    re.tick(nowMs, events);
    return { events: closed(events), errors: [] };
  }

  function end(): DecodeResult {
    const events: AuditEvent[] = [];
    const errors: ParseError[] = [];
    if (skipHead !== null) {
      tooLong(skipHead, skipLength, skipStart, errors);
      skipHead = null;
    } else if (carry !== null) {
      const data = carry;
      carry = null;
      if (fast !== null) {
        fast.renew(2 * data.length);
        byteLines(fast, data, carryStart, data.length, events, errors);
      } else {
        const line = data.toString('utf8');
        handleLine(line, 0, line.length, carryStart, events, errors, data, 0, data.length);
      }
      carryStart += data.length;
    }
    re.flush(events);
    const out = closed(events);
    detachOpen();
    return { events: out, errors };
  }

  return {
    write,
    tick,
    end,
    safeOffset() {
      return Math.min(carryStart, skipHead !== null ? skipStart : carryStart, re.oldestOffset());
    },
    stats() {
      const r = re.stats();
      return {
        lines: st.lines,
        records: st.records,
        events: r.events,
        malformed: st.malformed,
        malformedRecords: st.malformedRecords,
        evicted: r.evicted,
        partial: r.partial,
        duplicates: r.duplicates,
        jsonRecords: fast === null ? 0 : fast.count(),
      };
    },
  };
}

/** Convenience: a whole text in, every event, every error and the totals out. */
export function parseAuditText(
  text: string,
  opts?: AuditDecoderOptions,
): DecodeResult & { stats: DecodeStats } {
  const d = createAuditDecoder(opts);
  const a = d.write(text);
  const b = d.end();
  return { events: a.events.concat(b.events), errors: a.errors.concat(b.errors), stats: d.stats() };
}
