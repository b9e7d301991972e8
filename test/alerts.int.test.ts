// Two analyzers (two alerters with their own ES clients) race on the same real Elasticsearch: every signature
// alerts exactly once across both, and "new on this host" exactly once per host. The Kafka sink publishes on
// a real broker.
import {
  type Alert,
  type AlertSink,
  createAlerter,
  createEsRegistry,
  createKafkaSink,
  createMemoryRegistry,
  type DenialContext,
  pendingQuery,
} from '@avcstream/alerts';
import { ES_MAPPINGS } from '@avcstream/contracts';
import { createEsClient, type EsClient } from '@avcstream/elasticsearch';
import { createKafkaConsumer, createKafkaProducer, ensureTopics } from '@avcstream/kafka';
import { getServices, servicesAvailable, uniqueName } from '@avcstream/testkit';
import { afterAll, describe, expect, it } from 'vitest';

const available = servicesAvailable();
if (!available) console.warn('[alerts.int] skipped: no real Elasticsearch (see the testkit message above)');

const clients: EsClient[] = [];
const indices: string[] = [];
const templates: string[] = [];
afterAll(async () => {
  const first = clients[0];
  if (first !== undefined) for (const i of indices) await first.deleteIndices(i);
  if (first !== undefined) for (const t of templates) await first.deleteIndexTemplate(t);
  for (const c of clients) await c.close();
});

function denial(i: number, host: string): DenialContext {
  return {
    host,
    time: new Date(1_763_800_000_000 + i * 1000).toISOString(),
    serial: i,
    avc: {
      decision: 'denied',
      perms: ['read'],
      scontext: { type: `race${i}_t`, raw: `system_u:system_r:race${i}_t:s0` },
      tcontext: { type: 'etc_t', raw: 'system_u:object_r:etc_t:s0' },
      tclass: 'file',
      permissive: false,
    },
    pid: i,
    comm: 'prog',
    exe: '/usr/bin/prog',
    path: '/etc/passwd',
  };
}

function analyzer(index: string): { alerts: Alert[]; process: (d: DenialContext) => Promise<unknown> } {
  const es = createEsClient({ node: getServices().elasticsearchUrl });
  clients.push(es);
  const alerts: Alert[] = [];
  const sink: AlertSink = { name: 'mem', send: (a) => void alerts.push(a) };
  const alerter = createAlerter({
    registry: createEsRegistry({
      createIfAbsent: (i, id, doc) => es.createIfAbsent(i, id, doc),
      get: (i, id) => es.get<Record<string, unknown>>(i, id),
      index,
    }),
    sinks: [sink],
    rateLimitWindowMs: 1, // host alerts are not folded in this test
  });
  return { alerts, process: (d) => alerter.process(d, null) };
}

describe.runIf(available)('alerts on Elasticsearch (two analyzers)', () => {
  it('alert once per signature across two racing analyzers, and once per new host', async () => {
    const index = uniqueName('avcstream-signatures');
    indices.push(index);
    const a = analyzer(index);
    const b = analyzer(index);
    const N = 30;
    // Both analyzers get every denial of host h1 (as after a consumer-group rebalance), interleaved.
    await Promise.all([
      (async () => {
        for (let i = 0; i < N; i++) await a.process(denial(i, 'h1'));
      })(),
      (async () => {
        for (let i = N - 1; i >= 0; i--) await b.process(denial(i, 'h1'));
      })(),
    ]);
    const fleet = [...a.alerts, ...b.alerts];
    expect(fleet).toHaveLength(N);
    expect(new Set(fleet.map((x) => x.signature.key)).size).toBe(N);
    expect(fleet.every((x) => x.scope === 'fleet')).toBe(true);
    expect(a.alerts.length).toBeGreaterThan(0);
    expect(b.alerts.length).toBeGreaterThan(0);

    // The same signatures from a second host: one "new on this host" alert each, across both analyzers.
    await Promise.all([
      (async () => {
        for (let i = 0; i < N; i++) await a.process(denial(i, 'h2'));
      })(),
      (async () => {
        for (let i = 0; i < N; i++) await b.process(denial(i, 'h2'));
      })(),
    ]);
    const host = [...a.alerts, ...b.alerts].filter((x) => x.scope === 'host');
    expect(host).toHaveLength(N);
    expect(new Set(host.map((x) => x.signature.key)).size).toBe(N);
    expect(host.every((x) => x.host === 'h2')).toBe(true);

    // A restarted analyzer (fresh client, empty cache) finds everything known.
    const c = analyzer(index);
    for (let i = 0; i < N; i++) await c.process(denial(i, 'h1'));
    expect(c.alerts).toEqual([]);
  });
});

