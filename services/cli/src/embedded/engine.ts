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
import { storedEvent } from './stored-event.ts';

/** What the embedded mode checkpoints: the tail position plus how far lines were counted. */
export interface EmbeddedCheckpoint {
  identity: FileIdentity;
  /** Resume reading here (the decoder's safe offset: every record before it belongs to a stored event). */
  offset: number;
  /** Lines and malformed lines before this offset were already counted. */
  scanned: number;
}

export interface EngineHooks {
  /** A SELinux event was stored, as the state dir keeps it (feeds the live report). */
  onEvent?(event: AuditEvent): void;
  /** Lines the parser rejected, each once (`offset` is the file offset of the line's first byte). */
  onMalformed?(errors: ParseError[], source: { path: string; dev: number; ino: number } | null): void;
  /** A store commit failed; intake waits (follow mode) until a retry succeeds. */
  onCommitError?(err: unknown): void;
  /** AVC records whose body did not parse (the report counts these from the event itself). */
  onMalformedRecords?(n: number): void;
  /**
   * The lines of those records, each once as it is read (`AVC_ERR_AUDIT_AVC_BODY`, with the line's file offset
   * and bytes): to dead-letter them. Already counted by `onMalformedRecords`; the records stay in their events.
   */
  onMalformedAvcLines?(errors: ParseError[], source: { path: string; dev: number; ino: number } | null): void;
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
  /** Longest line accepted (tail and decoder); longer lines are counted and reported malformed. Default 1 MiB. */
  maxLineBytes?: number;
  pollIntervalMs?: number;
  /** Group commit: at most one fsynced store batch per this many ms (0 = one per chunk). Default 200. */
  commitIntervalMs?: number;
  /** Also commit once the pending events hold about this many characters. Default 4 MiB. */
  commitChars?: number;
  /** Follow mode: wait this long between retries of a failed commit (intake waits meanwhile). Default 1000. */
  commitRetryMs?: number;
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
  /** `commitFailing`: the last store commit failed and intake waits for a retry (`/readyz` answers 503). */
  health(): EngineHealth;
  readonly tail: Tail;
}

