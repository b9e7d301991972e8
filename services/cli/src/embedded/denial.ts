import { type AuditEvent, type AuditRecord, avcObjectPath, avcPortOf } from '@avcstream/audit';
import type { DenialContext } from '@avcstream/alerts';
import { objectPathOf } from '@avcstream/report';

function num(v: string | undefined): number | null {
  return v !== undefined && /^\d{1,10}$/.test(v) ? Number(v) : null;
}

function nonEmpty(v: string | undefined): string | null {
  return v === undefined || v === '' || v === '(null)' ? null : v;
}

/** Key of an event for de-duplication across restarts: host, time and serial. */
export function eventKey(event: AuditEvent, defaultHost: string): string {
  return `${event.node ?? defaultHost}|${event.epoch}|${event.serial}`;
}

/** A denial with the facts an alert carries, and the port of a name_bind / name_connect for the explainer. */
export interface EmbeddedDenial extends DenialContext {
  /** `src=` of a name_bind, `dest=` of a name_connect denial (`avcPortOf`), else null. */
  port: number | null;
  /**
   * The path of the object the kernel checked, for the file_contexts lookup (`avcObjectPath`): the AVC's own
   * `path=`, or the name of the PATH record of the same inode; else null.
   */
  avcPath: string | null;
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
      // The report's path for the same record (`objectPathOf`): an alert and the report never disagree.
      path: objectPathOf(r, event),
      port: avcPortOf(r),
      avcPath: avcObjectPath(r, event),
    });
  }
  return out;
}