describe.runIf(available)('alerts on Kafka', () => {
  it('publishes each alert once on the alerts topic, keyed by signature id', async () => {
    const topic = uniqueName('avcstream.alerts.v1');
    const conn = { brokers: getServices().kafkaBrokers, clientId: 'alerts-int' };
    await ensureTopics(conn, [{ topic, partitions: 1 }]);
    const producer = createKafkaProducer(conn);
    await producer.connect();
    try {
      const alerter = createAlerter({
        registry: createMemoryRegistry(),
        sinks: [createKafkaSink(producer, topic)],
      });
      for (let r = 0; r < 2; r++) for (let i = 0; i < 5; i++) await alerter.process(denial(i, 'h1'), null);
    } finally {
      await producer.disconnect();
    }
    const consumer = createKafkaConsumer({
      ...conn,
      groupId: uniqueName('alerts-int'),
      topics: [topic],
      fromBeginning: true,
    });
    await consumer.connect();
    const got: Array<{ key: string | null; alert: Alert; id: string | undefined }> = [];
    try {
      for await (const b of consumer.batches()) {
        for (const d of b.deliveries) {
          got.push({
            key: d.key,
            alert: JSON.parse(d.value.toString('utf8')),
            id: d.headers['avcstream-alert-id'],
          });
        }
        await b.ack();
        if (got.length >= 5) break;
      }
    } finally {
      await consumer.stop(2000);
    }
    expect(got).toHaveLength(5);
    expect(got.map((g) => g.alert.signature.key).sort()).toEqual(
      [0, 1, 2, 3, 4].map((i) => `race${i}_t:etc_t:file:read`).sort(),
    );
    for (const g of got) {
      expect(g.key).toBe(g.alert.signature.id);
      expect(g.id).toBe(g.alert.id);
    }
  });
});

/** An analyzer wired like services/analyzer (outbox on): `crash` makes its sink die before delivering. */
function outboxAnalyzer(index: string, instanceId: string, opts: { crash?: boolean; skewMs?: number } = {}) {
  const es = createEsClient({ node: getServices().elasticsearchUrl });
  clients.push(es);
  const alerts: Alert[] = [];
  const sink: AlertSink = {
    name: 'mem',
    send: (a) => {
      if (opts.crash) throw new Error('analyzer died before the sink delivered');
      alerts.push(a);
    },
  };
  const alerter = createAlerter({
    registry: createEsRegistry({
      createIfAbsent: (i, id, doc) => es.createIfAbsent(i, id, doc),
      get: (i, id) => es.get<Record<string, unknown>>(i, id),
      update: (i, id, doc, cond) =>
        es.update(
          i,
          id,
          doc,
          cond === undefined ? {} : { ifSeqNo: cond.seqNo, ifPrimaryTerm: cond.primaryTerm },
        ),
      findPending: async (i, before, size) =>
        (await es.search<Record<string, unknown>>(i, pendingQuery(before, size))).hits.map((h) => ({
          id: h.id,
          source: h.source,
          seqNo: h.seqNo ?? -1,
          primaryTerm: h.primaryTerm ?? -1,
        })),
      index,
      instanceId,
      sinks: ['mem'],
      leaseMs: 60_000,
      // The lease is judged on an injected clock: "two minutes later" without waiting.
      now: () => Date.now() + (opts.skewMs ?? 0),
    }),
    sinks: [sink],
  });
  return { es, alerts, alerter };
}

