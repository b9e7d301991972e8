// Shared set-up of the differential (oracle) tests: where the Debian oracles are, whether they are
// installed, the cache of generated artifacts (outside the repo) and the random seed.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  accessSync,
  constants,
  existsSync,
  mkdirSync,
  readFileSync,
  renameSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ORACLE_DIR = dirname(fileURLToPath(import.meta.url));
export const FIXTURES_DIR = join(ORACLE_DIR, '..', 'fixtures');
export const ORACLE_PY = join(ORACLE_DIR, 'oracle.py');
export const DEBIAN_POLICY = '/etc/selinux/default/policy/policy.33';
/** Debian's interpreter: the one policycoreutils-python-utils and setools install their modules for. */
export const PYTHON = '/usr/bin/python3';
export const IN_CI = Boolean(process.env.CI);

/** Absolute path of an executable found on PATH, or null. */
export function which(cmd: string): string | null {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (dir === '') continue;
    const p = join(dir, cmd);
    try {
      accessSync(p, constants.X_OK);
      return p;
    } catch {
      // not here
    }
  }
  return null;
}

let pyModules: boolean | undefined;
function pythonHas(): boolean {
  if (pyModules === undefined) {
    const r = spawnSync(PYTHON, ['-c', 'import selinux.audit2why, setools'], { stdio: 'ignore' });
    pyModules = r.status === 0;
  }
  return pyModules;
}

export type Oracle =
  | 'checkpolicy'
  | 'seinfo'
  | 'sesearch'
  | 'audit2why'
  | 'audit2allow'
  | 'python-modules'
  | 'debian-policy';

const HOW: Record<Oracle, string> = {
  checkpolicy: 'checkpolicy (Debian package checkpolicy)',
  seinfo: 'seinfo (Debian package setools)',
  sesearch: 'sesearch (Debian package setools)',
  audit2why: 'audit2why (Debian package policycoreutils-python-utils)',
  audit2allow: 'audit2allow (Debian package policycoreutils-python-utils)',
  'python-modules': `${PYTHON} with modules selinux.audit2why and setools (policycoreutils-python-utils, setools)`,
  'debian-policy': `${DEBIAN_POLICY} (Debian package selinux-policy-default)`,
};

function present(o: Oracle): boolean {
  switch (o) {
    case 'checkpolicy':
    case 'seinfo':
    case 'sesearch':
    case 'audit2why':
    case 'audit2allow':
      return which(o) !== null;
    case 'python-modules':
      return existsSync(PYTHON) && pythonHas();
    case 'debian-policy':
      return existsSync(DEBIAN_POLICY);
  }
}

export interface OracleGate {
  /** True when the suite must run: every oracle present, or CI set (then missing ones fail). */
  run: boolean;
  missing: string[];
}

/**
 * Decide whether a suite needing these oracles runs. Absent and CI unset: skip, with a visible warning.
 * Absent and CI set: run, and the suite's first test fails on `missing`.
 */
export function gate(suite: string, needs: Oracle[]): OracleGate {
  const missing = needs.filter((o) => !present(o)).map((o) => HOW[o]);
  if (missing.length > 0 && !IN_CI) {
    console.warn(
      `[oracle] SKIPPING ${suite}: missing ${missing.join('; ')} (set CI=1 to make this a failure)`,
    );
  }
  return { run: missing.length === 0 || IN_CI, missing };
}

let seedValue: number | undefined;
/**
 * The random seed of generated samples: env AVCSTREAM_ORACLE_SEED (a number, or `random`), default a fixed
 * value so CI runs are reproducible. Printed once, so a failing sample can be drawn again.
 */
export function oracleSeed(): number {
  if (seedValue === undefined) {
    const env = process.env.AVCSTREAM_ORACLE_SEED;
    if (env === 'random') seedValue = Math.floor(Math.random() * 2 ** 31);
    else if (env !== undefined && /^\d{1,15}$/.test(env)) seedValue = Number(env);
    else seedValue = 20261122;
    console.warn(`[oracle] AVCSTREAM_ORACLE_SEED=${seedValue}`);
  }
  return seedValue;
}

/** Cache directory for generated artifacts (rebuilt policies, oracle answers): never inside the repo. */
export function cacheDir(): string {
  const uid = typeof process.getuid === 'function' ? process.getuid() : 0;
  const dir = join(tmpdir(), `avcstream-oracle-${uid}`);
  mkdirSync(dir, { recursive: true });
  return dir;
}

