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
  type ClassDatum,
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

/**
 * What decide reads of a policy besides its model, built once and found with one lookup: the process
 * class and its transition permissions (stage 3), and per type value its bounding parent or 0 (stage 4;
 * dense, so a lookup stays in cache).
 */
export interface DecideTables {
  readonly processCls: number;
  readonly transitionBits: number;
  readonly bounds: Int32Array;
}

/** The value (1-based bit) of a class's permission, its own or its common's; undefined when unknown. */
export function permValue(cls: ClassDatum, name: string): number | undefined {
  return cls.ownPerms.get(name) ?? cls.common?.perms.get(name);
}

const decideTablesCache = new WeakMap<Policy, DecideTables>();
export function decideTables(policy: Policy): DecideTables {
  let d = decideTablesCache.get(policy);
  if (d === undefined) {
    const cls = policy.classByName.get('process') ?? 0;
    let transitionBits = 0;
    const datum = cls ? policy.classes[cls - 1] : undefined;
    if (datum) {
      for (const name of ['transition', 'dyntransition']) {
        const v = permValue(datum, name);
        if (v !== undefined) transitionBits |= 1 << (v - 1);
      }
    }
    const bounds = new Int32Array(policy.types.length + 1);
    for (let v = 1; v <= policy.types.length; v++) bounds[v] = policy.types[v - 1]?.bounds ?? 0;
    d = { processCls: cls, transitionBits: transitionBits >>> 0, bounds };
    decideTablesCache.set(policy, d);
  }
  return d;
}

export interface Decision {
  allowed: number;
  auditallow: number;
  auditdeny: number;
  reasons: number;
  /** Constraints that removed permissions in stage 2, in evaluation order (shared when empty). */
  failed: readonly Constraint[];
  /** Allowed vector after TE (stage 1), before constraints. */
  teAllowed: number;
  /** Permissions the type bounds removed (stage 4): allowed to the type but not to its parent; 0 if none. */
  boundsMasked: number;
}

const MAX_BOUNDS_DEPTH = 32;
/** Decision.failed when no constraint failed (most decisions): one frozen array, not one per decision. */
const NO_FAILED: readonly Constraint[] = Object.freeze([]);

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
  /**
   * Every (i, j) in A(t1) x A(t2) that has AV rules for the class, as quadruples (i, j, teIndex offset,
   * condIndex offset), -1 for an absent offset; in the order sources then targets ascend.
   */
  readonly pairs: Int32Array;
}

const EMPTY_COND = new Uint32Array(0);
const EMPTY_PAIRS = new Int32Array(0);
/** The rules of a triple without any (shared: TeRules are read-only; not frozen, to keep one shape). */
const NO_RULES: TeRules = { allowed: 0, auditallow: 0, auditdeny: 0xffffffff, cond: EMPTY_COND, pairs: EMPTY_PAIRS };

// Scratch space of rulePairs (grown on demand; decisions are synchronous, so one buffer serves all).
let scratch = new Int32Array(1024);

function pushPair(n: number, i: number, j: number, o: number, g: number): number {
  if (n + 4 > scratch.length) {
    const bigger = new Int32Array(scratch.length * 2);
    bigger.set(scratch);
    scratch = bigger;
  }
  scratch[n] = i;
  scratch[n + 1] = j;
  scratch[n + 2] = o;
  scratch[n + 3] = g;
  return n + 4;
}

// The policy's (source, class) -> targets index (scIndex, scRanges, scTargets, scTe, scCond) laid out for
// rulePairs: per class, a dense array of each type or attribute value's span [start, end) of entries
// (empty when it has no rules) and a bit per value with a non-empty span; per policy the entries' targets
// (scTargets itself, 16 bits each: the intersection walks a span in one or two cache lines) and, apart,
// their (teIndex offset, condIndex offset) pairs, read only for the targets found.
const E_TE = 0;
const E_COND = 1;
const E_STRIDE = 2;

