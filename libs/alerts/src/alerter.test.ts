import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openStore } from '@avcstream/store';
import { describe, expect, it } from 'vitest';
import { createAlerter } from './alerter.ts';
import { createMemoryRegistry, createStoreRegistry } from './registry.ts';
import { formatAlert, terminalSafe } from './sinks.ts';
import { signaturesOf } from './signature.ts';
import type { Alert, AlertSink, DenialContext } from './types.ts';

function denial(
  s: string,
  t: string,
  cls: string,
  perms: string[],
  host = 'web1',
  extra: Partial<DenialContext> = {},
): DenialContext {
  return {
    host,
    time: '2026-03-01T10:00:00.000Z',
    serial: 1,
    avc: {
      decision: 'denied',
      perms,
      scontext: { type: s, raw: `system_u:system_r:${s}:s0` },
      tcontext: { type: t, raw: `system_u:object_r:${t}:s0` },
      tclass: cls,
      permissive: false,
    },
    pid: 42,
    comm: 'httpd',
    exe: '/usr/sbin/httpd',
    path: '/etc/shadow',
    ...extra,
  };
}

function memorySink(name = 'mem'): AlertSink & { alerts: Alert[] } {
  const alerts: Alert[] = [];
  return { name, alerts, send: (a) => void alerts.push(a) };
}

describe('signaturesOf', () => {
  it('is per permission by default, or one for the whole set, and can add exe and path', () => {
    const d = denial('httpd_t', 'shadow_t', 'file', ['read', 'open', 'read']);
    expect(signaturesOf(d).map((s) => s.key)).toEqual([
      'httpd_t:shadow_t:file:open',
      'httpd_t:shadow_t:file:read',
    ]);
    expect(signaturesOf(d, { permissionSet: true }).map((s) => s.key)).toEqual([
      'httpd_t:shadow_t:file:open,read',
    ]);
    const withExe = signaturesOf(d, { include: ['exe', 'path'], permissionSet: true })[0]!;
    expect(withExe.key).toBe('httpd_t:shadow_t:file:open,read:exe=/usr/sbin/httpd:path=/etc/shadow');
    expect(withExe.id).toMatch(/^[0-9a-f]{32}$/);
    expect(withExe.id).not.toBe(signaturesOf(d, { permissionSet: true })[0]!.id);
  });
});

