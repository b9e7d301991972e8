import {
  closeSync,
  fsyncSync,
  mkdirSync,
  openSync,
  readFileSync,
  renameSync,
  statSync,
  writeSync,
} from 'node:fs';
import { join } from 'node:path';
import { StoreError } from './errors.ts';
import { fsyncDir, readIfExists, removeIfExists, writeFileAtomicSync } from './fsutil.ts';
import { DEFAULT_MAX_RECORD_BYTES, type JournalWriter, openJournalWriter, readJournal } from './journal.ts';

/** A known denial signature. */
export interface SignatureRecord {
  id: string;
  /** Human-readable key, e.g. `httpd_t:shadow_t:file:read`. */
  key: string;
  firstSeen: string;
  lastSeen: string;
  firstHost: string;
  /** Denials counted for it (committed batches). */
  count: number;
}

/** An alert kept in the store, with the sinks that have not acknowledged it yet (the outbox). */
export interface StoredAlert {
  id: string;
  /** The alert document as emitted (opaque to the store). */
  alert: Record<string, unknown>;
  pendingSinks: string[];
  createdAt: string;
}

/**
 * A rate-limit window of the alerter (a flood folded into one `repeat` alert plus a count), kept so that a
 * restart neither loses nor doubles its count. `data` is the alert the window follows (opaque to the store).
 */
export interface WindowRecord {
  id: string;
  key: string;
  from: number;
  count: number;
  lastTime: string;
  data: Record<string, unknown>;
}

/** Window changes stored with a batch: upserts (`data` only for new windows) and removals by id. */
export interface WindowChanges {
  upsert: Array<Omit<WindowRecord, 'data'> & { data?: Record<string, unknown> }>;
  remove: string[];
}

export interface ClaimInput {
  sigId: string;
  key: string;
  host: string;
  /** Event time (ISO). */
  time: string;
  /**
   * Builds the alerts to record for this claim, given which scopes are new. Stored in the same fsynced journal
   * record as the signature, before anything is emitted.
   */
  alerts?: (result: ClaimResult) => Array<{ id: string; alert: Record<string, unknown>; sinks: string[] }>;
  /** Rate-limit windows the claim's alerts open, stored in the same record (asked after `alerts`). */
  windows?: () => WindowRecord[];
}

export interface ClaimResult {
  /** First time this signature is seen anywhere (by this store). */
  newFleet: boolean;
  /** First time on this host. */
  newHost: boolean;
}

export interface BatchInput {
  /**
   * Caller's id of this batch: a batch committed again under an id already committed is ignored (a retry
   * after an error that came after the write cannot store it twice).
   */
  id?: string;
  /** Events to keep for the report (opaque JSON objects, trimmed by the caller). */
  events?: unknown[];
  /** Keys of the events in this batch, for de-duplication of events re-read after a crash. */
  eventKeys?: string[];
  /** Counter increments. */
  counters?: Record<string, number>;
  /** Denial occurrences per signature id, with the latest time seen. */
  signatureHits?: Record<string, { count: number; lastSeen: string }>;
  /** The input checkpoint, valid once this batch is stored (opaque JSON). */
  checkpoint?: unknown;
  /** Rate-limit windows as of this batch's checkpoint. */
  windows?: WindowChanges;
}

export interface StoreOptions {
  dir: string;
  /** Known signatures kept (least recently seen evicted past it; evictions are counted). Default 100 000. */
  maxSignatures?: number;
  /** Host signatures (host × signature) kept. Default 200 000. */
  maxHostSignatures?: number;
  /** Events kept for the report (oldest dropped). Default 20 000. */
  maxEvents?: number;
  /**
   * Bytes (JSON) of the events kept for the report: the oldest are dropped past it, and an event larger than
   * the whole budget is not kept (both counted in `store_events_evicted`). Default 64 MiB.
   */
  maxEventBytes?: number;
  /** Longest journal record written or read (a longer one is `AVC_ERR_STORE_RECORD_TOO_LARGE`). Default 256 MiB. */
  maxRecordBytes?: number;
  /** Alerts kept for the report (oldest delivered dropped). Default 1 000. */
  maxAlerts?: number;
  /** Recent event keys kept for de-duplication. Default 50 000. */
  maxEventKeys?: number;
  /** Compact (snapshot + new journal) when the journal grows past this. Default 8 MiB. */
  compactBytes?: number;
  /** Open read-only (for `avcstream report --state-dir`): no lock, no writes. */
  readOnly?: boolean;
  /**
   * A compaction after a committed batch failed (the batch is stored; the journal keeps growing and the
   * compaction is tried again once it grew by `compactBytes`). Without it the failure is only counted.
   */
  onCompactError?: (err: unknown) => void;
}

