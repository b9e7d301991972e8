import { type AuditEvent, type AuditRecord, avcPortOf } from '@avcstream/audit';
import type { DenialContext } from '@avcstream/alerts';

function num(v: string | undefined): number | null {
  return v !== undefined && /^\d{1,10}$/.test(v) ? Number(v) : null;
}

function nonEmpty(v: string | undefined): string | null {
  return v === undefined || v === '' || v === '(null)' ? null : v;
}

/** The target path of a denial: `path=` on the AVC, else the PATH record naming the object, else `name=`. */
function pathOf(avc: AuditRecord, event: AuditEvent): string | null {
  const direct = nonEmpty(avc.fields.path);
  if (direct !== null) return direct;
  let cwd: string | null = null;
  let normal: string | null = null;
  let parent: string | null = null;
  for (const r of event.records) {
    if (r.type === 'CWD') cwd = nonEmpty(r.fields.cwd);
    if (r.type !== 'PATH') continue;
    const name = nonEmpty(r.fields.name);
    if (name === null) continue;
    if (r.fields.nametype === 'PARENT') parent ??= name;
    else normal ??= name;
  }
  const pick = normal ?? nonEmpty(avc.fields.name) ?? parent;
  if (pick === null) return null;
  if (pick.startsWith('/') || cwd === null) return pick;
  return `${cwd.replace(/\/$/, '')}/${pick}`;
}

/** Key of an event for de-duplication across restarts: host, time and serial. */
export function eventKey(event: AuditEvent, defaultHost: string): string {
  return `${event.node ?? defaultHost}|${event.epoch}|${event.serial}`;
}

/** A denial with the facts an alert carries, and the port of a name_bind / name_connect for the explainer. */
export interface EmbeddedDenial extends DenialContext {
  /** `src=` of a name_bind, `dest=` of a name_connect denial (`avcPortOf`), else null. */
  port: number | null;
}

/** Every denied AVC / USER_AVC of an event, with the facts an alert carries. */
export function denialsOf(event: AuditEvent, defaultHost: string): EmbeddedDenial[] {
  const out: EmbeddedDenial[] = [];
  let syscall: AuditRecord | undefined;
  for (const r of event.records) if (r.type === 'SYSCALL') syscall = r;
  for (const r of event.records) {
    if (r.avc === undefined || r.avc.decision !== 'denied') continue;
    out.push({
      host: event.node ?? defaultHost,
      time: event.time,
      serial: event.serial,
      avc: r.avc,
      pid: num(r.fields.pid) ?? num(syscall?.fields.pid),
      comm: nonEmpty(r.fields.comm) ?? nonEmpty(syscall?.fields.comm),
      exe: nonEmpty(r.fields.exe) ?? nonEmpty(syscall?.fields.exe),
      path: pathOf(r, event),
      port: avcPortOf(r),
    });
  }
  return out;
}
