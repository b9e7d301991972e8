import { createHash } from 'node:crypto';
import { compileIgnore } from './ignore.ts';
import { createRateLimiter, windowId } from './rate-limit.ts';
import { signaturesOf } from './signature.ts';
import type {
  Alert,
  AlertScope,
  AlertSink,
  ClaimResult,
  DenialContext,
  ExplanationLike,
  RateWindowRecord,
  SignatureInfo,
  SignatureOptions,
  SignatureRegistry,
} from './types.ts';

export interface AlerterOptions {
  registry: SignatureRegistry;
  sinks: AlertSink[];
  signature?: SignatureOptions;
  /** Globs over signature keys that never alert. */
  ignore?: string[];
  /** Alert when a signature is new on a host though known elsewhere. Default true. */
  hostScope?: boolean;
  /**
   * Per (signature, host) window opened by each alert: further occurrences on that host become one `repeat`
   * alert with a count. Default 60 s.
   */
  rateLimitWindowMs?: number;
  /** Wall clock (injected): rate-limit windows with `windowClock: 'wall'`, and when windows are due. */
  now?: () => number;
  /**
   * Time base of the rate-limit windows: `wall` (default) or `event` (the denial's own time, so replaying an
   * old log folds what was a flood when it happened, not what arrives together now).
   */
  windowClock?: 'wall' | 'event';
  /**
   * Wait for each asynchronous sink before going on (default true). With false, deliveries run in the
   * background (bounded by `maxInFlight`, default 256); use it only with a registry that keeps an outbox (the
   * store registry), and call `drain()` before shutting down.
   */
  awaitSinks?: boolean;
  maxInFlight?: number;
  /** A sink failed: the alert stays pending in a durable registry and is redelivered on restart. */
  onSinkError?: (sink: string, alertId: string, err: unknown) => void;
}

export interface AlerterStats {
  denials: number;
  signatures: number;
  ignored: number;
  newFleet: number;
  newHost: number;
  alerts: number;
  suppressed: number;
  sinkErrors: number;
  redelivered: number;
}

export interface Alerter {
  /** Process one denial: claim its signatures, emit alerts for new ones. Returns the alerts emitted. */
  process(denial: DenialContext, explanation: ExplanationLike | null): Promise<Alert[]>;
  /** Emit `repeat` alerts for rate-limit windows that ended (all of them with `all`). */
  flush(all?: boolean): Promise<Alert[]>;
  /** Send again the alerts a durable registry holds as not acknowledged (call once at start). */
  redeliverPending(): Promise<Alert[]>;
  /** Wait for background deliveries (with `awaitSinks: false`). */
  drain(): Promise<void>;
  stats(): AlerterStats;
  /**
   * Rate-limit windows opened, counted or ended since the last call: the embedded mode stores them with each
   * batch (with its checkpoint), so that after a crash the flood's count is neither lost nor doubled.
   */
  windowChanges(): {
    upsert: Array<Omit<RateWindowRecord, 'data'> & { data?: Alert }>;
    remove: string[];
  };
  /** Puts back the windows a durable store kept (call once at start, before `process`). */
  restoreWindows(windows: readonly RateWindowRecord[]): void;
}

/** The denial is the very occurrence that raised `alert` (re-read after a restart): not a repeat of it. */
function sameOccurrence(alert: Alert, d: DenialContext): boolean {
  return alert.host === d.host && alert.event.serial === d.serial && alert.time === d.time;
}

export function alertId(kind: string, scope: AlertScope, sigId: string, host: string, extra = ''): string {
  return createHash('sha256')
    .update(`${kind}\u0000${scope}\u0000${sigId}\u0000${host}\u0000${extra}`)
    .digest('hex')
    .slice(0, 32);
}

function buildAlert(
  kind: Alert['kind'],
  scope: AlertScope,
  sig: SignatureInfo,
  d: DenialContext,
  ex: ExplanationLike | null,
): Alert {
  return {
    id: alertId(kind, scope, sig.id, scope === 'fleet' ? '' : d.host),
    kind,
    scope,
    signature: sig,
    host: d.host,
    time: d.time,
    event: {
      serial: d.serial,
      pid: d.pid,
      comm: d.comm,
      exe: d.exe,
      path: d.path,
      scontext: d.avc.scontext.raw,
      tcontext: d.avc.tcontext.raw,
      tclass: d.avc.tclass,
      perms: [...d.avc.perms],
      permissive: d.avc.permissive,
    },
    verdict: ex?.verdict ?? null,
    fixes: ex?.fixes ?? [],
    booleans: ex?.verdict === 'BOOLEAN' ? ex.booleans : [],
    caution: ex?.caution ?? null,
    count: 1,
  };
}

