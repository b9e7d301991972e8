// `avcstream run` as a child process: SIGKILL at several points, restart, and check that no alert is decided twice
// or lost and that the durable counters equal the generated log's known truth. Also the HTTP endpoint and the
// ordered SIGTERM shutdown. No Kafka or Elasticsearch needed.
import { type ChildProcess, spawn } from 'node:child_process';
import { createHmac } from 'node:crypto';
import {
  appendFileSync,
  existsSync,
  mkdtempSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

const BIN = fileURLToPath(new URL('../services/cli/bin/avcstream.js', import.meta.url));
const work = mkdtempSync(join(tmpdir(), 'avc-embedded-'));
const children: ChildProcess[] = [];
afterAll(() => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  rmSync(work, { recursive: true, force: true });
});

interface Truth {
  lines: number;
  events: number;
  denials: number;
  malformed: number;
  signatures: string[];
}

/** A log with known truth: N signatures seen R times each on two hosts, logins in between, bad lines. */
function generate(
  n: number,
  repeats: number,
  malformed: number,
  startSerial = 1000,
): { text: string; truth: Truth } {
  const lines: string[] = [];
  let serial = startSerial;
  let t = 1_763_800_000;
  let events = 0;
  let denials = 0;
  const signatures: string[] = [];
  for (let r = 0; r < repeats; r++) {
    for (let i = 0; i < n; i++) {
      const host = i % 2 === 0 ? 'alpha.example' : 'beta.example';
      const src = `gen${i}_t`;
      const tgt = `target${i % 5}_t`;
      const id = `${t}.${String(i % 1000).padStart(3, '0')}:${serial}`;
      lines.push(
        `node=${host} type=AVC msg=audit(${id}): avc:  denied  { read } for  pid=${100 + i} comm="prog${i}" name="f${i}" dev="vda1" ino=${i} scontext=system_u:system_r:${src}:s0 tcontext=system_u:object_r:${tgt}:s0 tclass=file permissive=0`,
        `node=${host} type=SYSCALL msg=audit(${id}): arch=c000003e syscall=257 success=no exit=-13 a0=ffffff9c a1=1 a2=0 a3=0 items=1 ppid=1 pid=${100 + i} auid=1000 uid=0 gid=0 euid=0 suid=0 fsuid=0 egid=0 sgid=0 fsgid=0 tty=(none) ses=1 comm="prog${i}" exe="/usr/bin/prog${i}" subj=system_u:system_r:${src}:s0 key=(null)`,
        `node=${host} type=PATH msg=audit(${id}): item=0 name="/srv/f${i}" inode=${i} dev=fc:01 mode=0100644 ouid=0 ogid=0 rdev=00:00 obj=system_u:object_r:${tgt}:s0 nametype=NORMAL cap_fp=0 cap_fi=0 cap_fe=0 cap_fver=0`,
        `node=${host} type=PROCTITLE msg=audit(${id}): proctitle="prog${i}"`,
      );
      if (r === 0) signatures.push(`${src}:${tgt}:file:read`);
      events++;
      denials++;
      serial++;
      t++;
      if (i % 10 === 0) {
        lines.push(
          `node=${host} type=USER_LOGIN msg=audit(${t}.500:${serial}): pid=1 uid=0 auid=1000 ses=1 msg='op=login acct="bob" exe="/usr/sbin/sshd" hostname=? addr=10.0.0.1 terminal=sshd res=success'`,
        );
        events++;
        serial++;
        t++;
      }
    }
  }
  for (let k = 0; k < malformed; k++) {
    lines.splice(
      ((k + 1) * lines.length) / (malformed + 1),
      0,
      `garbage line ${k} that is not an audit record`,
    );
  }
  return {
    text: `${lines.join('\n')}\n`,
    truth: { lines: lines.length, events, denials, malformed, signatures },
  };
}

