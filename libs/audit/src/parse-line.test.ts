import { describe, expect, it } from 'vitest';
import { parseContext } from './context.ts';
import { avcPortOf, ioctlCommandOf } from './event.ts';
import { parseLine, slashDateOrder } from './parse-line.ts';
import type { AuditRecord, ParseError } from './types.ts';

function one(line: string): AuditRecord {
  const r = parseLine(line, 1);
  if (!Array.isArray(r)) throw new Error(`expected records, got ${JSON.stringify(r)}`);
  expect(r).toHaveLength(1);
  return r[0]!;
}

function error(line: string): ParseError {
  const r = parseLine(line, 7);
  if (r === null || Array.isArray(r)) throw new Error(`expected a ParseError, got ${JSON.stringify(r)}`);
  return r;
}

describe('parseLine: header', () => {
  it('reads type, stamp and fields of a raw kernel record', () => {
    const r = one('type=CWD msg=audit(1170021493.977:293):  cwd="/var/spool/postfix"');
    expect(r).toMatchObject({ type: 'CWD', node: null, sec: 1170021493, msec: 977, serial: 293, line: 1 });
    expect(r.fields).toEqual({ cwd: '/var/spool/postfix' });
  });

  it('reads the node= prefix (and the old host= one)', () => {
    expect(one('node=work type=EOE msg=audit(1615114232.375:15558): ').node).toBe('work');
    expect(one('host=dhcppc2 type=EOE msg=audit(1.001:2): ').node).toBe('dhcppc2');
  });

  it('maps numeric types through the message dictionary and keeps UNKNOWN[n] as written', () => {
    expect(one('type=1400 msg=audit(1.001:2): x=1').type).toBe('AVC');
    expect(one('type=1300 msg=audit(1.001:2): x=1').type).toBe('SYSCALL');
    expect(one('type=UNKNOWN[1420] msg=audit(1.001:2): subj_apparmor=unconfined').type).toBe('UNKNOWN[1420]');
    expect(one('type=1999 msg=audit(1.001:2): x=1').type).toBe('UNKNOWN[1999]');
  });

  it('returns null for blank lines, # comments and ausearch separators', () => {
    expect(parseLine('', 1)).toBeNull();
    expect(parseLine('   \r', 1)).toBeNull();
    expect(parseLine('# a comment', 1)).toBeNull();
    expect(parseLine('----', 1)).toBeNull();
    expect(parseLine('time->Fri Aug  9 22:29:36 2019', 1)).toBeNull();
  });

  it('returns ParseError values with line, code and raw text', () => {
    expect(error('type=UNKNOWN[1329] msg=?')).toEqual({
      kind: 'parse-error',
      code: 'AVC_ERR_AUDIT_BAD_STAMP',
      line: 7,
      message: 'no msg=audit(SEC.MSEC:SERIAL) stamp',
      raw: 'type=UNKNOWN[1329] msg=?',
    });
    expect(error('hello world').code).toBe('AVC_ERR_AUDIT_NO_TYPE');
    expect(error('type=AVC msg=audit(12x.1:2): a=b').code).toBe('AVC_ERR_AUDIT_BAD_STAMP');
    expect(error('type=AVC msg=audit(1.1:2').code).toBe('AVC_ERR_AUDIT_BAD_STAMP');
    expect(error('node=x').code).toBe('AVC_ERR_AUDIT_NO_TYPE');
  });

  it('reads the local-time stamp of `ausearch -i` output and keeps its values as ausearch wrote them', () => {
    const r = one(
      'node=h1 type=AVC msg=audit(11/22/25 09:00:01.904:5403) : avc:  denied  { write } for  pid=1207 comm=ntpd name=cafe scontext=system_u:system_r:ntpd_t:s0 tcontext=system_u:object_r:var_log_t:s0 tclass=file permissive=1 ',
    );
    expect(r).toMatchObject({ type: 'AVC', node: 'h1', msec: 904, serial: 5403 });
    expect(r.sec).toBe(new Date(2025, 10, 22, 9, 0, 1).getTime() / 1000);
    expect(r.avc).toMatchObject({ decision: 'denied', perms: ['write'], tclass: 'file', permissive: true });
    // Values are already interpreted: `name=cafe` is the name "cafe", not hex, and nothing is re-interpreted.
    expect(r.fields).toMatchObject({ comm: 'ntpd', name: 'cafe' });
    expect(r.interpreted).toEqual({});
    const s = one(
      'type=SYSCALL msg=audit(11/22/25 09:00:01.904:5403) : arch=x86_64 syscall=openat exit=EACCES(Permission denied) uid=root',
    );
    expect(s.fields).toMatchObject({ arch: 'x86_64', syscall: 'openat', uid: 'root' });
    expect(s.interpreted).toEqual({});
  });

  it('in ausearch -i output, an audit value cannot plant the contexts or class of the denial, nor a record', () => {
    // ausearch -i prints decoded names bare, spaces included: a file named "x tcontext=... tclass=file"
    // shows as extra key=value pairs before the kernel's own, which the kernel writes after name/path/comm.
    const planted = one(
      'type=AVC msg=audit(11/22/25 09:00:01.904:42) : avc:  denied  { read } for  pid=100 comm=httpd name=x tcontext=system_u:object_r:shadow_t:s0 tclass=chr_file dev="dm-0" ino=5 scontext=system_u:system_r:httpd_t:s0 tcontext=system_u:object_r:var_t:s0 tclass=file permissive=0 ',
    );
    expect(planted.avc).toMatchObject({
      tclass: 'file',
      tcontext: { type: 'var_t' },
      scontext: { type: 'httpd_t' },
    });
    // A whole record inside a path is not a second record of the line.
    const r = parseLine(
      'type=AVC msg=audit(11/22/25 09:00:01.904:42) : avc:  denied  { getattr } for  pid=100 comm=httpd path=/a type=AVC msg=audit(11/22/25 09:00:01.904:43) : avc:  denied  { read write } for pid=1 scontext=system_u:system_r:httpd_t:s0 tcontext=system_u:object_r:shadow_t:s0 tclass=file dev="dm-0" ino=5 scontext=system_u:system_r:httpd_t:s0 tcontext=system_u:object_r:var_t:s0 tclass=file permissive=0 ',
      1,
    );
    if (!Array.isArray(r)) throw new Error('expected records');
    expect(r).toHaveLength(1);
    expect(r[0]?.avc).toMatchObject({ perms: ['getattr'], tcontext: { type: 'var_t' }, tclass: 'file' });
    // In the kernel's own format (values quoted or hex-encoded) two records glued on one line still split.
    const glued = parseLine(
      'type=CWD msg=audit(1.001:2): cwd="/" type=PATH msg=audit(1.001:2): item=0 name="/"',
      1,
    );
    expect(Array.isArray(glued) ? glued.map((x) => x.type) : glued).toEqual(['CWD', 'PATH']);
  });

  it('reads the day.month.year, year-month-day and four-digit-year forms of that stamp', () => {
    const want = new Date(2025, 10, 22, 23, 59, 58).getTime() / 1000;
    for (const d of ['11/22/2025', '22.11.2025', '22.11.25', '2025-11-22']) {
      const r = one(`type=CWD msg=audit(${d} 23:59:58.007:9) : cwd=/`);
      expect([r.sec, r.msec, r.serial, r.fields.cwd]).toEqual([want, 7, 9, '/']);
    }
    expect(one('type=CWD msg=audit(01/02/70 00:00:00.000:1) : cwd=/').sec).toBe(
      new Date(1970, 0, 2).getTime() / 1000,
    );
  });

  it("reads ausearch -i stamps in other locales' %x forms; DD/MM/YY only when told the day comes first", () => {
    const want = new Date(2006, 11, 13, 9, 5, 7).getTime() / 1000;
    const stamp = (d: string, opts?: Parameters<typeof parseLine>[2]) => {
      const r = parseLine(`type=CWD msg=audit(${d} 09:05:07.100:9) : cwd=/`, 1, opts);
      return Array.isArray(r) ? r[0]?.sec : r;
    };
    // en_GB, fr_FR, es_ES... (day first), nl_NL (dashes), ja_JP and zh_CN (年月日), ko_KR (with spaces).
    for (const d of ['13/12/06', '13/12/2006']) expect(stamp(d, { slashDates: 'dmy' })).toBe(want);
    for (const d of ['13-12-06', '2006年12月13日', '2006년 12월 13일', '2006/12/13', '13.12.2006']) {
      expect(stamp(d)).toBe(want);
    }
    // The C locale's MM/DD/YY is the default; a day first where a month must be is not silently swapped.
    expect(stamp('12/13/06')).toBe(want);
    expect(stamp('13/12/06')).toMatchObject({ code: 'AVC_ERR_AUDIT_BAD_STAMP' });
    expect(stamp('12/13/06', { slashDates: 'dmy' })).toMatchObject({ code: 'AVC_ERR_AUDIT_BAD_STAMP' });
    // th_TH writes Buddhist-era years (2549 = 2006).
    expect(stamp('13/12/2549', { slashDates: 'dmy' })).toBe(want);
  });

  it('slashDateOrder reads the day/month order of the locale ausearch ran in (LC_ALL, LC_TIME, LANG)', () => {
    expect(slashDateOrder({})).toBe('mdy');
    expect(slashDateOrder({ LANG: 'C.UTF-8' })).toBe('mdy');
    expect(slashDateOrder({ LANG: 'en_US.UTF-8' })).toBe('mdy');
    expect(slashDateOrder({ LANG: 'en_GB.UTF-8' })).toBe('dmy');
    expect(slashDateOrder({ LANG: 'en_US.UTF-8', LC_TIME: 'fr_FR.UTF-8' })).toBe('dmy');
    expect(slashDateOrder({ LANG: 'fr_FR.UTF-8', LC_ALL: 'POSIX' })).toBe('mdy');
    expect(slashDateOrder({ LANG: 'not a locale!' })).toBe('mdy');
  });

  it('rejects a local-time stamp with an impossible date or a malformed time', () => {
    for (const d of [
      '13/22/25 09:00:01.904:1',
      '11/31/25 09:00:01.904:1',
      '11/22/25 24:00:01.904:1',
      '11/22/25 9:00:01.904:1',
      '11/22/25 09:00:01:1',
      '11/22 09:00:01.904:1',
      '11/22/25 09:00:01.904:1 :',
    ]) {
      expect(error(`type=CWD msg=audit(${d}) : cwd=/`).code, d).toBe('AVC_ERR_AUDIT_BAD_STAMP');
    }
  });

  it('strips CR of CRLF files', () => {
    expect(one('type=CWD msg=audit(1.001:2): cwd="/"\r').fields).toEqual({ cwd: '/' });
  });
});

