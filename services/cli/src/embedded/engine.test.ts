import {
  appendFileSync,
  copyFileSync,
  mkdtempSync,
  readFileSync,
  renameSync,
  rmSync,
  truncateSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ParseError } from '@avcstream/audit';
import { createAlerter, createConsoleSink, createStoreRegistry } from '@avcstream/alerts';
import { openStore, type Store } from '@avcstream/store';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createEngine, type EngineHooks } from './engine.ts';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'avc-engine-'));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

const denial = (serial: number, perm = 'read') =>
  `type=AVC msg=audit(1763802001.000:${serial}): avc:  denied  { ${perm} } for  pid=1 comm="cat" name="x" scontext=system_u:system_r:httpd_t:s0 tcontext=system_u:object_r:user_home_t:s0 tclass=file permissive=0\n`;

function engineOver(store: Store, input: string, extra: Partial<Parameters<typeof createEngine>[0]> = {}) {
  const out: string[] = [];
  const sinks = [createConsoleSink((s) => out.push(s))];
  const alerter = createAlerter({
    registry: createStoreRegistry(store, ['console']),
    sinks,
    windowClock: 'event',
    awaitSinks: false,
  });
  return createEngine({
    input,
    startAt: 'beginning',
    store,
    alerter,
    explain: null,
    defaultHost: 'h',
    follow: false,
    commitIntervalMs: 0,
    ...extra,
  });
}

/** Every journal line of the state dir (the batches as written). */
function journalBatches(stateDir: string): Array<Record<string, unknown>> {
  return readFileSync(join(stateDir, 'journal.ndjson'), 'utf8')
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l.slice(9)) as Record<string, unknown>)
    .filter((r) => r.t === 'batch');
}

describe('AVC records whose decision did not parse', () => {
  it('reports each such line once, with its file offset and bytes, to dead-letter; counted as before', async () => {
    const input = join(dir, 'audit.log');
    const cut = `type=AVC msg=audit(1763802001.000:2): avc:  denied  { write } for  pid=1 comm="cat" scontext=system_u:system_r:httpd_t:s0 tclass=file permissive=0`;
    writeFileSync(input, `${denial(1)}${cut}\n${denial(3)}`);
    const store = openStore({ dir: join(dir, 'state') });
    const reported: Array<[ParseError, string | undefined]> = [];
    let counted = 0;
    const hooks: EngineHooks = {
      onMalformedAvcLines: (errors, source) => {
        for (const e of errors) reported.push([e, source?.path]);
      },
      onMalformedRecords: (n) => {
        counted += n;
      },
    };
    const engine = engineOver(store, input, { chunkBytes: 64, hooks });
    await engine.start();
    await engine.finish();
    await engine.stop();
    expect(reported.map(([e, path]) => [e.code, e.line, e.offset, path])).toEqual([
      ['AVC_ERR_AUDIT_AVC_BODY', 2, denial(1).length, input],
    ]);
    expect(Buffer.from(reported[0]?.[0].bytes ?? []).toString()).toBe(cut);
    expect(counted).toBe(1);
    expect(engine.totals()).toMatchObject({ lines: 3, malformed: 1, denials: 2 });
    store.close();
  });
});

describe('over-long lines', () => {
  it('counts a line over the bound once as malformed (with its start offset and head) and the lines right', async () => {
    const input = join(dir, 'audit.log');
    const long = `type=AVC msg=audit(1763802001.000:2): avc:  denied  { write } for  pid=1 comm="${'L'.repeat(3000)}"\n`;
    writeFileSync(input, denial(1) + long + denial(3));
    const store = openStore({ dir: join(dir, 'state') });
    const seen: ParseError[] = [];
    const hooks: EngineHooks = { onMalformed: (e) => seen.push(...e) };
    const engine = engineOver(store, input, { chunkBytes: 256, maxLineBytes: 1024, hooks });
    await engine.start();
    await engine.finish();
    await engine.stop();
    expect(engine.totals()).toMatchObject({ lines: 3, malformed: 1, denials: 2 });
    expect(seen.map((e) => [e.code, e.offset])).toEqual([['AVC_ERR_AUDIT_LINE_TOO_LONG', denial(1).length]]);
    expect(seen[0]?.raw.startsWith('type=AVC msg=audit(1763802001.000:2)')).toBe(true);
    expect(store.counters()).toMatchObject({ lines: 3, malformed: 1, denials: 2 });
    store.close();
  });
});

