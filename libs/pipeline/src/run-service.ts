import { createLifecycle, type LifecycleLogger, type ShutdownPhase } from './lifecycle.ts';

/** What a daemon's `main.ts` hands to `runService`: its app, health server and ordered shutdown steps. */
export interface RunServiceOptions {
  logger: LifecycleLogger;
  /** Total shutdown budget. */
  budgetMs: number;
  health: { start(): Promise<{ port: number }>; close(): unknown };
  /** Starts the app; retried with backoff (up to 10 s apart) until it succeeds or shutdown begins. */
  start(): Promise<unknown>;
  /** Shutdown steps in the house order; the health server closes and logs flush after them. */
  steps: ReadonlyArray<readonly [ShutdownPhase, string, () => unknown]>;
  flushLogs(): unknown;
  /** Process exit; injectable for tests. */
  exit?: (code: number) => void;
  /** Where SIGTERM/SIGINT come from; injectable for tests. */
  signals?: Pick<NodeJS.Process, 'on' | 'off'>;
}

/**
 * Runs a daemon until a signal: health server first, then the app (retried while its dependencies are
 * not up yet), then the ordered graceful shutdown on SIGTERM/SIGINT (a second signal exits 130 at once).
 * Resolves with the exit code.
 */
export function runService(opts: RunServiceOptions): Promise<number> {
  const exit = opts.exit ?? ((code: number) => process.exit(code));
  return new Promise<number>((resolve) => {
    const lifecycle = createLifecycle({
      budgetMs: opts.budgetMs,
      logger: opts.logger,
      exit: (code) => {
        // A second signal (130) exits now; otherwise give stdout a moment, then make sure we are gone.
        if (code === 130) exit(code);
        setTimeout(() => exit(code), 2000).unref();
        resolve(code);
      },
    });
    for (const [phase, name, step] of opts.steps) lifecycle.onShutdown(phase, name, step);
    lifecycle.onShutdown('disconnect', 'http', () => opts.health.close());
    lifecycle.onShutdown('flushLogs', 'pino', () => opts.flushLogs());
    lifecycle.installSignalHandlers(opts.signals);

    void (async () => {
      try {
        const { port } = await opts.health.start();
        opts.logger.info({ port }, 'health server listening');
      } catch (err) {
        opts.logger.error({ err }, 'cannot start the health server');
        resolve(await lifecycle.shutdown('health server failed').then(() => 1));
        return;
      }
      for (let attempt = 1; lifecycle.state === 'running'; attempt++) {
        try {
          await opts.start();
          return;
        } catch (err) {
          opts.logger.error({ err, attempt }, 'service start failed, retrying');
          await new Promise((r) => setTimeout(r, Math.min(10_000, 500 * attempt)));
        }
      }
    })();
  });
}
