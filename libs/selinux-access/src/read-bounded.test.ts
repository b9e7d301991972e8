import { spawn } from 'node:child_process';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readFileBounded } from './read-bounded.ts';
import { SAMPLE_POLICY } from './test-policies.ts';

describe('readFileBounded', () => {
  it('reads a regular file up to the bound, and returns null past it', () => {
    const dir = mkdtempSync(join(tmpdir(), 'avc-bounded-'));
    try {
      const f = join(dir, 'f');
      writeFileSync(f, 'x'.repeat(100));
      expect(readFileBounded(f, 100)?.toString()).toBe('x'.repeat(100));
      expect(readFileBounded(f, 99)).toBeNull();
      writeFileSync(f, '');
      expect(readFileBounded(f, 10)?.length).toBe(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('stops at the bound on an endless device whose size is 0 (/dev/zero)', () => {
    expect(readFileBounded('/dev/zero', 1024 * 1024)).toBeNull();
  });

  it('reads a FIFO to its end when within the bound', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'avc-bounded-'));
    try {
      const fifo = join(dir, 'p');
      execFileSync('mkfifo', [fifo]);
      const writer = spawn('sh', ['-c', 'cat "$1" > "$2"', 'sh', SAMPLE_POLICY, fifo], { stdio: 'ignore' });
      const done = new Promise((resolve) => writer.on('exit', resolve));
      const got = readFileBounded(fifo, 1024 * 1024);
      await done;
      expect(got?.equals(readFileSync(SAMPLE_POLICY))).toBe(true);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
