/**
 * An open-addressing hash table from (source, target, class) — three 16-bit values — to a non-negative
 * integer. Typed arrays only: no per-entry objects and no heap-number keys, so building ~100k keys and
 * looking them up stays cheap.
 */
export class KeyIndex {
  readonly size: number;
  private readonly mask: number;
  private readonly pairs: Uint32Array;
  private readonly classes: Uint16Array;
  private readonly values: Int32Array;

  constructor(expected: number) {
    let cap = 16;
    while (cap < expected * 2) cap *= 2;
    this.mask = cap - 1;
    this.pairs = new Uint32Array(cap);
    this.classes = new Uint16Array(cap);
    this.values = new Int32Array(cap);
    this.size = 0;
  }

  private slot(pair: number, tclass: number): number {
    let h = Math.imul(pair ^ (tclass << 7), 0x9e3779b1);
    h ^= h >>> 15;
    let i = h & this.mask;
    const classes = this.classes;
    const pairs = this.pairs;
    for (;;) {
      const c = classes[i] as number;
      if (c === 0 || (c === tclass && pairs[i] === pair)) return i;
      i = (i + 1) & this.mask;
    }
  }

  /** Value for the key, or -1. Class values are >= 1. */
  get(source: number, target: number, tclass: number): number {
    const pair = ((source << 16) | target) >>> 0;
    const i = this.slot(pair, tclass);
    return this.classes[i] === 0 ? -1 : (this.values[i] as number);
  }

  /** Calls `fn` with every key and its value, in table order (not sorted). */
  forEach(fn: (source: number, target: number, tclass: number, value: number) => void): void {
    const classes = this.classes;
    const pairs = this.pairs;
    const values = this.values;
    for (let i = 0; i < classes.length; i++) {
      const c = classes[i] as number;
      if (c === 0) continue;
      const pair = pairs[i] as number;
      fn(pair >>> 16, pair & 0xffff, c, values[i] as number);
    }
  }

  /** Insert or overwrite. The table must have been sized for every key inserted. */
  set(source: number, target: number, tclass: number, value: number): void {
    const pair = ((source << 16) | target) >>> 0;
    const i = this.slot(pair, tclass);
    if (this.classes[i] === 0) {
      if (this.size * 2 >= this.mask + 1) throw new Error('KeyIndex overfull');
      (this as { size: number }).size++;
      this.classes[i] = tclass;
      this.pairs[i] = pair;
    }
    this.values[i] = value;
  }
}
