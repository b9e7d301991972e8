import { describe, expect, it } from 'vitest';
import { KeyIndex } from './key-index.ts';

describe('KeyIndex', () => {
  it('forEach visits every key once with its latest value', () => {
    const index = new KeyIndex(100);
    const keys: Array<[number, number, number, number]> = [];
    for (let i = 0; i < 100; i++) keys.push([(i * 37) % 65536, (i * 101 + 7) % 65536, 1 + (i % 200), i]);
    keys.push([65535, 65535, 65535, 5]);
    keys.push([0, 0, 1, 6]);
    for (const [s, t, c, v] of keys) index.set(s, t, c, v);
    index.set(0, 0, 1, 42); // overwrite
    const seen = new Map<string, number>();
    index.forEach((s, t, c, v) => {
      const k = `${s},${t},${c}`;
      expect(seen.has(k)).toBe(false);
      seen.set(k, v);
    });
    expect(seen.size).toBe(index.size);
    for (const [s, t, c] of keys) expect(seen.get(`${s},${t},${c}`)).toBe(index.get(s, t, c));
    expect(seen.get('0,0,1')).toBe(42);
    expect(seen.get('65535,65535,65535')).toBe(5);
  });

  it('forEach on an empty index calls nothing', () => {
    let calls = 0;
    new KeyIndex(4).forEach(() => {
      calls++;
    });
    expect(calls).toBe(0);
  });
});
