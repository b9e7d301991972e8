// Boolean values from text: `name value` lines (0/1/true/false/on/off) or `getsebool -a` lines (`name --> on`).

export const MAX_BOOLEAN_NAME = 256;
export const MAX_BOOLEAN_LINES = 100_000;

export class BooleanFileError extends Error {
  readonly code = 'AVC_ERR_BOOLEANS_FORMAT';
  readonly line: number;
  constructor(message: string, line: number) {
    super(`${message} (line ${line})`);
    this.name = 'BooleanFileError';
    this.line = line;
  }
}

const NAME_RE = /^[A-Za-z0-9_.-]+$/;

export function parseBooleanValue(text: string): boolean | null {
  switch (text.toLowerCase()) {
    case '1':
    case 'true':
    case 'on':
      return true;
    case '0':
    case 'false':
    case 'off':
      return false;
    default:
      return null;
  }
}

/**
 * Parse a booleans file. Blank lines and `#` comments are ignored. Accepted forms per line:
 * `name value`, `name=value`, `name --> on|off` (getsebool -a). Throws BooleanFileError on a bad line.
 */
export function parseBooleans(text: string): Record<string, boolean> {
  const out: Record<string, boolean> = Object.create(null);
  const lines = text.split('\n');
  if (lines.length > MAX_BOOLEAN_LINES) throw new BooleanFileError('too many lines', MAX_BOOLEAN_LINES + 1);
  lines.forEach((raw, i) => {
    const line = raw.replace(/#.*$/, '').trim();
    if (line === '') return;
    const parts = line.split(/\s*-->\s*|\s*=\s*|\s+/).filter((p) => p !== '');
    if (parts.length !== 2) throw new BooleanFileError('expected "name value"', i + 1);
    const [name, value] = parts as [string, string];
    if (name.length > MAX_BOOLEAN_NAME || !NAME_RE.test(name)) throw new BooleanFileError('bad boolean name', i + 1);
    const v = parseBooleanValue(value);
    if (v === null) throw new BooleanFileError('value must be 0, 1, true, false, on or off', i + 1);
    out[name] = v;
  });
  return out;
}
