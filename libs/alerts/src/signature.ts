import { createHash } from 'node:crypto';
import type { DenialContext, SignatureInfo, SignatureOptions } from './types.ts';

function make(d: DenialContext, perms: string[], opts: SignatureOptions): SignatureInfo {
  const avc = d.avc;
  let key = `${avc.scontext.type}:${avc.tcontext.type}:${avc.tclass}:${perms.join(',')}`;
  const info: SignatureInfo = {
    id: '',
    key: '',
    sourceType: avc.scontext.type,
    targetType: avc.tcontext.type,
    class: avc.tclass,
    perms,
  };
  const include = opts.include ?? [];
  if (include.includes('exe')) {
    info.exe = d.exe ?? '';
    key += `:exe=${info.exe}`;
  }
  if (include.includes('path')) {
    info.path = d.path ?? '';
    key += `:path=${info.path}`;
  }
  info.key = key;
  info.id = createHash('sha256').update(key).digest('hex').slice(0, 32);
  return info;
}

/** The signatures of one denial: one per permission by default, or one for the whole set. */
export function signaturesOf(d: DenialContext, opts: SignatureOptions = {}): SignatureInfo[] {
  const perms = [...new Set(d.avc.perms)].sort();
  if (opts.permissionSet) return [make(d, perms, opts)];
  return perms.map((p) => make(d, [p], opts));
}
