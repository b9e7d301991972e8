// Accesses that guard the system itself: a denial of one may be an attack or a compromised process rather
// than a gap in the policy, so an explanation that offers to allow it says so first (setroubleshoot flags
// such denials as possible intrusions; audit2allow does not).
import type { Policy } from '@avcstream/selinux-policy';
import type { Context } from './context.ts';
import { attributeValue, inAttribute } from './relabel.ts';

const KERNEL_MODULES = 'loads code into the kernel';
const RAW_IO = "reads and writes devices and memory below the kernel's checks";
const MAC_ADMIN = 'changes or overrides the MAC policy';
/** Permissions that reach past the MAC policy, into the kernel or into other processes, per class. */
const SENSITIVE_PERMS: ReadonlyMap<string, ReadonlyMap<string, string>> = new Map([
  [
    'capability',
    new Map([
      ['sys_module', KERNEL_MODULES],
      ['sys_rawio', RAW_IO],
    ]),
  ],
  [
    'cap_userns',
    new Map([
      ['sys_module', KERNEL_MODULES],
      ['sys_rawio', RAW_IO],
    ]),
  ],
  [
    'capability2',
    new Map([
      ['mac_admin', MAC_ADMIN],
      ['mac_override', MAC_ADMIN],
    ]),
  ],
  [
    'cap2_userns',
    new Map([
      ['mac_admin', MAC_ADMIN],
      ['mac_override', MAC_ADMIN],
    ]),
  ],
  [
    'process',
    new Map([
      ['ptrace', "reads and writes another process's memory"],
      ['dyntransition', 'changes the domain of a running process'],
      ['setcurrent', 'changes the domain of a running process'],
    ]),
  ],
  ['system', new Map([['module_load', KERNEL_MODULES]])],
]);

/** Types named for what they hold, in refpolicy and its derivatives. */
const SENSITIVE_TYPES: ReadonlyMap<string, string> = new Map([
  ['memory_device_t', 'raw system memory (/dev/mem, /dev/kmem)'],
  ['security_t', 'the SELinux security server (selinuxfs)'],
]);

/**
 * Why allowing the permissions `perms` of class `tclass` on `t` would touch something that guards the
 * system, or null. From the policy's own attributes where it has them: a file type outside refpolicy's
 * `non_auth_file_type` holds authentication data (shadow_t), one outside `non_security_file_type` is
 * security-relevant (audit logs, policy files); plus the `security` class (the security server's
 * operations), a few types and kernel-level permissions.
 */
export function sensitiveReason(
  policy: Policy,
  t: Context,
  tclass: string,
  perms: readonly string[],
): string | null {
  if (tclass === 'security')
    return `${tclass} ${perms.join(' ')} operates the SELinux security server itself`;
  const listed = SENSITIVE_PERMS.get(tclass);
  if (listed !== undefined) {
    for (const p of perms) {
      const what = listed.get(p);
      if (what !== undefined) return `${tclass} ${p} ${what}`;
    }
  }
  switch (typeKinds(policy)[t.type]) {
    case K_NAMED:
      return `${t.typeName} is ${SENSITIVE_TYPES.get(policy.types[t.type - 1]?.name ?? '')}`;
    case K_AUTH:
      return `${t.typeName} holds authentication data (a file type outside non_auth_file_type)`;
    case K_SECURITY:
      return `${t.typeName} is a security-relevant file type (outside non_security_file_type: audit logs, policy, keys)`;
    default:
      return null;
  }
}

const K_PLAIN = 0;
const K_NAMED = 1;
const K_AUTH = 2;
const K_SECURITY = 3;
const kindsCache = new WeakMap<Policy, Uint8Array>();

/**
 * Per type value, what sensitiveReason says of a target of that type (K_*), found once per policy: a
 * denial asks with one array read instead of searching the type's attributes three times.
 */
function typeKinds(policy: Policy): Uint8Array {
  let kinds = kindsCache.get(policy);
  if (kinds === undefined) {
    kinds = new Uint8Array(policy.types.length + 1);
    const fileType = attributeValue(policy, 'file_type');
    const nonAuth = attributeValue(policy, 'non_auth_file_type');
    const nonSecurity = attributeValue(policy, 'non_security_file_type');
    for (let v = 1; v <= policy.types.length; v++) {
      const name = policy.types[v - 1]?.name;
      if (name !== undefined && SENSITIVE_TYPES.has(name)) kinds[v] = K_NAMED;
      else if (!inAttribute(policy, v, fileType)) kinds[v] = K_PLAIN;
      else if (nonAuth !== 0 && !inAttribute(policy, v, nonAuth)) kinds[v] = K_AUTH;
      else if (nonSecurity !== 0 && !inAttribute(policy, v, nonSecurity)) kinds[v] = K_SECURITY;
    }
    kindsCache.set(policy, kinds);
  }
  return kinds;
}

/** The evidence line of a sensitive access, before any fix that would allow it. */
export function cautionLine(reason: string, source: string): string {
  return `Caution: ${reason}. A denial here may come from an attack or a compromised process rather than a gap in the policy: find out why ${source} asked before allowing it.`;
}

/** A `cautionLine`, its reason captured. */
const CAUTION_LINE = /^Caution: (.+?)(?:\. A denial here may come from .*)?$/s;

/**
 * The reason of the first `cautionLine` among stored evidence lines (`Explanation.evidence`, e.g. an
 * analyzer document's `decision.evidence`, whose strict mapping has no field for the caution), or null.
 */
export function cautionOfEvidence(evidence: unknown): string | null {
  if (!Array.isArray(evidence)) return null;
  for (const line of evidence) {
    const m = typeof line === 'string' ? CAUTION_LINE.exec(line) : null;
    if (m !== null) return m[1] as string;
  }
  return null;
}
