import { ConfigError, loadConfig, redactConfig } from '@avcstream/config';
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

describe('analyzer config: alert sinks', () => {
  const load = (env: Record<string, string>, argv: string[] = []) =>
    loadConfig(analyzerConfigSchema('h'), env, argv);

  it('adds no sink by default: no webhook URL, the Kafka sink off, its topic avcstream.alerts.v1', () => {
    const c = load({});
    expect(c.alerts.webhook.url).toBeUndefined();
    expect(c.alerts.webhook.secret).toBeUndefined();
    expect(c.alerts.webhook.secretFile).toBeUndefined();
    expect(c.alerts.webhook.timeoutMs).toBe(5000);
    expect(c.alerts.webhook.retries).toBe(3);
    expect(c.alerts.kafka).toEqual({ enabled: false, topic: 'avcstream.alerts.v1' });
  });

  it('reads both sinks from AVCSTREAM_ALERTS__* env vars', () => {
    const c = load({
      AVCSTREAM_ALERTS__WEBHOOK__URL: 'https://hooks.example.com/avc',
      AVCSTREAM_ALERTS__WEBHOOK__SECRET: 's3cret',
      AVCSTREAM_ALERTS__WEBHOOK__TIMEOUT_MS: '2000',
      AVCSTREAM_ALERTS__WEBHOOK__RETRIES: '0',
      AVCSTREAM_ALERTS__KAFKA__ENABLED: 'true',
      AVCSTREAM_ALERTS__KAFKA__TOPIC: 'site1.alerts',
    });
    expect(c.alerts.webhook).toEqual({
      url: 'https://hooks.example.com/avc',
      secret: 's3cret',
      timeoutMs: 2000,
      retries: 0,
    });
    expect(c.alerts.kafka).toEqual({ enabled: true, topic: 'site1.alerts' });
    expect(load({ AVCSTREAM_ALERTS__KAFKA__ENABLED: 'false' }).alerts.kafka.enabled).toBe(false);
    expect(
      load({
        AVCSTREAM_ALERTS__WEBHOOK__URL: 'http://127.0.0.1:8080/',
        AVCSTREAM_ALERTS__WEBHOOK__SECRET_FILE: '/run/secrets/webhook',
      }).alerts.webhook.secretFile,
    ).toBe('/run/secrets/webhook');
  });

  it.each([
    [{ AVCSTREAM_ALERTS__WEBHOOK__URL: 'https://hooks.example.com/avc' }, 'HMAC secret'],
    [
      {
        AVCSTREAM_ALERTS__WEBHOOK__URL: 'https://hooks.example.com/avc',
        AVCSTREAM_ALERTS__WEBHOOK__SECRET: 's',
        AVCSTREAM_ALERTS__WEBHOOK__SECRET_FILE: '/run/secrets/webhook',
      },
      'not both',
    ],
    [
      { AVCSTREAM_ALERTS__WEBHOOK__URL: 'ftp://hooks.example.com/', AVCSTREAM_ALERTS__WEBHOOK__SECRET: 's' },
      'http',
    ],
    [{ AVCSTREAM_ALERTS__WEBHOOK__SECRET: '' }, 'secret'],
    [{ AVCSTREAM_ALERTS__KAFKA__ENABLED: 'maybe' }, 'enabled'],
    [{ AVCSTREAM_ALERTS__KAFKA__TOPIC: 'bad topic/name' }, 'Kafka topic name'],
    [{ AVCSTREAM_ALERTS__WEBHOOK__HEADERS: 'x' }, 'headers'],
  ])('%o is a ConfigError (%s)', (env, msg) => {
    expect(() => load(env)).toThrow(ConfigError);
    expect(() => load(env)).toThrow(msg);
  });

  it('the logged config never holds the webhook secret or the URL path', () => {
    const c = load({
      AVCSTREAM_ALERTS__WEBHOOK__URL: 'https://hooks.example.com/avc',
      AVCSTREAM_ALERTS__WEBHOOK__SECRET: 'hunter2-secret-value',
    });
    const logged = JSON.stringify(redactConfig(c));
    expect(logged).not.toContain('hunter2-secret-value');
    // The host stays; the path, where webhook services put their tokens, does not.
    expect(logged).toContain('https://hooks.example.com/[redacted]');
    expect(logged).not.toContain('hooks.example.com/avc');
  });
});
