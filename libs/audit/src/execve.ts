// EXECVE arguments longer than one record: the kernel writes `aN_len=` and then `aN[0]=`, `aN[1]=`, ...
// chunks, which may continue in further EXECVE records of the same event. Chunks are joined per record
// by the parser; an argument still incomplete at the end of its record is kept raw (hex or text) and
// remembered here, and the reassembler joins the continuation records into the first EXECVE record.
import { decodeHex, isHexString } from './hex.ts';
import { interpret } from './interpret-hook.ts';
import type { AuditRecord } from './types.ts';

/** Incomplete arguments of a record: base name (`a1`) -> whether its chunks are hex. */
const pending = new WeakMap<AuditRecord, Map<string, boolean>>();

export function markIncompleteArgs(rec: AuditRecord, args: Map<string, boolean>): void {
  pending.set(rec, args);
}

export function hasIncompleteArgs(rec: AuditRecord): boolean {
  return pending.has(rec);
}

/**
 * Joins continuation EXECVE records into the first EXECVE record of an event. Returns the records to
 * keep (continuations that only carried chunks are dropped), or the same array when nothing was joined.
 */
export function joinExecveRecords(records: AuditRecord[]): AuditRecord[] {
  let first: AuditRecord | undefined;
  let joined = false;
  const out: AuditRecord[] = [];
  let raw: Map<string, boolean> | undefined;
  let fields: Record<string, string> | undefined;
  for (const r of records) {
    if (r.type !== 'EXECVE') {
      out.push(r);
      continue;
    }
    if (first === undefined) {
      first = r;
      raw = pending.get(r);
      if (raw === undefined) return records;
      fields = { ...r.fields };
      out.push(r);
      continue;
    }
    // A continuation: append its chunks to the arguments still open.
    const more = pending.get(r);
    for (const key in r.fields) {
      const v = r.fields[key]!;
      if (raw!.has(key)) fields![key] += v;
      else if (fields![key] === undefined) {
        fields![key] = v;
        if (more?.has(key)) raw!.set(key, more.get(key)!);
      }
    }
    joined = true;
  }
  if (!joined || first === undefined || fields === undefined || raw === undefined) return records;
  for (const [key, hex] of raw) {
    const v = fields[key]!;
    if (hex && isHexString(v)) fields[key] = decodeHex(v);
  }
  const merged: AuditRecord = { ...first, fields, interpreted: interpret('EXECVE', fields, undefined) };
  pending.delete(first);
  const i = out.indexOf(first);
  out[i] = merged;
  return out;
}
