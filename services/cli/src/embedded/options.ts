import { hostname } from 'node:os';
import { parseArgs } from 'node:util';
import { escapeText } from '@avcstream/audit';

export const RUN_HELP = `avcstream run — embedded single-host mode: tail, parse, replay, store, alert, report

Usage: avcstream run [options]

Options:
  --input FILE            audit log to follow (default /var/log/audit/audit.log)
  --policy FILE           binary policy to replay denials against (default /sys/fs/selinux/policy, else
                          the installed one /etc/selinux/config names; skipped with a warning when
                          neither exists); 'none' disables replay
  --booleans FILE|DIR     boolean values: "name value" lines or a selinuxfs booleans dir
                          (default /sys/fs/selinux/booleans, the policy's defaults when absent;
                          'none' = the policy's defaults). A FILE given that is missing or unreadable exits 78
  --file-contexts FILE    file_contexts for restorecon advice in alerts (a denied file whose default
                          label would allow the access); default: the one beside the policy when it
                          is a host's (/etc/selinux/TYPE/contexts/files/file_contexts); 'none' disables
  --state-dir DIR         durable state: checkpoint, signatures, counters, reports (default /var/lib/avcstream)
  --http HOST:PORT        serve the latest HTML report at /, /metrics, /livez, /readyz
                          (default 127.0.0.1:9464; 'off' disables; not started with --once unless given)
  --once                  process the input to its end, write the report, print a summary and exit
  --print-report          with --once, also print the text report
  --start-at beginning|end  where to start on the first run (no checkpoint yet): beginning (default)
                          reads the whole log, so it alerts on every denial already in it; end reads
                          only what is written from now on. Later runs go on from the checkpoint
  --report-interval SEC   write the report every SEC seconds (default 300; also on SIGHUP)
  --host NAME             host name for records without node= (default: this host's name)
  --ignore GLOB           never alert for signatures matching GLOB (repeatable), e.g. '*:proc_t:*:*'
  --signature-include exe|path   add the executable / target path to the signature (repeatable)
  --permission-set        one signature for the whole denied permission set, not one per permission
  --rate-limit SEC        per-signature window folding repeats into one count (default 60)
  --no-host-alerts        do not alert "new on this host" for signatures known from other hosts
  --webhook URL           also POST alerts (JSON) to URL; HMAC secret from env AVCSTREAM_WEBHOOK_SECRET
  --log-alerts            also write each alert as a JSON log line on stderr, at warn level (shown at
                          the default --log-level; error or silent hides them)
  --log-level LEVEL       pino level for the JSON logs on stderr (default warn)
  --max-events N          SELinux events kept in the state dir for the report (default 20000)
  --commit-interval-ms MS group commit: at most one fsynced state batch per MS (default 200; 0 = per read)
  --chunk-bytes N         bytes per read of the input (default 65536)
  -h, --help              this help

Exit status: 0 done, 64 usage error, 66 input unreadable, 78 bad policy/booleans/state dir, 1 failure.
`;

export interface RunOptions {
  input: string;
  policy: string | null;
  booleans: string | null;
  /** --file-contexts: a file, null for 'none', undefined for the default (beside a host policy). */
  fileContexts?: string | null;
  /** --policy was given: a missing file is a config error (78), not the "SELinux disabled" fallback. */
  policyGiven: boolean;
  /** --booleans was given: a missing file is a config error (78), not the policy-defaults fallback. */
  booleansGiven: boolean;
  stateDir: string;
  http: { host: string; port: number } | null;
  once: boolean;
  printReport: boolean;
  startAt: 'beginning' | 'end';
  reportIntervalMs: number;
  host: string;
  ignore: string[];
  signatureInclude: Array<'exe' | 'path'>;
  permissionSet: boolean;
  rateLimitMs: number;
  hostAlerts: boolean;
  webhook: string | null;
  logAlerts: boolean;
  logLevel: string;
  maxEvents: number;
  chunkBytes: number;
  pollIntervalMs: number;
  commitIntervalMs: number;
}

export class UsageError extends Error {
  readonly exitCode: number;
  constructor(message: string, exitCode = 64) {
    super(message);
    this.name = 'UsageError';
    this.exitCode = exitCode;
  }
}

function posInt(name: string, v: string | undefined, dflt: number): number {
  if (v === undefined) return dflt;
  if (!/^\d{1,9}$/.test(v) || Number(v) <= 0) throw new UsageError(`--${name} must be a positive integer`);
  return Number(v);
}

function nonNegInt(name: string, v: string | undefined, dflt: number): number {
  if (v === undefined) return dflt;
  if (!/^\d{1,9}$/.test(v)) throw new UsageError(`--${name} must be a non-negative integer`);
  return Number(v);
}