export interface EngineHealth {
  commitFailing: boolean;
  /** Message of the last commit failure, while failing. */
  lastCommitError: string | null;
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

/** One file's part of the decoder's byte stream: decoder offset `at` is byte `base` of that file. */
interface Segment {
  path: string;
  identity: FileIdentity;
  at: number;
  base: number;
  /** File offset up to which lines were counted (for the last segment: `Current.scanned`). */
  scanned: number;
}

/**
 * One decoder's stream of records. Usually one file; across a rotation the tail says continues (a rename: the
 * renamed file, then the new one from 0; a copytruncate: the truncated file, its copy, then the live file from 0)
 * the files are one stream (`segments`), so an event open at the rotation is not split.
 */
interface Current {
  /** Oldest first; the last is the file being read. Segments before the checkpoint's are dropped. */
  segments: Segment[];
  decoder: AuditDecoder;
  /** Bytes written to the decoder. */
  fed: number;
  /** Lines (and malformed lines) of the file being read were counted up to this file offset. */
  scanned: number;
  /** The bytes handed to the decoder end inside a line (a cut piece), first read by this run. */
  openLine: boolean;
  /** The tail said the next chunk continues this stream in another file (rename rotation, copytruncate). */
  continues: boolean;
}

const lastOf = (c: Current): Segment => c.segments[c.segments.length - 1]!;

/** The segment holding decoder offset `s` (the first one if `s` lies before every segment). */
function segmentAt(c: Current, s: number): Segment {
  let seg = c.segments[0]!;
  for (const x of c.segments) if (x.at <= s) seg = x;
  return seg;
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
  /** The current stream: its decoder and the files (segments) it reads. */
  let cur: Current | null = null;
  let chain: Promise<void> = Promise.resolve();
  /** The decoder's AVC_ERR_AUDIT_AVC_BODY reports of the lines it parsed since the last `handle`. */
  const avcBodyErrors: ParseError[] = [];
  let resumed = false;
  const clock = opts.clock ?? Date.now;
  const commitIntervalMs = opts.commitIntervalMs ?? 200;
  let lastCommit = clock();
  const commitChars = opts.commitChars ?? 4 * 1024 * 1024;
  const commitRetryMs = opts.commitRetryMs ?? 1000;
  const emptyBatch = (): PendingBatch => ({ events: [], eventKeys: [], counters: {}, signatureHits: {} });
  let pending: PendingBatch = emptyBatch();
  /** Characters (roughly) of the pending events: a batch record stays far below the store's record bound. */
  let pendingChars = 0;
  const pendingKeys = new Set<string>();
  /** Each pending batch gets an id: a retry after a commit that threw cannot store it twice. */
  const runId = `${process.pid.toString(36)}-${clock().toString(36)}`;
  let batchNo = 0;
  let pendingId = `${runId}-${batchNo}`;
  let commitError: unknown = null;
  let stopping = false;

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
    isNew: (e: ParseError) => boolean,
  ): Promise<void> {
    const c = cur;
    const batch = pending;
    const bump = (k: string, by = 1) => {
      if (by !== 0) batch.counters[k] = (batch.counters[k] ?? 0) + by;
    };
    bump('lines', lines);
    totals.lines += lines;
    // File offsets from here on (the decoder's are relative to where its stream started), grouped by file.
    const bySegmentOf = (list: ParseError[]) => {
      const bySegment = new Map<Segment | null, ParseError[]>();
      let n = 0;
      for (const e of list) {
        if (!isNew(e)) continue;
        let seg: Segment | null = null;
        if (c !== null) {
          seg = segmentAt(c, e.offset ?? c.fed);
          if (e.offset !== undefined) e.offset = seg.base + (e.offset - seg.at);
        }
        n++;
        const group = bySegment.get(seg);
        if (group === undefined) bySegment.set(seg, [e]);
        else group.push(e);
      }
      return { bySegment, n };
    };
    const sourceOf = (seg: Segment | null) =>
      seg === null ? null : { path: seg.path, dev: seg.identity.dev, ino: seg.identity.ino };
    const bad = bySegmentOf(errors);
    bump('malformed', bad.n);
    totals.malformed += bad.n;
    for (const [seg, errs] of bad.bySegment) hooks.onMalformed?.(errs, sourceOf(seg));
    // Lines whose AVC decision did not parse, reported by the decoder as it read them: dead-lettered here,
    // counted below from their events.
    for (const [seg, errs] of bySegmentOf(avcBodyErrors.splice(0)).bySegment) {
      hooks.onMalformedAvcLines?.(errs, sourceOf(seg));
    }
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
      const kept = storedEvent(ev);
      batch.events.push(kept.event);
      pendingChars += kept.approxChars;
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
            port: d.port,
            path: d.avcPath,
          }) ?? null;
        const emitted = await alerter.process(d, ex);
        if (emitted.length > 0) hooks.onAlerts?.(emitted);
      }
      hooks.onEvent?.(kept.event);
    }
    if (c !== null) {
      // The checkpoint names the file and offset where the oldest open event starts: after a rotation that may
      // be the renamed file, the truncated file or its copy (a restart finishes it first), not the file being read.
      const safe = Math.min(c.decoder.safeOffset(), Number.MAX_SAFE_INTEGER);
      const seg = segmentAt(c, safe);
      const last = seg === lastOf(c);
      batch.checkpoint = {
        identity: seg.identity,
        offset: seg.base + (safe - seg.at),
        scanned: last ? c.scanned : seg.scanned,
      };
      // No open event refers to the files before it any more.
      const first = c.segments.indexOf(seg);
      if (first > 0) c.segments.splice(0, first);
    }
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
    if (
      !force &&
      commitError === null &&
      now - lastCommit < commitIntervalMs &&
      pending.eventKeys.length < 5_000 &&
      pendingChars < commitChars
    )
      return;
    // The alerter's rate-limit windows as of this checkpoint: a crash re-reads what follows and recounts it.
    // Changes are merged into the pending batch, so a retry after a failed commit keeps the earlier ones.
    const changes = alerter.windowChanges() as unknown as NonNullable<BatchInput['windows']>;
    pending.windows = mergeWindows(pending.windows, changes);
    try {
      // Committed under the same id until it succeeds: a commit that threw after its write is not repeated.
      store.commitBatch({ ...pending, id: pendingId });
    } catch (err) {
      commitError = err;
      hooks.onCommitError?.(err);
      throw err;
    }
    commitError = null;
    pending = emptyBatch();
    pendingChars = 0;
    pendingKeys.clear();
    pendingId = `${runId}-${++batchNo}`;
    lastCommit = now;
  }

  /**
   * Commit after a chunk. In follow mode a failed commit keeps the batch pending and intake waits here
   * (the tail reads nothing more) retrying every `commitRetryMs`, until it succeeds or the engine stops;
   * `--once` fails instead.
   */
  async function commitOrWait(force: boolean): Promise<void> {
    try {
      maybeCommit(force);
      return;
    } catch (err) {
      if (!opts.follow) throw err;
    }
    while (!stopping) {
      await new Promise((resolve) => setTimeout(resolve, commitRetryMs));
      try {
        maybeCommit(true);
        return;
      } catch {
        // reported through onCommitError; intake keeps waiting
      }
    }
  }

  function onChunk(chunk: TailChunk): Promise<void> {
    return serial(async () => {
      if (cur?.continues) {
        // Rename rotation or copytruncate: the next file goes on with the same stream and decoder.
        cur.continues = false;
        const prev = lastOf(cur);
        prev.scanned = cur.scanned;
        cur.segments.push({
          path: chunk.path,
          identity: chunk.identity,
          at: cur.fed,
          base: chunk.start,
          scanned: chunk.start,
        });
        cur.scanned = chunk.start;
      } else if (cur === null || idKey(lastOf(cur).identity) !== idKey(chunk.identity)) {
        // The saved `scanned` applies only where we resumed: the first chunk, same file, at the saved offset
        // (not after a truncation while we were down, nor to a later copytruncate of the same inode).
        const sameAsSaved =
          !resumed &&
          savedCp !== null &&
          idKey(savedCp.identity) === idKey(chunk.identity) &&
          chunk.start === savedCp.offset;
        resumed = true;
        const scanned =
          sameAsSaved && savedCp !== null ? Math.max(savedCp.scanned ?? 0, chunk.start) : chunk.start;
        cur = {
          segments: [{ path: chunk.path, identity: chunk.identity, at: 0, base: chunk.start, scanned }],
          decoder: createAuditDecoder({
            ...(opts.maxLineBytes === undefined ? {} : { maxLineBytes: opts.maxLineBytes }),
            onMalformedAvc: (e) => avcBodyErrors.push(e),
          }),
          fed: 0,
          scanned,
          openLine: false,
          continues: false,
        };
      }
      const c = cur;
      lastOf(c).identity = chunk.identity; // the fingerprint may have grown
      const from = Math.max(0, c.scanned - chunk.start);
      // Lines are counted by their newline (a line cut in pieces by the tail is one line); an unterminated last
      // line of a finished file is counted at its end.
      const lines = chunk.end > c.scanned ? countNewlines(chunk.data, from) : 0;
      const scannedFrom = c.scanned;
      if (chunk.end > c.scanned) {
        c.scanned = chunk.end;
        c.openLine = chunk.data.length > 0 && chunk.data[chunk.data.length - 1] !== 0x0a;
      }
      const fedBefore = c.fed;
      const r = c.decoder.write(chunk.data);
      c.fed += chunk.data.length;
      // A malformed line is reported once its end is read, so it ends in this chunk: it is new unless its
      // newline was counted before (re-read after a restart). Its start may lie chunks back (an over-long line).
      const isNew = (e: ParseError) => {
        if (e.offset === undefined) return true;
        const nl = chunk.data.indexOf(0x0a, Math.max(0, e.offset - fedBefore));
        return (nl === -1 ? chunk.end : chunk.start + nl) >= scannedFrom;
      };
      await handle(r.events, r.errors, lines, isNew);
      await commitOrWait(false);
    });
  }

  /** End of a stream's bytes: the decoder's last (unterminated) line, counted when this run read it first. */
  async function endOfFile(): Promise<void> {
    if (cur === null) return;
    const openLine = cur.openLine;
    cur.openLine = false;
    const r = cur.decoder.end();
    await handle(r.events, r.errors, openLine ? 1 : 0, () => openLine);
  }

  function onFileEnd(info: FileEndInfo): Promise<void> {
    return serial(async () => {
      if (cur === null) return;
      if (info.continues) {
        // Rename rotation or copytruncate: the next chunk continues this stream from another file; keep the open
        // events. The checkpoint stays where the oldest of them starts.
        cur.continues = true;
        await commitOrWait(true);
        return;
      }
      await endOfFile();
      await commitOrWait(true);
      cur = null;
    });
  }

  const tail = createTail({
    path: opts.input,
    startAt: opts.startAt,
    checkpoints,
    chunkBytes: opts.chunkBytes ?? 64 * 1024,
    ...(opts.maxLineBytes === undefined ? {} : { maxLineBytes: opts.maxLineBytes }),
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
        await endOfFile();
        await commitOrWait(true);
      });
    },
    tick(nowMs) {
      return serial(async () => {
        if (cur !== null) {
          const r = cur.decoder.tick(nowMs);
          if (r.events.length > 0) await handle(r.events, r.errors, 0, () => true);
        }
        // A failing commit is retried by the chunk that waits for it, or by the next tick.
        try {
          maybeCommit(false);
        } catch {
          // reported through onCommitError
        }
      });
    },
    async stop() {
      stopping = true;
      await tail.stop();
      await chain;
      maybeCommit(true);
    },
    totals: () => ({ ...totals }),
    health: () => ({
      commitFailing: commitError !== null,
      lastCommitError: commitError === null ? null : String((commitError as Error).message ?? commitError),
    }),
  };
}

/** Window changes of a batch whose commit failed, followed by the changes since (later ones win). */
function mergeWindows(
  before: BatchInput['windows'],
  after: NonNullable<BatchInput['windows']>,
): NonNullable<BatchInput['windows']> {
  if (before === undefined) return after;
  const upsert = new Map(before.upsert.map((w) => [w.id, w]));
  const remove = new Set(before.remove);
  for (const id of after.remove) {
    remove.add(id);
    upsert.delete(id);
  }
  for (const w of after.upsert) {
    const old = upsert.get(w.id);
    // An upsert keeps the window's data from its first (opening) change.
    upsert.set(w.id, old?.data !== undefined && w.data === undefined ? { ...w, data: old.data } : w);
    remove.delete(w.id);
  }
  return { upsert: [...upsert.values()], remove: [...remove] };
}
