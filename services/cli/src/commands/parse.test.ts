import { spawn, spawnSync } from 'node:child_process';
import {
  closeSync,
  createWriteStream,
  existsSync,
  mkdtempSync,
  openSync,
  readFileSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { PassThrough, Readable, Writable } from 'node:stream';
import { eventToJson, parseAuditText } from '@avcstream/audit';
import { describe, expect, it } from 'vitest';
import { parse } from './parse.ts';

const SAMPLE = resolve(import.meta.dirname, '../../sample/audit.log');
/** The real audit logs of ../shared/corpus/audit (read in place), when present. */
const CORPUS = resolve(import.meta.dirname, '../../../../../shared/corpus/audit');

const LOG = [
  'type=AVC msg=audit(1763800000.003:1001): avc:  denied  { read } for  pid=2465 comm="httpd" name="index.html" scontext=system_u:system_r:httpd_t:s0 tcontext=unconfined_u:object_r:user_home_t:s0 tclass=file permissive=0',
  'type=SYSCALL msg=audit(1763800000.003:1001): arch=c000003e syscall=257 success=no exit=-13 comm="httpd" exe="/usr/sbin/httpd"',
  'type=PROCTITLE msg=audit(1763800000.003:1001): proctitle=6874747064002D44',
  'this line is not an audit record',
  'node=web1 type=USER_ACCT msg=audit(1763800001.500:1002): pid=9 uid=0 auid=1000 ses=1 msg=\'op=PAM:accounting acct="root" exe="/usr/bin/sudo" res=success\'',
  'type=MAC_STATUS msg=audit(1763800002.000:1003): enforcing=1 old_enforcing=0 auid=0 ses=1',
].join('\n');

function sink(): { stream: PassThrough; text: () => string } {
  const stream = new PassThrough();
  const parts: Buffer[] = [];
  stream.on('data', (b: Buffer) => parts.push(b));
  return { stream, text: () => Buffer.concat(parts).toString('utf8') };
}

async function cli(argv: string[], stdinText = '') {
  const out = sink();
  const err = sink();
  const code = await parse(argv, {
    stdout: out.stream,
    stderr: err.stream,
    stdin: Readable.from([stdinText]),
  });
  return { code, stdout: out.text(), stderr: err.text() };
}

function logFile(text = LOG): string {
  const dir = mkdtempSync(join(tmpdir(), 'avcstream-parse-'));
  const f = join(dir, 'audit.log');
  writeFileSync(f, text);
  return f;
}

describe('avcstream parse', () => {
  it("reads ausearch -i stamps in the date order of the shell's locale (DD/MM/YY under en_GB)", async () => {
    const saved = { LC_ALL: process.env.LC_ALL, TZ: process.env.TZ };
    const line =
      'type=AVC msg=audit(13/12/06 09:05:07.100:7) : avc:  denied  { read } for  pid=1 comm=cat name=x scontext=system_u:system_r:httpd_t:s0 tcontext=system_u:object_r:var_t:s0 tclass=file permissive=0 \n';
    try {
      process.env.TZ = 'UTC';
      process.env.LC_ALL = 'en_GB.UTF-8';
      const gb = await cli(['-'], line);
      expect(gb.code).toBe(0);
      expect(JSON.parse(gb.stdout)).toMatchObject({ time: '2006-12-13T09:05:07.100Z', serial: 7 });
      // Under the C locale's MM/DD/YY the same stamp is no date: a counted malformed line, not a guess.
      process.env.LC_ALL = 'C';
      const c = await cli(['-'], line);
      expect(c.stdout).toBe('');
      expect(JSON.parse(c.stderr.trim().split('\n').at(-1) as string)).toMatchObject({ malformed: 1 });
    } finally {
      for (const [k, v] of Object.entries(saved)) {
        if (v === undefined) delete process.env[k];
        else process.env[k] = v;
      }
    }
  });

  it('writes one NDJSON object per event and the totals to stderr; malformed lines do not fail', async () => {
    const r = await cli([logFile()]);
    expect(r.code).toBe(0);
    const events = r.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(
      events.map((e) => [e.node, e.serial, e.records.map((x: { type: string }) => x.type).join(',')]),
    ).toEqual([
      [null, 1001, 'AVC,SYSCALL,PROCTITLE'],
      ['web1', 1002, 'USER_ACCT'],
      [null, 1003, 'MAC_STATUS'],
    ]);
    const first = events[0];
    expect(Object.keys(first)).toEqual(['node', 'time', 'epoch', 'serial', 'records', 'partial']);
    expect(first).toMatchObject({ time: '2025-11-22T08:26:40.003Z', epoch: 1763800000.003, partial: false });
    expect(Object.keys(first.records[0])).toEqual(['type', 'fields', 'interpreted', 'avc']);
    expect(Object.keys(first.records[1])).toEqual(['type', 'fields', 'interpreted']);
    expect(first.records[0].avc).toMatchObject({
      decision: 'denied',
      perms: ['read'],
      scontext: { user: 'system_u', role: 'system_r', type: 'httpd_t', level: 's0' },
      tclass: 'file',
      permissive: false,
    });
    expect(first.records[1].interpreted).toMatchObject({ arch: 'x86_64', syscall: 'openat', exit: 'EACCES' });
    expect(first.records[2].fields.proctitle).toBe('httpd\u0000-D');
    expect(JSON.parse(r.stderr.trim())).toEqual({
      lines: 6,
      records: 5,
      events: 3,
      malformed: 1,
      malformedRecords: 0,
      evicted: 0,
      partial: 0,
    });
  });

  it('writes the same bytes as the full parser across read chunks (the byte fast path reads a reused buffer)', async () => {
    // Over 64 KiB, so the file is read in several chunks into one reused buffer, with events open across them.
    const lines: string[] = [];
    for (let i = 0; i < 400; i++) {
      const s = `1763800${String(100 + (i % 50)).padStart(3, '0')}.${String(i % 1000).padStart(3, '0')}:${2000 + i}`;
      lines.push(
        `node=web${i % 3} type=SYSCALL msg=audit(${s}): arch=c000003e syscall=257 success=no exit=-13 a0=ffffff9c items=1 auid=4294967295 comm="httpd" exe="/usr/sbin/httpd" key=(null)`,
        `node=web${i % 3} type=CWD msg=audit(${s}): cwd="/var/www/${i}"`,
        `node=web${i % 3} type=PATH msg=audit(${s}): item=0 name=2F7661722F777777C3A9 mode=0100644 ouid=0 ogid=0 cap_fp=0`,
        ...LOG.split('\n').slice(0, 3),
      );
      if (i % 7 === 0)
        lines.push(`node=web${i % 3} type=PROCTITLE msg=audit(${s}): proctitle=6874747064002D44`);
    }
    const text = `${lines.join('\n')}\n`;
    expect(Buffer.byteLength(text)).toBeGreaterThan(3 * 64 * 1024);
    const r = await cli([logFile(text)]);
    expect(r.code).toBe(0);
    const want = parseAuditText(text)
      .events.map((e) => `${eventToJson(e)}\n`)
      .join('');
    expect(r.stdout).toBe(want);
  });

  describe('output buffers filled again once written through (file descriptor streams)', () => {
    // Well over the writer's 128 KiB buffers: many buffers' worth of output.
    const lines: string[] = [];
    for (let i = 0; i < 1500; i++) {
      const s = `1763801${String(100 + (i % 50)).padStart(3, '0')}.${String(i % 1000).padStart(3, '0')}:${9000 + i}`;
      lines.push(
        `type=SYSCALL msg=audit(${s}): arch=c000003e syscall=257 success=no exit=-13 a0=ffffff9c items=1 comm="httpd" exe="/usr/sbin/httpd" key=(null)`,
        `type=AVC msg=audit(${s}): avc:  denied  { read } for  pid=${i} comm="httpd" name="f${i}" scontext=system_u:system_r:httpd_t:s0 tcontext=system_u:object_r:var_t:s0 tclass=file permissive=0`,
        `type=CWD msg=audit(${s}): cwd="/var/www/${i}"`,
        `type=PROCTITLE msg=audit(${s}): proctitle=6874747064002D44`,
      );
    }
    const text = `${lines.join('\n')}\n`;
    const want = parseAuditText(text)
      .events.map((e) => `${eventToJson(e)}\n`)
      .join('');
    const BIN = resolve(import.meta.dirname, '../../bin/avcstream.js');

    it('to a file (written through on each write: one buffer filled again)', () => {
      expect(Buffer.byteLength(want)).toBeGreaterThan(8 * 128 * 1024);
      const dir = mkdtempSync(join(tmpdir(), 'avcstream-parse-out-'));
      const fd = openSync(join(dir, 'out.ndjson'), 'w');
      const r = spawnSync(process.execPath, [BIN, 'parse', logFile(text)], { stdio: ['ignore', fd, 'pipe'] });
      closeSync(fd);
      expect(r.status, String(r.stderr)).toBe(0);
      expect(readFileSync(join(dir, 'out.ndjson'), 'utf8')).toBe(want);
    });

    it('to a pipe whose reader stalls (writes left pending: fresh buffers until they drain)', async () => {
      const child = spawn(process.execPath, [BIN, 'parse', logFile(text)], {
        stdio: ['ignore', 'pipe', 'ignore'],
      });
      const parts: Buffer[] = [];
      let n = 0;
      child.stdout.on('data', (b: Buffer) => {
        parts.push(b);
        // Stall now and then, so the pipe fills and the writer's writes stay queued.
        if (++n % 3 === 0) {
          child.stdout.pause();
          setTimeout(() => child.stdout.resume(), 20);
        }
      });
      const code = await new Promise<number | null>((done) => child.on('close', done));
      expect(code).toBe(0);
      expect(Buffer.concat(parts).toString('utf8')).toBe(want);
    });

    it('to an fs.WriteStream (asynchronous writes on a file descriptor)', async () => {
      const dir = mkdtempSync(join(tmpdir(), 'avcstream-parse-out-'));
      const stdout = createWriteStream(join(dir, 'out.ndjson'));
      await new Promise((done) => stdout.once('open', done));
      const err = sink();
      const code = await parse([logFile(text)], { stdout, stderr: err.stream, stdin: Readable.from(['']) });
      await new Promise((done) => stdout.end(done));
      expect(code).toBe(0);
      expect(readFileSync(join(dir, 'out.ndjson'), 'utf8')).toBe(want);
    });
  });

  it('--selinux-only keeps AVC/USER_AVC/SELINUX_ERR/MAC_* events; --count prints only totals, on stdout', async () => {
    const r = await cli(['--selinux-only', logFile()]);
    expect(r.code).toBe(0);
    expect(
      r.stdout
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l).serial),
    ).toEqual([1001, 1003]);
    // `avcstream parse --count FILE | jq` gets the totals: one JSON line on stdout, nothing on stderr.
    const c = await cli(['--selinux-only', '--count', logFile()]);
    expect(c.code).toBe(0);
    expect(c.stderr).toBe('');
    expect(c.stdout.endsWith('\n')).toBe(true);
    expect(c.stdout.trim().split('\n')).toHaveLength(1);
    expect(JSON.parse(c.stdout)).toEqual({
      lines: 6,
      records: 5,
      events: 3,
      malformed: 1,
      malformedRecords: 0,
      evicted: 0,
      partial: 0,
      selected: 2,
    });
    const all = await cli(['--count', logFile()]);
    expect(all.stderr).toBe('');
    expect(JSON.parse(all.stdout)).toMatchObject({ events: 3 });
    expect(JSON.parse(all.stdout).selected).toBeUndefined();
  });

  it('--selinux-only drops AppArmor events (type=AVC / USER_AVC / 1400 / 1107 with apparmor=), never SELinux ones', async () => {
    const log = [
      'type=AVC msg=audit(1763800010.000:2001): apparmor="DENIED" operation="open" profile="/usr/sbin/cupsd" name="/etc/shadow" pid=9 comm="cupsd" requested_mask="r" denied_mask="r" fsuid=0 ouid=0',
      'type=SYSCALL msg=audit(1763800010.000:2001): arch=c000003e syscall=257 success=no exit=-13 comm="cupsd" exe="/usr/sbin/cupsd"',
      'type=USER_AVC msg=audit(1763800010.100:2002): pid=1 uid=102 auid=4294967295 ses=4294967295 subj=? msg=\'apparmor="DENIED" operation="dbus_method_call"  bus="system" path="/org/freedesktop/DBus" interface="org.freedesktop.DBus" member="Hello" mask="send" name="org.freedesktop.DBus" pid=7 label="snap.x" peer_label="unconfined" exe="/usr/bin/dbus-daemon" sauid=102 hostname=? addr=? terminal=?\'',
      'Nov 11 11:11:11 ubuntu kernel: [   11.111111] audit: type=1400 audit(1763800010.200:2003): apparmor="DENIED" operation="ptrace" class="ptrace" profile="snap-update-ns.firefox" pid=1948 comm="systemd-journal" requested_mask="readby" denied_mask="readby" peer="unconfined"',
      'type=AVC msg=audit(1763800010.300:2004): avc:  denied  { read } for  pid=2465 comm="httpd" name="shadow" scontext=system_u:system_r:httpd_t:s0 tcontext=system_u:object_r:shadow_t:s0 tclass=file permissive=0',
      'type=USER_AVC msg=audit(1763800010.400:2005): pid=1 uid=0 auid=4294967295 ses=4294967295 msg=\'avc:  denied  { status } for auid=n/a uid=0 gid=0 cmdline="/usr/bin/systemctl" scontext=system_u:system_r:init_t:s0 tcontext=system_u:system_r:init_t:s0 tclass=system exe="/usr/lib/systemd/systemd" sauid=0 hostname=? addr=? terminal=?\'',
    ].join('\n');
    const r = await cli(['--selinux-only', logFile(log)]);
    expect(r.code).toBe(0);
    const serials = r.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l).serial as number)
      .sort((a, b) => a - b);
    expect(serials).toEqual([2004, 2005]);
    expect(JSON.parse(r.stderr.trim())).toMatchObject({ events: 5, selected: 2 });
    const c = await cli(['--selinux-only', '--count', logFile(log)]);
    expect(JSON.parse(c.stdout)).toMatchObject({ events: 5, selected: 2, malformed: 0 });
  });

  it.runIf(existsSync(CORPUS))(
    '--selinux-only on real AppArmor logs (aa-log test input of apparmor.d) selects nothing',
    async () => {
      for (const argv of [[], ['--count']]) {
        const r = await cli(['--selinux-only', ...argv, join(CORPUS, 'apparmor.d/audit.log')]);
        expect(r.code).toBe(0);
        const totals = JSON.parse((argv.length > 0 ? r.stdout : r.stderr).trim());
        expect(totals).toMatchObject({ events: 15, selected: 0 });
        if (argv.length === 0) expect(r.stdout).toBe('');
      }
      // The AppArmor AVC sharing its stamp with an SELinux `seresult=1` record stays, with the SELinux denial.
      const mixed = await cli(['--selinux-only', join(CORPUS, 'elastic-beats/avc.log')]);
      expect(JSON.parse(mixed.stderr.trim())).toMatchObject({ events: 2, selected: 2 });
    },
  );

  it('counts a cut-off AVC body as malformed, as avcstream report and run do, and still writes its record', async () => {
    // The sample's known truth (services/cli/sample/README.md): 4 malformed lines, two of them AVC records
    // whose body is cut off or lacks tcontext (kept as records without "avc").
    for (const argv of [
      [SAMPLE],
      ['--selinux-only', SAMPLE],
      ['--count', SAMPLE],
      ['--selinux-only', '--count', SAMPLE],
    ]) {
      const r = await cli(argv);
      expect(r.code).toBe(0);
      // The totals: on stdout with --count, on stderr otherwise.
      const totals = argv.includes('--count') ? r.stdout : r.stderr;
      expect(JSON.parse(totals.trim()), argv.join(' ')).toMatchObject({
        lines: 154,
        records: 152,
        malformed: 4,
        malformedRecords: 2,
      });
    }
    const events = (await cli([SAMPLE])).stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    const broken = events
      .flatMap((e) => e.records)
      .filter((x: { type: string; avc?: unknown }) => x.type === 'AVC' && x.avc === undefined);
    expect(broken).toHaveLength(2);
    expect(broken.map((x: { fields: Record<string, string> }) => x.fields.seresult)).toEqual([
      'denied',
      'denied',
    ]);
  });

  it('--count: a write error on stdout is reported (74), EPIPE is not', async () => {
    for (const [errno, want] of [
      ['EIO', 74],
      ['EPIPE', 0],
    ] as const) {
      const err = sink();
      const stdout = new Writable({
        write(_c, _e, cb) {
          cb(Object.assign(new Error(errno), { code: errno }));
        },
      });
      stdout.on('error', () => {});
      const code = await parse(['--count', logFile()], {
        stdout,
        stderr: err.stream,
        stdin: Readable.from([]),
      });
      expect(code, errno).toBe(want);
      expect(err.text(), errno).toBe(want === 0 ? '' : 'avcstream parse: write error: EIO\n');
    }
  });

  it("reads standard input for '-' and for no FILE", async () => {
    const a = await cli(['-'], LOG);
    const b = await cli([], LOG);
    expect(a.code).toBe(0);
    expect(a.stdout.trim().split('\n')).toHaveLength(3);
    expect(b.stdout).toBe(a.stdout);
  });

  it('idle flush on standard input: a quiet stream gets its held event written while stdin stays open', async () => {
    // An AVC-only event has no EOE or PROCTITLE to close it: only the idle flush writes it out.
    const stdin = new PassThrough();
    const out = new PassThrough();
    const err = sink();
    let text = '';
    const seen = new Promise<void>((done) => {
      out.on('data', (b: Buffer) => {
        text += b.toString('utf8');
        if (text.includes('\n')) done();
      });
    });
    const code = parse(['-'], { stdout: out, stderr: err.stream, stdin });
    stdin.write(`${LOG.split('\n')[0]}\n`);
    // Bounded only by the test's timeout: the event appears before stdin ends.
    await seen;
    const events = text
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { serial: number; partial: boolean; records: { type: string }[] });
    expect(events.map((e) => [e.serial, e.partial, e.records.map((x) => x.type).join(',')])).toEqual([
      [1001, false, 'AVC'],
    ]);
    stdin.end();
    expect(await code).toBe(0);
    expect(text.trim().split('\n')).toHaveLength(1);
    expect(JSON.parse(err.text().trim())).toMatchObject({ lines: 1, records: 1, events: 1 });
  }, 30_000);

  it('exits 66 with a clear message when FILE cannot be opened, 64 on usage errors', async () => {
    const missing = await cli(['/nonexistent/audit.log']);
    expect(missing.code).toBe(66);
    expect(missing.stderr).toContain('cannot open "/nonexistent/audit.log": ENOENT');
    const dir = await cli([tmpdir()]);
    expect(dir.code).toBe(66);
    const bad = await cli(['--bogus']);
    expect(bad.code).toBe(64);
    expect(bad.stderr).toContain('Usage: avcstream parse');
    const two = await cli(['a', 'b']);
    expect(two.code).toBe(64);
    // Every usage error: one line naming the problem, then the usage.
    for (const [argv, problem] of [
      [['--bogus'], "avcstream parse: Unknown option '--bogus'"],
      [['a', 'b'], 'avcstream parse: expected at most one FILE, got 2'],
      [['--count=yes'], "avcstream parse: Option '--count' does not take an argument"],
      [['--x\u001b[2J'], "avcstream parse: Unknown option '--x\\x1b[2J'"],
    ] as const) {
      const r = await cli([...argv]);
      expect(r.code, argv.join(' ')).toBe(64);
      expect(r.stdout).toBe('');
      const [first, blank, usage] = r.stderr.split('\n');
      expect(first?.startsWith(problem), first).toBe(true);
      expect([blank, usage]).toEqual(['', 'Usage: avcstream parse [options] [FILE|-]']);
    }
    const help = await cli(['--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('--selinux-only');
  });
});