describe.runIf(available)('alerts on Elasticsearch (outbox)', () => {
  it('a crash between the claim and the sink is redelivered once, by the analyzer whose takeover won', async () => {
    const index = uniqueName('avcstream-signatures');
    indices.push(index);
    const a = outboxAnalyzer(index, 'a', { crash: true });
    // The real (strict) signatures mapping, as the analyzer installs it.
    templates.push(`${index}-template`);
    await a.es.ensureIndexTemplates([
      {
        name: `${index}-template`,
        indexPatterns: [`${index}*`],
        mappings: ES_MAPPINGS.signatures as unknown as Record<string, unknown>,
        settings: { number_of_shards: 1, number_of_replicas: 0 },
      },
    ]);
    const d = denial(500, 'h1');
    expect(await a.alerter.process(d, null)).toHaveLength(1); // claimed and built, but the sink died
    expect(a.alerts).toEqual([]);

    // The redelivered Kafka message reaches analyzer b: the signature is known, b stays silent.
    const b = outboxAnalyzer(index, 'b', { skewMs: 120_000 });
    expect(await b.alerter.process(d, null)).toEqual([]);
    await b.es.refresh(index);
    const before = await b.es.search<Record<string, unknown>>(index, {
      query: { term: { delivered: false } },
    });
    expect(before.hits.map((h) => h.source.claimed_by)).toEqual(['a']);

    // Two minutes on, b and c both find a's claim stale; exactly one takeover wins and redelivers.
    const c = outboxAnalyzer(index, 'c', { skewMs: 120_000 });
    const [rb, rc] = await Promise.all([b.alerter.redeliverPending(), c.alerter.redeliverPending()]);
    const again = [...rb, ...rc];
    expect(again).toHaveLength(1);
    expect(again[0]!.redelivered).toBe(true);
    expect(again[0]!.scope).toBe('fleet');
    expect(again[0]!.signature.key).toBe('race500_t:etc_t:file:read');
    expect([...b.alerts, ...c.alerts].map((x) => x.id)).toEqual([again[0]!.id]);

    // Marked delivered: nothing is pending any more, even long after.
    await b.es.refresh(index);
    const doc = await b.es.get<Record<string, unknown>>(index, again[0]!.signature.id);
    expect(doc).toMatchObject({ delivered: true, claimed_by: rb.length === 1 ? 'b' : 'c' });
    const later = outboxAnalyzer(index, 'd', { skewMs: 3_600_000 });
    expect(await later.alerter.redeliverPending()).toEqual([]);
  });

  it("delivered alerts, fleet and host (inside the fleet alert's rate-limit window), are never redelivered", async () => {
    const index = uniqueName('avcstream-signatures');
    indices.push(index);
    const a = outboxAnalyzer(index, 'a');
    expect(await a.alerter.process(denial(600, 'h1'), null)).toHaveLength(1);
    // Same signature on h2 within h1's 60 s rate-limit window: windows are per (signature, host), so h2's
    // "new on this host" alert goes out (a claim stored without its alert would never be alerted).
    expect(await a.alerter.process(denial(600, 'h2'), null)).toHaveLength(1);
    expect(a.alerts.map((x) => [x.scope, x.host])).toEqual([
      ['fleet', 'h1'],
      ['host', 'h2'],
    ]);
    await a.es.refresh(index);
    const later = outboxAnalyzer(index, 'b', { skewMs: 3_600_000 });
    expect(await later.alerter.redeliverPending()).toEqual([]);
    const pending = await a.es.search(index, { query: { term: { delivered: false } } });
    expect(pending.total).toBe(0);
  });
});
