import { createHmac } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import type { Alert } from '@avcstream/alerts';
import { loadConfig } from '@avcstream/config';
import {
  chunkPolicy,
  decodeDeadLetterMessage,
  encodeEventMessage,
  encodePolicyMessage,
  type EventMessage,
  type PolicyMessage,
  policyStateId,
} from '@avcstream/contracts';
import type { BulkDoc, BulkResult } from '@avcstream/elasticsearch';
import type { KafkaBatch, KafkaDelivery } from '@avcstream/kafka';
import { AvcError, createQueue } from '@avcstream/pipeline';
import { createLogger, createMetrics } from '@avcstream/telemetry';
import { afterEach, describe, expect, it } from 'vitest';
import { type ConsumerPort, createApp, type EsPort } from './app.ts';
import { analyzerConfigSchema } from './config.ts';

const silent = () =>
  createLogger({
    component: 'test',
    destination: new Writable({
      write(_c, _e, cb) {
        cb();
      },
    }),
  });

function fakeConsumer() {
  const q = createQueue<KafkaBatch>({ capacity: 100 });
  const acked: string[] = [];
  const nacked: string[] = [];
  let paused = false;
  let pauses = 0;
  let offset = 0;
  let failed = false;
  const port: ConsumerPort & {
    acked: string[];
    nacked: string[];
    pauses: () => number;
    paused: () => boolean;
    deliver(values: Buffer[]): void;
    restarting: boolean;
    lastContactMs: number | null;
    /** The batch stream fails (the consumer loop ends). */
    fail(): void;
  } = {
    restarting: false,
    lastContactMs: null,
    fail() {
      failed = true;
      q.close();
    },
    acked,
    nacked,
    pauses: () => pauses,
    paused: () => paused,
    deliver(values) {
      const deliveries: KafkaDelivery[] = values.map((value) => ({
        topic: 't',
        partition: 0,
        offset: String(offset++),
        key: 'h',
        value,
        headers: {},
        timestamp: '0',
      }));
      const first = deliveries[0]!.offset;
      const last = deliveries[deliveries.length - 1]!.offset;
      q.tryPush({
        topic: 't',
        partition: 0,
        deliveries,
        firstOffset: first,
        lastOffset: last,
        bytes: 0,
        async ack() {
          acked.push(`${first}-${last}`);
        },
        nack() {
          nacked.push(`${first}-${last}`);
        },
      });
    },
    async connect() {},
    batches: () => ({
      async *[Symbol.asyncIterator]() {
        for await (const b of q) yield b;
        if (failed) throw new Error('consumer failed');
      },
    }),
    pause() {
      paused = true;
      pauses++;
    },
    resume() {
      paused = false;
    },
    async stop() {
      q.close();
    },
  };
  return port;
}

function fakeEs() {
  const indices = new Map<string, Map<string, object>>();
  let down = 0;
  const es: EsPort & { indices: typeof indices; failNext(n: number): void } = {
    indices,
    failNext(n) {
      down = n;
    },
    async waitUntilHealthy() {
      return { status: 'green' };
    },
    async ensureIndexTemplates() {},
    async ensureIndices(names: readonly string[]) {
      for (const n of names) if (!indices.has(n)) indices.set(n, new Map());
    },
    async updateMappings() {},
    async bulkIndex(index: string, docs: readonly BulkDoc[]): Promise<BulkResult> {
      if (down > 0) {
        down--;
        throw new AvcError('AVC_ERR_ES_UNAVAILABLE', 'down', { retriable: true });
      }
      let m = indices.get(index);
      if (!m) {
        m = new Map();
        indices.set(index, m);
      }
      for (const d of docs) m.set(d.id, d.doc);
      return { indexed: docs.length, failures: [] };
    },
    async createIfAbsent() {
      return true;
    },
    async get() {
      return undefined;
    },
    async update() {
      return true;
    },
    async search() {
      return { total: 0, hits: [] };
    },
    async close() {},
  };
  return es;
}

const event = (serial: number): EventMessage => ({
  schema: 'avcstream.events.v1',
  host: 'web01',
  ingesterId: 'i',
  source: { path: '/a', dev: 1, ino: 1, fp: 'x', fpLen: 1, offset: 10 },
  policy: null,
  event: {
    node: 'web01',
    time: '2023-11-14T22:13:21.456Z',
    epoch: 1700000001.456,
    serial,
    partial: false,
    records: [
      {
        type: 'AVC',
        node: 'web01',
        sec: 1700000001,
        msec: 456,
        serial,
        fields: { pid: '1', comm: 'httpd' },
        interpreted: {},
        avc: {
          decision: 'denied',
          perms: ['read'],
          scontext: {
            user: 'system_u',
            role: 'system_r',
            type: 'httpd_t',
            level: 's0',
            raw: 'system_u:system_r:httpd_t:s0',
          },
          tcontext: {
            user: 'system_u',
            role: 'object_r',
            type: 'shadow_t',
            level: 's0',
            raw: 'system_u:object_r:shadow_t:s0',
          },
          tclass: 'file',
          permissive: false,
        },
        line: 1,
      },
    ],
  },
  publishedAt: '2023-11-14T22:13:22.000Z',
});

