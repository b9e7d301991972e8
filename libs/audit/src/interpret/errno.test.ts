import { describe, expect, it } from 'vitest';
import { ERRNO_NAMES } from './errno.generated.ts';
import { errnoName } from './errno.ts';

describe('errno table (generated from asm-generic/errno.h)', () => {
  it('has the well-known codes at their numbers', () => {
    expect(ERRNO_NAMES[1]).toBe('EPERM');
    expect(ERRNO_NAMES[2]).toBe('ENOENT');
    expect(ERRNO_NAMES[11]).toBe('EAGAIN'); // not its alias EWOULDBLOCK
    expect(ERRNO_NAMES[13]).toBe('EACCES');
    expect(ERRNO_NAMES[35]).toBe('EDEADLK'); // not EDEADLOCK
    expect(ERRNO_NAMES[95]).toBe('EOPNOTSUPP');
    expect(ERRNO_NAMES[111]).toBe('ECONNREFUSED');
    expect(ERRNO_NAMES[133]).toBe('EHWPOISON');
    expect(ERRNO_NAMES[134]).toBeUndefined();
  });
  it('carries the kernel-internal restart codes', () => {
    expect(ERRNO_NAMES[512]).toBe('ERESTARTSYS');
    expect(ERRNO_NAMES[516]).toBe('ERESTART_RESTARTBLOCK');
    expect(ERRNO_NAMES[520]).toBeUndefined();
  });
});

describe('errnoName', () => {
  it('maps negative exit codes, positive codes and strings', () => {
    expect(errnoName(-13)).toBe('EACCES');
    expect(errnoName('-13')).toBe('EACCES');
    expect(errnoName(2)).toBe('ENOENT');
    expect(errnoName('-512')).toBe('ERESTARTSYS');
  });
  it('gives undefined for 0, unknown and malformed values', () => {
    expect(errnoName(0)).toBeUndefined();
    expect(errnoName('-9999')).toBeUndefined();
    expect(errnoName('abc')).toBeUndefined();
    expect(errnoName('-1.5')).toBeUndefined();
  });
});
