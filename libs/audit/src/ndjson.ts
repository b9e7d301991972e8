// Events to NDJSON bytes, as `avcstream parse` writes them: the records of the byte fast path
// (JsonRecord) are copied as they are, the others are serialized by recordToJson. The bytes equal
// `eventToJson(event) + '\n'`.
import { recordToJson } from './event.ts';
import { JsonRecord } from './fast-record.ts';
import type { AuditEvent, AuditRecord } from './types.ts';

export interface NdjsonWriter {
  /** Appends one event as one line of JSON. */
  event(event: AuditEvent): void;
  /** Hands what was written since the last flush to the sink. */
  flush(): void;
}

const COMMA = 44;

const encoder = new TextEncoder();
const EPOCH = encoder.encode(',"epoch":');
const SERIAL = encoder.encode(',"serial":');
const RECORDS = encoder.encode(',"records":[');

/** Writes the decimal digits of a non-negative integer below 2^53 at buf[at]; returns the end. */
function writeDigits(buf: Buffer, at: number, n: number): number {
  let digits = 1;
  for (let x = n; x >= 10; x = Math.floor(x / 10)) digits++;
  let p = at + digits;
  for (let x = n; p > at; x = Math.floor(x / 10)) buf[--p] = 48 + (x % 10);
  return at + digits;
}

/**
 * Writes `String(epoch)` (JSON.stringify's text of the number) at buf[at]; returns the end. An event time
 * of whole milliseconds (`timeMs / 1000`) below 1e12 s is written from integers (V8's shortest
 * double-to-text takes ~250 ns): it is the double nearest to `sec.mmm`, whose ulp is under 0.0005, so
 * no other text of at most 3 decimals reads back as it, and `sec.mmm` without trailing zeros is the
 * shortest text, which String prints. Any other number goes through String.
 */
function writeEpoch(buf: Buffer, at: number, epoch: number): number {
  if (epoch >= 0 && epoch < 1e12) {
    const ms = Math.round(epoch * 1000);
    if (ms / 1000 === epoch) {
      const sec = Math.floor(ms / 1000);
      let m = ms - sec * 1000;
      let p = writeDigits(buf, at, sec);
      if (m === 0) return p;
      buf[p++] = 46; /* . */
      buf[p++] = 48 + Math.floor(m / 100);
      m %= 100;
      if (m === 0) return p;
      buf[p++] = 48 + Math.floor(m / 10);
      m %= 10;
      if (m === 0) return p;
      buf[p++] = 48 + m;
      return p;
    }
  }
  return at + buf.write(Number.isFinite(epoch) ? String(epoch) : 'null', at, 'latin1');
}

/** Writes JSON.stringify(s) at buf[at] (room for 6 bytes per char); returns the end. */
function writeJsonString(buf: Buffer, at: number, s: string): number {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x20 || c > 0x7e || c === 34 || c === 92) return at + buf.write(JSON.stringify(s), at);
  }
  let p = at;
  buf[p++] = 34;
  for (let i = 0; i < s.length; i++) buf[p++] = s.charCodeAt(i);
  buf[p++] = 34;
  return p;
}

/**
 * Writes events into buffers of `bufferBytes` (larger for a larger event) and hands each finished region
 * to `sink`. A region handed over is never written again (the sink may keep it, as a stream does), unless
 * `reusable` says otherwise: when the buffer is full, after its last region went to the sink, the writer
 * asks `reusable()`, and true means that the sink holds none of the regions handed to it any more (a file
 * descriptor's stream that wrote them through), so the same buffer is filled again from its start rather
 * than a fresh one (whose pages the kernel must fault in and zero). The records of events written before
 * then must not be read afterwards: the fast path's records point at their bytes in the buffer.
 */
