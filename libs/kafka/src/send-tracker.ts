import type { KafkaLogger } from './logger.ts';

/**
 * Times producer sends from their first attempt to their end, retries included: kafkajs retries inside
 * `send` while the broker is down, so a send never fails and only its age shows the stall. Readiness asks
 * `stalled()`, which logs each change of state once.
 */
export interface SendTracker {
  /** Runs `fn` (a send) and counts it as in flight until it settles. */
  track<T>(fn: () => Promise<T>): Promise<T>;
  /** True while the oldest send in flight has waited longer than `stallMs`. */
  stalled(): boolean;
}

export function createSendTracker(opts: {
  stallMs: number;
  /** Milliseconds of the caller's clock. */
  now: () => number;
  log: Pick<KafkaLogger, 'info' | 'warn'>;
}): SendTracker {
  // Start time of each send in flight; insertion order is oldest first.
  const pending = new Map<number, number>();
  let seq = 0;
  let stalledNow = false;
  return {
    async track<T>(fn: () => Promise<T>): Promise<T> {
      const id = seq++;
      pending.set(id, opts.now());
      try {
        return await fn();
      } finally {
        pending.delete(id);
      }
    },
    stalled(): boolean {
      let oldest: number | undefined;
      for (const t of pending.values()) {
        oldest = t;
        break;
      }
      const pendingMs = oldest === undefined ? 0 : opts.now() - oldest;
      const s = pendingMs > opts.stallMs;
      if (s !== stalledNow) {
        stalledNow = s;
        if (s) opts.log.warn({ pendingMs, sends: pending.size }, 'kafka send pending too long, not ready');
        else opts.log.info({}, 'kafka sends completing again, ready');
      }
      return s;
    },
  };
}
