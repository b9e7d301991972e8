// The analyzer's alert sinks, from its config: the pino log line (always), the HMAC-signed webhook
// (`alerts.webhook.url`) and the Kafka alerts topic (`alerts.kafka.enabled`, on the analyzer's producer).
import { readFileSync, statSync } from 'node:fs';
import {
  type AlertLogger,
  type AlertProducer,
  type AlertSink,
  createKafkaSink,
  createLogSink,
  createWebhookSink,
} from '@avcstream/alerts';
import { ConfigError } from '@avcstream/config';
import type { AnalyzerConfig } from './config.ts';

const MAX_SECRET_BYTES = 64 * 1024;

/**
 * The webhook's HMAC secret from `alerts.webhook.secretFile` (a Docker or Kubernetes secret file): its
 * content without the trailing newline. Throws ConfigError (naming the path, never the content) when the file
 * cannot be read, is larger than 64 KiB or is empty.
 */
export function readWebhookSecret(path: string): string {
  let text: string;
  try {
    if (statSync(path).size > MAX_SECRET_BYTES) {
      throw new ConfigError(`alerts.webhook.secretFile ${path} is larger than 64 KiB`);
    }
    text = readFileSync(path, 'utf8');
  } catch (err) {
    if (err instanceof ConfigError) throw err;
    throw new ConfigError(
      `cannot read alerts.webhook.secretFile ${path}: ${(err as NodeJS.ErrnoException).code ?? 'error'}`,
    );
  }
  const secret = text.replace(/[\r\n]+$/, '');
  if (secret === '') throw new ConfigError(`alerts.webhook.secretFile ${path} is empty`);
  return secret;
}

export interface AlertSinksOptions {
  alerts: AnalyzerConfig['alerts'];
  logger: AlertLogger;
  /** The analyzer's producer (its sends tracked for readiness), for `alerts.kafka`. */
  producer: AlertProducer;
  /** The secret read from `alerts.webhook.secretFile`; else `alerts.webhook.secret` is used. */
  webhookSecret?: string;
}

/** The sinks in delivery order: log, webhook, Kafka. Their names are the ones the outbox waits for. */
export function createAlertSinks(opts: AlertSinksOptions): AlertSink[] {
  const { alerts } = opts;
  const sinks: AlertSink[] = [createLogSink(opts.logger)];
  const { url } = alerts.webhook;
  if (url !== undefined) {
    const secret = opts.webhookSecret ?? alerts.webhook.secret;
    // The schema asks for a secret with the URL; a secret file is read by main.ts.
    if (secret === undefined || secret === '') {
      throw new ConfigError('alerts.webhook.url needs an HMAC secret (alerts.webhook.secret or secretFile)');
    }
    sinks.push(
      createWebhookSink({
        url,
        secret,
        timeoutMs: alerts.webhook.timeoutMs,
        retries: alerts.webhook.retries,
      }),
    );
  }
  if (alerts.kafka.enabled) sinks.push(createKafkaSink(opts.producer, alerts.kafka.topic));
  return sinks;
}
