/**
 * Per-key rate limit with a count of what it held back. Pure: time is passed in.
 * `open` starts a window when an alert went out (a window still holding a count is closed and kept for `due`);
 * `allow` says whether another alert for the key may go out now, else counts it; `count` counts occurrences
 * that never alert by themselves; `due` returns the windows that ended (or all) with a non-zero count, with
 * the data given to `open` (the alert they follow), and forgets them.
 */
export interface RateWindow<T> {
  /** `key` and `from`: a key can have an open window and a closed one waiting for `due`. */
  id: string;
  key: string;
  count: number;
  from: number;
  to: number;
  lastTime: string;
  data: T;
}

/** What changed since the last `changes()`: windows to write (with `data` when new) and ids to drop. */
export interface RateChanges<T> {
  upsert: Array<{ id: string; key: string; from: number; count: number; lastTime: string; data?: T }>;
  remove: string[];
}

export interface RateLimiter<T = unknown> {
  open(key: string, nowMs: number, data: T): void;
  allow(key: string, nowMs: number, time: string): boolean;
  /**
   * Counts an occurrence in the key's open window. For a window put back by `restore`, the first occurrence
   * `isOpener(data)` recognises is the one that opened it, read again after a restart: not counted.
   */
  count(key: string, nowMs: number, time: string, isOpener?: (data: T) => boolean): void;
  due(nowMs: number, all?: boolean): Array<RateWindow<T>>;
  size(): number;
  /** For a durable copy: the windows opened, counted or gone since the last call. */
  changes(): RateChanges<T>;
  /** Puts back windows from a durable copy (after a restart). */
  restore(
    windows: ReadonlyArray<{ key: string; from: number; count: number; lastTime: string; data: T }>,
  ): void;
}

export function windowId(key: string, from: number): string {
  return `${key}@${from}`;
}

export function createRateLimiter<T = unknown>(opts: { windowMs: number; maxKeys?: number }): RateLimiter<T> {
  const windowMs = opts.windowMs;
  const maxKeys = opts.maxKeys ?? 100_000;
  const windows = new Map<
    string,
    { from: number; count: number; lastTime: string; data: T; restored?: boolean }
  >();
  /** Windows replaced by a newer one while still holding a count. */
  const closed: Array<RateWindow<T>> = [];
  /** Change tracking for `changes()`: ids touched, ids opened (their data is written once), ids gone. */
  const dirty = new Map<string, { key: string; from: number }>();
  const fresh = new Set<string>();
  const gone = new Set<string>();
  const touch = (key: string, from: number) => dirty.set(windowId(key, from), { key, from });
  const drop = (key: string, from: number) => {
    const id = windowId(key, from);
    dirty.delete(id);
    fresh.delete(id);
    gone.add(id);
  };

  function active(key: string, nowMs: number) {
    const w = windows.get(key);
    return w !== undefined && nowMs < w.from + windowMs ? w : undefined;
  }

  function close(key: string, w: { from: number; count: number; lastTime: string; data: T }, nowMs: number) {
    if (w.count > 0) {
      closed.push({
        id: windowId(key, w.from),
        key,
        count: w.count,
        from: w.from,
        to: Math.min(nowMs, w.from + windowMs),
        lastTime: w.lastTime,
        data: w.data,
      });
    } else drop(key, w.from);
  }

  return {
    open(key, nowMs, data) {
      const old = windows.get(key);
      if (old !== undefined) {
        close(key, old, nowMs);
        windows.delete(key);
      }
      windows.set(key, { from: nowMs, count: 0, lastTime: '', data });
      touch(key, nowMs);
      fresh.add(windowId(key, nowMs));
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
      touch(key, w.from);
      return false;
    },
    count(key, nowMs, time, isOpener) {
      const w = active(key, nowMs);
      if (w === undefined) return;
      if (w.restored === true && isOpener?.(w.data) === true) {
        w.restored = false;
        return;
      }
      w.count++;
      w.lastTime = time;
      touch(key, w.from);
    },
    due(nowMs, all = false) {
      const out = closed.splice(0);
      for (const [key, w] of windows) {
        if (!all && nowMs < w.from + windowMs) continue;
        close(key, w, nowMs);
        windows.delete(key);
      }
      out.push(...closed.splice(0));
      for (const w of out) drop(w.key, w.from);
      return out;
    },
    size: () => windows.size,
    changes() {
      const upsert: RateChanges<T>['upsert'] = [];
      for (const [id, { key, from }] of dirty) {
        const open = windows.get(key);
        const w = open !== undefined && open.from === from ? open : closed.find((c) => c.id === id);
        if (w === undefined) continue;
        const row = { id, key, from, count: w.count, lastTime: w.lastTime };
        upsert.push(fresh.has(id) ? { ...row, data: w.data } : row);
      }
      const remove = [...gone];
      dirty.clear();
      fresh.clear();
      gone.clear();
      return { upsert, remove };
    },
    restore(list) {
      // Oldest first, so that of two windows of one key the newer is the open one.
      for (const w of [...list].sort((a, b) => a.from - b.from)) {
        const old = windows.get(w.key);
        if (old !== undefined) close(w.key, old, w.from);
        windows.set(w.key, {
          from: w.from,
          count: w.count,
          lastTime: w.lastTime,
          data: w.data,
          restored: true,
        });
      }
    },
  };
}
