import type { AuditEvent } from './types.ts';

const SELINUX_TYPES = new Set(['AVC', 'USER_AVC', 'SELINUX_ERR', 'USER_SELINUX_ERR']);

/** True when the event holds an AVC, USER_AVC, SELINUX_ERR, USER_SELINUX_ERR or MAC_* record. */
export function isSelinuxEvent(event: AuditEvent): boolean {
  const recs = event.records;
  for (let i = 0; i < recs.length; i++) {
    const t = recs[i]!.type;
    if (SELINUX_TYPES.has(t) || t.startsWith('MAC_')) return true;
  }
  return false;
}

function objectJson(o: Record<string, unknown>): string {
  for (const _ in o) return JSON.stringify(o);
  return '{}';
}

/**
 * One event as one line of JSON (no newline), in the `avcstream parse` shape:
 * `{"node","time","epoch","serial","records":[{"type","fields","interpreted","avc"?}],"partial"}`.
 */
export function eventToJson(event: AuditEvent): string {
  let s =
    '{"node":' +
    (event.node === null ? 'null' : JSON.stringify(event.node)) +
    ',"time":"' +
    event.time +
    '","epoch":' +
    event.epoch +
    ',"serial":' +
    event.serial +
    ',"records":[';
  const recs = event.records;
  for (let i = 0; i < recs.length; i++) {
    const r = recs[i]!;
    if (i > 0) s += ',';
    s +=
      '{"type":' +
      JSON.stringify(r.type) +
      ',"fields":' +
      JSON.stringify(r.fields) +
      ',"interpreted":' +
      objectJson(r.interpreted);
    if (r.avc !== undefined) s += ',"avc":' + JSON.stringify(r.avc);
    s += '}';
  }
  return s + '],"partial":' + event.partial + '}';
}
