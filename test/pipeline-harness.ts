// Shared by test/pipeline*.int.test.ts (and bench/pipeline.bench.ts): generated audit logs with known truth,
// the daemons as child processes (the `avcstream` CLI), and polling helpers over real Kafka/ES.
import { type ChildProcess, spawn } from 'node:child_process';
import { createWriteStream, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const repoRoot = join(import.meta.dirname, '..');
export const sampleDir = join(repoRoot, 'services/cli/sample');
export const samplePolicy = join(sampleDir, 'policy/policy.33');
export const sampleBooleans = join(sampleDir, 'booleans');
export const sampleLog = join(sampleDir, 'audit.log');
const cliBin = join(repoRoot, 'services/cli/bin/avcstream.js');

/** Denial kinds of the generated log, with their verdict under the sample policy and `booleans` file. */
const KINDS = [
  {
    verdict: 'TE_MISSING',
    avc: '{ read } for  pid=2231 comm="httpd" name="shadow" dev="dm-0" ino=1311141 scontext=system_u:system_r:httpd_t:s0 tcontext=system_u:object_r:shadow_t:s0 tclass=file permissive=0',
    path: '/etc/shadow',
  },
  {
    verdict: 'BOOLEAN',
    avc: '{ getattr } for  pid=2214 comm="httpd" path="/home/alice/public_html" dev="dm-0" ino=393230 scontext=system_u:system_r:httpd_t:s0 tcontext=unconfined_u:object_r:user_home_t:s0 tclass=dir permissive=0',
    path: '/home/alice/public_html',
  },
  {
    verdict: 'ALLOWED',
    avc: '{ read } for  pid=2231 comm="httpd" name="mime.types" dev="dm-0" ino=1311140 scontext=system_u:system_r:httpd_t:s0 tcontext=system_u:object_r:etc_t:s0 tclass=file permissive=0',
    path: '/etc/mime.types',
  },
] as const;

export type Verdicts = Record<string, number>;

/** The lines of one denial event (SYSCALL, AVC, CWD, PATH, PROCTITLE) for serial `n` of host `host`. */
export function denialEvent(n: number, host = 'gen01', baseSec = 1763900000): string {
  const k = KINDS[n % KINDS.length]!;
  const stamp = `${baseSec + Math.floor(n / 1000)}.${String(n % 1000).padStart(3, '0')}:${n}`;
  const h = `node=${host} `;
  return (
    `${h}type=SYSCALL msg=audit(${stamp}): arch=c000003e syscall=257 success=no exit=-13 a0=ffffff9c a1=55d0c1e28c00 a2=80000 a3=0 items=1 ppid=2201 pid=${2000 + (n % 5000)} auid=4294967295 uid=48 gid=48 euid=48 suid=48 fsuid=48 egid=48 sgid=48 fsgid=48 tty=(none) ses=4294967295 comm="httpd" exe="/usr/sbin/httpd" subj=system_u:system_r:httpd_t:s0 key=(null)\n` +
    `${h}type=AVC msg=audit(${stamp}): avc:  denied  ${k.avc}\n` +
    `${h}type=CWD msg=audit(${stamp}): cwd="/"\n` +
    `${h}type=PATH msg=audit(${stamp}): item=0 name="${k.path}" inode=1311140 dev=fd:00 mode=0100644 ouid=0 ogid=0 rdev=00:00 obj=system_u:object_r:etc_t:s0 nametype=NORMAL cap_fp=0 cap_fi=0 cap_fe=0 cap_fver=0 cap_frootid=0\n` +
    `${h}type=PROCTITLE msg=audit(${stamp}): proctitle=2F7573722F7362696E2F6874747064002D44464F524547524F554E44\n`
  );
}

/** Expected verdict counts of events `from..to-1`. */
export function expectedVerdicts(from: number, to: number): Verdicts {
  const out: Verdicts = {};
  for (let n = from; n < to; n++) {
    const v = KINDS[n % KINDS.length]!.verdict;
    out[v] = (out[v] ?? 0) + 1;
  }
  return out;
}

export function denialEvents(from: number, to: number, host = 'gen01'): string {
  let s = '';
  for (let n = from; n < to; n++) s += denialEvent(n, host);
  return s;
}

export function tempDir(prefix: string): string {
  return mkdtempSync(join(tmpdir(), `avcstream-${prefix}-`));
}

/** A daemon the test expected to be running has exited (its log file says why). */
export class DaemonExited extends Error {
  constructor(kind: string, logFile: string) {
    super(`${kind} exited; see ${logFile}`);
    this.name = 'DaemonExited';
  }
}

export interface Daemon {
  readonly kind: 'ingester' | 'analyzer';
  readonly proc: ChildProcess;
  readonly logFile: string;
  /** Resolves with the health port once the daemon logged it. */
  port(): Promise<number>;
  /**
   * Sum of a Prometheus metric over its labels (0 when absent), null when the daemon does not answer, throws
   * DaemonExited when it is gone.
   */
  metric(name: string, labels?: Record<string, string>): Promise<number | null>;
  readyz(): Promise<number | null>;
  kill(signal: NodeJS.Signals): void;
  exited(): Promise<number | null>;
  readonly alive: boolean;
}

/** Start `avcstream <kind> ...args` as a child process (the CLI, run by this Node). Logs go to a file. */
export function startDaemon(kind: 'ingester' | 'analyzer', args: string[], dir: string, tag = kind): Daemon {
  const logFile = join(dir, `${tag}-${Date.now()}.log`);
  const out = createWriteStream(logFile);
  const proc = spawn(process.execPath, [cliBin, kind, '--http.port=0', ...args], {
    cwd: repoRoot,
    env: { ...process.env, AVCSTREAM_LOG_LEVEL: process.env.AVCSTREAM_LOG_LEVEL ?? 'info' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let alive = true;
  let resolvePort: (p: number) => void = () => {};
  const portP = new Promise<number>((r) => {
    resolvePort = r;
  });
  let buf = '';
  proc.stdout?.on('data', (d: Buffer) => {
    out.write(d);
    buf += d.toString('utf8');
    let nl = buf.indexOf('\n');
    while (nl >= 0) {
      const line = buf.slice(0, nl);
      buf = buf.slice(nl + 1);
      if (line.includes('health server listening')) {
        try {
          resolvePort((JSON.parse(line) as { port: number }).port);
        } catch {
          // not JSON: ignore
        }
      }
      nl = buf.indexOf('\n');
    }
  });
  proc.stderr?.on('data', (d: Buffer) => out.write(d));
  const exitP = new Promise<number | null>((resolve) => {
    proc.on('exit', (code, signal) => {
      alive = false;
      out.end();
      resolve(code ?? (signal ? 128 : null));
    });
  });
  const get = async (path: string): Promise<{ status: number; text: string } | null> => {
    if (!alive) throw new DaemonExited(kind, logFile);
    const port = await Promise.race([portP, exitP.then(() => -1)]);
    if (port < 0) throw new DaemonExited(kind, logFile);
    try {
      const res = await fetch(`http://127.0.0.1:${port}${path}`);
      return { status: res.status, text: await res.text() };
    } catch {
      return null;
    }
  };
  return {
    kind,
    proc,
    logFile,
    port: () => portP,
    get alive() {
      return alive;
    },
    async metric(name, labels = {}) {
      const r = await get('/metrics');
      if (r === null) return null;
      let sum = 0;
      for (const line of r.text.split('\n')) {
        if (!line.startsWith(name)) continue;
        const m = /^([a-z_]+)(\{[^}]*\})? ([0-9.e+-]+)$/.exec(line);
        if (m === null || m[1] !== name) continue;
        const ls = m[2] ?? '';
        if (!Object.entries(labels).every(([k, v]) => ls.includes(`${k}="${v}"`))) continue;
        sum += Number(m[3]);
      }
      return sum;
    },
    async readyz() {
      return (await get('/readyz'))?.status ?? null;
    },
    kill(signal) {
      if (alive) proc.kill(signal);
    },
    exited: () => exitP,
  };
}

/** Poll `fn` until `cond(value)`; throws with the last value after `timeoutMs`. */
export async function waitFor<T>(
  what: string,
  fn: () => Promise<T>,
  cond: (v: T) => boolean,
  timeoutMs = 120_000,
  everyMs = 250,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: T | undefined;
  for (;;) {
    try {
      last = await fn();
      if (cond(last)) return last;
    } catch (err) {
      if (err instanceof DaemonExited) throw err;
      last = String(err) as T;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; last value: ${JSON.stringify(last)}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

export interface PipelineNames {
  events: string;
  policy: string;
  deadletter: string;
  group: string;
  prefix: string;
}

const created: PipelineNames[] = [];

/** Delete the topics, indices and templates of the pipelines created by this test file so far. */
export async function cleanupPipelines(): Promise<void> {
  const { getServices } = await import('@avcstream/testkit');
  const { deleteTopics } = await import('@avcstream/kafka');
  const s = getServices();
  for (const n of created.splice(0)) {
    await deleteTopics({ brokers: s.kafkaBrokers }, [n.events, n.policy, n.deadletter]).catch(() => {});
    await fetch(`${s.elasticsearchUrl}/${n.prefix}-*`, { method: 'DELETE' }).catch(() => {});
    for (const t of ['denials', 'selinux-events', 'signatures']) {
      await fetch(`${s.elasticsearchUrl}/_index_template/${n.prefix}-${t}-template`, { method: 'DELETE' }).catch(() => {});
    }
  }
}

/** Common flags for a test pipeline with its own topics, group and indices. */
export function pipelineNames(unique: (base: string) => string): PipelineNames {
  const id = unique('pipe');
  const names: PipelineNames = {
    events: `${id}.events`,
    policy: `${id}.policy`,
    deadletter: `${id}.deadletter`,
    group: `${id}-group`,
    prefix: id.toLowerCase().replace(/[^a-z0-9_.-]/g, '-'),
  };
  created.push(names);
  return names;
}

export function ingesterArgs(
  names: PipelineNames,
  brokers: string[],
  logPath: string,
  dir: string,
  extra: string[] = [],
): string[] {
  const enforce = join(dir, 'enforce');
  writeFileSync(enforce, '1\n');
  return [
    `--kafka.brokers=${brokers.join(',')}`,
    `--kafka.eventsTopic=${names.events}`,
    `--kafka.policyTopic=${names.policy}`,
    `--kafka.deadletterTopic=${names.deadletter}`,
    `--tail.path=${logPath}`,
    `--tail.checkpointPath=${join(dir, 'ingester.checkpoint.json')}`,
    '--tail.pollIntervalMs=200',
    `--policy.policyPath=${samplePolicy}`,
    `--policy.booleansPath=${sampleBooleans}`,
    `--policy.enforcePath=${enforce}`,
    '--host=testhost',
    ...extra,
  ];
}

export function analyzerArgs(
  names: PipelineNames,
  brokers: string[],
  esUrl: string,
  extra: string[] = [],
): string[] {
  return [
    `--kafka.brokers=${brokers.join(',')}`,
    `--kafka.eventsTopic=${names.events}`,
    `--kafka.policyTopic=${names.policy}`,
    `--kafka.deadletterTopic=${names.deadletter}`,
    `--kafka.groupId=${names.group}`,
    `--elasticsearch.url=${esUrl}`,
    `--elasticsearch.indexPrefix=${names.prefix}`,
    // a SIGKILLed member holds its partitions until its session times out
    '--kafka.sessionTimeoutMs=8000',
    '--kafka.heartbeatIntervalMs=1000',
    ...extra,
  ];
}
