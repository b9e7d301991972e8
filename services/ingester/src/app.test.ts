import { appendFileSync, mkdtempSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '@avcstream/config';
import {
  assemblePolicy,
  decodeDeadLetterMessage,
  decodeEventMessage,
  decodePolicyMessage,
  sha256Hex,
} from '@avcstream/contracts';
import { createMemoryCheckpointStore, createTail, type FileEndInfo, type TailOptions } from '@avcstream/tail';
import { createLogger, createMetrics } from '@avcstream/telemetry';
import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createApp, type Publisher } from './app.ts';
import { ingesterConfigSchema } from './config.ts';
import type { PolicySnapshot } from './policy-snapshot.ts';

function memoryPublisher() {
  const sent: Array<{ topic: string; key: string; value: Buffer }> = [];
  let failures = 0;
  // hold(): sends wait until release(), as kafkajs's send does while the broker is down (it retries inside).
  let gate: Promise<void> | null = null;
  let open: () => void = () => {};
  const pub: Publisher & {
    sent: typeof sent;
    held: number;
    failNext(n: number): void;
    hold(): void;
    release(): void;
  } = {
    sent,
    held: 0,
    failNext(n) {
      failures = n;
    },
    hold() {
      gate = new Promise((r) => {
        open = r;
      });
    },
    release() {
      gate = null;
      open();
    },
    async connect() {},
    async disconnect() {},
    async send(topic, messages) {
      if (gate !== null) {
        pub.held++;
        await gate;
        pub.held--;
      }
      if (failures > 0) {
        failures--;
        throw Object.assign(new Error('broker down'), { retriable: true });
      }
      for (const m of messages) sent.push({ topic, key: m.key, value: m.value });
    },
  };
  return pub;
}

const silent = () =>
  createLogger({
    component: 'test',
    destination: new Writable({
      write(_c, _e, cb) {
        cb();
      },
    }),
  });

function avcEvent(serial: number, node = 'web01') {
  const t = `1700000${String(serial).padStart(3, '0')}.123:${serial}`;
  return (
    `node=${node} type=AVC msg=audit(${t}): avc:  denied  { read } for  pid=42 comm="httpd" name="x" ` +
    `scontext=system_u:system_r:httpd_t:s0 tcontext=system_u:object_r:shadow_t:s0 tclass=file permissive=0\n` +
    `node=${node} type=SYSCALL msg=audit(${t}): arch=c000003e syscall=257 success=no exit=-13 pid=42 uid=48 comm="httpd" exe="/usr/sbin/httpd"\n` +
    `node=${node} type=PROCTITLE msg=audit(${t}): proctitle=6874747064\n`
  );
}
const nonSelinux = (serial: number) =>
  `type=SYSCALL msg=audit(1700000${serial}.000:${serial}): arch=c000003e syscall=59 success=yes exit=0 pid=1 uid=0\n` +
  `type=PROCTITLE msg=audit(1700000${serial}.000:${serial}): proctitle=6C73\n`;

const snapshot: PolicySnapshot = {
  policy: Buffer.alloc(3000, 1),
  sha256: '',
  enforcing: true,
  booleans: { httpd_can_network_connect: true },
};
snapshot.sha256 = (await import('@avcstream/contracts')).sha256Hex(snapshot.policy);

