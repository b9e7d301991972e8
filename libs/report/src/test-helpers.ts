// Builders of parsed events for unit tests (no parser needed). Not exported from the package.
import type { AvcLike, ContextLike, EventLike, RecordLike } from './types.ts';

export function ctx(raw: string): ContextLike {
  const [user = '', role = '', type = '', ...rest] = raw.split(':');
  return { user, role, type, level: rest.length > 0 ? rest.join(':') : null, raw };
}

export interface AvcSpec {
  decision?: 'denied' | 'granted';
  perms?: string[];
  scontext?: string;
  tcontext?: string;
  tclass?: string;
  permissive?: boolean | null;
  fields?: Record<string, string>;
  type?: 'AVC' | 'USER_AVC';
}

export function avcRecord(spec: AvcSpec = {}): RecordLike {
  const avc: AvcLike = {
    decision: spec.decision ?? 'denied',
    perms: spec.perms ?? ['read'],
    scontext: ctx(spec.scontext ?? 'system_u:system_r:httpd_t:s0'),
    tcontext: ctx(spec.tcontext ?? 'unconfined_u:object_r:user_home_t:s0'),
    tclass: spec.tclass ?? 'file',
    permissive: spec.permissive ?? false,
  };
  return { type: spec.type ?? 'AVC', fields: { comm: 'httpd', ...spec.fields }, avc };
}

export function record(type: string, fields: Record<string, string> = {}): RecordLike {
  return { type, fields };
}

export function event(
  epoch: number,
  records: RecordLike[],
  node: string | null = null,
  serial = 1,
): EventLike {
  return { node, epoch, serial, time: new Date(epoch * 1000).toISOString(), records };
}