function encode(m: EventMessage): Buffer {
  const e = encodeEventMessage(m);
  if (!e.ok) throw new Error(e.error.message);
  return e.value;
}

async function until(cond: () => boolean) {
  for (let i = 0; i < 400 && !cond(); i++) await new Promise((r) => setTimeout(r, 10));
  if (!cond()) throw new Error('condition not reached');
}

function setup(args: string[] = [], now?: () => Date, logger = silent()) {
  const config = loadConfig(analyzerConfigSchema('h'), {}, [
    '--alerts.enabled=false',
    '--processing.policyWaitMs=0',
    '--shutdown.drainMs=100',
    ...args,
  ]);
  const events = fakeConsumer();
  const policies = fakeConsumer();
  const es = fakeEs();
  /** Shutdown calls in order (consumers stopped, producer disconnected, ES closed, webhook aborted...). */
  const calls: string[] = [];
  for (const [name, c] of [
    ['events.stop', events],
    ['policies.stop', policies],
  ] as const) {
    const stop = c.stop.bind(c);
    c.stop = async (ms) => {
      calls.push(name);
      return stop(ms);
    };
  }
  const esClose = es.close.bind(es);
  es.close = async () => {
    calls.push('es.close');
    return esClose();
  };
  const sent: Array<{ topic: string; key: string; value: Buffer; headers?: Record<string, string> }> = [];
  // hold(): sends wait until release(), as kafkajs's send does while the broker is down (it retries inside).
  let gate: Promise<void> | null = null;
  let open: () => void = () => {};
  let failures = 0;
  const producer = {
    held: 0,
    hold() {
      gate = new Promise<void>((r) => {
        open = r;
      });
    },
    release() {
      gate = null;
      open();
    },
    failNext(n: number) {
      failures = n;
    },
  };
  const metrics = createMetrics({ component: 'analyzer', defaults: false });
  const app = createApp({
    config,
    logger,
    metrics,
    events,
    policies,
    es,
    producer: {
      async connect() {},
      async disconnect() {
        calls.push('producer.disconnect');
      },
      async send(topic, msgs) {
        if (gate !== null) {
          producer.held++;
          await gate;
          producer.held--;
        }
        if (failures > 0) {
          failures--;
          throw Object.assign(new Error('broker down'), { retriable: true });
        }
        for (const x of msgs)
          sent.push({ topic, key: x.key, value: x.value, ...(x.headers ? { headers: x.headers } : {}) });
      },
    },
    ...(now ? { now } : {}),
  });
  return { app, events, policies, es, sent, metrics, producer, calls };
}

