import { ConfigError, loadConfig } from '@avcstream/config';
import { describe, expect, it } from 'vitest';
import { analyzerConfigSchema } from './config.ts';

describe('analyzer config', () => {
  it.each([
    ['--kafka.brokers='],
    ['--kafka.brokers=localhost'],
    ['--elasticsearch.url=notaurl'],
    ['--http.port='],
  ])('%s is a ConfigError, not a crash or a silent 0', (arg) => {
    expect(() => loadConfig(analyzerConfigSchema('h'), {}, [arg])).toThrow(ConfigError);
  });
});
