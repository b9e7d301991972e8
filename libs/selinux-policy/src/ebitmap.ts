/**
 * An immutable extensible bitmap, kept sparse exactly as stored in the file: one node per 64-bit chunk
 * with at least one bit set. Membership is a binary search over the nodes; iteration visits set bits in
 * ascending order. Sparse storage keeps a hostile `highbit` from causing a large allocation.
 */
export class Ebitmap {
  /** Start bit of each node (multiples of 64, strictly increasing). */
  readonly starts: Uint32Array;
  /** Two 32-bit halves per node: low word then high word. */
  readonly words: Uint32Array;
  readonly highbit: number;

  constructor(starts: Uint32Array, words: Uint32Array, highbit: number) {
    this.starts = starts;
    this.words = words;
    this.highbit = highbit;
  }

  static readonly EMPTY = new Ebitmap(new Uint32Array(0), new Uint32Array(0), 0);

  /** Build from a list of bit indexes (any order, duplicates allowed). */
  static fromBits(bits: Iterable<number>): Ebitmap {
    const sorted = [...new Set(bits)].sort((a, b) => a - b);
    const starts: number[] = [];
    const words: number[] = [];
    for (const bit of sorted) {
      const start = bit - (bit % 64);
      if (starts.length === 0 || starts[starts.length - 1] !== start) {
        starts.push(start);
        words.push(0, 0);
      }
      const off = bit - start;
      const w = words.length - 2 + (off >= 32 ? 1 : 0);
      words[w] = ((words[w] ?? 0) | (1 << (off & 31))) >>> 0;
    }
    const last = starts[starts.length - 1];
    return new Ebitmap(Uint32Array.from(starts), Uint32Array.from(words), last === undefined ? 0 : last + 64);
  }

  /** True when bit `bit` is set. */
  has(bit: number): boolean {
    if (bit < 0 || bit >= this.highbit) return false;
    const starts = this.starts;
    let lo = 0;
    let hi = starts.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      const s = starts[mid] as number;
      if (bit < s) hi = mid - 1;
      else if (bit >= s + 64) lo = mid + 1;
      else {
        const off = bit - s;
        const word = this.words[mid * 2 + (off >= 32 ? 1 : 0)] as number;
        return ((word >>> (off & 31)) & 1) === 1;
      }
    }
    return false;
  }

  /** Set bit indexes in ascending order. */
  toArray(): number[] {
    const out: number[] = [];
    const n = this.starts.length;
    for (let i = 0; i < n; i++) {
      const s = this.starts[i] as number;
      for (let h = 0; h < 2; h++) {
        let w = this.words[i * 2 + h] as number;
        while (w !== 0) {
          const low = w & -w;
          const k = 31 - Math.clz32(low);
          out.push(s + h * 32 + k);
          w = (w ^ low) >>> 0;
        }
      }
    }
    return out;
  }

  /** Number of set bits. */
  cardinality(): number {
    let c = 0;
    for (const w of this.words) c += popcount32(w);
    return c;
  }

  isEmpty(): boolean {
    return this.starts.length === 0;
  }

  /** True when every bit of `other` is set here. */
  containsAll(other: Ebitmap): boolean {
    for (const bit of other.toArray()) if (!this.has(bit)) return false;
    return true;
  }

  equals(other: Ebitmap): boolean {
    if (this.starts.length !== other.starts.length) return false;
    for (let i = 0; i < this.starts.length; i++) if (this.starts[i] !== other.starts[i]) return false;
    for (let i = 0; i < this.words.length; i++) if (this.words[i] !== other.words[i]) return false;
    return true;
  }
}

export function popcount32(x: number): number {
  let v = x >>> 0;
  v = v - ((v >>> 1) & 0x55555555);
  v = (v & 0x33333333) + ((v >>> 2) & 0x33333333);
  return (((v + (v >>> 4)) & 0x0f0f0f0f) * 0x01010101) >>> 24;
}
