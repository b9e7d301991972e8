// The byte fast path (decoder `recordJson` + createNdjsonWriter) must write exactly the bytes of the full
// parser + eventToJson, with the same totals, on any input and any chunking.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createAuditDecoder, parseAuditText } from './decoder.ts';
import { eventToJson } from './event.ts';
import { JsonRecord } from './fast-record.ts';
import { createNdjsonWriter } from './ndjson.ts';

const CORPUS = fileURLToPath(new URL('../../../../shared/corpus/audit', import.meta.url));
const present = existsSync(join(CORPUS, 'MANIFEST.md'));

function chunksOf(data: Buffer, cuts: number[]): Buffer[] {
  const at = [...new Set(cuts.map((c) => c % (data.length + 1)))].sort((a, b) => a - b);
  const out: Buffer[] = [];
  let p = 0;
  for (const c of at) {
    out.push(data.subarray(p, c));
    p = c;
  }
  out.push(data.subarray(p));
  return out;
}

/** NDJSON and totals of the full parser (eventToJson) and of the fast path (writer), same chunks. */
function both(data: Buffer, cuts: number[] = []) {
  const chunks = chunksOf(data, cuts);
  const full = createAuditDecoder();
  let slow = '';
  for (const c of [...chunks, null]) {
    const r = c === null ? full.end() : full.write(c);
    for (const e of r.events) slow += `${eventToJson(e)}\n`;
  }
  const parts: Buffer[] = [];
  const fast = createAuditDecoder({ recordJson: true });
  const w = createNdjsonWriter((b) => parts.push(Buffer.from(b)), 4096);
  for (const c of [...chunks, null]) {
    // A reused input buffer, as `avcstream parse` reads a file: records must not point into it.
    const copy = c === null ? null : Buffer.from(c);
    const r = copy === null ? fast.end() : fast.write(copy);
    copy?.fill(0x7a);
    for (const e of r.events) w.event(e);
    w.flush();
  }
  const { jsonRecords, ...fastStats } = fast.stats();
  const { jsonRecords: none, ...slowStats } = full.stats();
  return { slow, fast: Buffer.concat(parts).toString('utf8'), slowStats, fastStats, jsonRecords, none };
}

function expectSame(text: string | Buffer, cuts: number[] = [], label = ''): number {
  return compare(text, cuts, label).jsonRecords;
}

function compare(text: string | Buffer, cuts: number[] = [], label = '') {
  const data = typeof text === 'string' ? Buffer.from(text, 'utf8') : text;
  const r = both(data, cuts);
  expect(r.fast, label).toBe(r.slow);
  expect(r.fastStats, label).toEqual(r.slowStats);
  expect(r.none).toBe(0);
  return { jsonRecords: r.jsonRecords, records: r.slowStats.records };
}

const SYSCALL_EVENT = [
  'type=SYSCALL msg=audit(1763800000.001:1001): arch=c000003e syscall=59 success=yes exit=0 a0=b8829f a1=6d010770 a2=1fd a3=0 items=2 ppid=136582 pid=3873522 auid=4294967295 uid=1002 gid=1002 euid=1002 suid=1002 fsuid=1002 egid=1002 sgid=1002 fsgid=1002 tty=pts4 ses=4294967295 comm="sshd" exe="/usr/sbin/sshd" subj=system_u:system_r:sshd_t:s0-s0:c0.c1023 key=(null)',
  'type=EXECVE msg=audit(1763800000.001:1001): argc=3 a0="ls" a1=2D6C61 a2="/tmp"',
  'type=CWD msg=audit(1763800000.001:1001): cwd="/root"',
  'type=PATH msg=audit(1763800000.001:1001): item=0 name="/usr/bin/ls" inode=4037507 dev=fd:00 mode=0100755 ouid=0 ogid=0 rdev=00:00 obj=system_u:object_r:bin_t:s0 nametype=NORMAL cap_fp=0 cap_fi=0 cap_fe=0 cap_fver=0 cap_frootid=0',
  'type=PROCTITLE msg=audit(1763800000.001:1001): proctitle=6C73002D6C61002F746D70',
];

