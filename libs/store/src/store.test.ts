import {
  appendFileSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { encodeRecord } from './journal.ts';
import { openStore } from './store.ts';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'avc-store-'));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

const claim = (sigId: string, host = 'h1') => ({
  sigId,
  key: `k:${sigId}`,
  host,
  time: '2026-01-01T00:00:00.000Z',
});

describe('openStore', () => {
  it('decides new exactly once, globally and per host, across reopen', () => {
    const s = openStore({ dir });
    expect(s.claimSignature(claim('a'))).toEqual({ newFleet: true, newHost: true });
    expect(s.claimSignature(claim('a'))).toEqual({ newFleet: false, newHost: false });
    expect(s.claimSignature(claim('a', 'h2'))).toEqual({ newFleet: false, newHost: true });
    s.close();
    const t = openStore({ dir });
    expect(t.claimSignature(claim('a'))).toEqual({ newFleet: false, newHost: false });
    expect(t.claimSignature(claim('a', 'h2'))).toEqual({ newFleet: false, newHost: false });
    expect(t.claimSignature(claim('b'))).toEqual({ newFleet: true, newHost: true });
    t.close();
  });

  it('survives a crash without close (state is in the journal) and keeps the outbox', () => {
    const s = openStore({ dir });
    s.claimSignature({
      ...claim('a'),
      alerts: () => [{ id: 'al-a', alert: { sig: 'a' }, sinks: ['console', 'webhook'] }],
    });
    s.markDelivered('al-a', 'console');
    s.commitBatch({
      events: [{ n: 1 }],
      eventKeys: ['e1'],
      counters: { denials: 2 },
      checkpoint: { offset: 10 },
    });
    // no close(): simulate kill -9 (the lock file stays with our pid; reopening takes it over)
    const t = openStore({ dir });
    expect(t.checkpoint()).toEqual({ offset: 10 });
    expect(t.counters()).toEqual({ denials: 2, alerts: 1 });
    expect(t.events()).toEqual([{ n: 1 }]);
    expect(t.seenEvent('e1')).toBe(true);
    expect(t.pendingAlerts().map((a) => [a.id, a.pendingSinks])).toEqual([['al-a', ['webhook']]]);
    t.markDelivered('al-a', 'webhook');
    expect(t.pendingAlerts()).toEqual([]);
    t.close();
  });

  it('cuts a torn journal tail and keeps every complete record', () => {
    const s = openStore({ dir });
    s.commitBatch({ counters: { n: 1 }, checkpoint: 1 });
    s.commitBatch({ counters: { n: 1 }, checkpoint: 2 });
    s.close();
    const jf = join(dir, 'journal.ndjson');
    const good = statSync(jf).size;
    appendFileSync(jf, '0000abcd {"seq":3,"t":"batch","count'); // torn write
    const t = openStore({ dir });
    expect(t.stats().droppedBytesOnOpen).toBeGreaterThan(0);
    expect(t.counters()).toEqual({ n: 2 });
    expect(t.checkpoint()).toBe(2);
    t.commitBatch({ counters: { n: 1 }, checkpoint: 3 });
    t.close();
    expect(statSync(jf).size).toBeGreaterThan(good);
    const u = openStore({ dir });
    expect(u.counters()).toEqual({ n: 3 });
    expect(u.checkpoint()).toBe(3);
    u.close();
  });

  it('rejects a record whose checksum does not match', () => {
    const s = openStore({ dir });
    s.commitBatch({ counters: { n: 1 } });
    s.close();
    const jf = join(dir, 'journal.ndjson');
    const text = readFileSync(jf, 'utf8').replace('"n":1', '"n":9');
    writeFileSync(jf, text);
    const t = openStore({ dir });
    expect(t.counters()).toEqual({});
    t.close();
  });

  it('compacts into a snapshot and reloads the same state', () => {
    const s = openStore({ dir, compactBytes: 400 });
    for (let i = 0; i < 20; i++) {
      s.claimSignature(claim(`s${i}`));
      s.commitBatch({
        counters: { n: 1 },
        signatureHits: { [`s${i}`]: { count: 2, lastSeen: 'z' } },
        checkpoint: i,
      });
    }
    expect(s.stats().compactions).toBeGreaterThan(0);
    s.close();
    const t = openStore({ dir });
    expect(t.counters()).toEqual({ n: 20 });
    expect(t.checkpoint()).toBe(19);
    expect(t.signatures()).toHaveLength(20);
    expect(t.signatures().every((r) => r.count === 2)).toBe(true);
    expect(t.claimSignature(claim('s7')).newFleet).toBe(false);
    t.close();
  });

  it('bounds events, event keys and signatures', () => {
    const s = openStore({ dir, maxEvents: 3, maxEventKeys: 2, maxSignatures: 2 });
    s.commitBatch({ events: [1, 2, 3, 4, 5], eventKeys: ['a', 'b', 'c'] });
    s.claimSignature(claim('x'));
    s.claimSignature(claim('y'));
    s.claimSignature(claim('z'));
    expect(s.events()).toEqual([3, 4, 5]);
    expect(s.seenEvent('a')).toBe(false);
    expect(s.seenEvent('c')).toBe(true);
    expect(s.signatures().map((r) => r.id)).toEqual(['y', 'z']);
    expect(s.counters().store_signatures_evicted).toBe(1);
    s.close();
  });

  it('refuses a state dir locked by a live process', () => {
    writeFileSync(join(dir, 'lock'), `${process.ppid}\n`);
    expect(() => openStore({ dir })).toThrow(expect.objectContaining({ code: 'AVC_ERR_STORE_LOCKED' }));
  });

  it('opens read-only without taking the lock', () => {
    const s = openStore({ dir });
    s.commitBatch({ counters: { n: 4 } });
    const r = openStore({ dir, readOnly: true });
    expect(r.counters()).toEqual({ n: 4 });
    expect(() => r.commitBatch({})).toThrow(expect.objectContaining({ code: 'AVC_ERR_STORE_CLOSED' }));
    s.close();
  });
});

