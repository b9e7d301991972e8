import { type FileHandle, open, readdir, stat } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import type { CheckpointStore } from './checkpoint.ts';
import { TailError } from './errors.ts';
import {
  type FileIdentity,
  fingerprint,
  identify,
  matches,
  readPrefix,
  type TailPosition,
} from './identity.ts';

/** One complete line: byte offsets in its file (`end` is past the newline). `text` has no newline. */
export interface TailLine {
  text: string;
  start: number;
  end: number;
}

/** A run of complete lines read from one file. `data` ends with `\n` unless `cut` is set. */
export interface TailChunk {
  path: string;
  identity: FileIdentity;
  start: number;
  end: number;
  data: Buffer;
  /**
   * True when the bytes do not end with a newline: a line longer than `maxLineBytes` was cut, or the last line
   * of a rotated-away file had no newline.
   */
  cut: boolean;
  /** Split `data` into lines with their offsets. */
  lines(): TailLine[];
  /** The position just after this chunk, to pass to `commit` once everything up to it is durable. */
  position(): TailPosition;
}

export interface FileEndInfo {
  path: string;
  identity: FileIdentity;
  offset: number;
  reason: 'rotated' | 'truncated' | 'replaced';
  /**
   * True when the next chunk continues the same stream of records in another file. After a copytruncate the
   * truncated file's unread rest is read from the copy, then the live file from 0 (both ends are `true`). After a
   * rename rotation (live, or the rotated files finished after a restart) the renamed file was read to its end
   * and the next file goes on where it stopped: `true` too. A consumer keeps its decoder open across such an
   * end, so an event whose records straddle it is not split. A renamed file or a copy whose last line has no
   * newline ends the stream (`false`): that line was handed out `cut`.
   */
  continues: boolean;
}

export interface TailOptions {
  /** The file to follow. */
  path: string;
  /** Where to start when there is no usable checkpoint. Default `beginning`. */
  startAt?: 'beginning' | 'end';
  /** Checkpoint storage; without it the tail always starts per `startAt`. */
  checkpoints?: CheckpointStore;
  /** Bytes per read (bounded reads). Default 64 KiB. */
  chunkBytes?: number;
  /** Bytes hashed for the file fingerprint. Default 1024. */
  fingerprintBytes?: number;
  /** A line longer than this is handed out cut (`cut: true`). Default 1 MiB. */
  maxLineBytes?: number;
  /** Use chokidar to learn about changes. Default true. */
  watch?: boolean;
  /** Fallback poll interval (also catches changes chokidar misses). 0 disables. Default 1000 ms. */
  pollIntervalMs?: number;
  /** Receives chunks in file order. The next read waits for the returned promise (backpressure). */
  onChunk: (chunk: TailChunk) => void | Promise<void>;
  /** Called when a file is finished (rotated away, truncated, replaced) before reading the next one. */
  onFileEnd?: (info: FileEndInfo) => void | Promise<void>;
  /** Reports non-fatal problems (read errors, checkpointed file not found). */
  onWarning?: (code: string, details: Record<string, unknown>) => void;
}

export interface TailStats {
  bytesRead: number;
  chunks: number;
  rotations: number;
  truncations: number;
  checkpointsWritten: number;
}

export interface Tail {
  /** Load the checkpoint, open the file(s) and start following. */
  start(): Promise<void>;
  /** Read everything available now (including a rotated backlog) and resolve at end of the current file. */
  drain(): Promise<void>;
  /** Stop reading after the current chunk; `resume` continues. */
  pause(): void;
  resume(): void;
  /** Declare everything before `position` durable downstream: write the checkpoint (atomically). */
  commit(position: TailPosition): Promise<void>;
  /** The position after the last chunk handed out. */
  position(): TailPosition | null;
  /** Stop watching and close the file. Pending commits are awaited. */
  stop(): Promise<void>;
  stats(): TailStats;
}

interface Current {
  path: string;
  fh: FileHandle;
  identity: FileIdentity;
  /** Bytes read from the file so far (start of the next read). */
  readOffset: number;
  /** Offset of the first byte of `carry`. */
  lineStart: number;
  carry: Buffer;
  /** True for a rotated-away file we finish before moving on; it is closed at its EOF. */
  backlog: boolean;
}

const NL = 0x0a;

function makeChunk(
  path: string,
  identity: FileIdentity,
  start: number,
  data: Buffer,
  cut: boolean,
): TailChunk {
  const end = start + data.length;
  return {
    path,
    identity,
    start,
    end,
    data,
    cut,
    lines() {
      const out: TailLine[] = [];
      let s = 0;
      while (s < data.length) {
        let e = data.indexOf(NL, s);
        const next = e === -1 ? data.length : e + 1;
        if (e === -1) e = data.length;
        out.push({ text: data.toString('utf8', s, e), start: start + s, end: start + next });
        s = next;
      }
      return out;
    },
    position() {
      return { identity, offset: end };
    },
  };
}

