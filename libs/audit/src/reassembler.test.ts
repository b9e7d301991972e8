import { describe, expect, it } from 'vitest';
import { parseLine } from './parse-line.ts';
import { createReassembler, type ReassemblerOptions } from './reassembler.ts';
import type { AuditEvent, AuditRecord } from './types.ts';

function rec(line: string, n = 1): AuditRecord {
  const r = parseLine(line, n);
  if (!Array.isArray(r)) throw new Error(`bad test line ${line}`);
  return r[0]!;
}

/** Feeds lines; returns emitted events as "serial:TYPE,TYPE[:P]" strings (P = partial). */
function run(
  lines: string[],
  opts?: ReassemblerOptions,
  end = true,
): { out: string[]; events: AuditEvent[] } {
  const re = createReassembler(opts);
  const events: AuditEvent[] = [];
  lines.forEach((l, i) => {
    re.push(rec(l, i + 1), events, l, i * 100);
  });
  if (end) re.flush(events);
  return {
    out: events.map((e) => `${e.serial}:${e.records.map((r) => r.type).join(',')}${e.partial ? ':P' : ''}`),
    events,
  };
}

const S = (serial: number, type: string, t = '1700000000.100', extra = 'x=1') =>
  `type=${type} msg=audit(${t}:${serial}): ${extra}`;