export function sha256(data: Uint8Array | string): string {
  return createHash('sha256').update(data).digest('hex');
}

/** Run a command; throw with its stderr (bounded) when it fails. */
export function run(cmd: string, args: string[], input?: string): string {
  const r = spawnSync(cmd, args, { input, encoding: 'utf8', maxBuffer: 512 * 1024 * 1024 });
  if (r.error) throw r.error;
  if (r.status !== 0) {
    throw new Error(`${cmd} ${args.join(' ')} exited ${r.status}: ${(r.stderr ?? '').slice(0, 2000)}`);
  }
  return r.stdout;
}

/**
 * Return the cached JSON under `key`, or compute it and store it (atomically). The key must cover every
 * input of the computation (policy hash, seed, size, oracle script hash).
 */
export function cachedJson<T>(key: string, compute: () => T): T {
  const file = join(cacheDir(), `${key}.json`);
  if (existsSync(file)) {
    try {
      return JSON.parse(readFileSync(file, 'utf8')) as T;
    } catch {
      // corrupt cache entry: recompute
    }
  }
  const value = compute();
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, JSON.stringify(value));
  renameSync(tmp, file);
  return value;
}

/** Hash of the oracle script, so cached answers are dropped when it changes. */
export function oracleScriptHash(): string {
  return sha256(readFileSync(ORACLE_PY)).slice(0, 16);
}

/** Run oracle.py with a command; the answer is cached by policy content, arguments and script version. */
export function oracleJson<T>(command: string, policyPath: string, args: string[], input?: string): T {
  const key = [
    command,
    sha256(readFileSync(policyPath)).slice(0, 16),
    ...args,
    input === undefined ? '' : sha256(input).slice(0, 16),
    oracleScriptHash(),
  ].join('-');
  return cachedJson(
    key,
    () => JSON.parse(run(PYTHON, [ORACLE_PY, command, policyPath, ...args], input)) as T,
  );
}

/** audit2why (libsepol sepol_compute_av_reason_buffer) result codes, mapped to our verdicts. */
export const AUDIT2WHY_VERDICT: Record<number, string> = {
  0: 'ALLOWED',
  1: 'DONTAUDIT',
  2: 'TE_MISSING',
  3: 'BOOLEAN',
  4: 'CONSTRAINT',
  5: 'RBAC',
  6: 'BOUNDS',
  [-2]: 'INVALID_CONTEXT',
  [-3]: 'INVALID_CONTEXT',
  [-4]: 'UNKNOWN_CLASS',
  [-5]: 'UNKNOWN_PERM',
  [-6]: 'BADCOMPUTE',
  [-7]: 'NOPOLICY',
};

/** The fields of one AVC/USER_AVC line that a decision needs (test-local tokenizer, like audit2why's). */
export function avcFields(line: string): {
  scontext: string;
  tcontext: string;
  tclass: string;
  perms: string[];
  ioctlcmd?: number;
} {
  const toks = line.split(/\s+/);
  const f = new Map<string, string>();
  for (const t of toks) {
    const parts = t.split('=');
    if (parts.length === 2) f.set(parts[0] as string, parts[1] as string);
  }
  const i = toks.indexOf('{');
  const j = toks.indexOf('}', i);
  const scontext = f.get('scontext');
  const tcontext = f.get('tcontext');
  const tclass = f.get('tclass');
  if (i < 0 || j < 0 || scontext === undefined || tcontext === undefined || tclass === undefined) {
    throw new Error(`not an AVC line: ${line.slice(0, 200)}`);
  }
  const cmd = f.get('ioctlcmd');
  const perms = toks.slice(i + 1, j);
  return cmd === undefined
    ? { scontext, tcontext, tclass, perms }
    : { scontext, tcontext, tclass, perms, ioctlcmd: Number.parseInt(cmd, 16) };
}

/** `checkpolicy -M -b policy.33 -F` of the Debian policy (policy.conf text), built once into the cache. */
export function debianPolicyConf(): string {
  const dir = join(cacheDir(), `versions-${sha256(readFileSync(DEBIAN_POLICY)).slice(0, 16)}`);
  mkdirSync(dir, { recursive: true });
  const path = join(dir, 'policy.conf');
  if (!existsSync(path)) {
    const tmp = `${path}.${process.pid}.tmp`;
    run('checkpolicy', ['-M', '-b', DEBIAN_POLICY, '-F', '-o', tmp]);
    renameSync(tmp, path);
  }
  return path;
}