interface RunResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Run the CLI; with `killWhen(stdout so far)`, SIGKILL it as soon as that holds (polled every 2 ms). */
function runCli(args: string[], killWhen?: (stdoutSoFar: string) => boolean): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    children.push(child);
    let stdout = '';
    let stderr = '';
    const poll =
      killWhen === undefined
        ? null
        : setInterval(() => {
            if (killWhen(stdout)) {
              clearInterval(poll!);
              child.kill('SIGKILL');
            }
          }, 2);
    child.stdout!.setEncoding('utf8');
    child.stderr!.setEncoding('utf8');
    child.stdout!.on('data', (d: string) => {
      stdout += d;
    });
    child.stderr!.on('data', (d: string) => {
      stderr += d;
    });
    child.on('error', reject);
    child.on('close', (code, signal) => {
      if (poll !== null) clearInterval(poll);
      resolve({ code, signal, stdout, stderr });
    });
  });
}

interface PrintedAlert {
  key: string;
  id: string;
  redelivered: boolean;
}

/** The "new denial" alerts printed (first line of each console alert). */
function printedAlerts(stdout: string): PrintedAlert[] {
  return [...stdout.matchAll(/^\[NEW DENIAL(, redelivered)?\] (\S+) .* id=([0-9a-f]+)$/gm)].map((m) => ({
    key: m[2]!,
    id: m[3]!,
    redelivered: m[1] !== undefined,
  }));
}

/** The `repeat` alerts printed: signature key, folded count, and whether it was a redelivery. */
function printedRepeats(stdout: string): Array<{ key: string; count: number; redelivered: boolean }> {
  return [...stdout.matchAll(/^\[REPEAT x(\d+)(, redelivered)?\] (\S+) /gm)].map((m) => ({
    key: m[3]!,
    count: Number(m[1]),
    redelivered: m[2] !== undefined,
  }));
}

function journalSize(state: string): number {
  try {
    return statSync(join(state, 'journal.ndjson')).size;
  } catch {
    return 0;
  }
}

/** Signature keys of the "new denial" alerts printed, in order (first line of each console alert). */
function printedKeys(stdout: string): string[] {
  return [...stdout.matchAll(/^\[NEW DENIAL(?:, redelivered)?\] (\S+) /gm)].map((m) => m[1]!);
}

function allTime(stdout: string): Record<string, number> {
  const m = /all-time: (\d+) lines, (\d+) events, (\d+) denials, (\d+) malformed, (\d+) alerts/.exec(stdout);
  if (m === null) throw new Error(`no all-time line in:\n${stdout}`);
  return { lines: +m[1]!, events: +m[2]!, denials: +m[3]!, malformed: +m[4]!, alerts: +m[5]! };
}

