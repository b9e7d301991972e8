import { booleanValues, type Policy } from '@avcstream/selinux-policy';
import { parseContext } from './context.ts';
import { decide, makeBoolState } from './decide.ts';

export class AccessInputError extends Error {
  readonly code: 'AVC_ERR_ACCESS_CONTEXT' | 'AVC_ERR_ACCESS_CLASS';
  constructor(code: 'AVC_ERR_ACCESS_CONTEXT' | 'AVC_ERR_ACCESS_CLASS', message: string) {
    super(message);
    this.name = 'AccessInputError';
    this.code = code;
  }
}

export interface AccessVectors {
  allowed: number;
  auditallow: number;
  /** A 0 bit means a denial of that permission is not audited (dontaudit). */
  auditdeny: number;
  /** Reason bits: 1 TE, 2 CONSTRAINT, 4 RBAC, 8 BOUNDS (for the full class vector as request). */
  reasons: number;
}

/**
 * The access vectors libsepol computes for (scontext, tcontext, tclass): TE through attributes, enabled
 * conditional rules, constraints, RBAC and type bounds. Contexts need valid names (not full validity).
 * `booleans` override the policy defaults. Throws AccessInputError for unknown names.
 */
export function computeAv(
  policy: Policy,
  scontext: string,
  tcontext: string,
  tclass: string,
  booleans?: Readonly<Record<string, boolean>>,
): AccessVectors {
  const s = parseContext(policy, scontext, false);
  if (!s.ok) throw new AccessInputError('AVC_ERR_ACCESS_CONTEXT', `source context: ${s.reason}`);
  const t = parseContext(policy, tcontext, false);
  if (!t.ok) throw new AccessInputError('AVC_ERR_ACCESS_CONTEXT', `target context: ${t.reason}`);
  const cls = policy.classByName.get(tclass);
  if (cls === undefined) throw new AccessInputError('AVC_ERR_ACCESS_CLASS', 'unknown class');
  const datum = policy.classes[cls - 1];
  const all = datum && datum.nperms < 32 ? 2 ** datum.nperms - 1 : 0xffffffff;
  const d = decide(policy, s.context, t.context, cls, all, makeBoolState(policy, booleanValues(policy, booleans)));
  return { allowed: d.allowed, auditallow: d.auditallow, auditdeny: d.auditdeny, reasons: d.reasons };
}
