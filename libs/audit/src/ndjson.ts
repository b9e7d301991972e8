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

/**
 * `String(epoch)` for an event time of whole milliseconds (`timeMs / 1000`), built from integers: V8's
 * shortest double-to-text takes ~250 ns. Such a number below 1e12 s is the double nearest to `sec.mmm`,
 * and its ulp is under 0.0005, so no other text of at most 3 decimals reads back as it: `sec.mmm`
 * without trailing zeros is the shortest text, which String prints. Anything else takes String.
 */
function epochText(epoch: number): string {
  if (!(epoch >= 0 && epoch < 1e12)) return Number.isFinite(epoch) ? String(epoch) : 'null';
  const ms = Math.round(epoch * 1000);
  if (ms / 1000 !== epoch) return String(epoch);
  const sec = Math.floor(ms / 1000);
  let m = ms - sec * 1000;
  if (m === 0) return String(sec);
  const zeros = m < 10 ? '00' : m < 100 ? '0' : '';
  while (m % 10 === 0) m /= 10;
  return `${sec}.${zeros}${m}`;
}

/**
 * Writes events into buffers of `bufferBytes` (larger for a larger event) and hands each finished region
 * to `sink`. A region handed over is never written again (the sink may keep it, as a stream does).
 */
export function createNdjsonWriter(sink: (bytes: Buffer) => void, bufferBytes = 1024 * 1024): NdjsonWriter {
  const size = Math.max(4096, bufferBytes);
  let buf = Buffer.allocUnsafe(size);
  let start = 0;
  let len = 0;
  let lastNode: string | null = null;
  let lastNodeJson = 'null';
  const json: Array<string | null> = [];

  function flush(): void {
    if (len === start) return;
    sink(buf.subarray(start, len));
    start = len;
  }

  function room(need: number): void {
    if (len + need <= buf.length) return;
    flush();
    buf = Buffer.allocUnsafe(Math.max(size, need));
    start = 0;
    len = 0;
  }

  function event(ev: AuditEvent): void {
    const recs: AuditRecord[] = ev.records;
    if (ev.node !== lastNode) {
      lastNode = ev.node;
      lastNodeJson = JSON.stringify(ev.node);
    }
    const epoch = epochText(ev.epoch);
    const serial = Number.isFinite(ev.serial) ? String(ev.serial) : 'null';
    const head = `{"node":${lastNodeJson},"time":${JSON.stringify(ev.time)},"epoch":${epoch},"serial":${serial},"records":[`;
    let need = head.length * 3 + 24 + recs.length;
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
    len += buf.write(head, len);
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
