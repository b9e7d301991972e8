import { describe, expect, it } from 'vitest';
import { execveArgv, interpretRecord, splitArgv } from './interpret.ts';

describe('interpretRecord', () => {
  it('SYSCALL: arch, syscall, exit errno, success, unset ids', () => {
    const r = interpretRecord('SYSCALL', {
      arch: 'c000003e',
      syscall: '257',
      success: 'no',
      exit: '-13',
      a0: 'ffffff9c',
      auid: '4294967295',
      uid: '0',
      gid: '0',
      ses: '4294967295',
      pid: '123',
      comm: 'httpd',
    });
    expect(r).toEqual({
      arch: 'x86_64',
      syscall: 'openat',
      success: false,
      exit: 'EACCES',
      auid: 'unset',
      ses: 'unset',
    });
  });
  it('splits a rule key that holds several keys (joined by 0x01, as auditctl -k a -k b writes them)', () => {
    expect(interpretRecord('SYSCALL', { key: 'exec\u000164bit' }).key).toEqual(['exec', '64bit']);
    expect(interpretRecord('SYSCALL', { key: 'exec' }).key).toBeUndefined();
    expect(interpretRecord('SYSCALL', { key: '(null)' }).key).toBeUndefined();
    // An AVC's key= is an IPC key, never a list.
    expect(interpretRecord('AVC', { key: '1\u00012' }).key).toBeUndefined();
  });
  it('syscall names follow the record arch', () => {
    expect(interpretRecord('SYSCALL', { arch: '40000003', syscall: '5' }).syscall).toBe('open');
    expect(interpretRecord('SYSCALL', { arch: 'c00000b7', syscall: '56' }).syscall).toBe('openat');
    expect(interpretRecord('SYSCALL', { syscall: '56' }).syscall).toBeUndefined();
  });
  it('keeps non-negative exit out and success=yes as true', () => {
    const r = interpretRecord('SYSCALL', { arch: 'c000003e', syscall: '0', success: 'yes', exit: '42' });
    expect(r).toEqual({ arch: 'x86_64', syscall: 'read', success: true });
  });
  it('-1 ids are unset too', () => {
    expect(interpretRecord('LOGIN', { 'old-auid': '-1', auid: '1000', 'old-ses': '4294967295' })).toEqual({
      'old-auid': 'unset',
      'old-ses': 'unset',
    });
  });
  it('resolves uid/gid names only through opts.resolveIds', () => {
    const fields = { uid: '1000', euid: '0', gid: '1000', ouid: '4294967295', pid: '1000' };
    expect(interpretRecord('SYSCALL', fields)).toEqual({ ouid: 'unset' });
    const calls: string[] = [];
    const resolveIds = (kind: 'uid' | 'gid', id: number) => {
      calls.push(`${kind}:${id}`);
      if (kind === 'uid') return id === 0 ? 'root' : id === 1000 ? 'alice' : undefined;
      return id === 1000 ? 'staff' : undefined;
    };
    expect(interpretRecord('SYSCALL', fields, { resolveIds })).toEqual({
      uid: 'alice',
      euid: 'root',
      gid: 'staff',
      ouid: 'unset',
    });
    expect(calls.sort()).toEqual(['gid:1000', 'uid:0', 'uid:1000']);
    expect(interpretRecord('SYSCALL', { uid: '12x' }, { resolveIds })).toEqual({});
  });
  it('PROCTITLE: NUL-split argv', () => {
    expect(interpretRecord('PROCTITLE', { proctitle: '/bin/sh\0-c\0echo hi' })).toEqual({
      proctitle: ['/bin/sh', '-c', 'echo hi'],
    });
    expect(interpretRecord('PROCTITLE', { proctitle: 'bash' })).toEqual({ proctitle: ['bash'] });
  });
  it('EXECVE: argv from a0..a(argc-1)', () => {
    expect(interpretRecord('EXECVE', { argc: '3', a0: 'ls', a1: '-l', a2: 'my file' })).toEqual({
      argv: ['ls', '-l', 'my file'],
    });
  });
  it('SOCKADDR: saddr decoded; AVC saddr (an IP) left alone', () => {
    expect(interpretRecord('SOCKADDR', { saddr: '020015380A0000050000000000000000' })).toEqual({
      saddr: { family: 'inet', address: '10.0.0.5', port: 5432 },
    });
    expect(interpretRecord('AVC', { saddr: '10.0.0.5', dest: '5432' })).toEqual({});
  });
  it('SOCKADDR given as already-decoded latin1 bytes', () => {
    const bytes = Buffer.from('0200005010000001', 'hex').toString('latin1');
    expect(interpretRecord('SOCKADDR', { saddr: bytes }).saddr).toEqual({
      family: 'inet',
      address: '16.0.0.1',
      port: 80,
    });
  });
  it('PATH: mode and owner ids', () => {
    expect(
      interpretRecord('PATH', { item: '0', name: '/etc/shadow', mode: '0100640', ouid: '0', ogid: '42' }),
    ).toEqual({ mode: { type: 'file', perms: '0640' } });
  });
  it('capabilities: AVC capability number and non-zero capability sets', () => {
    expect(interpretRecord('AVC', { capability: '21', tclass: 'capability' })).toEqual({
      capability: 'sys_admin',
    });
    expect(interpretRecord('PATH', { cap_fp: '0', cap_fi: '0', cap_fe: '0' })).toEqual({});
    expect(interpretRecord('PATH', { cap_fp: '3000' })).toEqual({ cap_fp: ['net_admin', 'net_raw'] });
    expect(interpretRecord('BPRM_FCAPS', { fp: '400', pp: '0', pe: '200000' })).toEqual({
      fp: ['net_bind_service'],
      pe: ['sys_admin'],
    });
    expect(interpretRecord('SYSCALL', { pp: '400' })).toEqual({}); // short names only in capability records
  });
  it('ignores malformed values instead of throwing', () => {
    expect(
      interpretRecord('SYSCALL', {
        arch: 'zz',
        syscall: 'x',
        exit: '-x',
        success: 'maybe',
        mode: '9',
        saddr: 'q',
      }),
    ).toEqual({});
    expect(interpretRecord('SOCKADDR', { saddr: '' })).toEqual({});
  });
});

describe('splitArgv', () => {
  it('drops trailing NULs but keeps empty middle arguments', () => {
    expect(splitArgv('a\0\0b\0')).toEqual(['a', '', 'b']);
    expect(splitArgv('')).toEqual([]);
    expect(splitArgv('\0')).toEqual([]);
  });
});

describe('execveArgv', () => {
  it('stops at the first missing argument and bounds argc', () => {
    expect(execveArgv({ argc: '3', a0: 'x', a2: 'z' })).toEqual(['x']);
    expect(execveArgv({ argc: 'many', a0: 'x' })).toEqual([]);
    expect(execveArgv({ a0: 'x' })).toEqual([]);
  });
});
