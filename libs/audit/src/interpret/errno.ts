import { ERRNO_NAMES } from './errno.generated.ts';

/**
 * errno name for a syscall exit code: `-13` or `13` (number or decimal string) -> `EACCES`. Covers the
 * asm-generic codes (x86_64, i386, aarch64, arm, riscv, ...) and kernel-internal ones such as
 * `ERESTARTSYS` (512). 0 and unknown values give undefined.
 */
export function errnoName(n: number | string): string | undefined {
  let v = typeof n === 'number' ? n : Number(n);
  if (!Number.isInteger(v)) return undefined;
  if (v < 0) v = -v;
  if (v === 0 || v >= ERRNO_NAMES.length) return undefined;
  return ERRNO_NAMES[v];
}
