import { createEsClient, type EsClient, stableId } from '@avcstream/elasticsearch';
import {
  getServices,
  servicesAvailable,
  startElasticsearch,
  stopElasticsearch,
  uniqueName,
} from '@avcstream/testkit';
import { afterEach, describe, expect, it } from 'vitest';

const available = servicesAvailable();
if (!available)
  console.warn('[elasticsearch.int] skipped: no real Elasticsearch (see the testkit message above)');

const clients: EsClient[] = [];
const cleanup: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const f of cleanup.splice(0).reverse()) await f();
  for (const c of clients.splice(0)) await c.close();
});

function client(retry?: { attempts?: number; initialDelayMs?: number; maxDelayMs?: number }): EsClient {
  const c = createEsClient({ node: getServices().elasticsearchUrl, ...(retry ? { retry } : {}) });
  clients.push(c);
  return c;
}

async function templated(es: EsClient, prefix: string): Promise<string> {
  const name = uniqueName(prefix);
  await es.ensureIndexTemplates([
    {
      name,
      indexPatterns: [`${name}-*`],
      settings: { number_of_shards: 1, number_of_replicas: 0 },
      mappings: {
        dynamic: 'strict',
        properties: {
          host: { properties: { name: { type: 'keyword' } } },
          count: { type: 'long' },
          '@timestamp': { type: 'date' },
        },
      },
      meta: { owner: 'avcstream-test' },
    },
  ]);
  cleanup.push(async () => {
    await es.deleteIndices(`${name}-*`);
    await es.deleteIndexTemplate(name);
  });
  return `${name}-000001`;
}