export function parseHttp(v: string): { host: string; port: number } {
  const m = /^(.*):(\d{1,5})$/.exec(v);
  if (m === null || Number(m[2]) > 65535) throw new UsageError('--http must be HOST:PORT (or off)');
  return { host: m[1]!.replace(/^\[(.*)\]$/, '$1') || '127.0.0.1', port: Number(m[2]) };
}

/** Parse `avcstream run` arguments (pure). Returns null for --help. */
export function parseRunArgs(argv: string[]): RunOptions | null {
  let v: Record<string, string | boolean | string[] | undefined>;
  try {
    v = parseArgs({
      args: argv,
      allowPositionals: false,
      options: {
        input: { type: 'string' },
        policy: { type: 'string' },
        booleans: { type: 'string' },
        'file-contexts': { type: 'string' },
        'state-dir': { type: 'string' },
        http: { type: 'string' },
        once: { type: 'boolean' },
        'print-report': { type: 'boolean' },
        'start-at': { type: 'string' },
        'report-interval': { type: 'string' },
        host: { type: 'string' },
        ignore: { type: 'string', multiple: true },
        'signature-include': { type: 'string', multiple: true },
        'permission-set': { type: 'boolean' },
        'rate-limit': { type: 'string' },
        'no-host-alerts': { type: 'boolean' },
        webhook: { type: 'string' },
        'log-alerts': { type: 'boolean' },
        'log-level': { type: 'string' },
        'max-events': { type: 'string' },
        'chunk-bytes': { type: 'string' },
        'poll-interval-ms': { type: 'string' },
        'commit-interval-ms': { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    }).values as typeof v;
  } catch (err) {
    // parseArgs quotes the option as typed: escaped, so it stays one visible line.
    throw new UsageError(escapeText((err as Error).message));
  }
  if (v.help === true) return null;
  const startAt = (v['start-at'] as string | undefined) ?? 'beginning';
  if (startAt !== 'beginning' && startAt !== 'end')
    throw new UsageError('--start-at must be beginning or end');
  const include = (v['signature-include'] as string[] | undefined) ?? [];
  for (const i of include) {
    if (i !== 'exe' && i !== 'path') throw new UsageError('--signature-include must be exe or path');
  }
  const once = v.once === true;
  const httpArg = v.http as string | undefined;
  const http =
    httpArg === 'off'
      ? null
      : httpArg !== undefined
        ? parseHttp(httpArg)
        : once
          ? null
          : parseHttp('127.0.0.1:9464');
  const policy = (v.policy as string | undefined) ?? '/sys/fs/selinux/policy';
  const booleans = (v.booleans as string | undefined) ?? '/sys/fs/selinux/booleans';
  const level = (v['log-level'] as string | undefined) ?? 'warn';
  if (!['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'].includes(level)) {
    throw new UsageError('--log-level must be a pino level');
  }
  return {
    input: (v.input as string | undefined) ?? '/var/log/audit/audit.log',
    policy: policy === 'none' ? null : policy,
    booleans: booleans === 'none' ? null : booleans,
    fileContexts:
      v['file-contexts'] === undefined
        ? undefined
        : v['file-contexts'] === 'none'
          ? null
          : (v['file-contexts'] as string),
    policyGiven: v.policy !== undefined,
    booleansGiven: v.booleans !== undefined,
    stateDir: (v['state-dir'] as string | undefined) ?? '/var/lib/avcstream',
    http,
    once,
    printReport: v['print-report'] === true,
    startAt,
    reportIntervalMs: posInt('report-interval', v['report-interval'] as string | undefined, 300) * 1000,
    host: (v.host as string | undefined) ?? hostname(),
    ignore: (v.ignore as string[] | undefined) ?? [],
    signatureInclude: include as Array<'exe' | 'path'>,
    permissionSet: v['permission-set'] === true,
    rateLimitMs: posInt('rate-limit', v['rate-limit'] as string | undefined, 60) * 1000,
    hostAlerts: v['no-host-alerts'] !== true,
    webhook: (v.webhook as string | undefined) ?? null,
    logAlerts: v['log-alerts'] === true,
    logLevel: level,
    maxEvents: posInt('max-events', v['max-events'] as string | undefined, 20_000),
    chunkBytes: posInt('chunk-bytes', v['chunk-bytes'] as string | undefined, 64 * 1024),
    pollIntervalMs: posInt('poll-interval-ms', v['poll-interval-ms'] as string | undefined, 1000),
    commitIntervalMs: nonNegInt('commit-interval-ms', v['commit-interval-ms'] as string | undefined, 200),
  };
}
