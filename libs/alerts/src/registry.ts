import { createHash } from 'node:crypto';
import type { Alert, ClaimRequest, ClaimResult, RateWindowRecord, SignatureRegistry } from './types.ts';

/** In-memory registry (tests, and one-shot runs without a state dir). */
export function createMemoryRegistry(): SignatureRegistry & { readonly acks: Array<[string, string]> } {
  const fleet = new Set<string>();
  const hosts = new Set<string>();
  const acks: Array<[string, string]> = [];
  return {
    acks,
    claim(req) {
      const hk = `${req.host}\u0000${req.signature.id}`;
      const result = { newFleet: !fleet.has(req.signature.id), newHost: !hosts.has(hk) };
      fleet.add(req.signature.id);
      hosts.add(hk);
      req.alerts(result);
      return result;
    },
    delivered(alertId: string, sink: string) {
      acks.push([alertId, sink]);
    },
  };
}

/** The subset of `@avcstream/store`'s Store the embedded registry needs. */
export interface StoreLike {
  claimSignature(input: {
    sigId: string;
    key: string;
    host: string;
    time: string;
    alerts?: (r: ClaimResult) => Array<{ id: string; alert: Record<string, unknown>; sinks: string[] }>;
    windows?: () => Array<Omit<RateWindowRecord, 'data'> & { data: Record<string, unknown> }>;
  }): ClaimResult;
  markDelivered(alertId: string, sink: string): void;
  pendingAlerts(): Array<{ id: string; alert: Record<string, unknown>; pendingSinks: string[] }>;
  recordRepeat(input: {
    id: string;
    alert: Record<string, unknown>;
    sinks: string[];
    windowId: string;
  }): boolean;
}

/**
 * Embedded registry over the durable state dir: the claim and the alerts it produced (with the sinks that must
 * deliver them) are fsynced in one journal record before any sink sees the alert.
 */
export function createStoreRegistry(store: StoreLike, sinkNames: readonly string[]): SignatureRegistry {
  return {
    claim(req: ClaimRequest) {
      return store.claimSignature({
        sigId: req.signature.id,
        key: req.signature.key,
        host: req.host,
        time: req.time,
        alerts: (r) =>
          req.alerts(r).map((a) => ({
            id: a.id,
            alert: a as unknown as Record<string, unknown>,
            sinks: [...sinkNames],
          })),
        ...(req.windows === undefined
          ? {}
          : {
              windows: () =>
                (req.windows?.() ?? []).map((w) => ({
                  ...w,
                  data: w.data as unknown as Record<string, unknown>,
                })),
            }),
      });
    },
    recordRepeat(alert, windowId) {
      return store.recordRepeat({
        id: alert.id,
        alert: alert as unknown as Record<string, unknown>,
        sinks: [...sinkNames],
        windowId,
      });
    },
    delivered(alertId, sink) {
      store.markDelivered(alertId, sink);
    },
    pending() {
      return store
        .pendingAlerts()
        .map((p) => ({ alert: p.alert as unknown as Alert, sinks: p.pendingSinks }));
    },
  };
}

/** `createIfAbsent(index, id, doc)`: an atomic ES `create` (op_type=create); true when this call created it. */
export type CreateIfAbsent = (index: string, id: string, doc: Record<string, unknown>) => Promise<boolean>;

/** `get(index, id)`: the document's source, or undefined when there is none. */
export type GetDocument = (index: string, id: string) => Promise<Record<string, unknown> | undefined>;

/**
 * `update(index, id, partial, cond)`: a partial update; with `cond`, only if the document is still at that
 * `_seq_no`/`_primary_term` (ES `if_seq_no`/`if_primary_term`). True when applied, false on a version conflict.
 */
export type UpdateDocument = (
  index: string,
  id: string,
  partial: Record<string, unknown>,
  cond?: { seqNo: number; primaryTerm: number },
) => Promise<boolean>;

/** An outbox document found by `findPending`, with the version a takeover is conditional on. */
export interface PendingDocument {
  id: string;
  source: Record<string, unknown>;
  seqNo: number;
  primaryTerm: number;
}

