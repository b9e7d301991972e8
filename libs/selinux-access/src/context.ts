// Security context text -> numeric context, with libsepol's validity rules (binary-policy.md §22.2-§22.3).
import { Ebitmap, type MlsLevel, type Policy } from '@avcstream/selinux-policy';

/** Longest context string accepted (the kernel limit on a context is a page). */
export const MAX_CONTEXT_LENGTH = 4096;

export interface Level {
  readonly sens: number;
  readonly cats: Ebitmap;
}

export interface Context {
  readonly user: number;
  readonly role: number;
  readonly type: number;
  readonly low: Level;
  readonly high: Level;
  /** Names as written. */
  readonly userName: string;
  readonly roleName: string;
  readonly typeName: string;
  /** MLS part as written, or '' when absent. */
  readonly mls: string;
}

export type ContextResult = { ok: true; context: Context } | { ok: false; reason: string };

const NO_LEVEL: Level = { sens: 0, cats: Ebitmap.EMPTY };

function fail(reason: string): ContextResult {
  return { ok: false, reason };
}

function quote(s: string): string {
  return JSON.stringify(s.length > 80 ? `${s.slice(0, 80)}...` : s);
}

/** Most categories a level may name (bounded by the policy's own table anyway). */
const MAX_CATS = 1 << 20;

function parseLevel(policy: Policy, text: string): Level | string {
  const colon = text.indexOf(':');
  const sensName = colon < 0 ? text : text.slice(0, colon);
  const sens = policy.sensByName.get(sensName);
  if (sens === undefined) return `unknown sensitivity ${quote(sensName)}`;
  if (colon < 0) return { sens, cats: Ebitmap.EMPTY };
  const ncats = Math.min(policy.categories.length, MAX_CATS);
  // Dense words over the policy's categories, then the sparse nodes Ebitmap stores.
  const words = new Uint32Array(((ncats + 63) >>> 6) * 2);
  const set = (bit: number) => {
    words[bit >>> 5] = ((words[bit >>> 5] as number) | (1 << (bit & 31))) >>> 0;
  };
  for (const item of text.slice(colon + 1).split(',')) {
    const dot = item.indexOf('.');
    if (dot < 0) {
      const v = policy.catByName.get(item);
      if (v === undefined) return `unknown category ${quote(item)}`;
      set(v - 1);
    } else {
      const a = policy.catByName.get(item.slice(0, dot));
      const b = policy.catByName.get(item.slice(dot + 1));
      if (a === undefined || b === undefined) return `unknown category in ${quote(item)}`;
      if (a >= b) return `bad category range ${quote(item)}`;
      // Bits a-1 .. b-1, a word at a time.
      for (let bit = a - 1; bit <= b - 1; ) {
        const w = bit >>> 5;
        const from = bit & 31;
        const to = Math.min(31, b - 1 - (w << 5));
        const mask = to - from === 31 ? 0xffffffff : ((1 << (to - from + 1)) - 1) << from;
        words[w] = ((words[w] as number) | mask) >>> 0;
        bit = (w + 1) << 5;
      }
    }
  }
  const starts: number[] = [];
  const nodeWords: number[] = [];
  for (let i = 0; i < words.length; i += 2) {
    const lo = words[i] as number;
    const hi = words[i + 1] as number;
    if (lo !== 0 || hi !== 0) {
      starts.push(i * 32);
      nodeWords.push(lo, hi);
    }
  }
  if (starts.length === 0) return { sens, cats: Ebitmap.EMPTY };
  const highbit = (starts[starts.length - 1] as number) + 64;
  return { sens, cats: new Ebitmap(Uint32Array.from(starts), Uint32Array.from(nodeWords), highbit) };
}

/** x dom y: sensitivity at least as high and a superset of categories. */
export function dominates(x: MlsLevel, y: MlsLevel): boolean {
  return x.sens >= y.sens && containsAll(x.cats, y.cats);
}

export function levelEq(x: MlsLevel, y: MlsLevel): boolean {
  return x.sens === y.sens && x.cats.equals(y.cats);
}

