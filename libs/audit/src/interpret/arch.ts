// AUDIT_ARCH_* values (linux/audit.h: EM_* machine | 64-bit flag 0x80000000 | little-endian flag 0x40000000)
// to names. Names follow `uname -m` / auditd's machine names for the common ones.
import { SYSCALLS_AARCH64 } from './syscalls-aarch64.generated.ts';
import { SYSCALLS_I386 } from './syscalls-i386.generated.ts';
import { SYSCALLS_X86_64 } from './syscalls-x86_64.generated.ts';

const ARCHES: [number, string][] = [
  [0xc000003e, 'x86_64'],
  [0x40000003, 'i386'],
  [0xc00000b7, 'aarch64'],
  [0x40000028, 'arm'],
  [0x00000028, 'armeb'],
  [0x00000014, 'ppc'],
  [0x80000015, 'ppc64'],
  [0xc0000015, 'ppc64le'],
  [0x00000016, 's390'],
  [0x80000016, 's390x'],
  [0x400000f3, 'riscv32'],
  [0xc00000f3, 'riscv64'],
  [0x00000008, 'mips'],
  [0x40000008, 'mipsel'],
  [0x80000008, 'mips64'],
  [0xc0000008, 'mips64el'],
  [0xa0000008, 'mips64n32'],
  [0xe0000008, 'mips64eln32'],
  [0xc0000102, 'loongarch64'],
  [0x00000002, 'sparc'],
  [0x8000002b, 'sparc64'],
  [0xc0000032, 'ia64'],
  [0xc0009026, 'alpha'],
  [0x0000000f, 'parisc'],
  [0x8000000f, 'parisc64'],
  [0x0000002a, 'sh'],
  [0x00000004, 'm68k'],
];

/** Exact spellings seen in records (`c000003e`, `C000003E`, `0xc000003e`) -> name; filled lazily. */
const byText = new Map<string, string | null>();
const byNumber = new Map<number, string>(ARCHES);

const TABLES = new Map<string, readonly (string | undefined)[]>([
  ['x86_64', SYSCALLS_X86_64],
  ['i386', SYSCALLS_I386],
  ['aarch64', SYSCALLS_AARCH64],
]);

const HEX = /^(?:0x)?[0-9a-f]{1,8}$/i;

/**
 * Name of an audit arch value: `c000003e` -> `x86_64`, `40000003` -> `i386`, `c00000b7` -> `aarch64`.
 * Accepts an optional `0x` and any case. Unknown or malformed values give undefined.
 */
export function archName(hex: string): string | undefined {
  const hit = byText.get(hex);
  if (hit !== undefined) return hit ?? undefined;
  let name: string | null = null;
  if (HEX.test(hex)) name = byNumber.get(Number.parseInt(hex, 16)) ?? null;
  if (byText.size < 1024) byText.set(hex, name); // bounded: record values are attacker-controlled
  return name ?? undefined;
}

/**
 * Syscall name for an arch (a name such as `x86_64` or a raw arch value such as `c000003e`) and a syscall
 * number (number or decimal string). Tables exist for x86_64, i386 and aarch64; other arches and
 * unassigned numbers give undefined.
 */
export function syscallName(arch: string, nr: number | string): string | undefined {
  let table = TABLES.get(arch);
  if (table === undefined) {
    const name = archName(arch);
    if (name === undefined) return undefined;
    table = TABLES.get(name);
    if (table === undefined) return undefined;
  }
  const n = typeof nr === 'number' ? nr : toIndex(nr);
  if (!Number.isInteger(n) || n < 0) return undefined;
  return table[n];
}

/** Decimal string -> non-negative integer, or -1. Cheaper than Number() plus checks on the hot path. */
function toIndex(s: string): number {
  const len = s.length;
  if (len === 0 || len > 9) return -1;
  let n = 0;
  for (let i = 0; i < len; i++) {
    const c = s.charCodeAt(i) - 48;
    if (c < 0 || c > 9) return -1;
    n = n * 10 + c;
  }
  return n;
}
