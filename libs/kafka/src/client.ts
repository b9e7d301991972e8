import { Kafka } from 'kafkajs';
import { type KafkaLogger, kafkajsLevel, kafkajsLogCreator, silentLogger } from './logger.ts';

/** Connection options shared by producer, consumer and admin. */
export interface KafkaConnectionOptions {
  /** `host:port` list, e.g. `['127.0.0.1:19092']`. */
  brokers: readonly string[];
  clientId?: string;
  logger?: KafkaLogger;
  /** TCP connect timeout (default 3000). */
  connectionTimeoutMs?: number;
  /** Request timeout (default 30000). */
  requestTimeoutMs?: number;
}

export function createKafkaClient(options: KafkaConnectionOptions): Kafka {
  if (options.brokers.length === 0) throw new RangeError('brokers must not be empty');
  return new Kafka({
    brokers: [...options.brokers],
    clientId: options.clientId ?? 'avcstream',
    connectionTimeout: options.connectionTimeoutMs ?? 3000,
    requestTimeout: options.requestTimeoutMs ?? 30000,
    logLevel: kafkajsLevel(),
    logCreator: kafkajsLogCreator(options.logger ?? silentLogger),
    retry: { initialRetryTime: 300, maxRetryTime: 5000, retries: 8 },
  });
}

/** `KAFKA_BROKERS`-style list (`a:1,b:2`) to an array. */
export function parseBrokers(list: string): string[] {
  return list
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
}
