import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import { TestkitError } from './errors.ts';
import { pinnedVersions, repoRoot } from './versions.ts';

/** Where the services of this test run come from. */
export type ServicesMode = 'env' | 'containers' | 'local';

export interface Services {
  /** `host:port` list for the Kafka clients. */
  kafkaBrokers: string[];
  /** e.g. `http://127.0.0.1:19200`. */
  elasticsearchUrl: string;
  mode: ServicesMode;
  /** True when the kit can stop and start the servers mid-test (local and containers modes). */
  controllable: boolean;
}

export interface StartServicesOptions {
  /** Log line sink (default console.warn). */
  log?: (line: string) => void;
  /** Time allowed to detect a Docker engine (default 1500 ms). */
  dockerProbeMs?: number;
}

const ENV = {
  brokers: 'KAFKA_BROKERS',
  es: 'ELASTICSEARCH_URL',
  mode: 'AVCSTREAM_TESTKIT_MODE',
  kafkaContainer: 'AVCSTREAM_TESTKIT_KAFKA_CONTAINER',
  esContainer: 'AVCSTREAM_TESTKIT_ES_CONTAINER',
  unavailable: 'AVCSTREAM_TESTKIT_UNAVAILABLE',
} as const;

const isCI = () => {
  const v = process.env.CI;
  return v !== undefined && v !== '' && v !== '0' && v.toLowerCase() !== 'false';
};

const localDir = join(repoRoot, 'deploy', 'local');

/** What startServices started in this process, so that stopServices stops only that. */
const started: { kafka: boolean; es: boolean; containers: Array<{ stop(): Promise<unknown> }> } = {
  kafka: false,
  es: false,
  containers: [],
};

function run(
  cmd: string,
  args: string[],
  timeoutMs: number,
): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      cmd,
      args,
      { cwd: repoRoot, env: process.env, timeout: timeoutMs, maxBuffer: 4 * 1024 * 1024 },
      (err, stdout, stderr) => {
        const code = err
          ? typeof (err as { code?: unknown }).code === 'number'
            ? (err as { code: number }).code
            : 1
          : 0;
        resolve({ code, stdout: String(stdout), stderr: String(stderr) });
      },
    );
  });
}

async function script(name: 'kafka.sh' | 'es.sh', action: string): Promise<void> {
  const r = await run('bash', [join(localDir, name), action], 15 * 60 * 1000);
  if (r.code !== 0) {
    throw new TestkitError(
      'AVC_ERR_TESTKIT_LOCAL_FAILED',
      `deploy/local/${name} ${action} failed (exit ${r.code}):\n${r.stderr.slice(-4000)}`,
    );
  }
}

async function scriptRunning(name: 'kafka.sh' | 'es.sh'): Promise<boolean> {
  return (await run('bash', [join(localDir, name), 'status'], 30000)).code === 0;
}

/** True when a Docker engine answers `/_ping` within `timeoutMs` (unix socket or tcp DOCKER_HOST). */
export function dockerAvailable(timeoutMs = 1500): Promise<boolean> {
  if (process.env.AVCSTREAM_TESTKIT_NO_DOCKER) return Promise.resolve(false);
  const host = process.env.DOCKER_HOST;
  let opts: { socketPath?: string; host?: string; port?: number };
  if (host?.startsWith('tcp://')) {
    const u = new URL(host.replace(/^tcp:/, 'http:'));
    opts = { host: u.hostname, port: Number(u.port || 2375) };
  } else {
    const socketPath = host?.startsWith('unix://') ? host.slice('unix://'.length) : '/var/run/docker.sock';
    if (!existsSync(socketPath)) return Promise.resolve(false);
    opts = { socketPath };
  }
  return new Promise((resolve) => {
    const req = request({ ...opts, path: '/_ping', method: 'GET', timeout: timeoutMs }, (res) => {
      res.resume();
      resolve(res.statusCode === 200);
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(false));
    req.end();
  });
}

/** Waits until the Kafka cluster answers a metadata request. */
export async function waitForKafka(brokers: string[], timeoutMs = 60000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    const admin = new Kafka({
      brokers,
      clientId: 'avcstream-testkit',
      logLevel: logLevel.NOTHING,
      retry: { retries: 0 },
    }).admin();
    try {
      await admin.connect();
      const c = await admin.describeCluster();
      if (c.brokers.length > 0) return;
    } catch (err) {
      last = err;
    } finally {
      await admin.disconnect().catch(() => {});
    }
    await new Promise((r) => setTimeout(r, 500));
  }
  throw new TestkitError('AVC_ERR_TESTKIT_KAFKA_UNHEALTHY', `Kafka at ${brokers.join(',')} did not answer`, {
    cause: last,
  });
}

