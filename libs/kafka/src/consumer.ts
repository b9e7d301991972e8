import { createQueue } from '@avcstream/pipeline';
import type { Consumer, EachBatchPayload, IHeaders, Kafka } from 'kafkajs';
import { createKafkaClient, type KafkaConnectionOptions } from './client.ts';
import { kafkaError } from './errors.ts';
import { silentLogger } from './logger.ts';

/** One consumed message. `offset` is a decimal string (Kafka offsets are 64-bit). */
export interface KafkaDelivery {
  readonly topic: string;
  readonly partition: number;
  readonly offset: string;
  /** UTF-8 key, or null when the message had none. */
  readonly key: string | null;
  /** Raw value bytes (empty for a tombstone). */
  readonly value: Buffer;
  readonly headers: Readonly<Record<string, string>>;
  /** Broker/producer timestamp in ms since the epoch, as a decimal string. */
  readonly timestamp: string;
}

/**
 * Consecutive messages of one partition. Exactly one of `ack()` or `nack()` per batch.
 * - `ack()`: the batch is durably handled; its offsets are committed once every earlier batch of the same
 *   partition (from this assignment) is acked too. Resolves when the commit is done, or when it no longer
 *   can be (partition revoked, consumer stopped: the batch will be redelivered, which deterministic ids make
 *   harmless). Never rejects.
 * - `nack()`: not handled; the partition is rewound to the batch's first offset and redelivered.
 */
export interface KafkaBatch {
  readonly topic: string;
  readonly partition: number;
  readonly deliveries: readonly KafkaDelivery[];
  /** First and last offset covered (decimal strings). */
  readonly firstOffset: string;
  readonly lastOffset: string;
  /** Sum of key and value sizes. */
  readonly bytes: number;
  ack(): Promise<void>;
  nack(): void;
}

export interface KafkaConsumerOptions extends KafkaConnectionOptions {
  groupId: string;
  topics: readonly string[];
  /** Where a group with no committed offset starts (default false: only new messages). */
  fromBeginning?: boolean;
  /** Batches fetched but not yet handed out (default 8). */
  maxQueuedBatches?: number;
  /** Fetch size per partition (default 1 MiB). */
  maxBytesPerPartition?: number;
  /** Longest time the broker holds a fetch open when there is no data (default 500). */
  maxWaitTimeMs?: number;
  sessionTimeoutMs?: number;
  heartbeatIntervalMs?: number;
  /**
   * When kafkajs gives up on the consumer (a non-retriable error, e.g. "Failed to find group coordinator"
   * while a broker restarts), it is started again after this delay, doubling up to 30 s (default 1000).
   */
  restartDelayMs?: number;
  /** Clock of `lastContactMs` (default `Date.now`). */
  now?: () => number;
}

export interface KafkaConsumer {
  /** Join the group and start fetching. */
  connect(): Promise<void>;
  /**
   * Batches until `stop()`. Failures are handled inside: kafkajs retries retriable ones, and when it gives
   * up (a non-retriable error) the consumer is started again with a growing delay, so the stream goes on.
   */
  batches(): AsyncIterable<KafkaBatch>;
  /** kafkajs gave up and the consumer is being started again (for readiness). */
  readonly restarting: boolean;
  /**
   * When the broker last answered (connect, a fetch, a heartbeat, a group join), on `options.now`; null
   * before `connect`. kafkajs retries a broker that is down inside its loop without an error, so a contact
   * that gets old is the readiness signal (fetches return at least every `maxWaitTimeMs`, heartbeats every
   * `heartbeatIntervalMs`).
   */
  readonly lastContactMs: number | null;
  /** Stop fetching (e.g. while the sink is down); the group membership is kept alive. */
  pause(): void;
  resume(): void;
  readonly paused: boolean;
  /**
   * Stop intake, wait up to `drainMs` (default 10000) for handed-out batches to be acked or nacked, commit,
   * leave the group and disconnect. Batches queued but never handed out are redelivered later.
   */
  stop(drainMs?: number): Promise<void>;
}

interface Tracked {
  first: bigint;
  last: bigint;
  state: 'pending' | 'acked' | 'stale';
  done: Array<() => void>;
}

/** Per (topic, partition, assignment): batches in offset order; commits the contiguous acked prefix. */
interface PartitionTrack {
  topic: string;
  partition: number;
  batches: Tracked[];
}

const headersToRecord = (h: IHeaders | undefined): Record<string, string> => {
  const out: Record<string, string> = {};
  if (!h) return out;
  for (const [k, v] of Object.entries(h)) {
    const one = Array.isArray(v) ? v[0] : v;
    if (one === undefined) continue;
    out[k] = typeof one === 'string' ? one : one.toString('utf8');
  }
  return out;
};

