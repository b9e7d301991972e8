// File -> ingester -> real Kafka -> analyzer -> real Elasticsearch, and SIGKILL of either daemon mid-stream.
import { appendFileSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createAuditDecoder } from '@avcstream/audit';
import { createEsClient, type EsClient } from '@avcstream/elasticsearch';
import { endOffsets } from '@avcstream/kafka';
import { getServices, servicesAvailable, uniqueName } from '@avcstream/testkit';
import { afterEach, describe, expect, it } from 'vitest';
import {
  analyzerArgs,
  type Daemon,
  denialEvents,
  expectedVerdicts,
  ingesterArgs,
  cleanupPipelines,
  pipelineNames,
  sampleLog,
  startDaemon,
  tempDir,
  waitFor,
} from './pipeline-harness.ts';

const available = servicesAvailable();
if (!available)
  console.warn('[pipeline.int] skipped: no real Kafka/Elasticsearch (see the testkit message above)');

const daemons: Daemon[] = [];
let es: EsClient | undefined;
afterEach(async () => {
  for (const d of daemons.splice(0)) {
    d.kill('SIGKILL');
    await d.exited();
  }
  await cleanupPipelines();
  await es?.close();
  es = undefined;
});

function client(): EsClient {
  es ??= createEsClient({ node: getServices().elasticsearchUrl });
  return es;
}

async function denialCount(prefix: string): Promise<number> {
  const c = client();
  await c.refresh(`${prefix}-denials`).catch(() => {});
  return c.count(`${prefix}-denials`).catch(() => 0);
}

async function verdicts(prefix: string): Promise<Record<string, number>> {
  const r = await client().search(`${prefix}-denials`, {
    size: 0,
    aggs: { v: { terms: { field: 'decision.verdict', size: 20, missing: 'none' } } },
  });
  const agg = r.aggregations?.v as { buckets: Array<{ key: string; doc_count: number }> } | undefined;
  const buckets = agg?.buckets ?? [];
  return Object.fromEntries(buckets.map((b) => [b.key, b.doc_count]));
}

async function topicCount(topic: string): Promise<number> {
  const offs = await endOffsets({ brokers: getServices().kafkaBrokers }, topic);
  return offs.reduce((s, p) => s + Number(p.offset), 0);
}

function run(kind: 'ingester' | 'analyzer', args: string[], dir: string): Daemon {
  const d = startDaemon(kind, args, dir);
  daemons.push(d);
  return d;
}

