import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import {
  argvToObject,
  ConfigError,
  envToObject,
  loadConfig,
  redactConfig,
  zBool,
  zBrokers,
  zHttpUrl,
  zInt,
  zList,
} from './config.ts';
import { loadServiceConfig, readConfigFile, splitConfigArg } from './file.ts';

const kafkaFragment = z
  .object({
    brokers: zList(z.string().min(1)).default(['127.0.0.1:9092']),
    clientId: z.string().default('avcstream'),
    sasl: z.object({ password: z.string().optional() }).strict().default({}),
  })
  .strict();
const schema = z
  .object({
    kafka: kafkaFragment.default({ brokers: ['127.0.0.1:9092'], clientId: 'avcstream', sasl: {} }),
    tail: z
      .object({
        startAt: z.enum(['beginning', 'end']).default('beginning'),
        maxInFlightBytes: zInt(1, 1 << 30).default(1 << 20),
        followRotations: zBool().default(true),
      })
      .strict()
      .default({ startAt: 'beginning', maxInFlightBytes: 1 << 20, followRotations: true }),
  })
  .strict();

describe('env and argv', () => {
  it('maps AVCSTREAM_ with __ nesting to camelCase keys', () => {
    expect(
      envToObject({
        AVCSTREAM_KAFKA__CLIENT_ID: 'x',
        AVCSTREAM_TAIL__MAX_IN_FLIGHT_BYTES: '5',
        PATH: '/bin',
        AVCSTREAM_LOG_LEVEL: 'debug',
      }),
    ).toEqual({ kafka: { clientId: 'x' }, tail: { maxInFlightBytes: '5' } });
  });
  it('parses --a.b=v, --a.b v and bare flags', () => {
    expect(argvToObject(['--kafka.clientId=a', '--tail.startAt', 'end', '--tail.followRotations'])).toEqual({
      kafka: { clientId: 'a' },
      tail: { startAt: 'end', followRotations: 'true' },
    });
    expect(() => argvToObject(['positional'])).toThrow(ConfigError);
    expect(() => argvToObject(['--__proto__.x=1'])).toThrow(ConfigError);
  });
});

describe('loadConfig', () => {
  it('applies defaults and precedence file < env < argv, and freezes the result', () => {
    const cfg = loadConfig(
      schema,
      { AVCSTREAM_KAFKA__BROKERS: 'a:1,b:2', AVCSTREAM_TAIL__START_AT: 'end' },
      ['--tail.startAt=beginning'],
      { kafka: { clientId: 'fromfile' }, tail: { maxInFlightBytes: 42 } },
    );
    expect(cfg.kafka).toEqual({ brokers: ['a:1', 'b:2'], clientId: 'fromfile', sasl: {} });
    expect(cfg.tail).toEqual({ startAt: 'beginning', maxInFlightBytes: 42, followRotations: true });
    expect(Object.isFrozen(cfg.kafka)).toBe(true);
    expect(() => {
      (cfg.kafka as { clientId: string }).clientId = 'y';
    }).toThrow(TypeError);
  });
  it('ignores env sections the schema does not know (shared AVCSTREAM_ namespace), not typos inside known ones', () => {
    expect(loadConfig(schema, { AVCSTREAM_TESTKIT_MODE: 'local' }, []).kafka.clientId).toBe('avcstream');
    expect(() => loadConfig(schema, { AVCSTREAM_KAFKA__BROKRS: 'x' }, [])).toThrow(ConfigError);
  });
  it('reads "false" from env as false (stringbool, not coerce)', () => {
    const cfg = loadConfig(schema, { AVCSTREAM_TAIL__FOLLOW_ROTATIONS: 'false' }, []);
    expect(cfg.tail.followRotations).toBe(false);
  });
  it('rejects unknown keys and bad values with a ConfigError (exit code 78)', () => {
    const err = (() => {
      try {
        loadConfig(schema, { AVCSTREAM_TAIL__MAX_IN_FLIGHT_BYTES: 'lots' }, ['--kafka.typo=1']);
      } catch (e) {
        return e;
      }
      return undefined;
    })();
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).exitCode).toBe(78);
    expect((err as ConfigError).code).toBe('AVC_ERR_CONFIG_INVALID');
    expect((err as ConfigError).message).toContain('maxInFlightBytes');
    expect((err as ConfigError).message).toContain('typo');
    expect(() => loadConfig(schema, { AVCSTREAM_TAIL__FOLLOW_ROTATIONS: 'maybe' }, [])).toThrow(ConfigError);
  });
  it('is pure: does not read process.env', () => {
    process.env.AVCSTREAM_KAFKA__CLIENT_ID = 'leak';
    try {
      expect(loadConfig(schema, {}, []).kafka.clientId).toBe('avcstream');
    } finally {
      delete process.env.AVCSTREAM_KAFKA__CLIENT_ID;
    }
  });
});

