import { accessSync, constants, existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { ParseError } from '@avcstream/audit';
import {
  type Alert,
  type AlertSink,
  createAlerter,
  type RateWindowRecord,
  createConsoleSink,
  createLogSink,
  createStoreRegistry,
  createWebhookSink,
} from '@avcstream/alerts';
import { REPORT_CSP } from '@avcstream/report';
import { openStore, type Store } from '@avcstream/store';
import {
  createHealthServer,
  createLogRateLimiter,
  createLogger,
  createMetrics,
  flushLogger,
  type HealthServer,
} from '@avcstream/telemetry';
import { createMalformedSink, type MalformedSource } from './deadletter.ts';
import { createEngine, type Engine } from './engine.ts';
import { BooleansLoadError, type ExplainFn, loadExplainer } from './explain.ts';
import {
  FileContextsTooLargeError,
  fileContextsFor,
  hostPolicyPath,
  PolicyTooLargeError,
} from '../policy-file.ts';
import { type RunOptions, UsageError } from './options.ts';
import { createReporter, type Reporter } from './report.ts';
import { stateDirProblem } from './state-dir.ts';

export interface EmbeddedIo {
  /** Human-readable output (alerts, summary). Must write synchronously (process.stdout on a pipe/TTY does). */
  out: (text: string) => void;
  /** Destination of the JSON logs. */
  logStream: { write(s: string): unknown };
}

export interface EmbeddedApp {
  start(): Promise<void>;
  /** `--once`: read to the end, write the report, print the summary. */
  runOnce(): Promise<void>;
  /** Ordered shutdown (follow mode). */
  shutdown(reason: string): Promise<number>;
  writeReport(): Promise<void>;
  /** Port bound by the HTTP server, when started. */
  httpPort(): number | null;
}

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;

/** Seams for tests. */
export interface EmbeddedDeps {
  openStore?: typeof openStore;
  /** Where the installed policy is looked up (/etc/selinux/config): '/' but for tests. */
  hostRoot?: string;
}

export async function createEmbeddedApp(
  opts: RunOptions,
  io: EmbeddedIo,
  deps: EmbeddedDeps = {},
): Promise<EmbeddedApp> {
  const logger = createLogger({
    component: 'run',
    level: opts.logLevel,
    destination: io.logStream as Parameters<typeof createLogger>[0]['destination'],
  });
  if (!existsSync(opts.input)) throw new UsageError(`input not found: ${opts.input}`, 66);
  // Before anything creates it: a recursive mkdir under /proc never returns.
  const stateProblem = stateDirProblem(opts.stateDir);
  if (stateProblem !== null) throw new UsageError(`bad state dir ${opts.stateDir}: ${stateProblem}`, 78);

  // Policy replay is optional: without a readable policy, alerts carry no verdict. Only the defaults
  // (/sys/fs/selinux/...) may be missing, as on a host with SELinux disabled; a path given on the command line
  // that is missing is a config error here, before the state dir is touched (alerts claimed without a verdict
  // are never re-delivered).
  if (opts.policy !== null && opts.policyGiven && !existsSync(opts.policy)) {
    throw new UsageError(`policy not found: ${opts.policy}`, 78);
  }
  if (typeof opts.fileContexts === 'string' && !existsSync(opts.fileContexts)) {
    throw new UsageError(`file_contexts not found: ${opts.fileContexts}`, 78);
  }
  if (opts.booleans !== null && opts.booleansGiven && !existsSync(opts.booleans)) {
    throw new UsageError(`booleans not found: ${opts.booleans}`, 78);
  }
  const booleansPath = opts.booleans !== null && existsSync(opts.booleans) ? opts.booleans : null;
  // Without selinuxfs (SELinux disabled, a container, a copy of another host's log), the default falls back
  // to the installed policy /etc/selinux/config names, as audit2why would use.
  let policyPath = opts.policy;
  if (policyPath !== null && !opts.policyGiven && !existsSync(policyPath)) {
    const installed = hostPolicyPath(deps.hostRoot);
    if (installed !== null) {
      logger.warn({ policy: installed }, 'no kernel policy: replaying against the installed policy');
      policyPath = installed;
    }
  }
  // file_contexts: given, or the one beside a host policy (restorecon advice in alerts).
  const fcPath =
    opts.fileContexts === undefined
      ? policyPath === null
        ? null
        : fileContextsFor(policyPath, deps.hostRoot)
      : opts.fileContexts;
  let current: ExplainFn | null = null;
  if (policyPath !== null) {
    if (!existsSync(policyPath)) {
      logger.warn({ policy: policyPath }, 'policy not found: denials are not replayed');
    } else {
      if (opts.booleans !== null && booleansPath === null) {
        logger.warn({ booleans: opts.booleans }, "booleans not found: the policy's defaults are used");
      }
      try {
        const loaded = loadExplainer(policyPath, booleansPath, undefined, fcPath);
        current = loaded.explain;
        logger.info(
          {
            policy: loaded.policyPath,
            bytes: loaded.policyBytes,
            booleans: loaded.booleans,
            fileContexts: loaded.fileContexts,
          },
          'policy loaded',
        );
        if (loaded.fileContextsErrors.count > 0) {
          logger.warn(
            {
              fileContexts: loaded.fileContexts,
              skipped: loaded.fileContextsErrors.count,
              first: loaded.fileContextsErrors.first,
            },
            'file_contexts lines skipped',
          );
        }
      } catch (err) {
        if (err instanceof PolicyTooLargeError) throw new UsageError('policy file too large', 65);
        if (err instanceof FileContextsTooLargeError) throw new UsageError('file_contexts too large', 65);
        if (err instanceof BooleansLoadError) throw new UsageError(err.message, 78);
        throw new UsageError(`cannot load policy ${policyPath}: ${(err as Error).message}`, 78);
      }
    }
  } else if (opts.booleans !== null && opts.booleansGiven) {
    // No replay: the booleans are not read, but a file named on the command line must at least be readable.
    try {
      accessSync(opts.booleans, constants.R_OK);
    } catch (err) {
      throw new UsageError(`cannot read booleans ${opts.booleans}: ${(err as Error).message}`, 78);
    }
  }
  // Stable function handed to the engine and the report; a reload swaps what it calls.
  const explain: ExplainFn | null = current === null ? null : (d) => (current === null ? null : current(d));
  let reloadTimer: NodeJS.Timeout | null = null;
  /** Following a live host: a policy load or boolean change re-reads the policy and booleans (debounced). */
  const scheduleReload = () => {
    if (opts.once || policyPath === null || current === null || reloadTimer !== null) return;
    reloadTimer = setTimeout(() => {
      reloadTimer = null;
      try {
        const loaded = loadExplainer(policyPath as string, booleansPath, undefined, fcPath);
        current = loaded.explain;
        logger.info({ policy: loaded.policyPath, bytes: loaded.policyBytes }, 'policy reloaded');
      } catch (err) {
        logger.warn({ err: String(err) }, 'policy reload failed; keeping the previous one');
      }
    }, 500);
    reloadTimer.unref();
  };

  // Store trouble is logged at most a few times a minute (a failing disk would otherwise flood the log).
  const storeLogLimit = createLogRateLimiter(5, 60_000);
  let store: Store;
  try {
    store = (deps.openStore ?? openStore)({
      dir: opts.stateDir,
      maxEvents: opts.maxEvents,
      onCompactError: (err) => {
        const suppressed = storeLogLimit.take();
        if (suppressed === null) return;
        logger.error({ err: String(err), suppressed }, 'state compaction failed; the journal keeps growing');
      },
    });
  } catch (err) {
    throw new UsageError(`cannot open state dir ${opts.stateDir}: ${(err as Error).message}`, 78);
  }
  const knownAtStart = store.signatures().length;

  const metrics = createMetrics({ component: 'run' });
  const m = {
    lines: metrics.counter('input', 'lines', 'Lines read from the audit log.'),
    events: metrics.counter('events', 'events', 'Audit events reassembled (de-duplicated).'),
    denials: metrics.counter('denials', 'records', 'Denied AVC / USER_AVC records.'),
    malformed: metrics.counter('malformed', 'lines', 'Lines the parser rejected.'),
    deadLetters: metrics.counter('deadletter', 'entries', 'Bad lines written to deadletter.ndjson.'),
    deadLettersDropped: metrics.counter(
      'deadletter_dropped',
      'entries',
      'Dead-letter entries lost (rotated out with the old generation, or a failed write).',
    ),
    alerts: metrics.counter('alerts', 'alerts', 'Alerts emitted.', ['kind'] as const),
    signatures: metrics.gauge('signatures', 'signatures', 'Known denial signatures in the state dir.'),
    sinkErrors: metrics.counter('sink_errors', 'errors', 'Alert deliveries that failed.', ['sink'] as const),
  };

  const sinks: AlertSink[] = [createConsoleSink(io.out)];
  if (opts.logAlerts) sinks.push(createLogSink(logger));
  if (opts.webhook !== null) {
    const secret = process.env.AVCSTREAM_WEBHOOK_SECRET;
    sinks.push(createWebhookSink({ url: opts.webhook, ...(secret ? { secret } : {}) }));
  }
  const alerter = createAlerter({
    registry: createStoreRegistry(
      store,
      sinks.map((s) => s.name),
    ),
    sinks,
    signature: { include: opts.signatureInclude, permissionSet: opts.permissionSet },
    ignore: opts.ignore,
    hostScope: opts.hostAlerts,
    rateLimitWindowMs: opts.rateLimitMs,
    // Windows on event time: replaying a backlog folds what was a flood when it happened.
    windowClock: 'event',
    // The store keeps an outbox: a slow webhook delivers in the background instead of stalling the tail.
    awaitSinks: false,
    onSinkError: (sink, alertId, err) => {
      m.sinkErrors.inc({ sink });
      logger.warn({ sink, alertId, err: String(err) }, 'alert delivery failed; it stays pending');
    },
  });
  const countAlerts = (alerts: Alert[]) => {
    for (const a of alerts) m.alerts.inc({ kind: a.kind === 'repeat' ? 'repeat' : `new_${a.scope}` });
  };

  const reporter: Reporter = createReporter({
    store,
    stateDir: opts.stateDir,
    defaultHost: opts.host,
    explain,
    sources: [opts.input],
  });

  const malformedSink = createMalformedSink({
    file: join(opts.stateDir, 'deadletter.ndjson'),
    host: opts.host,
    logger,
  });
  let deadLettered = malformedSink.stats();
  /** Bad lines, dead-lettered with their raw bytes (bounded file in the state dir), logged at a rate limit. */
  const deadLetter = (errors: ParseError[], source: MalformedSource | null) => {
    malformedSink.add(errors, source);
    const d = malformedSink.stats();
    m.deadLetters.inc(d.written - deadLettered.written);
    m.deadLettersDropped.inc(d.dropped - deadLettered.dropped);
    deadLettered = d;
  };
  const engine: Engine = createEngine({
    input: opts.input,
    startAt: opts.startAt,
    store,
    alerter,
    explain,
    defaultHost: opts.host,
    follow: !opts.once,
    chunkBytes: opts.chunkBytes,
    pollIntervalMs: opts.pollIntervalMs,
    commitIntervalMs: opts.commitIntervalMs,
    signature: { include: opts.signatureInclude, permissionSet: opts.permissionSet },
    hooks: {
      onEvent: (e) => {
        reporter.add(e);
        if (e.records.some((r) => r.type === 'MAC_POLICY_LOAD' || r.type === 'MAC_CONFIG_CHANGE'))
          scheduleReload();
      },
      onMalformed: (errors, source) => {
        reporter.addMalformed(errors.length);
        m.malformed.inc(errors.length);
        deadLetter(errors, source);
      },
      onMalformedRecords: (n) => m.malformed.inc(n),
      // Their lines: dead-lettered with their bytes too (counted above, from their events).
      onMalformedAvcLines: deadLetter,
      onCommitError: (err) => {
        const suppressed = storeLogLimit.take();
        if (suppressed === null) return;
        logger.error({ err: String(err), suppressed }, 'state commit failed; intake waits and retries');
      },
      onAlerts: countAlerts,
      onWarning: (code, details) => logger.warn({ code, ...details }, 'tail warning'),
    },
  });

  let last = engine.totals();
  const syncMetrics = () => {
    const t = engine.totals();
    m.lines.inc(t.lines - last.lines);
    m.events.inc(t.events - last.events);
    m.denials.inc(t.denials - last.denials);
    m.signatures.set(store.signatures().length);
    last = t;
  };

  let ready = false;
  let http: HealthServer | null = null;
  let port: number | null = null;
  const timers: NodeJS.Timeout[] = [];
  let stopping: Promise<number> | null = null;

  async function writeReport(): Promise<void> {
    const r = await reporter.write();
    logger.info({ html: r.html, text: r.text, json: r.json }, 'report written');
  }

  const app: EmbeddedApp = {
    async start() {
      alerter.restoreWindows(store.windows() as unknown as RateWindowRecord[]);
      const again = await alerter.redeliverPending();
      if (again.length > 0)
        logger.warn({ alerts: again.length }, 'redelivered alerts left pending by a crash');
      await engine.start();
      if (opts.http !== null) {
        http = createHealthServer({
          port: opts.http.port,
          host: opts.http.host,
          registry: metrics.registry,
          // Not ready while intake is stuck on a failing state commit.
          isReady: () => ready && !engine.health().commitFailing,
        });
        http.app.get('/', async (_req, reply) => {
          syncMetrics();
          return reply
            .header('content-type', 'text/html; charset=utf-8')
            .header('content-security-policy', REPORT_CSP)
            .header('x-content-type-options', 'nosniff')
            .send(reporter.latestHtml());
        });
        http.app.addHook('onRequest', async (req) => {
          if (req.url === '/metrics') syncMetrics();
        });
        port = (await http.start()).port;
        logger.info({ host: opts.http.host, port }, 'http listening');
      }
      if (!opts.once) {
        const tick = setInterval(() => {
          engine.tick(Date.now()).catch((err) => logger.error({ err: String(err) }, 'tick failed'));
          alerter
            .flush()
            .then(countAlerts)
            .catch((err) => logger.error({ err: String(err) }, 'alert flush failed'));
          syncMetrics();
        }, 1000);
        const rep = setInterval(() => {
          writeReport().catch((err) => logger.error({ err: String(err) }, 'report failed'));
        }, opts.reportIntervalMs);
        timers.push(tick, rep);
      }
      ready = true;
    },
    async runOnce() {
      await engine.finish();
      countAlerts(await alerter.flush(true));
      await alerter.drain();
      syncMetrics();
      const r = await reporter.write();
      const t = engine.totals();
      const s = alerter.stats();
      const c = store.counters();
      const known = store.signatures().length;
      if (opts.printReport) io.out(`\n${await readFile(r.text, 'utf8')}`);
      io.out(
        [
          '',
          `avcstream run: read ${plural(t.lines, 'line')} of ${opts.input}: ${plural(t.events, 'event')}, ` +
            `${plural(t.selinuxEvents, 'SELinux event')}, ${plural(t.denials, 'denial')}, ${plural(t.malformed, 'malformed line')}`,
          `new denial signatures: ${s.newFleet} this run; ${known} known in ${opts.stateDir}` +
            (known > 0 && s.newFleet === 0 && knownAtStart > 0
              ? ' (already alerted in an earlier run; remove the state dir to start over)'
              : ''),
          `all-time: ${c.lines ?? 0} lines, ${c.events ?? 0} events, ${c.denials ?? 0} denials, ` +
            `${(c.malformed ?? 0) + (c.malformedRecords ?? 0)} malformed, ${c.alerts ?? 0} alerts`,
          `report: ${r.text}, ${r.html}, ${r.json}`,
          '',
        ].join('\n'),
      );
    },
    writeReport,
    shutdown(reason) {
      stopping ??= (async () => {
        let code = 0;
        const step = async (name: string, fn: () => unknown) => {
          try {
            await fn();
          } catch (err) {
            code = 1;
            logger.error({ step: name, err: String(err) }, 'shutdown step failed');
          }
        };
        logger.info({ reason }, 'shutdown started');
        ready = false; // 1. /readyz 503
        for (const t of timers) clearInterval(t);
        if (reloadTimer !== null) clearTimeout(reloadTimer);
        await step('stopIntake', () => engine.stop()); // 2-3. stop reading; the chain drains
        await step('flush', async () => {
          countAlerts(await alerter.flush(true)); // 4. sinks
          await alerter.drain();
          if (!opts.once) await writeReport();
        });
        await step('commit', () => store.close()); // 5. fsync journal, release the lock
        await step('disconnect', async () => {
          const h = http as HealthServer | null;
          if (h !== null) await h.close(); // 6.
        });
        await flushLogger(logger); // 7.
        return code;
      })();
      return stopping;
    },
    httpPort: () => port,
  };
  return app;
}
