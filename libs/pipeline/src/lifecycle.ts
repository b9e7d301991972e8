/** Shutdown phases, run in this order. */
export const SHUTDOWN_PHASES = [
  'unready',
  'stopIntake',
  'drain',
  'flush',
  'commit',
  'disconnect',
  'flushLogs',
] as const;
export type ShutdownPhase = (typeof SHUTDOWN_PHASES)[number];

/** The subset of a pino logger the lifecycle uses. */
export interface LifecycleLogger {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

export interface LifecycleOptions {
  /** Total time allowed for the whole shutdown; past it the process exits with code 1. */
  budgetMs: number;
  logger?: LifecycleLogger;
  /** Called with the final exit code (default `process.exit`). */
  exit?: (code: number) => void;
}

export interface Lifecycle {
  /** Register a step; steps run by phase, then in registration order within a phase. */
  onShutdown(phase: ShutdownPhase, name: string, step: () => unknown): void;
  /** Run the shutdown once (idempotent: later calls return the same promise). Resolves with the exit code. */
  shutdown(reason: string): Promise<number>;
  /** SIGTERM/SIGINT: first one shuts down then exits; a second one forces exit 130. Returns an uninstaller. */
  installSignalHandlers(proc?: Pick<NodeJS.Process, 'on' | 'off'>): () => void;
  readonly state: 'running' | 'stopping' | 'stopped';
}

const noopLogger: LifecycleLogger = { info() {}, warn() {}, error() {} };

export function createLifecycle(options: LifecycleOptions): Lifecycle {
  const logger = options.logger ?? noopLogger;
  const exit = options.exit ?? ((code: number) => process.exit(code));
  const steps: Array<{ phase: ShutdownPhase; name: string; step: () => unknown; seq: number }> = [];
  let seq = 0;
  let state: Lifecycle['state'] = 'running';
  let running: Promise<number> | undefined;

  const runSteps = async (reason: string): Promise<number> => {
    state = 'stopping';
    const started = Date.now();
    logger.info({ reason, budgetMs: options.budgetMs }, 'shutdown started');
    const ordered = [...steps].sort(
      (a, b) => SHUTDOWN_PHASES.indexOf(a.phase) - SHUTDOWN_PHASES.indexOf(b.phase) || a.seq - b.seq,
    );
    let code = 0;
    for (const s of ordered) {
      const remaining = options.budgetMs - (Date.now() - started);
      if (remaining <= 0) {
        logger.error({ phase: s.phase, step: s.name }, 'shutdown budget exhausted');
        state = 'stopped';
        return 1;
      }
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<'timeout'>((resolve) => {
        timer = setTimeout(() => resolve('timeout'), remaining);
        timer.unref?.();
      });
      try {
        const result = await Promise.race([Promise.resolve().then(s.step), timeout]);
        if (result === 'timeout') {
          logger.error({ phase: s.phase, step: s.name }, 'shutdown budget exhausted');
          state = 'stopped';
          return 1;
        }
      } catch (err) {
        code = 1;
        logger.error({ phase: s.phase, step: s.name, err }, 'shutdown step failed');
      } finally {
        if (timer !== undefined) clearTimeout(timer);
      }
    }
    state = 'stopped';
    logger.info({ durationMs: Date.now() - started, code }, 'shutdown finished');
    return code;
  };

  const lifecycle: Lifecycle = {
    get state() {
      return state;
    },
    onShutdown(phase, name, step) {
      if (!SHUTDOWN_PHASES.includes(phase)) throw new TypeError(`unknown shutdown phase ${phase}`);
      steps.push({ phase, name, step, seq: seq++ });
    },
    shutdown(reason) {
      running ??= runSteps(reason);
      return running;
    },
    installSignalHandlers(proc = process) {
      let signals = 0;
      const handler = (signal: NodeJS.Signals) => {
        signals++;
        if (signals > 1) {
          logger.warn({ signal }, 'second signal, forcing exit');
          exit(130);
          return;
        }
        void lifecycle.shutdown(signal).then(exit);
      };
      proc.on('SIGTERM', handler);
      proc.on('SIGINT', handler);
      return () => {
        proc.off('SIGTERM', handler);
        proc.off('SIGINT', handler);
      };
    },
  };
  return lifecycle;
}