export interface SourceSpans {
  /** The targets of every (source, class) group, back to back, ascending within a group. */
  readonly targets: Uint16Array;
  /** Per entry of `targets`: its teIndex offset and its condIndex offset (-1 when absent). */
  readonly offsets: Int32Array;
  /** Per class value: [start, end) entry numbers of every type or attribute value (built on first use). */
  readonly byClass: Array<Int32Array | undefined>;
  /** Per class value, built with `byClass`: a bit per type or attribute value whose span is not empty. */
  readonly nonEmpty: Array<Uint32Array | undefined>;
  /** `typeAttrs` flattened: the attributes of type t are attrFlat[attrStart[t] .. attrStart[t + 1]). */
  readonly attrStart: Int32Array;
  readonly attrFlat: Uint16Array;
  /** Per class value: (source, scIndex value) of each of its groups, listed on the first class built. */
  classGroups: number[][] | null;
}

const spansCache = new WeakMap<Policy, SourceSpans>();

export function sourceSpansOf(policy: Policy): SourceSpans {
  let sp = spansCache.get(policy);
  if (sp === undefined) {
    const targets = policy.scTargets;
    const te = policy.scTe;
    const cond = policy.scCond;
    const offsets = new Int32Array(targets.length * E_STRIDE);
    for (let k = 0; k < targets.length; k++) {
      offsets[k * E_STRIDE + E_TE] = te[k] as number;
      offsets[k * E_STRIDE + E_COND] = cond[k] as number;
    }
    const ta = policy.typeAttrs;
    const attrStart = new Int32Array(ta.length + 1);
    for (let t = 0; t < ta.length; t++) attrStart[t + 1] = (attrStart[t] as number) + (ta[t]?.length ?? 0);
    const attrFlat = new Uint16Array(attrStart[ta.length] as number);
    for (let t = 0; t < ta.length; t++) {
      const a = ta[t];
      if (a !== undefined) attrFlat.set(a, attrStart[t] as number);
    }
    sp = { targets, offsets, byClass: [], nonEmpty: [], attrStart, attrFlat, classGroups: null };
    spansCache.set(policy, sp);
  }
  return sp;
}

/** For one class: [start, end) entry numbers per type or attribute value, dense (start = end: no rules). */
function classSpans(sp: SourceSpans, policy: Policy, cls: number): Int32Array {
  // The first call per class builds it (kept out of line: this path stays optimized for the lookups).
  return sp.byClass[cls] ?? buildClassSpans(sp, policy, cls);
}

function buildClassSpans(sp: SourceSpans, policy: Policy, cls: number): Int32Array {
  // The (source, class) groups of every class, listed once per policy from scIndex: a class's spans are
  // then built from its own groups instead of a lookup per type value.
  let groups = sp.classGroups;
  if (groups === null) {
    const lists: number[][] = [];
    policy.scIndex.forEach((source, _target, tclass, g) => {
      let l = lists[tclass];
      if (l === undefined) {
        l = [];
        lists[tclass] = l;
      }
      l.push(source, g);
    });
    groups = lists;
    sp.classGroups = groups;
  }
  const ranges = policy.scRanges;
  const ntypes = policy.types.length;
  const spans = new Int32Array((ntypes + 1) * 2);
  const bits = new Uint32Array(((ntypes + 1) >>> 5) + 1);
  const list = groups[cls] ?? [];
  for (let x = 0; x < list.length; x += 2) {
    const v = list[x] as number;
    const g = list[x + 1] as number;
    if (v > ntypes) continue;
    const start = ranges[g] as number;
    const end = ranges[g + 1] as number;
    spans[v * 2] = start;
    spans[v * 2 + 1] = end;
    if (end > start) bits[v >>> 5] = ((bits[v >>> 5] as number) | (1 << (v & 31))) >>> 0;
  }
  sp.byClass[cls] = spans;
  sp.nonEmpty[cls] = bits;
  return spans;
}

/** Index = type value: the value of its bounding (parent) type, or 0. Dense, so a lookup stays in cache. */
export function typeBounds(policy: Policy): Int32Array {
  return decideTables(policy).bounds;
}

/**
 * Every (i, j) in A(t1) x A(t2) that has AV rules for the class, with its teIndex offset and condIndex
 * offset (-1 when absent), as quadruples in `scratch`; returns their length. A bit test per source
 * attribute, a dense-array load for those with rules for the class, then a sorted intersection.
 */
