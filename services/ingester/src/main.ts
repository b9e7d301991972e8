// Impure wiring of the ingester daemon: config, logger, metrics, Kafka, tail, signals.
import { mkdirSync } from 'node:fs';
import { hostname } from 'node:os';
import { dirname } from 'node:path';
import { CONFIG_EXIT_CODE, ConfigError, loadServiceConfig, redactConfig } from '@avcstream/config';
import { createKafkaProducer, ensureTopics } from '@avcstream/kafka';
import { runService } from '@avcstream/pipeline';
import { createFileCheckpointStore, createTail } from '@avcstream/tail';
import {
  createHealthServer,
  createLogger,
  createMetrics,
  flushLogger,
  routeProcessWarnings,
} from '@avcstream/telemetry';
import { createApp } from './app.ts';
import { type IngesterConfig, ingesterConfigSchema } from './config.ts';
import { loadIdResolver } from './id-names.ts';
import { readPolicySnapshot } from './policy-snapshot.ts';

export interface DaemonIo {
  stdout?: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
}

export const INGESTER_HELP = `Usage: avcstream ingester [--config file.json] [--path.to.key=value ...]

Follows audit.log, publishes SELinux events to Kafka (avcstream.events.v1), policy snapshots
(avcstream.policy.v1) and malformed lines (avcstream.deadletter.v1). Keys (env AVCSTREAM_<A>__<B>):
  --host, --ingesterId, --tail.path, --tail.startAt=beginning|end, --tail.checkpointPath,
  --filter.mode=selinux|all, --kafka.brokers=a:9092,b:9092, --policy.policyPath, --policy.booleansPath,
  --policy.enforcePath, --policy.enabled, --backpressure.highWaterBytes, --http.port, --shutdown.budgetMs
See services/ingester/README.md.
`;

/** Run the ingester until SIGTERM/SIGINT. Resolves with the exit code. */
export async function runIngester(argv: readonly string[], io: DaemonIo): Promise<number> {
  if (argv.includes('--help') || argv.includes('-h')) {
    (io.stdout ?? io.stderr).write(INGESTER_HELP);
    return 0;
  }
  let config: IngesterConfig;
  try {
    config = loadServiceConfig(ingesterConfigSchema(hostname()), argv, process.env);
  } catch (err) {
    if (err instanceof ConfigError) {
      io.stderr.write(`avcstream ingester: ${err.message}\n`);
      return CONFIG_EXIT_CODE;
    }
    throw err;
  }

  const logger = createLogger({ component: 'ingester' });
  // kafkajs under Node 24 triggers TimeoutNegativeWarning: keep stderr/stdout JSON only.
  routeProcessWarnings(logger);
  logger.info({ config: redactConfig(config) }, 'configuration loaded');
  const metrics = createMetrics({ component: 'ingester' });
  mkdirSync(dirname(config.tail.checkpointPath), { recursive: true });

  const kafkaOpts = {
    brokers: config.kafka.brokers,
    clientId: config.kafka.clientId,
    logger: logger.child({ stage: 'kafka' }),
  };
  const producer = createKafkaProducer({ ...kafkaOpts, compression: config.kafka.compression });
  const app = createApp({
    config,
    logger,
    metrics,
    producer,
    createTail,
    checkpoints: createFileCheckpointStore(config.tail.checkpointPath),
    readSnapshot: () => readPolicySnapshot(config.policy),
    ...(config.decoder.resolveIds
      ? { resolveIds: loadIdResolver(config.decoder.passwdPath, config.decoder.groupPath) }
      : {}),
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
          ])
      : undefined,
  });

  const health = createHealthServer({
    port: config.http.port,
    host: config.http.host,
    registry: metrics.registry,
    isReady: () => app.ready(),
  });

  return await runService({
    logger,
    budgetMs: config.shutdown.budgetMs,
    health,
    start: () => app.start(),
    steps: [
      ['unready', 'readyz', () => app.markUnready()],
      ['stopIntake', 'tail', () => app.stopIntake()],
      ['drain', 'kafka-inflight', () => app.drain()],
      ['commit', 'checkpoint', () => app.commit()],
      ['disconnect', 'kafka', () => app.disconnect()],
    ],
    flushLogs: () => flushLogger(logger),
  });
}
