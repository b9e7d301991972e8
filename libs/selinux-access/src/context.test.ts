import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { NameTable } from './context.ts';
import { debianPolicy, runDebian, samplePolicy } from './test-policies.ts';

function checkAgainstMap(names: ReadonlyMap<string, number>): void {
  const table = new NameTable(names);
  // Every name, found inside a longer text as parseContext looks it up.
  for (const [name, value] of names) expect(table.get(`u:r:${name}:s0`, 4, 4 + name.length)).toBe(value);
  // Anything else: as the Map says (mostly absent; prefixes and extensions of real names included).
  const list = [...names.keys()];
  fc.assert(
    fc.property(
      fc.oneof(
        fc.string(),
        fc.constantFrom(...list).map((n) => n.slice(0, -1)),
        fc.constantFrom(...list).map((n) => `${n}x`),
      ),
      (s) => {
        expect(table.get(`[${s}]`, 1, 1 + s.length)).toBe(names.get(s));
      },
    ),
    { numRuns: 3000 },
  );
}

describe('NameTable', () => {
  it('finds what the Map finds, on the sample policy type names', () => {
    checkAgainstMap(samplePolicy().typeByName);
  });
  it.runIf(runDebian)(
    'finds what the Map finds, on the Debian policy type names (aliases, attributes)',
    () => {
      checkAgainstMap(debianPolicy().typeByName);
    },
  );
  it('tells apart names of one length whose hashes are equal', () => {
    const seen = new Map<number, string>();
    let pair: [string, string] | undefined;
    for (let i = 0; pair === undefined && i < 2_000_000; i++) {
      const s = `n${String(i).padStart(7, '0')}`;
      const h = NameTable.hash(s, 0, s.length);
      const other = seen.get(h);
      if (other !== undefined) pair = [other, s];
      else seen.set(h, s);
    }
    expect(pair).toBeDefined();
    const [a, b] = pair as [string, string];
    const table = new NameTable(new Map([[a, 1]]));
    expect(table.get(a, 0, a.length)).toBe(1);
    expect(table.get(b, 0, b.length)).toBeUndefined();
    expect(
      new NameTable(
        new Map([
          [a, 1],
          [b, 2],
        ]),
      ).get(b, 0, b.length),
    ).toBe(2);
  });

  it('tells apart names whose hashes share a slot', () => {
    const names = new Map(Array.from({ length: 2000 }, (_, i) => [`t${i}`, i + 1] as const));
    checkAgainstMap(names);
  });
});
