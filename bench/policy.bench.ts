// npm run bench:policy [-- --policy FILE --sizes 20000,100000 --seed 1 --repeat 1 --loads 5 --new-prob 0.3 --strict]
//
// On the same inputs, in one run:
//   1. policy load: `avcstream policy info FILE` vs `seinfo FILE` (whole process each, median of --loads
//      runs), plus readPolicy alone, timed inside a fresh Node process (median of --loads processes);
//   2. `avcstream explain --policy FILE --format ndjson INPUT` vs `audit2why -p FILE -i INPUT` (whole
//      process each) on the same generated AVC logs of 20k and 100k lines;
//   3. the steady-state rate of each, (100k - 20k) / (t100k - t20k) AVC/s, so that fixed start-up costs
//      (interpreter, policy load) do not hide the engine, and the ratios.
// Targets: readPolicy(policy.33) < 0.5 s; steady-state explain >= 100x audit2why (below 30x is a defect).
// Every time is printed as wall time and as CPU time (user+sys); the targets are judged on CPU time,
// because on a shared 2-core machine wall time swings with the other jobs' load. avcstream is started
// as node_modules/.bin/avcstream through its shebang, as `npx avcstream` runs it (bench:parse does too).
//
// The AVC lines are built from the policy's own types, classes, permissions, roles, users and rules
// (libs/selinux-access/oracle/oracle.py gen-plain: TE, boolean-gated, dontaudit, constraint, MCS, role
// change, invalid-context and unknown-class cases). As in real logs, denials repeat: each line is a new
// denial with probability --new-prob (default 0.3), else a repeat of an earlier line. The 20k log is the first 20k lines of
// the 100k one. Generated files are cached under bench/.out/policy (git-ignored).
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { measure, type RunResult } from './lib/measure.ts';
import { fixed, formatTable, thousands } from './lib/table.ts';

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, '..');
const outDir = join(here, '.out', 'policy');
const node = process.execPath;
const binDir = join(root, 'node_modules', '.bin');

/**
 * avcstream as users start it: the installed bin through its own shebang (what `npx avcstream` runs, minus
 * npx), with the repo's Node first on PATH, so the node flags of the shebang apply (its smaller young
 * generation, which `parse` needs for its RSS target, costs `explain` a few more scavenges than a bare
 * `node avcstream.js` would: bench/README.md).
 */
function avcstream(
  name: string,
  args: string[],
): { name: string; cmd: string; args: string[]; env: NodeJS.ProcessEnv } {
  return {
    name,
    cmd: join(binDir, 'avcstream'),
    args,
    env: { ...process.env, PATH: `${binDir}:${process.env.PATH ?? ''}` },
  };
}
const oraclePy = join(root, 'libs', 'selinux-access', 'oracle', 'oracle.py');
const policyLib = join(root, 'libs', 'selinux-policy', 'src', 'index.ts');
const PYTHON = '/usr/bin/python3';

interface Args {
  policy: string;
  sizes: [number, number];
  seed: number;
  repeat: number;
  loads: number;
  /** Probability that a line is a new denial rather than a repeat of an earlier line. */
  newProb: number;
  strict: boolean;
}

function parseArgs(argv: string[]): Args {
  const a: Args = {
    policy: '/etc/selinux/default/policy/policy.33',
    sizes: [20_000, 100_000],
    seed: 1,
    repeat: 1,
    loads: 5,
    newProb: 0.3,
    strict: false,
  };
  for (let i = 0; i < argv.length; i++) {
    const k = argv[i];
    const v = () => argv[++i] ?? '';
    if (k === '--policy') a.policy = resolve(v());
    else if (k === '--sizes') {
      const s = v().split(',').map(Number);
      if (
        s.length !== 2 ||
        s.some((n) => !Number.isInteger(n) || n < 1000) ||
        (s[0] as number) >= (s[1] as number)
      )
        throw new Error('--sizes: two increasing integers >= 1000, e.g. 20000,100000');
      a.sizes = [s[0] as number, s[1] as number];
    } else if (k === '--seed') a.seed = Number(v());
    else if (k === '--repeat') a.repeat = Number(v());
    else if (k === '--loads') a.loads = Number(v());
    else if (k === '--new-prob') a.newProb = Number(v());
    else if (k === '--strict') a.strict = true;
    else throw new Error(`unknown argument ${JSON.stringify(k)}`);
  }
  if (!Number.isInteger(a.repeat) || a.repeat < 1) throw new Error('--repeat: an integer >= 1');
  if (!Number.isInteger(a.loads) || a.loads < 1) throw new Error('--loads: an integer >= 1');
  if (!(a.newProb > 0 && a.newProb <= 1)) throw new Error('--new-prob: a number in (0, 1]');
  return a;
}

