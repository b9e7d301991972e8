/**
 * Per-key rate limit with a count of what it held back. Pure: time is passed in.
 * `open` starts a window when an alert went out (a window still holding a count is closed and kept for `due`);
 * `allow` says whether another alert for the key may go out now, else counts it; `count` counts occurrences
 * that never alert by themselves; `due` returns the windows that ended (or all) with a non-zero count, with
 * the data given to `open` (the alert they follow), and forgets them.
 */
export interface RateWindow<T> {
  key: string;
  count: number;
  from: number;
  to: number;
  lastTime: string;
  data: T;
}

export interface RateLimiter<T = unknown> {
  open(key: string, nowMs: number, data: T): void;
  allow(key: string, nowMs: number, time: string): boolean;
  count(key: string, nowMs: number, time: string): void;
  due(nowMs: number, all?: boolean): Array<RateWindow<T>>;
  size(): number;
}

export function createRateLimiter<T = unknown>(opts: { windowMs: number; maxKeys?: number }): RateLimiter<T> {
  const windowMs = opts.windowMs;
  const maxKeys = opts.maxKeys ?? 100_000;
  const windows = new Map<string, { from: number; count: number; lastTime: string; data: T }>();
  /** Windows replaced by a newer one while still holding a count. */
  const closed: Array<RateWindow<T>> = [];

  function active(key: string, nowMs: number) {
    const w = windows.get(key);
    return w !== undefined && nowMs < w.from + windowMs ? w : undefined;
  }

  function close(key: string, w: { from: number; count: number; lastTime: string; data: T }, nowMs: number) {
    if (w.count > 0) {
      closed.push({
        key,
        count: w.count,
        from: w.from,
        to: Math.min(nowMs, w.from + windowMs),
        lastTime: w.lastTime,
        data: w.data,
      });
    }
  }

  return {
    open(key, nowMs, data) {
      const old = windows.get(key);
      if (old !== undefined) {
        close(key, old, nowMs);
        windows.delete(key);
      }
      windows.set(key, { from: nowMs, count: 0, lastTime: '', data });
      if (windows.size > maxKeys) {
        const [k, w] = windows.entries().next().value as [
          string,
          { from: number; count: number; lastTime: string; data: T },
        ];
        close(k, w, nowMs);
        windows.delete(k);
      }
    },
    allow(key, nowMs, time) {
      const w = active(key, nowMs);
      if (w === undefined) return true;
      w.count++;
      w.lastTime = time;
      return false;
    },
    count(key, nowMs, time) {
      const w = active(key, nowMs);
      if (w === undefined) return;
      w.count++;
      w.lastTime = time;
    },
    due(nowMs, all = false) {
      const out = closed.splice(0);
      for (const [key, w] of windows) {
        if (!all && nowMs < w.from + windowMs) continue;
        close(key, w, nowMs);
        windows.delete(key);
      }
      out.push(...closed.splice(0));
      return out;
    },
    size: () => windows.size,
  };
}
