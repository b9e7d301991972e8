import {
  COND_AND,
  COND_BOOL,
  COND_EQ,
  COND_NEQ,
  COND_NOT,
  COND_OR,
  COND_XOR,
  type CondNode,
  type Policy,
} from './model.ts';

const COND_STACK_MAX = 10;

/**
 * Evaluate a conditional expression (§21) with boolean values indexed by boolean value - 1 (0/1).
 * Returns 1, 0, or -1 when undefined (empty program, stack overflow or underflow, unknown node).
 */
export function evalCond(node: CondNode, values: ArrayLike<number>): number {
  const e = node.expr;
  const stack = [0, 0, 0, 0, 0, 0, 0, 0, 0, 0];
  let sp = -1;
  if (e.length === 0) return -1;
  for (let i = 0; i < e.length; i += 2) {
    const t = e[i] as number;
    if (t === COND_BOOL) {
      if (sp + 1 >= COND_STACK_MAX) return -1;
      stack[++sp] = values[(e[i + 1] as number) - 1] ? 1 : 0;
    } else if (t === COND_NOT) {
      if (sp < 0) return -1;
      stack[sp] = stack[sp] ? 0 : 1;
    } else {
      if (sp < 1) return -1;
      const b = stack[sp--] as number;
      const a = stack[sp] as number;
      let r: number;
      switch (t) {
        case COND_OR:
          r = a | b;
          break;
        case COND_AND:
          r = a & b;
          break;
        case COND_XOR:
          r = a ^ b;
          break;
        case COND_EQ:
          r = a === b ? 1 : 0;
          break;
        case COND_NEQ:
          r = a !== b ? 1 : 0;
          break;
        default:
          return -1;
      }
      stack[sp] = r;
    }
  }
  return stack[0] as number;
}

const OPS: Record<number, [string, number]> = {
  [COND_NOT]: ['!', 5],
  [COND_OR]: ['||', 1],
  [COND_AND]: ['&&', 3],
  [COND_XOR]: ['^', 2],
  [COND_EQ]: ['==', 4],
  [COND_NEQ]: ['!=', 4],
};

type Tree = string | Tree[];

function flatten(t: Tree, out: string[]): void {
  if (typeof t === 'string') out.push(t);
  else for (const x of t) flatten(x, out);
}

/** Infix rendering of a conditional expression, spelled the way setools (sesearch) prints it. */
export function formatCond(policy: Policy, node: CondNode): string {
  const stack: Tree[] = [];
  let prev = 5;
  const e = node.expr;
  for (let i = 0; i < e.length; i += 2) {
    const t = e[i] as number;
    if (t === COND_BOOL) {
      stack.push(policy.booleans[(e[i + 1] as number) - 1]?.name ?? `bool${e[i + 1]}`);
      continue;
    }
    const [text, prec] = OPS[t] ?? ['?', 0];
    if (t === COND_NOT) {
      const a = stack.pop() ?? '';
      stack.push(Array.isArray(a) ? [text, '(', a, ')'] : [text, a]);
    } else {
      const a = stack.pop() ?? '';
      const b = stack.pop() ?? '';
      stack.push(prev > prec ? [a, text, b] : ['(', a, text, b, ')']);
    }
    prev = prec;
  }
  const out: string[] = [];
  for (const x of stack) flatten(x, out);
  return out.join(' ');
}

/** Boolean values (0/1 by boolean value - 1) from the policy defaults plus overrides by name. */
export function booleanValues(policy: Policy, overrides?: Readonly<Record<string, boolean>>): Uint8Array {
  const v = new Uint8Array(policy.booleans.length);
  for (const b of policy.booleans) v[b.value - 1] = b.state ? 1 : 0;
  if (overrides) {
    for (const [name, value] of Object.entries(overrides)) {
      const bv = policy.boolByName.get(name);
      if (bv !== undefined) v[bv - 1] = value ? 1 : 0;
    }
  }
  return v;
}
