import { ALERTS_TOPIC } from '@avcstream/alerts';
import { zBool, zBrokers, zHttpUrl, zInt, zList } from '@avcstream/config';
import { TOPICS } from '@avcstream/contracts';
import { z } from 'zod';

/**
 * The webhook alert sink: off without `url`. The HMAC secret comes from `secret` (env
 * `AVCSTREAM_ALERTS__WEBHOOK__SECRET` or the config file; never the command line, see main.ts) or from the file
 * `secretFile` (read by main.ts at start), exactly one of them.
 */
const webhookSchema = z
  .object({
    url: zHttpUrl().optional(),
    secret: z.string().min(1).max(4096).optional(),
    secretFile: z.string().min(1).max(4096).optional(),
    /** Per attempt. */
    timeoutMs: zInt(100, 120_000).default(5000),
    /** Attempts after the first (network errors, timeouts, 429, 5xx). */
    retries: zInt(0, 10).default(3),
  })
  .strict()
  .prefault({})
  .superRefine((w, ctx) => {
    const sources = (w.secret === undefined ? 0 : 1) + (w.secretFile === undefined ? 0 : 1);
    if (w.url !== undefined && sources === 0) {
      ctx.addIssue({
        code: 'custom',
        path: ['secret'],
        message:
          'alerts.webhook.url needs an HMAC secret: alerts.webhook.secret (env) or alerts.webhook.secretFile',
      });
    }
    if (sources > 1) {
      ctx.addIssue({
        code: 'custom',
        path: ['secretFile'],
        message: 'set alerts.webhook.secret or alerts.webhook.secretFile, not both',
      });
    }
  });

/** The analyzer's config schema; `hostname` is injected by main.ts (pure). */
export function analyzerConfigSchema(hostname: string) {
  return z
    .object({
      analyzerId: z.string().min(1).max(128).default(`${hostname}-analyzer`),
      kafka: z
        .object({
          brokers: zBrokers().default(['127.0.0.1:9092']),
          clientId: z.string().min(1).default('avcstream-analyzer'),
          groupId: z.string().min(1).default('avcstream-analyzer'),
          eventsTopic: z.string().min(1).default(TOPICS.events),
          policyTopic: z.string().min(1).default(TOPICS.policy),
          deadletterTopic: z.string().min(1).default(TOPICS.deadletter),
          fromBeginning: zBool().default(true),
          ensureTopics: zBool().default(true),
          partitions: zInt(1, 1024).default(3),
          maxBytesPerPartition: zInt(64 * 1024, 64 * 1024 * 1024).default(1024 * 1024),
          /** A crashed member holds its partitions this long (the broker allows 6 s .. 300 s by default). */
          sessionTimeoutMs: zInt(6000, 300_000).default(30_000),
          heartbeatIntervalMs: zInt(500, 60_000).default(3000),
          /**
           * `/readyz` answers 503 while a consumer has not heard from the broker for this long (at least twice
           * `heartbeatIntervalMs`): kafkajs retries a broker that is down inside its loop, without an error.
           */
          contactStaleMs: zInt(1000, 3_600_000).default(15_000),
          /**
           * `/readyz` answers 503 while a producer send (a dead letter, with its retries) has been pending
           * longer than this: kafkajs retries inside `send` while the broker is down, so a send that never
           * returns is the sign (as the ingester's `kafka.sendStallMs`).
           */
          sendStallMs: zInt(100, 3_600_000).default(10_000),
        })
        .strict()
        .prefault({}),
      elasticsearch: z
        .object({
          url: zHttpUrl().default('http://127.0.0.1:9200'),
          indexPrefix: z
            .string()
            .regex(/^[a-z0-9][a-z0-9_.-]{0,100}$/)
            .default('avcstream'),
          requestTimeoutMs: zInt(1000, 600_000).default(30_000),
          /** Index with `refresh=wait_for` (tests; slower). */
          refreshWaitFor: zBool().default(false),
        })
        .strict()
        .prefault({}),
      processing: z
        .object({
          /** Kafka batches processed at once (across partitions). */
          maxInFlightBatches: zInt(1, 64).default(4),
          /** How long a message waits for its policy state to arrive on the policy topic. */
          policyWaitMs: zInt(0, 3_600_000).default(60_000),
          /** A state whose wait timed out is not waited for again for this long (unless it arrives); 0 = off. */
          policyMissTtlMs: zInt(0, 86_400_000).default(600_000),
          maxLoadedPolicies: zInt(1, 64).default(4),
        })
        .strict()
        .prefault({}),
      alerts: z
        .object({
          enabled: zBool().default(true),
          hostScope: zBool().default(true),
          rateLimitWindowMs: zInt(0, 86_400_000).default(60_000),
          /** An alert claimed but not delivered for this long (crashed analyzer) is taken over and redelivered. */
          leaseMs: zInt(1000, 86_400_000).default(60_000),
          ignore: zList(z.string().min(1).max(1024)).default([]),
          /** Also POST each alert (JSON, HMAC-signed) to a webhook; off by default. */
          webhook: webhookSchema,
          /** Also publish each alert on a Kafka topic (the analyzer's producer); off by default. */
          kafka: z
            .object({
              enabled: zBool().default(false),
              topic: z
                .string()
                .regex(/^[A-Za-z0-9._-]{1,249}$/, 'expected a Kafka topic name')
                .default(ALERTS_TOPIC),
            })
            .strict()
            .prefault({}),
        })
        .strict()
        .prefault({}),
      http: z
        .object({
          port: zInt(0, 65535).default(9465),
          host: z.string().min(1).default('127.0.0.1'),
        })
        .strict()
        .prefault({}),
      shutdown: z
        .object({ budgetMs: zInt(100, 600_000).default(20_000), drainMs: zInt(0, 600_000).default(10_000) })
        .strict()
        .prefault({}),
    })
    .strict();
}

export type AnalyzerConfig = z.output<ReturnType<typeof analyzerConfigSchema>>;
