import { createQueue } from './queue.ts';
import type { Delivery, Sink, Source } from './ports.ts';

/** In-memory source for unit tests: hands out the pushed values and records acks and nacks. */
export interface MemorySource<T> extends Source<T> {
  /** Add a value (blocks while `capacity` unacked-or-queued values are outstanding). */
  push(value: T): Promise<void>;
  /** No more values: the iterator ends once the queue is drained. */
  end(): void;
  readonly acked: T[];
  readonly nacked: Array<{ value: T; reason: unknown }>;
  /** Values handed out but neither acked nor nacked. */
  readonly outstanding: number;
}

export function createMemorySource<T>(
  initial: Iterable<T> = [],
  options: { capacity?: number; redeliverNacked?: boolean } = {},
): MemorySource<T> {
  const queue = createQueue<T>({ capacity: options.capacity ?? 1024 });
  const acked: T[] = [];
  const nacked: Array<{ value: T; reason: unknown }> = [];
  let outstanding = 0;
  let ended = false;
  const pendingInitial = [...initial];
  for (const v of pendingInitial.splice(0)) {
    if (!queue.tryPush(v)) pendingInitial.push(v);
  }
  const feedInitial = (async () => {
    for (const v of pendingInitial) await queue.push(v);
  })();

  const makeDelivery = (value: T): Delivery<T> => {
    let settled = false;
    outstanding++;
    return {
      value,
      ack() {
        if (settled) return;
        settled = true;
        outstanding--;
        acked.push(value);
      },
      nack(reason) {
        if (settled) return;
        settled = true;
        outstanding--;
        nacked.push({ value, reason });
        if (options.redeliverNacked === true && !queue.closed) void queue.push(value);
      },
    };
  };

  return {
    acked,
    nacked,
    get outstanding() {
      return outstanding;
    },
    async push(value) {
      await queue.push(value);
    },
    end() {
      ended = true;
      void feedInitial.then(() => queue.close());
    },
    async *deliveries() {
      for await (const v of queue) yield makeDelivery(v);
    },
    async stop() {
      if (!ended) ended = true;
      queue.close();
    },
  };
}

/** In-memory sink for unit tests: records batches; can be made to fail or hang to test retries and bounds. */
export interface MemorySink<T> extends Sink<T> {
  readonly batches: T[][];
  readonly items: T[];
  /** Make the next `n` writes reject with `error`. */
  failNext(n: number, error?: Error): void;
  /** Hold writes until `release()` is called. */
  hold(): void;
  release(): void;
  readonly closed: boolean;
}

export function createMemorySink<T>(): MemorySink<T> {
  const batches: T[][] = [];
  let failures = 0;
  let failError: Error = new Error('memory sink failure');
  let held = false;
  let releaseWaiters: Array<() => void> = [];
  let closed = false;
  return {
    batches,
    get items() {
      return batches.flat();
    },
    get closed() {
      return closed;
    },
    failNext(n, error) {
      failures = n;
      if (error !== undefined) failError = error;
    },
    hold() {
      held = true;
    },
    release() {
      held = false;
      const ws = releaseWaiters;
      releaseWaiters = [];
      for (const w of ws) w();
    },
    async write(batch) {
      while (held) await new Promise<void>((resolve) => releaseWaiters.push(resolve));
      if (failures > 0) {
        failures--;
        throw failError;
      }
      batches.push([...batch]);
    },
    async flush() {},
    async close() {
      closed = true;
    },
  };
}
