// uid/gid -> name from passwd/group files (local resolution on the host that wrote the log, when asked).
import { readFileSync, statSync } from 'node:fs';

export type IdResolver = (kind: 'uid' | 'gid', id: number) => string | undefined;

const MAX_FILE_BYTES = 8 * 1024 * 1024;

/** `name:x:id:...` lines (passwd and group share the first and third columns). Pure. */
export function parseIdFile(text: string): Map<number, string> {
  const out = new Map<number, string>();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const parts = line.split(':');
    const name = parts[0];
    const id = parts[2];
    if (name === undefined || id === undefined || !/^\d{1,10}$/.test(id) || name.length > 256) continue;
    if (!out.has(Number(id))) out.set(Number(id), name);
  }
  return out;
}

/** Resolver over parsed passwd/group maps. */
export function createIdResolver(users: Map<number, string>, groups: Map<number, string>): IdResolver {
  return (kind, id) => (kind === 'uid' ? users.get(id) : groups.get(id));
}

/** Read passwd and group (bounded); a missing or unreadable file resolves nothing. */
export function loadIdResolver(passwdPath: string, groupPath: string): IdResolver {
  const read = (p: string) => {
    try {
      if (statSync(p).size > MAX_FILE_BYTES) return new Map<number, string>();
      return parseIdFile(readFileSync(p, 'utf8'));
    } catch {
      return new Map<number, string>();
    }
  };
  return createIdResolver(read(passwdPath), read(groupPath));
}