function setup(
  extra: string[] = [],
  resolveIds?: (kind: 'uid' | 'gid', id: number) => string | undefined,
  now?: () => Date,
) {
  const dir = mkdtempSync(join(tmpdir(), 'ingester-'));
  const path = join(dir, 'audit.log');
  writeFileSync(path, '');
  const config = loadConfig(ingesterConfigSchema('testhost'), {}, [
    `--tail.path=${path}`,
    '--tail.watch=false',
    '--tail.pollIntervalMs=20',
    '--decoder.idleFlushMs=50',
    '--decoder.horizonMs=0',
    '--policy.chunkBytes=1024',
    ...extra,
  ]);
  const producer = memoryPublisher();
  const checkpoints = createMemoryCheckpointStore();
  const metrics = createMetrics({ component: 'ingester', defaults: false });
  let snap = snapshot;
  /** What the tail reported at each file end, in order. */
  const fileEnds: FileEndInfo[] = [];
  const tailWithEnds = (o: TailOptions) =>
    createTail({
      ...o,
      onFileEnd: async (info) => {
        fileEnds.push(info);
        await o.onFileEnd?.(info);
      },
    });
  const app = createApp({
    config,
    logger: silent(),
    metrics,
    producer,
    createTail: tailWithEnds,
    checkpoints,
    readSnapshot: async () => snap,
    ...(resolveIds ? { resolveIds } : {}),
    ...(now ? { now } : {}),
  });
  return {
    dir,
    path,
    app,
    producer,
    checkpoints,
    metrics,
    fileEnds,
    /** A second ingester on the same file and checkpoint store (a restart), with its own producer. */
    restart() {
      const producer2 = memoryPublisher();
      const app2 = createApp({
        config,
        logger: silent(),
        metrics: createMetrics({ component: 'ingester', defaults: false }),
        producer: producer2,
        createTail,
        checkpoints,
        readSnapshot: async () => snap,
      });
      return { app: app2, producer: producer2 };
    },
    setSnapshot(s: PolicySnapshot) {
      snap = s;
    },
  };
}

const events = (sent: Array<{ topic: string; value: Buffer }>, topic = 'avcstream.events.v1') =>
  sent
    .filter((s) => s.topic === topic)
    .map((s) => {
      const d = decodeEventMessage(s.value);
      if (!d.ok) throw new Error(d.error.message);
      return d.value;
    });

/** The one dead letter sent on avcstream.deadletter.v1, decoded (fails unless there is exactly one, valid). */
function onlyDeadLetter(sent: Array<{ topic: string; value: Buffer }>) {
  const dls = sent
    .filter((s) => s.topic === 'avcstream.deadletter.v1')
    .map((s) => decodeDeadLetterMessage(s.value));
  expect(dls).toHaveLength(1);
  const dl = dls[0]!;
  expect(dl.ok).toBe(true);
  if (!dl.ok) throw new Error(dl.error.message);
  return dl.value;
}