/** `client` replaces the kafkajs client (unit tests of the restart logic). */
export function createKafkaConsumer(
  options: KafkaConsumerOptions,
  client?: Pick<Kafka, 'consumer'>,
): KafkaConsumer {
  const logger = options.logger ?? silentLogger;
  const kafka = client ?? createKafkaClient(options);
  const consumer: Consumer = kafka.consumer({
    groupId: options.groupId,
    sessionTimeout: options.sessionTimeoutMs ?? 10000,
    heartbeatInterval: options.heartbeatIntervalMs ?? 3000,
    maxBytesPerPartition: options.maxBytesPerPartition ?? 1024 * 1024,
    maxWaitTimeInMs: options.maxWaitTimeMs ?? 500,
    allowAutoTopicCreation: false,
    retry: { initialRetryTime: 300, maxRetryTime: 5000, retries: 10 },
  });
  const queue = createQueue<KafkaBatch>({ capacity: options.maxQueuedBatches ?? 8 });
  const tracks = new Map<string, PartitionTrack>();
  const committed = new Map<string, bigint>();
  const outstanding = new Set<Tracked>();
  const trackedOf = new WeakMap<KafkaBatch, Tracked>();
  let paused = false;
  let restarting = false;
  const now = options.now ?? Date.now;
  let lastContactMs: number | null = null;
  let restarts = 0;
  let restartTimer: NodeJS.Timeout | undefined;
  let stopping = false;
  let running = false;
  const outstandingWaiters: Array<() => void> = [];

  const tpKey = (topic: string, partition: number) => `${topic}\u0000${partition}`;
  const trackFor = (topic: string, partition: number): PartitionTrack => {
    const k = tpKey(topic, partition);
    let t = tracks.get(k);
    if (!t) {
      t = { topic, partition, batches: [] };
      tracks.set(k, t);
    }
    return t;
  };

  const settle = (tb: Tracked) => {
    outstanding.delete(tb);
    for (const d of tb.done.splice(0)) d();
    if (outstanding.size === 0) for (const w of outstandingWaiters.splice(0)) w();
  };

  const commitPrefix = async (track: PartitionTrack) => {
    let upto: bigint | undefined;
    const finished: Tracked[] = [];
    while (track.batches.length > 0 && track.batches[0]!.state === 'acked') {
      const b = track.batches.shift()!;
      upto = b.last + 1n;
      finished.push(b);
    }
    if (track.batches[0]?.state === 'stale') {
      // From a stale batch on, everything is redelivered: nothing after it may commit.
      finished.push(...track.batches.splice(0));
    }
    if (upto !== undefined) {
      const k = tpKey(track.topic, track.partition);
      const prev = committed.get(k);
      if (prev === undefined || upto > prev) {
        try {
          await consumer.commitOffsets([
            { topic: track.topic, partition: track.partition, offset: upto.toString() },
          ]);
          committed.set(k, upto);
        } catch (err) {
          logger.warn(
            { topic: track.topic, partition: track.partition, offset: upto.toString(), err: String(err) },
            'kafka offset commit failed, the batch will be redelivered',
          );
        }
      }
    }
    for (const b of finished) settle(b);
  };

  const makeBatch = (payload: EachBatchPayload, track: PartitionTrack, tb: Tracked): KafkaBatch => {
    const { batch } = payload;
    let bytes = 0;
    const deliveries: KafkaDelivery[] = batch.messages.map((m) => {
      const value = m.value ?? Buffer.alloc(0);
      bytes += value.length + (m.key?.length ?? 0);
      return {
        topic: batch.topic,
        partition: batch.partition,
        offset: m.offset,
        key: m.key ? m.key.toString('utf8') : null,
        value,
        headers: headersToRecord(m.headers),
        timestamp: m.timestamp,
      };
    });
    let settled = false;
    return {
      topic: batch.topic,
      partition: batch.partition,
      deliveries,
      firstOffset: tb.first.toString(),
      lastOffset: tb.last.toString(),
      bytes,
      async ack() {
        if (settled) return;
        settled = true;
        if (tb.state === 'stale') {
          settle(tb);
          return;
        }
        tb.state = 'acked';
        const done = new Promise<void>((resolve) => tb.done.push(resolve));
        await commitPrefix(track);
        await done;
      },
      nack() {
        if (settled) return;
        settled = true;
        // Everything from this batch on is redelivered: later batches of this assignment must not commit.
        const idx = track.batches.indexOf(tb);
        const later = idx >= 0 ? track.batches.splice(idx) : [tb];
        for (const b of later) {
          b.state = 'stale';
          settle(b);
        }
        // A fresh track: acks of the stale batches do nothing; batches before this one still commit.
        tracks.delete(tpKey(track.topic, track.partition));
        try {
          consumer.seek({ topic: track.topic, partition: track.partition, offset: tb.first.toString() });
        } catch (err) {
          logger.warn(
            { topic: track.topic, partition: track.partition, err: String(err) },
            'kafka seek failed',
          );
        }
      },
    };
  };

  const eachBatch = async (payload: EachBatchPayload) => {
    const { batch } = payload;
    if (stopping || !payload.isRunning() || payload.isStale()) return;
    const last = BigInt(batch.lastOffset());
    const firstMsg = batch.messages[0];
    const first = firstMsg ? BigInt(firstMsg.offset) : last;
    // Move the fetch position on; nothing is committed until the caller acks.
    payload.resolveOffset(batch.lastOffset());
    if (batch.messages.length === 0) return;
    const track = trackFor(batch.topic, batch.partition);
    const tb: Tracked = { first, last, state: 'pending', done: [] };
    track.batches.push(tb);
    outstanding.add(tb);
    const kb = makeBatch(payload, track, tb);
    trackedOf.set(kb, tb);
    const pushed = queue.push(kb).then(
      () => true,
      () => false,
    );
    // Keep the group session alive while the caller is slow (queue full).
    for (;;) {
      const r = await Promise.race([
        pushed,
        new Promise<'tick'>((res) => setTimeout(() => res('tick'), 1000)),
      ]);
      if (r === true) return;
      if (r === false) {
        tb.state = 'stale';
        settle(tb);
        return;
      }
      try {
        await payload.heartbeat();
      } catch {
        // a rebalance is under way; kafkajs handles it once eachBatch returns
      }
    }
  };

  /** Connect, subscribe and run (first start and every restart after kafkajs gave up). */
  const start = async () => {
    await consumer.connect();
    await consumer.subscribe({ topics: [...options.topics], fromBeginning: options.fromBeginning ?? false });
    await consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      partitionsConsumedConcurrently: 1,
      eachBatch,
    });
    running = true;
    if (paused) consumer.pause(options.topics.map((topic) => ({ topic })));
  };

  const scheduleRestart = () => {
    if (stopping || restartTimer !== undefined) return;
    running = false;
    restarting = true;
    const delay = Math.min(30_000, (options.restartDelayMs ?? 1000) * 2 ** Math.min(restarts, 5));
    restarts++;
    restartTimer = setTimeout(() => {
      restartTimer = undefined;
      if (stopping) return;
      start().then(
        () => {
          restarting = false;
          restarts = 0;
          logger.warn({ groupId: options.groupId }, 'kafka consumer started again');
        },
        (err: unknown) => {
          logger.error({ groupId: options.groupId, err: String(err) }, 'kafka consumer restart failed');
          consumer.disconnect().then(scheduleRestart, scheduleRestart);
        },
      );
    }, delay);
  };

  return {
    get paused() {
      return paused;
    },
    get restarting() {
      return restarting;
    },
    get lastContactMs() {
      return lastContactMs;
    },
    async connect() {
      try {
        consumer.on(consumer.events.CRASH, (e) => {
          const p = e.payload as { error?: unknown; restart?: boolean };
          if (p.restart === false) {
            // kafkajs stopped for good (and disconnected): start it again ourselves, after a growing delay.
            logger.error({ groupId: options.groupId, err: String(p.error) }, 'kafka consumer crashed');
            scheduleRestart();
          } else {
            logger.warn(
              { groupId: options.groupId, err: String(p.error) },
              'kafka consumer restarting after error',
            );
          }
        });
        const contact = () => {
          lastContactMs = now();
        };
        consumer.on(consumer.events.FETCH, contact);
        consumer.on(consumer.events.HEARTBEAT, contact);
        consumer.on(consumer.events.GROUP_JOIN, () => {
          contact();
          // New assignment: earlier tracks keep committing their own prefixes, new batches start afresh.
          tracks.clear();
          // Offsets may have moved (another member, or a commit lost in a client restart): commit afresh.
          committed.clear();
        });
        await start();
        contact();
      } catch (err) {
        throw kafkaError('AVC_ERR_KAFKA_CONNECT_FAILED', 'cannot start the Kafka consumer', err, {
          groupId: options.groupId,
          brokers: options.brokers,
        });
      }
    },
    batches() {
      return {
        async *[Symbol.asyncIterator]() {
          for (;;) {
            const b = await queue.shift();
            if (b === undefined) break;
            // Skip batches made stale by a nack of an earlier batch: they are fetched again.
            if (trackedOf.get(b)?.state === 'stale') continue;
            yield b;
          }
        },
      };
    },
    pause() {
      if (paused) return;
      paused = true;
      // While a restart is pending, `start` pauses the new run.
      if (running) consumer.pause(options.topics.map((topic) => ({ topic })));
    },
    resume() {
      if (!paused) return;
      paused = false;
      if (running) consumer.resume(options.topics.map((topic) => ({ topic })));
    },
    async stop(drainMs = 10000) {
      if (stopping) return;
      stopping = true;
      if (restartTimer !== undefined) clearTimeout(restartTimer);
      restartTimer = undefined;
      queue.close();
      // Drop what was fetched but never handed out: it is redelivered after the next start.
      for (let b = queue.tryShift(); b !== undefined; b = queue.tryShift()) {
        const tb = trackedOf.get(b);
        if (tb && tb.state === 'pending') {
          tb.state = 'stale';
          settle(tb);
        }
      }
      if (outstanding.size > 0) {
        await Promise.race([
          new Promise<void>((resolve) => outstandingWaiters.push(resolve)),
          new Promise<void>((resolve) => setTimeout(resolve, drainMs).unref()),
        ]);
      }
      running = false;
      await consumer.disconnect();
    },
  };
}
