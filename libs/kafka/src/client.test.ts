import { logLevel } from 'kafkajs';
import { describe, expect, it } from 'vitest';
import { parseBrokers } from './client.ts';
import { kafkajsLogCreator } from './logger.ts';

describe('parseBrokers', () => {
  it('splits, trims and drops empty entries', () => {
    expect(parseBrokers(' a:1, b:2 ,,')).toEqual(['a:1', 'b:2']);
    expect(parseBrokers('')).toEqual([]);
  });
});

describe('kafkajsLogCreator', () => {
  it('routes kafkajs lines into fields under constant messages, errors as warn', () => {
    const seen: Array<[string, Record<string, unknown>, string]> = [];
    const rec =
      (level: string) =>
      (obj: Record<string, unknown>, msg: string): void => {
        seen.push([level, obj, msg]);
      };
    const log = kafkajsLogCreator({
      debug: rec('debug'),
      info: rec('info'),
      warn: rec('warn'),
      error: rec('error'),
    })(logLevel.INFO);
    log({
      namespace: 'Connection',
      level: logLevel.ERROR,
      label: 'ERROR',
      log: { message: 'boom <x>', timestamp: 't', broker: 'b:1' },
    });
    log({
      namespace: 'Runner',
      level: logLevel.INFO,
      label: 'INFO',
      log: { message: 'joined', timestamp: 't' },
    });
    expect(seen).toEqual([
      [
        'warn',
        { kafkaNamespace: 'Connection', kafkaMessage: 'boom <x>', kafka_broker: 'b:1' },
        'kafka client reported a problem',
      ],
      ['debug', { kafkaNamespace: 'Runner', kafkaMessage: 'joined' }, 'kafka client log'],
    ]);
  });
});