describe('stored events', () => {
  it('keeps only what the report needs, with values cut to a bound (no proctitle, no interpreted)', async () => {
    const input = join(dir, 'audit.log');
    const st = 'msg=audit(1763802001.000:7):';
    writeFileSync(
      input,
      `type=AVC ${st} avc:  denied  { read } for  pid=1 comm="cat" name="${'\\'.repeat(10)}${'n'.repeat(5000)}" scontext=system_u:system_r:httpd_t:s0 tcontext=system_u:object_r:user_home_t:s0 tclass=file permissive=0\n` +
        `type=SYSCALL ${st} arch=c000003e syscall=257 success=no exit=-13 a0=1 a1=2 a2=3 a3=4 items=1 ppid=1 pid=1 auid=1000 uid=0 comm="cat" exe="/usr/bin/cat" key=(null)\n` +
        `type=PROCTITLE ${st} proctitle=${'01'.repeat(20_000)}\n`,
    );
    const store = openStore({ dir: join(dir, 'state') });
    const engine = engineOver(store, input);
    await engine.start();
    await engine.finish();
    await engine.stop();
    const kept = store.events() as Array<{
      records: Array<{ type: string; fields: Record<string, string>; interpreted: object }>;
    }>;
    expect(kept).toHaveLength(1);
    expect(kept[0]?.records.map((r) => r.type)).toEqual(['AVC', 'SYSCALL']);
    expect(kept[0]?.records[0]?.fields.name?.length).toBeLessThanOrEqual(1025);
    expect(kept[0]?.records[1]?.fields.exe).toBe('/usr/bin/cat');
    expect(kept[0]?.records.every((r) => Object.keys(r.interpreted).length === 0)).toBe(true);
    expect(store.stats().eventBytes).toBeLessThan(4_000);
    store.close();
  });
});

describe('AppArmor records', () => {
  it('are neither SELinux events nor denials, nor stored for the report; SELinux denials beside them are', async () => {
    const input = join(dir, 'audit.log');
    writeFileSync(
      input,
      'type=AVC msg=audit(1763802001.000:5): apparmor="DENIED" operation="open" profile="/usr/sbin/cupsd" name="/etc/shadow" pid=9 comm="cupsd" requested_mask="r" denied_mask="r" fsuid=0 ouid=0\n' +
        'type=SYSCALL msg=audit(1763802001.000:5): arch=c000003e syscall=257 success=no exit=-13 comm="cupsd" exe="/usr/sbin/cupsd"\n' +
        'type=USER_AVC msg=audit(1763802001.000:6): pid=1 uid=102 auid=4294967295 ses=4294967295 subj=? msg=\'apparmor="DENIED" operation="dbus_method_call"  bus="system" path="/org/freedesktop/DBus" interface="org.freedesktop.DBus" member="Hello" mask="send" label="snap.x" exe="/usr/bin/dbus-daemon"\'\n' +
        denial(7),
    );
    const store = openStore({ dir: join(dir, 'state') });
    const engine = engineOver(store, input);
    await engine.start();
    await engine.finish();
    await engine.stop();
    expect(engine.totals()).toMatchObject({ events: 3, selinuxEvents: 1, denials: 1, malformed: 0 });
    expect((store.events() as Array<{ serial: number }>).map((e) => e.serial)).toEqual([7]);
    store.close();
  });
});

