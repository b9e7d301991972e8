import { randomUUID } from 'node:crypto';
import {
  type AlertProducer,
  type AlertSink,
  createAlerter,
  createEsRegistry,
  pendingQuery,
  signaturesOf,
  type Alerter,
  type DenialContext,
} from '@avcstream/alerts';
import type { AuditRecord } from '@avcstream/audit';
import {
  decodeEventMessage,
  decodePolicyMessage,
  type DeadLetterMessage,
  encodeDeadLetterMessage,
  ES_MAPPINGS,
  type EventMessage,
  indexNames,
  makeDeadLetter,
  VERDICTS,
} from '@avcstream/contracts';
import type { BulkDoc, BulkResult, EsClient } from '@avcstream/elasticsearch';
import { createSendTracker, type KafkaBatch, type KafkaConsumer, type KafkaDelivery } from '@avcstream/kafka';
import { AvcError, backoffDelayMs, isRetriable } from '@avcstream/pipeline';
import { type Denial, defaultLabelAt } from '@avcstream/selinux-access';
import { createLogRateLimiter, type Logger, type Metrics } from '@avcstream/telemetry';
import { createAlertSinks } from './alert-sinks.ts';
import type { AnalyzerConfig } from './config.ts';
import { createPolicyStore, type PolicyLookup, type PolicyStore } from './policy-store.ts';
import { type Replay, toEcs } from './to-ecs.ts';

export type EsPort = Pick<
  EsClient,
  | 'waitUntilHealthy'
  | 'ensureIndexTemplates'
  | 'ensureIndices'
  | 'updateMappings'
  | 'bulkIndex'
  | 'createIfAbsent'
  | 'get'
  | 'update'
  | 'search'
  | 'close'
>;
export type ConsumerPort = Pick<
  KafkaConsumer,
  'connect' | 'batches' | 'pause' | 'resume' | 'stop' | 'restarting' | 'lastContactMs'
>;
export interface ProducerPort {
  connect(): Promise<void>;
  send(
    topic: string,
    messages: ReadonlyArray<{ key: string; value: Buffer; headers?: Record<string, string> }>,
  ): Promise<void>;
  disconnect(): Promise<void>;
}

export interface AnalyzerDeps {
  config: AnalyzerConfig;
  logger: Logger;
  metrics: Metrics;
  /** Consumer group on the events topic. */
  events: ConsumerPort;
  /** Consumer of the policy topic from the beginning (its own group per process). */
  policies: ConsumerPort;
  producer: ProducerPort;
  es: EsPort;
  ensureTopics?: () => Promise<void>;
  /** The webhook's HMAC secret when it comes from `alerts.webhook.secretFile` (main.ts reads the file). */
  webhookSecret?: string;
  now?: () => Date;
}

export interface AnalyzerApp {
  start(): Promise<void>;
  stop(): Promise<void>;
  ready(): boolean;
  markUnready(): void;
  stopIntake(): Promise<void>;
  drain(): Promise<void>;
  flush(): Promise<void>;
  disconnect(): Promise<void>;
  readonly policyStore: PolicyStore;
}

interface Prepared {
  delivery: KafkaDelivery;
  msg: EventMessage;
}

// Metric label values: bounded to the verdicts the contract knows.
const VERDICT_LABELS: ReadonlySet<string> = new Set(VERDICTS);

