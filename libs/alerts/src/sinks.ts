import { createHmac } from 'node:crypto';
import { escapeText } from '@avcstream/audit';
import { request } from 'undici';
import type { Alert, AlertSink } from './types.ts';

/** Minimal pino-like logger. */
export interface AlertLogger {
  warn(obj: object, msg: string): void;
}

export const ALERT_LOG_MESSAGE = 'new denial signature';
export const REPEAT_LOG_MESSAGE = 'denial signature repeated';

/**
 * A pino log line per alert: constant message, the alert in fields. Written at warn, so a logger at warn (the
 * default of `avcstream run`, a common production level) shows the alerts it was asked for; only a level above
 * warn (error, fatal, silent) hides them, as it hides every warning.
 */
export function createLogSink(logger: AlertLogger): AlertSink {
  return {
    name: 'log',
    send(alert) {
      logger.warn({ alert }, alert.kind === 'repeat' ? REPEAT_LOG_MESSAGE : ALERT_LOG_MESSAGE);
    },
  };
}

/**
 * Make attacker-controlled text safe for a terminal (`escapeText` of @avcstream/audit): control, bidi and
 * zero-width characters become `\xNN` / `\uNNNN`, a backslash is doubled. null and undefined become `-`.
 */
export function terminalSafe(s: string | null | undefined): string {
  if (s === null || s === undefined) return '-';
  return escapeText(s);
}

/** Render an alert for humans (the `avcstream run` console). */
export function formatAlert(a: Alert): string {
  const head =
    a.kind === 'repeat' ? `REPEAT x${a.count}` : a.scope === 'fleet' ? 'NEW DENIAL' : 'NEW ON HOST';
  // As the kernel writes it (absent on old kernels); a permissive denial was logged but not enforced.
  const permissive =
    a.event.permissive === true
      ? ' permissive=1 (logged, not enforced)'
      : a.event.permissive === false
        ? ' permissive=0'
        : '';
  const lines = [
    `[${head}${a.redelivered ? ', redelivered' : ''}] ${terminalSafe(a.signature.key)}  host=${terminalSafe(a.host)} time=${a.time} id=${a.id}`,
    `  ${terminalSafe(a.event.scontext)} -> ${terminalSafe(a.event.tcontext)} { ${a.event.perms.map(terminalSafe).join(' ')} } class=${terminalSafe(a.event.tclass)}${permissive}`,
    `  comm=${terminalSafe(a.event.comm)} exe=${terminalSafe(a.event.exe)} path=${terminalSafe(a.event.path)} pid=${a.event.pid ?? '-'}`,
    `  verdict=${a.verdict ?? 'unknown'}`,
  ];
  // Before any fix: the fix would open an access that guards the system. (Absent from alerts an older version
  // recorded in an outbox.)
  if (typeof a.caution === 'string') {
    lines.push(
      `  caution: ${terminalSafe(a.caution)}; it may come from an attack or a compromised process rather than a gap in the policy: find out why ${terminalSafe(a.signature.sourceType)} asked before applying a fix`,
    );
  }
  for (const b of a.booleans) {
    lines.push(
      `  boolean ${terminalSafe(b.name)} (now ${b.current ? 'on' : 'off'}): would enable ${b.blastRadius.rules} rules over ${b.blastRadius.triples} (source,target,class) triples`,
    );
  }
  for (const f of a.fixes)
    lines.push(`  fix (${f.kind}${f.verified ? ', verified' : ''}): ${terminalSafe(f.text)}`);
  return `${lines.join('\n')}\n`;
}

/** Human-readable alerts on a stream (synchronous write, so the outbox mark follows in the same tick). */
export function createConsoleSink(write: (text: string) => void): AlertSink {
  return {
    name: 'console',
    send(alert) {
      write(formatAlert(alert));
    },
  };
}

export interface WebhookSinkOptions {
  url: string;
  /** When set, `X-Avcstream-Signature: sha256=<hex hmac of the body>`. */
  secret?: string;
  timeoutMs?: number;
  /** Attempts after the first. Default 3. */
  retries?: number;
  backoffMs?: number;
  headers?: Record<string, string>;
  /** Injected for tests. */
  sleep?: (ms: number) => Promise<void>;
}

