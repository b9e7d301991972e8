import { booleanValues, evalCond, formatCond } from './cond.ts';
import {
  AVTAB_ALLOWED,
  AVTAB_AUDITALLOW,
  AVTAB_AUDITDENY,
  AVTAB_XPERMS_ALLOWED,
  AVTAB_XPERMS_AUDITALLOW,
  AVTAB_XPERMS_DONTAUDIT,
  type AvtabEntries,
  type ClassDatum,
  type Policy,
} from './model.ts';

export type RuleKind = 'allow' | 'auditallow' | 'dontaudit' | 'allowxperm' | 'auditallowxperm' | 'dontauditxperm';

export interface RuleQuery {
  /** Type or attribute name (aliases accepted); matched indirectly, like `sesearch -s`. */
  source?: string;
  target?: string;
  /** Class name. */
  tclass?: string;
  /** Rules granting at least one of these permissions. */
  perms?: readonly string[];
  /** Boolean values overriding the policy defaults (decides `enabled`). */
  booleans?: Readonly<Record<string, boolean>>;
  /** Rule kinds to return; default allow, auditallow, dontaudit and their xperm forms. */
  kinds?: readonly RuleKind[];
}

export interface RuleMatch {
  kind: RuleKind;
  source: string;
  target: string;
  tclass: string;
  /** Permission names, sorted (for dontaudit: the permissions not audited). */
  perms: string[];
  /** For xperm rules: the rendered command set, e.g. `ioctl { 0x8910 0x8927-0x8928 }`. */
  xperms?: string;
  /** Null for unconditional rules. */
  conditional: { expression: string; branch: boolean; enabled: boolean } | null;
  /** The rule in sesearch's spelling. */
  text: string;
}

export class PolicyQueryError extends Error {
  readonly code = 'AVC_ERR_POLICY_QUERY';
}

const KIND_NAMES: Record<number, RuleKind> = {
  [AVTAB_ALLOWED]: 'allow',
  [AVTAB_AUDITALLOW]: 'auditallow',
  [AVTAB_AUDITDENY]: 'dontaudit',
  [AVTAB_XPERMS_ALLOWED]: 'allowxperm',
  [AVTAB_XPERMS_AUDITALLOW]: 'auditallowxperm',
  [AVTAB_XPERMS_DONTAUDIT]: 'dontauditxperm',
};

/** The rule kind of an avtab entry kind (`allow`, ..., `dontauditxperm`), or undefined for type rules. */
export function ruleKindName(kind: number): RuleKind | undefined {
  return KIND_NAMES[kind];
}

/** Permission names of the bits set in `av`, sorted by name. */
export function permNames(cls: ClassDatum, av: number): string[] {
  const out: string[] = [];
  for (let b = 0; b < cls.nperms; b++) if ((av >>> b) & 1) out.push(permName(cls, b));
  return out.sort();
}

/** The name of bit `b` of a class's permission vectors, or its value in hex when the policy names none. */
export function permName(cls: ClassDatum, b: number): string {
  return cls.permNames[b] || `0x${(1 << b) >>> 0}`;
}

function typeCriteria(policy: Policy, name: string | undefined): Uint8Array | null {
  if (name === undefined) return null;
  const v = policy.typeByName.get(name);
  if (v === undefined) throw new PolicyQueryError(`unknown type or attribute: ${name.slice(0, 128)}`);
  // Expanded criteria set: the type itself, or the attribute's members (and the attribute).
  const set = new Uint8Array(policy.types.length + 1);
  const t = policy.types[v - 1];
  if (t?.isAttribute) for (const m of policy.attrMembers[v] ?? []) set[m] = 1;
  else set[v] = 1;
  return set;
}

function matchesType(policy: Policy, crit: Uint8Array | null, ruleType: number): boolean {
  if (crit === null) return true;
  if (crit[ruleType]) return true;
  const t = policy.types[ruleType - 1];
  if (t?.isAttribute) for (const m of policy.attrMembers[ruleType] ?? []) if (crit[m]) return true;
  return false;
}