function rulePairs(policy: Policy, t1: number, t2: number, cls: number, sp: SourceSpans): number {
  const starts = sp.attrStart;
  const flat = sp.attrFlat;
  if (t1 < 0 || t2 < 0 || t1 + 1 >= starts.length || t2 + 1 >= starts.length) return 0;
  const a2s = starts[t2] as number;
  const m = (starts[t2 + 1] as number) - a2s;
  if (m === 0) return 0;
  const spans = classSpans(sp, policy, cls);
  // A bit per source with rules for the class: most of A(t1) has none, and the bits stay in cache.
  const bits = sp.nonEmpty[cls] as Uint32Array;
  const tg = sp.targets;
  const off = sp.offsets;
  const a1e = starts[t1 + 1] as number;
  let n = 0;
  for (let x = starts[t1] as number; x < a1e; x++) {
    const i = flat[x] as number;
    if (((bits[i >>> 5] as number) & (1 << (i & 31))) === 0) continue;
    let lo = spans[i * 2] as number;
    const end = spans[i * 2 + 1] as number;
    if (end - lo <= 8 * m) {
      // Merge walk of two ascending lists.
      let y = 0;
      while (lo < end && y < m) {
        const tj = tg[lo] as number;
        const aj = flat[a2s + y] as number;
        if (tj < aj) lo++;
        else if (tj > aj) y++;
        else {
          const e = lo * E_STRIDE;
          n = pushPair(n, i, aj, off[e + E_TE] as number, off[e + E_COND] as number);
          lo++;
          y++;
        }
      }
    } else {
      // Binary search each member of A(t2) in the long target list.
      for (let y = 0; y < m && lo < end; y++) {
        const aj = flat[a2s + y] as number;
        let l = lo;
        let h = end - 1;
        while (l <= h) {
          const mid = (l + h) >>> 1;
          const v = tg[mid] as number;
          if (v < aj) l = mid + 1;
          else h = mid - 1;
        }
        lo = l;
        if (l < end && tg[l] === aj) {
          const e = l * E_STRIDE;
          n = pushPair(n, i, aj, off[e + E_TE] as number, off[e + E_COND] as number);
        }
      }
    }
  }
  return n;
}

/** The TE rules of (t1, t2, class); `spans` is sourceSpansOf(policy), when the caller has it at hand. */
export function gatherTe(
  policy: Policy,
  t1: number,
  t2: number,
  cls: number,
  spans: SourceSpans = sourceSpansOf(policy),
): TeRules {
  const n = rulePairs(policy, t1, t2, cls, spans);
  if (n === 0) {
    return NO_RULES;
  }
  let allowed = 0;
  let auditallow = 0;
  let auditdeny = 0xffffffff;
  let ncond = 0;
  const vec = policy.teVectors;
  const lists = policy.condLists;
  for (let k = 0; k < n; k += 4) {
    const o = scratch[k + 2] as number;
    const g = scratch[k + 3] as number;
    if (o >= 0) {
      allowed |= vec[o] as number;
      auditallow |= vec[o + 1] as number;
      auditdeny &= vec[o + 2] as number;
    }
    if (g >= 0) ncond += (lists[g + 1] as number) - (lists[g] as number);
  }
  let cond = EMPTY_COND;
  if (ncond > 0) {
    cond = new Uint32Array(ncond);
    let c = 0;
    for (let k = 0; k < n; k += 4) {
      const g = scratch[k + 3] as number;
      if (g < 0) continue;
      const end = lists[g + 1] as number;
      for (let e = lists[g] as number; e < end; e++) cond[c++] = lists[e] as number;
    }
  }
  return {
    allowed: allowed >>> 0,
    auditallow: auditallow >>> 0,
    auditdeny: auditdeny >>> 0,
    cond,
    pairs: scratch.slice(0, n),
  };
}

/**
 * A cache of gatherTe results, direct-mapped over typed arrays keyed by (t1, t2, class): a slot per hash of
 * the key, holding the last triple gathered there. Small enough to stay in the CPU caches: a lookup is one
 * slot, a miss overwrites it (hot triples of real logs stay found). A hash table of every triple seen cost
 * more to probe, grow and keep than it saved when triples are mostly distinct (bench:policy: 25k triples
 * over 29.8k distinct denials).
 */