describe('avcstream run (embedded mode)', () => {
  it('decides each signature new once, loses no alert and counts exactly, across SIGKILLs at several points', async () => {
    const { text, truth } = generate(40, 3, 5);
    const log = join(work, 'kill.log');
    writeFileSync(log, text);
    const state = join(work, 'kill-state');
    // Small reads: one fsynced batch per ~400 bytes, so the kills land in the middle of the work.
    const args = [
      'run',
      '--once',
      '--input',
      log,
      '--policy',
      'none',
      '--state-dir',
      state,
      '--host',
      'local',
    ];
    const slow = [...args, '--chunk-bytes', '400', '--commit-interval-ms', '0'];

    // Reference: the journal an uninterrupted run writes. The kills land at fractions of it, at points that
    // have nothing to do with when alerts are printed.
    const refState = join(work, 'kill-ref');
    const ref = await runCli([...slow.map((x) => (x === state ? refState : x))]);
    expect(ref.code, ref.stderr).toBe(0);
    const refBytes = journalSize(refState);
    expect(refBytes).toBeGreaterThan(20_000);

    const printed: PrintedAlert[] = [];
    const kills: RunResult[] = [];
    // First a kill with the default group commit (one store batch per 200 ms): the work done since the last
    // batch is lost and re-read, the claims made meanwhile are durable.
    const grouped = await runCli([...args, '--chunk-bytes', '400'], (out) => printedKeys(out).length >= 3);
    kills.push(grouped);
    printed.push(...printedAlerts(grouped.stdout));
    // New signatures are all in the first third of the log, repeats after: kills among the alerts, one among
    // the repeats, each after the journal grew by a share of the reference.
    for (const fraction of [0.08, 0.1, 0.3]) {
      const from = journalSize(state);
      const r = await runCli(slow, () => journalSize(state) >= from + fraction * refBytes);
      kills.push(r);
      printed.push(...printedAlerts(r.stdout));
      expect(journalSize(state)).toBeGreaterThanOrEqual(from + fraction * refBytes);
    }
    // Work was done before the last run.
    expect(printed.length).toBeGreaterThan(0);
    const last = await runCli(args);
    expect(last.code, last.stderr).toBe(0);
    printed.push(...printedAlerts(last.stdout));

    // The runs were really killed mid-way.
    expect(kills.filter((k) => k.signal === 'SIGKILL' && !k.stdout.includes('all-time:')).length).toBe(4);
    // None lost: every signature was printed.
    expect([...new Set(printed.map((p) => p.key))].sort()).toEqual([...truth.signatures].sort());
    // None decided twice: no signature is ever printed as new twice. The only repeat the design allows is a
    // redelivery after a kill between the console write and its journal mark: flagged, same alert id, at most
    // one per kill.
    const plain = printed.filter((p) => !p.redelivered);
    expect(new Set(plain.map((p) => p.key)).size).toBe(plain.length);
    const redelivered = printed.filter((p) => p.redelivered);
    expect(redelivered.length).toBeLessThanOrEqual(kills.length);
    for (const r of redelivered) {
      const same = printed.filter((p) => p.key === r.key);
      expect(same.length).toBeLessThanOrEqual(2);
      expect(same.every((p) => p.id === r.id)).toBe(true);
    }
    // Rate-limit windows survive the kills too: each signature's second sighting (44 s after the first, inside
    // the 60 s window; the third is outside it) is folded into exactly one `repeat` alert counting 1, never
    // lost with a killed run's memory nor counted again when its lines are re-read.
    const runs = [...kills, last];
    const repeats = runs.flatMap((r) => printedRepeats(r.stdout)).filter((p) => !p.redelivered);
    expect(repeats.map((p) => p.key).sort()).toEqual([...truth.signatures].sort());
    expect(repeats.every((p) => p.count === 1)).toBe(true);
    // Durable counters equal the known truth: nothing counted twice after re-reading from a checkpoint.
    expect(allTime(last.stdout)).toEqual({
      lines: truth.lines,
      events: truth.events,
      denials: truth.denials,
      malformed: truth.malformed,
      alerts: truth.signatures.length,
    });
    expect(existsSync(join(state, 'report.html'))).toBe(true);
    const summary = JSON.parse(readFileSync(join(state, 'summary.json'), 'utf8'));
    expect(summary.statistics.deniedMessages).toBe(truth.denials);
    expect(summary.statistics.malformed).toBe(truth.malformed);

    // Appending new lines later: only the new signatures alert.
    const more = generate(42, 1, 0, 5000);
    appendFileSync(log, more.text.split('\n').slice(-9).join('\n'));
    const again = await runCli(args);
    expect(again.code).toBe(0);
    expect(printedKeys(again.stdout)).toEqual(['gen41_t:target1_t:file:read']);
  });

  it('serves /, /metrics, /livez and /readyz, writes the report on SIGHUP and shuts down in order on SIGTERM', async () => {
    const { text } = generate(6, 2, 1);
    const log = join(work, 'http.log');
    writeFileSync(log, text);
    const state = join(work, 'http-state');
    const child = spawn(
      process.execPath,
      [
        BIN,
        'run',
        '--input',
        log,
        '--policy',
        'none',
        '--state-dir',
        state,
        '--http',
        '127.0.0.1:0',
        '--log-level',
        'info',
        '--report-interval',
        '3600',
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    children.push(child);
    let stdout = '';
    let stderr = '';
    child.stdout!.on('data', (d) => {
      stdout += d;
    });
    const port = await new Promise<number>((resolve, reject) => {
      child.stderr!.on('data', (d) => {
        stderr += d;
        const m = /"port":(\d+)[^\n]*"msg":"http listening"/.exec(stderr);
        if (m !== null) resolve(Number(m[1]));
      });
      child.on('close', () => reject(new Error(`exited early: ${stderr}`)));
    });
    const base = `http://127.0.0.1:${port}`;
    /** Wait for a condition; fail at once (with the child's stderr) if the child died meanwhile. */
    const until = async (cond: () => boolean) => {
      while (!cond()) {
        if (child.exitCode !== null || child.signalCode !== null)
          throw new Error(`avcstream run exited: ${stderr}`);
        await new Promise((r) => setTimeout(r, 50));
      }
    };
    // ready once started; wait for the file to be processed (6 alerts printed)
    await until(() => printedKeys(stdout).length >= 6);
    expect((await fetch(`${base}/livez`)).status).toBe(200);
    expect((await fetch(`${base}/readyz`)).status).toBe(200);
    const metrics = await (await fetch(`${base}/metrics`)).text();
    expect(metrics).toMatch(/^avcstream_run_denials_records_total 12$/m);
    expect(metrics).toMatch(/^avcstream_run_malformed_lines_total 1$/m);
    expect(metrics).toMatch(/^avcstream_run_alerts_alerts_total\{kind="new_fleet"\} 6$/m);
    const page = await fetch(`${base}/`);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toContain('text/html');
    expect(page.headers.get('content-security-policy')).toContain("default-src 'none'");
    expect(await page.text()).toContain('gen5_t');

    // Rotation by rename + create while following: the new file's signatures alert too.
    const next = generate(8, 1, 0, 9000);
    renameSync(log, `${log}.1`);
    writeFileSync(log, next.text.split('\n').slice(-9).join('\n'));
    await until(() => printedKeys(stdout).length >= 8);
    expect(printedKeys(stdout).at(-1)).toBe('gen7_t:target2_t:file:read');

    expect(existsSync(join(state, 'report.html'))).toBe(false);
    child.kill('SIGHUP');
    await until(() => stderr.includes('"msg":"report written"'));
    expect(existsSync(join(state, 'report.html'))).toBe(true);

    const exited = new Promise<number | null>((r) => child.on('close', (code) => r(code)));
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
    const order = [...stderr.matchAll(/"msg":"(shutdown started|report written|http listening)"/g)].map(
      (m) => m[1],
    );
    expect(order.at(-2)).toBe('shutdown started');
    expect(order.at(-1)).toBe('report written');
    expect(existsSync(join(state, 'lock'))).toBe(false);
  });

  it('resumes across a rotation that happened while it was down: finishes the old file, then the new one', async () => {
    const a = generate(10, 1, 0, 100);
    const log = join(work, 'rot.log');
    writeFileSync(log, a.text);
    const state = join(work, 'rot-state');
    const args = [
      'run',
      '--once',
      '--input',
      log,
      '--policy',
      'none',
      '--state-dir',
      state,
      '--host',
      'local',
    ];
    const first = await runCli(args);
    expect(first.code).toBe(0);
    expect(printedKeys(first.stdout)).toHaveLength(10);
    // while down: more lines in the old file, rotation, a new file
    const b = generate(14, 1, 0, 200);
    const bLines = b.text.trimEnd().split('\n');
    const tailOfB = bLines.slice(-8); // gen12, gen13 (4 lines each)
    appendFileSync(log, `${tailOfB.slice(0, 4).join('\n')}\n`);
    renameSync(log, `${log}.1`);
    writeFileSync(log, `${tailOfB.slice(4).join('\n')}\n`);
    const second = await runCli(args);
    expect(second.code, second.stderr).toBe(0);
    expect(printedKeys(second.stdout)).toEqual([
      'gen12_t:target2_t:file:read',
      'gen13_t:target3_t:file:read',
    ]);
    expect(allTime(second.stdout)).toMatchObject({ lines: a.truth.lines + 8, denials: 12, alerts: 12 });
  });

  it('delivers alerts to a webhook with an HMAC signature, retrying a failed request', async () => {
    const { text } = generate(5, 2, 0, 300);
    const log = join(work, 'hook.log');
    writeFileSync(log, text);
    const received: Array<{
      alert: { kind: string; count: number; signature: { key: string } };
      ok: boolean;
    }> = [];
    let calls = 0;
    const server = createServer((req, res) => {
      let body = '';
      req.on('data', (c) => {
        body += c;
      });
      req.on('end', () => {
        calls++;
        const sig = req.headers['x-avcstream-signature'];
        const ok = sig === `sha256=${createHmac('sha256', 'hook-secret').update(body).digest('hex')}`;
        res.statusCode = calls === 1 ? 503 : 204; // the first attempt fails and is retried
        if (calls > 1) received.push({ alert: JSON.parse(body), ok });
        res.end();
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    try {
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/alerts`;
      const r = await new Promise<RunResult>((resolve, reject) => {
        const child = spawn(
          process.execPath,
          [
            BIN,
            'run',
            '--once',
            '--input',
            log,
            '--policy',
            'none',
            '--state-dir',
            join(work, 'hook-state'),
            '--webhook',
            url,
          ],
          {
            stdio: ['ignore', 'pipe', 'pipe'],
            env: { ...process.env, AVCSTREAM_WEBHOOK_SECRET: 'hook-secret' },
          },
        );
        children.push(child);
        let stdout = '';
        let stderr = '';
        child.stdout!.on('data', (d) => {
          stdout += d;
        });
        child.stderr!.on('data', (d) => {
          stderr += d;
        });
        child.on('error', reject);
        child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
      });
      expect(r.code, r.stderr).toBe(0);
      const fresh = received.filter((x) => x.alert.kind === 'new-signature');
      expect(fresh.map((x) => x.alert.signature.key).sort()).toEqual(printedKeys(r.stdout).sort());
      expect(fresh).toHaveLength(5);
      // each signature was seen twice: one alert plus a repeat with the count
      const repeats = received.filter((x) => x.alert.kind === 'repeat');
      expect(repeats.map((x) => x.alert.count)).toEqual([1, 1, 1, 1, 1]);
      expect(received.every((x) => x.ok)).toBe(true);
    } finally {
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    }
  });

  it("`npm start` (the README's first command) shows the sample's alerts and writes a report; a re-run says they were seen", async () => {
    const state = join(work, 'npm-start-state');
    const npmStart = () =>
      new Promise<RunResult>((resolve, reject) => {
        // the start script of services/cli, with the state dir pointed at a temp dir (the last --state-dir wins)
        const child = spawn(
          'npm',
          ['start', '--silent', '-w', '@avcstream/cli', '--', '--state-dir', state],
          {
            cwd: fileURLToPath(new URL('..', import.meta.url)),
            stdio: ['ignore', 'pipe', 'pipe'],
          },
        );
        children.push(child);
        let stdout = '';
        let stderr = '';
        child.stdout!.on('data', (d) => {
          stdout += d;
        });
        child.stderr!.on('data', (d) => {
          stderr += d;
        });
        child.on('error', reject);
        child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
      });
    const first = await npmStart();
    expect(first.code, first.stderr).toBe(0);
    // the sample's known truth (services/cli/sample/README.md): 154 lines, 28 denials, 4 malformed lines
    expect(allTime(first.stdout)).toMatchObject({ lines: 154, denials: 28, malformed: 4 });
    const keys = printedKeys(first.stdout);
    expect(keys.length).toBeGreaterThan(0);
    expect(new Set(keys).size).toBe(keys.length);
    expect(allTime(first.stdout).alerts).toBe(keys.length);
    expect(first.stdout).toContain('# Begin SELinux audit report');
    expect(first.stdout).toMatch(/Number of denied messages:\s+28\n/);
    for (const f of ['report.txt', 'report.html', 'summary.json'])
      expect(existsSync(join(state, f))).toBe(true);

    const again = await npmStart();
    expect(again.code, again.stderr).toBe(0);
    expect(printedKeys(again.stdout)).toEqual([]);
    expect(again.stdout).toContain('already alerted in an earlier run');
    expect(allTime(again.stdout)).toEqual(allTime(first.stdout));
  });
});
