import { createHmac } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { createWebhookSink, WebhookError } from './sinks.ts';
import type { Alert } from './types.ts';

const alert: Alert = {
  id: 'abc',
  kind: 'new-signature',
  scope: 'fleet',
  signature: {
    id: 'sig',
    key: 'a_t:b_t:file:read',
    sourceType: 'a_t',
    targetType: 'b_t',
    class: 'file',
    perms: ['read'],
  },
  host: 'h',
  time: '2026-01-01T00:00:00.000Z',
  event: {
    serial: 1,
    pid: 1,
    comm: '<script>',
    exe: null,
    path: null,
    scontext: 's',
    tcontext: 't',
    tclass: 'file',
    perms: ['read'],
    permissive: false,
  },
  verdict: 'TE_MISSING',
  fixes: [],
  booleans: [],
  caution: null,
  count: 1,
};

let server: Server | null = null;
afterEach(async () => {
  server?.closeAllConnections();
  await new Promise<void>((r) => (server ? server.close(() => r()) : r()));
  server = null;
});

async function serve(
  handler: (req: IncomingMessage, body: string, res: ServerResponse) => void,
): Promise<string> {
  server = createServer((req, res) => {
    let body = '';
    req.on('data', (c) => {
      body += c;
    });
    req.on('end', () => handler(req, body, res));
  });
  await new Promise<void>((r) => server!.listen(0, '127.0.0.1', () => r()));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
}

const noSleep = async () => {};

describe('createWebhookSink', () => {
  it('POSTs the alert as JSON with an HMAC of the body, retrying 5xx and 429', async () => {
    const seen: Array<{ status: number; sig: string | undefined; body: string }> = [];
    const statuses = [503, 429, 200];
    const url = await serve((req, body, res) => {
      const status = statuses[seen.length] ?? 200;
      seen.push({ status, sig: req.headers['x-avcstream-signature'] as string | undefined, body });
      res.statusCode = status;
      res.end();
    });
    await createWebhookSink({ url, secret: 's3cret', sleep: noSleep }).send(alert);
    expect(seen.map((s) => s.status)).toEqual([503, 429, 200]);
    const body = seen[2]!.body;
    expect(JSON.parse(body)).toEqual(alert);
    expect(seen[2]!.sig).toBe(`sha256=${createHmac('sha256', 's3cret').update(body).digest('hex')}`);
  });

  it('sends no signature header without a secret', async () => {
    let sig: unknown = 'unset';
    const url = await serve((req, _b, res) => {
      sig = req.headers['x-avcstream-signature'];
      res.end();
    });
    await createWebhookSink({ url, sleep: noSleep }).send(alert);
    expect(sig).toBeUndefined();
  });

  it('does not retry a 4xx and gives up after the retries', async () => {
    let calls = 0;
    const url = await serve((_req, _b, res) => {
      calls++;
      res.statusCode = 400;
      res.end();
    });
    await expect(createWebhookSink({ url, sleep: noSleep }).send(alert)).rejects.toBeInstanceOf(WebhookError);
    expect(calls).toBe(1);

    let calls500 = 0;
    server!.removeAllListeners('request');
    server!.on('request', (_req: IncomingMessage, res: ServerResponse) => {
      calls500++;
      res.statusCode = 500;
      res.end();
    });
    await expect(createWebhookSink({ url, retries: 2, sleep: noSleep }).send(alert)).rejects.toMatchObject({
      status: 500,
      retriable: true,
    });
    expect(calls500).toBe(3);
  });

  it('times out a server that never answers, then retries', async () => {
    let calls = 0;
    const url = await serve((_req, _b, res) => {
      calls++;
      if (calls === 2) res.end(); // the first request hangs
    });
    await createWebhookSink({ url, timeoutMs: 200, sleep: noSleep }).send(alert);
    expect(calls).toBe(2);
  });

  it('close() aborts a delivery in flight and its retries, and fails later sends at once', async () => {
    let calls = 0;
    const url = await serve(() => {
      calls++; // never answers
    });
    const sink = createWebhookSink({ url, timeoutMs: 60_000, retries: 5, sleep: noSleep });
    const sent = sink.send(alert);
    for (let i = 0; i < 200 && calls === 0; i++) await new Promise((r) => setTimeout(r, 10));
    expect(calls).toBe(1);
    const started = Date.now();
    await sink.close?.();
    await expect(sent).rejects.toMatchObject({ code: 'AVC_ERR_ALERTS_WEBHOOK', status: null });
    expect(Date.now() - started).toBeLessThan(5000);
    expect(calls).toBe(1);
    await expect(sink.send(alert)).rejects.toBeInstanceOf(WebhookError);
    expect(calls).toBe(1);
  });

  it('close() ends a backoff between attempts without another attempt', async () => {
    let calls = 0;
    const url = await serve((_req, _b, res) => {
      calls++;
      res.statusCode = 503;
      res.end();
    });
    const sink = createWebhookSink({ url, backoffMs: 60_000 });
    const sent = sink.send(alert);
    for (let i = 0; i < 200 && calls === 0; i++) await new Promise((r) => setTimeout(r, 10));
    await sink.close?.();
    await expect(sent).rejects.toBeInstanceOf(WebhookError);
    expect(calls).toBe(1);
  });
});