async function tryOpen(path: string): Promise<FileHandle | null> {
  try {
    return await open(path, 'r');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
}

/**
 * Follow a file. chokidar (and a poll timer) only wake the reader up; the reader owns the byte offsets.
 */
export function createTail(options: TailOptions): Tail {
  const path = options.path;
  const chunkBytes = options.chunkBytes ?? 64 * 1024;
  const fpBytes = options.fingerprintBytes ?? 1024;
  const maxLine = options.maxLineBytes ?? 1024 * 1024;
  const warn = options.onWarning ?? (() => {});
  const stats: TailStats = { bytesRead: 0, chunks: 0, rotations: 0, truncations: 0, checkpointsWritten: 0 };
  /** Files to read, oldest first; the first is current. The live `path` is always opened after the queue. */
  const backlog: Array<{ path: string; offset: number; identity: FileIdentity }> = [];
  let cur: Current | null = null;
  let lastPos: TailPosition | null = null;
  let paused = false;
  let stopped = false;
  let pumping: Promise<void> | null = null;
  let again = false;
  let watcher: { close(): Promise<void> } | null = null;
  let timer: NodeJS.Timeout | null = null;
  let commitChain: Promise<void> = Promise.resolve();
  let pendingCommit: TailPosition | null = null;
  let started = false;

  async function openLive(offset: number | 'end'): Promise<boolean> {
    const fh = await tryOpen(path);
    if (fh === null) return false;
    const identity = await identify(fh, fpBytes);
    const size = (await fh.stat()).size;
    const at = offset === 'end' ? size : offset;
    cur = {
      path,
      fh,
      identity,
      readOffset: at,
      lineStart: at,
      carry: Buffer.alloc(0),
      backlog: false,
    };
    return true;
  }

  async function openBacklog(): Promise<boolean> {
    const next = backlog.shift();
    if (next === undefined) return false;
    const fh = await tryOpen(next.path);
    if (fh === null || !(await matches(fh, next.identity))) {
      await fh?.close();
      warn('AVC_ERR_TAIL_BACKLOG_GONE', { path: next.path });
      return openBacklog();
    }
    cur = {
      path: next.path,
      fh,
      identity: next.identity,
      readOffset: next.offset,
      lineStart: next.offset,
      carry: Buffer.alloc(0),
      backlog: true,
    };
    return true;
  }

  /** Rotated siblings (`audit.log.1`, `audit.log-2024...`) of the live file, oldest first by mtime. */
  async function siblings(): Promise<Array<{ path: string; mtimeMs: number; ino: number; dev: number }>> {
    const dir = dirname(path);
    const base = basename(path);
    let names: string[];
    try {
      names = await readdir(dir);
    } catch {
      return [];
    }
    const out: Array<{ path: string; mtimeMs: number; ino: number; dev: number }> = [];
    for (const n of names) {
      if (n === base || !n.startsWith(base) || /\.(gz|xz|zst|bz2|lz4)$/.test(n)) continue;
      const p = join(dir, n);
      try {
        const st = await stat(p);
        if (st.isFile()) out.push({ path: p, mtimeMs: st.mtimeMs, ino: st.ino, dev: st.dev });
      } catch {
        // raced with a rotation; ignore
      }
    }
    out.sort((a, b) => a.mtimeMs - b.mtimeMs);
    return out;
  }

  /**
   * The copy a copytruncate left of the file `id` describes: a rotated sibling with another inode whose first
   * `id.fpLen` bytes are the same and which holds at least `offset` bytes. Newest first.
   */
  async function findCopy(
    id: FileIdentity,
    offset: number,
  ): Promise<{ path: string; identity: FileIdentity } | null> {
    const sibs = (await siblings()).reverse();
    for (const sib of sibs) {
      if (sib.ino === id.ino && sib.dev === id.dev) continue;
      const fh = await tryOpen(sib.path);
      if (fh === null) continue;
      try {
        if ((await fh.stat()).size < Math.max(offset, id.fpLen)) continue;
        const prefix = await readPrefix(fh, id.fpLen);
        if (prefix.length === id.fpLen && fingerprint(prefix) === id.fp)
          return { path: sib.path, identity: await identify(fh, fpBytes) };
      } finally {
        await fh.close();
      }
    }
    return null;
  }

  /** After a copytruncate: read the copy from `offset` (queued first), then the live file from 0. */
  async function openAfterTruncation(id: FileIdentity, offset: number): Promise<void> {
    const copy = await findCopy(id, offset);
    if (copy !== null) {
      backlog.unshift({ path: copy.path, offset, identity: copy.identity });
      if (await openBacklog()) return;
    }
    await openLive(0);
  }

  /** Resume from a checkpoint: same file, a rotated sibling (then the newer ones), or start over. */
  async function resume(cp: TailPosition): Promise<void> {
    const fh = await tryOpen(path);
    if (fh !== null && (await matches(fh, cp.identity))) {
      if ((await fh.stat()).size < cp.offset) {
        // Truncated in place while we were down (and regrown with the same first bytes).
        stats.truncations++;
        await fh.close();
        await openAfterTruncation(cp.identity, cp.offset);
        return;
      }
      cur = {
        path,
        fh,
        identity: cp.identity,
        readOffset: cp.offset,
        lineStart: cp.offset,
        carry: Buffer.alloc(0),
        backlog: false,
      };
      return;
    }
    const st = fh === null ? null : await fh.stat();
    const sameInode = st !== null && st.ino === cp.identity.ino && st.dev === cp.identity.dev;
    await fh?.close();
    const sibs = await siblings();
    const idx = sibs.findIndex((s) => s.ino === cp.identity.ino && s.dev === cp.identity.dev);
    if (idx >= 0) {
      const ours = sibs[idx]!;
      const sfh = await tryOpen(ours.path);
      if (sfh !== null && (await matches(sfh, cp.identity))) {
        await sfh.close();
        backlog.push({ path: ours.path, offset: cp.offset, identity: cp.identity });
        for (const newer of sibs.slice(idx + 1)) {
          const nfh = await tryOpen(newer.path);
          if (nfh === null) continue;
          const identity = await identify(nfh, fpBytes);
          await nfh.close();
          backlog.push({ path: newer.path, offset: 0, identity });
        }
        await openBacklog();
        return;
      }
      await sfh?.close();
    }
    if (sameInode) {
      // The live file is ours, rewritten from byte 0: a copytruncate while we were down.
      stats.truncations++;
      await openAfterTruncation(cp.identity, cp.offset);
      return;
    }
    warn('AVC_ERR_TAIL_CHECKPOINT_FILE_GONE', { path, offset: cp.offset });
    await openLive(0);
  }

  async function emit(c: Current, data: Buffer, cut: boolean): Promise<void> {
    const chunk = makeChunk(c.path, c.identity, c.lineStart, data, cut);
    c.lineStart = chunk.end;
    lastPos = chunk.position();
    stats.chunks++;
    await options.onChunk(chunk);
  }

  /** Read one bounded chunk; returns bytes read (0 at EOF). */
  async function readOnce(c: Current): Promise<number> {
    const buf = Buffer.allocUnsafe(chunkBytes);
    let n: number;
    try {
      n = (await c.fh.read(buf, 0, chunkBytes, c.readOffset)).bytesRead;
    } catch (err) {
      throw new TailError('AVC_ERR_TAIL_READ', 'read failed', { cause: err, retriable: true });
    }
    if (n === 0) return 0;
    c.readOffset += n;
    stats.bytesRead += n;
    const data = c.carry.length === 0 ? buf.subarray(0, n) : Buffer.concat([c.carry, buf.subarray(0, n)]);
    const last = data.lastIndexOf(NL);
    if (last === -1) {
      if (data.length >= maxLine) {
        c.carry = Buffer.alloc(0);
        await emit(c, Buffer.from(data), true);
      } else {
        c.carry = Buffer.from(data);
      }
      return n;
    }
    c.carry = last + 1 < data.length ? Buffer.from(data.subarray(last + 1)) : Buffer.alloc(0);
    await emit(c, Buffer.from(data.subarray(0, last + 1)), false);
    if (c.carry.length >= maxLine) {
      const cutData = c.carry;
      c.carry = Buffer.alloc(0);
      await emit(c, cutData, true);
    }
    return n;
  }

  async function finish(c: Current, reason: FileEndInfo['reason']): Promise<void> {
    let cut = false;
    if (c.carry.length > 0 && reason !== 'truncated') {
      cut = true;
      const rest = c.carry;
      c.carry = Buffer.alloc(0);
      await emit(c, rest, true);
    }
    // Truncated: the rest is read from the copy or the live file. Rotated (renamed away, or a copy) and read to
    // its end: the next file continues the stream, unless the last line had no newline (handed out cut).
    const continues = reason === 'truncated' || (reason === 'rotated' && !cut);
    await options.onFileEnd?.({ path: c.path, identity: c.identity, offset: c.lineStart, reason, continues });
    await c.fh.close();
    cur = null;
  }

  /**
   * copytruncate (or a rewrite in place): the size fell below our offset, or the first bytes changed. What we
   * had not read yet is read from the copy when a rotated sibling holds one (same first bytes), then the live
   * file from 0. Returns true when it happened.
   */
  async function checkTruncated(c: Current): Promise<boolean> {
    const fst = await c.fh.stat();
    if (fst.size >= c.readOffset && (await matches(c.fh, c.identity))) return false;
    stats.truncations++;
    const { identity, lineStart } = c;
    await finish(c, 'truncated');
    await openAfterTruncation(identity, lineStart);
    return true;
  }

  /** At EOF: detect rotation / truncation / growth of the fingerprint. Returns true to keep reading. */
  async function atEof(c: Current): Promise<boolean> {
    if (c.backlog) {
      await finish(c, 'rotated');
      if (!(await openBacklog())) await openLive(0);
      return true;
    }
    let st: Awaited<ReturnType<typeof stat>> | null = null;
    try {
      st = await stat(path);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
    if (st === null) return false; // renamed away, new file not created yet: wait
    if (st.ino !== c.identity.ino || st.dev !== c.identity.dev) {
      // Rotated by rename + create. A writer may have appended to the old file after our last read: read it
      // to its end once more before switching.
      if ((await readOnce(c)) > 0) return true;
      stats.rotations++;
      await finish(c, 'rotated');
      await openLive(0);
      return true;
    }
    if (await checkTruncated(c)) return true;
    const fst = await c.fh.stat();
    if (c.identity.fpLen < fpBytes && fst.size > c.identity.fpLen) {
      c.identity = await identify(c.fh, fpBytes);
    }
    return fst.size > c.readOffset;
  }

  async function pumpLoop(): Promise<void> {
    do {
      again = false;
      // Once per wake-up, before reading new bytes, make sure the live file was not truncated and regrown.
      const first = cur as Current | null;
      if (first !== null && !first.backlog && !paused && !stopped) await checkTruncated(first);
      while (!paused && !stopped) {
        if (cur === null && !(await openLive(0))) break;
        const c = cur!;
        const n = await readOnce(c);
        if (n > 0) continue;
        if (!(await atEof(c))) break;
      }
    } while (again && !paused && !stopped);
  }

  function pump(): Promise<void> {
    if (pumping !== null) {
      again = true;
      return pumping;
    }
    pumping = pumpLoop().finally(() => {
      pumping = null;
    });
    return pumping;
  }

  function wake(): void {
    pump().catch((err) => warn('AVC_ERR_TAIL_READ', { err: String(err) }));
  }

  const tail: Tail = {
    async start() {
      if (started) throw new TailError('AVC_ERR_TAIL_STATE', 'tail already started');
      started = true;
      const cp = options.checkpoints ? await options.checkpoints.load() : null;
      if (cp !== null) await resume(cp);
      else await openLive(options.startAt === 'end' ? 'end' : 0);
      if (options.watch ?? true) {
        const { watch } = await import('chokidar');
        const w = watch(path, { persistent: true, ignoreInitial: true });
        w.on('all', () => wake());
        w.on('error', (err) => warn('AVC_ERR_TAIL_WATCH', { err: String(err) }));
        watcher = w;
      }
      const poll = options.pollIntervalMs ?? 1000;
      if (poll > 0) {
        timer = setInterval(wake, poll);
        timer.unref();
      }
      wake();
    },
    async drain() {
      // A pump already running may have passed EOF checks before data we want was written: run one more.
      await pump();
      await pump();
    },
    pause() {
      paused = true;
    },
    resume() {
      if (!paused) return;
      paused = false;
      wake();
    },
    commit(position) {
      const store = options.checkpoints;
      if (store === undefined) return Promise.resolve();
      pendingCommit = position;
      commitChain = commitChain.then(async () => {
        const p = pendingCommit;
        if (p === null) return; // coalesced into an earlier write
        pendingCommit = null;
        await store.save(p);
        stats.checkpointsWritten++;
      });
      return commitChain;
    },
    position() {
      return lastPos;
    },
    async stop() {
      stopped = true;
      if (timer !== null) clearInterval(timer);
      timer = null;
      await watcher?.close();
      watcher = null;
      await pumping?.catch(() => {});
      await commitChain.catch(() => {});
      const c = cur as Current | null;
      if (c !== null) await c.fh.close();
      cur = null;
    },
    stats() {
      return { ...stats };
    },
  };
  return tail;
}