describe('commit failures', () => {
  it('does not store a batch twice when its commit threw after the write', async () => {
    const input = join(dir, 'audit.log');
    writeFileSync(input, denial(1) + denial(2));
    const real = openStore({ dir: join(dir, 'state') });
    let failOnce = true;
    const store: Store = {
      ...real,
      commitBatch(b) {
        const r = real.commitBatch(b);
        if (failOnce) {
          failOnce = false;
          throw new Error('fsync failed after the write');
        }
        return r;
      },
    };
    const engine = engineOver(store, input, { follow: true, pollIntervalMs: 0, commitRetryMs: 1 });
    await engine.start();
    await engine.finish();
    await engine.stop();
    real.close();
    const again = openStore({ dir: join(dir, 'state') });
    expect(again.counters()).toMatchObject({ lines: 2, denials: 2, events: 2 });
    const batches = journalBatches(join(dir, 'state'));
    expect(batches.flatMap((b) => b.eventKeys as string[])).toHaveLength(2);
    expect(new Set(batches.map((b) => b.id)).size).toBe(batches.length);
    expect(again.events()).toHaveLength(2);
    again.close();
  });

  it('blocks intake and reports it while commits fail, then commits everything exactly once', async () => {
    const input = join(dir, 'audit.log');
    writeFileSync(input, denial(1));
    const real = openStore({ dir: join(dir, 'state') });
    let failing = false;
    let failures = 0;
    let onFailure: (() => void) | null = null;
    const store: Store = {
      ...real,
      commitBatch(b) {
        if (failing) {
          failures++;
          onFailure?.();
          throw Object.assign(new Error('disk full'), { code: 'AVC_ERR_STORE_IO' });
        }
        return real.commitBatch(b);
      },
    };
    const errors: unknown[] = [];
    const engine = engineOver(store, input, {
      follow: true,
      pollIntervalMs: 0,
      commitRetryMs: 1,
      hooks: { onCommitError: (err) => errors.push(err) },
    });
    await engine.start();
    await engine.finish();
    expect(engine.health().commitFailing).toBe(false);
    failing = true;
    appendFileSync(input, denial(2) + denial(3));
    const stuck = new Promise<void>((resolve) => {
      onFailure = () => {
        if (failures >= 3) resolve();
      };
    });
    const draining = engine.finish();
    await stuck;
    expect(engine.health().commitFailing).toBe(true);
    expect(errors.length).toBeGreaterThan(0);
    failing = false;
    await draining;
    expect(engine.health().commitFailing).toBe(false);
    await engine.stop();
    real.close();
    const again = openStore({ dir: join(dir, 'state') });
    expect(again.counters()).toMatchObject({ lines: 3, denials: 3, events: 3 });
    again.close();
  });

  it('with --once, a commit that keeps failing is an error, not a loop', async () => {
    const input = join(dir, 'audit.log');
    writeFileSync(input, denial(1));
    const real = openStore({ dir: join(dir, 'state') });
    const store: Store = {
      ...real,
      commitBatch() {
        throw Object.assign(new Error('disk full'), { code: 'AVC_ERR_STORE_IO' });
      },
    };
    const engine = engineOver(store, input);
    await engine.start();
    await expect(engine.finish()).rejects.toThrow('disk full');
    real.close();
  });
});

describe('copytruncate', () => {
  const st = 'msg=audit(1763802001.000:9):';
  const syscall = `type=SYSCALL ${st} arch=c000003e syscall=257 success=no exit=-13 a0=1 a1=2 a2=3 a3=4 items=1 ppid=1 pid=1 auid=1000 uid=0 comm="cat" exe="/usr/bin/cat" key=(null)\n`;
  const eoe = `type=EOE ${st} \n`;

  it('keeps one decoder across it: an event split by the truncation comes out whole (partial:false)', async () => {
    const input = join(dir, 'audit.log');
    // Serial 9 is open at the truncation: its AVC is read before, its SYSCALL and EOE land in the new file.
    writeFileSync(input, denial(1) + denial(9));
    const store = openStore({ dir: join(dir, 'state') });
    const engine = engineOver(store, input);
    await engine.start();
    await engine.tail.drain();
    copyFileSync(input, `${input}.1`);
    truncateSync(input, 0);
    appendFileSync(input, syscall + eoe);
    await engine.finish();
    await engine.stop();
    const kept = store.events() as Array<{
      serial: number;
      partial: boolean;
      records: Array<{ type: string }>;
    }>;
    const ev = kept.find((e) => e.serial === 9);
    expect(ev?.records.map((r) => r.type)).toEqual(['AVC', 'SYSCALL']);
    expect(ev?.partial).toBe(false);
    expect(engine.totals()).toMatchObject({ lines: 4, events: 2, denials: 2, malformed: 0 });
    expect(store.counters()).toMatchObject({ lines: 4, events: 2, denials: 2 });
    store.close();
  });

  it('checkpoints the truncated file at the open event while it spans the truncation; a restart re-reads it whole', async () => {
    const input = join(dir, 'audit.log');
    const first = `${denial(1)}type=EOE msg=audit(1763802001.000:1): \n`; // closed by its EOE
    writeFileSync(input, first + denial(9));
    const state = join(dir, 'state');
    const store = openStore({ dir: state });
    const engine = engineOver(store, input);
    await engine.start();
    await engine.tail.drain();
    const before = store.checkpoint() as { identity: { ino: number }; offset: number };
    copyFileSync(input, `${input}.1`);
    truncateSync(input, 0);
    appendFileSync(input, syscall);
    await engine.tail.drain();
    // Serial 9 is still open: the checkpoint stays where it starts, in the truncated file (not the live one at 0).
    expect(store.checkpoint()).toMatchObject({ identity: before.identity, offset: first.length });
    await engine.stop(); // no flush of open events: a crash looks the same
    store.close();

    const again = openStore({ dir: state });
    const resumed = engineOver(again, input);
    appendFileSync(input, eoe);
    await resumed.start();
    await resumed.finish();
    await resumed.stop();
    const kept = again.events() as Array<{
      serial: number;
      partial: boolean;
      records: Array<{ type: string }>;
    }>;
    expect(kept.map((e) => e.serial)).toEqual([1, 9]);
    expect(kept[1]?.records.map((r) => r.type)).toEqual(['AVC', 'SYSCALL']);
    expect(kept[1]?.partial).toBe(false);
    again.close();
  });
});

