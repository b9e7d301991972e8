import type { AuditEvent, AuditRecord } from './types.ts';
import { IOCTL_NAMES } from './tables/ioctl-names.generated.ts';

const SELINUX_TYPES = new Set([
  'AVC',
  'USER_AVC',
  'SELINUX_ERR',
  'USER_SELINUX_ERR',
  'USER_MAC_CONFIG_CHANGE',
  'USER_MAC_POLICY_LOAD',
]);

/**
 * True for an AppArmor decision written as an AVC / USER_AVC record (type=1400 / 1107 on Ubuntu, Debian,
 * SUSE: `apparmor="DENIED" operation=... profile=...`, or dbus's `msg='apparmor="ALLOWED" ...'`): it has an
 * `apparmor=` field and no SELinux decision (no `avc:  denied|granted` body that parsed or was cut off, no
 * `seresult=`). A record with an SELinux decision is SELinux whatever other keys it holds.
 */
export function isAppArmorAvc(r: Pick<AuditRecord, 'type' | 'fields'> & { avc?: unknown }): boolean {
  const t = r.type;
  return (
    (t === 'AVC' || t === 'USER_AVC') &&
    r.fields.apparmor !== undefined &&
    r.avc === undefined &&
    r.fields.seresult === undefined
  );
}

/**
 * True when the event holds an AVC, USER_AVC, SELINUX_ERR, USER_SELINUX_ERR, USER_MAC_CONFIG_CHANGE
 * (libsemanage: `semanage`, `setsebool -P`), USER_MAC_POLICY_LOAD (a userspace AVC took in a policy reload)
 * or MAC_* record. AppArmor's AVC / USER_AVC records (`isAppArmorAvc`) do not count. Works on header-only
 * records (`headersOnly`): AVC and USER_AVC bodies are always parsed.
 */
export function isSelinuxEvent(event: AuditEvent): boolean {
  const recs = event.records;
  for (let i = 0; i < recs.length; i++) {
    const r = recs[i]!;
    const t = r.type;
    if (t === 'AVC' || t === 'USER_AVC') {
      if (!isAppArmorAvc(r)) return true;
    } else if (SELINUX_TYPES.has(t) || t.startsWith('MAC_')) return true;
  }
  return false;
}

/**
 * True for an AVC / USER_AVC record that states an SELinux decision (`avc:  denied|granted`, or
 * `seresult=`) but whose body did not parse (cut off, no tcontext or tclass, a bad context): it is kept
 * as a record without `avc`, and counted as malformed (decoder `malformedRecords`, `avcstream parse`,
 * `report` and `run`). AppArmor's AVC records (`isAppArmorAvc`) state no SELinux decision and never count.
 */
export function isMalformedAvc(r: Pick<AuditRecord, 'type' | 'fields'> & { avc?: unknown }): boolean {
  const t = r.type;
  return (t === 'AVC' || t === 'USER_AVC') && r.avc === undefined && r.fields.seresult !== undefined;
}

/**
 * The ioctl command of an AVC denial (`ioctlcmd=0x5401`, written by the kernel for ioctl checks), or null
 * when the record has none or it is neither a 16-bit hex number nor a name ausearch -i writes for one.
 */
export function ioctlCommandOf(r: Pick<AuditRecord, 'fields'>): number | null {
  const v = r.fields.ioctlcmd;
  if (v === undefined) return null;
  // ausearch -i writes the commands its table knows by name (TIOCGWINSZ).
  if (!/^0x[0-9a-fA-F]{1,4}$/.test(v)) return IOCTL_NAMES.get(v) ?? null;
  return Number.parseInt(v.slice(2), 16);
}

/**
 * The port of a socket denial, as the kernel writes it (decimal, 0..65535): `src=` for `name_bind`,
 * `dest=` for `name_connect`; null when the record asks for neither or the value is missing or not such a
 * number.
 */
export function avcPortOf(
  r: Pick<AuditRecord, 'fields'> & { avc?: { perms: readonly string[] } },
): number | null {
  const perms = r.avc?.perms;
  if (perms === undefined) return null;
  // name_connect's port is dest=; kernels before 2.6.19 or so wrote it as src= (no dest= field).
  const v = perms.includes('name_bind')
    ? r.fields.src
    : perms.includes('name_connect')
      ? (r.fields.dest ?? r.fields.src)
      : undefined;
  if (v === undefined || !/^(0|[1-9][0-9]{0,4})$/.test(v)) return null;
  const n = Number(v);
  return n <= 65535 ? n : null;
}

/** The record as it appears in `avcstream parse` output. */
function recordView(r: AuditRecord): object {
  return r.avc === undefined
    ? { type: r.type, fields: r.fields, interpreted: r.interpreted }
    : { type: r.type, fields: r.fields, interpreted: r.interpreted, avc: r.avc };
}

/** One record's JSON as it appears in `eventToJson`'s `records` array. */
export function recordToJson(r: AuditRecord): string {
  return JSON.stringify(recordView(r));
}

/**
 * One event as one line of JSON (no newline), in the `avcstream parse` shape:
 * `{"node","time","epoch","serial","records":[{"type","fields","interpreted","avc"?}],"partial"}`.
 * One JSON.stringify call over a plain view: a flat string, cheap to write.
 */
export function eventToJson(event: AuditEvent): string {
  const recs = event.records;
  const views = new Array<object>(recs.length);
  for (let i = 0; i < recs.length; i++) views[i] = recordView(recs[i]!);
  return JSON.stringify({
    node: event.node,
    time: event.time,
    epoch: event.epoch,
    serial: event.serial,
    records: views,
    partial: event.partial,
  });
}