export interface StoreStats {
  journalBytes: number;
  droppedBytesOnOpen: number;
  replayedRecords: number;
  compactions: number;
  /** Compactions after a batch that failed (see `onCompactError`). */
  compactionFailures: number;
  /** Batch records skipped on open because they repeat the batch before them (journals of older versions). */
  duplicateBatches: number;
  /** Bytes (JSON) of the kept events. */
  eventBytes: number;
  signatures: number;
  hostSignatures: number;
  events: number;
  alerts: number;
}

export interface Store {
  readonly dir: string;
  checkpoint(): unknown;
  hasSignature(sigId: string): boolean;
  hasHostSignature(host: string, sigId: string): boolean;
  /** Record a signature occurrence as "seen"; durable (fsync) before it returns when anything is new. */
  claimSignature(input: ClaimInput): ClaimResult;
  /** A sink acknowledged an alert (journaled; fsync is batched). */
  markDelivered(alertId: string, sink: string): void;
  /** Alerts some sink has not acknowledged: redeliver them after a restart. */
  pendingAlerts(): StoredAlert[];
  /**
   * Record the `repeat` alert a rate-limit window ended with and drop the window, in one fsynced record. False
   * (nothing written) when an alert with this id is already recorded.
   */
  recordRepeat(input: {
    id: string;
    alert: Record<string, unknown>;
    sinks: string[];
    windowId: string;
  }): boolean;
  /** The rate-limit windows kept (as of the last batch, claims and repeats). */
  windows(): WindowRecord[];
  /** True when an event with this key was stored recently. */
  seenEvent(key: string): boolean;
  /**
   * Store a batch atomically (one fsynced journal record): events, counters, signature hits, checkpoint.
   * False (nothing written) when a batch with the same `id` was already committed. A failed compaction after
   * the write does not throw (see `onCompactError`); a throw means nothing was stored.
   */
  commitBatch(batch: BatchInput): boolean;
  counters(): Record<string, number>;
  events(): unknown[];
  alerts(): StoredAlert[];
  signatures(): SignatureRecord[];
  stats(): StoreStats;
  /** Write a snapshot and start a new journal. */
  compact(): void;
  /** fsync and release the lock. */
  close(): void;
}

interface State {
  seq: number;
  checkpoint: unknown;
  signatures: Map<string, SignatureRecord>;
  hostSigs: Set<string>;
  counters: Record<string, number>;
  events: unknown[];
  /** JSON length of each kept event (same order as `events`). */
  eventSizes: number[];
  eventBytes: number;
  alerts: Map<string, StoredAlert>;
  eventKeys: Set<string>;
  windows: Map<string, WindowRecord>;
  /** Ids of the last batches committed (insertion order, bounded). */
  batchIds: Set<string>;
}

type JournalRecord =
  | {
      seq: number;
      t: 'claim';
      sigId: string;
      key: string;
      host: string;
      time: string;
      newFleet: boolean;
      newHost: boolean;
      alerts: StoredAlert[];
      windows?: WindowRecord[];
    }
  | { seq: number; t: 'delivered'; alertId: string; sink: string }
  | { seq: number; t: 'repeat'; alert: StoredAlert; windowId: string }
  | {
      seq: number;
      t: 'batch';
      id?: string;
      events: unknown[];
      eventKeys: string[];
      counters: Record<string, number>;
      signatureHits: Record<string, { count: number; lastSeen: string }>;
      checkpoint?: unknown;
      windows?: WindowChanges;
    };

