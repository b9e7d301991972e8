import type { SecurityContext } from './types.ts';

/**
 * Splits an SELinux context `user:role:type[:level]` into its parts. The level (MLS range) keeps any
 * further colons (`s0-s0:c0.c1023`). Returns null when the text has fewer than three parts.
 */
export function parseContext(raw: string): SecurityContext | null {
  const a = raw.indexOf(':');
  if (a <= 0) return null;
  const b = raw.indexOf(':', a + 1);
  if (b < 0) return null;
  const c = raw.indexOf(':', b + 1);
  const type = c < 0 ? raw.slice(b + 1) : raw.slice(b + 1, c);
  if (type.length === 0) return null;
  return {
    user: raw.slice(0, a),
    role: raw.slice(a + 1, b),
    type,
    level: c < 0 || c === raw.length - 1 ? null : raw.slice(c + 1),
    raw,
  };
}
