import { CompressionTypes, Partitioners, type Producer } from 'kafkajs';
import { createKafkaClient, type KafkaConnectionOptions } from './client.ts';
import { kafkaError } from './errors.ts';

/** One message to publish. `value` strings are sent as UTF-8. */
export interface KafkaMessage {
  key: string;
  value: Buffer | string;
  headers?: Record<string, string>;
}

export interface KafkaProducerOptions extends KafkaConnectionOptions {
  clientId: string;
  /** Compression of each produced batch (default gzip; the only codec kafkajs has without native deps). */
  compression?: 'gzip' | 'none';
  /** Time the broker waits for the in-sync replicas (default 30000). */
  ackTimeoutMs?: number;
  /**
   * Retries of a retriable send error (default unbounded, as the idempotent producer needs for its
   * no-duplicate guarantee: `send` then waits out a Kafka restart). Backoff grows to `maxRetryTimeMs`.
   */
  sendRetries?: number;
  /** Cap of the retry backoff (default 5000). */
  maxRetryTimeMs?: number;
}

export interface KafkaProducer {
  connect(): Promise<void>;
  /**
   * Resolves once every message is acked by all in-sync replicas (acks=all). Idempotent producer: retries of
   * transient errors (broker restart, leader change) never duplicate. Rejects with an AvcError
   * (`AVC_ERR_KAFKA_SEND_FAILED`) on a non-retriable error; `retriable` tells whether to try again.
   */
  send(topic: string, messages: readonly KafkaMessage[]): Promise<void>;
  disconnect(): Promise<void>;
}

export function createKafkaProducer(options: KafkaProducerOptions): KafkaProducer {
  const kafka = createKafkaClient(options);
  const producer: Producer = kafka.producer({
    idempotent: true,
    maxInFlightRequests: 1,
    allowAutoTopicCreation: false,
    createPartitioner: Partitioners.DefaultPartitioner,
    retry: {
      initialRetryTime: 300,
      maxRetryTime: options.maxRetryTimeMs ?? 5000,
      retries: options.sendRetries ?? Number.MAX_SAFE_INTEGER,
    },
  });
  const compression = options.compression === 'none' ? CompressionTypes.None : CompressionTypes.GZIP;
  const timeout = options.ackTimeoutMs ?? 30000;
  let connected = false;

  return {
    async connect() {
      try {
        await producer.connect();
        connected = true;
      } catch (err) {
        throw kafkaError('AVC_ERR_KAFKA_CONNECT_FAILED', 'cannot connect the Kafka producer', err, {
          brokers: options.brokers,
        });
      }
    },
    async send(topic, messages) {
      if (!connected)
        throw kafkaError('AVC_ERR_KAFKA_NOT_CONNECTED', 'producer.send before connect', undefined);
      if (messages.length === 0) return;
      try {
        await producer.send({
          topic,
          acks: -1,
          timeout,
          compression,
          messages: messages.map((m) => ({
            key: m.key,
            value: m.value,
            headers: m.headers ? { ...m.headers } : {},
          })),
        });
      } catch (err) {
        throw kafkaError('AVC_ERR_KAFKA_SEND_FAILED', 'Kafka did not ack the messages', err, {
          topic,
          messages: messages.length,
        });
      }
    },
    async disconnect() {
      connected = false;
      await producer.disconnect();
    },
  };
}