describe('analyzer readiness', () => {
  it('is not ready while a consumer has not heard from the broker for kafka.contactStaleMs (Kafka down)', async () => {
    let clock = 1_700_000_000_000;
    const t = setup(['--kafka.contactStaleMs=10000'], () => new Date(clock));
    t.events.lastContactMs = clock;
    t.policies.lastContactMs = clock;
    await t.app.start();
    try {
      expect(t.app.ready()).toBe(true);
      clock += 10_000;
      expect(t.app.ready()).toBe(true);
      clock += 1;
      expect(t.app.ready()).toBe(false);
      t.events.lastContactMs = clock; // the events consumer fetched again; the policy consumer did not
      expect(t.app.ready()).toBe(false);
      t.policies.lastContactMs = clock;
      expect(t.app.ready()).toBe(true);
    } finally {
      await t.app.stop();
    }
  });

  it('is not ready while a consumer is restarting (kafkajs gave up), nor before any contact past the threshold', async () => {
    let clock = 1_700_000_000_000;
    const t = setup([], () => new Date(clock));
    await t.app.start();
    try {
      // No contact yet: counted from start (default threshold 15 s).
      expect(t.app.ready()).toBe(true);
      clock += 15_001;
      expect(t.app.ready()).toBe(false);
      t.events.lastContactMs = clock;
      t.policies.lastContactMs = clock;
      expect(t.app.ready()).toBe(true);
      t.events.restarting = true;
      expect(t.app.ready()).toBe(false);
      t.events.restarting = false;
      expect(t.app.ready()).toBe(true);
    } finally {
      await t.app.stop();
    }
  });

  it('is not ready once the event consumer loop has stopped on an error', async () => {
    const t = setup();
    t.events.lastContactMs = Date.now();
    t.policies.lastContactMs = Date.now();
    await t.app.start();
    try {
      expect(t.app.ready()).toBe(true);
      t.events.fail();
      await until(() => !t.app.ready());
    } finally {
      await t.app.stop();
    }
  });

  it('is not ready while a dead-letter send has been pending longer than kafka.sendStallMs (Kafka down), ready again once sent', async () => {
    let clock = 1_700_000_000_000;
    const t = setup(['--kafka.sendStallMs=10000'], () => new Date(clock));
    const heard = () => {
      t.events.lastContactMs = clock;
      t.policies.lastContactMs = clock;
    };
    heard();
    await t.app.start();
    try {
      expect(t.app.ready()).toBe(true);
      t.producer.hold();
      t.events.deliver([Buffer.from('{not json')]);
      await until(() => t.producer.held > 0);
      clock += 10_000;
      heard(); // the consumers still hear from the broker: only the send is stuck
      expect(t.app.ready()).toBe(true);
      clock += 1;
      heard();
      expect(t.app.ready()).toBe(false);
      t.producer.release();
      await until(() => t.events.acked.length === 1);
      expect(t.sent.filter((s) => s.topic === 'avcstream.deadletter.v1')).toHaveLength(1);
      expect(t.app.ready()).toBe(true);
    } finally {
      t.producer.release();
      await t.app.stop();
    }
  });

  it('counts a dead-letter send that fails and is retried as pending from its first attempt', async () => {
    let clock = 1_700_000_000_000;
    const t = setup([], () => new Date(clock));
    const heard = () => {
      t.events.lastContactMs = clock;
      t.policies.lastContactMs = clock;
    };
    heard();
    await t.app.start();
    try {
      t.producer.hold();
      t.producer.failNext(1);
      t.events.deliver([Buffer.from('{not json')]);
      await until(() => t.producer.held > 0);
      t.producer.release();
      // The first attempt failed; the retry is held again.
      t.producer.hold();
      await until(() => t.producer.held > 0);
      clock += 10_001; // the default kafka.sendStallMs is 10 s
      heard();
      expect(t.app.ready()).toBe(false);
      t.producer.release();
      await until(() => t.events.acked.length === 1);
      expect(t.app.ready()).toBe(true);
    } finally {
      t.producer.release();
      await t.app.stop();
    }
  });

  it('is not ready while Elasticsearch is failing', async () => {
    const t = setup();
    t.events.lastContactMs = Date.now();
    t.policies.lastContactMs = Date.now();
    await t.app.start();
    try {
      t.es.failNext(1000);
      t.events.deliver([encode(event(1))]);
      await until(() => !t.app.ready());
      t.es.failNext(0);
      await until(() => t.events.acked.length === 1);
      expect(t.app.ready()).toBe(true);
    } finally {
      await t.app.stop();
    }
  });
});