export class WebhookError extends Error {
  readonly code = 'AVC_ERR_ALERTS_WEBHOOK';
  readonly retriable: boolean;
  readonly status: number | null;
  constructor(message: string, status: number | null, retriable: boolean, cause?: unknown) {
    super(message, cause === undefined ? undefined : { cause });
    this.name = 'WebhookError';
    this.status = status;
    this.retriable = retriable;
  }
}

export function signBody(secret: string, body: string): string {
  return `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
}

/**
 * JSON POST per alert, with timeout, retries on network errors / 429 / 5xx, and an HMAC header. `close()`
 * aborts the deliveries in flight (request or backoff; they reject with a WebhookError, so a durable registry
 * keeps their alerts pending) and fails later sends at once: a daemon calls it once its intake has stopped.
 */
export function createWebhookSink(opts: WebhookSinkOptions): AlertSink {
  const timeoutMs = opts.timeoutMs ?? 5_000;
  const retries = opts.retries ?? 3;
  const backoffMs = opts.backoffMs ?? 250;
  const closing = new AbortController();
  const closed = new Promise<void>((r) =>
    closing.signal.addEventListener('abort', () => r(), { once: true }),
  );
  const sleep =
    opts.sleep ??
    ((ms: number) =>
      new Promise<void>((r) => {
        // Ends early on close(), without leaving the timer behind.
        const done = () => {
          clearTimeout(t);
          closing.signal.removeEventListener('abort', done);
          r();
        };
        const t = setTimeout(done, ms);
        closing.signal.addEventListener('abort', done, { once: true });
      }));
  const closedError = () => new WebhookError('webhook sink closed', null, true);
  return {
    name: 'webhook',
    async close() {
      closing.abort();
    },
    async send(alert) {
      if (closing.signal.aborted) throw closedError();
      const body = JSON.stringify(alert);
      const headers: Record<string, string> = {
        ...opts.headers,
        'content-type': 'application/json',
        'user-agent': 'avcstream-alerts',
        'x-avcstream-alert-id': alert.id,
      };
      if (opts.secret !== undefined && opts.secret !== '')
        headers['x-avcstream-signature'] = signBody(opts.secret, body);
      let last: WebhookError | null = null;
      for (let attempt = 0; attempt <= retries; attempt++) {
        if (attempt > 0) await Promise.race([sleep(backoffMs * 2 ** (attempt - 1)), closed]);
        if (closing.signal.aborted) throw closedError();
        try {
          const res = await request(opts.url, {
            method: 'POST',
            headers,
            body,
            headersTimeout: timeoutMs,
            bodyTimeout: timeoutMs,
            signal: AbortSignal.any([closing.signal, AbortSignal.timeout(timeoutMs)]),
          });
          await res.body.dump();
          if (res.statusCode >= 200 && res.statusCode < 300) return;
          const retriable = res.statusCode === 429 || res.statusCode >= 500;
          last = new WebhookError('webhook answered with an error status', res.statusCode, retriable);
          if (!retriable) throw last;
        } catch (err) {
          if (err instanceof WebhookError && !err.retriable) throw err;
          if (closing.signal.aborted) throw closedError();
          last =
            err instanceof WebhookError ? err : new WebhookError('webhook request failed', null, true, err);
        }
      }
      throw last ?? new WebhookError('webhook request failed', null, true);
    },
  };
}

/** The producer surface the Kafka sink needs (provided by @avcstream/kafka). */
export interface AlertProducer {
  send(
    topic: string,
    messages: ReadonlyArray<{ key: string; value: string; headers?: Record<string, string> }>,
  ): Promise<unknown>;
}

export const ALERTS_TOPIC = 'avcstream.alerts.v1';

/** Alerts on the `avcstream.alerts.v1` topic, keyed by signature id (one partition per signature). */
export function createKafkaSink(producer: AlertProducer, topic = ALERTS_TOPIC): AlertSink {
  return {
    name: 'kafka',
    async send(alert) {
      await producer.send(topic, [
        {
          key: alert.signature.id,
          value: JSON.stringify(alert),
          headers: { 'avcstream-alert-id': alert.id },
        },
      ]);
    },
  };
}