describe('createAlerter', () => {
  it('N distinct signatures in -> N alerts out, each once', async () => {
    const sink = memorySink();
    const alerter = createAlerter({ registry: createMemoryRegistry(), sinks: [sink], now: () => 0 });
    const N = 25;
    for (let round = 0; round < 3; round++) {
      for (let i = 0; i < N; i++) await alerter.process(denial(`src${i}_t`, 'etc_t', 'file', ['read']), null);
    }
    expect(sink.alerts).toHaveLength(N);
    expect(new Set(sink.alerts.map((a) => a.signature.key)).size).toBe(N);
    expect(sink.alerts.every((a) => a.kind === 'new-signature' && a.scope === 'fleet')).toBe(true);
    expect(alerter.stats()).toMatchObject({ denials: 3 * N, newFleet: N, alerts: N });
  });

  it('alerts "new on this host" for a signature known elsewhere, even inside another host\'s window', async () => {
    const sink = memorySink();
    let t = 0;
    const alerter = createAlerter({
      registry: createMemoryRegistry(),
      sinks: [sink],
      rateLimitWindowMs: 1000,
      now: () => t,
    });
    await alerter.process(denial('a_t', 'b_t', 'file', ['read'], 'h1'), null);
    t = 10; // inside h1's window: h2's first occurrence is still new on h2
    await alerter.process(denial('a_t', 'b_t', 'file', ['read'], 'h2'), null);
    t = 20;
    await alerter.process(denial('a_t', 'b_t', 'file', ['read'], 'h1'), null); // h1 repeat: folded into h1's window
    await alerter.process(denial('a_t', 'b_t', 'file', ['read'], 'h2'), null); // h2 repeat: folded into h2's window
    await alerter.process(denial('a_t', 'b_t', 'file', ['read'], 'h2'), null);
    t = 2000;
    await alerter.process(denial('a_t', 'b_t', 'file', ['read'], 'h3'), null);
    expect(sink.alerts.map((a) => [a.scope, a.host])).toEqual([
      ['fleet', 'h1'],
      ['host', 'h2'],
      ['host', 'h3'],
    ]);
    expect(alerter.stats()).toMatchObject({ newFleet: 1, alerts: 3, suppressed: 0 });
    t = 5000;
    const repeats = await alerter.flush();
    // each window (signature, host) counts the repeats of its own host and follows the alert that opened it
    expect(repeats.map((a) => [a.kind, a.scope, a.count, a.host])).toEqual([
      ['repeat', 'fleet', 1, 'h1'],
      ['repeat', 'host', 2, 'h2'],
    ]);
  });

  it('turns a flood of one signature into one alert plus a count', async () => {
    const sink = memorySink();
    const t = 0;
    const alerter = createAlerter({ registry: createMemoryRegistry(), sinks: [sink], now: () => t });
    for (let i = 0; i < 500; i++) await alerter.process(denial('flood_t', 'tmp_t', 'dir', ['write']), null);
    expect(sink.alerts).toHaveLength(1);
    const repeats = await alerter.flush(true);
    expect(repeats).toHaveLength(1);
    expect(repeats[0]!.count).toBe(499);
    expect(sink.alerts).toHaveLength(2);
    expect(await alerter.flush(true)).toEqual([]);
  });

  it('never alerts for ignored signatures', async () => {
    const sink = memorySink();
    const alerter = createAlerter({
      registry: createMemoryRegistry(),
      sinks: [sink],
      ignore: ['*_t:proc_t:*:*', 'noisy_t:**'],
    });
    await alerter.process(denial('x_t', 'proc_t', 'file', ['read']), null);
    await alerter.process(denial('noisy_t', 'etc_t', 'file', ['read']), {
      verdict: 'TE_MISSING',
      booleans: [],
      fixes: [],
    });
    await alerter.process(denial('x_t', 'etc_t', 'file', ['read']), null);
    expect(sink.alerts.map((a) => a.signature.key)).toEqual(['x_t:etc_t:file:read']);
    expect(alerter.stats().ignored).toBe(2);
  });

  it('carries the verdict, the fixes and the blast radius of boolean fixes', async () => {
    const sink = memorySink();
    const alerter = createAlerter({ registry: createMemoryRegistry(), sinks: [sink] });
    await alerter.process(denial('httpd_t', 'user_home_t', 'file', ['read']), {
      verdict: 'BOOLEAN',
      booleans: [
        { name: 'httpd_read_user_content', current: false, blastRadius: { rules: 12, triples: 40 } },
      ],
      fixes: [{ kind: 'setsebool', text: 'setsebool -P httpd_read_user_content 1', verified: true }],
    });
    const a = sink.alerts[0]!;
    expect(a.verdict).toBe('BOOLEAN');
    expect(a.booleans[0]!.blastRadius).toEqual({ rules: 12, triples: 40 });
    expect(a.fixes[0]!.text).toContain('setsebool');
    const text = formatAlert(a);
    expect(text).toContain('NEW DENIAL');
    expect(text).toContain('would enable 12 rules over 40');
  });

  it("carries the explanation's caution (an access guarding the system) in the JSON, and shows it before the fix", async () => {
    const sink = memorySink();
    const alerter = createAlerter({
      registry: createMemoryRegistry(),
      sinks: [sink],
      windowClock: 'event',
      rateLimitWindowMs: 1000,
    });
    const caution = 'shadow_t holds authentication data (a file type outside non_auth_file_type)';
    const ex = {
      verdict: 'TE_MISSING',
      booleans: [],
      fixes: [{ kind: 'allow', text: 'allow httpd_t shadow_t:file read;', verified: true }],
      caution,
    };
    await alerter.process(denial('httpd_t', 'shadow_t', 'file', ['read']), ex);
    const a = sink.alerts[0]!;
    expect(a.caution).toBe(caution);
    expect(JSON.parse(JSON.stringify(a)).caution).toBe(caution);
    const lines = formatAlert(a).split('\n');
    const at = lines.findIndex((l) => l.startsWith('  caution: '));
    expect(lines[at]).toBe(
      `  caution: ${caution}; it may come from an attack or a compromised process rather than a gap in the policy: find out why httpd_t asked before applying a fix`,
    );
    expect(at).toBeGreaterThan(lines.indexOf('  verdict=TE_MISSING'));
    expect(at).toBeLessThan(lines.findIndex((l) => l.startsWith('  fix (allow, verified): ')));
    // The repeat alert of the flood carries it too.
    const later = denial('httpd_t', 'shadow_t', 'file', ['read'], 'web1', { serial: 2 });
    await alerter.process({ ...later, time: '2026-03-01T10:00:00.500Z' }, ex);
    const [repeat] = await alerter.flush(true);
    expect(repeat).toMatchObject({ kind: 'repeat', count: 1, caution });
    expect(formatAlert(repeat!)).toContain(`  caution: ${caution};`);
    // Policy names reach a terminal escaped, like every other text of the alert.
    expect(formatAlert({ ...a, caution: 'evil\u001b[2J_t is raw system memory' })).toContain(
      '  caution: evil\\x1b[2J_t is raw system memory;',
    );
    // No caution: null in the JSON, no line.
    await alerter.process(denial('httpd_t', 'user_home_t', 'file', ['read']), { ...ex, caution: undefined });
    const plain = sink.alerts.find((x) => x.signature.targetType === 'user_home_t')!;
    expect(plain.caution).toBeNull();
    expect(formatAlert(plain)).not.toContain('caution');
    // An alert recorded before the field existed (a store's outbox) still renders.
    const { caution: _, ...old } = plain;
    expect(formatAlert(old as Alert)).not.toContain('caution');
  });

  it('shows permissive=1 (logged, not enforced) in the text and JSON, with the same signature', async () => {
    const sink = memorySink();
    const alerter = createAlerter({ registry: createMemoryRegistry(), sinks: [sink] });
    const permissive = denial('httpd_t', 'user_home_t', 'file', ['read'], 'web1');
    permissive.avc = { ...permissive.avc, permissive: true };
    await alerter.process(permissive, null);
    const enforcing = denial('httpd_t', 'user_home_t', 'file', ['read'], 'web1');
    expect(signaturesOf(enforcing)).toEqual(signaturesOf(permissive));
    const a = sink.alerts[0]!;
    expect(JSON.parse(JSON.stringify(a)).event.permissive).toBe(true);
    const text = formatAlert(a);
    expect(text).toContain(' permissive=1 (logged, not enforced)');
    // The head stays as it was: consumers match `[NEW DENIAL] key`.
    expect(text.split('\n')[0]).toMatch(/^\[NEW DENIAL\] httpd_t:user_home_t:file:read /);
    const plain = formatAlert({ ...a, event: { ...a.event, permissive: false } });
    expect(plain).toContain(' permissive=0\n');
    expect(plain).not.toContain('not enforced');
    expect(formatAlert({ ...a, event: { ...a.event, permissive: null } })).not.toContain('permissive');
  });

  it('escapes terminal control characters of attacker-controlled fields', () => {
    expect(terminalSafe('a\u001b[31mred\r\n')).toBe('a\\x1b[31mred\\x0d\\x0a');
  });

  it('escapes C1 controls, bidi overrides and backslashes, so an escape cannot be forged', () => {
    expect(terminalSafe('a\u009b2J\u202eevil')).toBe('a\\x9b2J\\u202eevil');
    expect(terminalSafe('x\u200by')).toBe('x\\u200by');
    // A literal backslash-x1b in the log must not look like an escaped ESC.
    expect(terminalSafe('comm=\\x1b')).toBe('comm=\\\\x1b');
    expect(terminalSafe('\u001b')).not.toBe(terminalSafe('\\x1b'));
    expect(terminalSafe(null)).toBe('-');
  });

  it('records alerts in the store before sending; unacknowledged ones are redelivered once after a restart', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'avc-alerts-'));
    try {
      const store = openStore({ dir });
      const failing: AlertSink = {
        name: 'webhook',
        send: () => {
          throw new Error('down');
        },
      };
      const con = memorySink('console');
      const a1 = createAlerter({
        registry: createStoreRegistry(store, ['console', 'webhook']),
        sinks: [con, failing],
      });
      await a1.process(denial('a_t', 'b_t', 'file', ['read']), null);
      expect(con.alerts).toHaveLength(1);
      expect(store.pendingAlerts().map((p) => p.pendingSinks)).toEqual([['webhook']]);
      store.close();

      const store2 = openStore({ dir });
      const hook = memorySink('webhook');
      const con2 = memorySink('console');
      const a2 = createAlerter({
        registry: createStoreRegistry(store2, ['console', 'webhook']),
        sinks: [con2, hook],
      });
      const again = await a2.redeliverPending();
      expect(again.map((a) => a.redelivered)).toEqual([true]);
      expect(hook.alerts.map((a) => a.id)).toEqual([con.alerts[0]!.id]);
      expect(con2.alerts).toEqual([]); // console had acknowledged it
      await a2.process(denial('a_t', 'b_t', 'file', ['read']), null);
      expect(hook.alerts).toHaveLength(1);
      expect(store2.pendingAlerts()).toEqual([]);
      store2.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('background delivery (awaitSinks: false)', () => {
  it('does not wait for a slow sink, keeps the alert pending until it acknowledges, and drains', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'avc-alerts-bg-'));
    try {
      const store = openStore({ dir });
      const releases: Array<() => void> = [];
      const slow: AlertSink = {
        name: 'webhook',
        send: () => new Promise<void>((r) => releases.push(r)),
      };
      const con = memorySink('console');
      const alerter = createAlerter({
        registry: createStoreRegistry(store, ['console', 'webhook']),
        sinks: [con, slow],
        awaitSinks: false,
      });
      for (let i = 0; i < 3; i++) await alerter.process(denial(`bg${i}_t`, 'etc_t', 'file', ['read']), null);
      expect(con.alerts).toHaveLength(3);
      expect(store.pendingAlerts().map((p) => p.pendingSinks)).toEqual([
        ['webhook'],
        ['webhook'],
        ['webhook'],
      ]);
      for (const r of releases) r();
      await alerter.drain();
      expect(store.pendingAlerts()).toEqual([]);
      store.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('event-time rate limit windows', () => {
  it('folds a flood by when it happened, not by when it is replayed', async () => {
    const sink = memorySink();
    const alerter = createAlerter({
      registry: createMemoryRegistry(),
      sinks: [sink],
      windowClock: 'event',
      rateLimitWindowMs: 60_000,
      now: () => 0, // replay: the wall clock does not move
    });
    const at = (iso: string, host: string) => ({
      ...denial('a_t', 'b_t', 'file', ['read'], host),
      time: iso,
    });
    await alerter.process(at('2026-03-01T10:00:00.000Z', 'h1'), null);
    await alerter.process(at('2026-03-01T10:00:30.000Z', 'h1'), null); // same minute: folded
    await alerter.process(at('2026-03-01T10:05:00.000Z', 'h1'), null); // minutes later: past the window
    await alerter.process(at('2026-03-01T10:05:00.000Z', 'h3'), null); // new on h3: its own alert
    expect(sink.alerts.map((a) => [a.scope, a.host])).toEqual([
      ['fleet', 'h1'],
      ['host', 'h3'],
    ]);
    const repeats = await alerter.flush(true);
    expect(repeats.map((a) => [a.kind, a.count, a.host])).toEqual([['repeat', 1, 'h1']]);
  });
});

describe('rate-limit windows across a crash (store registry)', () => {
  /** Occurrence i of one flood: its own serial, one second apart. */
  const occ = (i: number) => ({
    ...denial('flood_t', 'tmp_t', 'dir', ['write']),
    serial: 100 + i,
    time: new Date(Date.UTC(2026, 2, 1, 10, 0, i)).toISOString(),
  });

  function alerterOn(store: ReturnType<typeof openStore>, sink: AlertSink) {
    const alerter = createAlerter({
      registry: createStoreRegistry(store, [sink.name]),
      sinks: [sink],
      windowClock: 'event',
      rateLimitWindowMs: 60_000,
      now: () => 0,
    });
    alerter.restoreWindows(store.windows() as never);
    return alerter;
  }

  /** The engine's batch: the window changes go with the checkpoint of the occurrences processed so far. */
  const commit = (
    store: ReturnType<typeof openStore>,
    alerter: ReturnType<typeof createAlerter>,
    upTo: number,
  ) => store.commitBatch({ checkpoint: upTo, windows: alerter.windowChanges() as never });

  async function run(crashAfter: number, committedUpTo: number, flushBeforeCrash = false) {
    const dir = mkdtempSync(join(tmpdir(), 'avc-alerts-win-'));
    try {
      const sink = memorySink('console');
      const s1 = openStore({ dir });
      const a1 = alerterOn(s1, sink);
      for (let i = 0; i <= crashAfter; i++) {
        await a1.process(occ(i), null);
        if (i === committedUpTo) commit(s1, a1, i);
      }
      if (flushBeforeCrash) await a1.flush(true);
      s1.close(); // kill -9: what is not in the journal is gone; the input is re-read from the checkpoint

      const s2 = openStore({ dir });
      const a2 = alerterOn(s2, sink);
      const from = (s2.checkpoint() as number | null) ?? -1;
      for (let i = from + 1; i < 10; i++) await a2.process(occ(i), null);
      await a2.flush(true);
      s2.close();
      return sink.alerts.map((a) => [a.kind, a.count]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }

  it('counts every occurrence of a flood once when killed after a batch', async () => {
    expect(await run(6, 3)).toEqual([
      ['new-signature', 1],
      ['repeat', 9],
    ]);
  });

  it('counts every occurrence once when killed after the claim, before any batch', async () => {
    expect(await run(4, -1)).toEqual([
      ['new-signature', 1],
      ['repeat', 9],
    ]);
  });

  it('does not send a repeat alert again when killed after it was sent', async () => {
    // All ten occurrences processed and committed, the repeat sent, then killed: nothing more after restart.
    expect(await run(9, 9, true)).toEqual([
      ['new-signature', 1],
      ['repeat', 9],
    ]);
  });
});

describe('rate limit without host alerts', () => {
  it("keys the window by signature alone: the fleet alert's repeat counts every host", async () => {
    const sink = memorySink();
    let t = 0;
    const alerter = createAlerter({
      registry: createMemoryRegistry(),
      sinks: [sink],
      hostScope: false,
      rateLimitWindowMs: 1000,
      now: () => t,
    });
    await alerter.process(denial('a_t', 'b_t', 'file', ['read'], 'h1'), null);
    await alerter.process(denial('a_t', 'b_t', 'file', ['read'], 'h2'), null); // new on h2: no host alert
    await alerter.process(denial('a_t', 'b_t', 'file', ['read'], 'h2'), null);
    await alerter.process(denial('a_t', 'b_t', 'file', ['read'], 'h1'), null);
    expect(sink.alerts.map((a) => [a.scope, a.host])).toEqual([['fleet', 'h1']]);
    t = 5000;
    expect((await alerter.flush()).map((a) => [a.kind, a.count, a.host])).toEqual([['repeat', 2, 'h1']]);
  });
});
