import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createHealthServer } from './health.ts';
import { createLogger, createLogRateLimiter } from './logger.ts';
import { createMetrics, metricName } from './metrics.ts';

function capture() {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk, _enc, cb) {
      lines.push(...chunk.toString().split('\n').filter(Boolean));
      cb();
    },
  });
  return { lines, stream };
}

describe('createLogger', () => {
  it('writes JSON with component and redacts secrets at any depth', () => {
    const { lines, stream } = capture();
    const log = createLogger({ component: 'ingester', destination: stream });
    log.info(
      {
        kafka: { sasl: { password: 'hunter2' } },
        es: { auth: { apiKey: 'abc' } },
        token: 't',
        comm: 'httpd',
      },
      'config loaded',
    );
    expect(lines).toHaveLength(1);
    const rec = JSON.parse(lines[0]!);
    expect(rec.component).toBe('ingester');
    expect(rec.msg).toBe('config loaded');
    expect(rec.level).toBe('info');
    expect(rec.kafka.sasl).toBe('[redacted]');
    expect(rec.es.auth.apiKey).toBe('[redacted]');
    expect(rec.token).toBe('[redacted]');
    expect(rec.comm).toBe('httpd');
    expect(lines[0]).not.toContain('hunter2');
  });

  it('rate limiter lets N through per interval and counts the rest', () => {
    let t = 0;
    const rl = createLogRateLimiter(2, 1000, () => t);
    expect([rl.take(), rl.take(), rl.take(), rl.take()]).toEqual([0, 0, null, null]);
    t = 1000;
    expect(rl.take()).toBe(2);
  });
});

describe('metrics', () => {
  it('names follow avcstream_<component>_<noun>_<unit>_total', () => {
    expect(metricName('ingester', 'lines', 'lines')).toBe('avcstream_ingester_lines_lines_total');
    expect(metricName('analyzer', 'lag', 'messages', false)).toBe('avcstream_analyzer_lag_messages');
    expect(() => metricName('Ingester', 'x', 'y')).toThrow(TypeError);
  });
  it('counters count with bounded labels and can be read back', async () => {
    const m = createMetrics({ component: 'analyzer', defaults: false });
    const c = m.counter('messages', 'messages', 'Messages consumed', ['result']);
    c.inc({ result: 'ok' }, 3);
    c.inc({ result: 'invalid' });
    expect(await m.value('avcstream_analyzer_messages_messages_total', { result: 'ok' })).toBe(3);
    expect(await m.value('avcstream_analyzer_messages_messages_total')).toBe(4);
    const text = await m.registry.metrics();
    expect(text).toContain('avcstream_analyzer_messages_messages_total{result="invalid"} 1');
  });
});

describe('createHealthServer', () => {
  it('serves /metrics, /livez and /readyz (503 until ready)', async () => {
    const m = createMetrics({ component: 'test', defaults: false });
    m.counter('things', 'items', 'Things').inc(5);
    let ready = false;
    const server = createHealthServer({
      port: 0,
      registry: m.registry,
      isReady: () => ready,
      extraRoutes: [{ method: 'GET', url: '/extra', handler: () => ({ status: 200, body: { x: 1 } }) }],
    });
    const { port } = await server.start();
    try {
      const base = `http://127.0.0.1:${port}`;
      expect((await fetch(`${base}/readyz`)).status).toBe(503);
      ready = true;
      expect((await fetch(`${base}/readyz`)).status).toBe(200);
      expect((await fetch(`${base}/livez`)).status).toBe(200);
      const metrics = await (await fetch(`${base}/metrics`)).text();
      expect(metrics).toContain('avcstream_test_things_items_total 5');
      expect(await (await fetch(`${base}/extra`)).json()).toEqual({ x: 1 });
    } finally {
      await server.close();
    }
  });
});