describe('parseLine: fields and encodings', () => {
  it('decodes hex only for fields the dictionary marks as encoded', () => {
    const r = one(
      'type=SYSCALL msg=audit(1.001:2): arch=c000003e a0=41 comm=6C73 exe=2F62696E2F6C73 dest=5432 key=(null) proctitle=6C73002D6C',
    );
    expect(r.fields).toEqual({
      arch: 'c000003e',
      a0: '41',
      comm: 'ls',
      exe: '/bin/ls',
      dest: '5432',
      key: '(null)',
      proctitle: 'ls\u0000-l',
    });
  });

  it('decodes the hex msg= of a USER_TTY record (its keystrokes, as auparse does), not msg= elsewhere', () => {
    expect(one('type=USER_TTY msg=audit(1.001:2): pid=1 uid=0 auid=1000 ses=3 msg=6C730D').fields.msg).toBe(
      'ls\r',
    );
    expect(one('type=USER_TTY msg=audit(1.001:2): pid=1 uid=0 auid=1000 ses=3 msg="ls"').fields.msg).toBe(
      'ls',
    );
    expect(one('type=DAEMON_END msg=audit(1.001:2): msg=6C73').fields.msg).toBe('6C73');
  });
  it('keeps quoted encoded values as text and saddr as hex', () => {
    const r = one('type=SOCKADDR msg=audit(1.001:2): saddr=02000050A9FEA9FE0000000000000000 name="6C73"');
    expect(r.fields).toEqual({ saddr: '02000050A9FEA9FE0000000000000000', name: '6C73' });
  });

  it('keeps hex whose bytes are not valid UTF-8 as written (lossless: no U+FFFD)', () => {
    const a = one('type=PATH msg=audit(1.001:2): item=0 name=2F746D702F41E9 nametype=NORMAL');
    const b = one('type=PATH msg=audit(1.001:2): item=1 name=2F746D702F41FF nametype=NORMAL');
    expect([a.fields.name, b.fields.name]).toEqual(['2F746D702F41E9', '2F746D702F41FF']);
    // Valid UTF-8 is decoded, a U+FFFD written by the process included.
    expect(one('type=CWD msg=audit(1.001:2): cwd=2F74C3A9EFBFBD').fields.cwd).toBe('/té\uFFFD');
    // A cut-off UTF-8 sequence is not valid either.
    expect(one('type=CWD msg=audit(1.001:2): cwd=2F74C3').fields.cwd).toBe('2F74C3');
    const p = one('type=PROCTITLE msg=audit(1.001:2): proctitle=636174002F746D702F41E9');
    expect(p.fields.proctitle).toBe('636174002F746D702F41E9');
    const e = one('type=EXECVE msg=audit(1.001:2): argc=3 a0="cat" a1=2F41E9 a2_len=6 a2[0]=2F41 a2[1]=FF');
    expect(e.fields).toMatchObject({ a0: 'cat', a1: '2F41E9', a2: '2F41FF' });
    expect(e.interpreted.argv).toEqual(['cat', '2F41E9', '2F41FF']);
  });

  it('merges EXECVE aN[k] pieces and decodes hex arguments', () => {
    const r = one(
      'type=EXECVE msg=audit(1.001:2): argc=3 a0="ls" a1_len=8 a1[0]=41424344 a1[1]=45464748 a2=6563686F20616263',
    );
    expect(r.fields).toEqual({ argc: '3', a0: 'ls', a1_len: '8', a1: 'ABCDEFGH', a2: 'echo abc' });
    const q = one('type=EXECVE msg=audit(1.001:2): argc=2 a0="x" a1_len=4 a1[0]="ab" a1[1]="cd"');
    expect(q.fields.a1).toBe('abcd');
  });

  it('keeps an even-length aN_len as the decimal it is (never hex-decoded) and joins the argument', () => {
    // The kernel's a1_len is the argument's length in bytes (10). `10` also reads as hex, but aN_len
    // is not an argument, so it is never decoded.
    const r = one(
      'type=EXECVE msg=audit(1.001:2): argc=3 a0="ls" a1_len=10 a1[0]=4142434445 a1[1]=4641424344 a2="x"',
    );
    expect(r.fields).toEqual({ argc: '3', a0: 'ls', a1_len: '10', a1: 'ABCDEFABCD', a2: 'x' });
    expect(r.interpreted.argv).toEqual(['ls', 'ABCDEFABCD', 'x']);
  });

  it('a stray 0x1d inside the raw fields does not start the ENRICHED tail (only 0x1d before an uppercase key)', () => {
    const r = one(
      'type=AVC msg=audit(1700000700.000:70): avc:  denied  { read } for pid=1 comm="a"\x1d scontext=u:r:t:s0 tcontext=u:r:t:s0 tclass=file permissive=0',
    );
    expect(r.fields).toMatchObject({ comm: 'a', scontext: 'u:r:t:s0', tclass: 'file', permissive: '0' });
    expect(r.avc).toMatchObject({ decision: 'denied', tclass: 'file', permissive: false });
    expect(Object.keys(r.interpreted).filter((k) => k === 'scontext' || k === 'tclass')).toEqual([]);
    const q = one('type=CWD msg=audit(1.001:2): cwd="/"\x1dx=1 y=2\x1dCWD="/"');
    expect(q.fields).toEqual({ cwd: '/', x: '1', y: '2' });
    expect(q.interpreted).toMatchObject({ CWD: '/' });
  });

  it('keeps ENRICHED raw fields in fields and the uppercase ones in interpreted', () => {
    const r = one(
      'node=work type=SYSCALL msg=audit(1615114232.375:15558): arch=c000003e syscall=59 auid=1000 key=(null)\x1dARCH=x86_64 SYSCALL=execve AUID="user"',
    );
    expect(r.fields).toEqual({ arch: 'c000003e', syscall: '59', auid: '1000', key: '(null)' });
    expect(r.interpreted).toMatchObject({ ARCH: 'x86_64', SYSCALL: 'execve', AUID: 'user' });
  });

  it('keeps a SADDR={ ... } enriched value whole', () => {
    const r = one(
      'type=SOCKADDR msg=audit(1.001:2): saddr=0100\x1dSADDR={ saddr_fam=local sun_path=/run/x }',
    );
    expect(r.interpreted.SADDR).toBe('{ saddr_fam=local sun_path=/run/x }');
  });

  it('merges the nested msg= fields of user-space records, outer values first', () => {
    const r = one(
      'type=USER_ACCT msg=audit(1615113648.981:15220): pid=9460 uid=1000 auid=1000 ses=1 msg=\'op=PAM:accounting grantors=pam_permit acct="user" exe="/usr/bin/sudo" hostname=? addr=? terminal=/dev/pts/1 res=success\'\x1dUID="user" AUID="user"',
    );
    expect(r.fields).toEqual({
      pid: '9460',
      uid: '1000',
      auid: '1000',
      ses: '1',
      op: 'PAM:accounting',
      grantors: 'pam_permit',
      acct: 'user',
      exe: '/usr/bin/sudo',
      hostname: '?',
      addr: '?',
      terminal: '/dev/pts/1',
      res: 'success',
    });
    expect(r.interpreted).toMatchObject({ UID: 'user', AUID: 'user' });
  });

  it('keeps repeated keys as key#2 and maps the old LOGIN format to old-auid', () => {
    const r = one(
      'type=USER_LOGIN msg=audit(1143146623.879:146): user pid=2027 uid=0 auid=848 msg=\'uid=848: exe="/bin/login" (hostname=?, addr=?, terminal=tty3 res=success)\'',
    );
    expect(r.fields.uid).toBe('0');
    expect(r.fields['uid#2']).toBe('848');
    expect(r.fields.exe).toBe('/bin/login');
    const l = one(
      'type=LOGIN msg=audit(1143146623.787:142): login pid=2027 uid=0 old auid=4294967295 new auid=848',
    );
    expect(l.fields).toEqual({ pid: '2027', uid: '0', 'old-auid': '4294967295', auid: '848' });
  });

  it('skips value interpretation when asked to (counting), keeping ENRICHED fields', () => {
    const line = 'type=SYSCALL msg=audit(1.001:2): arch=c000003e syscall=59 success=yes\x1dARCH=x86_64';
    const r = parseLine(line, 1, { interpret: false });
    if (!Array.isArray(r)) throw new Error('expected records');
    expect(r[0]!.interpreted).toEqual({ ARCH: 'x86_64' });
    expect(one(line).interpreted).toMatchObject({
      arch: 'x86_64',
      syscall: 'execve',
      success: true,
      ARCH: 'x86_64',
    });
  });

  it('keeps every node name exactly, however many hosts take turns (names are shared, not sliced)', () => {
    const hosts = Array.from({ length: 40 }, (_, i) => `host-${i}.example.com${'x'.repeat(i % 3)}`);
    for (const round of [0, 1]) {
      hosts.forEach((h, i) => {
        const r = parseLine(`node=${h} type=CWD msg=audit(1.00${round}:${i}): cwd="/"`, 1);
        if (!Array.isArray(r)) throw new Error('expected records');
        expect(r[0]!.node).toBe(h);
      });
    }
    const glued = parseLine(
      'node=a1 type=PATH msg=audit(1.001:2): item=0 type=CWD msg=audit(1.001:2): cwd="/"',
      1,
    );
    if (!Array.isArray(glued)) throw new Error('expected records');
    expect(glued.map((x) => x.node)).toEqual(['a1', 'a1']);
  });

  it('parses headers only when asked to (counting); glued records still split; AVC bodies still parse', () => {
    const r = parseLine('node=h type=SYSCALL msg=audit(1.001:2): arch=c000003e syscall=2 pid=1', 4, {
      headersOnly: true,
    });
    if (!Array.isArray(r)) throw new Error('expected records');
    expect(r).toEqual([
      { type: 'SYSCALL', node: 'h', sec: 1, msec: 1, serial: 2, fields: {}, interpreted: {}, line: 4 },
    ]);
    expect(Object.isFrozen(r[0]!.fields)).toBe(true);
    // Whether an AVC decision parsed counts in the totals (malformedRecords): its body is always scanned.
    for (const avc of [
      'node=h type=AVC msg=audit(1.001:2): avc:  denied  { read } for pid=1',
      'type=AVC msg=audit(1.001:2): avc:  denied  { read } for pid=1 scontext=a:b:c tcontext=d:e:f tclass=file',
      "type=USER_AVC msg=audit(1.001:2): pid=1 msg='avc:  denied  { status } for scontext=a:b:c tcontext=d:e:f tclass=system'",
    ]) {
      expect(parseLine(avc, 4, { headersOnly: true }), avc).toEqual(parseLine(avc, 4));
    }
    const g = parseLine('type=PATH msg=audit(1.001:2): item=0 type=CWD msg=audit(1.001:2): cwd="/"', 1, {
      headersOnly: true,
    });
    if (!Array.isArray(g)) throw new Error('expected records');
    expect(g.map((x) => x.type)).toEqual(['PATH', 'CWD']);
    const bad = parseLine('type=PATH msg=audit(1.001:2): item=0 node=x type=CWD cwd=/', 1, {
      headersOnly: true,
    });
    expect(bad).toMatchObject({ kind: 'parse-error', code: 'AVC_ERR_AUDIT_BAD_STAMP' });
    expect(parseLine('type=PATH msg=audit(1.001:2): item=0 node=x type=CWD cwd=/', 1)).toEqual(bad);
  });

  it('keeps a nested msg without fields as text', () => {
    expect(one("type=USER_CMD msg=audit(1.001:2): pid=1 msg='hello there'").fields.msg).toBe('hello there');
  });

  it('never lets a __proto__ key change the prototype', () => {
    const r = one("type=USER_CMD msg=audit(1.001:2): pid=1 msg='__proto__=x constructor=y'");
    expect(Object.getPrototypeOf(r.fields)).toBe(Object.prototype);
    expect(Object.keys(r.fields)).toEqual(['pid', '__proto__', 'constructor']);
    expect(r.fields.constructor).toBe('y');
  });

  it('splits two records glued onto one line; the second inherits the node', () => {
    const r = parseLine(
      'node=a type=PATH msg=audit(1.001:2): item=0 name="/x" obj=a:b:c:s0 type=CWD msg=audit(1.001:2):  cwd="/root"',
      3,
    );
    if (!Array.isArray(r)) throw new Error('expected records');
    expect(r.map((x) => [x.type, x.node, x.line])).toEqual([
      ['PATH', 'a', 3],
      ['CWD', 'a', 3],
    ]);
    expect(r[0]!.fields).toEqual({ item: '0', name: '/x', obj: 'a:b:c:s0' });
    expect(r[1]!.fields).toEqual({ cwd: '/root' });
  });
});