describe('openStore after a torn write at any byte', () => {
  it('recovers exactly the records completely written before the cut (cuts around and inside every record)', () => {
    const s = openStore({ dir });
    for (let i = 1; i <= 6; i++) {
      s.claimSignature({
        ...claim(`s${i}`),
        alerts: () => [{ id: `a${i}`, alert: { i }, sinks: ['console'] }],
      });
      s.commitBatch({ counters: { n: i }, checkpoint: i });
    }
    s.close();
    const jf = join(dir, 'journal.ndjson');
    const full = readFileSync(jf);
    // byte offsets where each complete record ends
    const ends: number[] = [];
    for (let i = 0; i < full.length; i++) if (full[i] === 0x0a) ends.push(i + 1);
    const cuts = new Set<number>([0, full.length]);
    let prev = 0;
    for (const e of ends) {
      for (const c of [e - 2, e - 1, e, e + 1, Math.floor((prev + e) / 2), prev + 9]) {
        if (c >= 0 && c <= full.length) cuts.add(c);
      }
      prev = e;
    }
    for (const cut of [...cuts].sort((a, b) => a - b)) {
      writeFileSync(jf, full.subarray(0, cut));
      const t = openStore({ dir });
      const complete = ends.filter((e) => e <= cut).length; // records 2k+1 are claims, 2k+2 batches
      const batches = Math.floor(complete / 2);
      const claims = Math.ceil(complete / 2);
      expect(t.counters().n ?? 0).toBe((batches * (batches + 1)) / 2);
      expect(t.checkpoint()).toBe(batches === 0 ? null : batches);
      expect(t.signatures()).toHaveLength(claims);
      expect(t.pendingAlerts()).toHaveLength(claims);
      t.close();
    }
  });
});

describe('rate-limit windows', () => {
  const win = (id: string, count: number) => ({
    id,
    key: id.split('@')[0]!,
    from: Number(id.split('@')[1]),
    count,
    lastTime: `t${count}`,
    data: { id: `alert-${id}` },
  });

  it('keeps the windows claims open and batches count, across reopen and compaction', () => {
    const s = openStore({ dir });
    s.claimSignature({ ...claim('a'), windows: () => [win('a@1000', 0)] });
    s.claimSignature({ ...claim('b'), windows: () => [win('b@2000', 0)] });
    s.commitBatch({ windows: { upsert: [{ ...win('a@1000', 4), data: undefined }], remove: ['b@2000'] } });
    // An upsert without data for an unknown window is ignored (its opening was never stored).
    s.commitBatch({
      windows: { upsert: [{ id: 'c@1', key: 'c', from: 1, count: 9, lastTime: 'x' }], remove: [] },
    });
    expect(s.windows()).toEqual([{ ...win('a@1000', 4) }]);
    s.compact();
    s.close();
    const t = openStore({ dir });
    expect(t.windows()).toEqual([{ ...win('a@1000', 4) }]);
    t.close();
  });

  it('records a repeat alert and drops its window in one record; the same alert id is refused', () => {
    const s = openStore({ dir });
    s.claimSignature({ ...claim('a'), windows: () => [win('a@1000', 0)] });
    expect(
      s.recordRepeat({ id: 'r1', alert: { kind: 'repeat' }, sinks: ['console'], windowId: 'a@1000' }),
    ).toBe(true);
    expect(
      s.recordRepeat({ id: 'r1', alert: { kind: 'repeat' }, sinks: ['console'], windowId: 'a@1000' }),
    ).toBe(false);
    s.close();
    const t = openStore({ dir });
    expect(t.windows()).toEqual([]);
    expect(t.pendingAlerts().map((a) => [a.id, a.pendingSinks])).toEqual([['r1', ['console']]]);
    expect(t.counters().repeat_alerts).toBe(1);
    t.close();
  });
});

