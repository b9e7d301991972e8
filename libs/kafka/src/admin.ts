import { createKafkaClient, type KafkaConnectionOptions } from './client.ts';
import { kafkaError } from './errors.ts';

export interface TopicSpec {
  topic: string;
  /** Default 1. Never lowered for an existing topic; raised when the topic has fewer. */
  partitions?: number;
  /** Default -1: the broker's `default.replication.factor`. */
  replicationFactor?: number;
  /** `cleanup.policy=compact` (for the policy-by-hash topic). */
  compacted?: boolean;
  /** Extra topic configs, e.g. `{ 'max.message.bytes': '10485760' }`. */
  config?: Record<string, string>;
}

export interface PartitionOffset {
  partition: number;
  /** Decimal string; for committed offsets, '-1' when the group has none. */
  offset: string;
}

async function withAdmin<T>(
  options: KafkaConnectionOptions,
  fn: (admin: ReturnType<ReturnType<typeof createKafkaClient>['admin']>) => Promise<T>,
): Promise<T> {
  const admin = createKafkaClient(options).admin();
  try {
    await admin.connect();
  } catch (err) {
    throw kafkaError('AVC_ERR_KAFKA_CONNECT_FAILED', 'cannot connect the Kafka admin client', err, {
      brokers: options.brokers,
    });
  }
  try {
    return await fn(admin);
  } finally {
    await admin.disconnect();
  }
}

/**
 * Creates the topics that do not exist (waiting for their leaders) and raises partition counts that are
 * too low. Existing topic configs are left alone. Idempotent; safe to call at every service start.
 */
export async function ensureTopics(
  options: KafkaConnectionOptions,
  topics: readonly TopicSpec[],
): Promise<void> {
  if (topics.length === 0) return;
  await withAdmin(options, async (admin) => {
    try {
      const existing = new Set(await admin.listTopics());
      const missing = topics.filter((t) => !existing.has(t.topic));
      if (missing.length > 0) {
        await admin.createTopics({
          waitForLeaders: true,
          topics: missing.map((t) => {
            const cfg: Record<string, string> = { ...(t.config ?? {}) };
            if (t.compacted) cfg['cleanup.policy'] = 'compact';
            return {
              topic: t.topic,
              numPartitions: t.partitions ?? 1,
              replicationFactor: t.replicationFactor ?? -1,
              configEntries: Object.entries(cfg).map(([name, value]) => ({ name, value })),
            };
          }),
        });
      }
      const present = topics.filter((t) => existing.has(t.topic) && (t.partitions ?? 1) > 1);
      if (present.length > 0) {
        const meta = await admin.fetchTopicMetadata({ topics: present.map((t) => t.topic) });
        const grow = present.flatMap((t) => {
          const have = meta.topics.find((m) => m.name === t.topic)?.partitions.length ?? 0;
          const want = t.partitions ?? 1;
          return have > 0 && have < want ? [{ topic: t.topic, count: want }] : [];
        });
        if (grow.length > 0) await admin.createPartitions({ topicPartitions: grow, validateOnly: false });
      }
    } catch (err) {
      throw kafkaError('AVC_ERR_KAFKA_TOPICS_FAILED', 'cannot create or check Kafka topics', err, {
        topics: topics.map((t) => t.topic),
      });
    }
  });
}

/** Deletes topics (tests only); missing topics are ignored. */
export async function deleteTopics(
  options: KafkaConnectionOptions,
  topics: readonly string[],
): Promise<void> {
  if (topics.length === 0) return;
  await withAdmin(options, async (admin) => {
    const existing = new Set(await admin.listTopics());
    const present = topics.filter((t) => existing.has(t));
    if (present.length > 0) await admin.deleteTopics({ topics: present });
  });
}

/** The offsets a consumer group has committed on a topic, per partition (tests, lag reports). */
export async function committedOffsets(
  options: KafkaConnectionOptions,
  groupId: string,
  topic: string,
): Promise<PartitionOffset[]> {
  return withAdmin(options, async (admin) => {
    const res = await admin.fetchOffsets({ groupId, topics: [topic] });
    const parts = res.find((r) => r.topic === topic)?.partitions ?? [];
    return parts
      .map((p) => ({ partition: p.partition, offset: p.offset }))
      .sort((a, b) => a.partition - b.partition);
  });
}

/** The end (high-watermark) offsets of a topic, per partition. */
export async function endOffsets(options: KafkaConnectionOptions, topic: string): Promise<PartitionOffset[]> {
  return withAdmin(options, async (admin) => {
    const res = await admin.fetchTopicOffsets(topic);
    return res
      .map((p) => ({ partition: p.partition, offset: p.high }))
      .sort((a, b) => a.partition - b.partition);
  });
}

/** Resolves when the cluster answers a metadata request (used by testkit and readiness checks). */
export async function pingKafka(
  options: KafkaConnectionOptions,
): Promise<{ brokers: number; controller: number | null }> {
  return withAdmin(options, async (admin) => {
    const c = await admin.describeCluster();
    return { brokers: c.brokers.length, controller: c.controller };
  });
}
