import {
  appendFileSync,
  copyFileSync,
  mkdtempSync,
  renameSync,
  rmSync,
  truncateSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createFileCheckpointStore, createMemoryCheckpointStore } from './checkpoint.ts';
import { createTail, type TailChunk, type TailOptions } from './tail.ts';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'avc-tail-'));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

function collector(extra: Partial<TailOptions> & { path: string }) {
  const lines: string[] = [];
  const chunks: TailChunk[] = [];
  const tail = createTail({
    watch: false,
    pollIntervalMs: 0,
    ...extra,
    onChunk: (c) => {
      chunks.push(c);
      for (const l of c.lines()) lines.push(l.text);
    },
  });
  return { tail, lines, chunks };
}

describe('createTail', () => {
  it('hands out only complete lines with their byte offsets', async () => {
    const p = join(dir, 'audit.log');
    writeFileSync(p, 'one\ntwo\nthr');
    const { tail, lines, chunks } = collector({ path: p });
    await tail.start();
    await tail.drain();
    expect(lines).toEqual(['one', 'two']);
    expect(chunks[0]!.lines()).toEqual([
      { text: 'one', start: 0, end: 4 },
      { text: 'two', start: 4, end: 8 },
    ]);
    appendFileSync(p, 'ee\nfour\n');
    await tail.drain();
    expect(lines).toEqual(['one', 'two', 'three', 'four']);
    const all = chunks.flatMap((c) => c.lines());
    expect(all[2]).toEqual({ text: 'three', start: 8, end: 14 });
    expect(tail.position()?.offset).toBe(19);
    await tail.stop();
  });

  it('uses bounded reads: small chunk size gives the same lines', async () => {
    const p = join(dir, 'audit.log');
    const want = Array.from({ length: 50 }, (_, i) => `line number ${i} ${'x'.repeat(i % 7)}`);
    writeFileSync(p, want.map((l) => `${l}\n`).join(''));
    const { tail, lines, chunks } = collector({ path: p, chunkBytes: 7 });
    await tail.start();
    await tail.drain();
    expect(lines).toEqual(want);
    for (let i = 1; i < chunks.length; i++) expect(chunks[i]!.start).toBe(chunks[i - 1]!.end);
    await tail.stop();
  });

  it('cuts a line longer than maxLineBytes instead of buffering without bound', async () => {
    const p = join(dir, 'audit.log');
    writeFileSync(p, `${'a'.repeat(100)}\nshort\n`);
    const { tail, chunks, lines } = collector({ path: p, chunkBytes: 16, maxLineBytes: 32 });
    await tail.start();
    await tail.drain();
    expect(chunks.some((c) => c.cut)).toBe(true);
    expect(lines.join('')).toBe(`${'a'.repeat(100)}short`);
    expect(lines.at(-1)).toBe('short');
    await tail.stop();
  });

  it('starts from the end when asked', async () => {
    const p = join(dir, 'audit.log');
    writeFileSync(p, 'old\n');
    const { tail, lines } = collector({ path: p, startAt: 'end' });
    await tail.start();
    await tail.drain();
    expect(lines).toEqual([]);
    appendFileSync(p, 'new\n');
    await tail.drain();
    expect(lines).toEqual(['new']);
    await tail.stop();
  });

  it('finishes the old file then starts the new one after rename + create rotation', async () => {
    const p = join(dir, 'audit.log');
    writeFileSync(p, 'a1\na2\n');
    const ends: string[] = [];
    const { tail, lines } = collector({ path: p, onFileEnd: (i) => void ends.push(i.reason) });
    await tail.start();
    await tail.drain();
    appendFileSync(p, 'a3\n'); // written before rotation, not read yet
    renameSync(p, `${p}.1`);
    writeFileSync(p, 'b1\n');
    await tail.drain();
    expect(lines).toEqual(['a1', 'a2', 'a3', 'b1']);
    expect(ends).toEqual(['rotated']);
    expect(tail.stats().rotations).toBe(1);
    await tail.stop();
  });

  it('restarts at 0 after copytruncate', async () => {
    const p = join(dir, 'audit.log');
    writeFileSync(p, 'first line\nsecond line\n');
    const ends: string[] = [];
    const { tail, lines } = collector({ path: p, onFileEnd: (i) => void ends.push(i.reason) });
    await tail.start();
    await tail.drain();
    truncateSync(p, 0);
    appendFileSync(p, 'x\n');
    await tail.drain();
    expect(lines).toEqual(['first line', 'second line', 'x']);
    expect(ends).toEqual(['truncated']);
    expect(tail.stats().truncations).toBe(1);
    await tail.stop();
  });

  it('after copytruncate, reads the lines it had not read yet from the copy, then the new file', async () => {
    const p = join(dir, 'audit.log');
    writeFileSync(p, 'a1\n');
    const ends: string[] = [];
    const { tail, lines } = collector({ path: p, onFileEnd: (i) => void ends.push(i.reason) });
    await tail.start();
    await tail.drain();
    // Written while we were not reading (backpressure, or between wake-ups), then logrotate's copytruncate.
    appendFileSync(p, 'a2\na3 partial');
    copyFileSync(p, `${p}.1`);
    appendFileSync(p, ' line\n'); // after the copy, before the truncation: lost for everyone (logrotate's caveat)
    truncateSync(p, 0);
    appendFileSync(p, 'b1\n');
    await tail.drain();
    expect(lines).toEqual(['a1', 'a2', 'a3 partial', 'b1']);
    expect(ends).toEqual(['truncated', 'rotated']);
    await tail.stop();
  });

  it('says the ends of a copytruncate continue the stream (truncated file, then its copy), and a later rename', async () => {
    const p = join(dir, 'audit.log');
    writeFileSync(p, 'a1\n');
    const ends: Array<[string, boolean]> = [];
    const { tail, lines } = collector({ path: p, onFileEnd: (i) => void ends.push([i.reason, i.continues]) });
    await tail.start();
    await tail.drain();
    appendFileSync(p, 'a2\n');
    copyFileSync(p, `${p}.1`);
    truncateSync(p, 0);
    appendFileSync(p, 'b1\n');
    await tail.drain();
    renameSync(p, `${p}.2`);
    writeFileSync(p, 'c1\n');
    await tail.drain();
    expect(lines).toEqual(['a1', 'a2', 'b1', 'c1']);
    expect(ends).toEqual([
      ['truncated', true],
      ['rotated', true],
      ['rotated', true],
    ]);
    await tail.stop();
  });

  it('says a rename rotation continues the stream when the renamed file was read to a complete line', async () => {
    const p = join(dir, 'audit.log');
    writeFileSync(p, 'a1\n');
    const ends: Array<[string, boolean, number]> = [];
    const { tail, lines } = collector({
      path: p,
      onFileEnd: (i) => void ends.push([i.reason, i.continues, i.offset]),
    });
    await tail.start();
    await tail.drain();
    appendFileSync(p, 'a2\n'); // written before the rotation, read from the old fd
    renameSync(p, `${p}.1`);
    writeFileSync(p, 'b1\n');
    await tail.drain();
    expect(lines).toEqual(['a1', 'a2', 'b1']);
    expect(ends).toEqual([['rotated', true, 6]]);
    await tail.stop();
  });

  it('says a rename rotation ends the stream when the renamed file ends mid-line (handed out cut)', async () => {
    const p = join(dir, 'audit.log');
    writeFileSync(p, 'a1\n');
    const ends: Array<[string, boolean]> = [];
    const { tail, chunks } = collector({
      path: p,
      onFileEnd: (i) => void ends.push([i.reason, i.continues]),
    });
    await tail.start();
    await tail.drain();
    appendFileSync(p, 'a2 no newline');
    renameSync(p, `${p}.1`);
    writeFileSync(p, 'b1\n');
    await tail.drain();
    expect(chunks.map((c) => [c.data.toString(), c.cut])).toEqual([
      ['a1\n', false],
      ['a2 no newline', true],
      ['b1\n', false],
    ]);
    expect(ends).toEqual([['rotated', false]]);
    await tail.stop();
  });

  it('detects copytruncate even when the file regrew past the old offset (fingerprint)', async () => {
    const p = join(dir, 'audit.log');
    writeFileSync(p, 'aaaa\n');
    const { tail, lines } = collector({ path: p });
    await tail.start();
    await tail.drain();
    writeFileSync(p, 'bbbb\ncccc\n'); // same inode, rewritten in place
    await tail.drain();
    expect(lines).toEqual(['aaaa', 'bbbb', 'cccc']);
    await tail.stop();
  });

  it('writes checkpoints only on commit, atomically, and resumes from them', async () => {
    const p = join(dir, 'audit.log');
    const cpFile = join(dir, 'cp.json');
    writeFileSync(p, 'l1\nl2\nl3\n');
    const first = collector({ path: p, checkpoints: createFileCheckpointStore(cpFile) });
    await first.tail.start();
    await first.tail.drain();
    await expect(readFile(cpFile, 'utf8')).rejects.toThrow(/ENOENT/);
    // the caller says only l1 is durable
    const l1 = first.chunks[0]!.lines()[0]!;
    await first.tail.commit({ identity: first.chunks[0]!.identity, offset: l1.end });
    await first.tail.stop();
    const saved = JSON.parse(await readFile(cpFile, 'utf8'));
    expect(saved.offset).toBe(3);

    appendFileSync(p, 'l4\n');
    const second = collector({ path: p, checkpoints: createFileCheckpointStore(cpFile) });
    await second.tail.start();
    await second.tail.drain();
    expect(second.lines).toEqual(['l2', 'l3', 'l4']);
    await second.tail.stop();
  });

  it('on restart finishes the rotated file named by the checkpoint, then the live one', async () => {
    const p = join(dir, 'audit.log');
    writeFileSync(p, 'a1\na2\n');
    const store = createMemoryCheckpointStore();
    const first = collector({ path: p, checkpoints: store });
    await first.tail.start();
    await first.tail.drain();
    await first.tail.commit(first.tail.position()!);
    await first.tail.stop();
    // while we are down: more lines, rotation, the new file gets lines too
    appendFileSync(p, 'a3\n');
    renameSync(p, `${p}.1`);
    writeFileSync(p, 'b1\nb2\n');
    const second = collector({ path: p, checkpoints: store });
    await second.tail.start();
    await second.tail.drain();
    expect(second.lines).toEqual(['a3', 'b1', 'b2']);
    await second.tail.stop();
  });

  it('on restart, the rotated files finished from the checkpoint continue the stream when they end with a complete line', async () => {
    const p = join(dir, 'audit.log');
    writeFileSync(p, 'a1\n');
    const store = createMemoryCheckpointStore();
    const first = collector({ path: p, checkpoints: store });
    await first.tail.start();
    await first.tail.drain();
    await first.tail.commit(first.tail.position()!);
    await first.tail.stop();
    // While we are down: two rename rotations, the second file ends mid-line.
    appendFileSync(p, 'a2\n');
    renameSync(p, `${p}.2`);
    writeFileSync(p, 'b1 no newline');
    utimesSync(p, new Date(Date.now() + 1000), new Date(Date.now() + 1000)); // newer than audit.log.2
    renameSync(p, `${p}.1`);
    writeFileSync(p, 'c1\n');
    const ends: Array<[string, string, boolean]> = [];
    const second = collector({
      path: p,
      checkpoints: store,
      onFileEnd: (i) => void ends.push([i.path, i.reason, i.continues]),
    });
    await second.tail.start();
    await second.tail.drain();
    expect(second.lines).toEqual(['a2', 'b1 no newline', 'c1']);
    expect(ends).toEqual([
      [`${p}.2`, 'rotated', true],
      [`${p}.1`, 'rotated', false],
    ]);
    await second.tail.stop();
  });

  it('on restart after copytruncate while down starts at 0', async () => {
    const p = join(dir, 'audit.log');
    writeFileSync(p, 'long line one\nlong line two\n');
    const store = createMemoryCheckpointStore();
    const first = collector({ path: p, checkpoints: store });
    await first.tail.start();
    await first.tail.drain();
    await first.tail.commit(first.tail.position()!);
    await first.tail.stop();
    truncateSync(p, 0);
    appendFileSync(p, 'z\n');
    const second = collector({ path: p, checkpoints: store });
    await second.tail.start();
    await second.tail.drain();
    expect(second.lines).toEqual(['z']);
    await second.tail.stop();
  });

  it('on restart after copytruncate while down reads the rest from the copy, then the new file', async () => {
    const p = join(dir, 'audit.log');
    writeFileSync(p, 'long line one\n');
    const store = createMemoryCheckpointStore();
    const first = collector({ path: p, checkpoints: store });
    await first.tail.start();
    await first.tail.drain();
    await first.tail.commit(first.tail.position()!);
    await first.tail.stop();
    appendFileSync(p, 'long line two\n');
    copyFileSync(p, `${p}.1`);
    truncateSync(p, 0);
    appendFileSync(p, 'z\n');
    const second = collector({ path: p, checkpoints: store });
    await second.tail.start();
    await second.tail.drain();
    expect(second.lines).toEqual(['long line two', 'z']);
    await second.tail.stop();
  });

  it('pause stops reading until resume', async () => {
    const p = join(dir, 'audit.log');
    writeFileSync(p, 'a\nb\nc\n');
    let tailRef: ReturnType<typeof createTail> | null = null;
    const seen: string[] = [];
    const tail = createTail({
      path: p,
      watch: false,
      pollIntervalMs: 0,
      chunkBytes: 2,
      onChunk: (c) => {
        for (const l of c.lines()) seen.push(l.text);
        if (seen.length === 1) tailRef?.pause();
      },
    });
    tailRef = tail;
    await tail.start();
    await tail.drain();
    expect(seen).toEqual(['a']);
    tail.resume();
    await tail.drain();
    expect(seen).toEqual(['a', 'b', 'c']);
    await tail.stop();
  });

  it('follows appends with chokidar', async () => {
    const p = join(dir, 'audit.log');
    writeFileSync(p, 'start\n');
    let resolveSeen: () => void = () => {};
    const seen = new Promise<void>((r) => {
      resolveSeen = r;
    });
    const lines: string[] = [];
    const tail = createTail({
      path: p,
      pollIntervalMs: 0,
      onChunk: (c) => {
        for (const l of c.lines()) lines.push(l.text);
        if (lines.includes('later')) resolveSeen();
      },
    });
    await tail.start();
    await tail.drain();
    appendFileSync(p, 'later\n');
    await seen;
    expect(lines).toEqual(['start', 'later']);
    await tail.stop();
  });
});

