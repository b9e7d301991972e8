import { describe, expect, it } from 'vitest';
import { archName, syscallName } from './arch.ts';
import { SYSCALLS_AARCH64 } from './syscalls-aarch64.generated.ts';
import { SYSCALLS_I386 } from './syscalls-i386.generated.ts';
import { SYSCALLS_X86_64 } from './syscalls-x86_64.generated.ts';

describe('archName', () => {
  it('maps the common audit arch values', () => {
    expect(archName('c000003e')).toBe('x86_64');
    expect(archName('40000003')).toBe('i386');
    expect(archName('c00000b7')).toBe('aarch64');
    expect(archName('40000028')).toBe('arm');
    expect(archName('c0000015')).toBe('ppc64le');
    expect(archName('80000016')).toBe('s390x');
    expect(archName('c00000f3')).toBe('riscv64');
  });
  it('accepts 0x and upper case', () => {
    expect(archName('0xc000003e')).toBe('x86_64');
    expect(archName('C000003E')).toBe('x86_64');
  });
  it('gives undefined for unknown or malformed values', () => {
    expect(archName('deadbeef')).toBeUndefined();
    expect(archName('x86_64')).toBeUndefined();
    expect(archName('')).toBeUndefined();
    expect(archName('c000003e0')).toBeUndefined();
  });
});

describe('syscall tables (generated from linux-libc-dev UAPI headers)', () => {
  it('x86_64', () => {
    expect(SYSCALLS_X86_64[0]).toBe('read');
    expect(SYSCALLS_X86_64[2]).toBe('open');
    expect(SYSCALLS_X86_64[59]).toBe('execve');
    expect(SYSCALLS_X86_64[257]).toBe('openat');
    expect(SYSCALLS_X86_64[322]).toBe('execveat');
    expect(SYSCALLS_X86_64[435]).toBe('clone3');
    expect(SYSCALLS_X86_64[336]).toBeUndefined(); // gap between 334 and 424
  });
  it('i386', () => {
    expect(SYSCALLS_I386[1]).toBe('exit');
    expect(SYSCALLS_I386[5]).toBe('open');
    expect(SYSCALLS_I386[11]).toBe('execve');
    expect(SYSCALLS_I386[102]).toBe('socketcall');
    expect(SYSCALLS_I386[295]).toBe('openat');
  });
  it('aarch64 (asm-generic with the arm64 switches)', () => {
    expect(SYSCALLS_AARCH64[0]).toBe('io_setup');
    expect(SYSCALLS_AARCH64[25]).toBe('fcntl'); // __NR3264_fcntl on 64-bit
    expect(SYSCALLS_AARCH64[38]).toBe('renameat'); // __ARCH_WANT_RENAMEAT
    expect(SYSCALLS_AARCH64[56]).toBe('openat');
    expect(SYSCALLS_AARCH64[79]).toBe('newfstatat'); // __ARCH_WANT_NEW_STAT
    expect(SYSCALLS_AARCH64[84]).toBe('sync_file_range');
    expect(SYSCALLS_AARCH64[163]).toBe('getrlimit'); // __ARCH_WANT_SET_GET_RLIMIT
    expect(SYSCALLS_AARCH64[221]).toBe('execve');
    expect(SYSCALLS_AARCH64[222]).toBe('mmap');
    expect(SYSCALLS_AARCH64[435]).toBe('clone3');
    expect(SYSCALLS_AARCH64[2]).toBe('io_submit');
  });
  it('has no duplicate names within an arch', () => {
    for (const t of [SYSCALLS_X86_64, SYSCALLS_I386, SYSCALLS_AARCH64]) {
      const names = t.filter((x) => x !== undefined);
      expect(new Set(names).size).toBe(names.length);
      expect(names.length).toBeGreaterThan(300);
    }
  });
});

describe('syscallName', () => {
  it('takes an arch name or a raw arch value, and a number or decimal string', () => {
    expect(syscallName('x86_64', 59)).toBe('execve');
    expect(syscallName('c000003e', '257')).toBe('openat');
    expect(syscallName('40000003', '11')).toBe('execve');
    expect(syscallName('c00000b7', '221')).toBe('execve');
    expect(syscallName('aarch64', 56)).toBe('openat');
  });
  it('gives undefined for unknown arch, unassigned or bad numbers', () => {
    expect(syscallName('c0000015', 1)).toBeUndefined(); // ppc64le: no table
    expect(syscallName('nope', 1)).toBeUndefined();
    expect(syscallName('x86_64', 99999)).toBeUndefined();
    expect(syscallName('x86_64', -1)).toBeUndefined();
    expect(syscallName('x86_64', '5a')).toBeUndefined();
    expect(syscallName('x86_64', '')).toBeUndefined();
    expect(syscallName('x86_64', 1.5)).toBeUndefined();
  });
});