describe('analyzer app', () => {
  it('indexes denials with deterministic ids and acks only after ES acked; redelivery does not duplicate', async () => {
    const t = setup();
    await t.app.start();
    try {
      t.events.deliver([encode(event(1)), encode(event(2))]);
      await until(() => t.events.acked.length === 1);
      t.events.deliver([encode(event(1))]);
      await until(() => t.events.acked.length === 2);
      expect(t.es.indices.get('avcstream-denials')?.size).toBe(2);
      const doc = [...t.es.indices.get('avcstream-denials')!.values()][0] as {
        decision: { verdict: unknown; error: string };
      };
      expect(doc.decision.verdict).toBeNull();
      expect(await t.metrics.value('avcstream_analyzer_denials_documents_total', { verdict: 'none' })).toBe(
        3,
      );
    } finally {
      await t.app.stop();
    }
  });

  it('dead-letters invalid messages with the reason and raw bytes, and keeps consuming', async () => {
    const t = setup();
    await t.app.start();
    try {
      t.events.deliver([
        Buffer.from('{not json'),
        encode(event(5)),
        Buffer.from('{"schema":"avcstream.events.v1"}'),
      ]);
      await until(() => t.events.acked.length === 1);
      const dls = t.sent
        .filter((s) => s.topic === 'avcstream.deadletter.v1')
        .map((s) => decodeDeadLetterMessage(s.value));
      expect(dls.map((d) => d.ok && d.value.reason.code)).toEqual([
        'AVC_ERR_CONTRACT_NOT_JSON',
        'AVC_ERR_CONTRACT_SCHEMA',
      ]);
      const first = dls[0]!;
      expect(first.ok && Buffer.from(first.value.raw, 'base64').toString()).toBe('{not json');
      expect(first.ok && first.value.source).toMatchObject({ kind: 'kafka', partition: 0, offset: '0' });
      expect(t.es.indices.get('avcstream-denials')?.size).toBe(1);
      expect(await t.metrics.value('avcstream_analyzer_invalid_messages_total')).toBe(2);
    } finally {
      await t.app.stop();
    }
  });

  it('dead-letters the chunk of a policy that does not reassemble, and a later good chunk is used', async () => {
    const t = setup();
    const encP = (m: PolicyMessage) => {
      const e = encodePolicyMessage(m);
      if (!e.ok) throw new Error(e.error.message);
      return e.value;
    };
    const bytes = Buffer.alloc(300, 7);
    const { sha256, chunks } = chunkPolicy(bytes);
    const stateId = policyStateId(sha256, true, {});
    const state: PolicyMessage = {
      schema: 'avcstream.policy.v1',
      kind: 'state',
      stateId,
      host: 'web01',
      takenAt: '2023-11-14T22:13:22.000Z',
      reason: 'start',
      policy: { sha256, bytes: bytes.length, chunks: 1 },
      enforcing: true,
      booleans: {},
    };
    const corrupt = encP({ ...chunks[0]!.message, data: bytes.subarray(0, 100).toString('base64') });
    const withPolicy = (serial: number) => encode({ ...event(serial), policy: { stateId, sha256 } });
    await t.app.start();
    try {
      t.policies.deliver([corrupt, encP(state)]);
      await until(() => t.app.policyStore.stats().states === 1);
      t.events.deliver([withPolicy(1)]);
      await until(() => t.events.acked.length === 1);
      await until(() => t.sent.some((s) => s.topic === 'avcstream.deadletter.v1'));
      const dls = t.sent
        .filter((s) => s.topic === 'avcstream.deadletter.v1')
        .map((s) => decodeDeadLetterMessage(s.value));
      expect(dls).toHaveLength(1);
      const dl = dls[0]!;
      expect(dl.ok && dl.value.reason.code).toBe('AVC_ERR_ANALYZER_POLICY_INVALID');
      expect(dl.ok && Buffer.from(dl.value.raw, 'base64')).toEqual(corrupt);
      expect(dl.ok && dl.value.source).toMatchObject({ kind: 'kafka', partition: 0, offset: '0' });
      expect(
        await t.metrics.value('avcstream_analyzer_invalid_messages_total', {
          reason: 'AVC_ERR_ANALYZER_POLICY_INVALID',
        }),
      ).toBe(1);
      // The good chunk arrives: the hash is loaded again (the bytes are no policy, so it does not parse).
      t.policies.deliver([encP(chunks[0]!.message)]);
      await until(() => t.policies.acked.length === 2);
      const lookup = t.app.policyStore.lookup(stateId);
      expect(lookup.kind === 'error' && lookup.message).toMatch(/^policy does not parse/);
    } finally {
      await t.app.stop();
    }
  });

  it('a policy state that timed out once is not waited for again: the next batch is indexed without a verdict at once', async () => {
    // A short wait, so the first batch times out quickly; the second must not wait at all (counted, not timed).
    const t = setup(['--processing.policyWaitMs=20']);
    const missing = { stateId: '0'.repeat(64), sha256: '1'.repeat(64) };
    const withMissing = (serial: number) => encode({ ...event(serial), policy: missing });
    await t.app.start();
    try {
      t.events.deliver([withMissing(1)]);
      await until(() => t.events.acked.length === 1);
      t.events.deliver([withMissing(2)]);
      await until(() => t.events.acked.length === 2);
      const waits = (outcome: string) =>
        t.metrics.value('avcstream_analyzer_policy_state_waits_total', { outcome });
      expect(await waits('timeout')).toBe(1);
      expect(await waits('known_missing')).toBe(1);
      // Both denials are indexed as a timed-out state has always been: no verdict, the reason in decision.error.
      const docs = [...t.es.indices.get('avcstream-denials')!.values()] as Array<{
        decision: { verdict: unknown; error: string };
      }>;
      expect(docs.map((d) => d.decision)).toEqual([
        expect.objectContaining({ verdict: null, error: 'policy state not received in time' }),
        expect.objectContaining({ verdict: null, error: 'policy state not received in time' }),
      ]);
      expect(
        await t.metrics.value('avcstream_analyzer_unreplayed_denials_total', { reason: 'pending' }),
      ).toBe(2);
    } finally {
      await t.app.stop();
    }
  });

  it('pauses consumption while ES is down and acks once it is back', async () => {
    const t = setup();
    await t.app.start();
    try {
      t.es.failNext(3);
      t.events.deliver([encode(event(7))]);
      await until(() => t.events.acked.length === 1);
      expect(t.events.pauses()).toBe(1);
      expect(t.events.paused()).toBe(false);
      expect(t.es.indices.get('avcstream-denials')?.size).toBe(1);
      expect(await t.metrics.value('avcstream_analyzer_bulk_retries_retries_total')).toBe(3);
    } finally {
      await t.app.stop();
    }
  });

  it('on stop while ES is down, the batch is nacked (redelivered later), never acked', async () => {
    const t = setup();
    await t.app.start();
    t.es.failNext(1_000_000);
    t.events.deliver([encode(event(9))]);
    await until(() => t.events.pauses() === 1);
    await t.app.stopIntake();
    await t.app.drain();
    await t.app.disconnect();
    expect(t.events.acked).toEqual([]);
    expect(t.events.nacked).toEqual(['0-0']);
  });
});

