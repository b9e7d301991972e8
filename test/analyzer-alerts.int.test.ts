// The analyzer daemon's alert sinks on real servers: audit.log -> ingester -> Kafka -> analyzer -> Elasticsearch,
// and a new denial signature goes to the alerts topic of the real broker (once) and to an HMAC-signed webhook
// (a node:http receiver in this test). The signature document's outbox is delivered once every sink acked.
import { createHmac } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import type { Alert } from '@avcstream/alerts';
import { createEsClient, type EsClient } from '@avcstream/elasticsearch';
import { createKafkaConsumer, deleteTopics, endOffsets } from '@avcstream/kafka';
import { getServices, servicesAvailable, uniqueName } from '@avcstream/testkit';
import { afterEach, describe, expect, it } from 'vitest';
import {
  analyzerArgs,
  cleanupPipelines,
  type Daemon,
  ingesterArgs,
  pipelineNames,
  startDaemon,
  tempDir,
  waitFor,
} from './pipeline-harness.ts';

const available = servicesAvailable();
if (!available)
  console.warn('[analyzer-alerts.int] skipped: no real Kafka/Elasticsearch (see the testkit message above)');

const SECRET = `hmac-${uniqueName('secret')}`;
const CAUTION = 'security_t is the SELinux security server (selinuxfs)';

const daemons: Daemon[] = [];
const topics: string[] = [];
let server: Server | undefined;
let es: EsClient | undefined;
afterEach(async () => {
  for (const d of daemons.splice(0)) {
    d.kill('SIGKILL');
    await d.exited();
  }
  await cleanupPipelines();
  const brokers = getServices().kafkaBrokers;
  await deleteTopics({ brokers }, topics.splice(0)).catch(() => {});
  server?.closeAllConnections();
  await new Promise<void>((r) => (server ? server.close(() => r()) : r()));
  server = undefined;
  await es?.close();
  es = undefined;
});

/** Two reads of /sys/fs/selinux/enforce by httpd (one signature, two occurrences), the sample policy's host. */
function securityDenials(): string {
  let s = '';
  for (const serial of [21, 22]) {
    const stamp = `1763803001.${serial}0:${serial}`;
    s +=
      `node=web01 type=SYSCALL msg=audit(${stamp}): arch=c000003e syscall=257 success=no exit=-13 a0=ffffff9c a1=7f a2=0 a3=0 items=1 ppid=1 pid=7 auid=0 uid=48 gid=48 euid=48 suid=48 fsuid=48 egid=48 sgid=48 fsgid=48 tty=(none) ses=1 comm="httpd" exe="/usr/sbin/httpd" subj=system_u:system_r:httpd_t:s0 key=(null)\n` +
      `node=web01 type=AVC msg=audit(${stamp}): avc:  denied  { read } for  pid=7 comm="httpd" name="enforce" dev="selinuxfs" ino=4 scontext=system_u:system_r:httpd_t:s0 tcontext=system_u:object_r:security_t:s0 tclass=file permissive=0\n` +
      `node=web01 type=PROCTITLE msg=audit(${stamp}): proctitle=6874747064\n`;
  }
  return s;
}

interface Received {
  headers: IncomingHttpHeaders;
  body: string;
}

async function webhookReceiver(): Promise<{ url: string; received: Received[] }> {
  const received: Received[] = [];
  server = createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (c: string) => {
      body += c;
    });
    req.on('end', () => {
      received.push({ headers: req.headers, body });
      res.statusCode = 204;
      res.end();
    });
  });
  const srv = server;
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
  return { url: `http://127.0.0.1:${(srv.address() as AddressInfo).port}/avcstream/alerts`, received };
}

async function topicCount(topic: string): Promise<number> {
  const offs = await endOffsets({ brokers: getServices().kafkaBrokers }, topic);
  return offs.reduce((s, p) => s + Number(p.offset), 0);
}

/** The first `n` messages of `topic`, from the beginning, with a fresh group. */
async function readTopic(
  topic: string,
  n: number,
): Promise<Array<{ key: string | null; headers: Record<string, string | undefined>; alert: Alert }>> {
  const consumer = createKafkaConsumer({
    brokers: getServices().kafkaBrokers,
    clientId: 'analyzer-alerts-int',
    groupId: uniqueName('analyzer-alerts-int'),
    topics: [topic],
    fromBeginning: true,
  });
  await consumer.connect();
  const out: Array<{ key: string | null; headers: Record<string, string | undefined>; alert: Alert }> = [];
  try {
    for await (const b of consumer.batches()) {
      for (const d of b.deliveries) {
        out.push({ key: d.key, headers: d.headers, alert: JSON.parse(d.value.toString('utf8')) as Alert });
      }
      await b.ack();
      if (out.length >= n) break;
    }
  } finally {
    await consumer.stop(2000);
  }
  return out;
}

