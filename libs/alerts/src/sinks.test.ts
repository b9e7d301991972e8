import { describe, expect, it } from 'vitest';
import { createAlerter } from './alerter.ts';
import { createMemoryRegistry } from './registry.ts';
import { ALERT_LOG_MESSAGE, createLogSink, REPEAT_LOG_MESSAGE } from './sinks.ts';
import type { DenialContext } from './types.ts';

const denial = (serial: number, time: string): DenialContext => ({
  host: 'web1',
  time,
  serial,
  avc: {
    decision: 'denied',
    perms: ['read'],
    scontext: { type: 'httpd_t', raw: 'system_u:system_r:httpd_t:s0' },
    tcontext: { type: 'shadow_t', raw: 'system_u:object_r:shadow_t:s0' },
    tclass: 'file',
    permissive: false,
  },
  pid: 42,
  comm: 'httpd',
  exe: '/usr/sbin/httpd',
  path: '/etc/shadow',
});

/** A pino-like logger that records the level each line was written at. */
function recordingLogger() {
  const lines: Array<{ level: string; obj: object; msg: string }> = [];
  const at = (level: string) => (obj: object, msg: string) => void lines.push({ level, obj, msg });
  return {
    lines,
    logger: {
      trace: at('trace'),
      debug: at('debug'),
      info: at('info'),
      warn: at('warn'),
      error: at('error'),
      fatal: at('fatal'),
    },
  };
}

describe('createLogSink', () => {
  it("writes each alert at warn (shown at run's default level, warn), constant messages, the alert in fields", async () => {
    const { lines, logger } = recordingLogger();
    const alerter = createAlerter({
      registry: createMemoryRegistry(),
      sinks: [createLogSink(logger)],
      windowClock: 'event',
      rateLimitWindowMs: 1000,
    });
    await alerter.process(denial(1, '2026-03-01T10:00:00.000Z'), null);
    await alerter.process(denial(2, '2026-03-01T10:00:00.500Z'), null);
    await alerter.flush(true);
    expect(lines.map((l) => [l.level, l.msg])).toEqual([
      ['warn', ALERT_LOG_MESSAGE],
      ['warn', REPEAT_LOG_MESSAGE],
    ]);
    expect(lines[0]!.obj).toMatchObject({ alert: { kind: 'new-signature', event: { path: '/etc/shadow' } } });
    expect(lines[1]!.obj).toMatchObject({ alert: { kind: 'repeat', count: 1 } });
  });
});