export class TeCache {
  private readonly policy: Policy;
  private readonly mask: number;
  private readonly keyPair: Uint32Array;
  private readonly keyCls: Uint16Array;
  private readonly values: Array<TeRules | undefined>;
  // The policy's tables, found once per cache rather than by a WeakMap lookup per call.
  private spans: SourceSpans | null = null;
  private tables: DecideTables | null = null;
  // The last answer: one explanation asks for the same (t1, t2, class) several times in a row.
  private lastPair = -1;
  private lastCls = -1;
  private last: TeRules | undefined;
  /** `slots` is rounded up to a power of two. */
  constructor(policy: Policy, slots = 4096) {
    this.policy = policy;
    let cap = 16;
    while (cap < slots) cap *= 2;
    this.mask = cap - 1;
    this.keyPair = new Uint32Array(cap);
    this.keyCls = new Uint16Array(cap);
    this.values = new Array<TeRules | undefined>(cap).fill(undefined);
  }
  get(t1: number, t2: number, cls: number): TeRules {
    const pair = ((t1 << 16) | t2) >>> 0;
    if (pair === this.lastPair && cls === this.lastCls && this.last !== undefined) return this.last;
    let h = Math.imul(pair ^ (cls << 7), 0x9e3779b1);
    h ^= h >>> 15;
    const i = h & this.mask;
    let r = this.values[i];
    if (r === undefined || this.keyCls[i] !== cls || this.keyPair[i] !== pair) {
      if (this.spans === null) this.spans = sourceSpansOf(this.policy);
      r = gatherTe(this.policy, t1, t2, cls, this.spans);
      this.keyCls[i] = cls;
      this.keyPair[i] = pair;
      this.values[i] = r;
    }
    this.lastPair = pair;
    this.lastCls = cls;
    this.last = r;
    return r;
  }
  /** decideTables(policy) of the cache's policy. */
  decideTables(): DecideTables {
    if (this.tables === null) this.tables = decideTables(this.policy);
    return this.tables;
  }
}

/**
 * What several decisions on the same (s, t, class) can share: the outcome of each constraint (it depends on
 * the contexts only, not on booleans or the requested vector) and the bounded parent's allowed vector
 * under one boolean state (it depends on the state, not on the requested vector or `extraAllow`).
 */
export interface DecideMemo {
  /** Per constraint of the class, by position: -1 not evaluated yet, 0 failed, 1 held. */
  readonly constraints: Int8Array;
  /** The state `parentAllowed` was computed under, or null. */
  parentBs: BoolState | null;
  parentAllowed: number;
}

/**
 * An empty memo for decisions on one (s, t, class): `reuse` emptied when it is given and large enough (one
 * memo serves the decisions of one explanation after another), else a new one.
 */
export function decideMemo(policy: Policy, cls: number, reuse: DecideMemo | null = null): DecideMemo {
  const n = policy.classes[cls - 1]?.constraints.length ?? 0;
  if (reuse !== null && reuse.constraints.length >= n) {
    reuse.constraints.fill(-1, 0, n);
    reuse.parentBs = null;
    reuse.parentAllowed = 0;
    return reuse;
  }
  return { constraints: new Int8Array(Math.max(n, 64)).fill(-1), parentBs: null, parentAllowed: 0 };
}

