import { CAPABILITY_NAMES } from './capabilities.generated.ts';

/** `21` or `"21"` -> `sys_admin`; unknown numbers give undefined. */
export function capabilityName(n: number | string): string | undefined {
  const v = typeof n === 'number' ? n : Number(n);
  if (!Number.isInteger(v) || v < 0 || (typeof n === 'string' && n.length === 0)) return undefined;
  return CAPABILITY_NAMES[v];
}

/**
 * A capability set as the kernel logs it (hex, up to 64 bits, e.g. `cap_pe=1fffeffffff` or `0`) -> the
 * capability names in the set, in number order; bits without a name come back as `cap_<n>`. Not hex or
 * longer than 16 digits gives undefined.
 */
export function decodeCapabilities(hex: string): string[] | undefined {
  const len = hex.length;
  if (len === 0 || len > 16) return undefined;
  const names: string[] = [];
  // Read nibbles from the least significant end: bit index = 4 * nibble position + bit.
  for (let i = 0; i < len; i++) {
    const c = hex.charCodeAt(len - 1 - i);
    let d: number;
    if (c >= 48 && c <= 57) d = c - 48;
    else {
      const l = c | 0x20;
      if (l < 97 || l > 102) return undefined;
      d = l - 87;
    }
    for (let b = 0; b < 4; b++) {
      if ((d >> b) & 1) {
        const bit = i * 4 + b;
        names.push(CAPABILITY_NAMES[bit] ?? `cap_${bit}`);
      }
    }
  }
  return names;
}
