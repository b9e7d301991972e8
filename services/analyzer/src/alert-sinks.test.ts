import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, loadConfig } from '@avcstream/config';
import { afterAll, describe, expect, it } from 'vitest';
import { createAlertSinks, readWebhookSecret } from './alert-sinks.ts';
import { analyzerConfigSchema } from './config.ts';

const dir = mkdtempSync(join(tmpdir(), 'avc-analyzer-secret-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function file(name: string, content: string | Buffer): string {
  const p = join(dir, name);
  writeFileSync(p, content);
  return p;
}

describe('readWebhookSecret', () => {
  it("reads the file's content without its trailing newline (LF or CRLF), keeping the rest as is", () => {
    expect(readWebhookSecret(file('lf', 's3cret\n'))).toBe('s3cret');
    expect(readWebhookSecret(file('crlf', 's3cret\r\n'))).toBe('s3cret');
    expect(readWebhookSecret(file('none', ' a b '))).toBe(' a b ');
  });

  it('a missing, empty or oversized file is a ConfigError naming the path, never the content', () => {
    const missing = join(dir, 'missing');
    expect(() => readWebhookSecret(missing)).toThrow(ConfigError);
    expect(() => readWebhookSecret(missing)).toThrow(`${missing}: ENOENT`);
    expect(() => readWebhookSecret(file('empty', '\n'))).toThrow('is empty');
    const big = file('big', `hunter2${'x'.repeat(64 * 1024)}`);
    expect(() => readWebhookSecret(big)).toThrow('larger than 64 KiB');
    try {
      readWebhookSecret(big);
    } catch (err) {
      expect((err as Error).message).not.toContain('hunter2');
    }
  });
});

describe('createAlertSinks', () => {
  const producer = { send: async () => {} };
  const logger = { warn() {} };
  const alerts = (argv: string[]) => loadConfig(analyzerConfigSchema('h'), {}, argv).alerts;

  it('is the log sink alone by default', () => {
    expect(createAlertSinks({ alerts: alerts([]), logger, producer }).map((s) => s.name)).toEqual(['log']);
  });

  it('adds the webhook with a URL and the Kafka sink when enabled, in that order', () => {
    const sinks = createAlertSinks({
      alerts: alerts([
        '--alerts.kafka.enabled=true',
        '--alerts.webhook.url=http://127.0.0.1:1/hook',
        '--alerts.webhook.secretFile=/run/secrets/hook',
      ]),
      logger,
      producer,
      webhookSecret: 'from-file',
    });
    expect(sinks.map((s) => s.name)).toEqual(['log', 'webhook', 'kafka']);
  });

  it('a secret file that was not read is a ConfigError, not an unsigned webhook', () => {
    expect(() =>
      createAlertSinks({
        alerts: alerts(['--alerts.webhook.url=http://127.0.0.1:1/hook', '--alerts.webhook.secretFile=/x']),
        logger,
        producer,
      }),
    ).toThrow(ConfigError);
  });
});
