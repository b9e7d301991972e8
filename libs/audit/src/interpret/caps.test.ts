import { describe, expect, it } from 'vitest';
import { CAPABILITY_NAMES } from './capabilities.generated.ts';
import { capabilityName, decodeCapabilities } from './caps.ts';

describe('capability table (generated from linux/capability.h)', () => {
  it('has the numbers SELinux capability AVCs refer to', () => {
    expect(CAPABILITY_NAMES[0]).toBe('chown');
    expect(CAPABILITY_NAMES[1]).toBe('dac_override');
    expect(CAPABILITY_NAMES[21]).toBe('sys_admin');
    expect(CAPABILITY_NAMES[33]).toBe('mac_admin');
    expect(CAPABILITY_NAMES[40]).toBe('checkpoint_restore');
  });
});

describe('capabilityName', () => {
  it('maps numbers and decimal strings', () => {
    expect(capabilityName(21)).toBe('sys_admin');
    expect(capabilityName('12')).toBe('net_admin');
  });
  it('gives undefined for unknown or malformed values', () => {
    expect(capabilityName(99)).toBeUndefined();
    expect(capabilityName('')).toBeUndefined();
    expect(capabilityName('x')).toBeUndefined();
    expect(capabilityName(-1)).toBeUndefined();
  });
});

describe('decodeCapabilities', () => {
  it('lists set bits in number order', () => {
    expect(decodeCapabilities('0')).toEqual([]);
    expect(decodeCapabilities('3')).toEqual(['chown', 'dac_override']);
    expect(decodeCapabilities('200000')).toEqual(['sys_admin']);
    expect(decodeCapabilities('100000000')).toEqual(['mac_override']); // bit 32 across the 32-bit boundary
    expect(decodeCapabilities('1ffffffffff')).toEqual(CAPABILITY_NAMES.slice(0, 41));
    expect(decodeCapabilities('8000000000000000')).toEqual(['cap_63']);
  });
  it('gives undefined for non-hex or over-long input', () => {
    expect(decodeCapabilities('')).toBeUndefined();
    expect(decodeCapabilities('xyz')).toBeUndefined();
    expect(decodeCapabilities('10000000000000000')).toBeUndefined();
  });
});