export function createAlerter(options: AlerterOptions): Alerter {
  const registry = options.registry;
  const sinks = options.sinks;
  const ignored = compileIgnore(options.ignore ?? []);
  const hostScope = options.hostScope ?? true;
  const now = options.now ?? Date.now;
  const windowClock = options.windowClock ?? 'wall';
  const eventMs = (iso: string) => {
    const ms = Date.parse(iso);
    return Number.isFinite(ms) ? ms : now();
  };
  /** Windows carry the alert they follow: the template of their `repeat` alert. */
  const limiter = createRateLimiter<Alert>({ windowMs: options.rateLimitWindowMs ?? 60_000 });
  const stats: AlerterStats = {
    denials: 0,
    signatures: 0,
    ignored: 0,
    newFleet: 0,
    newHost: 0,
    alerts: 0,
    suppressed: 0,
    sinkErrors: 0,
    redelivered: 0,
  };

  const inflight = new Set<Promise<void>>();
  const maxInFlight = options.maxInFlight ?? 256;

  function ack(alert: Alert, sink: AlertSink): void | Promise<void> {
    return registry.delivered?.(alert.id, sink.name);
  }

  function failed(alert: Alert, sink: AlertSink, err: unknown): void {
    stats.sinkErrors++;
    options.onSinkError?.(sink.name, alert.id, err);
  }

  async function deliver(alert: Alert, only?: readonly string[]): Promise<void> {
    for (const sink of sinks) {
      if (only !== undefined && !only.includes(sink.name)) continue;
      try {
        const r = sink.send(alert);
        if (r === undefined) {
          // Synchronous sinks are acknowledged in the same tick as their write.
          const m = ack(alert, sink);
          if (m !== undefined) await m;
          continue;
        }
        if (options.awaitSinks ?? true) {
          await r;
          const m = ack(alert, sink);
          if (m !== undefined) await m;
          continue;
        }
        // Background delivery (the registry keeps the alert pending until acknowledged): a slow or down webhook
        // does not stall the pipeline. Bounded: past `maxInFlight` we wait for one to finish.
        const p: Promise<void> = r
          .then(() => ack(alert, sink))
          .then(
            () => undefined,
            (err: unknown) => failed(alert, sink, err),
          )
          .finally(() => inflight.delete(p));
        inflight.add(p);
        while (inflight.size >= maxInFlight) await Promise.race(inflight);
      } catch (err) {
        failed(alert, sink, err);
      }
    }
    stats.alerts++;
  }

  return {
    async process(d, ex) {
      stats.denials++;
      const out: Alert[] = [];
      for (const sig of signaturesOf(d, options.signature)) {
        stats.signatures++;
        if (ignored(sig.key)) {
          stats.ignored++;
          continue;
        }
        const t = windowClock === 'event' ? eventMs(d.time) : now();
        // With host alerts, one window per (signature, host): a host's first occurrence is "new on this host"
        // even inside another host's window (its claim is stored, so an alert held back here would never be
        // sent), and each host's repeats are counted under that host's alert. Without them, the only alert is
        // the fleet one, and its window counts the repeats of every host. The signature id is fixed-length hex.
        const rlKey = hostScope ? `${sig.id}:${d.host}` : sig.id;
        let emitted: Alert[] = [];
        const result: ClaimResult = await registry.claim({
          signature: sig,
          host: d.host,
          time: d.time,
          alerts: (r) => {
            emitted = [];
            if (r.newFleet) emitted.push(buildAlert('new-signature', 'fleet', sig, d, ex));
            else if (r.newHost && hostScope && limiter.allow(rlKey, t, d.time)) {
              emitted.push(buildAlert('new-signature', 'host', sig, d, ex));
            } else if (r.newHost && hostScope) stats.suppressed++;
            return emitted;
          },
          preview: (r) => {
            if (r.newFleet) return [buildAlert('new-signature', 'fleet', sig, d, ex)];
            if (r.newHost && hostScope) return [buildAlert('new-signature', 'host', sig, d, ex)];
            return [];
          },
          // Each alert opens the signature's window (below); a durable registry stores it with the claim.
          windows: () =>
            emitted.map((a) => ({
              id: windowId(rlKey, t),
              key: rlKey,
              from: t,
              count: 0,
              lastTime: '',
              data: a,
            })),
        });
        if (result.newFleet) stats.newFleet++;
        if (result.newHost) stats.newHost++;
        if (!result.newFleet && !result.newHost) limiter.count(rlKey, t, d.time, (a) => sameOccurrence(a, d));
        for (const a of emitted) {
          limiter.open(rlKey, t, a);
          await deliver(a);
          out.push(a);
        }
      }
      return out;
    },
    async flush(all = false) {
      const out: Alert[] = [];
      const t = now();
      for (const w of limiter.due(t, all)) {
        const tpl = w.data;
        const a: Alert = {
          ...tpl,
          kind: 'repeat',
          id: alertId('repeat', tpl.scope, tpl.signature.id, tpl.host, String(w.from)),
          time: w.lastTime || tpl.time,
          count: w.count,
          window: { from: new Date(w.from).toISOString(), to: new Date(w.to).toISOString() },
        };
        delete a.redelivered;
        // A durable registry records it (and drops the window) before any sink sees it; false: already sent.
        if (registry.recordRepeat !== undefined && !(await registry.recordRepeat(a, w.id))) continue;
        await deliver(a);
        out.push(a);
      }
      return out;
    },
    async redeliverPending() {
      const out: Alert[] = [];
      for (const p of (await registry.pending?.()) ?? []) {
        const a: Alert = { ...p.alert, redelivered: true };
        stats.redelivered++;
        await deliver(a, p.sinks);
        out.push(a);
      }
      return out;
    },
    async drain() {
      while (inflight.size > 0) await Promise.allSettled([...inflight]);
    },
    stats: () => ({ ...stats }),
    windowChanges: () => limiter.changes(),
    restoreWindows(windows) {
      limiter.restore(windows);
    },
  };
}
