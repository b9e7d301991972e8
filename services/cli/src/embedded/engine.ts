import {
  type AuditDecoder,
  type AuditEvent,
  createAuditDecoder,
  isMalformedAvc,
  isSelinuxEvent,
  type ParseError,
} from '@avcstream/audit';
import { type Alert, type Alerter, type SignatureOptions, signaturesOf } from '@avcstream/alerts';
import type { BatchInput, Store } from '@avcstream/store';
import {
  type CheckpointStore,
  createTail,
  type FileEndInfo,
  type FileIdentity,
  isPosition,
  type Tail,
  type TailChunk,
} from '@avcstream/tail';
import { denialsOf, eventKey } from './denial.ts';
import type { ExplainFn } from './explain.ts';

/** What the embedded mode checkpoints: the tail position plus how far lines were counted. */
export interface EmbeddedCheckpoint {
  identity: FileIdentity;
  /** Resume reading here (the decoder's safe offset: every record before it belongs to a stored event). */
  offset: number;
  /** Lines and malformed lines before this offset were already counted. */
  scanned: number;
}

export interface EngineHooks {
  /** A SELinux event was stored (feeds the live report). */
  onEvent?(event: AuditEvent): void;
  /** Lines the parser rejected. */
  onMalformed?(errors: ParseError[]): void;
  /** AVC records whose body did not parse (the report counts these from the event itself). */
  onMalformedRecords?(n: number): void;
  onAlerts?(alerts: Alert[]): void;
  onWarning?(code: string, details: Record<string, unknown>): void;
}

export interface EngineOptions {
  input: string;
  startAt: 'beginning' | 'end';
  store: Store;
  alerter: Alerter;
  explain: ExplainFn | null;
  defaultHost: string;
  follow: boolean;
  chunkBytes?: number;
  pollIntervalMs?: number;
  /** Group commit: at most one fsynced store batch per this many ms (0 = one per chunk). Default 200. */
  commitIntervalMs?: number;
  signature?: SignatureOptions;
  clock?: () => number;
  hooks?: EngineHooks;
}

export interface EngineTotals {
  lines: number;
  events: number;
  selinuxEvents: number;
  denials: number;
  malformed: number;
  duplicateEvents: number;
}

export interface Engine {
  start(): Promise<void>;
  /** Read the input to its end, close every open event and store it (the `--once` path). */
  finish(): Promise<void>;
  /** Idle flush of events whose horizon passed (follow mode). */
  tick(nowMs: number): Promise<void>;
  stop(): Promise<void>;
  /** This run's totals (the store's counters hold the durable, all-time ones). */
  totals(): EngineTotals;
  readonly tail: Tail;
}

type PendingBatch = Required<Pick<BatchInput, 'events' | 'eventKeys' | 'counters' | 'signatureHits'>> & {
  checkpoint?: EmbeddedCheckpoint;
  windows?: BatchInput['windows'];
};

function countNewlines(data: Buffer, from: number): number {
  let n = 0;
  let i = data.indexOf(0x0a, from);
  while (i !== -1) {
    n++;
    i = data.indexOf(0x0a, i + 1);
  }
  return n;
}

function idKey(id: FileIdentity): string {
  return `${id.dev}:${id.ino}`;
}

/**
 * tail (checkpointed in the store) -> decode/reassemble -> explain -> claim signatures + alert -> one store
 * batch per chunk (events, counters, checkpoint). See @avcstream/store's README for the crash-point table.
 */
