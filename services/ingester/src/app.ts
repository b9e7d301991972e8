import {
  type AuditDecoder,
  createAuditDecoder,
  type DecodeResult,
  isSelinuxEvent,
  type ParseError,
} from '@avcstream/audit';
import { encodePolicyMessage, type PolicyRef } from '@avcstream/contracts';
import { createSendTracker } from '@avcstream/kafka';
import { AvcError, retry } from '@avcstream/pipeline';
import type {
  CheckpointStore,
  FileEndInfo,
  FileIdentity,
  Tail,
  TailChunk,
  TailOptions,
  TailPosition,
} from '@avcstream/tail';
import { sameIdentity } from '@avcstream/tail';
import { createLogRateLimiter, type Logger, type Metrics } from '@avcstream/telemetry';
import { createAckTracker } from './ack-tracker.ts';
import type { IngesterConfig } from './config.ts';
import { encodeEvent, encodeParseError, type FileContext, type OutMessage } from './encode.ts';
import {
  type PolicySnapshot,
  SNAPSHOT_TRIGGERS,
  type SnapshotReason,
  snapshotMessages,
} from './policy-snapshot.ts';

/** The producer port (structurally @avcstream/kafka's KafkaProducer). */
export interface Publisher {
  connect(): Promise<void>;
  send(topic: string, messages: ReadonlyArray<{ key: string; value: Buffer }>): Promise<void>;
  disconnect(): Promise<void>;
}

export interface IngesterDeps {
  config: IngesterConfig;
  logger: Logger;
  metrics: Metrics;
  producer: Publisher;
  createTail: (options: TailOptions) => Tail;
  checkpoints: CheckpointStore;
  readSnapshot: () => Promise<PolicySnapshot>;
  /** Create topics at start (optional; main.ts wires @avcstream/kafka's ensureTopics). */
  ensureTopics?: () => Promise<void>;
  /** uid/gid -> name, when `decoder.resolveIds` is on (main.ts loads passwd/group). */
  resolveIds?: (kind: 'uid' | 'gid', id: number) => string | undefined;
  now?: () => Date;
}

export interface IngesterApp {
  start(): Promise<void>;
  /** Full ordered stop (same steps the lifecycle runs one by one). */
  stop(): Promise<void>;
  ready(): boolean;
  /** Shutdown steps, for the lifecycle. */
  markUnready(): void;
  stopIntake(): Promise<void>;
  drain(): Promise<void>;
  commit(): Promise<void>;
  disconnect(): Promise<void>;
  /** Resolves when everything read so far is acked and checkpointed (tests). */
  idle(): Promise<void>;
  stats(): { unackedBytes: number; pendingBatches: number; committed: TailPosition | null };
}

/** One file's part of the decoder's byte stream: decoder offset `at` is byte `base` of that file. */
interface Segment {
  identity: FileIdentity;
  at: number;
  base: number;
  ctx: FileContext;
}

/**
 * One decoder's stream of records. Usually one file; across a rotation the tail says continues (a rename: the
 * renamed file, then the new one from 0; a copytruncate: the truncated file, its copy, then the live file from 0)
 * the files are one stream (`segments`), so an event open at the rotation is not split.
 */
interface CurrentFile {
  /** Oldest first; the last is the file being read. Segments before the checkpoint's are dropped. */
  segments: Segment[];
  /** Bytes written to the decoder. */
  fed: number;
  decoder: AuditDecoder;
  /** The tail said the next chunk continues this stream in another file. */
  continues: boolean;
  /**
   * Policy state in force per stretch of the stream, oldest first: an event whose first record is on line
   * `fromLine` or later (decoder byte `fromOffset` or later) carries `ref`, until the next one.
   */
  epochs: Array<{ fromLine: number; fromOffset: number; ref: PolicyRef | null }>;
  /**
   * Lines of AVC / USER_AVC records whose decision did not parse, reported by the decoder as it read them
   * (`AVC_ERR_AUDIT_AVC_BODY`): dead-lettered by the next `emit`, while the records go in their events.
   */
  avcErrors: ParseError[];
}

const sameFile = (a: FileIdentity, b: FileIdentity) => a.dev === b.dev && a.ino === b.ino;