/**
 * `findPending(index, claimedBefore, size)`: up to `size` documents with `delivered: false` and `claimed_at`
 * before the ISO time `claimedBefore`. On ES: a search with `pendingQuery(...)` and `seq_no_primary_term`.
 */
export type FindPending = (index: string, claimedBefore: string, size: number) => Promise<PendingDocument[]>;

/** The search body `findPending` runs on Elasticsearch. */
export function pendingQuery(claimedBefore: string, size: number): Record<string, unknown> {
  return {
    size,
    seq_no_primary_term: true,
    sort: [{ claimed_at: 'asc' }],
    query: {
      bool: { filter: [{ term: { delivered: false } }, { range: { claimed_at: { lt: claimedBefore } } }] },
    },
  };
}

/**
 * Fleet-wide registry on Elasticsearch: a signature is new for exactly one caller, the one whose `create` of
 * the signature document succeeded (the others get a 409). "New on host" uses a second document whose id
 * hashes host and signature. The fleet document names the host that created it: a caller that lost the
 * fleet race on the winner's own host stays silent, since the fleet winner alerts for that host (two
 * analyzers given the same host's denial after a rebalance alert once, not twice).
 *
 * Outbox: the document that wins is created with the alert it raises (`alerts`), `delivered: false`,
 * `claimed_by` (this instance) and `claimed_at`; once every sink acknowledged, it is updated to
 * `delivered: true`. `pending()` finds undelivered documents whose claim is older than `leaseMs` (a crashed or
 * stuck analyzer) and takes each over with an update conditional on its `_seq_no`/`_primary_term`: only the
 * analyzer whose takeover succeeded redelivers it. With `update`/`findPending` absent there is no outbox.
 */
