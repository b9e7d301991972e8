import { describe, expect, it } from 'vitest';
import { describeMode } from './mode.ts';

describe('describeMode', () => {
  it('splits type and permission bits', () => {
    expect(describeMode('0100644')).toEqual({ type: 'file', perms: '0644' });
    expect(describeMode('040755')).toEqual({ type: 'dir', perms: '0755' });
    expect(describeMode('0120777')).toEqual({ type: 'symlink', perms: '0777' });
    expect(describeMode('0140777')).toEqual({ type: 'socket', perms: '0777' });
    expect(describeMode('020620')).toEqual({ type: 'char', perms: '0620' });
    expect(describeMode('060660')).toEqual({ type: 'block', perms: '0660' });
    expect(describeMode('010600')).toEqual({ type: 'fifo', perms: '0600' });
  });
  it('keeps setuid, setgid and sticky bits in perms', () => {
    expect(describeMode('0104755')).toEqual({ type: 'file', perms: '4755' });
    expect(describeMode('0102711')).toEqual({ type: 'file', perms: '2711' });
    expect(describeMode('041777')).toEqual({ type: 'dir', perms: '1777' });
    expect(describeMode('040730')).toEqual({ type: 'dir', perms: '0730' });
  });
  it('gives type null without type bits (IPC modes)', () => {
    expect(describeMode('0666')).toEqual({ type: null, perms: '0666' });
    expect(describeMode('0')).toEqual({ type: null, perms: '0000' });
  });
  it('accepts 0o and numbers', () => {
    expect(describeMode('0o100600')).toEqual({ type: 'file', perms: '0600' });
    expect(describeMode(0o100600)).toEqual({ type: 'file', perms: '0600' });
  });
  it('gives undefined for non-octal input', () => {
    expect(describeMode('0100648')).toBeUndefined();
    expect(describeMode('')).toBeUndefined();
    expect(describeMode('file,644')).toBeUndefined();
    expect(describeMode('0o')).toBeUndefined();
    expect(describeMode(-1)).toBeUndefined();
    expect(describeMode('777777777777777')).toBeUndefined();
  });
});