const SNAPSHOT = 'snapshot.json';
const JOURNAL = 'journal.ndjson';
const LOCK = 'lock';
const MAX_SNAPSHOT_BYTES = 512 * 1024 * 1024;
/** Rate-limit windows kept (the alerter's limiter holds at most 100 000 keys, each with an open and a closed one). */
const MAX_WINDOWS = 200_000;
/** Batch ids remembered for `commitBatch` idempotency. */
const MAX_BATCH_IDS = 64;

function emptyState(): State {
  return {
    seq: 0,
    checkpoint: null,
    signatures: new Map(),
    hostSigs: new Set(),
    counters: {},
    events: [],
    eventSizes: [],
    eventBytes: 0,
    alerts: new Map(),
    eventKeys: new Set(),
    windows: new Map(),
    batchIds: new Set(),
  };
}

function hostKey(host: string, sigId: string): string {
  return `${host}\u0000${sigId}`;
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function takeLock(dir: string): void {
  const file = join(dir, LOCK);
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(file, 'wx', 0o600);
      writeSync(fd, `${process.pid}\n`);
      fsyncSync(fd);
      closeSync(fd);
      return;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const pid = Number.parseInt(readFileSync(file, 'utf8').trim(), 10);
      if (Number.isSafeInteger(pid) && pid !== process.pid && pidAlive(pid)) {
        throw new StoreError('AVC_ERR_STORE_LOCKED', 'state dir is in use by another process');
      }
      removeIfExists(file); // stale lock from a killed process
    }
  }
  throw new StoreError('AVC_ERR_STORE_LOCKED', 'could not take the state dir lock');
}