function log(msg: string): void {
  process.stderr.write(`[bench:policy] ${msg}\n`);
}

function have(cmd: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' }).status === 0;
}

/** Installs the Debian anchors when missing (seinfo: setools; audit2why: policycoreutils-python-utils). */
function ensureTools(policy: string): void {
  const missing: string[] = [];
  if (!have('seinfo')) missing.push('setools');
  if (!have('audit2why')) missing.push('policycoreutils-python-utils');
  if (!existsSync(policy) && policy.startsWith('/etc/selinux/default/'))
    missing.push('selinux-policy-default');
  if (missing.length === 0) return;
  log(`installing ${missing.join(' ')} from Debian`);
  const apt = ['-o', 'DPkg::Lock::Timeout=600', '-y', '-q'];
  const install = () => spawnSync('apt-get', [...apt, 'install', ...missing], { stdio: 'inherit' }).status;
  if (install() !== 0) {
    spawnSync('apt-get', [...apt, 'update'], { stdio: 'inherit' });
    if (install() !== 0) throw new Error(`could not install ${missing.join(' ')}`);
  }
}

/** Small deterministic PRNG (mulberry32). */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface Denial {
  kind: string;
  scontext: string;
  tcontext: string;
  tclass: string;
  perms: string[];
}

function avcLine(d: Denial, i: number, r: () => number): string {
  const t = (1763900000 + i * 0.013).toFixed(3);
  const type = d.scontext.split(':')[2] ?? 'unknown_t';
  const comm = type.replace(/_t$/, '').slice(0, 15);
  const obj = (d.tcontext.split(':')[2] ?? 'x').replace(/_t$/, '');
  const pid = 1000 + Math.floor(r() * 60000);
  const ino = 1000 + Math.floor(r() * 9_000_000);
  const what = /file|dir|socket/.test(d.tclass) ? `name="${obj}" dev="dm-0" ino=${ino} ` : '';
  return (
    `type=AVC msg=audit(${t}:${100000 + i}): avc:  denied  { ${d.perms.join(' ')} } for  pid=${pid} ` +
    `comm="${comm}" ${what}scontext=${d.scontext} tcontext=${d.tcontext} tclass=${d.tclass} permissive=0`
  );
}

/** Builds (or reuses) the two AVC logs; returns their paths and the number of distinct denials in each. */
function buildInputs(a: Args): Array<{ lines: number; path: string; distinct: number }> {
  mkdirSync(outDir, { recursive: true });
  const [small, big] = a.sizes;
  const tag = `${statSync(a.policy).size}-${a.seed}-${big}${a.newProb === 0.3 ? '' : `-p${a.newProb}`}`;
  const bigPath = join(outDir, `avc-${tag}-${big}.log`);
  const smallPath = join(outDir, `avc-${tag}-${small}.log`);
  const metaPath = join(outDir, `avc-${tag}.json`);
  if (!existsSync(bigPath) || !existsSync(smallPath) || !existsSync(metaPath)) {
    const poolSize = Math.ceil(big * a.newProb * 1.1) + 100;
    log(`generating ${thousands(poolSize)} distinct denials from ${a.policy} (oracle.py gen-plain)`);
    const r = spawnSync(PYTHON, [oraclePy, 'gen-plain', a.policy, String(a.seed), String(poolSize)], {
      encoding: 'utf8',
      maxBuffer: 1024 * 1024 * 1024,
    });
    if (r.status !== 0) throw new Error(`oracle.py gen-plain failed: ${(r.stderr ?? '').slice(0, 2000)}`);
    const pool = (JSON.parse(r.stdout) as { denials: Denial[] }).denials;
    const rand = rng(a.seed);
    const lines: string[] = [];
    const used: Denial[] = [];
    const distinctAt: number[] = [];
    let next = 0;
    for (let i = 0; i < big; i++) {
      let d: Denial;
      if (used.length === 0 || (rand() < a.newProb && next < pool.length)) {
        d = pool[next++] as Denial;
        used.push(d);
      } else d = used[Math.floor(rand() * used.length)] as Denial;
      lines.push(avcLine(d, i, rand));
      distinctAt.push(used.length);
    }
    const write = (path: string, text: string) => {
      writeFileSync(`${path}.tmp`, text);
      renameSync(`${path}.tmp`, path);
    };
    write(smallPath, `${lines.slice(0, small).join('\n')}\n`);
    write(bigPath, `${lines.join('\n')}\n`);
    const kinds: Record<string, number> = {};
    for (const d of used) kinds[d.kind] = (kinds[d.kind] ?? 0) + 1;
    write(metaPath, JSON.stringify({ distinct: [distinctAt[small - 1], distinctAt[big - 1]], kinds }));
  }
  const meta = JSON.parse(readFileSync(metaPath, 'utf8')) as {
    distinct: [number, number];
    kinds: Record<string, number>;
  };
  log(`distinct denials by kind (100k log): ${JSON.stringify(meta.kinds)}`);
  return [
    { lines: small, path: smallPath, distinct: meta.distinct[0] },
    { lines: big, path: bigPath, distinct: meta.distinct[1] },
  ];
}

