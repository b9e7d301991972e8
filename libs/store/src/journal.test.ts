import * as fs from 'node:fs';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { encodeRecord, openJournalWriter, readJournal } from './journal.ts';

vi.mock('node:fs', async (importOriginal) => {
  const real = await importOriginal<typeof import('node:fs')>();
  return { ...real, writeSync: vi.fn(real.writeSync) };
});

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'avc-journal-'));
});
afterEach(() => {
  vi.mocked(fs.writeSync).mockReset();
  rmSync(dir, { recursive: true, force: true });
});

describe('readJournal', () => {
  it('reads records split across any read size, and cuts a torn tail', () => {
    const file = join(dir, 'j');
    const recs = [{ a: 1 }, { b: 'x'.repeat(50) }, { c: [1, 2, 3] }];
    const text = `${recs.map(encodeRecord).join('')}0000abcd {"torn`;
    writeFileSync(file, text);
    for (const chunkBytes of [1, 3, 7, 64, 4096]) {
      const got: unknown[] = [];
      const r = readJournal(file, (x) => got.push(x), { chunkBytes });
      expect(got).toEqual(recs);
      expect(r.validBytes).toBe(text.length - '0000abcd {"torn'.length);
      expect(r.droppedBytes).toBe('0000abcd {"torn'.length);
    }
  });
});

describe('openJournalWriter', () => {
  it('cuts a partly written record when a write fails, so a retry appends after a clean end', () => {
    const file = join(dir, 'j');
    const w = openJournalWriter(file, 0);
    w.append({ n: 1 }, true);
    const real = vi.mocked(fs.writeSync).getMockImplementation();
    // The next write stores half of its bytes, then the disk is full.
    const halfThenFull = (
      fd: number,
      buf: NodeJS.ArrayBufferView,
      off?: number | null,
      len?: number | null,
    ) => {
      (real as (...a: unknown[]) => number)(fd, buf, off, Math.floor((len ?? 0) / 2));
      throw Object.assign(new Error('ENOSPC'), { code: 'ENOSPC' });
    };
    vi.mocked(fs.writeSync).mockImplementationOnce(halfThenFull as unknown as typeof fs.writeSync);
    expect(() => w.append({ n: 2 }, true)).toThrow('ENOSPC');
    w.append({ n: 2 }, true);
    w.append({ n: 3 }, true);
    w.close();
    const got: unknown[] = [];
    readJournal(file, (x) => got.push(x));
    expect(got).toEqual([{ n: 1 }, { n: 2 }, { n: 3 }]);
    expect(readFileSync(file, 'utf8').split('\n')).toHaveLength(4);
  });
});
