// Runs one command under /usr/bin/time and reports wall time and peak RSS (the largest resident set of
// the command and all its descendants, from the kernel's rusage of waited-for children).
import { spawn } from 'node:child_process';
import { closeSync, openSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface RunSpec {
  /** Label in the results table. */
  name: string;
  cmd: string;
  args: string[];
  /** File fed to stdin (else /dev/null). */
  stdinFile?: string;
  /** File that receives stdout (else /dev/null). */
  stdoutFile?: string;
  cwd?: string;
  env?: NodeJS.ProcessEnv;
}

export interface RunResult {
  name: string;
  exitCode: number;
  wallSec: number;
  peakRssMb: number;
  userSec: number;
  sysSec: number;
  /** The command's own stderr (the /usr/bin/time report is removed). */
  stderr: string;
}

const TIME_MARK = '@@bench-time@@';

/** Runs `spec` to completion. Never throws for a non-zero exit: the caller looks at `exitCode`. */
export async function measure(spec: RunSpec): Promise<RunResult> {
  const timeOut = join(tmpdir(), `bench-time-${process.pid}-${Date.now()}.txt`);
  const stdin = openSync(spec.stdinFile ?? '/dev/null', 'r');
  const stdout = openSync(spec.stdoutFile ?? '/dev/null', 'w');
  const started = process.hrtime.bigint();
  const child = spawn(
    '/usr/bin/time',
    ['-o', timeOut, '-f', `${TIME_MARK} %e %M %U %S`, spec.cmd, ...spec.args],
    { cwd: spec.cwd, env: spec.env ?? process.env, stdio: [stdin, stdout, 'pipe'] },
  );
  const chunks: Buffer[] = [];
  let size = 0;
  child.stderr?.on('data', (c: Buffer) => {
    if (size < 1 << 20) {
      chunks.push(c);
      size += c.length;
    }
  });
  const exitCode: number = await new Promise((resolve) => child.on('close', (code) => resolve(code ?? 1)));
  const wallNs = process.hrtime.bigint() - started;
  closeSync(stdin);
  closeSync(stdout);
  let report = '';
  try {
    report = readFileSync(timeOut, 'utf8');
  } catch {}
  rmSync(timeOut, { force: true });
  const m = new RegExp(`${TIME_MARK} (\\S+) (\\d+) (\\S+) (\\S+)`).exec(report);
  return {
    name: spec.name,
    exitCode,
    wallSec: Number(wallNs) / 1e9,
    peakRssMb: m ? Number(m[2]) / 1024 : Number.NaN,
    userSec: m ? Number(m[3]) : Number.NaN,
    sysSec: m ? Number(m[4]) : Number.NaN,
    stderr: Buffer.concat(chunks).toString('utf8'),
  };
}
