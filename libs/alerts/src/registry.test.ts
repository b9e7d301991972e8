import { describe, expect, it } from 'vitest';
import { createAlerter } from './alerter.ts';
import { createEsRegistry } from './registry.ts';
import { signaturesOf } from './signature.ts';
import type { Alert, AlertSink, ClaimResult } from './types.ts';

// An in-memory stand-in for the ES `create`/`get` pair, with a per-caller delay so a test can order the
// racing requests of two analyzers exactly.
function fakeIndex() {
  const docs = new Map<string, Record<string, unknown>>();
  const ticks = (n: number) =>
    new Promise<void>((r) => {
      let i = 0;
      const step = () => (++i >= n ? r() : setImmediate(step));
      setImmediate(step);
    });
  return {
    docs,
    client(hostDocDelay: number) {
      return {
        createIfAbsent: async (_index: string, id: string, doc: Record<string, unknown>) => {
          await ticks(id.startsWith('h-') ? hostDocDelay : 1);
          if (docs.has(id)) return false;
          docs.set(id, doc);
          return true;
        },
        get: async (_index: string, id: string) => {
          await ticks(1);
          return docs.get(id);
        },
      };
    },
  };
}

const sig = signaturesOf({
  host: 'h1',
  time: '2025-01-01T00:00:00Z',
  serial: 1,
  avc: {
    decision: 'denied',
    perms: ['read'],
    scontext: { type: 'httpd_t', raw: 'system_u:system_r:httpd_t:s0' },
    tcontext: { type: 'shadow_t', raw: 'system_u:object_r:shadow_t:s0' },
    tclass: 'file',
    permissive: false,
  },
  pid: 1,
  comm: 'httpd',
  exe: '/usr/sbin/httpd',
  path: '/etc/shadow',
})[0]!;

describe('createEsRegistry', () => {
  it('one alert in all when two analyzers race on the same denial of one host', async () => {
    const es = fakeIndex();
    const slowHost = es.client(4); // its host-document create lands after the other analyzer's
    const fast = es.client(1);
    const a = createEsRegistry({ ...slowHost, index: 'sig' });
    const b = createEsRegistry({ ...fast, index: 'sig' });
    const results: ClaimResult[] = [];
    const req = (r: ClaimResult[]) => ({
      signature: sig,
      host: 'h1',
      time: '2025-01-01T00:00:00Z',
      alerts: (x: ClaimResult) => (r.push(x), []),
    });
    await Promise.all([a.claim(req(results)), b.claim(req(results))]);
    const alerts = results.filter((r) => r.newFleet || r.newHost);
    expect(alerts).toHaveLength(1);
    expect(alerts[0]!.newFleet).toBe(true);
  });

  it('still alerts "new on this host" for a second host', async () => {
    const es = fakeIndex();
    const a = createEsRegistry({ ...es.client(1), index: 'sig' });
    const b = createEsRegistry({ ...es.client(1), index: 'sig' });
    const seen: ClaimResult[] = [];
    const mk = (host: string) => ({
      signature: sig,
      host,
      time: '2025-01-01T00:00:00Z',
      alerts: (x: ClaimResult) => (seen.push(x), []),
    });
    await a.claim(mk('h1'));
    await b.claim(mk('h2'));
    await b.claim(mk('h2'));
    expect(seen).toEqual([
      { newFleet: true, newHost: true },
      { newFleet: false, newHost: true },
      { newFleet: false, newHost: false },
    ]);
  });
});

// A fake index with ES's optimistic-concurrency semantics: every write bumps `_seq_no`; a conditional update
// with a stale seq_no gets a 409 (false here).
function seqIndex() {
  const docs = new Map<string, { source: Record<string, unknown>; seqNo: number }>();
  let seq = 0;
  return {
    docs,
    ports: {
      createIfAbsent: async (_i: string, id: string, doc: Record<string, unknown>) => {
        await Promise.resolve();
        if (docs.has(id)) return false;
        docs.set(id, { source: structuredClone(doc), seqNo: seq++ });
        return true;
      },
      get: async (_i: string, id: string) => docs.get(id)?.source,
      update: async (
        _i: string,
        id: string,
        partial: Record<string, unknown>,
        cond?: { seqNo: number; primaryTerm: number },
      ) => {
        await Promise.resolve();
        const d = docs.get(id);
        if (d === undefined) return false;
        if (cond !== undefined && (cond.seqNo !== d.seqNo || cond.primaryTerm !== 1)) return false;
        docs.set(id, { source: { ...d.source, ...structuredClone(partial) }, seqNo: seq++ });
        return true;
      },
      findPending: async (_i: string, claimedBefore: string, size: number) =>
        [...docs.entries()]
          .filter(([, d]) => d.source.delivered === false && String(d.source.claimed_at) < claimedBefore)
          .slice(0, size)
          .map(([id, d]) => ({ id, source: structuredClone(d.source), seqNo: d.seqNo, primaryTerm: 1 })),
    },
  };
}

