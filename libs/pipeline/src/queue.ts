import { AvcError } from './errors.ts';

export interface BoundedQueueOptions<T> {
  /** Maximum total weight held. A single item heavier than this is still accepted when the queue is empty. */
  capacity: number;
  /** Weight of an item (default 1: capacity counts items). Use byte sizes for a byte bound. */
  weight?: (item: T) => number;
}

/**
 * A bounded FIFO: `push` waits while the queue is full (backpressure, never drops), `shift` waits while it
 * is empty. After `close()`, pushes reject and consumers drain what is left, then see the end.
 */
export interface BoundedQueue<T> extends AsyncIterable<T> {
  /** Resolves once the item is in the queue. Rejects with AVC_ERR_PIPELINE_QUEUE_CLOSED after close(). */
  push(item: T): Promise<void>;
  /** Adds the item if it fits now; returns false when full or closed. */
  tryPush(item: T): boolean;
  /** Next item, or undefined when closed and empty. */
  shift(): Promise<T | undefined>;
  /** Next item if one is ready now. */
  tryShift(): T | undefined;
  /** Stop accepting items; waiting pushers are rejected; consumers drain the rest. */
  close(): void;
  readonly size: number;
  readonly weight: number;
  readonly closed: boolean;
  /** Resolves when the queue is empty (immediately if it is). */
  drained(): Promise<void>;
}

interface Waiter<T> {
  item: T;
  weight: number;
  resolve: () => void;
  reject: (err: Error) => void;
}

export function createQueue<T>(options: BoundedQueueOptions<T>): BoundedQueue<T> {
  const { capacity } = options;
  if (!(capacity > 0)) throw new RangeError('capacity must be > 0');
  const weigh = options.weight ?? (() => 1);
  const items: Array<{ item: T; weight: number }> = [];
  let head = 0;
  let total = 0;
  let closed = false;
  const pushers: Array<Waiter<T>> = [];
  const takers: Array<(v: T | undefined) => void> = [];
  let drainWaiters: Array<() => void> = [];

  const length = () => items.length - head;

  const fits = (w: number) => length() === 0 || total + w <= capacity;

  const enqueue = (item: T, w: number) => {
    const taker = takers.shift();
    if (taker !== undefined) {
      taker(item);
      return;
    }
    items.push({ item, weight: w });
    total += w;
  };

  const dequeue = (): T | undefined => {
    if (length() === 0) return undefined;
    const entry = items[head]!;
    items[head] = undefined as never;
    head++;
    if (head > 1024 && head * 2 > items.length) {
      items.splice(0, head);
      head = 0;
    }
    total -= entry.weight;
    // admit waiting pushers in order while they fit
    while (pushers.length > 0 && fits(pushers[0]!.weight)) {
      const p = pushers.shift()!;
      items.push({ item: p.item, weight: p.weight });
      total += p.weight;
      p.resolve();
    }
    if (length() === 0) {
      const ws = drainWaiters;
      drainWaiters = [];
      for (const w of ws) w();
    }
    return entry.item;
  };

  const closedError = () => new AvcError('AVC_ERR_PIPELINE_QUEUE_CLOSED', 'queue is closed');

  const queue: BoundedQueue<T> = {
    push(item) {
      if (closed) return Promise.reject(closedError());
      const w = weigh(item);
      if (pushers.length === 0 && fits(w)) {
        enqueue(item, w);
        return Promise.resolve();
      }
      return new Promise<void>((resolve, reject) => {
        pushers.push({ item, weight: w, resolve, reject });
      });
    },
    tryPush(item) {
      if (closed) return false;
      const w = weigh(item);
      if (pushers.length === 0 && fits(w)) {
        enqueue(item, w);
        return true;
      }
      return false;
    },
    shift() {
      const v = dequeue();
      if (v !== undefined || length() > 0) return Promise.resolve(v);
      if (closed) return Promise.resolve(undefined);
      return new Promise((resolve) => takers.push(resolve));
    },
    tryShift() {
      return dequeue();
    },
    close() {
      if (closed) return;
      closed = true;
      for (const p of pushers.splice(0)) p.reject(closedError());
      for (const t of takers.splice(0)) t(undefined);
    },
    get size() {
      return length();
    },
    get weight() {
      return total;
    },
    get closed() {
      return closed;
    },
    drained() {
      if (length() === 0) return Promise.resolve();
      return new Promise((resolve) => drainWaiters.push(resolve));
    },
    async *[Symbol.asyncIterator]() {
      for (;;) {
        const v = await queue.shift();
        if (v === undefined && closed && length() === 0) return;
        yield v as T;
      }
    },
  };
  return queue;
}