export function createEsRegistry(opts: {
  createIfAbsent: CreateIfAbsent;
  /** Reads the fleet document back; without it, a lost fleet race on the winner's own host alerts twice. */
  get?: GetDocument;
  /** Marks documents delivered and takes stale claims over (outbox). */
  update?: UpdateDocument;
  findPending?: FindPending;
  index: string;
  /** This analyzer, written as `claimed_by`. Default `pid-<pid>`. */
  instanceId?: string;
  /** Sinks that must acknowledge before a document is delivered. Default: the first acknowledgement. */
  sinks?: readonly string[];
  /** An undelivered claim older than this is taken over by `pending()`. Default 60 s. */
  leaseMs?: number;
  /** Documents taken over per `pending()` call. Default 100. */
  batchSize?: number;
  now?: () => number;
  /** Ids known to exist, cached to skip requests. Default 100 000. */
  cacheSize?: number;
}): SignatureRegistry {
  const known = new Set<string>();
  const cacheSize = opts.cacheSize ?? 100_000;
  const now = opts.now ?? Date.now;
  const leaseMs = opts.leaseMs ?? 60_000;
  const instanceId = opts.instanceId ?? `pid-${process.pid}`;
  const outbox = opts.update !== undefined;
  /** Alert id -> its outbox document and the sinks still to acknowledge. */
  const unacked = new Map<string, { docId: string; sinks: Set<string> }>();
  const remember = (id: string) => {
    known.add(id);
    if (known.size > cacheSize) known.delete(known.values().next().value as string);
  };
  const track = (docId: string, alerts: readonly Alert[]) => {
    for (const a of alerts) unacked.set(a.id, { docId, sinks: new Set(opts.sinks ?? []) });
  };
  /** Outbox fields of a new document; `alerts` undefined: not known yet (recorded by an update after). */
  const claimFields = (alerts: readonly Alert[] | undefined) =>
    outbox
      ? {
          alerts: (alerts ?? []) as unknown as Record<string, unknown>[],
          delivered: alerts !== undefined && alerts.length === 0,
          claimed_by: instanceId,
          claimed_at: new Date(now()).toISOString(),
        }
      : {};
  return {
    async claim(req) {
      const sig = req.signature;
      const doc = {
        signature: {
          id: sig.id,
          key: sig.key,
          source_type: sig.sourceType,
          target_type: sig.targetType,
          class: sig.class,
          perms: sig.perms,
          ...(sig.exe !== undefined ? { exe: sig.exe } : {}),
          ...(sig.path !== undefined ? { path: sig.path } : {}),
        },
        '@timestamp': req.time,
        first_seen: req.time,
      };
      const hostId = `h-${createHash('sha256').update(`${req.host}\u0000${sig.id}`).digest('hex').slice(0, 40)}`;
      // Each document is created together with the alert it raises (`req.preview`: built for the result its
      // create would give, without side effects), so a crash after the create leaves an undelivered outbox
      // entry instead of a lost alert. `req.alerts` is called once, with the final result.
      // Fleet document first: known ids are cached locally to save round trips.
      let newFleet = false;
      let payload: Alert[] | undefined;
      if (!known.has(sig.id)) {
        payload = req.preview?.({ newFleet: true, newHost: true });
        newFleet = await opts.createIfAbsent(opts.index, sig.id, {
          ...doc,
          scope: 'fleet',
          host: { name: req.host },
          ...claimFields(payload),
        });
      }
      remember(sig.id);
      let newHost = false;
      if (!known.has(hostId)) {
        let sameHostAsFleet = false;
        if (!newFleet && opts.get !== undefined) {
          // Lost the fleet race (or restarted): when the fleet winner is this same host, it alerts for it.
          const fleetDoc = await opts.get(opts.index, sig.id);
          sameHostAsFleet = (fleetDoc?.host as { name?: unknown } | undefined)?.name === req.host;
        }
        if (newFleet || !sameHostAsFleet) {
          // With the fleet document won, the fleet alert covers this host: the host document raises nothing.
          const hostPayload = newFleet ? [] : req.preview?.({ newFleet: false, newHost: true });
          newHost = await opts.createIfAbsent(opts.index, hostId, {
            ...doc,
            scope: 'host',
            host: { name: req.host },
            ...claimFields(hostPayload),
          });
          if (!newFleet) payload = hostPayload;
        }
      }
      remember(hostId);
      const result = { newFleet, newHost };
      const alerts = req.alerts(result);
      if (outbox && opts.update !== undefined && (newFleet || newHost)) {
        const docId = newFleet ? sig.id : hostId;
        const same =
          payload !== undefined &&
          payload.length === alerts.length &&
          payload.every((p, i) => p.id === alerts[i]?.id);
        // The preview differs (none given, or the rate limit held the host alert back): record what goes out.
        if (!same) await opts.update(opts.index, docId, { alerts, delivered: alerts.length === 0 });
        track(docId, alerts);
      }
      return result;
    },
    async delivered(alertId, sink) {
      const u = unacked.get(alertId);
      if (u === undefined || opts.update === undefined) return;
      u.sinks.delete(sink);
      if (u.sinks.size > 0) return;
      unacked.delete(alertId);
      await opts.update(opts.index, u.docId, { delivered: true });
    },
    async pending() {
      if (opts.update === undefined || opts.findPending === undefined) return [];
      const t = now();
      const stale = await opts.findPending(
        opts.index,
        new Date(t - leaseMs).toISOString(),
        opts.batchSize ?? 100,
      );
      const out: Array<{ alert: Alert; sinks?: string[] }> = [];
      for (const d of stale) {
        const won = await opts.update(
          opts.index,
          d.id,
          { claimed_by: instanceId, claimed_at: new Date(t).toISOString() },
          { seqNo: d.seqNo, primaryTerm: d.primaryTerm },
        );
        if (!won) continue; // another analyzer took it over (or it was just delivered)
        const alerts = Array.isArray(d.source.alerts) ? (d.source.alerts as unknown as Alert[]) : [];
        if (alerts.length === 0) {
          await opts.update(opts.index, d.id, { delivered: true });
          continue;
        }
        track(d.id, alerts);
        for (const a of alerts)
          out.push(opts.sinks === undefined ? { alert: a } : { alert: a, sinks: [...opts.sinks] });
      }
      return out;
    },
  };
}