export function createApp(deps: AnalyzerDeps): AnalyzerApp {
  const { config, logger, metrics, es, producer } = deps;
  const now = deps.now ?? (() => new Date());
  const log = logger.child({ stage: 'analyze' });
  const idx = indexNames(config.elasticsearch.indexPrefix);
  const warnLimit = createLogRateLimiter(10, 10_000);

  const m = {
    consumed: metrics.counter('consumed', 'messages', 'Event messages consumed'),
    invalid: metrics.counter('invalid', 'messages', 'Invalid messages dead-lettered', ['reason']),
    deadletters: metrics.counter('deadletter', 'messages', 'Messages sent to the dead-letter topic (acked)', [
      'topic',
    ]),
    denials: metrics.counter('denials', 'documents', 'Denial documents indexed', ['verdict']),
    selinux: metrics.counter('selinux_events', 'documents', 'SELinux event documents indexed'),
    rejected: metrics.counter('rejected', 'documents', 'Documents Elasticsearch rejected (dead-lettered)'),
    bulkRetries: metrics.counter('bulk_retries', 'retries', 'Bulk requests retried (429, 5xx, ES down)'),
    batches: metrics.counter('committed', 'batches', 'Kafka batches acked after ES acked their documents'),
    policyMessages: metrics.counter('policy', 'messages', 'Policy topic messages applied', ['kind']),
    policyLoads: metrics.counter('policy_loads', 'loads', 'Policies parsed', ['result']),
    policyWaits: metrics.counter('policy_state', 'waits', "Waits for an event's policy state, by outcome", [
      'outcome',
    ]),
    noPolicy: metrics.counter('unreplayed', 'denials', 'Denials indexed without a decision', ['reason']),
    alerts: metrics.counter('alerts', 'alerts', 'Alerts emitted'),
    sinkErrors: metrics.counter(
      'sink_errors',
      'errors',
      'Alert deliveries that failed (the alert stays in the outbox and is redelivered)',
      ['sink'],
    ),
    esDown: metrics.gauge('es_down', 'state', '1 while Elasticsearch is failing and consumption is paused'),
    bulkSeconds: metrics.histogram(
      'bulk',
      'seconds',
      'Duration of bulk requests that succeeded',
      [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    ),
    batchSeconds: metrics.histogram(
      'batch',
      'seconds',
      'Kafka batch: received to acked',
      [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    ),
  };

  const policyStore = createPolicyStore<KafkaDelivery>({
    maxLoaded: config.processing.maxLoadedPolicies,
    missTtlMs: config.processing.policyMissTtlMs,
    now: () => now().getTime(),
    onWait: (_stateId, outcome) => m.policyWaits.inc({ outcome }),
    onLoad: (sha256, ok, durationMs, error) => {
      m.policyLoads.inc({ result: ok ? 'ok' : 'error' });
      if (ok) log.info({ sha256, durationMs }, 'policy loaded');
      else log.warn({ sha256, error }, 'policy could not be loaded');
    },
    // A binary that does not reassemble or parse: its chunk messages are bad input, like an invalid message.
    onInvalid: (_sha256, error, deliveries) => {
      for (const d of deliveries) {
        m.invalid.inc({ reason: 'AVC_ERR_ANALYZER_POLICY_INVALID' });
        const enc = encodeDeadLetterMessage(deadLetterOf(d, null, 'AVC_ERR_ANALYZER_POLICY_INVALID', error));
        if (!enc.ok) continue;
        const p = sendWithRetry(config.kafka.deadletterTopic, [{ key: '', value: enc.value }]).then(
          (sent) => {
            if (sent) m.deadletters.inc({ topic: 'policy' });
          },
        );
        const tracked: Promise<void> = p.finally(() => background.delete(tracked));
        background.add(tracked);
      }
    },
  });
  /** Dead letters sent outside a batch (invalid policy binaries); awaited before disconnecting. */
  const background = new Set<Promise<void>>();

  const abort = new AbortController();
  let ready = false;
  let stopping = false;
  let esFailing = 0;
  let eventsLoop: Promise<void> | undefined;
  let policyLoop: Promise<void> | undefined;
  /** A consumer loop ended while running (its stream failed): nothing is consumed any more. */
  let loopEnded = false;
  let startedAtMs = 0;
  let kafkaProblem: string | null = null;
  /** Why the Kafka side is not ready (`restarting`, `no-contact`, `consumer-stopped`), or null; logged on change. */
  const kafkaNotReady = (): string | null => {
    const staleMs = Math.max(config.kafka.contactStaleMs, 2 * config.kafka.heartbeatIntervalMs);
    const t = now().getTime();
    let problem: string | null = null;
    if (loopEnded) problem = 'consumer-stopped';
    else {
      for (const c of [deps.events, deps.policies]) {
        if (c.restarting) problem = 'restarting';
        else if (t - (c.lastContactMs ?? startedAtMs) > staleMs) problem = 'no-contact';
        if (problem !== null) break;
      }
    }
    if (problem !== kafkaProblem) {
      kafkaProblem = problem;
      if (problem !== null) log.warn({ reason: problem, staleMs }, 'kafka consumer unhealthy, not ready');
      else log.info({}, 'kafka consumers healthy again, ready');
    }
    return problem;
  };
  const sends = createSendTracker({
    stallMs: config.kafka.sendStallMs,
    now: () => now().getTime(),
    log,
  });
  const handlers = new Set<Promise<void>>();
  let slotWaiters: Array<() => void> = [];

  let alerter: Alerter | undefined;
  let sinks: AlertSink[] = [];
  /** End of the shutdown drain (`shutdown.drainMs` from its start): batches, then alert deliveries. */
  let drainDeadline: number | undefined;
  if (config.alerts.enabled) {
    // The Kafka sink publishes with the analyzer's producer; its sends count for readiness as dead letters do.
    const alertProducer: AlertProducer = {
      send: (topic, messages) =>
        sends.track(() =>
          producer.send(
            topic,
            messages.map((x) => ({
              key: x.key,
              value: Buffer.from(x.value, 'utf8'),
              ...(x.headers === undefined ? {} : { headers: x.headers }),
            })),
          ),
        ),
    };
    sinks = createAlertSinks({
      alerts: config.alerts,
      logger: logger.child({ stage: 'alerts' }),
      producer: alertProducer,
      ...(deps.webhookSecret === undefined ? {} : { webhookSecret: deps.webhookSecret }),
    });
    alerter = createAlerter({
      // An outbox: the signature document records the alert undelivered; a crash before the sink acknowledged
      // it is taken over after `leaseMs` by a running analyzer (see `redeliver` below).
      registry: createEsRegistry({
        createIfAbsent: (index, id, doc) => es.createIfAbsent(index, id, doc),
        get: (index, id) => es.get<Record<string, unknown>>(index, id),
        update: (index, id, doc, cond) =>
          es.update(
            index,
            id,
            doc,
            cond === undefined ? {} : { ifSeqNo: cond.seqNo, ifPrimaryTerm: cond.primaryTerm },
          ),
        findPending: async (index, claimedBefore, size) =>
          (await es.search<Record<string, unknown>>(index, pendingQuery(claimedBefore, size))).hits.flatMap(
            (h) =>
              h.seqNo !== undefined && h.primaryTerm !== undefined
                ? [{ id: h.id, source: h.source, seqNo: h.seqNo, primaryTerm: h.primaryTerm }]
                : [],
          ),
        index: idx.signatures,
        instanceId: `${config.analyzerId}/${randomUUID().slice(0, 8)}`,
        // The document is delivered once every sink acknowledged the alert.
        sinks: sinks.map((s) => s.name),
        leaseMs: config.alerts.leaseMs,
      }),
      sinks,
      signature: { permissionSet: true },
      hostScope: config.alerts.hostScope,
      rateLimitWindowMs: config.alerts.rateLimitWindowMs,
      ignore: [...config.alerts.ignore],
      // The outbox holds each alert until its sinks acknowledge: a slow or down webhook (or Kafka) delivers in
      // the background instead of stalling indexing (at most 256 deliveries in flight, then batches wait).
      awaitSinks: false,
      onSinkError: (sink, alertId, err) => {
        m.sinkErrors.inc({ sink });
        log.warn({ sink, alertId, err }, 'alert sink failed');
      },
    });
  }

  /**
   * Takes over and redelivers alerts whose claim outlived the lease: a sink failed, or an analyzer crashed
   * before its sinks acknowledged.
   */
  let redeliverTimer: ReturnType<typeof setInterval> | undefined;
  /** The redelivery running now (awaited before the sinks are flushed at shutdown). */
  let redelivering: Promise<void> | undefined;
  const redeliver = async () => {
    if (alerter === undefined) return;
    try {
      const again = await alerter.redeliverPending();
      if (again.length > 0) {
        m.alerts.inc(again.length);
        log.warn(
          { alerts: again.length },
          'redelivered alerts left undelivered by a failed sink or analyzer',
        );
      }
    } catch (err) {
      if (warnLimit.take() !== null) log.warn({ err }, 'alert redelivery failed');
    }
  };

  const sleep = (ms: number) =>
    new Promise<void>((resolve) => {
      const t = setTimeout(resolve, ms);
      abort.signal.addEventListener('abort', () => {
        clearTimeout(t);
        resolve();
      });
    });

  const esUp = () => {
    if (esFailing > 0) {
      esFailing = 0;
      m.esDown.set(0);
      deps.events.resume();
      log.info({}, 'elasticsearch is back, consumption resumed');
    }
  };
  const esDown = (err: unknown, attempt: number) => {
    if (esFailing === 0) {
      deps.events.pause();
      m.esDown.set(1);
      log.warn({ err }, 'elasticsearch failing, consumption paused');
    }
    esFailing++;
    m.bulkRetries.inc();
    return backoffDelayMs(attempt, 250, 5000);
  };

  /** Index until every document is acked or rejected for good. Returns the ids rejected (not retriable). */
  const indexAll = async (index: string, docs: BulkDoc[]): Promise<Map<string, string> | null> => {
    const rejected = new Map<string, string>();
    let todo = docs;
    for (let attempt = 1; todo.length > 0; attempt++) {
      if (abort.signal.aborted) return null;
      let res: BulkResult;
      const started = performance.now();
      try {
        res = await es.bulkIndex(index, todo, {
          attempts: 2,
          initialDelayMs: 100,
          maxDelayMs: 1000,
          refresh: config.elasticsearch.refreshWaitFor ? 'wait_for' : false,
        });
      } catch (err) {
        if (!isRetriable(err) && !(err instanceof AvcError && err.code === 'AVC_ERR_ES_UNAVAILABLE')) {
          // Not a transient failure of ES: treat every document as rejected.
          for (const d of todo)
            rejected.set(d.id, `elasticsearch error: ${String((err as Error).message).slice(0, 300)}`);
          return rejected;
        }
        await sleep(esDown(err, attempt));
        continue;
      }
      m.bulkSeconds.observe((performance.now() - started) / 1000);
      const retryIds = new Set<string>();
      for (const f of res.failures) {
        if (f.retriable) retryIds.add(f.id);
        else rejected.set(f.id, `${f.type}: ${f.reason}`.slice(0, 1000));
      }
      if (retryIds.size === 0) {
        esUp();
        break;
      }
      todo = todo.filter((d) => retryIds.has(d.id));
      await sleep(
        esDown(
          new AvcError('AVC_ERR_ES_BULK_PARTIAL', 'bulk partially failed', { retriable: true }),
          attempt,
        ),
      );
    }
    return rejected;
  };

  // Tracked from the first attempt to the last: readiness sees a send that kafkajs (or this loop) keeps retrying.
  const sendWithRetry = (topic: string, messages: Array<{ key: string; value: Buffer }>) =>
    sends.track(async () => {
      for (let attempt = 1; ; attempt++) {
        if (abort.signal.aborted) return false;
        try {
          await producer.send(topic, messages);
          return true;
        } catch (err) {
          if (warnLimit.take() !== null) log.warn({ err, attempt }, 'dead-letter send failed, retrying');
          await sleep(backoffDelayMs(attempt, 200, 5000));
        }
      }
    });

  const deadLetterOf = (
    d: KafkaDelivery,
    host: string | null,
    code: string,
    message: string,
  ): DeadLetterMessage =>
    makeDeadLetter({
      component: 'analyzer',
      host,
      code,
      message,
      raw: d.value,
      source: {
        kind: 'kafka',
        topic: d.topic,
        partition: d.partition,
        offset: d.offset,
        key: d.key?.slice(0, 1000) ?? null,
      },
      at: now(),
    });

  const replayWith =
    (lookup: PolicyLookup | undefined) =>
    (denial: Denial, objectPath: string | null): Replay => {
      if (lookup === undefined)
        return {
          explanation: null,
          error: 'event has no policy state (SELinux off or unreadable on the host)',
        };
      if (lookup.kind === 'pending')
        return { explanation: null, error: `policy ${lookup.reason} not received in time` };
      if (lookup.kind === 'error') return { explanation: null, error: lookup.message };
      try {
        // The file's default label under the host's file_contexts, when the event names the object: restorecon
        // is offered when that label would allow the access.
        const label = defaultLabelAt(lookup.fileContexts, objectPath, denial.tclass, denial.tcontext);
        const withLabel = label === null ? denial : { ...denial, defaultLabel: label };
        return { explanation: lookup.explainer.explain(withLabel, lookup.booleans), error: null };
      } catch (err) {
        return {
          explanation: null,
          error: `decision failed: ${String((err as Error).message).slice(0, 500)}`,
        };
      }
    };

  const signatureOf =
    (host: string) => (_denial: Denial, record: AuditRecord, path: string | null, exe: string | null) => {
      const ctx: DenialContext = {
        host,
        time: '',
        serial: record.serial,
        avc: record.avc!,
        pid: null,
        comm: null,
        exe,
        path,
      };
      return signaturesOf(ctx, { permissionSet: true })[0]!.id;
    };

  const handleBatch = async (batch: KafkaBatch) => {
    const received = performance.now();
    const dead: DeadLetterMessage[] = [];
    const prepared: Prepared[] = [];
    for (const d of batch.deliveries) {
      m.consumed.inc();
      const dec = decodeEventMessage(d.value);
      if (!dec.ok) {
        m.invalid.inc({ reason: dec.error.code });
        if (warnLimit.take() !== null) {
          log.warn(
            { code: dec.error.code, partition: d.partition, offset: d.offset },
            'invalid message, dead-lettered',
          );
        }
        dead.push(deadLetterOf(d, null, dec.error.code, dec.error.message));
        continue;
      }
      prepared.push({ delivery: d, msg: dec.value });
    }

    // Policy states referenced by this batch: wait for the policy consumer to have them.
    const lookups = new Map<string, PolicyLookup>();
    for (const p of prepared) {
      const ref = p.msg.policy;
      if (ref === null || lookups.has(ref.stateId)) continue;
      const hasDenial = p.msg.event.records.some((r) => r.avc?.decision === 'denied');
      if (!hasDenial) continue;
      lookups.set(
        ref.stateId,
        await policyStore.waitFor(ref.stateId, config.processing.policyWaitMs, abort.signal),
      );
    }
    if (abort.signal.aborted) {
      batch.nack();
      return;
    }

    const ingestedAt = now();
    const denialDocs: BulkDoc[] = [];
    const selinuxDocs: BulkDoc[] = [];
    const owner = new Map<string, Prepared>();
    const alertsTodo: Array<{ ctx: DenialContext; ex: Parameters<Alerter['process']>[1] }> = [];
    const verdicts: string[] = [];
    for (const p of prepared) {
      const lookup = p.msg.policy === null ? undefined : lookups.get(p.msg.policy.stateId);
      const docs = toEcs(
        p.msg,
        { partition: p.delivery.partition, offset: p.delivery.offset },
        ingestedAt,
        replayWith(lookup),
        signatureOf(p.msg.host),
      );
      for (const d of docs.denials) {
        denialDocs.push({ id: d.id, doc: d.doc });
        owner.set(d.id, p);
        const v = d.doc.decision.verdict;
        verdicts.push(v !== null && VERDICT_LABELS.has(v) ? v : 'none');
        if (v === null) m.noPolicy.inc({ reason: lookup === undefined ? 'no_state' : lookup.kind });
        alertsTodo.push({
          ctx: {
            host: p.msg.host,
            time: d.doc['@timestamp'],
            serial: d.record.serial,
            avc: d.record.avc!,
            pid: d.doc.process.pid,
            comm: d.doc.process.name,
            exe: d.doc.process.executable,
            path: d.doc.file.path,
          },
          ex: d.explanation,
        });
      }
      for (const d of docs.selinux) {
        selinuxDocs.push(d);
        owner.set(d.id, p);
      }
    }

    const rejected = new Map<string, string>();
    for (const [index, docs] of [
      [idx.denials, denialDocs],
      [idx.selinuxEvents, selinuxDocs],
    ] as const) {
      if (docs.length === 0) continue;
      const r = await indexAll(index, docs);
      if (r === null) {
        batch.nack();
        return;
      }
      for (const [id, why] of r) rejected.set(id, why);
    }
    // A message with a document ES refused for good is dead-lettered (once) with the reason.
    const deadOwners = new Set<Prepared>();
    for (const [id, why] of rejected) {
      const p = owner.get(id);
      m.rejected.inc();
      if (p === undefined || deadOwners.has(p)) continue;
      deadOwners.add(p);
      dead.push(deadLetterOf(p.delivery, p.msg.host, 'AVC_ERR_ANALYZER_ES_REJECTED', why));
    }
    if (dead.length > 0) {
      const out = dead.map((x) => {
        const enc = encodeDeadLetterMessage(x);
        if (!enc.ok) throw new Error(`dead letter does not validate: ${enc.error.message}`);
        return { key: x.host ?? '', value: enc.value };
      });
      if (!(await sendWithRetry(config.kafka.deadletterTopic, out))) {
        batch.nack();
        return;
      }
      m.deadletters.inc({ topic: 'events' }, out.length);
    }
    for (const v of verdicts) m.denials.inc({ verdict: v });
    m.selinux.inc(selinuxDocs.length);

    if (alerter !== undefined) {
      for (const a of alertsTodo) {
        try {
          const sent = await alerter.process(a.ctx, a.ex);
          m.alerts.inc(sent.length);
        } catch (err) {
          // Alerts never block indexing: a failed claim is logged; the denial is indexed already.
          if (warnLimit.take() !== null) log.warn({ err }, 'alert processing failed');
        }
      }
    }
    await batch.ack();
    m.batches.inc();
    m.batchSeconds.observe((performance.now() - received) / 1000);
  };

  const runEvents = async () => {
    for await (const batch of deps.events.batches()) {
      while (handlers.size >= config.processing.maxInFlightBatches) {
        await new Promise<void>((resolve) => slotWaiters.push(resolve));
      }
      const h: Promise<void> = handleBatch(batch)
        .catch((err) => {
          log.error({ err, partition: batch.partition }, 'batch failed, it will be redelivered');
          batch.nack();
        })
        .finally(() => {
          handlers.delete(h);
          const ws = slotWaiters;
          slotWaiters = [];
          for (const w of ws) w();
        });
      handlers.add(h);
    }
  };

  const runPolicies = async () => {
    for await (const batch of deps.policies.batches()) {
      for (const d of batch.deliveries) {
        if (d.value.length === 0) continue; // tombstone
        const dec = decodePolicyMessage(d.value);
        if (!dec.ok) {
          m.invalid.inc({ reason: dec.error.code });
          const dl = deadLetterOf(d, null, dec.error.code, dec.error.message);
          const enc = encodeDeadLetterMessage(dl);
          if (
            enc.ok &&
            (await sendWithRetry(config.kafka.deadletterTopic, [{ key: '', value: enc.value }]))
          ) {
            m.deadletters.inc({ topic: 'policy' });
          }
          continue;
        }
        policyStore.apply(dec.value, d);
        m.policyMessages.inc({ kind: dec.value.kind });
      }
      void batch.ack();
    }
  };

  const app: AnalyzerApp = {
    policyStore,
    async start() {
      await es.waitUntilHealthy({ timeoutMs: 120_000 });
      await es.ensureIndexTemplates([
        {
          name: `${idx.denials}-template`,
          indexPatterns: [`${idx.denials}*`],
          mappings: ES_MAPPINGS.denials as unknown as Record<string, unknown>,
          settings: { number_of_shards: 1, number_of_replicas: 0, refresh_interval: '1s' },
        },
        {
          name: `${idx.selinuxEvents}-template`,
          indexPatterns: [`${idx.selinuxEvents}*`],
          mappings: ES_MAPPINGS.selinuxEvents as unknown as Record<string, unknown>,
          settings: { number_of_shards: 1, number_of_replicas: 0 },
        },
        {
          name: `${idx.signatures}-template`,
          indexPatterns: [`${idx.signatures}*`],
          mappings: ES_MAPPINGS.signatures as unknown as Record<string, unknown>,
          settings: { number_of_shards: 1, number_of_replicas: 0 },
        },
      ]);
      // Created now (their templates apply), so the first bulk request does not wait for the index creation.
      await es.ensureIndices([idx.denials, idx.selinuxEvents, idx.signatures]);
      // Indices created by an older version keep their mapping (strict): add the fields added since.
      await es.updateMappings(`${idx.denials}*`, ES_MAPPINGS.denials as unknown as Record<string, unknown>);
      await producer.connect();
      if (deps.ensureTopics) await deps.ensureTopics();
      await deps.policies.connect();
      startedAtMs = now().getTime();
      policyLoop = runPolicies()
        .catch((err) => {
          log.error({ err }, 'policy consumer stopped');
        })
        .finally(() => {
          if (!stopping) loopEnded = true;
        });
      if (alerter !== undefined) {
        await redeliver();
        redeliverTimer = setInterval(
          () => {
            if (redelivering !== undefined) return;
            redelivering = redeliver().finally(() => {
              redelivering = undefined;
            });
          },
          Math.max(1000, Math.floor(config.alerts.leaseMs / 2)),
        );
        redeliverTimer.unref();
      }
      await deps.events.connect();
      eventsLoop = runEvents()
        .catch((err) => {
          log.error({ err }, 'event consumer stopped');
        })
        .finally(() => {
          if (!stopping) loopEnded = true;
        });
      ready = true;
      log.info({ indices: idx }, 'analyzer started');
    },
    // Kafka checked before ES, so that a change is logged even while ES is failing.
    // Not ready while a send is stalled (Kafka down); checked first so that a change is always logged.
    ready: () => !sends.stalled() && ready && !stopping && kafkaNotReady() === null && esFailing === 0,
    markUnready() {
      ready = false;
    },
    async stopIntake() {
      stopping = true;
      ready = false;
      deps.events.pause();
    },
    async drain() {
      drainDeadline ??= Date.now() + config.shutdown.drainMs;
      const deadline = drainDeadline;
      while (handlers.size > 0 && Date.now() < deadline) {
        await Promise.race([Promise.allSettled([...handlers]), new Promise((r) => setTimeout(r, 100))]);
      }
      // Whatever is still stuck (ES down) gives up: it is redelivered after the restart.
      abort.abort();
      await Promise.allSettled([...handlers]);
    },
    async flush() {
      if (redeliverTimer !== undefined) clearInterval(redeliverTimer);
      redeliverTimer = undefined;
      if (alerter === undefined) return;
      await redelivering;
      await alerter.flush(true).catch(() => []);
      // Deliveries in flight (background) get what is left of `shutdown.drainMs`; those still running then are
      // aborted when the sinks close (after the consumers stopped) and stay in the outbox for redelivery.
      const deadline = drainDeadline ?? Date.now() + config.shutdown.drainMs;
      let timer: ReturnType<typeof setTimeout> | undefined;
      const late = await Promise.race([
        alerter.drain().then(() => false),
        new Promise<boolean>((resolve) => {
          timer = setTimeout(() => resolve(true), Math.max(0, deadline - Date.now()));
        }),
      ]);
      clearTimeout(timer);
      if (late)
        log.warn(
          { drainMs: config.shutdown.drainMs },
          'alert deliveries still in flight at shutdown, aborting them',
        );
    },
    async disconnect() {
      abort.abort();
      if (redeliverTimer !== undefined) clearInterval(redeliverTimer);
      await deps.events.stop(0);
      await eventsLoop;
      await deps.policies.stop(0);
      await policyLoop;
      await Promise.allSettled([...background]);
      // Sinks close once nothing is consumed any more; before the producer the Kafka sink writes with.
      await Promise.allSettled(sinks.map((s) => s.close?.()));
      await producer.disconnect();
      await es.close();
    },
    async stop() {
      app.markUnready();
      await app.stopIntake();
      await app.drain();
      await app.flush();
      await app.disconnect();
    },
  };
  return app;
}
