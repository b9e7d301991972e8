// The access decision of binary-policy.md §23-§25: TE, constraints, RBAC, type bounds.
import {
  AVTAB_ALLOWED,
  AVTAB_AUDITALLOW,
  CEXPR_AND,
  CEXPR_ATTR,
  CEXPR_DOM,
  CEXPR_DOMBY,
  CEXPR_EQ,
  CEXPR_H1H2,
  CEXPR_H1L2,
  CEXPR_INCOMP,
  CEXPR_L1H1,
  CEXPR_L1H2,
  CEXPR_L1L2,
  CEXPR_NAMES,
  CEXPR_NEQ,
  CEXPR_NOT,
  CEXPR_OR,
  CEXPR_ROLE,
  CEXPR_TARGET,
  CEXPR_TYPE,
  CEXPR_USER,
  type CondNode,
  type Constraint,
  type MlsLevel,
  type Policy,
  evalCond,
  roleAllowKey,
} from '@avcstream/selinux-policy';
import { type Context, dominates, levelEq } from './context.ts';

export const REASON_TE = 1;
export const REASON_CONSTRAINT = 2;
export const REASON_RBAC = 4;
export const REASON_BOUNDS = 8;

/** Boolean assignment plus the resulting state of every conditional node (1, 0 or -1 undefined). */
export interface BoolState {
  readonly values: Uint8Array;
  readonly cond: Int8Array;
}

export function makeBoolState(policy: Policy, values: Uint8Array): BoolState {
  const cond = new Int8Array(policy.conds.length);
  for (let i = 0; i < policy.conds.length; i++) cond[i] = evalCond(policy.conds[i] as CondNode, values);
  return { values, cond };
}

const boolNodesCache = new WeakMap<Policy, number[][]>();
/** For each boolean value - 1: the conditional nodes whose expression uses it. */
export function boolNodes(policy: Policy): number[][] {
  let m = boolNodesCache.get(policy);
  if (!m) {
    const mm: number[][] = policy.booleans.map(() => []);
    for (const n of policy.conds) for (const b of n.booleans) mm[b - 1]?.push(n.index);
    m = mm;
    boolNodesCache.set(policy, m);
  }
  return m;
}

/** The state with boolean `b` (value) flipped, re-evaluating only the nodes that use it. */
export function flipBool(policy: Policy, base: BoolState, b: number): BoolState {
  const values = base.values.slice();
  values[b - 1] = values[b - 1] ? 0 : 1;
  const cond = base.cond.slice();
  for (const n of boolNodes(policy)[b - 1] ?? []) cond[n] = evalCond(policy.conds[n] as CondNode, values);
  return { values, cond };
}

interface ProcessInfo {
  cls: number;
  transitionBits: number;
}
const processCache = new WeakMap<Policy, ProcessInfo>();
function processInfo(policy: Policy): ProcessInfo {
  let p = processCache.get(policy);
  if (!p) {
    const cls = policy.classByName.get('process') ?? 0;
    let transitionBits = 0;
    const datum = cls ? policy.classes[cls - 1] : undefined;
    if (datum) {
      for (const name of ['transition', 'dyntransition']) {
        const v = datum.ownPerms.get(name) ?? datum.common?.perms.get(name);
        if (v !== undefined) transitionBits |= 1 << (v - 1);
      }
    }
    p = { cls, transitionBits: transitionBits >>> 0 };
    processCache.set(policy, p);
  }
  return p;
}

export interface Decision {
  allowed: number;
  auditallow: number;
  auditdeny: number;
  reasons: number;
  /** Constraints that removed permissions in stage 2, in evaluation order. */
  failed: Constraint[];
  /** Allowed vector after TE (stage 1), before constraints. */
  teAllowed: number;
}

const MAX_BOUNDS_DEPTH = 32;

