// Hex decoding of encoded audit values. Only used for fields the field dictionary marks as encoded.
import { isUtf8 } from 'node:buffer';

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

/**
 * Decodes hex digits to bytes and the bytes as UTF-8. Bytes that are not valid UTF-8 (a Latin-1 file
 * name, a cut-off sequence) would become U+FFFD, losing them and making different names equal: then the
 * hex is returned as written, so the bytes stay recoverable. The kernel and libaudit never hex-encode a
 * value made only of hex digits, so a decoded value never looks like one kept as hex.
 */
export function decodeHex(s: string): string {
  const bytes = Buffer.from(s, 'hex');
  return isUtf8(bytes) ? bytes.toString('utf8') : s;
}
