import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { stateDirProblem } from './state-dir.ts';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'avc-statedir-'));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe('stateDirProblem', () => {
  it('accepts an existing directory and one to be created under a writable directory', () => {
    expect(stateDirProblem(dir)).toBeNull();
    expect(stateDirProblem(join(dir, 'a', 'b', 'c'))).toBeNull();
    mkdirSync(join(dir, 'a'));
    expect(stateDirProblem(join(dir, 'a', 'b'))).toBeNull();
  });

  it('rejects a path under /proc (recursive mkdir there never returns)', () => {
    const p = stateDirProblem('/proc/avcstream-xx');
    expect(p).toMatch(/^on a proc filesystem \(\/proc\), not a regular one$/);
    expect(stateDirProblem('/proc/avcstream-xx/a/b')).toMatch(/proc filesystem/);
    expect(stateDirProblem('/proc')).toMatch(/proc filesystem/);
  });

  it('rejects a path whose nearest existing ancestor or itself is not a directory', () => {
    writeFileSync(join(dir, 'f'), 'x');
    expect(stateDirProblem(join(dir, 'f'))).toBe(`${join(dir, 'f')} exists and is not a directory`);
    expect(stateDirProblem(join(dir, 'f', 'sub'))).toBe(`${join(dir, 'f')} exists and is not a directory`);
  });

  it('rejects an empty path', () => {
    expect(stateDirProblem('')).toBe('the path is empty');
  });
});