function containsAll(a: Ebitmap, b: Ebitmap): boolean {
  const bs = b.starts;
  const as = a.starts;
  let j = 0;
  for (let i = 0; i < bs.length; i++) {
    const s = bs[i] as number;
    while (j < as.length && (as[j] as number) < s) j++;
    if (j >= as.length || as[j] !== s) return false;
    const blo = b.words[i * 2] as number;
    const bhi = b.words[i * 2 + 1] as number;
    if (((a.words[j * 2] as number) & blo) >>> 0 !== blo) return false;
    if (((a.words[j * 2 + 1] as number) & bhi) >>> 0 !== bhi) return false;
  }
  return true;
}

/**
 * The policy's `typeByName` (types, aliases, attributes) as an open-addressing table over typed arrays,
 * looked up by a range of characters of the context text: no substring, no Map probe through several
 * objects (typeByName holds thousands of names, so each of those is a cache miss).
 */
export class NameTable {
  /** Per slot: hash + 1 (0 = empty), start and length of the name in `chars`, value. */
  private readonly slots: Int32Array;
  private readonly chars: Uint16Array;
  private readonly mask: number;
  constructor(names: ReadonlyMap<string, number>) {
    let cap = 16;
    while (cap < names.size * 2) cap *= 2;
    this.mask = cap - 1;
    this.slots = new Int32Array(cap * 4);
    let total = 0;
    for (const name of names.keys()) total += name.length;
    this.chars = new Uint16Array(total);
    let at = 0;
    for (const [name, value] of names) {
      for (let i = 0; i < name.length; i++) this.chars[at + i] = name.charCodeAt(i);
      const h = NameTable.hash(name, 0, name.length);
      let i = h & this.mask;
      while (this.slots[i * 4] !== 0) i = (i + 1) & this.mask;
      this.slots[i * 4] = h + 1;
      this.slots[i * 4 + 1] = at;
      this.slots[i * 4 + 2] = name.length;
      this.slots[i * 4 + 3] = value;
      at += name.length;
    }
  }
  static hash(s: string, from: number, to: number): number {
    let h = 0x811c9dc5;
    for (let i = from; i < to; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
    return (h ^ (h >>> 15)) & 0x3fffffff;
  }
  /** The value of the name s[from, to), or undefined. */
  get(s: string, from: number, to: number): number | undefined {
    const h = NameTable.hash(s, from, to);
    const slots = this.slots;
    const chars = this.chars;
    const n = to - from;
    for (let i = h & this.mask; ; i = (i + 1) & this.mask) {
      const stored = slots[i * 4] as number;
      if (stored === 0) return undefined;
      if (stored !== h + 1 || slots[i * 4 + 2] !== n) continue;
      const at = slots[i * 4 + 1] as number;
      let k = 0;
      while (k < n && chars[at + k] === s.charCodeAt(from + k)) k++;
      if (k === n) return slots[i * 4 + 3] as number;
    }
  }
}

/**
 * What parseContext reads of a policy besides its maps, built once and found with one lookup: the type
 * names as a NameTable, a flag per type value that is an attribute (dense, so a lookup stays in cache),
 * and the parsed MLS ranges.
 */
export interface ContextTables {
  readonly typeNames: NameTable;
  readonly attributes: Uint8Array;
  readonly ranges: Map<string, RangeEntry | string>;
  /** Per role value: a dense bitset of its types (bit = type value - 1), built on the role's first use. */
  readonly roleTypes: Array<Uint32Array | undefined>;
}

const tablesCache = new WeakMap<Policy, ContextTables>();
export function contextTables(policy: Policy): ContextTables {
  let t = tablesCache.get(policy);
  if (t === undefined) {
    const attributes = new Uint8Array(policy.types.length + 1);
    for (let v = 1; v <= policy.types.length; v++) attributes[v] = policy.types[v - 1]?.isAttribute ? 1 : 0;
    t = { typeNames: new NameTable(policy.typeByName), attributes, ranges: new Map(), roleTypes: [] };
    tablesCache.set(policy, t);
  }
  return t;
}

type Range = readonly [Level, Level];
const MAX_CACHED_RANGES = 10_000;

/**
 * A parsed MLS range and what the validity rules found about it so far: the rules on the range alone
 * (`why`, undefined until checked) and, per user value, whether the range lies within the user's (-1
 * unknown, 0 no, 1 yes).
 */
interface RangeEntry {
  readonly low: Level;
  readonly high: Level;
  why: string | null | undefined;
  readonly userOk: Int8Array;
}

/** MLS ranges repeat a lot across contexts ("s0", "s0-s0:c0.c1023"): parse each once per policy. */
function parseRangeCached(policy: Policy, m: Map<string, RangeEntry | string>, mls: string): RangeEntry | string {
  let r = m.get(mls);
  if (r === undefined) {
    const range = parseRange(policy, mls);
    r =
      typeof range === 'string'
        ? range
        : { low: range[0], high: range[1], why: undefined, userOk: new Int8Array(policy.users.length + 1).fill(-1) };
    if (m.size >= MAX_CACHED_RANGES) m.clear();
    if (mls.length <= 256) m.set(mls, r);
  }
  return r;
}

function parseRange(policy: Policy, mls: string): Range | string {
  const dash = mls.indexOf('-');
  const l = parseLevel(policy, dash < 0 ? mls : mls.slice(0, dash));
  if (typeof l === 'string') return l;
  if (dash < 0) return [l, l];
  const h = parseLevel(policy, mls.slice(dash + 1));
  if (typeof h === 'string') return h;
  return [l, h];
}

/**
 * Parse a context. `strict` applies every libsepol validity rule (audit2why-compatible); otherwise only
 * the names must exist and the MLS part must parse.
 */
export function parseContext(policy: Policy, text: string, strict: boolean): ContextResult {
  return parseContextIn(policy, contextTables(policy), text, strict);
}

/** parseContext with the policy's contextTables at hand (a caller parsing many contexts keeps them). */
export function parseContextIn(
  policy: Policy,
  tables: ContextTables,
  text: string,
  strict: boolean,
): ContextResult {
  if (text.length > MAX_CONTEXT_LENGTH) return fail('context too long');
  const c1 = text.indexOf(':');
  const c2 = c1 < 0 ? -1 : text.indexOf(':', c1 + 1);
  if (c2 < 0) return fail(`malformed context ${quote(text)}`);
  const c3 = text.indexOf(':', c2 + 1);
  const userName = text.slice(0, c1);
  const roleName = text.slice(c1 + 1, c2);
  const typeName = c3 < 0 ? text.slice(c2 + 1) : text.slice(c2 + 1, c3);
  const mls = c3 < 0 ? '' : text.slice(c3 + 1);
  const user = policy.userByName.get(userName);
  if (user === undefined) return fail(`unknown user ${quote(userName)}`);
  const role = policy.roleByName.get(roleName);
  if (role === undefined) return fail(`unknown role ${quote(roleName)}`);
  const type = tables.typeNames.get(text, c2 + 1, c3 < 0 ? text.length : c3);
  if (type === undefined) return fail(`unknown type ${quote(typeName)}`);
  if (tables.attributes[type] === 1) return fail(`${quote(typeName)} is an attribute, not a type`);
  let low = NO_LEVEL;
  let high = NO_LEVEL;
  let range: RangeEntry | null = null;
  if (policy.mls) {
    if (c3 < 0) return fail('MLS policy but the context has no MLS part');
    const r = parseRangeCached(policy, tables.ranges, mls);
    if (typeof r === 'string') return fail(r);
    range = r;
    low = r.low;
    high = r.high;
  } else if (c3 >= 0) {
    return fail('non-MLS policy but the context has an MLS part');
  }
  const context: Context = { user, role, type, low, high, userName, roleName, typeName, mls };
  if (strict) {
    const why = strictReason(policy, tables, context, range);
    if (why !== null) return fail(why);
  }
  return { ok: true, context };
}

/**
 * invalidReason for parseContext, with what it learns kept: the role's types as a dense bitset, the
 * verdicts on the MLS range (`range`, the context's own) alone and per user. Same answers, same order.
 */
function strictReason(policy: Policy, tables: ContextTables, c: Context, range: RangeEntry | null): string | null {
  if (c.role !== 1) {
    const types = tables.roleTypes[c.role] ?? roleTypesOf(policy, tables, c.role);
    const bit = c.type - 1;
    if (bit < 0 || bit >= types.length * 32 || ((types[bit >>> 5] as number) & (1 << (bit & 31))) === 0) {
      return `type ${c.typeName} is not authorized for role ${c.roleName}`;
    }
    const user = policy.users[c.user - 1];
    if (!user?.roles.has(c.role - 1)) return `role ${c.roleName} is not authorized for user ${c.userName}`;
  }
  if (policy.mls && range !== null) {
    if (range.why === undefined) range.why = rangeReason(policy, c.low, c.high, c.mls);
    if (range.why !== null) return range.why;
    if (c.role !== 1) {
      const user = policy.users[c.user - 1];
      if (user) {
        let ok = range.userOk[c.user] ?? -1;
        if (ok === -1) {
          ok = dominates(c.low, user.range.low) && dominates(user.range.high, c.high) ? 1 : 0;
          range.userOk[c.user] = ok;
        }
        if (ok === 0) return `range ${c.mls} is not within the range authorized for user ${c.userName}`;
      }
    }
  }
  return null;
}

/** The types of role `role` as a dense bitset (empty for an unknown role), kept in `tables`. */
function roleTypesOf(policy: Policy, tables: ContextTables, role: number): Uint32Array {
  const bits = new Uint32Array((policy.types.length + 32) >>> 5);
  const r = policy.roles[role - 1];
  if (r !== undefined) {
    for (const b of r.types.toArray()) {
      if (b >= 0 && b < bits.length * 32) bits[b >>> 5] = ((bits[b >>> 5] as number) | (1 << (b & 31))) >>> 0;
    }
  }
  tables.roleTypes[role] = bits;
  return bits;
}

/** The rules of §22.3 on an MLS range alone (written `mls` in the context). */
function rangeReason(policy: Policy, low: Level, high: Level, mls: string): string | null {
  if (!dominates(high, low)) return `high level does not dominate low level in ${quote(mls)}`;
  for (const lvl of [low, high]) {
    const sens = policy.sensitivities[lvl.sens - 1];
    if (!sens) return `unknown sensitivity in ${quote(mls)}`;
    if (!containsAll(sens.cats, lvl.cats)) return `category not allowed with ${sens.name} in ${quote(mls)}`;
  }
  return null;
}

/** Why libsepol would reject this (name-valid) context, or null when it is valid (§22.3). */
export function invalidReason(policy: Policy, c: Context): string | null {
  if (c.role !== 1) {
    const role = policy.roles[c.role - 1];
    if (!role?.types.has(c.type - 1)) {
      return `type ${c.typeName} is not authorized for role ${c.roleName}`;
    }
    const user = policy.users[c.user - 1];
    if (!user?.roles.has(c.role - 1)) return `role ${c.roleName} is not authorized for user ${c.userName}`;
  }
  if (policy.mls) {
    if (!dominates(c.high, c.low)) return `high level does not dominate low level in ${quote(c.mls)}`;
    for (const lvl of [c.low, c.high]) {
      const sens = policy.sensitivities[lvl.sens - 1];
      if (!sens) return `unknown sensitivity in ${quote(c.mls)}`;
      if (!containsAll(sens.cats, lvl.cats)) return `category not allowed with ${sens.name} in ${quote(c.mls)}`;
    }
    if (c.role !== 1) {
      const user = policy.users[c.user - 1];
      if (user && !(dominates(c.low, user.range.low) && dominates(user.range.high, c.high))) {
        return `range ${c.mls} is not within the range authorized for user ${c.userName}`;
      }
    }
  }
  return null;
}