describe.runIf(available)('pipeline: file -> Kafka -> Elasticsearch', () => {
  it('the bundled sample gives exactly its 28 denials with the right verdicts, its SELinux events and dead letters', async () => {
    // Every malformed line is dead-lettered one for one (the sample's README lists 4): the lines the parser
    // rejects, and the two AVC records with an unparsable body, which also land, flagged, among the SELinux
    // events.
    const badBodies: unknown[] = [];
    const dec = createAuditDecoder({ onMalformedAvc: (e) => badBodies.push(e) });
    const malformed = dec.write(readFileSync(sampleLog)).errors.length + dec.end().errors.length;
    expect(malformed).toBe(2);
    expect(badBodies).toHaveLength(2);
    const s = getServices();
    const names = pipelineNames(uniqueName);
    const dir = tempDir('p1');
    const log = join(dir, 'audit.log');
    writeFileSync(log, '');
    const ing = run('ingester', ingesterArgs(names, s.kafkaBrokers, log, dir), dir);
    const ana = run('analyzer', analyzerArgs(names, s.kafkaBrokers, s.elasticsearchUrl), dir);
    await waitFor(
      'ingester ready',
      () => ing.readyz(),
      (x) => x === 200,
    );
    await waitFor(
      'analyzer ready',
      () => ana.readyz(),
      (x) => x === 200,
    );
    appendFileSync(log, readFileSync(sampleLog));

    await waitFor(
      '28 denial documents',
      () => denialCount(names.prefix),
      (n) => n >= 28,
    );
    await waitFor(
      'ingester dead letters',
      () => topicCount(names.deadletter),
      (n) => n >= malformed + badBodies.length,
    );
    expect(await denialCount(names.prefix)).toBe(28);
    expect(await verdicts(names.prefix)).toEqual({
      ALLOWED: 3,
      DONTAUDIT: 2,
      TE_MISSING: 6,
      BOOLEAN: 7,
      CONSTRAINT: 2,
      RBAC: 1,
      BOUNDS: 2,
      INVALID_CONTEXT: 3,
      UNKNOWN_CLASS: 1,
      UNKNOWN_PERM: 1,
    });
    await waitFor(
      '13 SELinux event documents',
      async () => {
        await client().refresh(`${names.prefix}-selinux-events`);
        return client().count(`${names.prefix}-selinux-events`);
      },
      (n) => n >= 13,
    );
    // 3 granted AVCs, 7 MAC_*, 1 USER_AVC policyload notice, 2 AVC records with an unparsable body
    expect(await client().count(`${names.prefix}-selinux-events`)).toBe(13);
    expect(await topicCount(names.deadletter)).toBe(malformed + badBodies.length);
    expect(await ing.metric('avcstream_ingester_malformed_lines_total')).toBe(malformed);
    expect(await ing.metric('avcstream_ingester_malformed_avc_records_total')).toBe(badBodies.length);
    // the ECS shape of one BOOLEAN denial (line 26, serial 8213), searchable by its fields
    const hit = await client().search<Record<string, unknown>>(`${names.prefix}-denials`, {
      query: {
        bool: {
          filter: [
            { term: { 'decision.verdict': 'BOOLEAN' } },
            { term: { 'selinux.tclass': 'dir' } },
            { term: { 'event.sequence': 8213 } },
            { term: { 'host.name': 'web01.example.com' } },
          ],
        },
      },
      size: 2,
    });
    expect(hit.hits).toHaveLength(1);
    expect(hit.hits[0]?.source).toMatchObject({
      event: { action: 'violated-selinux-policy', category: ['file'], outcome: 'failure' },
      host: { name: 'web01.example.com' },
      process: { executable: '/usr/sbin/httpd', pid: 2214, parent: { pid: 2201 }, working_directory: '/' },
      user: { id: '48' },
      file: { path: '/home/alice/public_html' },
      selinux: {
        scontext: { type: 'httpd_t' },
        tcontext: { type: 'user_home_t' },
        tclass: 'dir',
        perms: ['getattr'],
      },
      decision: { verdict: 'BOOLEAN', booleans: [{ name: 'httpd_read_user_content', current: false }] },
    });
    // anchors §5 (auditd_manager shape): Elastic-style queries find the denials and their objects
    const count = async (...filter: object[]) =>
      (await client().search(`${names.prefix}-denials`, { query: { bool: { filter } }, size: 0 })).total;
    expect(await count({ term: { 'auditd.message_type': 'avc' } })).toBeGreaterThan(0);
    expect(await count({ term: { 'auditd.data.seresult': 'denied' } })).toBe(28);
    const connect = await client().search<Record<string, unknown>>(`${names.prefix}-denials`, {
      query: {
        bool: {
          filter: [
            { term: { 'event.sequence': 8218 } },
            { term: { 'auditd.data.dest': '5432' } },
            { term: { 'destination.port': 5432 } },
          ],
        },
      },
      size: 2,
    });
    expect(connect.hits).toHaveLength(1);
    expect(connect.hits[0]?.source).toMatchObject({
      auditd: { message_type: 'avc', result: 'fail', data: { dest: '5432', syscall: 'connect' } },
      destination: { port: 5432 },
      network: { direction: 'egress' },
    });
    expect(ing.alive && ana.alive).toBe(true);
  });

  it("restorecon advice from the host's file_contexts, sent by the ingester, for a name=-only AVC", async () => {
    // A file moved from a home directory keeps user_home_t; its read denial names it by name= and ino= only,
    // and the openat's PATH record holds that inode under its full name.
    const s = getServices();
    const names = pipelineNames(uniqueName);
    const dir = tempDir('p-fc');
    const fc = join(dir, 'file_contexts');
    writeFileSync(
      fc,
      '/.*\tsystem_u:object_r:etc_t:s0\n/var/www(/.*)?\tsystem_u:object_r:httpd_sys_content_t:s0\n',
    );
    const log = join(dir, 'audit.log');
    writeFileSync(
      log,
      'node=web01 type=SYSCALL msg=audit(1763802001.000:9): arch=c000003e syscall=257 success=no exit=-13 a0=ffffff9c a1=7f a2=0 a3=0 items=1 ppid=1 pid=7 auid=0 uid=48 gid=48 euid=48 suid=48 fsuid=48 egid=48 sgid=48 fsgid=48 tty=(none) ses=1 comm="httpd" exe="/usr/sbin/httpd" subj=system_u:system_r:httpd_t:s0 key=(null)\n' +
        'node=web01 type=AVC msg=audit(1763802001.000:9): avc:  denied  { read } for  pid=7 comm="httpd" name="x" dev="dm-0" ino=2 scontext=system_u:system_r:httpd_t:s0 tcontext=system_u:object_r:user_home_t:s0 tclass=file permissive=0\n' +
        'node=web01 type=CWD msg=audit(1763802001.000:9): cwd="/var/www"\n' +
        'node=web01 type=PATH msg=audit(1763802001.000:9): item=0 name="html/x" inode=2 dev=fd:00 mode=0100644 ouid=0 ogid=0 rdev=00:00 obj=system_u:object_r:user_home_t:s0 nametype=NORMAL\n' +
        'node=web01 type=PROCTITLE msg=audit(1763802001.000:9): proctitle=6874747064\n',
    );
    run('analyzer', analyzerArgs(names, s.kafkaBrokers, s.elasticsearchUrl), dir);
    const ing = run(
      'ingester',
      ingesterArgs(names, s.kafkaBrokers, log, dir, [`--policy.fileContextsPath=${fc}`]),
      dir,
    );
    await waitFor(
      '1 denial document',
      () => denialCount(names.prefix),
      (n) => n >= 1,
    );
    const hit = await client().search<{
      file: { path: string };
      decision: { verdict: string; fix: Array<{ kind: string; text: string; verified: boolean }> };
    }>(`${names.prefix}-denials`, { query: { match_all: {} }, size: 2 });
    expect(hit.hits).toHaveLength(1);
    const doc = hit.hits[0]!.source!;
    expect(doc.file.path).toBe('/var/www/html/x');
    expect(doc.decision.verdict).toBe('BOOLEAN');
    expect(doc.decision.fix.map((f) => f.kind)).toEqual(['restorecon', 'setsebool']);
    expect(doc.decision.fix[0]).toEqual({
      kind: 'restorecon',
      text: "restorecon -v '<path>'",
      verified: true,
    });
    expect(ing.alive).toBe(true);
  });

  it('SIGKILL of the ingester mid-file, then restart: no missing, no duplicate documents', async () => {
    const s = getServices();
    const names = pipelineNames(uniqueName);
    const dir = tempDir('p2');
    const log = join(dir, 'audit.log');
    const total = 5_000;
    writeFileSync(log, denialEvents(0, total));
    // Small reads and batches: the kill lands mid-file.
    const slow = [
      '--tail.chunkBytes=16384',
      '--backpressure.maxBatchMessages=50',
      '--backpressure.maxInFlightBatches=1',
    ];
    const ana = run('analyzer', analyzerArgs(names, s.kafkaBrokers, s.elasticsearchUrl), dir);
    let ing = run('ingester', ingesterArgs(names, s.kafkaBrokers, log, dir, slow), dir);
    // Kill once 1000 events are acked and at least one checkpoint is on disk (so the restart must resume).
    const published = await waitFor(
      'the ingester publishing and checkpointing',
      async () => {
        const cp = await ing.metric('avcstream_ingester_checkpoints_writes_total');
        const n = await ing.metric('avcstream_ingester_published_events_total');
        return cp !== null && cp >= 1 ? n : null;
      },
      (n) => n !== null && n >= 1000,
      120_000,
      50,
    );
    ing.kill('SIGKILL');
    await ing.exited();
    expect(published).toBeLessThan(total);
    ing = run('ingester', ingesterArgs(names, s.kafkaBrokers, log, dir, slow), dir);
    await waitFor(
      `${total} denial documents`,
      () => denialCount(names.prefix),
      (n) => n >= total,
      300_000,
      1000,
    );
    // The restarted ingester resumed from its checkpoint, not from the start of the file.
    const second = await ing.metric('avcstream_ingester_published_events_total');
    expect(second).not.toBeNull();
    expect(second!).toBeLessThan(total);
    expect(await denialCount(names.prefix)).toBe(total);
    expect(await verdicts(names.prefix)).toEqual(expectedVerdicts(0, total));
    expect(ana.alive).toBe(true);
  }, 400_000);

  it('SIGKILL of the analyzer mid-stream, then restart: no missing, no duplicate documents', async () => {
    const s = getServices();
    const names = pipelineNames(uniqueName);
    const dir = tempDir('p3');
    const log = join(dir, 'audit.log');
    const total = 5_000;
    writeFileSync(log, denialEvents(0, total));
    const ing = run('ingester', ingesterArgs(names, s.kafkaBrokers, log, dir), dir);
    const slow = ['--kafka.maxBytesPerPartition=65536', '--processing.maxInFlightBatches=1'];
    let ana = run('analyzer', analyzerArgs(names, s.kafkaBrokers, s.elasticsearchUrl, slow), dir);
    const indexed = await waitFor(
      'the analyzer indexing',
      () => ana.metric('avcstream_analyzer_denials_documents_total'),
      (n) => n !== null && n >= 1000,
      120_000,
      50,
    );
    ana.kill('SIGKILL');
    await ana.exited();
    expect(indexed).toBeLessThan(total);
    ana = run('analyzer', analyzerArgs(names, s.kafkaBrokers, s.elasticsearchUrl, slow), dir);
    await waitFor(
      `${total} denial documents`,
      () => denialCount(names.prefix),
      (n) => n >= total,
      300_000,
      1000,
    );
    expect(await denialCount(names.prefix)).toBe(total);
    expect(await verdicts(names.prefix)).toEqual(expectedVerdicts(0, total));
    expect(ing.alive).toBe(true);
  }, 400_000);
});
