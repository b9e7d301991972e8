import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ParseError } from '@avcstream/audit';
import { decodeDeadLetterMessage } from '@avcstream/contracts';
import { createLogger } from '@avcstream/telemetry';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createMalformedSink } from './deadletter.ts';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'avc-dl-'));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

const bad = (i: number, raw = `garbage line ${i}`): ParseError => ({
  kind: 'parse-error',
  code: 'AVC_ERR_AUDIT_PARSE',
  line: i,
  offset: i * 100,
  message: 'not an audit record',
  raw,
});
const source = { path: '/var/log/audit/audit.log', dev: 2049, ino: 131 };

function setup(extra: Partial<Parameters<typeof createMalformedSink>[0]> = {}) {
  const logs: Array<Record<string, unknown>> = [];
  const logger = createLogger({
    component: 'run',
    level: 'warn',
    destination: { write: (s: string) => logs.push(JSON.parse(s) as Record<string, unknown>) } as never,
  });
  let t = 0;
  const sink = createMalformedSink({
    file: join(dir, 'deadletter.ndjson'),
    host: 'h1',
    logger,
    now: () => t,
    ...extra,
  });
  return { sink, logs, setTime: (v: number) => (t = v) };
}

function records(file: string): Array<Record<string, unknown>> {
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

describe('createMalformedSink', () => {
  it('an over-long line (the decoder kept its head) says its real length and truncated: true', () => {
    const { sink } = setup();
    sink.add(
      [{ ...bad(1, 'x'.repeat(4096)), code: 'AVC_ERR_AUDIT_LINE_TOO_LONG', lineBytes: 1_126_456 }],
      source,
    );
    const got = records(join(dir, 'deadletter.ndjson'));
    expect(got[0]).toMatchObject({ rawBytes: 1_126_456, truncated: true });
    expect(Buffer.from(got[0]!.raw as string, 'base64')).toHaveLength(4096);
  });

  it('dead-letters every bad line with its raw bytes (avcstream.deadletter.v1 shape), bounded', () => {
    const { sink } = setup({ maxRawBytes: 16 });
    sink.add([bad(1), bad(2, `type=AVC \u0001${'x'.repeat(100)}`)], source);
    const got = records(join(dir, 'deadletter.ndjson'));
    expect(got).toHaveLength(2);
    expect(got[0]).toMatchObject({
      schema: 'avcstream.deadletter.v1',
      component: 'run',
      host: 'h1',
      reason: { code: 'AVC_ERR_AUDIT_PARSE', message: 'not an audit record' },
      rawBytes: 14,
      truncated: false,
      source: { kind: 'file', path: source.path, dev: 2049, ino: 131, offset: 100, line: 1 },
    });
    expect(Buffer.from(got[0]?.raw as string, 'base64').toString()).toBe('garbage line 1');
    expect(got[1]).toMatchObject({ rawBytes: 110, truncated: true });
    expect(Buffer.from(got[1]?.raw as string, 'base64')).toEqual(
      Buffer.from(`type=AVC \u0001${'x'.repeat(6)}`),
    );
    expect(sink.stats()).toEqual({ written: 2, dropped: 0 });
  });

  it('writes records that decode as avcstream.deadletter.v1 (the contracts schema), component "run"', () => {
    const { sink } = setup();
    sink.add(
      [
        bad(1),
        { ...bad(2, 'g\ufffd\ufffd\u0000A'), bytes: Uint8Array.from([0x67, 0xff, 0xfe, 0x00, 0x41]) },
        { ...bad(3, 'x'.repeat(4096)), code: 'AVC_ERR_AUDIT_LINE_TOO_LONG', lineBytes: 1_126_456 },
        bad(4, 'y'.repeat(10_000)),
      ],
      source,
    );
    const lines = readFileSync(join(dir, 'deadletter.ndjson'), 'utf8')
      .split('\n')
      .filter((l) => l !== '');
    expect(lines).toHaveLength(4);
    for (const l of lines) {
      const dec = decodeDeadLetterMessage(Buffer.from(l));
      expect(dec).toEqual({ ok: true, value: JSON.parse(l) });
      expect(dec.ok && dec.value.component).toBe('run');
    }
    // The 4 KiB cut of run, not the 256 KiB of the Kafka path.
    const long = records(join(dir, 'deadletter.ndjson'))[3];
    expect(long).toMatchObject({ rawBytes: 10_000, truncated: true });
    expect(Buffer.from(long?.raw as string, 'base64')).toHaveLength(4096);
  });

  it('dead-letters the bytes of the line as written when the error carries them (invalid UTF-8 kept)', () => {
    const { sink } = setup();
    const bytes = Uint8Array.from([0x67, 0xff, 0xfe, 0x00, 0x41]);
    sink.add([{ ...bad(1, 'g\ufffd\ufffd\u0000A'), bytes }], source);
    const got = records(join(dir, 'deadletter.ndjson'));
    expect(got[0]).toMatchObject({ rawBytes: 5, truncated: false });
    expect(Buffer.from(got[0]?.raw as string, 'base64')).toEqual(Buffer.from(bytes));
  });

  it('rotates past maxFileBytes (one old generation) and counts the entries it drops', () => {
    const { sink } = setup({ maxFileBytes: 1_000 });
    for (let i = 0; i < 40; i++) sink.add([bad(i)], source);
    const cur = join(dir, 'deadletter.ndjson');
    const old = `${cur}.1`;
    expect(readFileSync(cur).length).toBeLessThanOrEqual(1_000);
    expect(readFileSync(old).length).toBeLessThanOrEqual(1_000);
    const kept = records(old).length + records(cur).length;
    const s = sink.stats();
    expect(s.written).toBe(40);
    expect(s.dropped).toBe(40 - kept);
    expect(s.dropped).toBeGreaterThan(0);
    // The newest entries are the ones kept.
    expect((records(cur).at(-1)?.source as { line: number } | undefined)?.line).toBe(39);
  });

  it('logs bad lines at a rate limit per interval, not a lifetime cap, with the raw head in a field', () => {
    const { sink, logs, setTime } = setup({ logPerInterval: 5, logIntervalMs: 10_000 });
    sink.add(
      Array.from({ length: 30 }, (_, i) => bad(i)),
      source,
    );
    expect(logs).toHaveLength(5);
    expect(logs[0]).toMatchObject({
      msg: 'malformed audit line',
      code: 'AVC_ERR_AUDIT_PARSE',
      offset: 0,
      head: 'garbage line 0',
    });
    setTime(10_001);
    sink.add([bad(100), bad(101)], source);
    expect(logs).toHaveLength(7);
    expect(logs[5]).toMatchObject({ msg: 'malformed audit line', line: 100, suppressed: 25 });
    setTime(20_002);
    sink.add(
      Array.from({ length: 30 }, (_, i) => bad(200 + i)),
      source,
    );
    expect(logs).toHaveLength(12);
    expect(logs.every((l) => l.msg === 'malformed audit line')).toBe(true);
  });
});