/** Waits until Elasticsearch reports green or yellow. */
export async function waitForElasticsearch(url: string, timeoutMs = 120000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const res = await fetch(`${url}/_cluster/health?wait_for_status=yellow&timeout=1s`, {
        signal: AbortSignal.timeout(5000),
      });
      const body = (await res.json()) as { status?: string };
      if (body.status === 'green' || body.status === 'yellow') return;
      last = new Error(`status ${String(body.status)}`);
    } catch (err) {
      last = err;
    }
    await new Promise((r) => setTimeout(r, 500));
  }
  throw new TestkitError('AVC_ERR_TESTKIT_ES_UNHEALTHY', `Elasticsearch at ${url} is not healthy`, {
    cause: last,
  });
}

function publish(s: Services, extra: Record<string, string> = {}): Services {
  process.env[ENV.brokers] = s.kafkaBrokers.join(',');
  process.env[ENV.es] = s.elasticsearchUrl;
  process.env[ENV.mode] = s.mode;
  delete process.env[ENV.unavailable];
  for (const [k, v] of Object.entries(extra)) process.env[k] = v;
  return s;
}

async function startContainers(log: (l: string) => void): Promise<Services> {
  const { GenericContainer, Wait } = await import('testcontainers');
  const v = pinnedVersions();
  const kafkaPort = await freePort();
  const esPort = await freePort();
  log(`[testkit] starting apache/kafka:${v.kafka} and elasticsearch:${v.elasticsearch} with testcontainers`);
  // Fixed host ports: the advertised listener must name the host port, and stop/start keeps the URLs.
  const kafkaP = new GenericContainer(`apache/kafka:${v.kafka}`)
    .withExposedPorts({ container: 9092, host: kafkaPort })
    .withEnvironment({
      KAFKA_NODE_ID: '1',
      KAFKA_PROCESS_ROLES: 'broker,controller',
      KAFKA_LISTENERS: 'PLAINTEXT://:9092,CONTROLLER://:9093',
      KAFKA_ADVERTISED_LISTENERS: `PLAINTEXT://127.0.0.1:${kafkaPort}`,
      KAFKA_CONTROLLER_LISTENER_NAMES: 'CONTROLLER',
      KAFKA_LISTENER_SECURITY_PROTOCOL_MAP: 'CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT',
      KAFKA_CONTROLLER_QUORUM_VOTERS: '1@localhost:9093',
      KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR: '1',
      KAFKA_TRANSACTION_STATE_LOG_REPLICATION_FACTOR: '1',
      KAFKA_TRANSACTION_STATE_LOG_MIN_ISR: '1',
      KAFKA_GROUP_INITIAL_REBALANCE_DELAY_MS: '0',
      KAFKA_HEAP_OPTS: '-Xms256m -Xmx512m',
    })
    .withWaitStrategy(Wait.forLogMessage(/Kafka Server started/))
    .withStartupTimeout(180000)
    .start();
  const esP = new GenericContainer(`docker.elastic.co/elasticsearch/elasticsearch:${v.elasticsearch}`)
    .withExposedPorts({ container: 9200, host: esPort })
    .withEnvironment({
      'discovery.type': 'single-node',
      'xpack.security.enabled': 'false',
      'cluster.routing.allocation.disk.threshold_enabled': 'false',
      ES_JAVA_OPTS: '-Xms512m -Xmx512m',
    })
    .withWaitStrategy(
      Wait.forHttp('/_cluster/health?wait_for_status=yellow&timeout=1s', 9200).forStatusCode(200),
    )
    .withStartupTimeout(180000)
    .start();
  const [kafka, es] = await Promise.all([kafkaP, esP]);
  started.containers.push(kafka, es);
  const s: Services = {
    kafkaBrokers: [`127.0.0.1:${kafkaPort}`],
    elasticsearchUrl: `http://127.0.0.1:${esPort}`,
    mode: 'containers',
    controllable: true,
  };
  await Promise.all([waitForKafka(s.kafkaBrokers), waitForElasticsearch(s.elasticsearchUrl)]);
  return publish(s, { [ENV.kafkaContainer]: kafka.getId(), [ENV.esContainer]: es.getId() });
}