describe('parseLine: AVC bodies', () => {
  it('reads the ioctl command of an ioctl denial (ioctlCommandOf)', () => {
    const r = one(
      'type=AVC msg=audit(1.001:2): avc:  denied  { ioctl } for  pid=1 comm="x" path="/dev/pts/0" dev="devpts" ino=3 ioctlcmd=0x5401 scontext=a:b:c tcontext=d:e:f tclass=chr_file permissive=0',
    );
    expect(ioctlCommandOf(r)).toBe(0x5401);
    expect(ioctlCommandOf({ fields: { ioctlcmd: '5401' } })).toBeNull();
    expect(ioctlCommandOf({ fields: { ioctlcmd: '0x12345' } })).toBeNull();
    expect(ioctlCommandOf({ fields: {} })).toBeNull();
  });
  it('reads the port of a name_bind (src=) or name_connect (dest=, src= on old kernels) denial (avcPortOf)', () => {
    const bind = one(
      'type=AVC msg=audit(1.001:2): avc:  denied  { name_bind } for  pid=1 comm="httpd" src=81 scontext=a:b:c tcontext=d:e:f tclass=tcp_socket permissive=0',
    );
    expect(avcPortOf(bind)).toBe(81);
    const connect = one(
      'type=AVC msg=audit(1.001:2): avc:  denied  { name_connect } for  pid=1 comm="httpd" dest=5432 scontext=a:b:c tcontext=d:e:f tclass=tcp_socket permissive=0',
    );
    expect(avcPortOf(connect)).toBe(5432);
    const perms = (p: string[]) => ({ perms: p });
    expect(avcPortOf({ fields: { src: '81', dest: '9' }, avc: perms(['name_connect']) })).toBe(9);
    // Kernels before 2.6.19 or so wrote a name_connect's port as src= (setroubleshoot's connect_ports.log):
    // without a dest= field, src= is the port connected to.
    expect(avcPortOf({ fields: { src: '81' }, avc: perms(['name_connect']) })).toBe(81);
    expect(avcPortOf({ fields: { src: '81', dest: '0x9' }, avc: perms(['name_connect']) })).toBeNull();
    expect(avcPortOf({ fields: { src: '65536' }, avc: perms(['name_bind']) })).toBeNull();
    expect(avcPortOf({ fields: { src: '0x51' }, avc: perms(['name_bind']) })).toBeNull();
    expect(avcPortOf({ fields: { src: '081' }, avc: perms(['name_bind']) })).toBeNull();
    expect(avcPortOf({ fields: { src: '81' }, avc: perms(['read']) })).toBeNull();
    expect(avcPortOf({ fields: { src: '81' } })).toBeNull();
  });
  it('keeps the IPC key of an AVC record as the decimal the kernel wrote (it is not the audit rule key)', () => {
    // security/lsm_audit.c writes ` key=%d` for IPC objects; `1291864389` is also valid hex, but only the
    // rule key of SYSCALL and other records is encoded.
    const r = one(
      'type=AVC msg=audit(1162909881.708:343): avc:  denied  { create } for  pid=4253 comm="mono" key=1291864389 scontext=system_u:system_r:system_crond_t:s0 tcontext=system_u:system_r:system_crond_t:s0 tclass=sem',
    );
    expect(r.fields.key).toBe('1291864389');
    expect(r.avc?.tclass).toBe('sem');
    expect(one('type=SYSCALL msg=audit(1.001:2): arch=c000003e key=6578656300363462697400').fields.key).toBe(
      'exec\u000064bit\u0000',
    );
  });
  it('parses a kernel AVC denial', () => {
    const r = one(
      'type=AVC msg=audit(1226874073.147:96): avc:  denied  { getattr read } for  pid=2465 comm="httpd" path="/var/www/html/file1" dev=dm-0 ino=284133 scontext=unconfined_u:system_r:httpd_t:s0 tcontext=unconfined_u:object_r:samba_share_t:s0:c0.c1023 tclass=file permissive=1',
    );
    expect(r.avc).toEqual({
      decision: 'denied',
      perms: ['getattr', 'read'],
      scontext: {
        user: 'unconfined_u',
        role: 'system_r',
        type: 'httpd_t',
        level: 's0',
        raw: 'unconfined_u:system_r:httpd_t:s0',
      },
      tcontext: {
        user: 'unconfined_u',
        role: 'object_r',
        type: 'samba_share_t',
        level: 's0:c0.c1023',
        raw: 'unconfined_u:object_r:samba_share_t:s0:c0.c1023',
      },
      tclass: 'file',
      permissive: true,
    });
    expect(r.fields.seresult).toBe('denied');
    expect(r.fields.seperms).toBe('getattr,read');
    expect(r.fields.pid).toBe('2465');
  });

  it('parses granted, and a missing permissive as null', () => {
    const r = one(
      'type=AVC msg=audit(1631870323.500:7098): avc:  granted  { setsecparam } for  pid=11209 comm="tuned" scontext=system_u:system_r:tuned_t:s0 tcontext=system_u:object_r:security_t:s0 tclass=security',
    );
    expect(r.avc?.decision).toBe('granted');
    expect(r.avc?.permissive).toBeNull();
  });

  it('parses the seresult/seperms form', () => {
    const r = one(
      'type=AVC msg=audit(1.001:2): seresult=denied seperms=read,write pid=1 scontext=a:b:c:s0 tcontext=d:e:f:s0 tclass=dir permissive=0',
    );
    expect(r.avc).toMatchObject({
      decision: 'denied',
      perms: ['read', 'write'],
      tclass: 'dir',
      permissive: false,
    });
  });

  it('has no avc object for AppArmor AVCs or a bare seresult=1', () => {
    expect(one('type=AVC msg=audit(1.001:2): apparmor="DENIED" operation="ptrace"').avc).toBeUndefined();
    expect(one('type=AVC msg=audit(1524662933.080:61207): seresult=1').avc).toBeUndefined();
  });

  it('parses a USER_AVC nested body, old format tail included', () => {
    const r = one(
      'type=USER_AVC msg=audit(1163772866.369:8084): user pid=6659 uid=81 auid=500 subj=staff_u:staff_r:staff_dbusd_t:s0 msg=\'avc:  denied  { send_msg } for msgtype=signal dest=org.freedesktop.DBus spid=6687 scontext=staff_u:staff_r:staff_t:s0 tcontext=staff_u:staff_r:staff_t:s0 tclass=dbus : exe="/bin/dbus-daemon" (sauid=81, hostname=?, addr=?, terminal=?)\'',
    );
    expect(r.avc).toMatchObject({ decision: 'denied', perms: ['send_msg'], tclass: 'dbus' });
    expect(r.fields).toMatchObject({
      exe: '/bin/dbus-daemon',
      sauid: '81',
      hostname: '?',
      terminal: '?',
      uid: '81',
    });
  });

  it('reads syslog-wrapped kernel lines, the syslog host as node', () => {
    const r = one(
      'Jan 14 19:10:04 host kernel: audit(1105758604.519:420): avc:  denied  { read } for  pid=1 comm=bash scontext=u:r:t tcontext=u:object_r:f tclass=file',
    );
    expect(r).toMatchObject({ type: 'AVC', node: 'host', sec: 1105758604, msec: 519, serial: 420 });
    expect(r.avc?.scontext.level).toBeNull();
    const k = one(
      'Sep  6 11:23:47 xubuntu-lts kernel: [   31.024982] audit: type=1400 audit(1111111111.111:1111): apparmor="ALLOWED" operation="open"',
    );
    expect(k).toMatchObject({ type: 'AVC', node: 'xubuntu-lts', serial: 1111 });
    expect(error('Jan 14 19:10:04 host kernel: audit(1105758604.519:420): enforcing=1').code).toBe(
      'AVC_ERR_AUDIT_NO_TYPE',
    );
  });

  it('reads dmesg and journal kernel lines without a syslog date and host (node stays null)', () => {
    const d = one(
      'kernel: [   31.02] audit: type=1400 audit(1105758604.520:421): avc:  denied  { read } for  pid=2 comm="a" scontext=a_u:b_r:c_t:s0 tcontext=a_u:b_r:d_t:s0 tclass=file permissive=0',
    );
    expect(d).toMatchObject({ type: 'AVC', node: null, sec: 1105758604, msec: 520, serial: 421 });
    expect(d.avc).toMatchObject({ decision: 'denied', perms: ['read'], tclass: 'file', permissive: false });
    const m = one(
      '[ 4107.361214] audit: type=1400 audit(1700000000.001:77): avc:  denied  { write } for  pid=9 comm="x" scontext=u:r:a_t:s0 tcontext=u:r:b_t:s0 tclass=dir permissive=1',
    );
    expect(m).toMatchObject({ type: 'AVC', node: null, serial: 77 });
    expect(m.avc?.permissive).toBe(true);
    expect(error('kernel: [   31.02] usb 1-1: new device').code).toBe('AVC_ERR_AUDIT_NO_TYPE');
  });
});

describe('parseContext', () => {
  it('splits user, role, type and MLS range', () => {
    expect(parseContext('system_u:system_r:httpd_t:s0-s0:c0.c1023')).toEqual({
      user: 'system_u',
      role: 'system_r',
      type: 'httpd_t',
      level: 's0-s0:c0.c1023',
      raw: 'system_u:system_r:httpd_t:s0-s0:c0.c1023',
    });
    expect(parseContext('u:r:t')?.level).toBeNull();
    expect(parseContext('unconfined')).toBeNull();
    expect(parseContext('a:b')).toBeNull();
  });
});
