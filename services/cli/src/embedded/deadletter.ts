import { appendFileSync, readFileSync, renameSync, statSync } from 'node:fs';
import type { ParseError } from '@avcstream/audit';
import { makeDeadLetter } from '@avcstream/contracts';
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
  /** Raw bytes kept per entry (the rest is cut, `truncated: true`). Default 4096, at most 256 KiB (the contract's). */
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
 * (`avcstream.deadletter.v1` records built by `makeDeadLetter`, `component: "run"`) and logged at a rate limit
 * per interval.
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
    const dl = makeDeadLetter({
      component: 'run',
      host: opts.host,
      code: e.code ?? 'AVC_ERR_AUDIT_PARSE',
      message: e.message,
      // The bytes as written when the decoder kept them (invalid UTF-8 included), else the text.
      raw: e.bytes ?? Buffer.from(e.raw, 'utf8'),
      // An over-long line: the decoder kept its head (`bytes`) and says the whole length (`lineBytes`).
      rawBytes: e.lineBytes,
      maxRawBytes: maxRaw,
      // The engine reports errors only while it reads a file, with the decoder's offsets. The contract has no
      // unknown position: the fallbacks (0 as the ingester's for a missing offset) are for the types only.
      source: {
        kind: 'file',
        path: source?.path ?? '',
        dev: source?.dev ?? 0,
        ino: source?.ino ?? 0,
        offset: e.offset ?? 0,
        line: e.line,
      },
      at: new Date(now()),
    });
    return `${JSON.stringify(dl)}\n`;
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
