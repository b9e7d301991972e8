import { pino, type DestinationStream, type Logger, type LoggerOptions } from 'pino';

/** Key names whose values are always replaced by `[redacted]`, at any of the first four nesting levels. */
export const SECRET_KEYS = [
  'password',
  'passwd',
  'secret',
  'token',
  'apiKey',
  'api_key',
  'authorization',
  'cookie',
  'privateKey',
  'credentials',
  'sasl',
] as const;

function redactPaths(): string[] {
  const paths: string[] = [];
  for (const key of SECRET_KEYS) {
    paths.push(key, `*.${key}`, `*.*.${key}`, `*.*.*.${key}`);
  }
  paths.push('req.headers.authorization', 'req.headers.cookie');
  return paths;
}

export interface CreateLoggerOptions {
  component: string;
  /** pino level (default from env `AVCSTREAM_LOG_LEVEL`, else `info`). */
  level?: string;
  /** Destination (default: stdout, synchronous-safe pino destination). For tests pass a stream. */
  destination?: DestinationStream;
  /** Extra base fields. */
  base?: Record<string, unknown>;
}

export type { Logger };

/** pino JSON logger to stdout with `{component}` and central redaction of secrets. */
export function createLogger(options: CreateLoggerOptions): Logger {
  const opts: LoggerOptions = {
    level: options.level ?? process.env.AVCSTREAM_LOG_LEVEL ?? 'info',
    base: { component: options.component, pid: process.pid, ...options.base },
    redact: { paths: redactPaths(), censor: '[redacted]' },
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label) => ({ level: label }) },
  };
  const dest = options.destination ?? pino.destination({ dest: 1, sync: false });
  return pino(opts, dest);
}

/** Flush a logger's destination (best effort; used as the last shutdown step). */
export function flushLogger(logger: Logger): Promise<void> {
  return new Promise((resolve) => {
    try {
      logger.flush((err) => {
        void err;
        resolve();
      });
    } catch {
      resolve();
    }
  });
}

/**
 * A rate limiter for repetitive warnings (bad lines, invalid messages): allows `perInterval` log calls each
 * `intervalMs`, and reports how many were suppressed since the last allowed call.
 */
export function createLogRateLimiter(perInterval: number, intervalMs: number, now: () => number = Date.now) {
  let windowStart = now();
  let count = 0;
  let suppressed = 0;
  return {
    /** Returns null when suppressed, else the number of calls suppressed before this one. */
    take(): number | null {
      const t = now();
      if (t - windowStart >= intervalMs) {
        windowStart = t;
        count = 0;
      }
      if (count < perInterval) {
        count++;
        const s = suppressed;
        suppressed = 0;
        return s;
      }
      suppressed++;
      return null;
    },
  };
}
