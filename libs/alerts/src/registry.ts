import { createHash } from 'node:crypto';
import type { Alert, ClaimRequest, ClaimResult, SignatureRegistry } from './types.ts';

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
  }): ClaimResult;
  markDelivered(alertId: string, sink: string): void;
  pendingAlerts(): Array<{ id: string; alert: Record<string, unknown>; pendingSinks: string[] }>;
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
 * Fleet-wide registry on Elasticsearch: a signature is new for exactly one caller, the one whose `create` of
 * the signature document succeeded (the others get a 409). "New on host" uses a second document whose id
 * hashes host and signature. The fleet document names the host that created it: a caller that lost the
 * fleet race but won the host document of that same host stays silent, since the fleet winner alerts for
 * that host (two analyzers given the same host's denial after a rebalance alert once, not twice).
 */
export function createEsRegistry(opts: {
  createIfAbsent: CreateIfAbsent;
  /** Reads the fleet document back; without it, a lost fleet race on the winner's own host alerts twice. */
  get?: GetDocument;
  index: string;
  /** Ids known to exist, cached to skip requests. Default 100 000. */
  cacheSize?: number;
}): SignatureRegistry {
  const known = new Set<string>();
  const cacheSize = opts.cacheSize ?? 100_000;
  const remember = (id: string) => {
    known.add(id);
    if (known.size > cacheSize) known.delete(known.values().next().value as string);
  };
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
      // Fleet document first: a crash between the two creates downgrades the alert to "new on host" on
      // redelivery instead of losing it. Known ids are cached locally to save round trips.
      const newFleet = known.has(sig.id)
        ? false
        : await opts.createIfAbsent(opts.index, sig.id, { ...doc, scope: 'fleet', host: { name: req.host } });
      remember(sig.id);
      let newHost = known.has(hostId)
        ? false
        : await opts.createIfAbsent(opts.index, hostId, { ...doc, scope: 'host', host: { name: req.host } });
      remember(hostId);
      if (newHost && !newFleet && opts.get !== undefined) {
        const fleetDoc = await opts.get(opts.index, sig.id);
        const firstHost = (fleetDoc?.host as { name?: unknown } | undefined)?.name;
        if (firstHost === req.host) newHost = false;
      }
      const result = { newFleet, newHost };
      req.alerts(result);
      return result;
    },
  };
}