function freePort(): Promise<number> {
  return import('node:net').then(
    ({ createServer }) =>
      new Promise<number>((resolve, reject) => {
        const srv = createServer();
        srv.once('error', reject);
        srv.listen(0, '127.0.0.1', () => {
          const addr = srv.address();
          const port = typeof addr === 'object' && addr ? addr.port : 0;
          srv.close(() => resolve(port));
        });
      }),
  );
}

function localUrls(): Services {
  const kHost = process.env.AVCSTREAM_KAFKA_HOST ?? '127.0.0.1';
  const kPort = process.env.AVCSTREAM_KAFKA_PORT ?? '19092';
  const eHost = process.env.AVCSTREAM_ES_HOST ?? '127.0.0.1';
  const ePort = process.env.AVCSTREAM_ES_PORT ?? '19200';
  return {
    kafkaBrokers: [`${kHost}:${kPort}`],
    elasticsearchUrl: `http://${eHost}:${ePort}`,
    mode: 'local',
    controllable: true,
  };
}

async function startLocal(log: (l: string) => void): Promise<Services> {
  const [kRunning, eRunning] = await Promise.all([scriptRunning('kafka.sh'), scriptRunning('es.sh')]);
  const t0 = Date.now();
  if (!kRunning || !eRunning)
    log('[testkit] starting Kafka and Elasticsearch with deploy/local (no Docker engine)');
  const results = await Promise.allSettled([
    kRunning
      ? Promise.resolve()
      : script('kafka.sh', 'start').then(() => {
          started.kafka = true;
        }),
    eRunning
      ? Promise.resolve()
      : script('es.sh', 'start').then(() => {
          started.es = true;
        }),
  ]);
  const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) throw failed.reason;
  if (!kRunning || !eRunning) log(`[testkit] deploy/local services up in ${Date.now() - t0} ms`);
  const s = localUrls();
  await Promise.all([waitForKafka(s.kafkaBrokers), waitForElasticsearch(s.elasticsearchUrl)]);
  return publish(s);
}

/**
 * Provides one Kafka and one Elasticsearch for the test run and publishes them in the environment
 * (`KAFKA_BROKERS`, `ELASTICSEARCH_URL`, `AVCSTREAM_TESTKIT_MODE`) for the test workers:
 * 1. `KAFKA_BROKERS` + `ELASTICSEARCH_URL` when both are set (checked for health);
 * 2. testcontainers when a Docker engine answers;
 * 3. `deploy/local` scripts (real servers fetched from Maven Central, no Docker).
 * Under `CI` (or with `AVCSTREAM_TESTKIT_REQUIRED=1`) a failure throws: the run fails, nothing is skipped.
 * Elsewhere a failure is printed and `servicesAvailable()` turns false, so integration tests skip visibly.
 */
export async function startServices(options: StartServicesOptions = {}): Promise<Services> {
  const log = options.log ?? ((l: string) => console.warn(l));
  try {
    const brokers = process.env[ENV.brokers];
    const url = process.env[ENV.es];
    if (brokers && url) {
      const s: Services = {
        kafkaBrokers: brokers
          .split(',')
          .map((b) => b.trim())
          .filter(Boolean),
        elasticsearchUrl: url.replace(/\/+$/, ''),
        mode:
          process.env[ENV.mode] === 'local'
            ? 'local'
            : process.env[ENV.mode] === 'containers'
              ? 'containers'
              : 'env',
        controllable: process.env[ENV.mode] === 'local' || process.env[ENV.mode] === 'containers',
      };
      await Promise.all([
        waitForKafka(s.kafkaBrokers, 30000),
        waitForElasticsearch(s.elasticsearchUrl, 30000),
      ]);
      return publish(s);
    }
    if (await dockerAvailable(options.dockerProbeMs)) return await startContainers(log);
    return await startLocal(log);
  } catch (err) {
    if (isCI() || process.env.AVCSTREAM_TESTKIT_REQUIRED === '1') throw err;
    const reason = err instanceof Error ? err.message : String(err);
    process.env[ENV.unavailable] = reason.slice(0, 2000);
    log(`[testkit] real Kafka/Elasticsearch unavailable, integration tests will be skipped: ${reason}`);
    return { kafkaBrokers: [], elasticsearchUrl: '', mode: 'local', controllable: false };
  }
}

