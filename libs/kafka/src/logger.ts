import { logLevel, type logCreator } from 'kafkajs';

/** The logging surface the adapters need (pino's Logger satisfies it). Messages are constant sentences. */
export interface KafkaLogger {
  debug(obj: Record<string, unknown>, msg: string): void;
  info(obj: Record<string, unknown>, msg: string): void;
  warn(obj: Record<string, unknown>, msg: string): void;
  error(obj: Record<string, unknown>, msg: string): void;
}

/** A logger that drops everything (the default: kafkajs is silent unless a logger is passed). */
export const silentLogger: KafkaLogger = {
  debug() {},
  info() {},
  warn() {},
  error() {},
};

/**
 * Routes kafkajs' own log lines into our logger with one constant message. kafkajs' text goes into fields.
 * kafkajs logs expected transient conditions (broker restarts, rebalances) at ERROR; they are reported at
 * warn here, because the adapters retry them and surface real failures as AvcErrors.
 */
export function kafkajsLogCreator(logger: KafkaLogger): logCreator {
  return () =>
    ({ namespace, level, log }) => {
      const {
        message,
        timestamp: _ts,
        logger: _l,
        ...rest
      } = log as { message?: unknown } & Record<string, unknown>;
      const fields: Record<string, unknown> = { kafkaNamespace: namespace, kafkaMessage: message };
      for (const [k, v] of Object.entries(rest)) {
        if (k === 'stack') continue;
        fields[`kafka_${k}`] = v;
      }
      if (level === logLevel.ERROR || level === logLevel.WARN)
        logger.warn(fields, 'kafka client reported a problem');
      else logger.debug(fields, 'kafka client log');
    };
}

/** kafkajs log level to run at: WARN unless AVCSTREAM_KAFKA_CLIENT_DEBUG is set. */
export function kafkajsLevel(): logLevel {
  return process.env.AVCSTREAM_KAFKA_CLIENT_DEBUG ? logLevel.DEBUG : logLevel.WARN;
}
