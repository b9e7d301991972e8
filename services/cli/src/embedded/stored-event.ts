import type { AuditEvent, AuditRecord, AvcInfo, SecurityContext } from '@avcstream/audit';
import { isSelinuxRecordType } from '@avcstream/report';

/** Longest field value kept, in characters (longer ones are cut and end with `…`). */
export const STORED_VALUE_CHARS = 1024;
/** Records of one event kept. */
export const STORED_RECORDS = 32;
/** Fields of one SELinux record kept. */
export const STORED_FIELDS = 64;
/** Permissions of one AVC record kept. */
export const STORED_PERMS = 64;

/** Fields the report reads from the records around a decision (comm/exe from SYSCALL, PATH names, CWD). */
const CONTEXT_FIELDS: Record<string, readonly string[]> = {
  SYSCALL: ['comm', 'exe', 'pid', 'ppid', 'auid', 'uid', 'syscall', 'success', 'exit', 'key'],
  PATH: ['name', 'nametype', 'inode', 'dev', 'mode'],
  CWD: ['cwd'],
};

/** The record types the report reads (AVC, USER_AVC, *SELINUX_ERR, MAC_*, USER_MAC_CONFIG_CHANGE,
 * USER_MAC_POLICY_LOAD). */
const isSelinuxType = isSelinuxRecordType;

function cut(v: string): string {
  return v.length <= STORED_VALUE_CHARS ? v : `${v.slice(0, STORED_VALUE_CHARS)}…`;
}

function context(c: SecurityContext): SecurityContext {
  return {
    user: cut(c.user),
    role: cut(c.role),
    type: cut(c.type),
    level: c.level === null ? null : cut(c.level),
    raw: cut(c.raw),
  };
}

function avcOf(a: AvcInfo): AvcInfo {
  return {
    decision: a.decision,
    perms: a.perms.slice(0, STORED_PERMS).map(cut),
    scontext: context(a.scontext),
    tcontext: context(a.tcontext),
    tclass: cut(a.tclass),
    permissive: a.permissive,
  };
}

export interface StoredEvent {
  event: AuditEvent;
  /** Rough size in characters (field names and values), for the byte bound of a pending batch. */
  approxChars: number;
}

/**
 * What the state dir keeps of an event for the report: its SELinux records (fields and parsed AVC body) plus
 * the SYSCALL, PATH and CWD fields the report reads; no `interpreted` values, no PROCTITLE / EXECVE / other
 * records; every value cut to `STORED_VALUE_CHARS`. The live report is fed the same trimmed event, so a report
 * rebuilt from the state dir after a restart is the same. Bounds one event to roughly
 * STORED_RECORDS × STORED_FIELDS × STORED_VALUE_CHARS characters whatever the input.
 */
export function storedEvent(ev: AuditEvent): StoredEvent {
  const records: AuditRecord[] = [];
  let approx = 64;
  for (const r of ev.records) {
    if (records.length >= STORED_RECORDS) break;
    const selinux = isSelinuxType(r.type);
    const keep = selinux ? null : CONTEXT_FIELDS[r.type];
    if (!selinux && keep === undefined) continue;
    const fields: Record<string, string> = {};
    let n = 0;
    if (keep === null || keep === undefined) {
      for (const k in r.fields) {
        if (n++ >= STORED_FIELDS) break;
        const v = cut(r.fields[k] as string);
        fields[cut(k)] = v;
        approx += k.length + v.length + 6;
      }
    } else {
      for (const k of keep) {
        const v = r.fields[k];
        if (v === undefined) continue;
        fields[k] = cut(v);
        approx += k.length + Math.min(v.length, STORED_VALUE_CHARS) + 6;
      }
    }
    const rec: AuditRecord = {
      type: r.type,
      node: r.node === null ? null : cut(r.node),
      sec: r.sec,
      msec: r.msec,
      serial: r.serial,
      fields,
      interpreted: {},
      line: r.line,
    };
    if (r.avc !== undefined) {
      rec.avc = avcOf(r.avc);
      approx += 256 + rec.avc.scontext.raw.length + rec.avc.tcontext.raw.length;
    }
    records.push(rec);
    approx += 96;
  }
  return {
    event: {
      node: ev.node === null ? null : cut(ev.node),
      time: ev.time,
      epoch: ev.epoch,
      serial: ev.serial,
      records,
      partial: ev.partial,
    },
    approxChars: approx,
  };
}
