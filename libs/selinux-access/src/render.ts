// Constraint explanation text, spelled like libsepol's (binary-policy.md §26.4).
import {
  CEXPR_AND,
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
  CEXPR_XTARGET,
  type ClassDatum,
  type Constraint,
  type Policy,
} from '@avcstream/selinux-policy';
import type { Context } from './context.ts';
import { evalConstraint } from './decide.ts';

export type Cause = 'user' | 'role' | 'type' | 'level';

function mlsNames(attr: number): [string, string] {
  switch (attr) {
    case CEXPR_L1L2:
      return ['l1', 'l2'];
    case CEXPR_L1H2:
      return ['l1', 'h2'];
    case CEXPR_H1L2:
      return ['h1', 'l2'];
    case CEXPR_H1H2:
      return ['h1', 'h2'];
    case CEXPR_L1H1:
      return ['l1', 'h1'];
    default:
      return ['l2', 'h2'];
  }
}

function opText(op: number, mls: boolean, role: boolean): string {
  switch (op) {
    case CEXPR_EQ:
      return mls ? 'eq' : '==';
    case CEXPR_NEQ:
      return '!=';
    case CEXPR_DOM:
      return mls || role ? 'dom' : '?';
    case CEXPR_DOMBY:
      return mls || role ? 'domby' : '?';
    case CEXPR_INCOMP:
      return mls || role ? 'incomp' : '?';
    default:
      return '?';
  }
}

function symbolNames(policy: Policy, n: Constraint['expr'][number]): string[] {
  const base = n.attr & (CEXPR_USER | CEXPR_ROLE | CEXPR_TYPE);
  if (base === CEXPR_TYPE && n.typeSet && policy.version >= 29) {
    return n.typeSet.types.toArray().map((b) => policy.types[b]?.name ?? `type${b + 1}`);
  }
  const bits = n.names ? n.names.toArray() : [];
  if (base === CEXPR_USER) return bits.map((b) => policy.users[b]?.name ?? `user${b + 1}`);
  if (base === CEXPR_ROLE) return bits.map((b) => policy.roles[b]?.name ?? `role${b + 1}`);
  return bits.map((b) => policy.types[b]?.name ?? `type${b + 1}`);
}

export interface RenderedConstraint {
  readonly text: string;
  readonly causes: readonly Cause[];
}

/** Rendered constraints by constraint and class, then by the outcome of each leaf (see `leafKey`). */
const renderedCache = new WeakMap<Constraint, { cls: ClassDatum; byLeaves: Map<number | string, RenderedConstraint> }>();
const MAX_RENDERED_PER_CONSTRAINT = 1024;

/** The leaves' outcomes as a key: a bit per expression node up to 30 nodes, else a string. */
function leafKey(marks: readonly boolean[], n: number): number | string {
  if (n <= 30) {
    let key = 0;
    for (let i = 0; i < n; i++) if (marks[i] === true) key |= 1 << i;
    return key;
  }
  let key = '';
  for (let i = 0; i < n; i++) key += marks[i] === true ? '1' : '0';
  return key;
}

/**
 * One paragraph of libsepol's constraint explanation, plus which fields' tests failed. The text depends
 * on the contexts only through the outcome of each leaf, so it is rendered once per outcome (shared and
 * frozen).
 */
export function renderConstraint(
  policy: Policy,
  cls: ClassDatum,
  k: Constraint,
  s: Context,
  t: Context,
): RenderedConstraint {
  const marks: boolean[] = [];
  evalConstraint(policy, k, s, t, marks);
  let cached = renderedCache.get(k);
  if (cached === undefined || cached.cls !== cls) {
    cached = { cls, byLeaves: new Map() };
    renderedCache.set(k, cached);
  }
  const key = leafKey(marks, k.expr.length);
  let r = cached.byLeaves.get(key);
  if (r === undefined) {
    r = renderMarked(policy, cls, k, marks);
    if (cached.byLeaves.size >= MAX_RENDERED_PER_CONSTRAINT) cached.byLeaves.clear();
    cached.byLeaves.set(key, r);
  }
  return r;
}

function renderMarked(policy: Policy, cls: ClassDatum, k: Constraint, marks: readonly boolean[]): RenderedConstraint {
  const causes = new Set<Cause>();
  const stack: string[] = [];
  k.expr.forEach((n, i) => {
    if (n.exprType === CEXPR_NOT) {
      const b = stack.pop() ?? '';
      stack.push(b.startsWith('not') ? `not (${b})` : `not${b}`);
      return;
    }
    if (n.exprType === CEXPR_AND || n.exprType === CEXPR_OR) {
      const b = stack.pop() ?? '';
      const a = stack.pop() ?? '';
      stack.push(`${a} ${n.exprType === CEXPR_AND ? 'and' : 'or'} ${b}`);
      return;
    }
    const failedLeaf = marks[i] === false;
    const mark = failedLeaf ? ' -Fail-' : '';
    const base = n.attr & (CEXPR_USER | CEXPR_ROLE | CEXPR_TYPE);
    const x = base === CEXPR_USER ? 'u' : base === CEXPR_ROLE ? 'r' : 't';
    if (failedLeaf) {
      if (n.attr >= CEXPR_L1L2 && n.exprType !== CEXPR_NAMES) causes.add('level');
      else causes.add(base === CEXPR_USER ? 'user' : base === CEXPR_ROLE ? 'role' : 'type');
    }
    if (n.exprType === CEXPR_NAMES) {
      const which = n.attr & CEXPR_XTARGET ? '3' : n.attr & CEXPR_TARGET ? '2' : '1';
      let leaf = `(${x}${which} ${opText(n.op, false, false)}`;
      const names = symbolNames(policy, n);
      if (names.length === 0) leaf += '<empty_set> ';
      if (names.length > 1) leaf += ' {';
      for (const name of names) leaf += ` ${name}`;
      if (names.length > 1) leaf += ' }';
      stack.push(`${leaf}${mark}) `);
      return;
    }
    if (n.attr >= CEXPR_L1L2) {
      const [a, b] = mlsNames(n.attr);
      stack.push(`(${a} ${opText(n.op, true, false)} ${b}${mark}) `);
      return;
    }
    stack.push(`(${x}1 ${opText(n.op, false, base === CEXPR_ROLE)} ${x}2${mark}) `);
  });
  let perms = '';
  for (let b = 0; b < cls.nperms; b++) if ((k.perms >>> b) & 1) perms += ` ${cls.permNames[b] ?? ''}`;
  const head = `${k.mls ? 'mlsconstrain' : 'constrain'} ${cls.name} {${perms} } (`;
  return Object.freeze({ text: `${head}${stack.join('')}); Constraint DENIED\n`, causes: Object.freeze([...causes]) });
}