export function createNdjsonWriter(
  sink: (bytes: Buffer) => void,
  bufferBytes = 1024 * 1024,
  reusable: () => boolean = () => false,
): NdjsonWriter {
  const size = Math.max(4096, bufferBytes);
  let buf = Buffer.allocUnsafe(size);
  let start = 0;
  let len = 0;
  let lastNode: string | null = null;
  let nodeHead: Uint8Array = encoder.encode('{"node":null,"time":');
  /** `{"node":...,"time":` of the last nodes seen (a few hosts usually alternate in one log). */
  const heads = new Map<string | null, Uint8Array>();

  function headOf(node: string | null): Uint8Array {
    let h = heads.get(node);
    if (h === undefined) {
      h = encoder.encode(`{"node":${JSON.stringify(node)},"time":`);
      // A few hosts, of host-name length: an odd one is not kept.
      if (node === null || node.length <= 255) {
        if (heads.size >= 64) heads.clear();
        heads.set(node, h);
      }
    }
    return h;
  }
  const json: Array<string | null> = [];

  function flush(): void {
    if (len === start) return;
    sink(buf.subarray(start, len));
    start = len;
  }

  function room(need: number): void {
    if (len + need <= buf.length) return;
    flush();
    // A buffer enlarged for one large event is not kept for the events after it.
    if (need > buf.length || buf.length !== size || !reusable())
      buf = Buffer.allocUnsafe(Math.max(size, need));
    start = 0;
    len = 0;
  }

  function event(ev: AuditEvent): void {
    const recs: AuditRecord[] = ev.records;
    if (ev.node !== lastNode) {
      lastNode = ev.node;
      nodeHead = headOf(ev.node);
    }
    let need = nodeHead.length + 6 * ev.time.length + 96 + recs.length;
    for (let i = 0; i < recs.length; i++) {
      const r = recs[i]!;
      if (r instanceof JsonRecord) {
        json[i] = null;
        need += r.to - r.from;
      } else {
        const s = recordToJson(r);
        json[i] = s;
        need += s.length * 3;
      }
    }
    room(need);
    // {"node":...,"time":"...","epoch":...,"serial":...,"records":[
    buf.set(nodeHead, len);
    len = writeJsonString(buf, len + nodeHead.length, ev.time);
    buf.set(EPOCH, len);
    len = writeEpoch(buf, len + EPOCH.length, ev.epoch);
    buf.set(SERIAL, len);
    len += SERIAL.length;
    const serial = ev.serial;
    if (serial >= 0 && serial <= Number.MAX_SAFE_INTEGER && Number.isInteger(serial)) {
      len = writeDigits(buf, len, serial);
    } else len += buf.write(Number.isFinite(serial) ? String(serial) : 'null', len, 'latin1');
    buf.set(RECORDS, len);
    len += RECORDS.length;
    let i = 0;
    while (i < recs.length) {
      if (i > 0) buf[len++] = COMMA;
      const s = json[i];
      if (s != null) {
        len += buf.write(s, len);
        i++;
        continue;
      }
      // A run of records lying back to back in one arena, each followed by a comma: one copy.
      const first = recs[i] as JsonRecord;
      const src = first.buf;
      let to = first.to;
      let j = i + 1;
      while (j < recs.length && json[j] == null) {
        const next = recs[j] as JsonRecord;
        if (next.buf !== src || next.from !== to + 1 || src[to] !== COMMA) break;
        to = next.to;
        j++;
      }
      const at = len;
      len += src.copy(buf, len, first.from, to);
      // Their bytes are read here from now on (never written again): their arena can be reused.
      const shift = at - first.from;
      for (let k = i; k < j; k++) {
        const r = recs[k] as JsonRecord;
        r.rehome(buf, r.from + shift, r.to + shift);
      }
      i = j;
    }
    len += buf.write(ev.partial ? '],"partial":true}\n' : '],"partial":false}\n', len, 'latin1');
    for (let k = 0; k < recs.length; k++) json[k] = null;
  }

  return { event, flush };
}
