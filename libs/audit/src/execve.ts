// EXECVE arguments longer than one record: the kernel (audit_log_execve_info) starts a new EXECVE record
// whenever the current one is nearly full, between whole arguments (`argc=4 a0="echo" a1="b"`, then
// `a2="c" a3="d"`) as well as between the `aN[k]=` pieces of a long argument (`aN_len=` and `aN[0]=`,
// `aN[1]=`, ...). Pieces are joined per record by the parser; an argument still incomplete at the end of
// its record is kept raw (hex or text) and remembered here. The reassembler joins every later EXECVE
// record of an event (one without `argc=`) into the first one, in order, as laurel does.
import { decodeHex, isHexString } from './hex.ts';
import { interpret } from './interpret-hook.ts';
import type { AuditRecord } from './types.ts';

/** Incomplete arguments of a record: base name (`a1`) -> whether its chunks are hex. */
const pending = new WeakMap<AuditRecord, Map<string, boolean>>();

export function markIncompleteArgs(rec: AuditRecord, args: Map<string, boolean>): void {
  pending.set(rec, args);
}

/**
 * Joins the continuation EXECVE records of one event (those after the first that have no `argc=`) into its
 * first EXECVE record: their arguments are added in order, pieces of an argument left open are appended
 * to it. Returns the records to keep (continuations dropped), or the same array when nothing was joined.
 */
export function joinExecveRecords(records: AuditRecord[]): AuditRecord[] {
  let first: AuditRecord | undefined;
  let joined = false;
  const out: AuditRecord[] = [];
  /** Arguments still open (pieces to append) -> whether their pieces are hex. */
  let raw: Map<string, boolean> | undefined;
  let fields: Record<string, string> | undefined;
  for (const r of records) {
    if (r.type !== 'EXECVE') {
      out.push(r);
      continue;
    }
    if (first === undefined) {
      first = r;
      raw = new Map(pending.get(r));
      fields = { ...r.fields };
      out.push(r);
      continue;
    }
    if (r.fields.argc !== undefined) {
      // Starts over: not a continuation (the kernel writes argc= only in the first record).
      out.push(r);
      continue;
    }
    // A continuation: append its pieces to the arguments still open, add the others.
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
