// st_mode (octal, as PATH records write it) -> file type and permission bits.

export type FileType = 'socket' | 'symlink' | 'file' | 'block' | 'dir' | 'char' | 'fifo';

export interface FileMode {
  /** From the S_IFMT bits; null when they are zero (e.g. IPC modes) or not a known type. */
  type: FileType | null;
  /** Permission bits including setuid/setgid/sticky as 4 octal digits, e.g. `0644`, `4755`. */
  perms: string;
}

const TYPES: (FileType | null)[] = [
  null, // 0
  'fifo', // 0010000
  'char', // 0020000
  null,
  'dir', // 0040000
  null,
  'block', // 0060000
  null,
  'file', // 0100000
  null,
  'symlink', // 0120000
  null,
  'socket', // 0140000
  null,
  null,
  null,
];

/**
 * `0100644` -> `{type:'file', perms:'0644'}`, `040755` -> `{type:'dir', perms:'0755'}`. Takes an octal
 * string (a leading `0`/`0o` is fine) or a number. Non-octal input gives undefined.
 */
export function describeMode(mode: string | number): FileMode | undefined {
  let m: number;
  if (typeof mode === 'number') {
    if (!Number.isInteger(mode) || mode < 0) return undefined;
    m = mode;
  } else {
    let i = 0;
    const len = mode.length;
    if (len > 1 && mode.charCodeAt(0) === 48 && (mode.charCodeAt(1) | 0x20) === 111) i = 2; // 0o
    if (i >= len || len - i > 11) return undefined;
    m = 0;
    for (; i < len; i++) {
      const c = mode.charCodeAt(i) - 48;
      if (c < 0 || c > 7) return undefined;
      m = m * 8 + c;
    }
  }
  const type = TYPES[(m >>> 12) & 0xf] ?? null;
  const p = (m & 0o7777).toString(8);
  return { type, perms: p.length >= 4 ? p : '0000'.slice(p.length) + p };
}
