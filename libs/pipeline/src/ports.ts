/**
 * One unit handed out by a {@link Source}. The consumer calls exactly one of `ack()` (fully processed and
 * durably handed on) or `nack()` (not processed: the source redelivers it or keeps its position before it).
 */
export interface Delivery<T> {
  readonly value: T;
  /** Size in bytes, when the source knows it (used for byte-based backpressure). */
  readonly bytes?: number;
  ack(): void;
  nack(reason?: unknown): void;
}

/** A source of deliveries (file tail, Kafka consumer, in-memory list). */
export interface Source<T> {
  /** Deliveries until the source is stopped or exhausted. */
  deliveries(): AsyncIterable<Delivery<T>>;
  /** Stop intake: the iterator ends after what is already handed out. */
  stop(): Promise<void>;
}

/** A sink that takes batches. `write` resolves once the batch is durably accepted (acked by the backend). */
export interface Sink<T> {
  write(batch: readonly T[]): Promise<void>;
  /** Wait until every batch written so far has settled. */
  flush(): Promise<void>;
  close(): Promise<void>;
}

/**
 * Wraps a sink so that at most `maxInFlight` batches are outstanding: `write` awaits a free slot before
 * starting the batch and resolves when the batch settles. Errors are passed through.
 */
export function createBoundedSink<T>(inner: Sink<T>, maxInFlight: number): Sink<T> & { readonly inFlight: number } {
  if (!(maxInFlight >= 1)) throw new RangeError('maxInFlight must be >= 1');
  let inFlight = 0;
  const slotWaiters: Array<() => void> = [];
  const pending = new Set<Promise<unknown>>();

  const acquire = async () => {
    while (inFlight >= maxInFlight) {
      await new Promise<void>((resolve) => slotWaiters.push(resolve));
    }
    inFlight++;
  };
  const release = () => {
    inFlight--;
    slotWaiters.shift()?.();
  };

  return {
    get inFlight() {
      return inFlight;
    },
    async write(batch) {
      await acquire();
      const p = inner.write(batch).finally(release);
      pending.add(p);
      p.then(
        () => pending.delete(p),
        () => pending.delete(p),
      );
      return p;
    },
    async flush() {
      await Promise.allSettled([...pending]);
      await inner.flush();
    },
    async close() {
      await Promise.allSettled([...pending]);
      await inner.close();
    },
  };
}
