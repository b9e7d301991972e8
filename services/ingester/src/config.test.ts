import { ConfigError, loadConfig } from '@avcstream/config';
import { describe, expect, it } from 'vitest';
import { ingesterConfigSchema } from './config.ts';

describe('ingester config', () => {
  it.each([
    ['--kafka.brokers='],
    ['--kafka.brokers=localhost'],
    ['--http.port='],
    ['--tail.pollIntervalMs='],
  ])('%s is a ConfigError, not a crash or a silent 0', (arg) => {
    expect(() => loadConfig(ingesterConfigSchema('h'), {}, ['--tail.path=/x', arg])).toThrow(ConfigError);
  });
});