describe('redactConfig and readConfigFile', () => {
  it('redacts secret keys and URL userinfo', () => {
    expect(
      redactConfig({
        kafka: { sasl: { password: 'p', username: 'u' } },
        es: { url: 'http://elastic:changeme@127.0.0.1:9200', apiKey: 'k' },
      }),
    ).toEqual({
      kafka: { sasl: { password: '[redacted]', username: 'u' } },
      es: { url: 'http://[redacted]@127.0.0.1:9200', apiKey: '[redacted]' },
    });
  });
  it("redacts a URL's path and query, where webhook services put their tokens", () => {
    expect(
      redactConfig({
        alerts: { webhook: { url: 'https://hooks.slack.com/services/T0/B0/XXXXSECRET' } },
        hook: 'https://example.com:8443/notify?token=abc&x=1#frag',
        es: { url: 'http://127.0.0.1:9200', other: 'http://127.0.0.1:9200/' },
        note: 'see https://u:p@h.example/a/b and http://h2.example/c?d',
        plain: 'no url here',
      }),
    ).toEqual({
      alerts: { webhook: { url: 'https://hooks.slack.com/[redacted]' } },
      hook: 'https://example.com:8443/[redacted]',
      es: { url: 'http://127.0.0.1:9200', other: 'http://127.0.0.1:9200/' },
      note: 'see https://[redacted]@h.example/[redacted] and http://h2.example/[redacted]',
      plain: 'no url here',
    });
  });
  it('reads JSON files and reports bad ones as ConfigError', () => {
    const dir = mkdtempSync(join(tmpdir(), 'cfg-'));
    writeFileSync(join(dir, 'ok.json'), '{"kafka":{"clientId":"f"}}');
    writeFileSync(join(dir, 'bad.json'), '{nope');
    expect(readConfigFile(join(dir, 'ok.json'))).toEqual({ kafka: { clientId: 'f' } });
    expect(readConfigFile(undefined)).toEqual({});
    expect(() => readConfigFile(join(dir, 'bad.json'))).toThrow(ConfigError);
    expect(() => readConfigFile(join(dir, 'missing.json'))).toThrow(ConfigError);
  });
});

describe('loadServiceConfig', () => {
  const schema = z
    .object({
      kafka: z
        .object({ brokers: z.string().default('a:1'), clientId: z.string().default('x') })
        .default({ brokers: 'a:1', clientId: 'x' }),
    })
    .strict();

  it('reads --config FILE and --config=FILE under env and the other options', () => {
    const dir = mkdtempSync(join(tmpdir(), 'avc-svc-'));
    const file = join(dir, 'c.json');
    writeFileSync(file, JSON.stringify({ kafka: { brokers: 'file:1', clientId: 'file' } }));
    expect(loadServiceConfig(schema, ['--config', file], {}).kafka).toEqual({
      brokers: 'file:1',
      clientId: 'file',
    });
    const c = loadServiceConfig(schema, [`--config=${file}`, '--kafka.clientId=cli'], {
      AVCSTREAM_KAFKA__BROKERS: 'env:1',
    });
    expect(c.kafka).toEqual({ brokers: 'env:1', clientId: 'cli' });
    expect(splitConfigArg(['--x=1', '--config', 'f', '--y=2'])).toEqual({
      configPath: 'f',
      rest: ['--x=1', '--y=2'],
    });
  });

  it('takes the file from AVCSTREAM_CONFIG when --config is absent', () => {
    expect(() => loadServiceConfig(schema, [], { AVCSTREAM_CONFIG: '/nonexistent/avc.json' })).toThrow(
      ConfigError,
    );
  });
});

describe('edge validation of values', () => {
  const parse = <S extends z.ZodType>(s: S, v: unknown) => s.safeParse(v).success;

  it('an empty or blank number is an error, not 0', () => {
    expect(parse(zInt(0, 65535), '')).toBe(false);
    expect(parse(zInt(0, 65535), '  ')).toBe(false);
    expect(parse(zInt(0, 65535), '12x')).toBe(false);
    expect(z.object({ n: zInt(0, 10).default(5) }).parse({ n: '7' })).toEqual({ n: 7 });
    expect(z.object({ n: zInt(0, 10).default(5) }).parse({})).toEqual({ n: 5 });
  });

  it('brokers: a non-empty list of host:port', () => {
    expect(parse(zBrokers(), '')).toBe(false);
    expect(parse(zBrokers(), ' , ')).toBe(false);
    expect(parse(zBrokers(), 'localhost')).toBe(false);
    expect(parse(zBrokers(), 'localhost:0')).toBe(false);
    expect(parse(zBrokers(), 'localhost:99999')).toBe(false);
    expect(zBrokers().parse('a:9092, 10.0.0.1:9093,[::1]:9094')).toEqual([
      'a:9092',
      '10.0.0.1:9093',
      '[::1]:9094',
    ]);
  });

  it('an http(s) URL', () => {
    expect(parse(zHttpUrl(), 'notaurl')).toBe(false);
    expect(parse(zHttpUrl(), 'ftp://x')).toBe(false);
    expect(parse(zHttpUrl(), '')).toBe(false);
    expect(zHttpUrl().parse('https://elastic:pw@es.example:9200')).toBe('https://elastic:pw@es.example:9200');
  });

  it('loadConfig reports them as a ConfigError', () => {
    const s = z.object({
      kafka: z
        .object({ brokers: zBrokers().default(['a:1']) })
        .strict()
        .default({ brokers: ['a:1'] }),
    });
    expect(() => loadConfig(s, {}, ['--kafka.brokers='])).toThrow(ConfigError);
    expect(() => loadConfig(s, { AVCSTREAM_KAFKA__BROKERS: ' , ' }, [])).toThrow(ConfigError);
  });
});