function median(xs: number[]): number {
  const s = [...xs].sort((x, y) => x - y);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2;
}

function check(r: RunResult): RunResult {
  if (r.exitCode !== 0) throw new Error(`${r.name} exited ${r.exitCode}: ${r.stderr.slice(0, 2000)}`);
  return r;
}

/**
 * readPolicy alone, timed inside a fresh Node process (cold: no JIT warm-up from earlier loads): wall
 * seconds and CPU seconds (user+sys of the process, GC threads included).
 */
function coldReadPolicy(policy: string): { wall: number; cpu: number } {
  const code =
    `import { readFileSync } from 'node:fs';` +
    `const { readPolicy } = await import(${JSON.stringify(policyLib)});` +
    `const b = readFileSync(${JSON.stringify(policy)});` +
    `const c0 = process.cpuUsage(); const t0 = performance.now(); readPolicy(b);` +
    `const t1 = performance.now(); const c1 = process.cpuUsage(c0);` +
    `process.stdout.write(JSON.stringify({ wall: (t1 - t0) / 1000, cpu: (c1.user + c1.system) / 1e6 }));`;
  const r = spawnSync(node, ['--input-type=module', '-e', code], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`readPolicy failed: ${(r.stderr ?? '').slice(0, 2000)}`);
  return JSON.parse(r.stdout) as { wall: number; cpu: number };
}

