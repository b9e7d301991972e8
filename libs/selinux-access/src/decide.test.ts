import {
  CEXPR_AND,
  CEXPR_ATTR,
  CEXPR_EQ,
  CEXPR_L1L2,
  CEXPR_NOT,
  CEXPR_OR,
  CEXPR_ROLE,
  CEXPR_TYPE,
  CEXPR_USER,
  type Constraint,
  type ConstraintNode,
  type Policy,
} from '@avcstream/selinux-policy';
import { describe, expect, it } from 'vitest';
import { type Context, parseContext } from './context.ts';
import { decide, decideMemo, evalConstraint, evalLeaf, flipBool, makeBoolState, TeCache } from './decide.ts';
import { debianPolicy, runDebian, samplePolicy } from './test-policies.ts';

/** Small deterministic PRNG (mulberry32). */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Name-valid contexts built from the policy's users, roles, types and a few MLS ranges. */
function contexts(policy: Policy, r: () => number, n: number): Context[] {
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)] as T;
  const types = policy.types.filter((t) => !t.isAttribute);
  const bounded = types.filter((t) => t.bounds !== 0);
  const levels = policy.mls ? [':s0', ':s0-s0:c0.c3', ':s0:c1', ':s0-s0'] : [''];
  const out: Context[] = [];
  while (out.length < n) {
    // Bounded types (type bounds) and constrained classes are over-represented on purpose.
    const type = bounded.length > 0 && r() < 0.3 ? pick(bounded) : pick(types);
    const text = `${pick(policy.users).name}:${pick(policy.roles).name}:${type.name}${pick(levels)}`;
    const c = parseContext(policy, text, false);
    if (c.ok) out.push(c.context);
  }
  return out;
}

function checkMemoIsTransparent(policy: Policy, seed: number, cases: number): void {
  const r = rng(seed);
  const ctx = contexts(policy, r, 200);
  const classes = policy.classes.filter((c) => c.constraints.length > 0 || r() < 0.2);
  const bs = makeBoolState(policy, Uint8Array.from(policy.booleans.map((b) => (b.state ? 1 : 0))));
  const te = new TeCache(policy);
  for (let i = 0; i < cases; i++) {
    const s = ctx[Math.floor(r() * ctx.length)] as Context;
    const t = ctx[Math.floor(r() * ctx.length)] as Context;
    const cls = classes[Math.floor(r() * classes.length)];
    if (!cls) continue;
    const all = cls.nperms >= 32 ? 0xffffffff : 2 ** cls.nperms - 1;
    const requested = (Math.floor(r() * 0x100000000) & all) >>> 0 || 1;
    const flips =
      policy.booleans.length > 0 ? [flipBool(policy, bs, 1 + Math.floor(r() * policy.booleans.length))] : [];
    const memo = decideMemo(policy, cls.value);
    // The order compute uses: the decision, boolean flips, the allow-rule check.
    for (const [state, extra] of [[bs, 0], ...flips.map((f) => [f, 0] as const), [bs, requested]] as const) {
      const plain = decide(policy, s, t, cls.value, requested, state, extra, 0, te);
      expect(decide(policy, s, t, cls.value, requested, state, extra, 0, te, memo)).toEqual(plain);
    }
  }
}

describe('decide with a DecideMemo', { timeout: 120_000 }, () => {
  it('decides as without it, on the sample policy (MLS constraints, bounds)', () => {
    checkMemoIsTransparent(samplePolicy(), 1, 3000);
  });
  it.runIf(runDebian)('decides as without it, on the Debian policy', () => {
    checkMemoIsTransparent(debianPolicy(), 2, 3000);
  });
});

/** evalConstraint as it was: an array stack, whatever the program (underflow pops undefined). */
function evalConstraintReference(
  policy: Policy,
  k: Constraint,
  s: Context,
  t: Context,
  marks: boolean[],
): boolean {
  const stack: boolean[] = [];
  k.expr.forEach((n, i) => {
    if (n.exprType === CEXPR_NOT) stack.push(!stack.pop());
    else if (n.exprType === CEXPR_AND || n.exprType === CEXPR_OR) {
      const b = stack.pop() as boolean;
      const a = stack.pop() as boolean;
      stack.push(n.exprType === CEXPR_AND ? a && b : a || b);
    } else {
      const v = evalLeaf(policy, n, s, t);
      marks[i] = v;
      stack.push(v);
    }
  });
  return stack.length === 1 && stack[0] === true;
}

describe('evalConstraint', () => {
  it('agrees with an array stack on random programs, malformed and deep ones included', () => {
    const policy = samplePolicy();
    const r = rng(7);
    const ctx = contexts(policy, r, 50);
    const leaves: ConstraintNode[] = [CEXPR_USER, CEXPR_ROLE, CEXPR_TYPE, CEXPR_L1L2].flatMap((attr) =>
      [CEXPR_EQ, CEXPR_EQ + 1].map((op) => ({ exprType: CEXPR_ATTR, attr, op, names: null, typeSet: null })),
    );
    for (let i = 0; i < 20_000; i++) {
      const expr: ConstraintNode[] = [];
      const len = 1 + Math.floor(r() * (i % 10 === 0 ? 80 : 12));
      let depth = 0;
      for (let j = 0; j < len; j++) {
        // Mostly well-formed, sometimes not (operators on a short stack, leftovers, very deep stacks).
        const wild = r() < 0.05;
        const x = r();
        if ((depth >= 2 || wild) && x < 0.3) {
          expr.push({
            exprType: x < 0.15 ? CEXPR_AND : CEXPR_OR,
            attr: 0,
            op: 0,
            names: null,
            typeSet: null,
          });
          depth--;
        } else if ((depth >= 1 || wild) && x < 0.4) {
          expr.push({ exprType: CEXPR_NOT, attr: 0, op: 0, names: null, typeSet: null });
        } else {
          expr.push(leaves[Math.floor(r() * leaves.length)] as ConstraintNode);
          depth++;
        }
      }
      const k: Constraint = { perms: 1, expr, mls: true };
      const s = ctx[Math.floor(r() * ctx.length)] as Context;
      const t = ctx[Math.floor(r() * ctx.length)] as Context;
      const marks: boolean[] = [];
      const expected: boolean[] = [];
      expect(evalConstraint(policy, k, s, t, marks)).toBe(evalConstraintReference(policy, k, s, t, expected));
      expect(marks).toEqual(expected);
      expect(evalConstraint(policy, k, s, t, null)).toBe(evalConstraintReference(policy, k, s, t, []));
    }
  });
});