describe('bounds in bytes and failed compactions', () => {
  it('bounds the kept events in bytes (oldest evicted, counted), across reopen and compaction', () => {
    const s = openStore({ dir, maxEventBytes: 1_000 });
    const ev = (n: number) => ({ n, pad: 'x'.repeat(290) });
    s.commitBatch({ events: [ev(1), ev(2), ev(3), ev(4), ev(5)] });
    expect(s.events().map((e) => (e as { n: number }).n)).toEqual([3, 4, 5]);
    expect(s.counters().store_events_evicted).toBe(2);
    // One event over the whole budget is not kept.
    s.commitBatch({ events: [{ n: 6, pad: 'y'.repeat(2_000) }] });
    expect(s.events().map((e) => (e as { n: number }).n)).toEqual([3, 4, 5]);
    expect(s.counters().store_events_evicted).toBe(3);
    s.compact();
    s.close();
    const t = openStore({ dir, maxEventBytes: 700 });
    expect(t.events().map((e) => (e as { n: number }).n)).toEqual([4, 5]);
    t.close();
  });

  it('commits a batch exactly once when the compaction after it fails, and retries the compaction later', () => {
    const errors: unknown[] = [];
    const s = openStore({ dir, compactBytes: 200, onCompactError: (err) => errors.push(err) });
    // A directory where the snapshot goes: the snapshot's rename fails.
    mkdirSync(join(dir, 'snapshot.json', 'x'), { recursive: true });
    s.commitBatch({ counters: { n: 1 }, events: [{ pad: 'z'.repeat(300) }], checkpoint: 1 });
    expect(errors).toHaveLength(1);
    expect(s.stats().compactionFailures).toBe(1);
    expect(s.counters().n).toBe(1);
    // Not retried on every commit: only once the journal grew by compactBytes again.
    s.commitBatch({ counters: { n: 1 }, checkpoint: 2 });
    expect(errors).toHaveLength(1);
    rmSync(join(dir, 'snapshot.json'), { recursive: true });
    s.commitBatch({ counters: { n: 1 }, events: [{ pad: 'w'.repeat(300) }], checkpoint: 3 });
    expect(s.stats().compactions).toBe(1);
    s.close();
    const t = openStore({ dir });
    expect(t.counters().n).toBe(3);
    expect(t.checkpoint()).toBe(3);
    t.close();
  });

  it('ignores a batch committed again under the same id', () => {
    const s = openStore({ dir });
    expect(s.commitBatch({ id: 'b1', counters: { n: 1 }, checkpoint: 1 })).toBe(true);
    expect(s.commitBatch({ id: 'b1', counters: { n: 1 }, checkpoint: 1 })).toBe(false);
    s.close();
    const t = openStore({ dir });
    expect(t.counters().n).toBe(1);
    expect(t.commitBatch({ id: 'b1', counters: { n: 1 } })).toBe(false);
    t.close();
  });

  it('replays a batch re-appended with a new seq once (journals written by the old retry loop)', () => {
    const jf = join(dir, 'journal.ndjson');
    const batch = {
      t: 'batch',
      events: [{ e: 1 }],
      eventKeys: ['k1'],
      counters: { lines: 3, denials: 1 },
      signatureHits: {},
      checkpoint: { offset: 30, scanned: 30 },
    };
    writeFileSync(
      jf,
      [
        encodeRecord({ seq: 1, ...batch }),
        encodeRecord({ seq: 2, t: 'delivered', alertId: 'none', sink: 'console' }),
        encodeRecord({ seq: 3, ...batch }),
        encodeRecord({ seq: 4, ...batch }),
        encodeRecord({
          seq: 5,
          ...batch,
          eventKeys: [],
          events: [],
          counters: { lines: 1 },
          checkpoint: { offset: 31, scanned: 31 },
        }),
      ].join(''),
    );
    const t = openStore({ dir });
    expect(t.counters()).toEqual({ lines: 4, denials: 1 });
    expect(t.events()).toEqual([{ e: 1 }]);
    expect(t.checkpoint()).toEqual({ offset: 31, scanned: 31 });
    expect(t.stats().duplicateBatches).toBe(2);
    t.close();
  });

  it('refuses a journal record over the bound with a clear error instead of reading it whole', () => {
    const s = openStore({ dir });
    s.commitBatch({ counters: { n: 1 } });
    s.commitBatch({ events: [{ pad: 'p'.repeat(5_000) }] });
    s.commitBatch({ counters: { n: 1 } });
    s.close();
    expect(() => openStore({ dir, maxRecordBytes: 4_096 })).toThrow(
      expect.objectContaining({ code: 'AVC_ERR_STORE_RECORD_TOO_LARGE' }),
    );
    const t = openStore({ dir, maxRecordBytes: 8_192 });
    expect(t.counters().n).toBe(2);
    // Nothing that large is written either.
    expect(() => t.commitBatch({ events: [{ pad: 'q'.repeat(9_000) }] })).toThrow(
      expect.objectContaining({ code: 'AVC_ERR_STORE_RECORD_TOO_LARGE' }),
    );
    t.close();
    // A torn tail over the bound (no newline) is still just a torn tail.
    appendFileSync(join(dir, 'journal.ndjson'), `0000abcd {"seq":9,"t":"batch","x":"${'r'.repeat(10_000)}`);
    const u = openStore({ dir, maxRecordBytes: 8_192 });
    expect(u.counters().n).toBe(2);
    expect(u.stats().droppedBytesOnOpen).toBeGreaterThan(10_000);
    u.close();
  });
});
