// Impure: read boolean values from a file or a directory laid out like /sys/fs/selinux/booleans.
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { BooleanFileError, MAX_BOOLEAN_NAME, parseBooleans } from './booleans.ts';
import { readFileBounded } from './read-bounded.ts';

/** Largest booleans file read (bytes). */
export const MAX_BOOLEANS_FILE = 4 * 1024 * 1024;
const MAX_DIR_ENTRIES = 10_000;

function readBounded(path: string, max: number): string {
  const buf = readFileBounded(path, max);
  if (buf === null) throw new BooleanFileError(`file larger than ${max} bytes`, 0);
  return buf.toString('latin1');
}

/**
 * Read booleans from `path`: a text file (see parseBooleans), or a directory with one file per boolean
 * holding "current pending" (as /sys/fs/selinux/booleans does). The current value is used.
 */
export function readBooleans(path: string): Record<string, boolean> {
  const st = statSync(path);
  if (!st.isDirectory()) return parseBooleans(readBounded(path, MAX_BOOLEANS_FILE));
  const out: Record<string, boolean> = Object.create(null);
  const names = readdirSync(path);
  if (names.length > MAX_DIR_ENTRIES) throw new BooleanFileError('too many entries in the booleans directory', 0);
  for (const name of names) {
    if (name.length > MAX_BOOLEAN_NAME || name.startsWith('.')) continue;
    const text = readBounded(join(path, name), 64).trim();
    const cur = text.split(/\s+/)[0];
    if (cur === '1') out[name] = true;
    else if (cur === '0') out[name] = false;
    else throw new BooleanFileError(`boolean file ${JSON.stringify(name)} does not hold "cur pending"`, 1);
  }
  return out;
}