/**
 * The TE rules that bear on (t1, t2, class): the unconditional vectors merged over A(t1) x A(t2), and the
 * conditional entries (indexes into `condAvtab`) whose activity depends on booleans. Independent of users,
 * roles, levels, requested permissions and boolean values, so it can be cached per (t1, t2, class).
 */
export interface TeRules {
  readonly allowed: number;
  readonly auditallow: number;
  readonly auditdeny: number;
  readonly cond: Uint32Array;
}

const EMPTY_COND = new Uint32Array(0);

/**
 * Visit every (i, j) in A(t1) x A(t2) that has AV rules for the class, with its teIndex offset and
 * condIndex offset (-1 when absent). One hash lookup per source attribute, then a sorted intersection.
 */
export function forEachRulePair(
  policy: Policy,
  t1: number,
  t2: number,
  cls: number,
  fn: (i: number, j: number, teOff: number, condOff: number) => void,
): void {
  const a1 = policy.typeAttrs[t1];
  const a2 = policy.typeAttrs[t2];
  if (!a1 || !a2 || a2.length === 0) return;
  const targets = policy.scTargets;
  const m = a2.length;
  for (let x = 0; x < a1.length; x++) {
    const i = a1[x] as number;
    const g = policy.scIndex.get(i, 0, cls);
    if (g < 0) continue;
    let lo = policy.scRanges[g] as number;
    const end = policy.scRanges[g + 1] as number;
    if (end - lo <= 8 * m) {
      // Merge walk of two ascending lists.
      let y = 0;
      while (lo < end && y < m) {
        const tj = targets[lo] as number;
        const aj = a2[y] as number;
        if (tj < aj) lo++;
        else if (tj > aj) y++;
        else {
          fn(i, aj, policy.scTe[lo] as number, policy.scCond[lo] as number);
          lo++;
          y++;
        }
      }
    } else {
      // Binary search each member of A(t2) in the long target list.
      for (let y = 0; y < m && lo < end; y++) {
        const aj = a2[y] as number;
        let l = lo;
        let h = end - 1;
        while (l <= h) {
          const mid = (l + h) >>> 1;
          const v = targets[mid] as number;
          if (v < aj) l = mid + 1;
          else h = mid - 1;
        }
        lo = l;
        if (l < end && targets[l] === aj) fn(i, aj, policy.scTe[l] as number, policy.scCond[l] as number);
      }
    }
  }
}

export function gatherTe(policy: Policy, t1: number, t2: number, cls: number): TeRules {
  let allowed = 0;
  let auditallow = 0;
  let auditdeny = 0xffffffff;
  let cond: number[] | null = null;
  const vec = policy.teVectors;
  const lists = policy.condLists;
  forEachRulePair(policy, t1, t2, cls, (_i, _j, o, g) => {
    if (o >= 0) {
      allowed |= vec[o] as number;
      auditallow |= vec[o + 1] as number;
      auditdeny &= vec[o + 2] as number;
    }
    if (g >= 0) {
      const end = lists[g + 1] as number;
      cond ??= [];
      for (let k = lists[g] as number; k < end; k++) cond.push(lists[k] as number);
    }
  });
  return {
    allowed: allowed >>> 0,
    auditallow: auditallow >>> 0,
    auditdeny: auditdeny >>> 0,
    cond: cond ? Uint32Array.from(cond as number[]) : EMPTY_COND,
  };
}

/** A cache of gatherTe results (bounded; cleared when full). Keys stay small integers (no heap numbers). */
export class TeCache {
  private readonly pairs = new Map<number, Map<number, TeRules>>();
  private size = 0;
  private readonly policy: Policy;
  private readonly max: number;
  constructor(policy: Policy, max = 200_000) {
    this.policy = policy;
    this.max = max;
  }
  // The last answer: one explanation asks for the same (t1, t2, class) several times in a row.
  private lastPair = -1;
  private lastCls = -1;
  private last: TeRules | undefined;
  get(t1: number, t2: number, cls: number): TeRules {
    const pair = t1 * 65536 + t2;
    if (pair === this.lastPair && cls === this.lastCls && this.last !== undefined) return this.last;
    let byClass = this.pairs.get(pair);
    if (byClass === undefined) {
      if (this.size >= this.max) {
        this.pairs.clear();
        this.size = 0;
      }
      byClass = new Map();
      this.pairs.set(pair, byClass);
    }
    let r = byClass.get(cls);
    if (r === undefined) {
      r = gatherTe(this.policy, t1, t2, cls);
      byClass.set(cls, r);
      this.size++;
    }
    this.lastPair = pair;
    this.lastCls = cls;
    this.last = r;
    return r;
  }
}

