// struct sockaddr (as the SOCKADDR record's `saddr` hex) -> family, address and port.

export interface SockaddrInet {
  family: 'inet';
  address: string;
  port: number;
}
export interface SockaddrInet6 {
  family: 'inet6';
  /** RFC 5952 text form: compressed, lower case; IPv4-mapped as `::ffff:1.2.3.4`. */
  address: string;
  port: number;
  flowinfo: number;
  scopeId: number;
}
export interface SockaddrUnix {
  family: 'unix';
  /** Path for a filesystem socket; for an abstract socket the name after the leading NUL; '' if unnamed. */
  path: string;
  abstract: boolean;
}
export interface SockaddrNetlink {
  family: 'netlink';
  pid: number;
  groups: number;
}
export interface SockaddrOther {
  /** A known family name without a decoder here (e.g. `packet`), or `unknown`. */
  family: string;
  /** The numeric address family. */
  familyNumber: number;
  /** The whole structure as lower-case hex. */
  hex: string;
}
export type Sockaddr = SockaddrInet | SockaddrInet6 | SockaddrUnix | SockaddrNetlink | SockaddrOther;

/** linux/socket.h AF_* numbers -> names, for families reported without a decoder. */
const FAMILY_NAMES: (string | undefined)[] = [];
for (const [n, name] of [
  [0, 'unspec'],
  [1, 'unix'],
  [2, 'inet'],
  [3, 'ax25'],
  [4, 'ipx'],
  [5, 'appletalk'],
  [9, 'x25'],
  [10, 'inet6'],
  [15, 'key'],
  [16, 'netlink'],
  [17, 'packet'],
  [29, 'can'],
  [30, 'tipc'],
  [31, 'bluetooth'],
  [38, 'alg'],
  [40, 'vsock'],
  [41, 'kcm'],
  [42, 'qipcrtr'],
  [44, 'xdp'],
  [45, 'mctp'],
] as [number, string][]) {
  FAMILY_NAMES[n] = name;
}

const HEX_CHARS = '0123456789abcdef';

function hexValue(c: number): number {
  if (c >= 48 && c <= 57) return c - 48; // 0-9
  const l = c | 0x20;
  if (l >= 97 && l <= 102) return l - 87; // a-f
  return -1;
}

/** Even-length hex string -> bytes, or undefined when it is not hex. */
function hexBytes(hex: string): Uint8Array | undefined {
  const len = hex.length;
  if (len === 0 || len % 2 !== 0) return undefined;
  const out = new Uint8Array(len >> 1);
  for (let i = 0, j = 0; i < len; i += 2, j++) {
    const hi = hexValue(hex.charCodeAt(i));
    const lo = hexValue(hex.charCodeAt(i + 1));
    if (hi < 0 || lo < 0) return undefined;
    out[j] = (hi << 4) | lo;
  }
  return out;
}

function toHex(b: Uint8Array): string {
  let s = '';
  for (let i = 0; i < b.length; i++) {
    const v = b[i]!;
    s += HEX_CHARS[v >> 4]! + HEX_CHARS[v & 15]!;
  }
  return s;
}

function u16be(b: Uint8Array, i: number): number {
  return (b[i]! << 8) | b[i + 1]!;
}
function u32le(b: Uint8Array, i: number): number {
  return (b[i]! | (b[i + 1]! << 8) | (b[i + 2]! << 16) | (b[i + 3]! << 24)) >>> 0;
}
function u32be(b: Uint8Array, i: number): number {
  return ((b[i]! << 24) | (b[i + 1]! << 16) | (b[i + 2]! << 8) | b[i + 3]!) >>> 0;
}

/** 16 bytes at `off` -> RFC 5952 text. */
export function formatIpv6(b: Uint8Array, off = 0): string {
  const words: number[] = [];
  for (let i = 0; i < 8; i++) words.push(u16be(b, off + 2 * i));
  // IPv4-mapped ::ffff:a.b.c.d
  if (
    words[0] === 0 &&
    words[1] === 0 &&
    words[2] === 0 &&
    words[3] === 0 &&
    words[4] === 0 &&
    words[5] === 0xffff
  ) {
    return `::ffff:${b[off + 12]}.${b[off + 13]}.${b[off + 14]}.${b[off + 15]}`;
  }
  // Longest run (>= 2) of zero words, first one on ties.
  let bestStart = -1;
  let bestLen = 0;
  for (let i = 0; i < 8; ) {
    if (words[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && words[j] === 0) j++;
    if (j - i > bestLen) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  if (bestLen < 2) return words.map((w) => w.toString(16)).join(':');
  const head = words.slice(0, bestStart).map((w) => w.toString(16));
  const tail = words.slice(bestStart + bestLen).map((w) => w.toString(16));
  return `${head.join(':')}::${tail.join(':')}`;
}

function cString(b: Uint8Array, start: number, end: number): string {
  let stop = start;
  while (stop < end && b[stop] !== 0) stop++;
  return Buffer.from(b.buffer, b.byteOffset + start, stop - start).toString('utf8');
}

/**
 * Decodes a struct sockaddr given as hex (the SOCKADDR record's `saddr`) or as raw bytes. inet, inet6,
 * unix (path and abstract) and netlink are decoded; other families come back as `{family, familyNumber,
 * hex}`. Input that is not hex or shorter than the family field gives undefined. The family field is read
 * little-endian (x86, arm, riscv); a value that only makes sense big-endian (s390x, ppc64) is read as such.
 */
export function decodeSockaddr(input: string | Uint8Array): Sockaddr | undefined {
  const b = typeof input === 'string' ? hexBytes(input) : input;
  if (b === undefined || b.length < 2) return undefined;
  let fam = b[0]! | (b[1]! << 8);
  if (fam > 0xff && b[0] === 0) fam = b[1]!; // big-endian host
  const len = b.length;
  switch (fam) {
    case 2:
      if (len >= 8) return { family: 'inet', address: `${b[4]}.${b[5]}.${b[6]}.${b[7]}`, port: u16be(b, 2) };
      break;
    case 10:
      if (len >= 24) {
        return {
          family: 'inet6',
          address: formatIpv6(b, 8),
          port: u16be(b, 2),
          flowinfo: u32be(b, 4),
          scopeId: len >= 28 ? u32le(b, 24) : 0,
        };
      }
      break;
    case 1:
      if (len > 2 && b[2] === 0) {
        // Abstract: the name is every byte after the leading NUL (it may itself hold NULs).
        return {
          family: 'unix',
          path: Buffer.from(b.buffer, b.byteOffset + 3, len - 3).toString('utf8'),
          abstract: true,
        };
      }
      return { family: 'unix', path: cString(b, 2, len), abstract: false };
    case 16:
      if (len >= 12) return { family: 'netlink', pid: u32le(b, 4), groups: u32le(b, 8) };
      break;
  }
  return { family: FAMILY_NAMES[fam] ?? 'unknown', familyNumber: fam, hex: toHex(b) };
}
