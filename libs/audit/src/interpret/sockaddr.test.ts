import { describe, expect, it } from 'vitest';
import { decodeSockaddr, formatIpv6 } from './sockaddr.ts';

function hex(...parts: string[]): string {
  return parts.join('');
}

describe('decodeSockaddr', () => {
  it('inet: address and big-endian port', () => {
    // AF_INET, port 5432, 10.1.2.3, 8 bytes of zero padding
    expect(decodeSockaddr(hex('0200', '1538', '0a010203', '0000000000000000'))).toEqual({
      family: 'inet',
      address: '10.1.2.3',
      port: 5432,
    });
    expect(decodeSockaddr('02000035C0A80101')).toEqual({ family: 'inet', address: '192.168.1.1', port: 53 });
  });
  it('inet6: compressed text form, flowinfo and scope id', () => {
    const s = decodeSockaddr(hex('0a00', '01bb', '00000000', '20010db8000000000000000000000001', '02000000'));
    expect(s).toEqual({ family: 'inet6', address: '2001:db8::1', port: 443, flowinfo: 0, scopeId: 2 });
    expect(
      decodeSockaddr(hex('0a00', '0016', '00000000', '00000000000000000000000000000001', '00000000')),
    ).toMatchObject({ address: '::1', port: 22 });
    expect(decodeSockaddr(hex('0a00', '0050', '00000000', '00000000000000000000ffff7f000001'))).toMatchObject(
      {
        address: '::ffff:127.0.0.1',
        port: 80,
        scopeId: 0,
      },
    );
  });
  it('unix: path, abstract and unnamed', () => {
    const path = Buffer.from('/run/systemd/journal/socket').toString('hex');
    expect(decodeSockaddr(`0100${path}00`)).toEqual({
      family: 'unix',
      path: '/run/systemd/journal/socket',
      abstract: false,
    });
    const abs = Buffer.from('/tmp/.X11-unix/X0').toString('hex');
    expect(decodeSockaddr(`010000${abs}`)).toEqual({
      family: 'unix',
      path: '/tmp/.X11-unix/X0',
      abstract: true,
    });
    expect(decodeSockaddr('0100')).toEqual({ family: 'unix', path: '', abstract: false });
  });
  it('netlink: pid and groups (host order)', () => {
    expect(decodeSockaddr(hex('1000', '0000', 'd2040000', '01000000'))).toEqual({
      family: 'netlink',
      pid: 1234,
      groups: 1,
    });
  });
  it('unknown and undecoded families keep the hex', () => {
    expect(decodeSockaddr('1100000102030405')).toEqual({
      family: 'packet',
      familyNumber: 17,
      hex: '1100000102030405',
    });
    expect(decodeSockaddr('FE00AABB')).toEqual({ family: 'unknown', familyNumber: 254, hex: 'fe00aabb' });
  });
  it('reads a big-endian family (s390x)', () => {
    expect(decodeSockaddr('00020050c0a80101')).toEqual({ family: 'inet', address: '192.168.1.1', port: 80 });
  });
  it('short structures of a known family fall back to hex', () => {
    expect(decodeSockaddr('02000')).toBeUndefined(); // odd length
    expect(decodeSockaddr('02000050')).toEqual({ family: 'inet', familyNumber: 2, hex: '02000050' });
  });
  it('rejects non-hex and too-short input', () => {
    expect(decodeSockaddr('zz00')).toBeUndefined();
    expect(decodeSockaddr('')).toBeUndefined();
    expect(decodeSockaddr('02')).toBeUndefined();
  });
  it('takes raw bytes too', () => {
    expect(decodeSockaddr(Uint8Array.from([2, 0, 0, 80, 1, 2, 3, 4]))).toEqual({
      family: 'inet',
      address: '1.2.3.4',
      port: 80,
    });
  });
});

describe('formatIpv6 (RFC 5952)', () => {
  const f = (h: string) => formatIpv6(Buffer.from(h, 'hex'));
  it('compresses the longest zero run, first on ties, never a single zero word', () => {
    expect(f('00000000000000000000000000000000')).toBe('::');
    expect(f('fe800000000000000202b3fffe1e8329')).toBe('fe80::202:b3ff:fe1e:8329');
    expect(f('20010db8000000010000000000000001')).toBe('2001:db8:0:1::1');
    expect(f('20010db8000000000001000000000001')).toBe('2001:db8::1:0:0:1');
    expect(f('20010db8000100010001000100010001')).toBe('2001:db8:1:1:1:1:1:1');
    expect(f('20010db8000000010001000100010001')).toBe('2001:db8:0:1:1:1:1:1');
  });
});