function run(kind: 'ingester' | 'analyzer', args: string[], dir: string): Daemon {
  const d = startDaemon(kind, args, dir);
  daemons.push(d);
  return d;
}

const hmac = (body: string) => `sha256=${createHmac('sha256', SECRET).update(body).digest('hex')}`;

describe.runIf(available)('analyzer alert sinks: Kafka alerts topic and webhook', () => {
  it('a new denial signature gives exactly one message on the alerts topic (alert JSON with its caution) and one signed webhook POST; SIGTERM flushes its repeat to both before the producer closes', async () => {
    const s = getServices();
    es = createEsClient({ node: s.elasticsearchUrl });
    const names = pipelineNames(uniqueName);
    const alertsTopic = `${names.events}.alerts`;
    topics.push(alertsTopic);
    const dir = tempDir('alerts');
    const secretFile = join(dir, 'webhook-secret');
    writeFileSync(secretFile, `${SECRET}\n`, { mode: 0o600 });
    const hook = await webhookReceiver();
    const log = join(dir, 'audit.log');
    writeFileSync(log, securityDenials());

    const ana = run(
      'analyzer',
      analyzerArgs(names, s.kafkaBrokers, s.elasticsearchUrl, [
        '--alerts.kafka.enabled=true',
        `--alerts.kafka.topic=${alertsTopic}`,
        `--alerts.webhook.url=${hook.url}`,
        `--alerts.webhook.secretFile=${secretFile}`,
      ]),
      dir,
    );
    run('ingester', ingesterArgs(names, s.kafkaBrokers, log, dir), dir);

    // Both denials indexed (one signature, two occurrences), the alert acknowledged by every sink.
    await waitFor(
      '2 denial documents',
      async () => {
        await es!.refresh(`${names.prefix}-denials`).catch(() => {});
        return es!.count(`${names.prefix}-denials`).catch(() => 0);
      },
      (n) => n >= 2,
    );
    await waitFor(
      'the signature document delivered (log, webhook and Kafka acked)',
      async () => {
        await es!.refresh(`${names.prefix}-signatures`).catch(() => {});
        const r = await es!.search<{ delivered?: boolean; scope: string }>(`${names.prefix}-signatures`, {
          query: { term: { 'signature.key': 'httpd_t:security_t:file:read' } },
          size: 10,
        });
        return r.hits.filter((h) => h.source.scope === 'fleet').map((h) => h.source.delivered);
      },
      (v) => v.length === 1 && v[0] === true,
    );
    expect(await es.count(`${names.prefix}-denials`)).toBe(2);

    // Kafka: exactly one message, the alert JSON keyed by signature id.
    expect(await topicCount(alertsTopic)).toBe(1);
    const [msg] = await readTopic(alertsTopic, 1);
    const alert = msg!.alert;
    expect(alert).toMatchObject({
      kind: 'new-signature',
      scope: 'fleet',
      host: 'web01',
      signature: { key: 'httpd_t:security_t:file:read', sourceType: 'httpd_t', targetType: 'security_t' },
      verdict: 'TE_MISSING',
      caution: CAUTION,
      count: 1,
      event: { serial: 21, comm: 'httpd', exe: '/usr/sbin/httpd', tclass: 'file', perms: ['read'] },
    });
    expect(msg!.key).toBe(alert.signature.id);
    expect(msg!.headers['avcstream-alert-id']).toBe(alert.id);

    // Webhook: the same alert, signed with the secret from the file.
    expect(hook.received).toHaveLength(1);
    const post = hook.received[0]!;
    expect(JSON.parse(post.body)).toEqual(alert);
    expect(post.headers['content-type']).toBe('application/json');
    expect(post.headers['x-avcstream-alert-id']).toBe(alert.id);
    expect(post.headers['x-avcstream-signature']).toBe(hmac(post.body));

    // Graceful stop: the second occurrence, counted in the rate-limit window, is flushed as one `repeat` alert to
    // both sinks after the consumer stopped and before the producer disconnects.
    ana.kill('SIGTERM');
    expect(await ana.exited()).toBe(0);
    expect(await topicCount(alertsTopic)).toBe(2);
    const repeat = (await readTopic(alertsTopic, 2))[1]!.alert;
    expect(repeat).toMatchObject({
      kind: 'repeat',
      count: 1,
      signature: { key: 'httpd_t:security_t:file:read' },
      caution: CAUTION,
    });
    expect(hook.received.map((r) => (JSON.parse(r.body) as Alert).kind)).toEqual(['new-signature', 'repeat']);
    expect(hook.received[1]!.headers['x-avcstream-signature']).toBe(hmac(hook.received[1]!.body));

    // The secret never reaches the analyzer's log.
    const logged = readFileSync(ana.logFile, 'utf8');
    expect(logged).toContain('analyzer started');
    expect(logged).not.toContain(SECRET);
  });
});