/** Open (or create) a state dir. Loads the snapshot, replays the journal, cuts a torn tail. */
export function openStore(options: StoreOptions): Store {
  const dir = options.dir;
  const maxSignatures = options.maxSignatures ?? 100_000;
  const maxHostSignatures = options.maxHostSignatures ?? 200_000;
  const maxEvents = options.maxEvents ?? 20_000;
  const maxEventBytes = options.maxEventBytes ?? 64 * 1024 * 1024;
  const maxRecordBytes = options.maxRecordBytes ?? DEFAULT_MAX_RECORD_BYTES;
  const maxAlerts = options.maxAlerts ?? 1_000;
  const maxEventKeys = options.maxEventKeys ?? 50_000;
  const compactBytes = options.compactBytes ?? 8 * 1024 * 1024;
  const readOnly = options.readOnly ?? false;

  if (!readOnly) {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    takeLock(dir);
  }
  const state = emptyState();
  let compactions = 0;
  let compactionFailures = 0;
  let duplicateBatches = 0;
  /** Journal size that triggers the next compaction (pushed back after a failed one). */
  let compactAt = compactBytes;

  // --- load ---
  const snapFile = join(dir, SNAPSHOT);
  let snapSize = -1;
  try {
    snapSize = statSync(snapFile).size;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  // Checked before reading: the file is never read whole past the limit.
  if (snapSize > MAX_SNAPSHOT_BYTES) {
    throw new StoreError('AVC_ERR_STORE_SNAPSHOT_CORRUPT', 'snapshot is larger than the limit');
  }
  const snap = snapSize < 0 ? null : readIfExists(snapFile);
  if (snap !== null) {
    let s: {
      version: number;
      seq: number;
      checkpoint: unknown;
      signatures: SignatureRecord[];
      hostSigs: string[];
      counters: Record<string, number>;
      events: unknown[];
      alerts: StoredAlert[];
      eventKeys: string[];
      windows?: WindowRecord[];
      batchIds?: string[];
    };
    try {
      s = JSON.parse(snap.toString('utf8'));
    } catch (err) {
      throw new StoreError('AVC_ERR_STORE_SNAPSHOT_CORRUPT', 'snapshot is not valid JSON', { cause: err });
    }
    if (s.version !== 1) throw new StoreError('AVC_ERR_STORE_SNAPSHOT_CORRUPT', 'unknown snapshot version');
    state.seq = s.seq;
    state.checkpoint = s.checkpoint;
    for (const r of s.signatures) state.signatures.set(r.id, r);
    for (const k of s.hostSigs) state.hostSigs.add(k);
    state.counters = s.counters;
    for (const e of s.events) keepEvent(e);
    for (const id of s.batchIds ?? []) state.batchIds.add(id);
    for (const a of s.alerts) state.alerts.set(a.id, a);
    for (const k of s.eventKeys) state.eventKeys.add(k);
    for (const w of s.windows ?? []) state.windows.set(w.id, w);
  }
  if (snap !== null) enforceBounds();
  const journalFile = join(dir, JOURNAL);
  let replayed = 0;
  /** The last batch record replayed, to recognise the same batch appended again under a new seq. */
  let lastBatch: string | null = null;
  const read = readJournal(
    journalFile,
    (rec) => {
      const r = rec as JournalRecord;
      if (r.seq <= state.seq) return; // already in the snapshot (crash between snapshot and journal swap)
      if (r.t === 'batch') {
        // Older versions re-appended a batch (new seq, same content) after a failed compaction, every tick.
        // Its events, counters and hits are applied once; the repeat only moves seq (and the window counts).
        const same = JSON.stringify([
          r.checkpoint,
          r.eventKeys,
          r.counters,
          r.signatureHits,
          r.events.length,
        ]);
        const repeated = (r.id !== undefined && state.batchIds.has(r.id)) || same === lastBatch;
        lastBatch = same;
        if (repeated) {
          duplicateBatches++;
          apply({ ...r, events: [], eventKeys: [], counters: {}, signatureHits: {} });
          replayed++;
          return;
        }
      }
      apply(r);
      replayed++;
    },
    { maxRecordBytes },
  );
  let journal: JournalWriter | null = readOnly
    ? null
    : openJournalWriter(journalFile, read.validBytes, maxRecordBytes);

  function bump(name: string, by: number): void {
    state.counters[name] = (state.counters[name] ?? 0) + by;
  }

  function touchSignature(id: string): void {
    // Map keeps insertion order: re-insert to make it the most recently seen.
    const r = state.signatures.get(id);
    if (r === undefined) return;
    state.signatures.delete(id);
    state.signatures.set(id, r);
  }

  function keepEvent(e: unknown): void {
    const size = JSON.stringify(e)?.length ?? 0;
    if (size > maxEventBytes) {
      // Would evict every other event and still not fit: not kept (the caller bounds its events).
      bump('store_events_evicted', 1);
      return;
    }
    state.events.push(e);
    state.eventSizes.push(size);
    state.eventBytes += size;
  }

  function enforceBounds(): void {
    while (state.signatures.size > maxSignatures) {
      const oldest = state.signatures.keys().next().value as string;
      state.signatures.delete(oldest);
      bump('store_signatures_evicted', 1);
    }
    while (state.hostSigs.size > maxHostSignatures) {
      const oldest = state.hostSigs.values().next().value as string;
      state.hostSigs.delete(oldest);
      bump('store_host_signatures_evicted', 1);
    }
    let drop = Math.max(0, state.events.length - maxEvents);
    let bytes = state.eventBytes;
    for (let i = 0; i < drop; i++) bytes -= state.eventSizes[i] ?? 0;
    while (bytes > maxEventBytes && drop < state.events.length) bytes -= state.eventSizes[drop++] ?? 0;
    if (drop > 0) {
      state.events.splice(0, drop);
      state.eventSizes.splice(0, drop);
      state.eventBytes = bytes;
      bump('store_events_evicted', drop);
    }
    while (state.eventKeys.size > maxEventKeys) {
      state.eventKeys.delete(state.eventKeys.values().next().value as string);
    }
    while (state.windows.size > MAX_WINDOWS) {
      state.windows.delete(state.windows.keys().next().value as string);
      bump('store_windows_evicted', 1);
    }
    if (state.alerts.size > maxAlerts) {
      for (const [id, a] of state.alerts) {
        if (state.alerts.size <= maxAlerts) break;
        if (a.pendingSinks.length === 0) state.alerts.delete(id);
      }
    }
  }

  function apply(r: JournalRecord): void {
    state.seq = r.seq;
    if (r.t === 'claim') {
      if (!state.signatures.has(r.sigId)) {
        state.signatures.set(r.sigId, {
          id: r.sigId,
          key: r.key,
          firstSeen: r.time,
          lastSeen: r.time,
          firstHost: r.host,
          count: 0,
        });
      }
      state.hostSigs.add(hostKey(r.host, r.sigId));
      for (const a of r.alerts) state.alerts.set(a.id, { ...a, pendingSinks: [...a.pendingSinks] });
      // Counted with the claim itself, so the count is exact whatever the crash point.
      if (r.alerts.length > 0) bump('alerts', r.alerts.length);
      for (const w of r.windows ?? []) state.windows.set(w.id, { ...w });
    } else if (r.t === 'delivered') {
      const a = state.alerts.get(r.alertId);
      if (a !== undefined) a.pendingSinks = a.pendingSinks.filter((s) => s !== r.sink);
    } else if (r.t === 'repeat') {
      state.alerts.set(r.alert.id, { ...r.alert, pendingSinks: [...r.alert.pendingSinks] });
      bump('repeat_alerts', 1);
      state.windows.delete(r.windowId);
    } else {
      for (const e of r.events) keepEvent(e);
      if (r.id !== undefined) {
        state.batchIds.add(r.id);
        if (state.batchIds.size > MAX_BATCH_IDS)
          state.batchIds.delete(state.batchIds.values().next().value as string);
      }
      for (const k of r.eventKeys) state.eventKeys.add(k);
      for (const [name, by] of Object.entries(r.counters)) bump(name, by);
      for (const [id, hit] of Object.entries(r.signatureHits)) {
        const s = state.signatures.get(id);
        if (s === undefined) continue;
        s.count += hit.count;
        if (hit.lastSeen > s.lastSeen) s.lastSeen = hit.lastSeen;
        touchSignature(id);
      }
      if (r.checkpoint !== undefined) state.checkpoint = r.checkpoint;
      for (const id of r.windows?.remove ?? []) state.windows.delete(id);
      for (const w of r.windows?.upsert ?? []) {
        const cur = state.windows.get(w.id);
        if (cur !== undefined) {
          cur.count = w.count;
          cur.lastTime = w.lastTime;
        } else if (w.data !== undefined) state.windows.set(w.id, { ...w, data: w.data });
      }
    }
    enforceBounds();
  }

  function writer(): JournalWriter {
    if (journal === null) throw new StoreError('AVC_ERR_STORE_CLOSED', 'store is closed or read-only');
    return journal;
  }

  function write(r: JournalRecord, sync: boolean): void {
    try {
      writer().append(r, sync);
    } catch (err) {
      if (err instanceof StoreError) throw err;
      throw new StoreError('AVC_ERR_STORE_IO', 'journal write failed', { cause: err, retriable: true });
    }
    apply(r);
  }

  function snapshotText(): string {
    return JSON.stringify({
      version: 1,
      seq: state.seq,
      checkpoint: state.checkpoint,
      signatures: [...state.signatures.values()],
      hostSigs: [...state.hostSigs],
      counters: state.counters,
      events: state.events,
      alerts: [...state.alerts.values()],
      eventKeys: [...state.eventKeys],
      windows: [...state.windows.values()],
      batchIds: [...state.batchIds],
    });
  }

  const store: Store = {
    dir,
    checkpoint: () => state.checkpoint,
    hasSignature: (id) => state.signatures.has(id),
    hasHostSignature: (host, id) => state.hostSigs.has(hostKey(host, id)),
    claimSignature(input) {
      const newFleet = !state.signatures.has(input.sigId);
      const newHost = !state.hostSigs.has(hostKey(input.host, input.sigId));
      const result = { newFleet, newHost };
      if (!newFleet && !newHost) return result;
      const alerts = (input.alerts?.(result) ?? []).map((a) => ({
        id: a.id,
        alert: a.alert,
        pendingSinks: [...a.sinks],
        createdAt: new Date().toISOString(),
      }));
      write(
        {
          seq: state.seq + 1,
          t: 'claim',
          sigId: input.sigId,
          key: input.key,
          host: input.host,
          time: input.time,
          newFleet,
          newHost,
          alerts,
          ...(input.windows === undefined ? {} : { windows: input.windows() }),
        },
        true,
      );
      return result;
    },
    recordRepeat(input) {
      if (state.alerts.has(input.id)) return false;
      const alert: StoredAlert = {
        id: input.id,
        alert: input.alert,
        pendingSinks: [...input.sinks],
        createdAt: new Date().toISOString(),
      };
      write({ seq: state.seq + 1, t: 'repeat', alert, windowId: input.windowId }, true);
      return true;
    },
    windows: () => [...state.windows.values()].map((w) => ({ ...w })),
    markDelivered(alertId, sink) {
      const a = state.alerts.get(alertId);
      if (a === undefined || !a.pendingSinks.includes(sink)) return;
      write({ seq: state.seq + 1, t: 'delivered', alertId, sink }, false);
    },
    pendingAlerts: () => [...state.alerts.values()].filter((a) => a.pendingSinks.length > 0),
    seenEvent: (key) => state.eventKeys.has(key),
    commitBatch(batch) {
      if (batch.id !== undefined && state.batchIds.has(batch.id)) return false;
      const r: JournalRecord = {
        seq: state.seq + 1,
        t: 'batch',
        ...(batch.id === undefined ? {} : { id: batch.id }),
        events: batch.events ?? [],
        eventKeys: batch.eventKeys ?? [],
        counters: batch.counters ?? {},
        signatureHits: batch.signatureHits ?? {},
      };
      if (batch.checkpoint !== undefined) r.checkpoint = batch.checkpoint;
      if (batch.windows !== undefined && (batch.windows.upsert.length > 0 || batch.windows.remove.length > 0))
        r.windows = batch.windows;
      write(r, true);
      // The batch is stored: a failed compaction must not make the caller commit it again.
      const size = writer().size();
      if (size > compactAt) {
        try {
          store.compact();
          compactAt = compactBytes;
        } catch (err) {
          compactionFailures++;
          compactAt = size + compactBytes;
          options.onCompactError?.(err);
        }
      }
      return true;
    },
    counters: () => ({ ...state.counters }),
    events: () => state.events,
    alerts: () => [...state.alerts.values()],
    signatures: () => [...state.signatures.values()],
    stats: () => ({
      journalBytes: journal?.size() ?? 0,
      droppedBytesOnOpen: read.droppedBytes,
      replayedRecords: replayed,
      compactions,
      compactionFailures,
      duplicateBatches,
      eventBytes: state.eventBytes,
      signatures: state.signatures.size,
      hostSignatures: state.hostSigs.size,
      events: state.events.length,
      alerts: state.alerts.size,
    }),
    compact() {
      const w = writer();
      w.sync();
      // 1. snapshot (atomic, durable) holds everything up to state.seq. A failure here changes nothing: the
      //    journal stays open and complete.
      writeFileAtomicSync(join(dir, SNAPSHOT), snapshotText());
      // 2. swap in an empty journal; a crash before this leaves old records, skipped by seq on load. The old
      //    journal stays the open one until the rename succeeded.
      const tmp = join(dir, `.${JOURNAL}.tmp`);
      const fd = openSync(tmp, 'w', 0o600);
      fsyncSync(fd);
      closeSync(fd);
      renameSync(tmp, journalFile);
      w.close();
      fsyncDir(dir);
      journal = openJournalWriter(journalFile, 0, maxRecordBytes);
      compactions++;
    },
    close() {
      if (journal === null) return;
      journal.close();
      journal = null;
      if (!readOnly) removeIfExists(join(dir, LOCK));
    },
  };
  return store;
}