describe('rename rotation', () => {
  const st = 'msg=audit(1763802001.000:9):';
  const syscall = `type=SYSCALL ${st} arch=c000003e syscall=257 success=no exit=-13 a0=1 a1=2 a2=3 a3=4 items=1 ppid=1 pid=1 auid=1000 uid=0 comm="cat" exe="/usr/bin/cat" key=(null)\n`;
  const proctitle = `type=PROCTITLE ${st} proctitle=636174\n`;
  const closed1 = `${denial(1)}type=EOE msg=audit(1763802001.000:1): \n`; // closed by its EOE

  it('keeps one decoder across it: AVC+SYSCALL end the renamed file, PROCTITLE starts the new one, one event (partial:false)', async () => {
    const input = join(dir, 'audit.log');
    writeFileSync(input, closed1 + denial(9) + syscall);
    const store = openStore({ dir: join(dir, 'state') });
    const engine = engineOver(store, input);
    await engine.start();
    await engine.tail.drain();
    renameSync(input, `${input}.1`);
    writeFileSync(input, proctitle);
    await engine.finish();
    await engine.stop();
    const kept = store.events() as Array<{
      serial: number;
      partial: boolean;
      records: Array<{ type: string }>;
    }>;
    expect(kept.map((e) => e.serial)).toEqual([1, 9]);
    expect(kept[1]?.records.map((r) => r.type)).toEqual(['AVC', 'SYSCALL']); // PROCTITLE is not kept
    expect(kept[1]?.partial).toBe(false);
    // The PROCTITLE joined event 9 instead of coming out as a second piece of it.
    expect(engine.totals()).toMatchObject({
      lines: 5,
      events: 2,
      duplicateEvents: 0,
      denials: 2,
      malformed: 0,
    });
    expect(store.counters()).toMatchObject({ lines: 5, events: 2, denials: 2 });
    store.close();
  });

  it('checkpoints the renamed file at the open event while it spans the rotation; a restart re-reads it whole', async () => {
    const input = join(dir, 'audit.log');
    writeFileSync(input, closed1 + denial(9) + syscall);
    const state = join(dir, 'state');
    const store = openStore({ dir: state });
    const engine = engineOver(store, input);
    await engine.start();
    await engine.tail.drain();
    const before = store.checkpoint() as { identity: { ino: number }; offset: number };
    renameSync(input, `${input}.1`);
    writeFileSync(input, '');
    await engine.tail.drain();
    // Serial 9 is still open: the checkpoint stays where it starts, in the renamed file.
    expect(store.checkpoint()).toMatchObject({ identity: before.identity, offset: closed1.length });
    await engine.stop(); // no flush of open events: a crash looks the same
    store.close();

    appendFileSync(input, proctitle);
    const again = openStore({ dir: state });
    const resumed = engineOver(again, input);
    await resumed.start();
    await resumed.finish();
    await resumed.stop();
    const kept = again.events() as Array<{
      serial: number;
      partial: boolean;
      records: Array<{ type: string }>;
    }>;
    expect(kept.map((e) => e.serial)).toEqual([1, 9]);
    expect(kept[1]?.records.map((r) => r.type)).toEqual(['AVC', 'SYSCALL']);
    expect(kept[1]?.partial).toBe(false);
    expect(resumed.totals()).toMatchObject({ events: 1, duplicateEvents: 0 });
    // The renamed file's lines were counted by the first run, the new file's by the second: each once.
    expect(again.counters()).toMatchObject({ lines: 5, events: 2, denials: 2 });
    again.close();
  });
});
