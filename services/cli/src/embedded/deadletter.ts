import { appendFileSync, readFileSync, renameSync, statSync } from 'node:fs';
import type { ParseError } from '@avcstream/audit';
import { createLogRateLimiter, type Logger } from '@avcstream/telemetry';

/** Where a bad line was read. */
export interface MalformedSource {
  path: string;
  dev: number;
  ino: number;
}

export interface MalformedSinkOptions {
  /** The dead-letter file, e.g. `<state-dir>/deadletter.ndjson`; one older generation is kept as `<file>.1`. */
  file: string;
  host: string;
  logger: Logger;
  now?: () => number;
  /** Raw bytes kept per entry (the rest is cut, `truncated: true`). Default 4096. */
  maxRawBytes?: number;
  /** The file is rotated to `<file>.1` before it would pass this size. Default 4 MiB (8 MiB on disk in all). */
  maxFileBytes?: number;
  /** Bad lines logged per interval (the others are counted in the next log line's `suppressed`). Default 10. */
  logPerInterval?: number;
  logIntervalMs?: number;
}

export interface MalformedSinkStats {
  /** Entries appended to the dead-letter file by this process. */
  written: number;
  /** Entries lost: rotated out with the old generation, or not written (a write error). */
  dropped: number;
}

export interface MalformedSink {
  add(errors: ParseError[], source: MalformedSource | null): void;
  stats(): MalformedSinkStats;
}

const MAX_REASON_CHARS = 1024;
const LOG_HEAD_CHARS = 256;

function sizeOf(file: string): number {
  try {
    return statSync(file).size;
  } catch {
    return 0;
  }
}

function countLines(file: string): number {
  try {
    const b = readFileSync(file);
    let n = 0;
    for (let i = b.indexOf(0x0a); i !== -1; i = b.indexOf(0x0a, i + 1)) n++;
    return n;
  } catch {
    return 0;
  }
}

/**
 * Bad lines of `avcstream run`: each one is dead-lettered with its raw bytes to a bounded file in the state dir
 * (records shaped like `avcstream.deadletter.v1`, `component: "run"`) and logged at a rate limit per interval.
 * Entries are appended when the line is read, before its batch is committed: after a crash, lines re-read
 * from the checkpoint can be dead-lettered again (at least once).
 */
export function createMalformedSink(opts: MalformedSinkOptions): MalformedSink {
  const now = opts.now ?? Date.now;
  const maxRaw = opts.maxRawBytes ?? 4096;
  const maxFile = opts.maxFileBytes ?? 4 * 1024 * 1024;
  const limiter = createLogRateLimiter(opts.logPerInterval ?? 10, opts.logIntervalMs ?? 60_000, now);
  const writeLimiter = createLogRateLimiter(1, 60_000, now);
  const old = `${opts.file}.1`;
  let size = sizeOf(opts.file);
  const stats: MalformedSinkStats = { written: 0, dropped: 0 };

  function entry(e: ParseError, source: MalformedSource | null): string {
    // The bytes as written when the decoder kept them (invalid UTF-8 included), else the text.
    const raw =
      e.bytes !== undefined
        ? Buffer.from(e.bytes.buffer, e.bytes.byteOffset, e.bytes.byteLength)
        : Buffer.from(e.raw, 'utf8');
    // An over-long line: the decoder kept its head (`bytes`) and says the whole length (`lineBytes`).
    const rawBytes = Math.max(e.lineBytes ?? 0, raw.length);
    const kept = raw.length > maxRaw ? raw.subarray(0, maxRaw) : raw;
    const truncated = rawBytes > kept.length;
    return `${JSON.stringify({
      schema: 'avcstream.deadletter.v1',
      component: 'run',
      host: opts.host,
      reason: { code: e.code ?? 'AVC_ERR_AUDIT_PARSE', message: e.message.slice(0, MAX_REASON_CHARS) },
      raw: kept.toString('base64'),
      rawBytes,
      truncated,
      source: {
        kind: 'file',
        path: source?.path ?? null,
        dev: source?.dev ?? null,
        ino: source?.ino ?? null,
        offset: e.offset ?? null,
        line: e.line,
      },
      at: new Date(now()).toISOString(),
    })}\n`;
  }

  function flush(text: string, entries: number): void {
    if (entries === 0) return;
    try {
      appendFileSync(opts.file, text, { mode: 0o600 });
      size += Buffer.byteLength(text);
      stats.written += entries;
    } catch (err) {
      stats.dropped += entries;
      const suppressed = writeLimiter.take();
      if (suppressed !== null)
        opts.logger.error({ err: String(err), file: opts.file, suppressed }, 'dead-letter write failed');
    }
  }

  function rotate(): void {
    try {
      stats.dropped += countLines(old);
      renameSync(opts.file, old);
      size = 0;
    } catch (err) {
      const suppressed = writeLimiter.take();
      if (suppressed !== null)
        opts.logger.error({ err: String(err), file: opts.file, suppressed }, 'dead-letter rotation failed');
    }
  }

  return {
    add(errors, source) {
      let text = '';
      let bytes = 0;
      let n = 0;
      for (const e of errors) {
        const line = entry(e, source);
        const len = Buffer.byteLength(line);
        if (size + bytes + len > maxFile && size + bytes > 0) {
          flush(text, n);
          text = '';
          bytes = 0;
          n = 0;
          rotate();
        }
        text += line;
        bytes += len;
        n++;
        const suppressed = limiter.take();
        if (suppressed !== null) {
          opts.logger.warn(
            {
              line: e.line,
              offset: e.offset,
              code: e.code,
              reason: e.message,
              head: e.raw.slice(0, LOG_HEAD_CHARS),
              suppressed,
            },
            'malformed audit line',
          );
        }
      }
      flush(text, n);
    },
    stats: () => ({ ...stats }),
  };
}