export function createEngine(opts: EngineOptions): Engine {
  const { store, alerter, explain, defaultHost } = opts;
  const hooks = opts.hooks ?? {};
  const totals: EngineTotals = {
    lines: 0,
    events: 0,
    selinuxEvents: 0,
    denials: 0,
    malformed: 0,
    duplicateEvents: 0,
  };

  const saved = store.checkpoint();
  const savedCp = isPosition(saved) ? (saved as EmbeddedCheckpoint) : null;
  /** Current file: its decoder and the file offset where the decoder's stream starts. */
  let cur: { identity: FileIdentity; base: number; decoder: AuditDecoder; scanned: number } | null = null;
  let chain: Promise<void> = Promise.resolve();
  let resumed = false;
  const clock = opts.clock ?? Date.now;
  const commitIntervalMs = opts.commitIntervalMs ?? 200;
  let lastCommit = clock();
  const emptyBatch = (): PendingBatch => ({ events: [], eventKeys: [], counters: {}, signatureHits: {} });
  let pending: PendingBatch = emptyBatch();
  const pendingKeys = new Set<string>();

  const checkpoints: CheckpointStore = {
    async load() {
      return savedCp === null ? null : { identity: savedCp.identity, offset: savedCp.offset };
    },
    // The embedded mode writes its checkpoint inside the store's batch records, never on its own.
    async save() {},
  };

  function serial<T>(fn: () => Promise<T>): Promise<T> {
    const p = chain.then(fn);
    chain = p.then(
      () => undefined,
      () => undefined,
    );
    return p;
  }

  /** Process decoded events and errors, then store them with the checkpoint in one batch. */
  async function handle(
    events: AuditEvent[],
    errors: ParseError[],
    lines: number,
    scannedFrom: number,
  ): Promise<void> {
    const c = cur;
    const batch = pending;
    const bump = (k: string, by = 1) => {
      if (by !== 0) batch.counters[k] = (batch.counters[k] ?? 0) + by;
    };
    bump('lines', lines);
    totals.lines += lines;
    const newErrors =
      c === null ? errors : errors.filter((e) => e.offset === undefined || c.base + e.offset >= scannedFrom);
    bump('malformed', newErrors.length);
    totals.malformed += newErrors.length;
    if (newErrors.length > 0) hooks.onMalformed?.(newErrors);
    for (const ev of events) {
      const key = eventKey(ev, defaultHost);
      if (store.seenEvent(key) || pendingKeys.has(key)) {
        totals.duplicateEvents++;
        continue;
      }
      pendingKeys.add(key);
      batch.eventKeys.push(key);
      bump('events');
      totals.events++;
      if (!isSelinuxEvent(ev)) continue;
      bump('selinuxEvents');
      totals.selinuxEvents++;
      // An AVC / USER_AVC decision whose body did not parse (cut off, no tcontext) is a malformed line too
      // (the report counts it the same way); kept apart from the parser's errors so a report rebuilt from the
      // stored events does not count it twice.
      const broken = ev.records.filter(isMalformedAvc).length;
      if (broken > 0) {
        bump('malformedRecords', broken);
        totals.malformed += broken;
        hooks.onMalformedRecords?.(broken);
      }
      batch.events.push(ev);
      for (const d of denialsOf(ev, defaultHost)) {
        bump('denials');
        totals.denials++;
        for (const sig of signaturesOf(d, opts.signature)) {
          const h = batch.signatureHits[sig.id];
          if (h === undefined) batch.signatureHits[sig.id] = { count: 1, lastSeen: d.time };
          else {
            h.count++;
            if (d.time > h.lastSeen) h.lastSeen = d.time;
          }
        }
        const ex =
          explain?.({
            scontext: d.avc.scontext.raw,
            tcontext: d.avc.tcontext.raw,
            tclass: d.avc.tclass,
            perms: d.avc.perms,
            permissive: d.avc.permissive,
          }) ?? null;
        const emitted = await alerter.process(d, ex);
        if (emitted.length > 0) hooks.onAlerts?.(emitted);
      }
      hooks.onEvent?.(ev);
    }
    const cp: EmbeddedCheckpoint | undefined =
      c === null
        ? undefined
        : {
            identity: c.identity,
            offset: c.base + Math.min(c.decoder.safeOffset(), Number.MAX_SAFE_INTEGER),
            scanned: c.scanned,
          };
    if (cp !== undefined) batch.checkpoint = cp;
  }

  /**
   * Group commit: the pending batch (events, counters, signature hits, checkpoint) goes to the store as one
   * fsynced record when forced, when `commitIntervalMs` passed, or when it holds many events. A crash loses
   * only uncommitted work, which is re-read from the last checkpoint (claims are durable at once, so no alert
   * repeats).
   */
  function maybeCommit(force: boolean): void {
    const empty =
      pending.events.length === 0 &&
      pending.eventKeys.length === 0 &&
      Object.keys(pending.counters).length === 0 &&
      pending.checkpoint === undefined;
    if (empty) return;
    const now = clock();
    if (!force && now - lastCommit < commitIntervalMs && pending.eventKeys.length < 5_000) return;
    // The alerter's rate-limit windows as of this checkpoint: a crash re-reads what follows and recounts it.
    pending.windows = alerter.windowChanges() as unknown as BatchInput['windows'];
    store.commitBatch(pending);
    pending = emptyBatch();
    pendingKeys.clear();
    lastCommit = now;
  }

  function onChunk(chunk: TailChunk): Promise<void> {
    return serial(async () => {
      if (cur === null || idKey(cur.identity) !== idKey(chunk.identity)) {
        // The saved `scanned` applies only where we resumed: the first chunk, same file, at the saved offset
        // (not after a truncation while we were down, nor to a later copytruncate of the same inode).
        const sameAsSaved =
          !resumed &&
          savedCp !== null &&
          idKey(savedCp.identity) === idKey(chunk.identity) &&
          chunk.start === savedCp.offset;
        resumed = true;
        cur = {
          identity: chunk.identity,
          base: chunk.start,
          decoder: createAuditDecoder(),
          scanned:
            sameAsSaved && savedCp !== null ? Math.max(savedCp.scanned ?? 0, chunk.start) : chunk.start,
        };
      }
      cur.identity = chunk.identity; // the fingerprint may have grown
      const from = Math.max(0, cur.scanned - chunk.start);
      const lines = chunk.end > cur.scanned ? countNewlines(chunk.data, from) + (chunk.cut ? 1 : 0) : 0;
      const scannedFrom = cur.scanned;
      if (chunk.end > cur.scanned) cur.scanned = chunk.end;
      const r = cur.decoder.write(chunk.data);
      await handle(r.events, r.errors, lines, scannedFrom);
      maybeCommit(false);
    });
  }

  function onFileEnd(_info: FileEndInfo): Promise<void> {
    return serial(async () => {
      if (cur === null) return;
      const r = cur.decoder.end();
      await handle(r.events, r.errors, 0, cur.scanned);
      maybeCommit(true);
      cur = null;
    });
  }

  const tail = createTail({
    path: opts.input,
    startAt: opts.startAt,
    checkpoints,
    chunkBytes: opts.chunkBytes ?? 64 * 1024,
    watch: opts.follow,
    pollIntervalMs: opts.follow ? (opts.pollIntervalMs ?? 1000) : 0,
    onChunk,
    onFileEnd,
    onWarning: (code, details) => hooks.onWarning?.(code, details),
  });

  return {
    tail,
    start: () => tail.start(),
    async finish() {
      await tail.drain();
      await serial(async () => {
        if (cur !== null) {
          const r = cur.decoder.end();
          await handle(r.events, r.errors, 0, cur.scanned);
        }
        maybeCommit(true);
      });
    },
    tick(nowMs) {
      return serial(async () => {
        if (cur !== null) {
          const r = cur.decoder.tick(nowMs);
          if (r.events.length > 0) await handle(r.events, r.errors, 0, cur.scanned);
        }
        maybeCommit(false);
      });
    },
    async stop() {
      await tail.stop();
      await chain;
      maybeCommit(true);
    },
    totals: () => ({ ...totals }),
  };
}
