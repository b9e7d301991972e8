import { describe, expect, it } from 'vitest';
import { createEsRegistry } from './registry.ts';
import { signaturesOf } from './signature.ts';
import type { ClaimResult } from './types.ts';

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
