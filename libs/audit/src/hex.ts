// Hex decoding of encoded audit values. Only used for fields the field dictionary marks as encoded.

function isHexCode(c: number): boolean {
  return (c >= 48 && c <= 57) || (c >= 65 && c <= 70) || (c >= 97 && c <= 102);
}

/** True when `s` is a non-empty, even-length run of hex digits. */
const HEX_RE = /^[0-9A-Fa-f]+$/;

export function isHexString(s: string): boolean {
  const n = s.length;
  if (n === 0 || (n & 1) === 1) return false;
  if (n > 16) return HEX_RE.test(s);
  for (let i = 0; i < n; i++) if (!isHexCode(s.charCodeAt(i))) return false;
  return true;
}

/** Decodes hex digits to bytes and the bytes as UTF-8 (invalid sequences become U+FFFD). */
export function decodeHex(s: string): string {
  return Buffer.from(s, 'hex').toString('utf8');
}
