// The consumer wrapper's restart logic, on a stand-in for the kafkajs client (a unit test: the real broker
// paths are in test/kafka.int.test.ts and the pipeline fault tests).
import type { Kafka } from 'kafkajs';
import { describe, expect, it } from 'vitest';
import { createKafkaConsumer, type KafkaBatch } from './consumer.ts';

type Listener = (e: { payload: unknown }) => void;

function standIn() {
  const listeners = new Map<string, Listener>();
  const calls = { connect: 0, run: 0, disconnect: 0, pause: 0 };
  let eachBatch: ((payload: unknown) => Promise<void>) | undefined;
  const consumer = {
    events: {
      CRASH: 'consumer.crash',
      GROUP_JOIN: 'consumer.group_join',
      FETCH: 'consumer.fetch',
      HEARTBEAT: 'consumer.heartbeat',
    },
    on(name: string, fn: Listener) {
      listeners.set(name, fn);
      return () => listeners.delete(name);
    },
    async connect() {
      calls.connect++;
    },
    async subscribe() {},
    async run(cfg: { eachBatch: (payload: unknown) => Promise<void> }) {
      calls.run++;
      eachBatch = cfg.eachBatch;
    },
    async disconnect() {
      calls.disconnect++;
    },
    async commitOffsets() {},
    pause() {
      calls.pause++;
    },
    resume() {},
    seek() {},
  };
  return {
    client: { consumer: () => consumer } as unknown as Pick<Kafka, 'consumer'>,
    calls,
    /** kafkajs emits an instrumentation event without payload of interest (fetch, heartbeat, group join). */
    emit(name: string) {
      listeners.get(name)?.({ payload: {} });
    },
    /** kafkajs reports a crash; `restart: false` means it gave up (and has disconnected). */
    crash(restart: boolean) {
      listeners.get('consumer.crash')?.({
        payload: { error: new Error('Failed to find group coordinator'), restart },
      });
    },
    /** kafkajs hands the current run one batch of one message. */
    deliver(offset: number) {
      const message = {
        offset: String(offset),
        key: null,
        value: Buffer.from(`m${offset}`),
        headers: {},
        timestamp: '0',
      };
      return eachBatch!({
        batch: { topic: 't', partition: 0, messages: [message], lastOffset: () => String(offset) },
        isRunning: () => true,
        isStale: () => false,
        resolveOffset() {},
        heartbeat: async () => {},
      });
    },
  };
}

const until = async (cond: () => boolean) => {
  for (let i = 0; i < 500 && !cond(); i++) await new Promise((r) => setTimeout(r, 5));
  expect(cond()).toBe(true);
};

describe('createKafkaConsumer restarts', () => {
  it('starts the consumer again when kafkajs gives up, and the batch stream goes on', async () => {
    const k = standIn();
    const c = createKafkaConsumer(
      { brokers: ['x:1'], groupId: 'g', topics: ['t'], restartDelayMs: 5 },
      k.client,
    );
    await c.connect();
    const it = c.batches()[Symbol.asyncIterator]();
    await k.deliver(0);
    const first = (await it.next()).value as KafkaBatch;
    expect(first.firstOffset).toBe('0');
    await first.ack();

    k.crash(false);
    expect(c.restarting).toBe(true);
    c.pause(); // a pause asked for while restarting applies to the new run
    await until(() => k.calls.run === 2);
    await until(() => !c.restarting);
    expect(k.calls.pause).toBe(1);
    c.resume();

    await k.deliver(1);
    const next = await it.next();
    expect(next.done).toBe(false);
    expect((next.value as KafkaBatch).firstOffset).toBe('1');
    await (next.value as KafkaBatch).ack();
    await c.stop(100);
  });

  it('leaves restarts to kafkajs when it restarts by itself', async () => {
    const k = standIn();
    const c = createKafkaConsumer(
      { brokers: ['x:1'], groupId: 'g', topics: ['t'], restartDelayMs: 5 },
      k.client,
    );
    await c.connect();
    k.crash(true);
    expect(c.restarting).toBe(false);
    await new Promise((r) => setTimeout(r, 30));
    expect(k.calls.run).toBe(1);
    await c.stop(100);
  });

  it('stop() cancels a pending restart', async () => {
    const k = standIn();
    const c = createKafkaConsumer(
      { brokers: ['x:1'], groupId: 'g', topics: ['t'], restartDelayMs: 20 },
      k.client,
    );
    await c.connect();
    k.crash(false);
    await c.stop(100);
    await new Promise((r) => setTimeout(r, 60));
    expect(k.calls.run).toBe(1);
  });
});

describe('createKafkaConsumer contact with the broker (readiness)', () => {
  it('records when kafkajs last fetched, heartbeated or joined the group, on the injected clock', async () => {
    let t = 1000;
    const k = standIn();
    const c = createKafkaConsumer({ brokers: ['x:1'], groupId: 'g', topics: ['t'], now: () => t }, k.client);
    expect(c.lastContactMs).toBeNull();
    await c.connect();
    expect(c.lastContactMs).toBe(1000);
    t = 2000;
    k.emit('consumer.fetch');
    expect(c.lastContactMs).toBe(2000);
    t = 3000;
    k.emit('consumer.heartbeat');
    expect(c.lastContactMs).toBe(3000);
    t = 4000;
    k.crash(true);
    expect(c.lastContactMs).toBe(3000);
    t = 5000;
    k.emit('consumer.group_join');
    expect(c.lastContactMs).toBe(5000);
    await c.stop(100);
  });
});