async function main(): Promise<void> {
  const a = parseArgs(process.argv.slice(2));
  ensureTools(a.policy);
  if (!existsSync(a.policy)) throw new Error(`no policy at ${a.policy}`);
  const inputs = buildInputs(a);
  log(
    `load average ${loadavg()
      .map((x) => x.toFixed(2))
      .join(' ')} (2 cores shared: figures are noisy)`,
  );

  // 1. policy load
  const ours: number[] = [];
  const seinfo: number[] = [];
  const cold: number[] = [];
  const coldCpu: number[] = [];
  for (let i = 0; i < a.loads; i++) {
    ours.push(check(await measure(avcstream('avcstream policy info', ['policy', 'info', a.policy]))).wallSec);
    seinfo.push(check(await measure({ name: 'seinfo', cmd: 'seinfo', args: [a.policy] })).wallSec);
    const rp = coldReadPolicy(a.policy);
    cold.push(rp.wall);
    coldCpu.push(rp.cpu);
  }

  // 2. explain vs audit2why, interleaved, best of --repeat
  const times = new Map<string, number>();
  const cpu = new Map<string, number>();
  const rss = new Map<string, number>();
  for (const inp of inputs) {
    for (let rep = 0; rep < a.repeat; rep++) {
      for (const tool of ['avcstream', 'audit2why'] as const) {
        const spec =
          tool === 'avcstream'
            ? avcstream(tool, ['explain', '--policy', a.policy, '--format', 'ndjson', inp.path])
            : { name: tool, cmd: 'audit2why', args: ['-p', a.policy, '-i', inp.path] };
        log(`${tool} on ${thousands(inp.lines)} lines (run ${rep + 1}/${a.repeat})`);
        const r = check(await measure(spec));
        const key = `${tool}-${inp.lines}`;
        times.set(key, Math.min(times.get(key) ?? Number.POSITIVE_INFINITY, r.wallSec));
        cpu.set(key, Math.min(cpu.get(key) ?? Number.POSITIVE_INFINITY, r.userSec + r.sysSec));
        rss.set(key, Math.max(rss.get(key) ?? 0, r.peakRssMb));
      }
    }
  }

  const [small, big] = inputs as [(typeof inputs)[0], (typeof inputs)[0]];
  const t = (tool: string, n: number) => times.get(`${tool}-${n}`) as number;
  const steady = (tool: string) => (big.lines - small.lines) / (t(tool, big.lines) - t(tool, small.lines));
  const c = (tool: string, n: number) => cpu.get(`${tool}-${n}`) as number;
  const steadyCpu = (tool: string) => (big.lines - small.lines) / (c(tool, big.lines) - c(tool, small.lines));
  const loadOurs = median(ours);
  const loadSeinfo = median(seinfo);
  const loadCold = median(cold);

  const rows: string[][] = [
    [
      'policy load (whole process)',
      `${fixed(loadOurs, 3)} s`,
      `${fixed(loadSeinfo, 3)} s`,
      `${fixed(loadSeinfo / loadOurs, 2)}x`,
    ],
    ['readPolicy, cold process', `${fixed(loadCold, 3)} s (CPU ${fixed(median(coldCpu), 3)} s)`, '', ''],
  ];
  for (const inp of inputs) {
    const o = t('avcstream', inp.lines);
    const w = t('audit2why', inp.lines);
    rows.push([
      `${thousands(inp.lines)} AVC lines (${thousands(inp.distinct)} distinct), whole process`,
      `${fixed(o, 2)} s  ${thousands(Math.round(inp.lines / o))}/s  ${fixed(rss.get(`avcstream-${inp.lines}`) ?? 0, 0)} MB`,
      `${fixed(w, 2)} s  ${thousands(Math.round(inp.lines / w))}/s  ${fixed(rss.get(`audit2why-${inp.lines}`) ?? 0, 0)} MB`,
      `${fixed(w / o, 1)}x`,
    ]);
  }
  for (const inp of inputs) {
    const o = c('avcstream', inp.lines);
    const w = c('audit2why', inp.lines);
    rows.push([
      `${thousands(inp.lines)} AVC lines, CPU time (user+sys)`,
      `${fixed(o, 2)} s`,
      `${fixed(w, 2)} s`,
      `${fixed(w / o, 1)}x`,
    ]);
  }
  const so = steady('avcstream');
  const sw = steady('audit2why');
  const soc = steadyCpu('avcstream');
  const swc = steadyCpu('audit2why');
  rows.push([
    `steady state (${thousands(big.lines)}-${thousands(small.lines)})/(t${big.lines / 1000}k-t${small.lines / 1000}k)`,
    so > 0 ? `${thousands(Math.round(so))} AVC/s` : 'n/a (noise)',
    sw > 0 ? `${thousands(Math.round(sw))} AVC/s` : 'n/a (noise)',
    so > 0 && sw > 0 ? `${fixed(so / sw, 1)}x` : 'n/a',
  ]);
  rows.push([
    'steady state from CPU time (less sensitive to load)',
    `${thousands(Math.round(soc))} AVC/s`,
    `${thousands(Math.round(swc))} AVC/s`,
    `${fixed(soc / swc, 1)}x`,
  ]);
  process.stdout.write(
    `\npolicy: ${a.policy} (${thousands(statSync(a.policy).size)} bytes), seed ${a.seed}, new-denial probability ${a.newProb}\n\n`,
  );
  process.stdout.write(`${formatTable(['measure', 'avcstream', 'seinfo / audit2why', 'ratio'], rows)}\n`);
  // On a shared machine wall time swings with the load; CPU time (user+sys) does not. Targets are judged
  // on CPU time; the wall-time figures are printed next to them.
  const loadCpu = median(coldCpu);
  const loadOk = loadCpu < 0.5;
  const ratioCpu = soc / swc;
  const steadyOk = ratioCpu >= 100;
  const wallRatio = so / sw;
  const wallNote =
    so <= 0 || sw <= 0
      ? 'n/a: wall time did not grow with the input (load noise)'
      : Math.abs(Math.log(wallRatio / ratioCpu)) > Math.log(3)
        ? `${fixed(wallRatio, 1)}x, not credible: more than 3x off the CPU figure (load noise)`
        : `${fixed(wallRatio, 1)}x`;
  process.stdout.write(
    '\navcstream is started as node_modules/.bin/avcstream through its shebang (what `npx avcstream` runs).\n' +
      `targets (judged on CPU time; load average ${loadavg()[0]?.toFixed(1)} on ${cpus().length} cores):\n` +
      `  readPolicy(policy.33) < 0.5 s: ${loadOk ? 'MET' : 'MISSED'} (CPU ${fixed(loadCpu, 3)} s, wall ${fixed(loadCold, 3)} s)\n` +
      `  steady-state explain >= 100x audit2why: ${steadyOk ? 'MET' : ratioCpu < 30 ? 'MISSED (below 30x: a defect to profile)' : 'MISSED'} ` +
      `(CPU ${fixed(ratioCpu, 1)}x, wall ${wallNote})\n`,
  );
  if (a.strict && !(loadOk && steadyOk)) process.exitCode = 1;
}

main().catch((e: unknown) => {
  process.stderr.write(`[bench:policy] ${e instanceof Error ? e.message : String(e)}\n`);
  process.exitCode = 1;
});
