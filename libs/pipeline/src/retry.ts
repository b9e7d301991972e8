import { isRetriable } from './errors.ts';

export interface RetryOptions {
  /** Attempts in total (Infinity for "until stopped"). */
  attempts: number;
  initialDelayMs: number;
  maxDelayMs: number;
  /** Whether to retry this error (default: `isRetriable`). */
  shouldRetry?: (err: unknown) => boolean;
  /** Called before each wait. */
  onRetry?: (err: unknown, attempt: number, delayMs: number) => void;
  signal?: AbortSignal;
  /** Random source in [0,1) for jitter (injected for tests). */
  random?: () => number;
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
}

/** Exponential backoff with full jitter, capped: attempt 1 waits up to initial, attempt n up to initial*2^(n-1). */
export function backoffDelayMs(attempt: number, initialDelayMs: number, maxDelayMs: number, random = Math.random): number {
  const ceiling = Math.min(maxDelayMs, initialDelayMs * 2 ** Math.max(0, attempt - 1));
  return Math.round(ceiling / 2 + (random() * ceiling) / 2);
}

const defaultSleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve, reject) => {
    if (signal?.aborted) {
      reject(signal.reason);
      return;
    }
    const t = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(t);
      reject(signal?.reason);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });

/** Run `fn` until it succeeds, the error is not retriable, attempts run out or the signal aborts. */
export async function retry<T>(fn: (attempt: number) => Promise<T>, options: RetryOptions): Promise<T> {
  const shouldRetry = options.shouldRetry ?? isRetriable;
  const sleep = options.sleep ?? defaultSleep;
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn(attempt);
    } catch (err) {
      if (attempt >= options.attempts || !shouldRetry(err) || options.signal?.aborted) throw err;
      const delay = backoffDelayMs(attempt, options.initialDelayMs, options.maxDelayMs, options.random);
      options.onRetry?.(err, attempt, delay);
      await sleep(delay, options.signal);
    }
  }
}
