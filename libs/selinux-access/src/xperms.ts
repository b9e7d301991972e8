// Extended permissions (ioctl commands), as the kernel applies them (binary-policy.md §24.5). libsepol's
// audit2why ignores them: when the base `ioctl` permission is allowed but the policy restricts the
// commands of that (source, target, class) with xperm rules, the kernel still denies a command no
// allowxperm rule lists, and audit2why wrongly answers that the policy allows it. Pure and synchronous.
import { AVTAB_XPERMS_ALLOWED, formatXperms, type Policy, ruleKindName } from '@avcstream/selinux-policy';

/** XpermDatum.specified: a set of functions (low bytes) of one driver, or a set of whole drivers. */
const IOCTL_FUNCTION = 1;
const IOCTL_DRIVER = 2;
/** Most rules quoted as evidence. */
const MAX_QUOTED = 8;

export interface IoctlCheck {
  /**
   * ioctl xperm entries (allowxperm, auditallowxperm, dontauditxperm) that apply to the triple through its
   * attributes. The compiler writes one entry per driver listed by functions, and one for whole drivers.
   */
  rules: number;
  /** Whether an allowxperm rule lists the command. */
  allowed: boolean;
  /** Up to 8 of those entries, as `allowxperm web_t web_content_t:file ioctl 0x5401-0x5402;` (sorted). */
  quoted: string[];
}

/**
 * Unconditional avtab entries that are ioctl xperm rules, by class value then source type/attribute value
 * (built once per policy): a check walks only the entries of A(source).
 */
const byPolicy = new WeakMap<Policy, Map<number, Map<number, number[]>>>();

function ioctlEntries(policy: Policy): Map<number, Map<number, number[]>> {
  let m = byPolicy.get(policy);
  if (m !== undefined) return m;
  m = new Map();
  const av = policy.avtab;
  for (const [i, x] of av.xperms) {
    if (x.specified !== IOCTL_FUNCTION && x.specified !== IOCTL_DRIVER) continue;
    const c = av.tclass[i] as number;
    const src = av.source[i] as number;
    let bySource = m.get(c);
    if (bySource === undefined) {
      bySource = new Map();
      m.set(c, bySource);
    }
    const list = bySource.get(src);
    if (list === undefined) bySource.set(src, [i]);
    else list.push(i);
  }
  byPolicy.set(policy, m);
  return m;
}

function has(bits: Uint32Array, n: number): boolean {
  return (((bits[n >>> 5] as number) >>> (n & 31)) & 1) === 1;
}

/**
 * The ioctl xperm rules that apply to (source type, target type, class) through A(source) x A(target), and
 * whether one allows `cmd` (0..0xffff). Null when there is none: the base `ioctl` permission alone decides.
 */
export function checkIoctl(
  policy: Policy,
  source: number,
  target: number,
  cls: number,
  cmd: number,
): IoctlCheck | null {
  const bySource = ioctlEntries(policy).get(cls);
  if (bySource === undefined) return null;
  const sAttrs = policy.typeAttrs[source];
  const tAttrs = policy.typeAttrs[target];
  if (sAttrs === undefined || tAttrs === undefined) return null;
  const av = policy.avtab;
  const driver = (cmd >>> 8) & 0xff;
  const fn = cmd & 0xff;
  let rules = 0;
  let allowed = false;
  const quoted: string[] = [];
  const entries: number[] = [];
  for (const a of sAttrs) {
    const list = bySource.get(a);
    if (list !== undefined) for (const i of list) entries.push(i);
  }
  for (const i of entries) {
    if (!tAttrs.includes(av.target[i] as number)) continue;
    const x = av.xperms.get(i);
    if (x === undefined) continue;
    rules++;
    const kind = av.kind[i] as number;
    if (kind === AVTAB_XPERMS_ALLOWED) {
      if (x.specified === IOCTL_DRIVER ? has(x.perms, driver) : x.driver === driver && has(x.perms, fn)) {
        allowed = true;
      }
    }
    const sName = policy.types[(av.source[i] as number) - 1]?.name ?? '?';
    const tName = policy.types[(av.target[i] as number) - 1]?.name ?? '?';
    const cName = policy.classes[cls - 1]?.name ?? '?';
    quoted.push(`${ruleKindName(kind) ?? 'xperm'} ${sName} ${tName}:${cName} ${formatXperms(x)};`);
  }
  if (rules === 0) return null;
  quoted.sort();
  return { rules, allowed, quoted: quoted.slice(0, MAX_QUOTED) };
}

/** `0x5401` for an ioctl command. */
export function ioctlHex(cmd: number): string {
  return `0x${cmd.toString(16)}`;
}