describe('analyzer alerts', () => {
  it('reach the log at AVCSTREAM_LOG_LEVEL=warn: the log sink, its only alert sink, writes at warn', async () => {
    const { logger, lines } = captureLogger('warn');
    const t = setup(['--alerts.enabled=true'], undefined, logger);
    await t.app.start();
    try {
      t.events.deliver([encode(event(1))]);
      await until(() => t.events.acked.length === 1);
      type Logged = { level: string; msg: string; alert?: { signature: { key: string } } };
      const alerts = lines.map((l) => JSON.parse(l) as Logged).filter((l) => l.alert !== undefined);
      expect(alerts.map((l) => [l.level, l.msg, l.alert!.signature.key])).toEqual([
        ['warn', 'new denial signature', 'httpd_t:shadow_t:file:read'],
      ]);
    } finally {
      await t.app.stop();
    }
  });

  it("carry the explanation's caution (an access that guards the system) in the alert document and log line", async () => {
    const { logger, lines } = captureLogger();
    const t = setup(['--alerts.enabled=true'], undefined, logger);
    const created: Array<{ index: string; id: string; doc: Record<string, unknown> }> = [];
    const create = t.es.createIfAbsent.bind(t.es);
    t.es.createIfAbsent = async (index, id, doc) => {
      created.push({ index, id, doc: doc as Record<string, unknown> });
      return create(index, id, doc);
    };
    const policy = samplePolicy();
    await t.app.start();
    try {
      t.policies.deliver(policy.messages);
      await until(() => t.app.policyStore.lookup(policy.stateId).kind === 'ready');
      t.events.deliver([policy.denial(1, 'security_t'), policy.denial(2, 'user_home_t')]);
      await until(() => t.events.acked.length === 1);
      type Logged = { msg: string; alert?: { signature: { key: string }; caution: unknown } };
      const alerts = lines.map((l) => JSON.parse(l) as Logged).filter((l) => l.alert !== undefined);
      const byKey = new Map(alerts.map((l) => [l.alert!.signature.key, l]));
      expect(byKey.get('httpd_t:security_t:file:read')).toMatchObject({
        msg: 'new denial signature',
        alert: { caution: CAUTION },
      });
      expect(byKey.get('httpd_t:user_home_t:file:read')?.alert?.caution).toBeNull();
      // The signature document's outbox holds the alert with it (redelivered as it was).
      const outbox = created
        .flatMap((c) => (c.doc.alerts as Array<Record<string, unknown>> | undefined) ?? [])
        .filter((a) => (a.signature as { key: string }).key === 'httpd_t:security_t:file:read');
      expect(outbox.length).toBeGreaterThan(0);
      for (const a of outbox) expect(a.caution).toBe(CAUTION);
    } finally {
      await t.app.stop();
    }
  });
});

/** Signature documents kept in memory, as the ES registry's outbox uses them (create, get, update, search). */
function signatureDocs(es: ReturnType<typeof fakeEs>) {
  const docs = new Map<string, { source: Record<string, unknown>; seqNo: number }>();
  let seq = 0;
  es.createIfAbsent = async (_index, id, doc) => {
    if (docs.has(id)) return false;
    docs.set(id, { source: structuredClone(doc) as Record<string, unknown>, seqNo: seq++ });
    return true;
  };
  es.get = async <T>(_index: string, id: string) => docs.get(id)?.source as T | undefined;
  es.update = async (_index, id, partial, o = {}) => {
    const d = docs.get(id);
    if (d === undefined) return false;
    if (o.ifSeqNo !== undefined && o.ifSeqNo !== d.seqNo) return false;
    d.source = { ...d.source, ...structuredClone(partial) };
    d.seqNo = seq++;
    return true;
  };
  // pendingQuery(claimedBefore, size): undelivered documents claimed before `claimedBefore`.
  es.search = async <T>(_index: string, body?: Record<string, unknown>) => {
    const query = body?.query as { bool: { filter: Array<Record<string, unknown>> } } | undefined;
    const range = query?.bool.filter[1] as { range: { claimed_at: { lt: string } } } | undefined;
    if (range === undefined) throw new Error('not the pending query');
    const before = range.range.claimed_at.lt;
    const hits = [...docs]
      .filter(([, d]) => d.source.delivered === false && String(d.source.claimed_at) < before)
      .map(([id, d]) => ({ index: 'sig', id, source: d.source as T, seqNo: d.seqNo, primaryTerm: 1 }));
    return { total: hits.length, hits };
  };
  return {
    docs,
    /** The outbox state of the documents that raised an alert: signature key -> delivered. */
    delivered() {
      const out: Record<string, unknown> = {};
      for (const d of docs.values()) {
        const alerts = (d.source.alerts as Array<{ signature: { key: string } }> | undefined) ?? [];
        for (const a of alerts) out[a.signature.key] = d.source.delivered;
      }
      return out;
    },
  };
}

