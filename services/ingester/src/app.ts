import { type AuditDecoder, createAuditDecoder, type DecodeResult, isSelinuxEvent } from '@avcstream/audit';
import { encodePolicyMessage, type PolicyRef } from '@avcstream/contracts';
import { AvcError, retry } from '@avcstream/pipeline';
import type { CheckpointStore, FileEndInfo, FileIdentity, Tail, TailChunk, TailOptions, TailPosition } from '@avcstream/tail';
import { sameIdentity } from '@avcstream/tail';
import { createLogRateLimiter, type Logger, type Metrics } from '@avcstream/telemetry';
import { createAckTracker } from './ack-tracker.ts';
import type { IngesterConfig } from './config.ts';
import { encodeEvent, encodeParseError, type FileContext, type OutMessage } from './encode.ts';
import { type PolicySnapshot, SNAPSHOT_TRIGGERS, type SnapshotReason, snapshotMessages } from './policy-snapshot.ts';

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

interface CurrentFile {
  identity: FileIdentity;
  path: string;
  base: number;
  fed: number;
  decoder: AuditDecoder;
  ctx: FileContext;
}

export function createApp(deps: IngesterDeps): IngesterApp {
  const { config, logger, metrics, producer } = deps;
  const now = deps.now ?? (() => new Date());
  const log = logger.child({ stage: 'ingest' });

  const m = {
    readBytes: metrics.counter('read', 'bytes', 'Bytes read from the audit log'),
    lines: metrics.counter('read', 'lines', 'Lines read from the audit log'),
    malformed: metrics.counter('malformed', 'lines', 'Lines that did not parse (dead-lettered)'),
    events: metrics.counter('published', 'events', 'Events published to Kafka (acked)'),
    filtered: metrics.counter('filtered', 'events', 'Events dropped by the SELinux filter'),
    deadletters: metrics.counter('deadletter', 'messages', 'Messages sent to the dead-letter topic (acked)', ['reason']),
    snapshots: metrics.counter('policy_snapshots', 'snapshots', 'Policy state snapshots published', ['reason']),
    sendRetries: metrics.counter('send_retries', 'retries', 'Kafka send attempts that failed and were retried'),
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
    await retry(
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
    );
    if (dls.length > 0) {
      await retry(() => producer.send(config.kafka.deadletterTopic, dls), {
        attempts: Number.POSITIVE_INFINITY,
        initialDelayMs: 200,
        maxDelayMs: 5000,
        shouldRetry: () => !abort.signal.aborted,
        signal: abort.signal,
        onRetry: () => m.sendRetries.inc(),
      });
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
      return retry(() => producer.send(config.kafka.policyTopic, [{ key, value }]), {
        attempts: Number.POSITIVE_INFINITY,
        initialDelayMs: 200,
        maxDelayMs: 5000,
        shouldRetry: () => !abort.signal.aborted,
        signal: abort.signal,
        onRetry: () => m.sendRetries.inc(),
      });
    };
    if (!publishedPolicies.has(snap.sha256)) {
      // One chunk per request: a batch of chunks would exceed the broker's message.max.bytes.
      for (const c of s.chunks) await sendOne(c.key, c.message);
      publishedPolicies.add(snap.sha256);
    }
    await sendOne(s.state.key, s.state.message);
    policyRef = { stateId: s.stateId, sha256: snap.sha256 };
    m.snapshots.inc({ reason });
    log.info(
      { reason, sha256: snap.sha256, enforcing: snap.enforcing, booleans: Object.keys(snap.booleans).length },
      'policy snapshot published',
    );
  };

  /**
   * The first snapshot trigger (MAC_POLICY_LOAD, MAC_CONFIG_CHANGE, MAC_STATUS) in raw bytes. Checked on the
   * bytes before decoding: the one-record MAC_* event closes later than the events written after it, and the
   * state must be published before those events refer to it.
   */
  const triggerIn = (data: Buffer): SnapshotReason | null => {
    if (data.indexOf('type=MAC_') < 0) return null;
    for (const t of SNAPSHOT_TRIGGERS) if (data.indexOf(`type=${t} `) >= 0) return t as SnapshotReason;
    return null;
  };

  // ---- decoding -----------------------------------------------------------------------------------------
  const emit = async (file: CurrentFile, res: DecodeResult, position: TailPosition, bytes: number) => {
    const at = now();
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
      if (batch.length >= config.backpressure.maxBatchMessages || batchBytes >= config.backpressure.maxBatchBytes) {
        await flushBatch(null, 0);
      }
    };
    for (const err of res.errors) {
      m.malformed.inc();
      if (warnLimit.take() !== null) {
        log.warn({ line: err.line, code: err.code, path: file.path }, 'malformed audit line, dead-lettered');
      }
      await add(encodeParseError(err, { host: config.host, file: file.ctx, now: at }));
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
          file: file.ctx,
          offset: position.offset,
          policy: policyRef,
          now: at,
          validate: config.kafka.validate,
        }),
      );
    }
    void batchBytes;
    await flushBatch(position, bytes);
  };

  const openFile = (chunk: { identity: FileIdentity; path: string; start: number }): CurrentFile => ({
    identity: chunk.identity,
    path: chunk.path,
    base: chunk.start,
    fed: 0,
    decoder: createAuditDecoder({
      horizonMs: config.decoder.horizonMs,
      maxLineBytes: config.decoder.maxLineBytes,
      ...(deps.resolveIds !== undefined ? { resolveIds: deps.resolveIds } : {}),
    }),
    ctx: {
      path: chunk.path,
      dev: chunk.identity.dev,
      ino: chunk.identity.ino,
      fp: chunk.identity.fp,
      fpLen: chunk.identity.fpLen,
      base: chunk.start,
    },
  });

  const finishFile = async (file: CurrentFile) => {
    const res = file.decoder.end();
    await emit(file, res, { identity: file.identity, offset: file.base + file.fed }, 0);
  };

  const onChunk = async (chunk: TailChunk) => {
    await serial(async () => {
      if (stopping) return;
      m.readBytes.inc(chunk.data.length);
      if (cur !== null && (!sameIdentity(cur.identity, chunk.identity) || chunk.start !== cur.base + cur.fed)) {
        const old = cur;
        cur = null;
        await finishFile(old);
      }
      cur ??= openFile(chunk);
      const file = cur;
      const before = file.decoder.stats().lines;
      const trigger = triggerIn(chunk.data);
      if (trigger !== null) await refreshSnapshot(trigger);
      const res = file.decoder.write(chunk.data);
      file.fed += chunk.data.length;
      m.lines.inc(file.decoder.stats().lines - before);
      await emit(file, res, { identity: file.identity, offset: file.base + file.decoder.safeOffset() }, chunk.data.length);
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
      if (stopping || cur === null || !sameIdentity(cur.identity, info.identity)) return;
      const old = cur;
      cur = null;
      log.info({ reason: info.reason, path: info.path, offset: info.offset }, 'audit log file finished');
      await finishFile(old);
    });
  };

  const tick = () => {
    void serial(async () => {
      if (stopping || cur === null) return;
      const file = cur;
      const res = file.decoder.tick(Date.now());
      if (res.events.length === 0 && res.errors.length === 0) return;
      await emit(file, res, { identity: file.identity, offset: file.base + file.decoder.safeOffset() }, 0);
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
    ready: () => ready && !stopping,
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