export function createApp(deps: IngesterDeps): IngesterApp {
  const { config, logger, metrics, producer } = deps;
  const now = deps.now ?? (() => new Date());
  const log = logger.child({ stage: 'ingest' });

  const m = {
    readBytes: metrics.counter('read', 'bytes', 'Bytes read from the audit log'),
    lines: metrics.counter('read', 'lines', 'Lines read from the audit log'),
    malformed: metrics.counter('malformed', 'lines', 'Lines that did not parse (dead-lettered)'),
    malformedAvc: metrics.counter(
      'malformed_avc',
      'records',
      'AVC / USER_AVC records whose decision did not parse (sent in their event; the line dead-lettered)',
    ),
    events: metrics.counter('published', 'events', 'Events published to Kafka (acked)'),
    filtered: metrics.counter('filtered', 'events', 'Events dropped by the SELinux filter'),
    deadletters: metrics.counter('deadletter', 'messages', 'Messages sent to the dead-letter topic (acked)', [
      'reason',
    ]),
    snapshots: metrics.counter('policy_snapshots', 'snapshots', 'Policy state snapshots published', [
      'reason',
    ]),
    sendRetries: metrics.counter(
      'send_retries',
      'retries',
      'Kafka send attempts that failed and were retried',
    ),
    checkpoints: metrics.counter('checkpoints', 'writes', 'Checkpoints written'),
    unacked: metrics.gauge('unacked', 'bytes', 'Bytes read and not yet acked by Kafka'),
    paused: metrics.gauge('backpressure', 'paused', '1 while reading is paused above the high-water mark'),
  };

  const tracker = createAckTracker<TailPosition | null>();
  const warnLimit = createLogRateLimiter(10, 10_000);
  const abort = new AbortController();
  let tail: Tail | undefined;
  let cur: CurrentFile | null = null;
  let chain: Promise<unknown> = Promise.resolve();
  let ready = false;
  let stopping = false;
  let tickTimer: NodeJS.Timeout | undefined;
  let policyRef: PolicyRef | null = null;
  const publishedPolicies = new Set<string>();
  const inflight = new Set<Promise<void>>();
  let inflightCount = 0;
  const slotWaiters: Array<() => void> = [];
  let ackWaiters: Array<() => void> = [];
  let pendingCommit: TailPosition | null = null;
  const sends = createSendTracker({
    stallMs: config.kafka.sendStallMs,
    now: () => now().getTime(),
    log,
  });
  let committing: Promise<void> | null = null;
  let committed: TailPosition | null = null;

  const serial = <T>(fn: () => Promise<T> | T): Promise<T> => {
    const p = chain.then(fn);
    chain = p.catch(() => {});
    return p;
  };

  const notifyAck = () => {
    m.unacked.set(tracker.unackedBytes);
    const ws = ackWaiters;
    ackWaiters = [];
    for (const w of ws) w();
  };
  const waitAck = () => new Promise<void>((resolve) => ackWaiters.push(resolve));

  // ---- checkpoints: one write at a time, always the latest safe position -------------------------------
  const scheduleCommit = (pos: TailPosition) => {
    pendingCommit = pos;
    if (committing !== null) return;
    committing = (async () => {
      while (pendingCommit !== null && tail !== undefined) {
        const p: TailPosition = pendingCommit;
        pendingCommit = null;
        try {
          await tail.commit(p);
          committed = p;
          m.checkpoints.inc();
        } catch (err) {
          log.warn({ err, offset: p.offset }, 'checkpoint write failed, will retry with the next one');
          pendingCommit ??= p;
          await new Promise((r) => setTimeout(r, 200));
          if (stopping && abort.signal.aborted) break;
        }
      }
      committing = null;
      notifyAck();
    })();
  };

  // ---- sending ------------------------------------------------------------------------------------------
  const sendAll = async (messages: OutMessage[]) => {
    const events = messages.filter((x) => x.topic === 'events');
    const dls = messages.filter((x) => x.topic === 'deadletter');
    await sends.track(() =>
      retry(
        async () => {
          if (events.length > 0) await producer.send(config.kafka.eventsTopic, events);
        },
        {
          attempts: Number.POSITIVE_INFINITY,
          initialDelayMs: 200,
          maxDelayMs: 5000,
          shouldRetry: () => !abort.signal.aborted,
          signal: abort.signal,
          onRetry: (err, attempt, delayMs) => {
            m.sendRetries.inc();
            if (warnLimit.take() !== null) log.warn({ err, attempt, delayMs }, 'kafka send failed, retrying');
          },
        },
      ),
    );
    if (dls.length > 0) {
      await sends.track(() =>
        retry(() => producer.send(config.kafka.deadletterTopic, dls), {
          attempts: Number.POSITIVE_INFINITY,
          initialDelayMs: 200,
          maxDelayMs: 5000,
          shouldRetry: () => !abort.signal.aborted,
          signal: abort.signal,
          onRetry: () => m.sendRetries.inc(),
        }),
      );
    }
    m.events.inc(events.length);
    for (const d of dls) {
      const reason = JSON.parse(d.value.toString('utf8')).reason.code as string;
      m.deadletters.inc({ reason: reason.startsWith('AVC_ERR_AUDIT_') ? 'parse' : 'contract' });
    }
  };

  const dispatch = async (messages: OutMessage[], position: TailPosition | null, bytes: number) => {
    const ticket = tracker.begin(position, bytes);
    m.unacked.set(tracker.unackedBytes);
    if (messages.length === 0) {
      const safe = tracker.ack(ticket);
      if (safe !== null) scheduleCommit(safe);
      notifyAck();
      return;
    }
    while (inflightCount >= config.backpressure.maxInFlightBatches) {
      await new Promise<void>((resolve) => slotWaiters.push(resolve));
    }
    inflightCount++;
    const p = sendAll(messages).then(
      () => {
        const safe = tracker.ack(ticket);
        if (safe !== null) scheduleCommit(safe);
      },
      (err) => {
        // Only when stopping: the batch stays unacked, the checkpoint stays before it, it is re-read.
        if (!abort.signal.aborted) log.error({ err }, 'kafka send abandoned');
      },
    );
    const tracked = p.finally(() => {
      inflightCount--;
      inflight.delete(tracked);
      slotWaiters.shift()?.();
      notifyAck();
    });
    inflight.add(tracked);
  };

  // ---- policy snapshots ---------------------------------------------------------------------------------
  const refreshSnapshot = async (reason: SnapshotReason) => {
    if (!config.policy.enabled) return;
    let snap: PolicySnapshot;
    try {
      snap = await deps.readSnapshot();
    } catch (err) {
      log.warn({ err, reason }, 'cannot read the policy state, keeping the previous one');
      return;
    }
    const s = snapshotMessages(snap, config.host, reason, now(), config.policy.chunkBytes);
    if (policyRef !== null && policyRef.stateId === s.stateId) return;
    const sendOne = (key: string, message: Parameters<typeof encodePolicyMessage>[0]) => {
      const enc = encodePolicyMessage(message);
      if (!enc.ok) throw new AvcError('AVC_ERR_INGESTER_POLICY_INVALID', enc.error.message);
      const value = enc.value;
      return sends.track(() =>
        retry(() => producer.send(config.kafka.policyTopic, [{ key, value }]), {
          attempts: Number.POSITIVE_INFINITY,
          initialDelayMs: 200,
          maxDelayMs: 5000,
          shouldRetry: () => !abort.signal.aborted,
          signal: abort.signal,
          onRetry: () => m.sendRetries.inc(),
        }),
      );
    };
    if (!publishedPolicies.has(snap.sha256)) {
      // One chunk per request: a batch of chunks would exceed the broker's message.max.bytes.
      for (const c of s.chunks) await sendOne(c.key, c.message);
      publishedPolicies.add(snap.sha256);
    }
    // The file_contexts bundle's chunks, then the state that names them (as for the policy binary).
    const fc = snap.fileContexts ?? null;
    if (fc !== null && !publishedPolicies.has(fc.sha256)) {
      for (const c of s.fileContextsChunks) await sendOne(c.key, c.message);
      publishedPolicies.add(fc.sha256);
    }
    if (snap.fileContextsError) {
      log.warn(
        { code: snap.fileContextsError.code, err: snap.fileContextsError.message },
        'file_contexts not sent',
      );
    }
    await sendOne(s.state.key, s.state.message);
    policyRef = { stateId: s.stateId, sha256: snap.sha256 };
    m.snapshots.inc({ reason });
    log.info(
      {
        reason,
        sha256: snap.sha256,
        enforcing: snap.enforcing,
        booleans: Object.keys(snap.booleans).length,
        fileContexts: fc === null ? null : { sha256: fc.sha256, bytes: fc.bytes.length },
      },
      'policy snapshot published',
    );
  };

  /**
   * The lines of `data` that are snapshot triggers (MAC_POLICY_LOAD, MAC_CONFIG_CHANGE, MAC_STATUS), by the
   * byte offset of their line start, in order. Found on the raw bytes before decoding: the one-record MAC_*
   * event closes later than the events written after it, and the state must be published before those events
   * refer to it.
   */
  const triggerLines = (data: Buffer): Array<{ at: number; reason: SnapshotReason }> => {
    const out: Array<{ at: number; reason: SnapshotReason }> = [];
    let from = data.indexOf('type=MAC_');
    while (from >= 0) {
      // (lastIndexOf with a negative start would search from the end.)
      const lineStart = from === 0 ? 0 : data.lastIndexOf(0x0a, from - 1) + 1;
      const prefix = data.toString('latin1', lineStart, from);
      // The record type is the line's first field (after an optional node=): not text inside a field.
      if (prefix === '' || /^node=\S+ $/.test(prefix)) {
        const t = [...SNAPSHOT_TRIGGERS].find((x) => data.indexOf(`type=${x} `, from) === from);
        if (t !== undefined) out.push({ at: lineStart, reason: t as SnapshotReason });
      }
      const next = data.indexOf(0x0a, from);
      from = next < 0 ? -1 : data.indexOf('type=MAC_', next);
    }
    return out;
  };

  /** The position (file identity and offset) of decoder offset `s`, and the file it is in. */
  const positionAt = (file: CurrentFile, s: number): { position: TailPosition; segment: Segment } => {
    let seg = file.segments[0]!;
    for (const x of file.segments) if (x.at <= s) seg = x;
    return { position: { identity: seg.identity, offset: seg.base + (s - seg.at) }, segment: seg };
  };

  const policyOf = (file: CurrentFile, line: number): PolicyRef | null => {
    let ref = file.epochs[0]?.ref ?? null;
    for (const e of file.epochs) if (e.fromLine <= line) ref = e.ref;
    return ref;
  };

  // ---- decoding -----------------------------------------------------------------------------------------
  /** Send what the decoder returned; `safe` is the decoder offset the checkpoint may move to once acked. */
  const emit = async (file: CurrentFile, res: DecodeResult, safe: number, bytes: number) => {
    const at = now();
    const { position, segment } = positionAt(file, safe);
    let batch: OutMessage[] = [];
    let batchBytes = 0;
    const flushBatch = async (pos: TailPosition | null, b: number) => {
      const out = batch;
      batch = [];
      batchBytes = 0;
      await dispatch(out, pos, b);
    };
    const add = async (msg: OutMessage) => {
      batch.push(msg);
      batchBytes += msg.value.length;
      if (
        batch.length >= config.backpressure.maxBatchMessages ||
        batchBytes >= config.backpressure.maxBatchBytes
      ) {
        await flushBatch(null, 0);
      }
    };
    for (const err of res.errors) {
      m.malformed.inc();
      const ctx = positionAt(file, err.offset ?? safe).segment.ctx;
      if (warnLimit.take() !== null) {
        log.warn({ line: err.line, code: err.code, path: ctx.path }, 'malformed audit line, dead-lettered');
      }
      await add(encodeParseError(err, { host: config.host, file: ctx, now: at }));
    }
    // Their record is sent in its event (without `avc`); the line goes to the dead letters too.
    for (const err of file.avcErrors.splice(0)) {
      m.malformedAvc.inc();
      const ctx = positionAt(file, err.offset ?? safe).segment.ctx;
      if (warnLimit.take() !== null) {
        log.warn(
          { line: err.line, code: err.code, path: ctx.path },
          'AVC record with a malformed decision, dead-lettered; its event is sent',
        );
      }
      await add(encodeParseError(err, { host: config.host, file: ctx, now: at }));
    }
    for (const event of res.events) {
      if (config.filter.mode === 'selinux' && !isSelinuxEvent(event)) {
        m.filtered.inc();
        continue;
      }
      await add(
        encodeEvent(event, {
          host: config.host,
          ingesterId: config.ingesterId,
          file: segment.ctx,
          offset: position.offset,
          policy: policyOf(file, event.records[0]?.line ?? 0),
          now: at,
          validate: config.kafka.validate,
        }),
      );
    }
    void batchBytes;
    await flushBatch(position, bytes);
    // Forget the files and policy states no open event can refer to any more.
    const first = file.segments.indexOf(segment);
    if (first > 0) file.segments.splice(0, first);
    while (file.epochs.length > 1 && file.epochs[1]!.fromOffset <= file.decoder.safeOffset())
      file.epochs.shift();
  };

  /** The segment of file `path`/`identity` whose byte `base` is decoder offset `at`. */
  const segmentOf = (path: string, identity: FileIdentity, at: number, base: number): Segment => ({
    identity,
    at,
    base,
    ctx: {
      path,
      dev: identity.dev,
      ino: identity.ino,
      fp: identity.fp,
      fpLen: identity.fpLen,
      base: base - at,
    },
  });

  const openFile = (chunk: { identity: FileIdentity; path: string; start: number }): CurrentFile => {
    const avcErrors: ParseError[] = [];
    return {
      segments: [segmentOf(chunk.path, chunk.identity, 0, chunk.start)],
      fed: 0,
      continues: false,
      epochs: [{ fromLine: 0, fromOffset: 0, ref: policyRef }],
      avcErrors,
      decoder: createAuditDecoder({
        horizonMs: config.decoder.horizonMs,
        maxLineBytes: config.decoder.maxLineBytes,
        ...(deps.resolveIds !== undefined ? { resolveIds: deps.resolveIds } : {}),
        onMalformedAvc: (e) => avcErrors.push(e),
      }),
    };
  };

  const finishFile = async (file: CurrentFile) => {
    const res = file.decoder.end();
    await emit(file, res, file.fed, 0);
  };

  /**
   * Does `chunk` go on with the stream `file` decodes? The same file grown (same dev/inode, the next offset;
   * its fingerprint may have grown with it), or the next file after an end the tail said continues (rename
   * rotation, copytruncate). Anything else ends it.
   */
  const continueWith = (file: CurrentFile, chunk: TailChunk): boolean => {
    const last = file.segments[file.segments.length - 1]!;
    const continues = file.continues;
    file.continues = false;
    if (sameFile(last.identity, chunk.identity) && chunk.start === last.base + (file.fed - last.at)) {
      if (!sameIdentity(last.identity, chunk.identity)) {
        // Re-fingerprinted as it grew: checkpoint with the longer fingerprint from now on.
        file.segments[file.segments.length - 1] = segmentOf(chunk.path, chunk.identity, last.at, last.base);
      }
      return true;
    }
    if (!continues) return false;
    file.segments.push(segmentOf(chunk.path, chunk.identity, file.fed, chunk.start));
    return true;
  };

  /** Decode `data` (complete lines of the stream) and send the result. */
  const decode = async (file: CurrentFile, data: Buffer) => {
    const before = file.decoder.stats().lines;
    const res = file.decoder.write(data);
    file.fed += data.length;
    m.lines.inc(file.decoder.stats().lines - before);
    await emit(file, res, file.decoder.safeOffset(), data.length);
  };

  const onChunk = async (chunk: TailChunk) => {
    await serial(async () => {
      if (stopping) return;
      m.readBytes.inc(chunk.data.length);
      if (cur !== null && !continueWith(cur, chunk)) {
        const old = cur;
        cur = null;
        await finishFile(old);
      }
      cur ??= openFile(chunk);
      const file = cur;
      // Policy changes apply in stream order: what comes before a trigger line is decoded (and its events
      // carry the state before the change) before the new state is read and published.
      let from = 0;
      for (const trigger of triggerLines(chunk.data)) {
        if (trigger.at > from) await decode(file, chunk.data.subarray(from, trigger.at));
        from = trigger.at;
        const previous = policyRef;
        await refreshSnapshot(trigger.reason);
        if (policyRef !== previous) {
          file.epochs.push({
            fromLine: file.decoder.stats().lines + 1,
            fromOffset: file.fed,
            ref: policyRef,
          });
        }
      }
      if (from < chunk.data.length || chunk.data.length === 0) await decode(file, chunk.data.subarray(from));
    });
    // Backpressure: stop reading above the high-water mark of unacked bytes.
    if (tracker.unackedBytes > config.backpressure.highWaterBytes && !stopping) {
      m.paused.set(1);
      while (tracker.unackedBytes > config.backpressure.highWaterBytes / 2 && !stopping) await waitAck();
      m.paused.set(0);
    }
  };

  const onFileEnd = async (info: FileEndInfo) => {
    await serial(async () => {
      if (stopping || cur === null) return;
      if (!sameFile(cur.segments[cur.segments.length - 1]!.identity, info.identity)) return;
      log.info(
        { reason: info.reason, path: info.path, offset: info.offset, continues: info.continues },
        'audit log file finished',
      );
      if (info.continues) {
        // Rename rotation or copytruncate: the next file goes on with the same records; keep the open events
        // (the checkpoint stays where the oldest of them starts, which may be the file that just ended).
        cur.continues = true;
        return;
      }
      const old = cur;
      cur = null;
      await finishFile(old);
    });
  };

  const tick = () => {
    void serial(async () => {
      if (stopping || cur === null) return;
      const file = cur;
      const res = file.decoder.tick(Date.now());
      if (res.events.length === 0 && res.errors.length === 0) return;
      await emit(file, res, file.decoder.safeOffset(), 0);
    }).catch((err) => log.error({ err }, 'idle flush failed'));
  };

  const app: IngesterApp = {
    async start() {
      await producer.connect();
      if (deps.ensureTopics) await deps.ensureTopics();
      await refreshSnapshot('start');
      tail = deps.createTail({
        path: config.tail.path,
        startAt: config.tail.startAt,
        checkpoints: deps.checkpoints,
        chunkBytes: config.tail.chunkBytes,
        pollIntervalMs: config.tail.pollIntervalMs,
        watch: config.tail.watch,
        maxLineBytes: config.decoder.maxLineBytes,
        onChunk,
        onFileEnd,
        onWarning: (code, details) => log.warn({ code, ...details }, 'tail warning'),
      });
      await tail.start();
      tickTimer = setInterval(tick, config.decoder.idleFlushMs);
      tickTimer.unref();
      ready = true;
      log.info({ path: config.tail.path, host: config.host }, 'ingester started');
    },
    // Not ready while a send is stalled (Kafka down); checked first so that a change is always logged.
    ready: () => !sends.stalled() && ready && !stopping,
    markUnready() {
      ready = false;
    },
    async stopIntake() {
      stopping = true;
      ready = false;
      if (tickTimer) clearInterval(tickTimer);
      notifyAck();
      tail?.pause();
      await chain;
    },
    async drain() {
      while (inflight.size > 0) await Promise.allSettled([...inflight]);
    },
    async commit() {
      while (committing !== null) await committing;
    },
    async disconnect() {
      abort.abort(new AvcError('AVC_ERR_INGESTER_STOPPING', 'ingester stopping'));
      await tail?.stop();
      await producer.disconnect();
    },
    async stop() {
      app.markUnready();
      await app.stopIntake();
      await app.drain();
      await app.commit();
      await app.disconnect();
    },
    async idle() {
      for (;;) {
        await chain;
        if (tracker.pending === 0 && inflight.size === 0 && committing === null) return;
        await waitAck();
      }
    },
    stats: () => ({ unackedBytes: tracker.unackedBytes, pendingBatches: tracker.pending, committed }),
  };
  return app;
}