const denialCtx = {
  host: 'h1',
  time: '2025-01-01T00:00:00Z',
  serial: 1,
  avc: {
    decision: 'denied' as const,
    perms: ['read'],
    scontext: { type: 'httpd_t', raw: 'system_u:system_r:httpd_t:s0' },
    tcontext: { type: 'shadow_t', raw: 'system_u:object_r:shadow_t:s0' },
    tclass: 'file',
    permissive: false,
  },
  pid: 1,
  comm: 'httpd',
  exe: '/usr/sbin/httpd',
  path: '/etc/shadow',
};

describe('createEsRegistry as an outbox', () => {
  function analyzer(es: ReturnType<typeof seqIndex>, id: string, clock: { t: number }, crash = false) {
    const got: Alert[] = [];
    const sink: AlertSink = {
      name: 'mem',
      send: (a) => {
        // A crash between the claim and the sink: nothing is delivered, nothing acknowledged.
        if (crash) throw new Error('crashed before delivery');
        got.push(a);
      },
    };
    const registry = createEsRegistry({
      ...es.ports,
      index: 'sig',
      instanceId: id,
      sinks: ['mem'],
      leaseMs: 60_000,
      now: () => clock.t,
    });
    return { got, alerter: createAlerter({ registry, sinks: [sink] }) };
  }

  it('a crash between claim and delivery does not lose the alert: the lease expires, another analyzer redelivers', async () => {
    const es = seqIndex();
    const clock = { t: Date.parse('2025-01-01T00:00:00Z') };
    const a = analyzer(es, 'a', clock, true);
    await a.alerter.process(denialCtx, null);
    expect(a.got).toEqual([]);
    // The Kafka message is redelivered to analyzer b: the signature is known, so it stays silent...
    const b = analyzer(es, 'b', clock);
    expect(await b.alerter.process(denialCtx, null)).toEqual([]);
    // ...not while a's claim is fresh...
    expect(await b.alerter.redeliverPending()).toEqual([]);
    // ...but once the lease ran out, b takes the outbox entry over and delivers it, flagged.
    clock.t += 61_000;
    const again = await b.alerter.redeliverPending();
    expect(again).toHaveLength(1);
    expect(again[0]!.redelivered).toBe(true);
    expect(again[0]!.scope).toBe('fleet');
    expect(b.got.map((x) => x.id)).toEqual([again[0]!.id]);
    // Acknowledged: nothing is pending any more.
    clock.t += 61_000;
    expect(await b.alerter.redeliverPending()).toEqual([]);
    expect(es.docs.get(sig.id)?.source.delivered).toBe(true);
  });

  it('only one of two analyzers racing to take over a stale entry redelivers it', async () => {
    const es = seqIndex();
    const clock = { t: Date.parse('2025-01-01T00:00:00Z') };
    const a = analyzer(es, 'a', clock, true);
    await a.alerter.process(denialCtx, null);
    clock.t += 61_000;
    const b = analyzer(es, 'b', clock);
    const c = analyzer(es, 'c', clock);
    const [rb, rc] = await Promise.all([b.alerter.redeliverPending(), c.alerter.redeliverPending()]);
    expect(rb.length + rc.length).toBe(1);
    expect(b.got.length + c.got.length).toBe(1);
    expect(es.docs.get(sig.id)?.source.claimed_by).toBe(rb.length === 1 ? 'b' : 'c');
  });

  it('a delivered alert is marked delivered and never redelivered', async () => {
    const es = seqIndex();
    const clock = { t: Date.parse('2025-01-01T00:00:00Z') };
    const a = analyzer(es, 'a', clock);
    expect(await a.alerter.process(denialCtx, null)).toHaveLength(1);
    expect(es.docs.get(sig.id)?.source).toMatchObject({ delivered: true, claimed_by: 'a' });
    clock.t += 3_600_000;
    expect(await analyzer(es, 'b', clock).alerter.redeliverPending()).toEqual([]);
  });
});
