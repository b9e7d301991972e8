import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { createEsClient } from './client.ts';

// A local HTTP stub speaking just enough of the _bulk/_create protocol to script 429/5xx answers.
// This checks the adapter's retry bookkeeping; the real server is exercised in test/elasticsearch.int.test.ts.

type Handler = (path: string, body: string) => { status: number; body: unknown };

let server: Server | undefined;
afterEach(async () => {
  await new Promise<void>((r) => (server ? server.close(() => r()) : r()));
  server = undefined;
});

async function stub(handler: Handler): Promise<string> {
  server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const r = handler(req.url ?? '', Buffer.concat(chunks).toString('utf8'));
      res.writeHead(r.status, { 'content-type': 'application/json', 'x-elastic-product': 'Elasticsearch' });
      res.end(JSON.stringify(r.body));
    });
  });
  await new Promise<void>((r) => server!.listen(0, '127.0.0.1', () => r()));
  return `http://127.0.0.1:${(server!.address() as AddressInfo).port}`;
}

const idsOf = (ndjson: string): string[] =>
  ndjson
    .split('\n')
    .filter((l) => l.includes('"_id"'))
    .map((l) => (JSON.parse(l) as { index: { _id: string } }).index._id);

const fast = { attempts: 5, initialDelayMs: 1, maxDelayMs: 2 };

describe('bulkIndex retries', () => {
  it('resends only the items that got 429/5xx and returns 4xx items as failures', async () => {
    const sent: string[][] = [];
    const node = await stub((_path, body) => {
      const ids = idsOf(body);
      sent.push(ids);
      const items = ids.map((id) => {
        if (id === 'bad')
          return {
            index: { _id: id, status: 400, error: { type: 'document_parsing_exception', reason: 'no' } },
          };
        if (id === 'busy' && sent.length < 3)
          return {
            index: {
              _id: id,
              status: 429,
              error: { type: 'es_rejected_execution_exception', reason: 'full' },
            },
          };
        if (id === 'flaky' && sent.length < 2)
          return {
            index: { _id: id, status: 503, error: { type: 'unavailable_shards_exception', reason: 'x' } },
          };
        return { index: { _id: id, status: 201, result: 'created' } };
      });
      return { status: 200, body: { took: 1, errors: true, items } };
    });
    const es = createEsClient({ node, retry: fast });
    const r = await es.bulkIndex(
      'i',
      ['ok', 'bad', 'busy', 'flaky'].map((id) => ({ id, doc: { id } })),
    );
    expect(sent).toEqual([['ok', 'bad', 'busy', 'flaky'], ['busy', 'flaky'], ['busy']]);
    expect(r.indexed).toBe(3);
    expect(r.failures).toEqual([
      { id: 'bad', status: 400, type: 'document_parsing_exception', reason: 'no', retriable: false },
    ]);
    await es.close();
  });

  it('gives back still-rejected items as retriable failures once attempts run out', async () => {
    const node = await stub((_p, body) => ({
      status: 200,
      body: {
        took: 1,
        errors: true,
        items: idsOf(body).map((id) => ({
          index: { _id: id, status: 429, error: { type: 'es_rejected_execution_exception', reason: 'full' } },
        })),
      },
    }));
    const es = createEsClient({ node, retry: { ...fast, attempts: 3 } });
    const r = await es.bulkIndex('i', [{ id: 'a', doc: {} }]);
    expect(r).toEqual({
      indexed: 0,
      failures: [
        { id: 'a', status: 429, type: 'es_rejected_execution_exception', reason: 'full', retriable: true },
      ],
    });
    await es.close();
  });

  it('retries a whole-request 503 and then succeeds', async () => {
    let calls = 0;
    const node = await stub((_p, body) => {
      calls++;
      if (calls === 1)
        return { status: 503, body: { error: { type: 'cluster_block_exception' }, status: 503 } };
      return {
        status: 200,
        body: {
          took: 1,
          errors: false,
          items: idsOf(body).map((id) => ({ index: { _id: id, status: 200 } })),
        },
      };
    });
    const es = createEsClient({ node, retry: fast });
    expect(await es.bulkIndex('i', [{ id: 'a', doc: {} }])).toEqual({ indexed: 1, failures: [] });
    expect(calls).toBe(2);
    await es.close();
  });

  it('does not retry a whole-request 400', async () => {
    let calls = 0;
    const node = await stub(() => {
      calls++;
      return { status: 400, body: { error: { type: 'illegal_argument_exception' }, status: 400 } };
    });
    const es = createEsClient({ node, retry: fast });
    await expect(es.bulkIndex('i', [{ id: 'a', doc: {} }])).rejects.toMatchObject({
      code: 'AVC_ERR_ES_REQUEST_FAILED',
      retriable: false,
    });
    expect(calls).toBe(1);
    await es.close();
  });
});

describe('createIfAbsent', () => {
  it('is true on 201, false on 409, retries 429', async () => {
    const seen = new Set<string>();
    let throttled = false;
    const node = await stub((path) => {
      const id = decodeURIComponent(path.split('/_create/')[1]?.split('?')[0] ?? '');
      if (id === 'slow' && !throttled) {
        throttled = true;
        return { status: 429, body: { error: { type: 'es_rejected_execution_exception' }, status: 429 } };
      }
      if (seen.has(id))
        return { status: 409, body: { error: { type: 'version_conflict_engine_exception' }, status: 409 } };
      seen.add(id);
      return { status: 201, body: { _id: id, result: 'created' } };
    });
    const es = createEsClient({ node, retry: fast });
    expect(await es.createIfAbsent('i', 'x', {})).toBe(true);
    expect(await es.createIfAbsent('i', 'x', {})).toBe(false);
    expect(await es.createIfAbsent('i', 'slow', {})).toBe(true);
    expect(throttled).toBe(true);
    await es.close();
  });
});