/** The commands of an xperm datum as sesearch writes them: `ioctl 0x5401`, `ioctl { 0x5401 0x8900-0x89ff }`. */
export function formatXperms(x: { specified: number; driver: number; perms: Uint32Array }): string {
  const vals: number[] = [];
  for (let k = 0; k < 256; k++) {
    if (((x.perms[k >>> 5] as number) >>> (k & 31)) & 1) {
      if (x.specified === 2) for (let f = 0; f < 256; f++) vals.push((k << 8) | f);
      else vals.push((x.driver << 8) | k);
    }
  }
  const parts: string[] = [];
  for (let i = 0; i < vals.length; ) {
    let j = i;
    while (j + 1 < vals.length && (vals[j + 1] as number) === (vals[j] as number) + 1) j++;
    const hex = (n: number) => `0x${n.toString(16)}`;
    parts.push(i === j ? hex(vals[i] as number) : `${hex(vals[i] as number)}-${hex(vals[j] as number)}`);
    i = j + 1;
  }
  const op = x.specified === 3 ? 'nlmsg' : 'ioctl';
  return parts.length === 1 ? `${op} ${parts[0]}` : `${op} { ${parts.join(' ')} }`;
}

/**
 * TE rules matching the query, attributes matched indirectly (a rule on an attribute matches a type that
 * belongs to it), like `sesearch -A -s S -t T -c C`. Conditional rules of both branches are returned, each
 * with its expression and whether it is enabled under the given booleans. Sorted by their text.
 */
export function queryRules(policy: Policy, q: RuleQuery): RuleMatch[] {
  const src = typeCriteria(policy, q.source);
  const tgt = typeCriteria(policy, q.target);
  let cls = 0;
  if (q.tclass !== undefined) {
    const cv = policy.classByName.get(q.tclass);
    if (cv === undefined) throw new PolicyQueryError(`unknown class: ${q.tclass.slice(0, 128)}`);
    cls = cv;
  }
  const kinds = new Set<RuleKind>(
    q.kinds ?? ['allow', 'auditallow', 'dontaudit', 'allowxperm', 'auditallowxperm', 'dontauditxperm'],
  );
  const values = booleanValues(policy, q.booleans);
  const condState = policy.conds.map((n) => evalCond(n, values));
  const out: RuleMatch[] = [];
  const scan = (av: AvtabEntries, conditional: boolean) => {
    for (let i = 0; i < av.count; i++) {
      const kind = KIND_NAMES[av.kind[i] as number];
      if (kind === undefined || !kinds.has(kind)) continue;
      const c = av.tclass[i] as number;
      if (cls !== 0 && c !== cls) continue;
      const s = av.source[i] as number;
      const t = av.target[i] as number;
      if (!matchesType(policy, src, s) || !matchesType(policy, tgt, t)) continue;
      const classDatum = policy.classes[c - 1] as ClassDatum;
      let perms: string[] = [];
      let xperms: string | undefined;
      const x = av.xperms.get(i);
      if (x) xperms = formatXperms(x);
      else {
        let data = av.data[i] as number;
        if (kind === 'dontaudit') data = ~data >>> 0;
        if (classDatum.nperms < 32) data &= (2 ** classDatum.nperms - 1) >>> 0;
        perms = permNames(classDatum, data);
        if (q.perms && q.perms.length > 0 && !q.perms.some((p) => perms.includes(p))) continue;
      }
      const sName = policy.types[s - 1]?.name ?? String(s);
      const tName = policy.types[t - 1]?.name ?? String(t);
      let text = `${kind} ${sName} ${tName}:${classDatum.name} `;
      text += x ? `${xperms};` : perms.length === 1 ? `${perms[0]};` : `{ ${perms.join(' ')} };`;
      let conditional_: RuleMatch['conditional'] = null;
      if (conditional) {
        const nodeIdx = policy.condEntryNode[i] as number;
        const node = policy.conds[nodeIdx];
        if (node) {
          const branch = policy.condEntryBranch[i] === 1;
          const st = condState[nodeIdx] as number;
          const expression = formatCond(policy, node);
          conditional_ = { expression, branch, enabled: st !== -1 && (st === 1) === branch };
          text += ` [ ${expression} ]:${branch ? 'True' : 'False'}`;
        }
      }
      const m: RuleMatch = {
        kind,
        source: sName,
        target: tName,
        tclass: classDatum.name,
        perms,
        conditional: conditional_,
        text,
      };
      if (xperms !== undefined) m.xperms = xperms;
      out.push(m);
    }
  };
  scan(policy.avtab, false);
  scan(policy.condAvtab, true);
  out.sort((a, b) => (a.text < b.text ? -1 : a.text > b.text ? 1 : 0));
  return out;
}