describe('createTail properties', () => {
  it('any split of the writes and any read size give the same lines and contiguous offsets', async () => {
    const fc = await import('fast-check');
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.stringMatching(/^[a-z =]{0,40}$/), { minLength: 1, maxLength: 30 }),
        fc.array(fc.integer({ min: 1, max: 60 }), { minLength: 1, maxLength: 10 }),
        fc.integer({ min: 1, max: 50 }),
        async (lines, cuts, chunkBytes) => {
          const d = mkdtempSync(join(tmpdir(), 'avc-tail-prop-'));
          try {
            const p = join(d, 'audit.log');
            const text = lines.map((l) => `${l}\n`).join('');
            writeFileSync(p, '');
            const got: string[] = [];
            let expectStart = 0;
            let contiguous = true;
            const tail = createTail({
              path: p,
              watch: false,
              pollIntervalMs: 0,
              chunkBytes,
              maxLineBytes: 4096,
              onChunk: (c) => {
                if (c.start !== expectStart) contiguous = false;
                expectStart = c.end;
                for (const l of c.lines()) got.push(l.text);
              },
            });
            await tail.start();
            let pos = 0;
            for (const cut of cuts) {
              if (pos >= text.length) break;
              appendFileSync(p, text.slice(pos, pos + cut));
              pos += cut;
              await tail.drain();
            }
            appendFileSync(p, text.slice(pos));
            await tail.drain();
            await tail.stop();
            return contiguous && JSON.stringify(got) === JSON.stringify(lines);
          } finally {
            rmSync(d, { recursive: true, force: true });
          }
        },
      ),
      { numRuns: 60 },
    );
  });
});
