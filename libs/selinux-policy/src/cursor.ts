import { Ebitmap } from './ebitmap.ts';
import { PolicyFormatError } from './errors.ts';

/** Longest name (symbol, file name, genfs path) accepted. */
export const MAX_NAME_BYTES = 65536;

/** Bounds-checked little-endian reader over the policy bytes. Every read fails cleanly past the end. */
export class Cursor {
  readonly bytes: Uint8Array;
  readonly view: DataView;
  pos = 0;
  section = 'header';

  constructor(bytes: Uint8Array) {
    this.bytes = bytes;
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  get remaining(): number {
    return this.bytes.length - this.pos;
  }

  fail(message: string, offset: number = this.pos): never {
    throw new PolicyFormatError(message, offset, this.section);
  }

  need(n: number): void {
    if (n > this.bytes.length - this.pos) this.fail(`truncated: need ${n} bytes, ${this.remaining} left`);
  }

  /** Check that `count` items of at least `minSize` bytes each can still fit in the file. */
  checkCount(count: number, minSize: number, what: string): void {
    if (count * minSize > this.bytes.length - this.pos) {
      this.fail(`${what} count ${count} exceeds the bytes remaining`, this.pos - 4);
    }
  }

  u8(): number {
    this.need(1);
    return this.bytes[this.pos++] as number;
  }

  u16(): number {
    this.need(2);
    const v = this.view.getUint16(this.pos, true);
    this.pos += 2;
    return v;
  }

  u32(): number {
    this.need(4);
    const v = this.view.getUint32(this.pos, true);
    this.pos += 4;
    return v;
  }

  skip(n: number): void {
    this.need(n);
    this.pos += n;
  }

  /** A name of `len` bytes (ASCII in practice; decoded as latin1 so every byte survives). */
  str(len: number, what = 'name'): string {
    if (len > MAX_NAME_BYTES) this.fail(`${what} length ${len} too large`, this.pos - 4);
    this.need(len);
    const start = this.pos;
    this.pos = start + len;
    // One call per name (latin1: every byte maps to the same code point), no intermediate strings.
    return String.fromCharCode.apply(null, this.bytes.subarray(start, start + len) as unknown as number[]);
  }

  /** An ebitmap (§2.2), validated like libsepol does. */
  ebitmap(): Ebitmap {
    const at = this.pos;
    const mapsize = this.u32();
    const highbit = this.u32();
    const count = this.u32();
    if (mapsize !== 64) this.fail(`ebitmap mapsize ${mapsize} is not 64`, at);
    if (highbit % 64 !== 0) this.fail(`ebitmap highbit ${highbit} is not a multiple of 64`, at);
    if (highbit === 0) return Ebitmap.EMPTY;
    if (count === 0) this.fail('ebitmap with highbit but no nodes', at);
    this.checkCount(count, 12, 'ebitmap node');
    const starts = new Uint32Array(count);
    const words = new Uint32Array(count * 2);
    let prev = -1;
    this.need(count * 12);
    const view = this.view;
    for (let i = 0; i < count; i++) {
      const nodeAt = this.pos;
      const start = view.getUint32(nodeAt, true);
      const lo = view.getUint32(nodeAt + 4, true);
      const hi = view.getUint32(nodeAt + 8, true);
      this.pos = nodeAt + 12;
      if (start % 64 !== 0) this.fail(`ebitmap node start ${start} not a multiple of 64`, nodeAt);
      if (start <= prev) this.fail('ebitmap nodes out of order', nodeAt);
      if (start > highbit - 64) this.fail(`ebitmap node start ${start} beyond highbit ${highbit}`, nodeAt);
      if (lo === 0 && hi === 0) this.fail('ebitmap node with an empty map', nodeAt);
      starts[i] = start;
      words[i * 2] = lo;
      words[i * 2 + 1] = hi;
      prev = start;
    }
    if (prev + 64 !== highbit) this.fail('ebitmap last node does not end at highbit', at);
    return new Ebitmap(starts, words, highbit);
  }
}