describe('byte fast path (recordJson)', () => {
  it('writes the bytes of the full parser for a syscall event, and takes the fast path for it', () => {
    const n = expectSame(`${SYSCALL_EVENT.join('\n')}\n`);
    expect(n).toBe(SYSCALL_EVENT.length);
  });

  it('is the same on the edge cases of values, keys and headers', () => {
    const lines = [
      // hex values: printable, with quotes and backslashes, control bytes, NUL (argv), invalid UTF-8, odd length
      'type=CWD msg=audit(1.001:2): cwd=2F746D702F2261625C63',
      'type=PATH msg=audit(1.001:3): item=0 name=2F746D700A6E6577 nametype=CREATE',
      'type=PATH msg=audit(1.001:4): item=0 name=2FE9 nametype=CREATE',
      'type=PATH msg=audit(1.001:5): item=0 name=2F746D70C3A9 nametype=CREATE',
      'type=PATH msg=audit(1.001:6): item=0 name=ABC nametype=CREATE',
      'type=PROCTITLE msg=audit(1.001:7): proctitle=626173680000',
      'type=PROCTITLE msg=audit(1.001:8): proctitle=""',
      'type=PROCTITLE msg=audit(1.001:97): proctitle=0000',
      'type=PROCTITLE msg=audit(1.001:98): proctitle=00610000225C62',
      'type=PROCTITLE msg=audit(1.001:99): proctitle=610001',
      'type=PATH msg=audit(1.001:100): item=0 name=2F0061 nametype=CREATE',
      'type=PROCTITLE msg=audit(1.001:9): proctitle=',
      'type=PROCTITLE msg=audit(1.001:10): proctitle="bash -i"',
      // quotes and backslashes as written; an unclosed quote; a quote glued to the next key
      'type=CWD msg=audit(1.001:11): cwd="/a\\b" x=a"b\\c',
      'type=CWD msg=audit(1.001:12): cwd="/never closed',
      'type=CWD msg=audit(1.001:13): cwd="/a"x=1',
      // repeated keys, keys the full parser treats apart, bare words, odd key characters
      'type=CWD msg=audit(1.001:14): cwd="/a" cwd="/b"',
      'type=CWD msg=audit(1.001:15): type=x msg=audit(1.001:16): cwd="/glued"',
      'node=h1 type=CWD msg=audit(1.001:17): node=h2 type=CWD msg=audit(1.001:17): cwd="/"',
      'type=CWD msg=audit(1.001:18): __proto__=1 cwd="/"',
      'type=CWD msg=audit(1.001:19): old auid=1 new auid=2',
      'type=CWD msg=audit(1.001:20): 0=a 1=b cwd="/"',
      'type=CWD msg=audit(1.001:21): k[0]=a (x=1) =v a.b-c_d=1',
      // interpretations: unset ids, success, exit, arch after syscall, no arch, capabilities, mode, sockaddr
      'type=SYSCALL msg=audit(1.001:22): syscall=2 arch=c000003e success=no exit=-13 auid=-1 uid=0',
      'type=SYSCALL msg=audit(1.001:23): syscall=2 success=maybe exit=-99999 ses=4294967295',
      'type=SYSCALL msg=audit(1.001:24): arch=40000003 syscall=5 exit=ENOENT',
      'type=SYSCALL msg=audit(1.001:25): arch=c00000b7 syscall=0056 exit=-2',
      'type=BPRM_FCAPS msg=audit(1.001:26): fver=2 fp=0000000000200000 fi=0 fe=1 old_pp=000001ffffffffff old_pi=0 pp=0000000000200000',
      'type=CAPSET msg=audit(1.001:27): pid=1 cap_pi=0 cap_pp=0000000000003000 cap_pe=zz',
      'type=PATH msg=audit(1.001:28): item=0 mode=040755 ouid=4294967295 ogid=-1',
      'type=PATH msg=audit(1.001:29): item=0 mode=banana',
      'type=SOCKADDR msg=audit(1.001:30): saddr=02000050C0A80001000000000000000000',
      'type=SOCKADDR msg=audit(1.001:31): saddr=0100746D702F736F636B00',
      'type=SOCKADDR msg=audit(1.001:32): saddr=0A001F90000000000000000000000000000000010000000000000000000000000000000000000000000000000000000000',
      'type=CONFIG_CHANGE msg=audit(1.001:33): op=add_rule key=6B31016B32 list=4 res=1',
      'type=CONFIG_CHANGE msg=audit(1.001:34): op=add_rule key="plain" list=4 res=1',
      'type=AVC msg=audit(1.001:35): avc:  denied  { read } for  pid=1 comm="x" scontext=u:r:a_t:s0 tcontext=u:r:b_t:s0 tclass=file permissive=0',
      'type=1400 msg=audit(1.001:36): avc:  denied  { read } for  pid=1 comm="x" scontext=u:r:a_t:s0 tcontext=u:r:b_t:s0 tclass=file permissive=0',
      'type=1300 msg=audit(1.001:37): arch=c000003e syscall=59',
      // AVC bodies: granted, no permissive, odd permissive, hex key (an IPC key, not decoded), contexts
      // with two parts, an empty type, a trailing colon, quoted contexts, odd braces, repeated fields
      'type=AVC msg=audit(1.001:80): avc:  granted  { setenforce } for  pid=1 comm="x" scontext=u:r:a_t:s0-s0:c0.c1023 tcontext=u:object_r:b_t:s0 tclass=security',
      'type=AVC msg=audit(1.001:81): avc:  denied  {  read   write  } for  pid=1 key=6B6579 scontext=u:r:a_t tcontext=u:r:b_t:s0: tclass=file permissive=2',
      'type=AVC msg=audit(1.001:82): avc:  denied  { read } for  pid=1 scontext=u:r tcontext=u:r:b_t:s0 tclass=file',
      'type=AVC msg=audit(1.001:83): avc:  denied  { read } for  pid=1 scontext=u:r::s0 tcontext=u:r:b_t:s0 tclass=file',
      'type=AVC msg=audit(1.001:84): avc:  denied  { read } for  pid=1 scontext=":r:a_t:s0" tcontext="u:r:b t:s0" tclass="fi le"',
      'type=AVC msg=audit(1.001:85): avc:  denied  { read } for  pid=1 scontext=u:r:a_t:s0 tclass=file',
      'type=AVC msg=audit(1.001:86): avc:  denied  { read for  pid=1 scontext=u:r:a_t:s0 tcontext=u:r:b_t:s0 tclass=file',
      'type=AVC msg=audit(1.001:87): avc:  denied  read } for  pid=1 scontext=u:r:a_t:s0 tcontext=u:r:b_t:s0 tclass=file',
      'type=AVC msg=audit(1.001:88): avc:  refused  { read } for  pid=1 scontext=u:r:a_t:s0 tcontext=u:r:b_t:s0 tclass=file',
      'type=AVC msg=audit(1.001:89): avc:  denied  { read } pid=1 scontext=u:r:a_t:s0 tcontext=u:r:b_t:s0 tclass=file',
      'type=AVC msg=audit(1.001:90): avc:  denied  { read } for  seresult=x scontext=u:r:a_t:s0 tcontext=u:r:b_t:s0 tclass=file',
      'type=AVC msg=audit(1.001:91): avc:  denied  { read } for  scontext=u:r:a_t:s0 scontext=u:r:c_t:s0 tcontext=u:r:b_t:s0 tclass=file',
      'type=AVC msg=audit(1.001:92): avc:  denied  { } for  scontext=u:r:a_t:s0 tcontext=u:r:b_t:s0 tclass=file',
      'type=AVC msg=audit(1.001:93): avc:  denied  { ioctl } for  pid=1 path=2F746D702F78 ioctlcmd=0x5401 capability=21 saddr=10.0.0.1 scontext=u:r:a_t:s0 tcontext=u:r:b_t:s0 tclass=chr_file permissive=1',
      'type=AVC msg=audit(1.001:94): avc:  denied  { read } for',
      'type=AVC msg=audit(1.001:95): apparmor="DENIED" operation="open" profile="/usr/sbin/x" name="/etc/y"',
      'type=AVC msg=audit(1.001:96): seresult=denied seperms=read scontext=u:r:a_t:s0 tcontext=u:r:b_t:s0 tclass=file',
      'type=UNKNOWN[1420] msg=audit(1.001:38): x=1',
      'type=USER_TTY msg=audit(1.001:39): pid=1 msg=6C730D',
      // EXECVE: split arguments, missing arguments, argc not a number, arguments out of order, continuation
      'type=EXECVE msg=audit(2.001:40): argc=2 a0="a"',
      'type=EXECVE msg=audit(2.001:41): argc=x a0="a"',
      'type=EXECVE msg=audit(2.001:42): argc=1 a0="a" a1="b"',
      'type=EXECVE msg=audit(2.001:43): argc=2 a1="b" a0="a"',
      'type=EXECVE msg=audit(2.001:44): argc=3 a0="a" a1_len=6 a1[0]=616263 a1[1]=646566',
      'type=EXECVE msg=audit(2.001:44): a2="c"',
      'type=EXECVE msg=audit(2.001:45): argc=4 a0="echo" a1="b"',
      'type=EXECVE msg=audit(2.001:45): a2="c" a3=6464',
      'type=EXECVE msg=audit(2.001:46): argc=0',
      'type=EXECVE msg=audit(2.001:47):',
      // user-space records: msg='...' fields, an old USER_LOGIN, no fields in msg, nested quotes
      'type=USER_START msg=audit(3.001:48): pid=1 uid=0 auid=1000 ses=2 subj=u:r:t:s0 msg=\'op=PAM:session_open grantors=pam_unix acct="root" exe="/usr/bin/sudo" hostname=? addr=? terminal=/dev/pts/0 res=success\'',
      'type=USER_LOGIN msg=audit(3.001:49): user pid=1 uid=0 auid=4294967295 msg=\'uid=848: exe="/bin/login" (hostname=?, addr=?, terminal=tty1 res=failed)\'',
      'type=USER_CMD msg=audit(3.001:50): pid=1 uid=0 msg=\'cwd="/" cmd=6C73202D6C exe="/usr/bin/sudo" res=success\'',
      "type=USER_AUTH msg=audit(3.001:51): pid=1 msg='just text'",
      "type=USER_ACCT msg=audit(3.001:52): pid=1 msg='op=x acct='root' res=success'",
      "type=USER_ACCT msg=audit(3.001:53): pid=1 msg='op=x uid=1 res=success' uid=2",
      "type=USER_ACCT msg=audit(3.001:54): pid=1 msg='op=x' tail=1",
      "type=USER_ACCT msg=audit(3.001:55): pid=1 msg='op=x type=y res=1'",
      'type=USER_AVC msg=audit(3.001:56): pid=1 uid=0 msg=\'avc:  denied  { status } for auid=0 uid=0 gid=0 cmdline="" scontext=u:r:a_t:s0 tcontext=u:r:b_t:s0 tclass=system exe="/usr/bin/x" sauid=0 hostname=? addr=? terminal=?\'',
      // headers: spaces, CR, tabs, stamps, ENRICHED, non-ASCII, syslog, ausearch -i, comments
      'type=CWD  msg=audit(4.001:57):   cwd="/"   ',
      'type=CWD msg=audit(4.001:58): cwd="/"\r',
      'type=CWD msg=audit(4.001:59): cwd="/"\tx=1',
      '\ttype=CWD msg=audit(4.001:60): cwd="/"',
      'type=CWD msg=audit(4.1:61): cwd="/"',
      'type=CWD msg=audit(4.0001:62): cwd="/"',
      'type=CWD msg=audit(123456789012.001:63): cwd="/"',
      'type=CWD msg=audit(1234567890123.001:64): cwd="/"',
      'type=CWD msg=audit(4.001:4294967295): cwd="/"',
      'type=CWD msg=audit(4.001:12345678901): cwd="/"',
      'type=CWD msg=audit(4.001:65) cwd="/"',
      'type=CWD msg=audit(4.001:66):cwd="/"',
      'type=SYSCALL msg=audit(4.001:67): arch=c000003e syscall=59 auid=1000\u001dARCH=x86_64 SYSCALL=execve AUID="alice"',
      'type=CWD msg=audit(4.001:68): cwd="/caf\u00e9"',
      'node=caf\u00e9 type=CWD msg=audit(4.001:69): cwd="/"',
      'node= type=CWD msg=audit(4.001:70): cwd="/"',
      'node=h3  type=CWD msg=audit(4.001:71): cwd="/"',
      'host=h4 type=CWD msg=audit(4.001:72): cwd="/"',
      'node=h5 type=CWD',
      'type= msg=audit(4.001:73): x=1',
      'type=CWD msg=audit(01/02/2025 10:00:00.001:74) : cwd=/',
      'Jan 14 19:10:04 host kernel: audit(1105758604.519:420): avc:  denied  { getattr } for  pid=1 comm="httpd" path="/home/x" dev=dm-0 ino=1 scontext=u:r:httpd_t tcontext=u:r:user_home_t tclass=dir',
      '# comment',
      '----',
      'time->Mon Jan  1 00:00:00 2025',
      '',
      'garbage line',
      'type=EOE msg=audit(1.001:1001): ',
      'type=CWD msg=audit(1.001:1001): cwd="/late"',
    ];
    const text = `${lines.join('\n')}\n${SYSCALL_EVENT.join('\n')}`;
    const n = expectSame(text, [], 'whole');
    expect(n).toBeGreaterThan(40);
    expectSame(`${text}\n`, [1, 100, 2000, 2001, 4095, 9000], 'chunked');
    // One line at a time, each with the whole syscall event around it (shapes predicted and missed).
    for (const l of lines) expectSame(`${SYSCALL_EVENT.join('\n')}\n${l}\n${l}\n`, [], l);
  });

  it('leaves long names and very wide records to the full parser (it remembers keys, types and nodes)', () => {
    const long = 'k'.repeat(200);
    const wide = Array.from({ length: 600 }, (_, i) => `f${i}=${i}`).join(' ');
    const lines = [
      `type=CWD msg=audit(7.001:1): ${long}=1`,
      `type=${'T'.repeat(100)} msg=audit(7.001:2): x=1`,
      `node=${'h'.repeat(300)} type=CWD msg=audit(7.001:3): cwd="/"`,
      `type=CWD msg=audit(7.001:4): ${wide}`,
    ];
    expect(expectSame(`${lines.join('\n')}\n`)).toBe(0);
    expect(expectSame('type=CWD msg=audit(7.001:5): cwd="/" k=1\n')).toBe(1);
  });

  it('makes full records: fields and interpreted read back as the full parser gives them', () => {
    const text = `${SYSCALL_EVENT.join('\n')}\n`;
    const full = parseAuditText(text).events;
    const d = createAuditDecoder({ recordJson: true });
    const fast = [...d.write(text).events, ...d.end().events];
    expect(fast[0]!.records.every((r) => r instanceof JsonRecord)).toBe(true);
    expect(fast.map((e) => e.records.map((r) => [r.type, r.fields, r.interpreted, r.line]))).toEqual(
      full.map((e) => e.records.map((r) => [r.type, r.fields, r.interpreted, r.line])),
    );
  });

  it('joins EXECVE continuations of fast-path records as the full parser does', () => {
    const text = [
      'type=SYSCALL msg=audit(5.001:1): arch=c000003e syscall=59 success=yes exit=0',
      'type=EXECVE msg=audit(5.001:1): argc=4 a0="echo" a1="b"',
      'type=EXECVE msg=audit(5.001:1): a2="c" a3=6464',
      'type=PROCTITLE msg=audit(5.001:1): proctitle="echo"',
      '',
    ].join('\n');
    expectSame(text);
    const d = createAuditDecoder({ recordJson: true });
    const ev = [...d.write(text).events, ...d.end().events][0]!;
    expect(ev.records.map((r) => r.type)).toEqual(['SYSCALL', 'EXECVE', 'PROCTITLE']);
    expect(ev.records[1]!.interpreted.argv).toEqual(['echo', 'b', 'c', 'dd']);
  });

  it('keeps open records valid when the arena of their write is gone, and bounds what it remembers', () => {
    // Events left open across many writes (interleaved serials closed only by the horizon or the end).
    const lines: string[] = [];
    for (let i = 0; i < 3000; i++) {
      lines.push(
        `type=CWD msg=audit(6.${String(i % 1000).padStart(3, '0')}:${i}): cwd="/${i}" k${i % 5000}=1`,
      );
      lines.push(`node=n${i % 40} type=USER_X${i % 300} msg=audit(6.001:${i}): u${i}=1`);
    }
    expectSame(
      `${lines.join('\n')}\n`,
      Array.from({ length: 200 }, (_, i) => i * 997),
    );
  });

  it('does not let a record left open pin the bytes of other events detached in the same write', () => {
    // Write i leaves two events open: a small CWD event (no closing record; the horizon never passes) and
    // a large SYSCALL event that the next write closes. Each small record must not keep the large
    // record's detached bytes alive (else N small open events pin N large records: far past
    // maxInFlightBytes, while the full parser keeps only the small records).
    const big = '00'.repeat(40_000);
    const chunks: string[] = [];
    for (let i = 0; i < 4; i++) {
      chunks.push(
        `${i > 0 ? `type=PROCTITLE msg=audit(1.001:${1000 + i - 1}): proctitle=6C73\n` : ''}` +
          `type=CWD msg=audit(1.001:${i}): cwd="/"\n` +
          `type=SYSCALL msg=audit(1.001:${1000 + i}): arch=c000003e syscall=59 comm=${big}\n`,
      );
    }
    const text = chunks.join('');
    let at = 0;
    const cuts = chunks.map((c) => (at += c.length));
    expectSame(text, cuts);
    const d = createAuditDecoder({ recordJson: true });
    const events = [...chunks.flatMap((c) => d.write(c).events), ...d.end().events];
    const cwd = events.flatMap((e) => e.records).filter((r) => r.type === 'CWD');
    expect(cwd).toHaveLength(4);
    for (const r of cwd) {
      expect(r).toBeInstanceOf(JsonRecord);
      const j = r as JsonRecord;
      expect(j.buf.length).toBeLessThan(4096);
    }
  });

  it('writes event headers as eventToJson does, epoch included, for any time', () => {
    const parts: Buffer[] = [];
    const w = createNdjsonWriter((b) => parts.push(Buffer.from(b)), 4096);
    const want: string[] = [];
    fc.assert(
      fc.property(
        fc.oneof(
          fc
            .tuple(fc.integer({ min: 0, max: 999_999_999_999 }), fc.integer({ min: 0, max: 999 }))
            .map(([sec, ms]) => (sec * 1000 + ms) / 1000),
          fc.double(),
        ),
        fc.option(fc.string(), { nil: null }),
        fc.oneof(fc.nat(), fc.double(), fc.constant(2 ** 53 + 2)),
        fc.oneof(fc.constant('2025-11-22T08:26:40.001Z'), fc.string()),
        fc.boolean(),
        (epoch, node, serial, time, partial) => {
          const ev = { node, time, epoch, serial, records: [], partial };
          w.event(ev);
          want.push(`${eventToJson(ev)}\n`);
        },
      ),
      { numRuns: 2000 },
    );
    w.flush();
    expect(Buffer.concat(parts).toString('utf8')).toBe(want.join(''));
  });

  it('is the same on random lines built from audit-like pieces, in any chunking', () => {
    const key = fc.constantFrom(
      'arch',
      'syscall',
      'exit',
      'success',
      'auid',
      'uid',
      'ses',
      'mode',
      'name',
      'cwd',
      'proctitle',
      'comm',
      'key',
      'saddr',
      'cap_fp',
      'argc',
      'a0',
      'a1',
      'a1_len',
      'msg',
      'x',
      'type',
      'item',
      'scontext',
      'tcontext',
      'tclass',
      'permissive',
    );
    const value = fc.oneof(
      fc.stringMatching(/^[ -~]{0,10}$/),
      fc.stringMatching(/^[0-9A-Fa-f]{0,16}$/),
      fc.constantFrom(
        'c000003e',
        '59',
        '-2',
        'yes',
        'no',
        '4294967295',
        '-1',
        '0100644',
        '0',
        '"q"',
        "'op=x a=1'",
        '6C73002D6C',
        'E9',
        '0A',
        'u:r:a_t:s0',
        'u:r:b_t:s0-s0:c0.c1023',
        'u:r',
        'file',
        '1',
      ),
    );
    const field = fc.tuple(key, value).map(([k, v]) => `${k}=${v}`);
    const type = fc.constantFrom(
      'SYSCALL',
      'EXECVE',
      'PATH',
      'CWD',
      'PROCTITLE',
      'SOCKADDR',
      'USER_START',
      'AVC',
      'EOE',
      'CONFIG_CHANGE',
      '1300',
    );
    const line = fc
      .tuple(
        fc.constantFrom('', 'node=a ', 'node=b '),
        type,
        fc.integer({ min: 0, max: 9 }),
        fc.integer({ min: 0, max: 999 }),
        fc.constantFrom(
          '',
          '',
          'avc:  denied  { read } for  ',
          'avc:  granted  { a  b } for ',
          'avc:  denied  { x }',
        ),
        fc.array(field, { maxLength: 8 }),
        fc.constantFrom(' ', '  ', '\r', ''),
      )
      .map(
        ([node, t, s, ms, avc, fs, tail]) =>
          `${node}type=${t} msg=audit(${s}.${ms}:${s}): ${avc}${fs.join(' ')}${tail}`,
      );
    fc.assert(
      fc.property(
        fc.array(line, { minLength: 1, maxLength: 12 }),
        fc.array(fc.nat(), { maxLength: 6 }),
        (ls, cuts) => {
          const r = both(Buffer.from(`${ls.join('\n')}\n`), cuts);
          expect(r.fast).toBe(r.slow);
          expect(r.fastStats).toEqual(r.slowStats);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('never throws on random bytes and writes what the full parser writes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 600 }), (bytes) => {
        const data = Buffer.concat([Buffer.from('type=CWD msg=audit(1.001:1): cwd='), Buffer.from(bytes)]);
        const r = both(data);
        expect(r.fast).toBe(r.slow);
        expect(r.fastStats).toEqual(r.slowStats);
      }),
      { numRuns: 300 },
    );
  });
});

function walk(dir: string): string[] {
  return readdirSync(dir).flatMap((f) => {
    const p = join(dir, f);
    return statSync(p).isDirectory() ? walk(p) : [p];
  });
}

if (!present) console.warn(`[fast path corpus test] SKIPPED: no corpus at ${CORPUS}`);

describe.runIf(present)('byte fast path on the audit corpus', () => {
  it('writes the bytes of the full parser on every corpus file', () => {
    const files = walk(CORPUS)
      .map((f) => relative(CORPUS, f))
      .filter((f) => !/\.(json|golden|md|csv|ref)$/.test(f))
      .sort();
    expect(files.length).toBeGreaterThan(150);
    let fast = 0;
    let records = 0;
    for (const f of files) {
      const r = compare(readFileSync(join(CORPUS, f)), [], f);
      fast += r.jsonRecords;
      records += r.records;
    }
    console.log(`[fast path corpus test] ${fast} of ${records} records took the fast path`);
    expect(fast).toBeGreaterThan(5000);
  });
});
