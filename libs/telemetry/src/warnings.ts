import type { Logger } from 'pino';
import { createLogRateLimiter } from './logger.ts';

/** The part of `process` that {@link routeProcessWarnings} uses (an EventEmitter in tests). */
export interface WarningEmitter {
  // biome-ignore lint/complexity/noBannedTypes: matches process.listeners' and EventEmitter's signature
  listeners(event: 'warning'): Function[];
  removeAllListeners(event: 'warning'): unknown;
  on(event: 'warning', listener: (warning: Error) => void): unknown;
  off(event: 'warning', listener: (warning: Error) => void): unknown;
}

export interface RouteWarningsOptions {
  /** Warnings logged per interval before the rest are counted as suppressed (default 10). */
  perInterval?: number;
  /** Rate-limit window (default 60 000 ms). */
  intervalMs?: number;
  now?: () => number;
}

/**
 * Send process warnings (e.g. kafkajs's `TimeoutNegativeWarning` under Node 24) through the pino logger
 * instead of Node's default `(node:PID) ...` line on stderr, so a daemon's log stream stays JSON only.
 * Removes the existing `warning` listeners (Node's printer among them) and installs one that logs the constant
 * message `process warning` with the warning's name, code and message as fields, at a rate limit.
 * Returns a function that puts the previous listeners back.
 */
export function routeProcessWarnings(
  logger: Logger,
  proc: WarningEmitter = process,
  options: RouteWarningsOptions = {},
): () => void {
  const previous = proc.listeners('warning') as ((warning: Error) => void)[];
  const limiter = createLogRateLimiter(options.perInterval ?? 10, options.intervalMs ?? 60_000, options.now);
  const onWarning = (warning: Error): void => {
    const suppressed = limiter.take();
    if (suppressed === null) return;
    const code = (warning as Error & { code?: unknown }).code;
    logger.warn(
      {
        warning: {
          name: warning.name,
          message: warning.message,
          ...(typeof code === 'string' ? { code } : {}),
        },
        ...(suppressed > 0 ? { suppressed } : {}),
      },
      'process warning',
    );
  };
  proc.removeAllListeners('warning');
  proc.on('warning', onWarning);
  return () => {
    proc.off('warning', onWarning);
    for (const l of previous) proc.on('warning', l);
  };
}