/** Waits up to 10 s (400 polls of 25 ms) for `cond`: the tests below have 15 s, so this wait gives up first. */
async function until(cond: () => boolean | Promise<boolean>) {
  for (let i = 0; i < 400; i++) {
    if (await cond()) return;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error('condition not reached');
}

// File-watch timing: a run under load can take a few seconds to see a rotation. The runner's limit is above
// `until`'s own 10 s, so a condition never reached fails with its message, not with the runner's timeout.
describe('ingester app', { timeout: 15_000 }, () => {
  it('publishes SELinux events keyed by host with the policy ref, and checkpoints after the acks', async () => {
    const t = setup();
    writeFileSync(t.path, avcEvent(1) + nonSelinux(2) + avcEvent(3, 'web02'));
    await t.app.start();
    try {
      await until(() => events(t.producer.sent).length === 2);
      await t.app.idle();
      const evs = events(t.producer.sent);
      expect(evs.map((e) => [e.host, e.event.serial])).toEqual([
        ['web01', 1],
        ['web02', 3],
      ]);
      expect(t.producer.sent.filter((s) => s.topic === 'avcstream.events.v1').map((s) => s.key)).toEqual([
        'web01',
        'web02',
      ]);
      const policy = t.producer.sent.filter((s) => s.topic === 'avcstream.policy.v1');
      // 3 chunks of 1024 bytes then the state
      expect(policy.map((p) => p.key.split(':')[0])).toEqual(['policy', 'policy', 'policy', 'state']);
      const state = decodePolicyMessage(policy[3]!.value);
      expect(
        state.ok && state.value.kind === 'state' && evs[0]!.policy?.stateId === state.value.stateId,
      ).toBe(true);
      expect(await t.metrics.value('avcstream_ingester_filtered_events_total')).toBe(1);
      const cp = await t.checkpoints.load();
      expect(cp?.offset).toBe(readFileSync(t.path).length);
    } finally {
      await t.app.stop();
    }
  });

  it('dead-letters malformed lines with raw bytes and position, and keeps going', async () => {
    const t = setup();
    const bad = 'this line is not an audit record\n';
    writeFileSync(t.path, avcEvent(1) + bad + avcEvent(2));
    await t.app.start();
    try {
      await until(() => events(t.producer.sent).length === 2);
      await t.app.idle();
      const dl = onlyDeadLetter(t.producer.sent);
      expect(Buffer.from(dl.raw, 'base64').toString()).toBe(bad.trimEnd());
      expect(dl.source).toMatchObject({ kind: 'file', offset: avcEvent(1).length });
      expect(await t.metrics.value('avcstream_ingester_malformed_lines_total')).toBe(1);
    } finally {
      await t.app.stop();
    }
  });

  it('sends an event whose AVC decision did not parse, and dead-letters that line with its bytes', async () => {
    const t = setup();
    const cut =
      'node=web01 type=AVC msg=audit(1700000009.123:9): avc:  denied  { read } for  pid=42 comm="httpd" scontext=system_u:system_r:httpd_t:s0 tclass=file permissive=0';
    writeFileSync(t.path, `${avcEvent(1)}${cut}\n${avcEvent(2)}`);
    await t.app.start();
    try {
      await until(() => events(t.producer.sent).length === 3);
      await t.app.idle();
      const sent = events(t.producer.sent);
      expect(sent.map((e) => e.event.serial).sort((a, b) => a - b)).toEqual([1, 2, 9]);
      const dl = onlyDeadLetter(t.producer.sent);
      expect(dl.reason.code).toBe('AVC_ERR_AUDIT_AVC_BODY');
      expect(Buffer.from(dl.raw, 'base64').toString()).toBe(cut);
      expect(dl.source).toMatchObject({ kind: 'file', offset: avcEvent(1).length, line: 4 });
      expect(await t.metrics.value('avcstream_ingester_malformed_avc_records_total')).toBe(1);
      expect(await t.metrics.value('avcstream_ingester_malformed_lines_total')).toBe(0);
    } finally {
      await t.app.stop();
    }
  });

  it('dead-letters the exact bytes of a malformed line that is not valid UTF-8', async () => {
    const t = setup();
    const bad = Buffer.from('garbage \xff\xfe\x00 line\r\n', 'latin1');
    writeFileSync(t.path, Buffer.concat([Buffer.from(avcEvent(1)), bad, Buffer.from(avcEvent(2))]));
    await t.app.start();
    try {
      await until(() => events(t.producer.sent).length === 2);
      await t.app.idle();
      const dl = onlyDeadLetter(t.producer.sent);
      expect(Buffer.from(dl.raw, 'base64')).toEqual(bad.subarray(0, bad.length - 2));
      expect(dl.rawBytes).toBe(bad.length - 2);
    } finally {
      await t.app.stop();
    }
  });

  it('retries failed sends without losing or skipping the checkpoint', async () => {
    const t = setup();
    await t.app.start();
    try {
      t.producer.failNext(3);
      appendFileSync(t.path, avcEvent(1));
      await until(() => events(t.producer.sent).length === 1);
      await t.app.idle();
      expect((await t.checkpoints.load())?.offset).toBe(avcEvent(1).length);
      expect(await t.metrics.value('avcstream_ingester_send_retries_retries_total')).toBe(3);
    } finally {
      await t.app.stop();
    }
  });

  it('is not ready while a send has been pending longer than kafka.sendStallMs (Kafka down), ready again once acked', async () => {
    let clock = 1_700_000_000_000;
    const t = setup(['--kafka.sendStallMs=10000'], undefined, () => new Date(clock));
    await t.app.start();
    try {
      expect(t.app.ready()).toBe(true);
      t.producer.hold();
      appendFileSync(t.path, avcEvent(1));
      await until(() => t.producer.held > 0);
      clock += 10_000;
      expect(t.app.ready()).toBe(true);
      clock += 1;
      expect(t.app.ready()).toBe(false);
      t.producer.release();
      await until(() => events(t.producer.sent).length === 1);
      await t.app.idle();
      expect(t.app.ready()).toBe(true);
    } finally {
      t.producer.release();
      await t.app.stop();
    }
  });

  it('counts a send that fails and is retried as pending from its first attempt', async () => {
    let clock = 1_700_000_000_000;
    const t = setup([], undefined, () => new Date(clock));
    await t.app.start();
    try {
      t.producer.hold();
      t.producer.failNext(1);
      appendFileSync(t.path, avcEvent(1));
      await until(() => t.producer.held > 0);
      t.producer.release();
      // The first attempt failed; the retry is held again.
      t.producer.hold();
      await until(() => t.producer.held > 0);
      clock += 10_001; // the default kafka.sendStallMs is 10 s
      expect(t.app.ready()).toBe(false);
      t.producer.release();
      await until(() => events(t.producer.sent).length === 1);
      expect(t.app.ready()).toBe(true);
    } finally {
      t.producer.release();
      await t.app.stop();
    }
  });

  it('takes a new snapshot on MAC_CONFIG_CHANGE; events after it carry the new state', async () => {
    const t = setup(['--filter.mode=all']);
    await t.app.start();
    try {
      appendFileSync(t.path, avcEvent(1));
      await until(() => events(t.producer.sent).length === 1);
      t.setSnapshot({ ...snapshot, booleans: { httpd_can_network_connect: false } });
      appendFileSync(
        t.path,
        'type=MAC_CONFIG_CHANGE msg=audit(1700000002.000:2): bool=httpd_can_network_connect val=0 old_val=1 auid=0 ses=1\n' +
          avcEvent(3),
      );
      await until(() => events(t.producer.sent).length === 3);
      await t.app.idle();
      const evs = events(t.producer.sent);
      expect(evs[0]!.policy?.stateId).not.toBe(evs[2]!.policy?.stateId);
      expect(evs[1]!.policy?.stateId).toBe(evs[2]!.policy?.stateId);
      const kinds = t.producer.sent
        .filter((s) => s.topic === 'avcstream.policy.v1')
        .map((p) => p.key.split(':')[0]);
      // same policy binary: chunks only once, two states
      expect(kinds).toEqual(['policy', 'policy', 'policy', 'state', 'state']);
    } finally {
      await t.app.stop();
    }
  });

  it('sends the file_contexts bundle in chunks before the state that names it, each hash once', async () => {
    const t = setup(['--filter.mode=all']);
    const fc = Buffer.from('{"bundle":1}'.repeat(200));
    const withFc: PolicySnapshot = { ...snapshot, fileContexts: { bytes: fc, sha256: sha256Hex(fc) } };
    t.setSnapshot(withFc);
    await t.app.start();
    try {
      appendFileSync(t.path, avcEvent(1));
      await until(() => events(t.producer.sent).length === 1);
      t.setSnapshot({ ...withFc, booleans: { httpd_can_network_connect: false } });
      appendFileSync(
        t.path,
        'type=MAC_CONFIG_CHANGE msg=audit(1700000002.000:2): bool=httpd_can_network_connect val=0 old_val=1 auid=0 ses=1\n' +
          avcEvent(3),
      );
      await until(() => events(t.producer.sent).length === 3);
      await t.app.idle();
      const policy = t.producer.sent.filter((s) => s.topic === 'avcstream.policy.v1');
      const decoded = policy.map((p) => {
        const d = decodePolicyMessage(p.value);
        if (!d.ok) throw new Error(d.error.message);
        return d.value;
      });
      const fcChunks = decoded.filter((m) => m.kind === 'chunk' && m.sha256 === sha256Hex(fc));
      // 2400 bytes in chunks of 1024: 3 chunks, sent once, before the first state.
      expect(fcChunks).toHaveLength(3);
      const firstState = decoded.findIndex((m) => m.kind === 'state');
      expect(decoded.lastIndexOf(fcChunks[2]!)).toBeLessThan(firstState);
      const states = decoded.filter((m) => m.kind === 'state');
      expect(states).toHaveLength(2);
      for (const st of states) {
        expect(st.kind === 'state' && st.fileContexts).toEqual({
          sha256: sha256Hex(fc),
          bytes: fc.length,
          chunks: 3,
        });
      }
      const assembled = assemblePolicy(fcChunks.filter((m) => m.kind === 'chunk'));
      expect(assembled?.bytes.equals(fc)).toBe(true);
      expect(events(t.producer.sent)[0]!.policy?.stateId).toBe(states[0]!.stateId);
    } finally {
      await t.app.stop();
    }
  });

  it('a denial read in the same chunk as a later MAC_CONFIG_CHANGE carries the state before the change', async () => {
    const t = setup(['--filter.mode=all']);
    await t.app.start();
    try {
      appendFileSync(t.path, avcEvent(1));
      await until(() => events(t.producer.sent).length === 1);
      t.setSnapshot({ ...snapshot, booleans: { httpd_can_network_connect: false } });
      // One write: the denial, then the boolean change, then a later denial.
      appendFileSync(
        t.path,
        avcEvent(2) +
          'type=MAC_CONFIG_CHANGE msg=audit(1700000003.000:3): bool=httpd_can_network_connect val=0 old_val=1 auid=0 ses=1\n' +
          avcEvent(4),
      );
      await until(() => events(t.producer.sent).length === 4);
      await t.app.idle();
      const bySerial = new Map(events(t.producer.sent).map((e) => [e.event.serial, e.policy?.stateId]));
      const before = bySerial.get(1);
      expect(bySerial.get(2)).toBe(before);
      expect(bySerial.get(3)).not.toBe(before);
      expect(bySerial.get(4)).toBe(bySerial.get(3));
    } finally {
      await t.app.stop();
    }
  });

  it('keeps an event whole when the file grows past the fingerprint size in the middle of it', async () => {
    const t = setup(['--decoder.horizonMs=500', '--decoder.idleFlushMs=60000']);
    const lines = () => t.metrics.value('avcstream_ingester_read_lines_total');
    await t.app.start();
    try {
      const [avc, ...rest] = avcEvent(2).split(/(?<=\n)/);
      appendFileSync(t.path, avcEvent(1));
      await until(async () => (await lines()) === 3);
      appendFileSync(t.path, avc!);
      await until(async () => (await lines()) === 4);
      // The file is re-fingerprinted as it grows (< 1 KiB): the same file, the same event.
      appendFileSync(t.path, rest.join('') + avcEvent(3) + avcEvent(4));
      await until(() => events(t.producer.sent).some((e) => e.event.serial === 4));
      await t.app.idle();
      const evs = events(t.producer.sent);
      expect(evs.map((e) => e.event.serial)).toEqual([1, 2, 3, 4]);
      expect(evs[1]!.event.records.map((r) => r.type)).toEqual(['AVC', 'SYSCALL', 'PROCTITLE']);
    } finally {
      await t.app.stop();
    }
  });

  it('after copytruncate, continues the event open at the truncation with the rest read from the copy', async () => {
    const t = setup(['--decoder.horizonMs=500', '--decoder.idleFlushMs=60000']);
    const lines = () => t.metrics.value('avcstream_ingester_read_lines_total');
    await t.app.start();
    try {
      const [avc] = avcEvent(2).split(/(?<=\n)/);
      appendFileSync(t.path, avcEvent(1));
      await until(async () => (await lines()) === 3);
      appendFileSync(t.path, avc!);
      await until(async () => (await lines()) === 4);
      // logrotate copytruncate: the writer finished the event, the file was copied, then truncated.
      writeFileSync(`${t.path}.1`, avcEvent(1) + avcEvent(2));
      writeFileSync(t.path, avcEvent(3) + avcEvent(4));
      await until(() => events(t.producer.sent).some((e) => e.event.serial === 4));
      await t.app.idle();
      const evs = events(t.producer.sent);
      expect(evs.map((e) => e.event.serial)).toEqual([1, 2, 3, 4]);
      expect(evs[1]!.event.records.map((r) => r.type)).toEqual(['AVC', 'SYSCALL', 'PROCTITLE']);
      // The checkpoint is in the live file.
      const cp = await t.checkpoints.load();
      expect(cp?.offset).toBe(avcEvent(3).length + avcEvent(4).length);
      expect(cp?.identity.ino).toBe(statSync(t.path).ino);
    } finally {
      await t.app.stop();
    }
  });

  it('keeps an event whole across a rename rotation: AVC+SYSCALL end the renamed file, PROCTITLE starts the new one', async () => {
    const t = setup(['--decoder.horizonMs=500', '--decoder.idleFlushMs=60000']);
    const lines = () => t.metrics.value('avcstream_ingester_read_lines_total');
    await t.app.start();
    try {
      const [avc, syscall, proctitle] = avcEvent(2).split(/(?<=\n)/);
      appendFileSync(t.path, avcEvent(1) + avc! + syscall!);
      await until(async () => (await lines()) === 5);
      // auditd rotates between two records of one event.
      renameSync(t.path, `${t.path}.1`);
      writeFileSync(t.path, proctitle! + avcEvent(3));
      await until(() => events(t.producer.sent).some((e) => e.event.serial === 3));
      await t.app.idle();
      const evs = events(t.producer.sent);
      expect(evs.map((e) => e.event.serial)).toEqual([1, 2, 3]);
      expect(evs[1]!.event.records.map((r) => r.type)).toEqual(['AVC', 'SYSCALL', 'PROCTITLE']);
      expect(evs[1]!.event.partial).toBe(false);
      expect(t.fileEnds.map((i) => [i.reason, i.continues])).toEqual([['rotated', true]]);
      // The checkpoint is in the live file, past event 3.
      const cp = await t.checkpoints.load();
      expect(cp?.identity.ino).toBe(statSync(t.path).ino);
      expect(cp?.offset).toBe(proctitle!.length + avcEvent(3).length);
    } finally {
      await t.app.stop();
    }
  });

  it('checkpoints the renamed file where an event open across the rotation starts; a restart re-reads it whole', async () => {
    const t = setup(['--decoder.horizonMs=500', '--decoder.idleFlushMs=60000']);
    const lines = () => t.metrics.value('avcstream_ingester_read_lines_total');
    const [avc, syscall, proctitle] = avcEvent(2).split(/(?<=\n)/);
    const renamedIno = statSync(t.path).ino;
    await t.app.start();
    try {
      appendFileSync(t.path, avcEvent(1) + avc! + syscall!);
      await until(async () => (await lines()) === 5);
      renameSync(t.path, `${t.path}.1`);
      writeFileSync(t.path, '');
      await until(() => t.fileEnds.length === 1);
      await t.app.idle();
      // Event 2 is still open: the checkpoint stays where it starts, in the renamed file.
      const cp = await t.checkpoints.load();
      expect(cp?.identity.ino).toBe(renamedIno);
      expect(cp?.offset).toBe(avcEvent(1).length);
    } finally {
      await t.app.stop(); // open events are not flushed: a crash looks the same
    }
    appendFileSync(t.path, proctitle! + avcEvent(3));
    const r = t.restart();
    await r.app.start();
    try {
      await until(() => events(r.producer.sent).some((e) => e.event.serial === 3));
      await r.app.idle();
      const evs = events(r.producer.sent);
      expect(evs.map((e) => e.event.serial)).toEqual([2, 3]);
      expect(evs[0]!.event.records.map((rec) => rec.type)).toEqual(['AVC', 'SYSCALL', 'PROCTITLE']);
      expect(evs[0]!.event.partial).toBe(false);
    } finally {
      await r.app.stop();
    }
  });

  it('resolves uid names locally when asked', async () => {
    const t = setup(['--decoder.resolveIds=true'], (kind, id) =>
      kind === 'uid' && id === 48 ? 'apache' : undefined,
    );
    await t.app.start();
    try {
      appendFileSync(t.path, avcEvent(1));
      await until(() => events(t.producer.sent).length === 1);
      const sys = events(t.producer.sent)[0]!.event.records.find((r) => r.type === 'SYSCALL');
      expect(sys?.interpreted.uid).toBe('apache');
    } finally {
      await t.app.stop();
    }
  });

  it('follows a rename rotation without losing events', async () => {
    const t = setup();
    await t.app.start();
    try {
      appendFileSync(t.path, avcEvent(1));
      await until(() => events(t.producer.sent).length === 1);
      appendFileSync(t.path, avcEvent(2));
      renameSync(t.path, `${t.path}.1`);
      writeFileSync(t.path, avcEvent(3));
      await until(() => events(t.producer.sent).length === 3);
      expect(events(t.producer.sent).map((e) => e.event.serial)).toEqual([1, 2, 3]);
    } finally {
      await t.app.stop();
    }
  });
});
