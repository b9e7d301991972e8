// createNdjsonWriter's buffers: a region handed to the sink is never written again, unless the caller says
// the sink holds none of them any more (`reusable`), when the full buffer is filled again from its start.
import { describe, expect, it } from 'vitest';
import { createAuditDecoder } from './decoder.ts';
import { eventToJson } from './event.ts';
import { createNdjsonWriter } from './ndjson.ts';
import type { AuditEvent } from './types.ts';

function log(events: number): string {
  const lines: string[] = [];
  for (let i = 0; i < events; i++) {
    const s = `1763800${String(100 + (i % 50)).padStart(3, '0')}.${String(i % 1000).padStart(3, '0')}:${5000 + i}`;
    lines.push(
      `type=SYSCALL msg=audit(${s}): arch=c000003e syscall=257 success=no exit=-13 a0=ffffff9c items=1 comm="httpd" exe="/usr/sbin/httpd" key=(null)`,
      `type=AVC msg=audit(${s}): avc:  denied  { read } for  pid=${i} comm="httpd" name="f${i}" scontext=system_u:system_r:httpd_t:s0 tcontext=system_u:object_r:var_t:s0 tclass=file permissive=0`,
      `type=CWD msg=audit(${s}): cwd="/var/www/${i}"`,
      `type=PROCTITLE msg=audit(${s}): proctitle=6874747064002D44`,
    );
  }
  return `${lines.join('\n')}\n`;
}

/**
 * Decodes `text` through the byte fast path and writes each chunk's events as they close, as `avcstream
 * parse` does; returns what the sink was handed (views, and copies made as it was handed) and the full
 * parser's text of the same events.
 */
function writeAll(text: string, reusable?: () => boolean) {
  // Buffers of their own, as avcstream parse's (a small one would be a slice of Node's shared pool).
  const bufferBytes = Buffer.poolSize;
  const bytes = Buffer.from(text);
  const chunks: Buffer[] = [];
  for (let at = 0; at < bytes.length; at += 3000) chunks.push(bytes.subarray(at, at + 3000));
  const full = createAuditDecoder();
  let want = '';
  for (const c of [...chunks, null]) {
    for (const e of (c === null ? full.end() : full.write(c)).events) want += `${eventToJson(e)}\n`;
  }
  const decoder = createAuditDecoder({ recordJson: true });
  const regions: Buffer[] = [];
  const copies: Buffer[] = [];
  const w = createNdjsonWriter(
    (b) => {
      regions.push(b);
      copies.push(Buffer.from(b));
    },
    bufferBytes,
    reusable,
  );
  for (const c of [...chunks, null]) {
    const events: AuditEvent[] = (c === null ? decoder.end() : decoder.write(c)).events;
    for (const ev of events) w.event(ev);
    w.flush();
  }
  return { regions, copies, want, bufferBytes };
}

describe('createNdjsonWriter buffers', () => {
  const text = log(600);

  it('never writes over a region handed to the sink, by default: views kept by the sink stay intact', () => {
    const r = writeAll(text);
    expect(Buffer.concat(r.copies).toString()).toBe(r.want);
    expect(Buffer.concat(r.regions).toString()).toBe(r.want);
    expect(new Set(r.regions.map((b) => b.buffer)).size).toBeGreaterThan(5);
  });

  it('fills the same buffer again when the sink holds none of its regions (reusable): same bytes', () => {
    let asked = 0;
    const r = writeAll(text, () => {
      asked++;
      return true;
    });
    expect(Buffer.concat(r.copies).toString()).toBe(r.want);
    expect(asked).toBeGreaterThan(5);
    // One buffer for the whole output.
    expect(new Set(r.regions.map((b) => b.buffer)).size).toBe(1);
  });

  it('takes a fresh buffer whenever reusable says no, and keeps the regions handed over until then', () => {
    let n = 0;
    const r = writeAll(text, () => n++ % 2 === 0);
    expect(Buffer.concat(r.copies).toString()).toBe(r.want);
    const buffers = new Set(r.regions.map((b) => b.buffer)).size;
    expect(buffers).toBeGreaterThan(1);
    expect(buffers).toBeLessThan(n);
  });

  it('an event larger than the buffer gets a buffer of its own, reusable or not', () => {
    const big = `type=PROCTITLE msg=audit(1763800000.001:1): proctitle=${'41'.repeat(Buffer.poolSize)}\n`;
    const r = writeAll(`${big}${log(20)}${big.replace(':1)', ':2)')}`, () => true);
    expect(Buffer.concat(r.copies).toString()).toBe(r.want);
    // Not kept for the events after it: they go back to a buffer of the usual size.
    const small = r.copies.flatMap((c, i) => (c.includes('AAAAAAAA') ? [] : [r.regions[i] as Buffer]));
    expect(small.length).toBeGreaterThan(0);
    for (const b of small) expect(b.buffer.byteLength).toBe(r.bufferBytes);
  });
});
