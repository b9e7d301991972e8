/**
 * Per-key rate limit with a count of what it held back. Pure: time is passed in.
 * `hit` returns true when an alert may go out now; otherwise the occurrence is counted. `due` returns the
 * windows that have ended with something counted, and resets them.
 */
export interface RateLimiter {
  /** A new alert went out for `key` at `nowMs`: open its window. */
  open(key: string, nowMs: number): void;
  /** May an alert for `key` go out now? When not, the occurrence is counted against the open window. */
  allow(key: string, nowMs: number, time: string): boolean;
  /** An occurrence that never alerts by itself (known signature): counted if a window is open. */
  count(key: string, nowMs: number, time: string): void;
  /** Ended windows (or all, with `all`) with a non-zero count. */
  due(
    nowMs: number,
    all?: boolean,
  ): Array<{ key: string; count: number; from: number; to: number; lastTime: string }>;
  size(): number;
}

export function createRateLimiter(opts: { windowMs: number; maxKeys?: number }): RateLimiter {
  const windowMs = opts.windowMs;
  const maxKeys = opts.maxKeys ?? 100_000;
  const windows = new Map<string, { from: number; count: number; lastTime: string }>();

  function active(key: string, nowMs: number) {
    const w = windows.get(key);
    return w !== undefined && nowMs < w.from + windowMs ? w : undefined;
  }

  return {
    open(key, nowMs) {
      windows.delete(key);
      windows.set(key, { from: nowMs, count: 0, lastTime: '' });
      if (windows.size > maxKeys) windows.delete(windows.keys().next().value as string);
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
      const out: Array<{ key: string; count: number; from: number; to: number; lastTime: string }> = [];
      for (const [key, w] of windows) {
        if (!all && nowMs < w.from + windowMs) continue;
        if (w.count > 0)
          out.push({
            key,
            count: w.count,
            from: w.from,
            to: Math.min(nowMs, w.from + windowMs),
            lastTime: w.lastTime,
          });
        windows.delete(key);
      }
      return out;
    },
    size: () => windows.size,
  };
}