interface Hook {
  url: string;
  requests: Array<{ headers: IncomingHttpHeaders; body: string }>;
  /** Set per request: the status to answer, or null to hold the request until `release()`. */
  answer: (n: number) => number | null;
  release(): void;
  /** Requests the client aborted before an answer. */
  aborted: number;
  onAbort?: () => void;
  close(): Promise<void>;
}

/** A webhook receiver on 127.0.0.1 (node:http). */
async function webhookReceiver(): Promise<Hook> {
  let held: ServerResponse[] = [];
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (c) => {
      body += c;
    });
    req.on('end', () => {
      hook.requests.push({ headers: req.headers, body });
      const status = hook.answer(hook.requests.length);
      if (status === null) {
        held.push(res);
        res.on('close', () => {
          if (!res.writableEnded) {
            hook.aborted++;
            hook.onAbort?.();
          }
        });
        return;
      }
      res.statusCode = status;
      res.end();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const hook: Hook = {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/avc-alerts`,
    requests: [],
    answer: () => 200,
    aborted: 0,
    release() {
      for (const r of held) if (!r.writableEnded) r.end();
      held = [];
    },
    async close() {
      hook.release();
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
  return hook;
}

/** The sample policy (httpd_t has no rule on security_t: an access that guards the system) as policy messages. */
function samplePolicy() {
  const encP = (m: PolicyMessage) => {
    const e = encodePolicyMessage(m);
    if (!e.ok) throw new Error(e.error.message);
    return e.value;
  };
  const bytes = readFileSync(join(import.meta.dirname, '../../cli/sample/policy/policy.33'));
  const { sha256, chunks } = chunkPolicy(bytes);
  const stateId = policyStateId(sha256, true, {});
  const state: PolicyMessage = {
    schema: 'avcstream.policy.v1',
    kind: 'state',
    stateId,
    host: 'web01',
    takenAt: '2023-11-14T22:13:22.000Z',
    reason: 'start',
    policy: { sha256, bytes: bytes.length, chunks: chunks.length },
    enforcing: true,
    booleans: {},
  };
  const denial = (serial: number, target: string): Buffer => {
    const e = event(serial);
    const avc = e.event.records[0]!.avc!;
    const tcontext = { ...avc.tcontext, type: target, raw: `system_u:object_r:${target}:s0` };
    return encode({
      ...e,
      policy: { stateId, sha256 },
      event: { ...e.event, records: [{ ...e.event.records[0]!, avc: { ...avc, tcontext } }] },
    });
  };
  return { stateId, messages: [...chunks.map((c) => encP(c.message)), encP(state)], denial };
}

const CAUTION = 'security_t is the SELinux security server (selinuxfs)';
const SECRET = 'test-hmac-secret-0123456789';

/** A logger whose JSON lines are kept (`level`: the logger's level, else the default). */
function captureLogger(level?: string) {
  const lines: string[] = [];
  const logger = createLogger({
    component: 'test',
    level,
    destination: new Writable({
      write(c, _e, cb) {
        lines.push(String(c));
        cb();
      },
    }),
  });
  const parsed = () => lines.map((l) => JSON.parse(l) as Record<string, unknown>);
  return { logger, lines, parsed };
}

describe('analyzer alert sinks (webhook, Kafka)', () => {
  const hooks: Hook[] = [];
  afterEach(async () => {
    for (const h of hooks.splice(0)) await h.close();
  });
  const receiver = async () => {
    const h = await webhookReceiver();
    hooks.push(h);
    return h;
  };

  it('without the new settings only the log sink runs: nothing is produced, the outbox waits for the log alone', async () => {
    const t = setup(['--alerts.enabled=true']);
    const sig = signatureDocs(t.es);
    await t.app.start();
    try {
      t.events.deliver([encode(event(1))]);
      await until(() => t.events.acked.length === 1);
      expect(t.sent).toEqual([]);
      await until(() => sig.delivered()['httpd_t:shadow_t:file:read'] === true);
    } finally {
      await t.app.stop();
    }
  });

  it('the Kafka sink publishes exactly one message per new signature on avcstream.alerts.v1: the alert JSON with its caution, keyed by signature id', async () => {
    const t = setup(['--alerts.enabled=true', '--alerts.kafka.enabled=true']);
    signatureDocs(t.es);
    const policy = samplePolicy();
    await t.app.start();
    try {
      t.policies.deliver(policy.messages);
      await until(() => t.app.policyStore.lookup(policy.stateId).kind === 'ready');
      t.events.deliver([policy.denial(1, 'security_t'), policy.denial(2, 'security_t')]);
      await until(() => t.events.acked.length === 1);
      t.events.deliver([policy.denial(3, 'security_t')]);
      await until(() => t.events.acked.length === 2);
      await until(() => t.sent.length > 0);
      const out = t.sent.filter((s) => s.topic === 'avcstream.alerts.v1');
      expect(out).toHaveLength(1);
      expect(t.sent).toHaveLength(1);
      const msg = out[0]!;
      const alert = JSON.parse(msg.value.toString('utf8')) as Alert;
      expect(alert).toMatchObject({
        kind: 'new-signature',
        scope: 'fleet',
        host: 'web01',
        signature: { key: 'httpd_t:security_t:file:read' },
        verdict: 'TE_MISSING',
        caution: CAUTION,
        event: { serial: 1, comm: 'httpd' },
      });
      expect(msg.key).toBe(alert.signature.id);
      expect(msg.headers).toEqual({ 'avcstream-alert-id': alert.id });
    } finally {
      await t.app.stop();
    }
  });

  it('alerts.kafka.topic names the topic', async () => {
    const t = setup([
      '--alerts.enabled=true',
      '--alerts.kafka.enabled=true',
      '--alerts.kafka.topic=site1.alerts',
    ]);
    signatureDocs(t.es);
    await t.app.start();
    try {
      t.events.deliver([encode(event(1))]);
      await until(() => t.sent.length === 1);
      expect(t.sent.map((s) => s.topic)).toEqual(['site1.alerts']);
    } finally {
      await t.app.stop();
    }
  });

  it('the webhook gets the alert signed with the HMAC secret; the outbox is delivered only once log, webhook and Kafka all acknowledged', async () => {
    const hook = await receiver();
    hook.answer = () => null; // held until release()
    const t = setup([
      '--alerts.enabled=true',
      '--alerts.kafka.enabled=true',
      `--alerts.webhook.url=${hook.url}`,
      `--alerts.webhook.secret=${SECRET}`,
    ]);
    const sig = signatureDocs(t.es);
    const policy = samplePolicy();
    await t.app.start();
    try {
      t.policies.deliver(policy.messages);
      await until(() => t.app.policyStore.lookup(policy.stateId).kind === 'ready');
      t.events.deliver([policy.denial(1, 'security_t')]);
      await until(() => hook.requests.length === 1 && t.sent.length === 1);
      // The webhook has not answered: the batch is acked (the alert is in the outbox), the outbox not delivered.
      await until(() => t.events.acked.length === 1);
      await new Promise((r) => setTimeout(r, 50));
      expect(sig.delivered()).toEqual({ 'httpd_t:security_t:file:read': false });
      hook.release();
      await until(() => sig.delivered()['httpd_t:security_t:file:read'] === true);

      const req = hook.requests[0]!;
      expect(req.headers['content-type']).toBe('application/json');
      expect(req.headers['x-avcstream-signature']).toBe(
        `sha256=${createHmac('sha256', SECRET).update(req.body).digest('hex')}`,
      );
      const alert = JSON.parse(req.body) as Alert;
      expect(req.headers['x-avcstream-alert-id']).toBe(alert.id);
      expect(alert).toMatchObject({ signature: { key: 'httpd_t:security_t:file:read' }, caution: CAUTION });
      expect(JSON.parse(t.sent[0]!.value.toString('utf8'))).toEqual(alert);
    } finally {
      await t.app.stop();
    }
  });

  it('a failing webhook neither crashes nor stalls the analyzer: the alert stays in the outbox, is counted and logged, and is redelivered to every sink after the lease', async () => {
    const hook = await receiver();
    hook.answer = (n) => (n === 1 ? 500 : 200);
    const log = captureLogger();
    const t = setup(
      [
        '--alerts.enabled=true',
        '--alerts.kafka.enabled=true',
        `--alerts.webhook.url=${hook.url}`,
        `--alerts.webhook.secret=${SECRET}`,
        '--alerts.webhook.retries=0',
        '--alerts.leaseMs=1000',
      ],
      undefined,
      log.logger,
    );
    const sig = signatureDocs(t.es);
    await t.app.start();
    try {
      t.events.deliver([encode(event(1))]);
      await until(() => t.events.acked.length === 1);
      await until(() => log.parsed().some((l) => l.msg === 'alert sink failed'));
      expect(sig.delivered()).toEqual({ 'httpd_t:shadow_t:file:read': false });
      expect(await t.metrics.value('avcstream_analyzer_sink_errors_errors_total', { sink: 'webhook' })).toBe(
        1,
      );
      const failed = log.parsed().find((l) => l.msg === 'alert sink failed')!;
      expect(failed).toMatchObject({ level: 'warn', sink: 'webhook' });
      expect(JSON.stringify(failed)).not.toContain(SECRET);
      // Still consuming.
      t.events.deliver([encode(event(2))]);
      await until(() => t.events.acked.length === 2);

      // After the lease the claim is taken over and the alert sent again to every sink, with the same id.
      await until(() => sig.delivered()['httpd_t:shadow_t:file:read'] === true);
      expect(hook.requests).toHaveLength(2);
      const [first, again] = hook.requests.map((r) => JSON.parse(r.body) as Alert);
      expect(again).toMatchObject({ id: first!.id, redelivered: true });
      const kafka = t.sent.map((s) => JSON.parse(s.value.toString('utf8')) as Alert);
      expect(kafka.map((a) => [a.id, a.redelivered ?? false])).toEqual([
        [first!.id, false],
        [first!.id, true],
      ]);
    } finally {
      await t.app.stop();
    }
  });

  it('a failing Kafka sink is counted and leaves the alert in the outbox; the batch is still acked', async () => {
    const t = setup(['--alerts.enabled=true', '--alerts.kafka.enabled=true']);
    const sig = signatureDocs(t.es);
    await t.app.start();
    try {
      t.producer.failNext(1);
      t.events.deliver([encode(event(1))]);
      await until(() => t.events.acked.length === 1);
      await until(
        () => t.metrics.registry.getSingleMetric('avcstream_analyzer_sink_errors_errors_total') !== undefined,
      );
      await until(() => sig.docs.size > 0);
      await new Promise((r) => setTimeout(r, 50));
      expect(await t.metrics.value('avcstream_analyzer_sink_errors_errors_total', { sink: 'kafka' })).toBe(1);
      expect(sig.delivered()).toEqual({ 'httpd_t:shadow_t:file:read': false });
    } finally {
      await t.app.stop();
    }
  });

  it('on stop, a webhook delivery in flight is awaited (within shutdown.drainMs) before the producer and ES close', async () => {
    const hook = await receiver();
    hook.answer = () => null;
    const t = setup([
      '--alerts.enabled=true',
      `--alerts.webhook.url=${hook.url}`,
      `--alerts.webhook.secret=${SECRET}`,
      '--shutdown.drainMs=5000',
    ]);
    const sig = signatureDocs(t.es);
    await t.app.start();
    t.events.deliver([encode(event(1))]);
    await until(() => hook.requests.length === 1 && t.events.acked.length === 1);
    setTimeout(() => hook.release(), 300);
    await t.app.stop();
    expect(hook.aborted).toBe(0);
    expect(sig.delivered()).toEqual({ 'httpd_t:shadow_t:file:read': true });
    expect(t.calls).toEqual(['events.stop', 'policies.stop', 'producer.disconnect', 'es.close']);
  });

  it('on stop, a webhook that does not answer within shutdown.drainMs is aborted after the consumers stopped; the alert stays in the outbox', async () => {
    const hook = await receiver();
    hook.answer = () => null; // never answers
    const t = setup([
      '--alerts.enabled=true',
      `--alerts.webhook.url=${hook.url}`,
      `--alerts.webhook.secret=${SECRET}`,
      '--alerts.webhook.timeoutMs=60000',
      '--shutdown.drainMs=300',
    ]);
    hook.onAbort = () => t.calls.push('webhook.aborted');
    const sig = signatureDocs(t.es);
    await t.app.start();
    t.events.deliver([encode(event(1))]);
    await until(() => hook.requests.length === 1 && t.events.acked.length === 1);
    const started = Date.now();
    await t.app.stop();
    expect(Date.now() - started).toBeLessThan(5000);
    await until(() => hook.aborted === 1);
    expect(t.calls.indexOf('webhook.aborted')).toBeGreaterThan(t.calls.indexOf('policies.stop'));
    expect(sig.delivered()).toEqual({ 'httpd_t:shadow_t:file:read': false });
  });
});