/**
 * Compute the decision for (s, t, class) and the requested vector. `extraAllow` adds permissions at the TE
 * stage (used to verify a suggested allow rule before offering it). `teCache` is optional. `memo`, when
 * given, must only ever be passed with the same (s, t, class); the decision is the same with or without it.
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
  memo: DecideMemo | null = null,
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
  let failed: Constraint[] | null = null;
  const datum = policy.classes[cls - 1];
  if (datum) {
    const constraints = datum.constraints;
    for (let c = 0; c < constraints.length; c++) {
      const k = constraints[c] as Constraint;
      if ((k.perms & allowed) === 0) continue;
      let held: boolean;
      const known = memo === null ? -1 : (memo.constraints[c] as number);
      if (known < 0) {
        held = evalConstraint(policy, k, s, t, null);
        if (memo !== null) memo.constraints[c] = held ? 1 : 0;
      } else held = known === 1;
      if (!held) {
        allowed = (allowed & ~k.perms) >>> 0;
        if (failed === null) failed = [];
        failed.push(k);
      }
    }
  }
  if (req & ~allowed) {
    reasons |= REASON_CONSTRAINT;
    req &= allowed;
  }

  // Stage 3: RBAC on process transitions.
  const tables = teCache ? teCache.decideTables() : decideTables(policy);
  if (cls === tables.processCls && (allowed & tables.transitionBits) !== 0 && s.role !== t.role) {
    if (!policy.roleAllows.has(roleAllowKey(s.role, t.role))) allowed = (allowed & ~tables.transitionBits) >>> 0;
  }
  if (req & ~allowed) {
    reasons |= REASON_RBAC;
    req &= allowed;
  }

  // Stage 4: type bounds.
  let boundsMasked = 0;
  const bounds = tables.bounds;
  const parentType = bounds[s.type] ?? 0;
  if (parentType !== 0 && depth < MAX_BOUNDS_DEPTH) {
    let parentAllowed: number;
    if (memo !== null && memo.parentBs === bs) parentAllowed = memo.parentAllowed;
    else {
      const tb = bounds[t.type] ?? 0;
      const ps: Context = { ...s, type: parentType };
      const pt: Context = tb !== 0 ? { ...t, type: tb } : t;
      parentAllowed = decide(policy, ps, pt, cls, requested, bs, 0, depth + 1, teCache).allowed;
      if (memo !== null) {
        memo.parentBs = bs;
        memo.parentAllowed = parentAllowed;
      }
    }
    const masked = (allowed & ~parentAllowed) >>> 0;
    if (masked !== 0) {
      allowed = (allowed & ~masked) >>> 0;
      reasons |= REASON_BOUNDS;
      boundsMasked = masked;
    }
  }
  return { allowed, auditallow, auditdeny, reasons, failed: failed ?? NO_FAILED, teAllowed, boundsMasked };
}

/** The first level an MLS leaf compares (l1, l1, h1, h1, l1, l2 for L1L2 … L2H2). */
function mlsLeft(attr: number, s: Context, t: Context): MlsLevel {
  switch (attr) {
    case CEXPR_L1L2:
    case CEXPR_L1H2:
    case CEXPR_L1H1:
      return s.low;
    case CEXPR_H1L2:
    case CEXPR_H1H2:
      return s.high;
    default:
      return t.low;
  }
}

/** The second level an MLS leaf compares (l2, h2, l2, h2, h1, h2 for L1L2 … L2H2). */
function mlsRight(attr: number, s: Context, t: Context): MlsLevel {
  switch (attr) {
    case CEXPR_L1L2:
    case CEXPR_H1L2:
      return t.low;
    case CEXPR_L1H1:
      return s.high;
    default:
      return t.high;
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
  const x = mlsLeft(attr, s, t);
  const y = mlsRight(attr, s, t);
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
 * node index (for the explanation text). The stack is the bits of one integer (top at bit 0), so an
 * evaluation allocates nothing; a program that underflows or nests deeper than STACK_BITS (never, for a
 * policy `readPolicy` accepted) takes `evalConstraintArray`, whose answer for it is the reference.
 */
export function evalConstraint(
  policy: Policy,
  k: Constraint,
  s: Context,
  t: Context,
  marks: boolean[] | null,
): boolean {
  const e = k.expr;
  let bits = 0;
  let depth = 0;
  for (let i = 0; i < e.length; i++) {
    const n = e[i] as Constraint['expr'][number];
    const type = n.exprType;
    if (type === CEXPR_NOT) {
      if (depth < 1) return evalConstraintArray(policy, k, s, t, marks);
      bits ^= 1;
    } else if (type === CEXPR_AND || type === CEXPR_OR) {
      if (depth < 2) return evalConstraintArray(policy, k, s, t, marks);
      const b = bits & 1;
      bits >>>= 1;
      bits = type === CEXPR_AND ? bits & (b | ~1) : bits | b;
      depth--;
    } else {
      if (depth >= STACK_BITS) return evalConstraintArray(policy, k, s, t, marks);
      const v = type === CEXPR_ATTR || type === CEXPR_NAMES ? evalLeaf(policy, n, s, t) : false;
      if (marks) marks[i] = v;
      bits = (bits << 1) | (v ? 1 : 0);
      depth++;
    }
  }
  return depth === 1 && (bits & 1) === 1;
}

/** Depth of evalConstraint's bit stack. */
const STACK_BITS = 30;

/** evalConstraint over an array stack: also defined (as before) for malformed programs. */
function evalConstraintArray(
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
