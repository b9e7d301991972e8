import { zBool, zBrokers, zInt } from '@avcstream/config';
import { TOPICS } from '@avcstream/contracts';
import { z } from 'zod';

/** The ingester's config schema. `hostname` is injected (main.ts passes `os.hostname()`), keeping it pure. */
export function ingesterConfigSchema(hostname: string) {
  return z
    .object({
      host: z.string().min(1).max(255).default(hostname),
      ingesterId: z.string().min(1).max(128).default(`${hostname}-ingester`),
      tail: z
        .object({
          path: z.string().min(1).default('/var/log/audit/audit.log'),
          startAt: z.enum(['beginning', 'end']).default('beginning'),
          checkpointPath: z.string().min(1).default('/var/lib/avcstream/ingester.checkpoint.json'),
          pollIntervalMs: zInt(0, 60_000).default(1000),
          chunkBytes: zInt(4096, 16 * 1024 * 1024).default(1024 * 1024),
          watch: zBool().default(true),
        })
        .strict()
        .prefault({}),
      decoder: z
        .object({
          horizonMs: zInt(0, 600_000).default(2000),
          /** How often the idle flush closes quiet events (wall clock). */
          idleFlushMs: zInt(50, 60_000).default(500),
          maxLineBytes: zInt(1024, 16 * 1024 * 1024).default(1024 * 1024),
          /** Resolve uid/gid to names from the local passwd/group files (only on the host that wrote the log). */
          resolveIds: zBool().default(false),
          passwdPath: z.string().min(1).default('/etc/passwd'),
          groupPath: z.string().min(1).default('/etc/group'),
        })
        .strict()
        .prefault({}),
      filter: z
        .object({ mode: z.enum(['selinux', 'all']).default('selinux') })
        .strict()
        .prefault({}),
      kafka: z
        .object({
          brokers: zBrokers().default(['127.0.0.1:9092']),
          clientId: z.string().min(1).default('avcstream-ingester'),
          eventsTopic: z.string().min(1).default(TOPICS.events),
          policyTopic: z.string().min(1).default(TOPICS.policy),
          deadletterTopic: z.string().min(1).default(TOPICS.deadletter),
          compression: z.enum(['gzip', 'none']).default('gzip'),
          /**
           * `/readyz` answers 503 while a send (with its retries) has been pending longer than this: kafkajs
           * retries inside `send` while the broker is down, so a send that never returns is the sign.
           */
          sendStallMs: zInt(100, 3_600_000).default(10_000),
          /**
           * `envelope`: zod on the envelope + the size bounds of every record (our own parser made them);
           * `full`: the whole zod schema (slower). Consumers always validate in full.
           */
          validate: z.enum(['envelope', 'full']).default('envelope'),
          ensureTopics: zBool().default(true),
          partitions: zInt(1, 1024).default(3),
        })
        .strict()
        .prefault({}),
      backpressure: z
        .object({
          /** Stop reading while this many bytes of the file are read but not acked by Kafka. */
          highWaterBytes: zInt(64 * 1024, 1024 * 1024 * 1024).default(8 * 1024 * 1024),
          /** Batches sent to Kafka and not yet acked. */
          maxInFlightBatches: zInt(1, 64).default(4),
          /** Most messages per producer send. */
          maxBatchMessages: zInt(1, 100_000).default(5000),
          /**
           * Most uncompressed bytes per producer send. The broker limits the compressed batch
           * (`message.max.bytes`, 1 MiB by default); gzip shrinks audit JSON 5-10x.
           */
          maxBatchBytes: zInt(64 * 1024, 64 * 1024 * 1024).default(2 * 1024 * 1024),
        })
        .strict()
        .prefault({}),
      policy: z
        .object({
          enabled: zBool().default(true),
          policyPath: z.string().min(1).default('/sys/fs/selinux/policy'),
          booleansPath: z.string().min(1).default('/sys/fs/selinux/booleans'),
          enforcePath: z.string().min(1).default('/sys/fs/selinux/enforce'),
          /**
           * The host's file_contexts, sent with the policy for restorecon advice: a path, `none`, or `auto`
           * (the one of the policy's type, /etc/selinux/TYPE/contexts/files/file_contexts).
           */
          fileContextsPath: z.string().min(1).default('auto'),
          chunkBytes: zInt(1024, 512 * 1024).default(512 * 1024),
        })
        .strict()
        .prefault({}),
      http: z
        .object({
          port: zInt(0, 65535).default(9464),
          host: z.string().min(1).default('127.0.0.1'),
        })
        .strict()
        .prefault({}),
      shutdown: z
        .object({ budgetMs: zInt(100, 600_000).default(15_000) })
        .strict()
        .prefault({}),
    })
    .strict();
}

export type IngesterConfig = z.output<ReturnType<typeof ingesterConfigSchema>>;