/**
 * Compute the decision for (s, t, class) and the requested vector. `extraAllow` adds permissions at the TE
 * stage (used to verify a suggested allow rule before offering it). `teCache` is optional.
 */
export function decide(
  policy: Policy,
  s: Context,
  t: Context,
  cls: number,
  requested: number,
  bs: BoolState,
  extraAllow = 0,
  depth = 0,
  teCache: TeCache | null = null,
): Decision {
  const rules = teCache ? teCache.get(s.type, t.type, cls) : gatherTe(policy, s.type, t.type, cls);
  let allowed = (rules.allowed | extraAllow) >>> 0;
  let auditallow = rules.auditallow;
  let auditdeny = rules.auditdeny;
  let reasons = 0;
  let req = requested >>> 0;
  const cav = policy.condAvtab;
  const node = policy.condEntryNode;
  const branch = policy.condEntryBranch;
  const cond = bs.cond;
  const ce = rules.cond;
  for (let k = 0; k < ce.length; k++) {
    const e = ce[k] as number;
    const st = cond[node[e] as number] as number;
    if (st === -1 || st !== branch[e]) continue;
    const kind = cav.kind[e] as number;
    const d = cav.data[e] as number;
    if (kind === AVTAB_ALLOWED) allowed |= d;
    else if (kind === AVTAB_AUDITALLOW) auditallow |= d;
    else auditdeny &= d;
  }
  allowed >>>= 0;
  auditallow >>>= 0;
  auditdeny >>>= 0;
  const teAllowed = allowed;
  if (req & ~allowed) {
    reasons |= REASON_TE;
    req &= allowed;
  }

  // Stage 2: constraints, in file order.
  const failed: Constraint[] = [];
  const datum = policy.classes[cls - 1];
  if (datum) {
    for (const k of datum.constraints) {
      if ((k.perms & allowed) !== 0 && !evalConstraint(policy, k, s, t, null)) {
        allowed = (allowed & ~k.perms) >>> 0;
        failed.push(k);
      }
    }
  }
  if (req & ~allowed) {
    reasons |= REASON_CONSTRAINT;
    req &= allowed;
  }

  // Stage 3: RBAC on process transitions.
  const proc = processInfo(policy);
  if (cls === proc.cls && (allowed & proc.transitionBits) !== 0 && s.role !== t.role) {
    if (!policy.roleAllows.has(roleAllowKey(s.role, t.role))) allowed = (allowed & ~proc.transitionBits) >>> 0;
  }
  if (req & ~allowed) {
    reasons |= REASON_RBAC;
    req &= allowed;
  }

  // Stage 4: type bounds.
  const parentType = policy.types[s.type - 1]?.bounds ?? 0;
  if (parentType !== 0 && depth < MAX_BOUNDS_DEPTH) {
    const tb = policy.types[t.type - 1]?.bounds ?? 0;
    const ps: Context = { ...s, type: parentType };
    const pt: Context = tb !== 0 ? { ...t, type: tb } : t;
    const parent = decide(policy, ps, pt, cls, requested, bs, 0, depth + 1, teCache);
    const masked = (allowed & ~parent.allowed) >>> 0;
    if (masked !== 0) {
      allowed = (allowed & ~masked) >>> 0;
      reasons |= REASON_BOUNDS;
    }
  }
  return { allowed, auditallow, auditdeny, reasons, failed, teAllowed };
}