describe.runIf(available)('elasticsearch adapter against a real server', () => {
  it('is healthy', async () => {
    const h = await client().waitUntilHealthy();
    expect(['green', 'yellow']).toContain(h.status);
  });

  it('bulk indexes with deterministic ids: redelivery overwrites, bad documents come back as values', async () => {
    const es = client();
    const index = await templated(es, 'bulk');
    const docs = Array.from({ length: 100 }, (_, i) => ({
      id: stableId(['host-a', 1700000000 + i, i]),
      doc: {
        host: { name: 'host-a' },
        count: i,
        '@timestamp': new Date(1700000000000 + i * 1000).toISOString(),
      },
    }));
    const r1 = await es.bulkIndex(index, docs, { refresh: 'wait_for' });
    expect(r1).toEqual({ indexed: 100, failures: [] });
    // The same documents again (a redelivery) and two bad ones: a type error and an unmapped field.
    const bad = [
      { id: 'bad-type', doc: { count: 'many' } },
      { id: 'bad-field', doc: { unexpected: true } },
    ];
    const r2 = await es.bulkIndex(index, [...docs.slice(0, 10), ...bad], { refresh: 'wait_for' });
    expect(r2.indexed).toBe(10);
    expect(r2.failures.map((f) => [f.id, f.status, f.retriable]).sort()).toEqual([
      ['bad-field', 400, false],
      ['bad-type', 400, false],
    ]);
    expect(r2.failures.every((f) => f.type.length > 0 && f.reason.length > 0)).toBe(true);
    expect(await es.count(index)).toBe(100);
    expect(await es.count(index, { range: { count: { gte: 90 } } })).toBe(10);
    const s = await es.search<{ count: number }>(index, {
      query: { term: { 'host.name': 'host-a' } },
      sort: [{ count: 'desc' }],
      size: 3,
      aggs: { hosts: { terms: { field: 'host.name' } } },
    });
    expect(s.total).toBe(100);
    expect(s.hits.map((h) => h.source.count)).toEqual([99, 98, 97]);
    expect(s.hits[0]?.id).toBe(docs[99]?.id);
    expect(s.aggregations?.hosts).toMatchObject({ buckets: [{ key: 'host-a', doc_count: 100 }] });
    expect(await es.get(index, docs[5]!.id)).toMatchObject({ count: 5 });
    expect(await es.get(index, 'absent')).toBeUndefined();
  });

  it('ensureIndices creates an index with its template once; again (and racing) is a no-op', async () => {
    const es = client();
    const index = await templated(es, 'avc-ensure');
    await Promise.all([es.ensureIndices([index]), client().ensureIndices([index])]);
    await es.ensureIndices([index]);
    const r = await es.search(index, { size: 0 });
    expect(r.total).toBe(0);
    // The template's strict mapping applies: a document with an unknown field is rejected.
    const bad = await es.bulkIndex(index, [{ id: 'x', doc: { nope: 1 } }], { refresh: true });
    expect(bad.failures).toHaveLength(1);
  });

  it('updateMappings adds new fields to an index created from an older template', async () => {
    const es = client();
    const index = await templated(es, 'avc-upgrade');
    await es.ensureIndices([index]);
    const doc = { id: 'n', doc: { added: { port: 5432 } } };
    expect((await es.bulkIndex(index, [doc], { refresh: true })).failures).toHaveLength(1);
    await es.updateMappings(`${index}*`, {
      properties: { added: { properties: { port: { type: 'long' } } } },
    });
    expect((await es.bulkIndex(index, [doc], { refresh: true })).failures).toEqual([]);
    expect(await es.count(index, { term: { 'added.port': 5432 } })).toBe(1);
    // A conflicting change is an error, not a silent no-op.
    await expect(
      es.updateMappings(index, { properties: { added: { properties: { port: { type: 'keyword' } } } } }),
    ).rejects.toMatchObject({ code: 'AVC_ERR_ES_TEMPLATE_FAILED' });
  });

  it('counts and searches missing indices as empty', async () => {
    const es = client();
    const name = uniqueName('missing');
    expect(await es.count(name)).toBe(0);
    expect((await es.search(name)).total).toBe(0);
  });

  it('createIfAbsent: two clients racing on the same ids, exactly one wins each', async () => {
    const a = client();
    const b = client();
    const index = uniqueName('firstseen');
    cleanup.push(() => a.deleteIndices(index));
    const ids = Array.from({ length: 50 }, (_, i) => `sig-${i}`);
    const results = await Promise.all(
      ids.flatMap((id) => [
        a.createIfAbsent(index, id, { by: 'a' }).then((won) => ({ id, by: 'a', won })),
        b.createIfAbsent(index, id, { by: 'b' }).then((won) => ({ id, by: 'b', won })),
      ]),
    );
    for (const id of ids) {
      const winners = results.filter((r) => r.id === id && r.won);
      expect(winners).toHaveLength(1);
      // The stored document is the winner's.
      expect(await a.get(index, id)).toEqual({ by: winners[0]?.by });
    }
    expect(await a.createIfAbsent(index, 'sig-0', { by: 'late' })).toBe(false);
  });

  it('rejects an invalid template as AVC_ERR_ES_TEMPLATE_FAILED', async () => {
    const es = client();
    await expect(
      es.ensureIndexTemplates([
        {
          name: uniqueName('badtpl'),
          indexPatterns: ['x-*'],
          mappings: { properties: { a: { type: 'no-such-type' } } },
        },
      ]),
    ).rejects.toMatchObject({ code: 'AVC_ERR_ES_TEMPLATE_FAILED', retriable: false });
  });

  it('reports an unreachable server as a retriable AVC_ERR_ES_UNAVAILABLE after its attempts', async () => {
    const es = createEsClient({
      node: 'http://127.0.0.1:9',
      retry: { attempts: 2, initialDelayMs: 10, maxDelayMs: 20 },
    });
    clients.push(es);
    await expect(es.bulkIndex('x', [{ id: '1', doc: {} }])).rejects.toMatchObject({
      code: 'AVC_ERR_ES_UNAVAILABLE',
      retriable: true,
    });
  });

  it.runIf(controllable())(
    'bulk indexing retries through an Elasticsearch outage and lands everything',
    async () => {
      const es = client({ attempts: Number.POSITIVE_INFINITY, initialDelayMs: 200, maxDelayMs: 2000 });
      const index = await templated(es, 'outage');
      await es.bulkIndex(index, [{ id: 'before', doc: { count: 0 } }], { refresh: 'wait_for' });
      await stopElasticsearch();
      let pending: Promise<unknown> | undefined;
      try {
        const docs = Array.from({ length: 20 }, (_, i) => ({ id: `during-${i}`, doc: { count: i + 1 } }));
        pending = es.bulkIndex(index, docs, { refresh: 'wait_for' });
      } finally {
        await startElasticsearch();
      }
      expect(await pending).toEqual({ indexed: 20, failures: [] });
      expect(await es.count(index)).toBe(21);
    },
  );
});

function controllable(): boolean {
  if (!available) return false;
  const s = getServices();
  if (!s.controllable)
    console.warn('[elasticsearch.int] outage test skipped: services from env cannot be stopped');
  return s.controllable;
}