/**
 * Stops what `startServices` started in this process, when `CI` is set or `AVCSTREAM_TESTKIT_STOP=1`;
 * otherwise leaves local servers running for the next run (start is a no-op then). Servers that were
 * already running are never stopped.
 */
export async function stopServices(): Promise<void> {
  for (const c of started.containers.splice(0)) await c.stop().catch(() => {});
  const stop = isCI() || process.env.AVCSTREAM_TESTKIT_STOP === '1';
  if (!stop) return;
  const jobs: Array<Promise<void>> = [];
  if (started.kafka) jobs.push(script('kafka.sh', 'stop'));
  if (started.es) jobs.push(script('es.sh', 'stop'));
  started.kafka = false;
  started.es = false;
  await Promise.all(jobs);
}

/** Whether integration tests can run. Always true under CI (so that missing services fail, never skip). */
export function servicesAvailable(): boolean {
  if (isCI()) return true;
  return !process.env[ENV.unavailable] && Boolean(process.env[ENV.brokers] && process.env[ENV.es]);
}

/** The services published by `startServices` (in a test worker: by the vitest global setup). */
export function getServices(): Services {
  const brokers = process.env[ENV.brokers];
  const url = process.env[ENV.es];
  if (!brokers || !url) {
    throw new TestkitError(
      'AVC_ERR_TESTKIT_NO_SERVICES',
      'KAFKA_BROKERS / ELASTICSEARCH_URL are not set: run integration tests through test/vitest.config.ts (global setup)',
    );
  }
  const mode = process.env[ENV.mode];
  return {
    kafkaBrokers: brokers
      .split(',')
      .map((b) => b.trim())
      .filter(Boolean),
    elasticsearchUrl: url,
    mode: mode === 'local' || mode === 'containers' ? mode : 'env',
    controllable: mode === 'local' || mode === 'containers',
  };
}

function requireControllable(): Services {
  const s = getServices();
  if (!s.controllable) {
    throw new TestkitError(
      'AVC_ERR_TESTKIT_NOT_CONTROLLABLE',
      'services came from KAFKA_BROKERS/ELASTICSEARCH_URL: the kit cannot stop or start them',
    );
  }
  return s;
}

async function docker(action: 'stop' | 'start', id: string | undefined): Promise<void> {
  if (!id) throw new TestkitError('AVC_ERR_TESTKIT_NOT_CONTROLLABLE', 'container id not published');
  const r = await run('docker', [action, id], 120000);
  if (r.code !== 0)
    throw new TestkitError('AVC_ERR_TESTKIT_DOCKER_FAILED', `docker ${action} failed: ${r.stderr}`);
}

/** Stops Elasticsearch (data kept). Resolves once the process is gone. */
export async function stopElasticsearch(): Promise<void> {
  const s = requireControllable();
  if (s.mode === 'local') await script('es.sh', 'stop');
  else await docker('stop', process.env[ENV.esContainer]);
}

/** Starts Elasticsearch again; resolves once it is green/yellow. */
export async function startElasticsearch(): Promise<void> {
  const s = requireControllable();
  if (s.mode === 'local') await script('es.sh', 'start');
  else await docker('start', process.env[ENV.esContainer]);
  await waitForElasticsearch(s.elasticsearchUrl);
}

/** Stops the Kafka broker (data kept). */
export async function stopKafka(): Promise<void> {
  const s = requireControllable();
  if (s.mode === 'local') await script('kafka.sh', 'stop');
  else await docker('stop', process.env[ENV.kafkaContainer]);
}

/** Starts the Kafka broker again; resolves once it answers metadata requests. */
export async function startKafka(): Promise<void> {
  const s = requireControllable();
  if (s.mode === 'local') await script('kafka.sh', 'start');
  else await docker('start', process.env[ENV.kafkaContainer]);
  await waitForKafka(s.kafkaBrokers);
}

/** Stop then start Kafka (a broker restart mid-stream). */
export async function restartKafka(): Promise<void> {
  await stopKafka();
  await startKafka();
}

/** Stop Elasticsearch, wait `downMs`, start it again (an ES outage mid-stream). */
export async function elasticsearchOutage(downMs: number): Promise<void> {
  await stopElasticsearch();
  await new Promise((r) => setTimeout(r, downMs));
  await startElasticsearch();
}
