// Impure wiring of the analyzer daemon: config, logger, metrics, Kafka, Elasticsearch, signals.
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { CONFIG_EXIT_CODE, ConfigError, loadServiceConfig, redactConfig } from '@avcstream/config';
import { createEsClient } from '@avcstream/elasticsearch';
import { createKafkaConsumer, createKafkaProducer, ensureTopics } from '@avcstream/kafka';
import { runService } from '@avcstream/pipeline';
import {
  createHealthServer,
  createLogger,
  createMetrics,
  flushLogger,
  routeProcessWarnings,
} from '@avcstream/telemetry';
import { readWebhookSecret } from './alert-sinks.ts';
import { createApp } from './app.ts';
import { type AnalyzerConfig, analyzerConfigSchema } from './config.ts';

export interface DaemonIo {
  stdout?: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
}

export const ANALYZER_HELP = `Usage: avcstream analyzer [--config file.json] [--path.to.key=value ...]

Consumes avcstream.events.v1 in a consumer group, replays every denial against the host's policy and
booleans (from avcstream.policy.v1), indexes ECS documents into Elasticsearch, dead-letters invalid
messages to avcstream.deadletter.v1 and raises first-seen alerts (pino log line; optionally an HMAC-signed
webhook and the avcstream.alerts.v1 topic). Keys (env AVCSTREAM_<A>__<B>):
  --kafka.brokers, --kafka.groupId, --elasticsearch.url, --elasticsearch.indexPrefix,
  --processing.policyWaitMs, --alerts.enabled, --alerts.webhook.url, --alerts.webhook.secretFile,
  --alerts.kafka.enabled, --alerts.kafka.topic, --http.port, --shutdown.budgetMs
The webhook secret is never an option: env AVCSTREAM_ALERTS__WEBHOOK__SECRET or --alerts.webhook.secretFile.
See services/analyzer/README.md.
`;

/** An option naming the webhook secret itself (it would show in the process list). */
const SECRET_ARG = /^--alerts\.webhook\.secret(=|$)/;

/** Run the analyzer until SIGTERM/SIGINT. Resolves with the exit code. */
export async function runAnalyzer(argv: readonly string[], io: DaemonIo): Promise<number> {
  if (argv.includes('--help') || argv.includes('-h')) {
    (io.stdout ?? io.stderr).write(ANALYZER_HELP);
    return 0;
  }
  let config: AnalyzerConfig;
  let webhookSecret: string | undefined;
  try {
    if (argv.some((a) => SECRET_ARG.test(a))) {
      throw new ConfigError(
        'alerts.webhook.secret is not taken from the command line (the process list shows it): set env AVCSTREAM_ALERTS__WEBHOOK__SECRET or --alerts.webhook.secretFile',
      );
    }
    config = loadServiceConfig(analyzerConfigSchema(hostname()), argv, process.env);
    const { url, secretFile } = config.alerts.webhook;
    if (config.alerts.enabled && url !== undefined && secretFile !== undefined) {
      webhookSecret = readWebhookSecret(secretFile);
    }
  } catch (err) {
    if (err instanceof ConfigError) {
      io.stderr.write(`avcstream analyzer: ${err.message}\n`);
      return CONFIG_EXIT_CODE;
    }
    throw err;
  }

  const logger = createLogger({ component: 'analyzer' });
  // kafkajs under Node 24 triggers TimeoutNegativeWarning: keep stderr/stdout JSON only.
  routeProcessWarnings(logger);
  logger.info({ config: redactConfig(config) }, 'configuration loaded');
  const metrics = createMetrics({ component: 'analyzer' });
  const kafkaLog = logger.child({ stage: 'kafka' });
  const kafkaOpts = { brokers: config.kafka.brokers, clientId: config.kafka.clientId, logger: kafkaLog };

  const app = createApp({
    config,
    logger,
    metrics,
    events: createKafkaConsumer({
      ...kafkaOpts,
      groupId: config.kafka.groupId,
      topics: [config.kafka.eventsTopic],
      fromBeginning: config.kafka.fromBeginning,
      maxBytesPerPartition: config.kafka.maxBytesPerPartition,
      sessionTimeoutMs: config.kafka.sessionTimeoutMs,
      heartbeatIntervalMs: config.kafka.heartbeatIntervalMs,
    }),
    policies: createKafkaConsumer({
      ...kafkaOpts,
      groupId: `${config.kafka.groupId}-policy-${config.analyzerId}-${randomUUID().slice(0, 8)}`,
      topics: [config.kafka.policyTopic],
      fromBeginning: true,
      maxBytesPerPartition: 4 * 1024 * 1024,
    }),
    producer: createKafkaProducer({ ...kafkaOpts, compression: 'gzip' }),
    es: createEsClient({
      node: config.elasticsearch.url,
      requestTimeoutMs: config.elasticsearch.requestTimeoutMs,
      logger: logger.child({ stage: 'elasticsearch' }),
    }),
    ...(webhookSecret === undefined ? {} : { webhookSecret }),
    ensureTopics: config.kafka.ensureTopics
      ? () =>
          ensureTopics(kafkaOpts, [
            { topic: config.kafka.eventsTopic, partitions: config.kafka.partitions },
            {
              topic: config.kafka.policyTopic,
              compacted: true,
              config: { 'max.message.bytes': String(2 * 1024 * 1024) },
            },
            { topic: config.kafka.deadletterTopic, partitions: 1 },
            ...(config.alerts.enabled && config.alerts.kafka.enabled
              ? [{ topic: config.alerts.kafka.topic, partitions: 1 }]
              : []),
          ])
      : undefined,
  });

  const health = createHealthServer({
    port: config.http.port,
    host: config.http.host,
    registry: metrics.registry,
    isReady: () => app.ready(),
    extraRoutes: [
      { method: 'GET', url: '/policies', handler: () => ({ status: 200, body: app.policyStore.stats() }) },
    ],
  });

  return await runService({
    logger,
    budgetMs: config.shutdown.budgetMs,
    health,
    start: () => app.start(),
    steps: [
      ['unready', 'readyz', () => app.markUnready()],
      ['stopIntake', 'kafka-consumer', () => app.stopIntake()],
      ['drain', 'batches', () => app.drain()],
      ['flush', 'alerts', () => app.flush()],
      ['commit', 'kafka-offsets', () => app.disconnect()],
    ],
    flushLogs: () => flushLogger(logger),
  });
}