function mlsPair(attr: number, s: Context, t: Context): [MlsLevel, MlsLevel] {
  switch (attr) {
    case CEXPR_L1L2:
      return [s.low, t.low];
    case CEXPR_L1H2:
      return [s.low, t.high];
    case CEXPR_H1L2:
      return [s.high, t.low];
    case CEXPR_H1H2:
      return [s.high, t.high];
    case CEXPR_L1H1:
      return [s.low, s.high];
    default:
      return [t.low, t.high];
  }
}

/** Evaluate one leaf (ATTR or NAMES node). */
export function evalLeaf(
  policy: Policy,
  n: { exprType: number; attr: number; op: number; names: { has(bit: number): boolean } | null },
  s: Context,
  t: Context,
): boolean {
  if (n.exprType === CEXPR_NAMES) {
    const ctx = n.attr & CEXPR_TARGET ? t : s;
    const base = n.attr & (CEXPR_USER | CEXPR_ROLE | CEXPR_TYPE);
    const v = base === CEXPR_USER ? ctx.user : base === CEXPR_ROLE ? ctx.role : ctx.type;
    const has = n.names ? n.names.has(v - 1) : false;
    return n.op === CEXPR_EQ ? has : !has;
  }
  const attr = n.attr;
  const op = n.op;
  if (attr === CEXPR_USER || attr === CEXPR_TYPE) {
    const eq = attr === CEXPR_USER ? s.user === t.user : s.type === t.type;
    return op === CEXPR_NEQ ? !eq : eq;
  }
  if (attr === CEXPR_ROLE) {
    switch (op) {
      case CEXPR_EQ:
        return s.role === t.role;
      case CEXPR_NEQ:
        return s.role !== t.role;
      case CEXPR_DOM:
        return roleDom(policy, s.role, t.role);
      case CEXPR_DOMBY:
        return roleDom(policy, t.role, s.role);
      case CEXPR_INCOMP:
        return !roleDom(policy, s.role, t.role) && !roleDom(policy, t.role, s.role);
      default:
        return false;
    }
  }
  const [x, y] = mlsPair(attr, s, t);
  switch (op) {
    case CEXPR_EQ:
      return levelEq(x, y);
    case CEXPR_NEQ:
      return !levelEq(x, y);
    case CEXPR_DOM:
      return dominates(x, y);
    case CEXPR_DOMBY:
      return dominates(y, x);
    case CEXPR_INCOMP:
      return !dominates(x, y) && !dominates(y, x);
    default:
      return false;
  }
}

function roleDom(policy: Policy, r1: number, r2: number): boolean {
  const r = policy.roles[r1 - 1];
  return r ? r.dominates.has(r2 - 1) : false;
}

/**
 * Evaluate a constraint's postfix program (§25). When `marks` is given, it receives each leaf's result by
 * node index (for the explanation text).
 */
export function evalConstraint(
  policy: Policy,
  k: Constraint,
  s: Context,
  t: Context,
  marks: boolean[] | null,
): boolean {
  const stack: boolean[] = [];
  const e = k.expr;
  for (let i = 0; i < e.length; i++) {
    const n = e[i] as Constraint['expr'][number];
    switch (n.exprType) {
      case CEXPR_NOT:
        stack.push(!stack.pop());
        break;
      case CEXPR_AND: {
        const b = stack.pop() as boolean;
        const a = stack.pop() as boolean;
        stack.push(a && b);
        break;
      }
      case CEXPR_OR: {
        const b = stack.pop() as boolean;
        const a = stack.pop() as boolean;
        stack.push(a || b);
        break;
      }
      default: {
        const v = n.exprType === CEXPR_ATTR || n.exprType === CEXPR_NAMES ? evalLeaf(policy, n, s, t) : false;
        if (marks) marks[i] = v;
        stack.push(v);
      }
    }
  }
  return stack.length === 1 && stack[0] === true;
}