describe('reassembler', () => {
  it('closes on EOE (not kept) and keeps input order', () => {
    const { out } = run(
      [S(1, 'SYSCALL'), S(1, 'CWD'), S(1, 'PATH'), S(1, 'EOE'), S(2, 'SYSCALL')],
      {},
      false,
    );
    expect(out).toEqual(['1:SYSCALL,CWD,PATH']);
  });

  it('closes a syscall event on PROCTITLE, and ignores its EOE afterwards', () => {
    const { out } = run([S(1, 'SYSCALL'), S(1, 'PROCTITLE'), S(1, 'EOE')], {}, false);
    expect(out).toEqual(['1:SYSCALL,PROCTITLE']);
  });

  it('does not close on a PROCTITLE that comes before the SYSCALL', () => {
    const { out } = run([S(1, 'PROCTITLE'), S(1, 'PATH'), S(1, 'SYSCALL'), S(1, 'EOE')]);
    expect(out).toEqual(['1:PROCTITLE,PATH,SYSCALL']);
  });

  it('emits user-space records at once as their own events', () => {
    const { out } = run([S(5, 'USER_ACCT'), S(6, 'CRED_ACQ'), S(7, 'DAEMON_START')], {}, false);
    expect(out).toEqual(['5:USER_ACCT', '6:CRED_ACQ', '7:DAEMON_START']);
  });

  it('keeps every AVC of an AVC-only group and of a many-AVC event', () => {
    const avc = (n: number) => S(9, 'AVC', '1700000000.100', `avc:  denied  { p${n} } for pid=1`);
    const { out, events } = run([avc(1), avc(2), avc(3), S(9, 'SYSCALL'), avc(4), S(9, 'PROCTITLE')]);
    expect(out).toEqual(['9:AVC,AVC,AVC,SYSCALL,AVC,PROCTITLE']);
    expect(events[0]!.records.map((r) => r.fields.seperms)).toEqual([
      'p1',
      'p2',
      'p3',
      undefined,
      'p4',
      undefined,
    ]);
    expect(run([avc(1), avc(2)]).out).toEqual(['9:AVC,AVC']);
  });

  it('never merges or splits interleaved events', () => {
    const { out } = run([
      S(1, 'SYSCALL'),
      S(2, 'SYSCALL'),
      S(1, 'CWD'),
      S(2, 'CWD'),
      S(2, 'EOE'),
      S(1, 'EOE'),
    ]);
    expect(out).toEqual(['2:SYSCALL,CWD', '1:SYSCALL,CWD']);
  });

  it('keys on node as well as stamp', () => {
    const { out, events } = run([
      `node=a ${S(1, 'SYSCALL')}`,
      `node=b ${S(1, 'SYSCALL')}`,
      `node=a ${S(1, 'CWD')}`,
    ]);
    expect(out).toEqual(['1:SYSCALL,CWD', '1:SYSCALL']);
    expect(events.map((e) => e.node)).toEqual(['a', 'b']);
  });

  it('handles the serial wrap 4294967295 -> 0', () => {
    const { out } = run([
      S(4294967294, 'SYSCALL'),
      S(4294967295, 'SYSCALL'),
      S(0, 'SYSCALL'),
      S(1, 'SYSCALL'),
    ]);
    expect(out).toEqual(['4294967294:SYSCALL', '4294967295:SYSCALL', '0:SYSCALL', '1:SYSCALL']);
  });

  it('keeps identical records inside one open event (the kernel writes them: AVC_PATH per AVC)', () => {
    const avc = S(9, 'AVC', '1700000000.100', 'avc:  denied  { read } for pid=1');
    const path = S(9, 'AVC_PATH', '1700000000.100', 'path="/a"');
    const { out } = run([avc, avc, S(9, 'SYSCALL'), path, path, S(9, 'EOE')], {}, false);
    expect(out).toEqual(['9:AVC,AVC,SYSCALL,AVC_PATH,AVC_PATH']);
    const re = createReassembler();
    const ev: AuditEvent[] = [];
    re.push(rec(avc), ev, avc);
    re.push(rec(avc), ev, avc);
    re.flush(ev);
    expect(ev.map((e) => e.records.length)).toEqual([2]);
    expect(re.stats().duplicates).toBe(0);
  });

  it('ignores records identical to those of a recently closed event (re-read logs), and counts them', () => {
    const a = S(1, 'SYSCALL', '1700000000.100', 'pid=1');
    const c = S(1, 'CWD');
    const re = createReassembler();
    const ev: AuditEvent[] = [];
    for (const l of [a, c, S(1, 'EOE'), a, c, S(1, 'EOE')]) re.push(rec(l), ev, l);
    re.flush(ev);
    expect(ev.map((e) => e.records.map((r) => r.type).join(','))).toEqual(['SYSCALL,CWD']);
    expect(re.stats().duplicates).toBe(2);
  });

  it('closes events once the event-time horizon has passed (after the reorder window)', () => {
    const lines = [S(1, 'SYSCALL', '1700000000.000')];
    for (let i = 0; i < 20; i++) lines.push(S(100 + i, 'USER_ACCT', '1700000003.000'));
    const { out } = run(lines, {}, false);
    expect(out).toContain('1:SYSCALL');
    // Within the horizon nothing closes.
    const near = [S(1, 'SYSCALL', '1700000000.000')];
    for (let i = 0; i < 20; i++) near.push(S(100 + i, 'USER_ACCT', '1700000001.500'));
    expect(run(near, {}, false).out).not.toContain('1:SYSCALL');
  });

  it('lets a record that arrives a few lines late still join its event', () => {
    const { out } = run([
      S(60, 'SYSCALL', '1492037291.038'),
      S(61, 'SYSCALL', '1492037298.883'),
      S(60, 'PATH', '1492037291.038'),
    ]);
    expect(out).toEqual(['60:SYSCALL,PATH', '61:SYSCALL']);
  });

  it('emits late records of a closed event as a new partial event', () => {
    const lines = [S(1, 'SYSCALL', '1700000000.000')];
    for (let i = 0; i < 20; i++) lines.push(S(100 + i, 'USER_ACCT', '1700000009.000'));
    lines.push(S(1, 'PATH', '1700000000.000'));
    const { out } = run(lines);
    expect(out).toContain('1:SYSCALL');
    expect(out).toContain('1:PATH:P');
  });

  it('starts a normal event for kernel records sharing a user message stamp', () => {
    const { out } = run([S(7, 'SERVICE_START'), S(7, 'SYSCALL'), S(7, 'EOE')]);
    expect(out).toEqual(['7:SERVICE_START', '7:SYSCALL']);
  });

  it('idle flush: tick closes events untouched for horizonMs of wall time', () => {
    const re = createReassembler({ horizonMs: 1000 });
    const ev: AuditEvent[] = [];
    re.push(rec(S(1, 'SYSCALL')), ev);
    re.tick(10_000, ev);
    expect(ev).toHaveLength(0);
    re.tick(10_999, ev);
    expect(ev).toHaveLength(0);
    re.tick(11_000, ev);
    expect(ev.map((e) => e.serial)).toEqual([1]);
    // Idle time counts from the first tick after the last record: never early.
    re.push(rec(S(2, 'SYSCALL')), ev);
    re.tick(11_500, ev);
    re.tick(12_000, ev);
    re.push(rec(S(2, 'CWD')), ev);
    re.tick(12_400, ev);
    expect(ev).toHaveLength(1);
    re.tick(13_399, ev);
    expect(ev).toHaveLength(1);
    re.tick(13_400, ev);
    expect(ev.map((e) => e.serial)).toEqual([1, 2]);
    expect(ev[1]!.records.map((r) => r.type)).toEqual(['SYSCALL', 'CWD']);
  });

  it('evicts the oldest event when the in-flight table is full: partial, counted, never lost', () => {
    const { out } = run([S(1, 'SYSCALL'), S(2, 'SYSCALL'), S(3, 'SYSCALL'), S(2, 'CWD')], {
      maxInFlightEvents: 2,
    });
    expect(out).toEqual(['1:SYSCALL:P', '2:SYSCALL,CWD', '3:SYSCALL']);
    const re = createReassembler({ maxInFlightBytes: 100 });
    const ev: AuditEvent[] = [];
    for (let i = 0; i < 5; i++) re.push(rec(S(i, 'SYSCALL')), ev, S(i, 'SYSCALL'));
    re.flush(ev);
    expect(ev).toHaveLength(5);
    expect(re.stats().evicted).toBeGreaterThan(0);
    expect(re.stats().partial).toBe(re.stats().evicted);
    expect(ev.filter((e) => e.partial)).toHaveLength(re.stats().evicted);
  });

  it('flags later fragments of an evicted event partial, also once it left the closed-event memory', () => {
    // The CLI's cap (4096): event 0 is evicted first, then 513 more events are closed (more than the 512
    // closed keys remembered for re-delivery) before its PROCTITLE arrives.
    const t = '1700000400.000';
    const lines = [S(0, 'SYSCALL', t)];
    for (let i = 1; i <= 4609; i++) lines.push(S(i, 'AVC', t, `avc:  denied  { read } for pid=${i}`));
    lines.push(S(0, 'PROCTITLE', t));
    const { out, events } = run(lines);
    const zero = events.filter((e) => e.serial === 0);
    expect(zero.map((e) => `${e.records.map((r) => r.type).join(',')}:${e.partial}`)).toEqual([
      'SYSCALL:true',
      'PROCTITLE:true',
    ]);
    // 4611 events for 4096 places: 515 evicted, plus the PROCTITLE fragment.
    expect(out.filter((x) => x.endsWith(':P'))).toHaveLength(516);
    // Smaller caps remember as many evicted keys as the cap.
    const small = [S(0, 'SYSCALL', t)];
    for (let i = 1; i <= 1600; i++) small.push(S(i, 'AVC', t, `avc:  denied  { read } for pid=${i}`));
    small.push(S(0, 'CWD', t), S(0, 'EOE', t));
    const r = run(small, { maxInFlightEvents: 1000 });
    expect(r.out.filter((x) => x.startsWith('0:'))).toEqual(['0:SYSCALL:P', '0:CWD:P']);
  });

  it('formats time and epoch', () => {
    const { events } = run([S(1, 'SYSCALL', '1763800000.003')]);
    expect(events[0]).toMatchObject({ time: '2025-11-22T08:26:40.003Z', epoch: 1763800000.003, serial: 1 });
  });

  it('reports the oldest open line offset', () => {
    const re = createReassembler();
    const ev: AuditEvent[] = [];
    expect(re.oldestOffset()).toBe(Number.POSITIVE_INFINITY);
    re.push(rec(S(1, 'SYSCALL')), ev, 'a', 10);
    re.push(rec(S(2, 'SYSCALL')), ev, 'b', 20);
    expect(re.oldestOffset()).toBe(10);
    re.push(rec(S(1, 'EOE')), ev, 'c', 30);
    expect(re.oldestOffset()).toBe(20);
  });
});
