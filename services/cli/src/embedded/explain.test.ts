import { spawn } from 'node:child_process';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { PolicyTooLargeError } from '../policy-file.ts';
import { loadExplainer } from './explain.ts';

const SAMPLE_POLICY = resolve(import.meta.dirname, '../../sample/policy/policy.33');

describe('loadExplainer', () => {
  it('throws PolicyTooLargeError on an endless policy file whose size is 0 (/dev/zero)', () => {
    expect(() => loadExplainer('/dev/zero', null)).toThrow(PolicyTooLargeError);
  });

  it('loads a policy from a FIFO within the bound', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'avc-fifo-'));
    try {
      const fifo = join(dir, 'policy');
      execFileSync('mkfifo', [fifo]);
      const writer = spawn('sh', ['-c', 'cat "$1" > "$2"', 'sh', SAMPLE_POLICY, fifo], { stdio: 'ignore' });
      const done = new Promise((r) => writer.on('exit', r));
      const loaded = loadExplainer(fifo, null);
      await done;
      expect(loaded.policyBytes).toBeGreaterThan(0);
      const e = loaded.explain({
        scontext: 'system_u:system_r:httpd_t:s0',
        tcontext: 'system_u:object_r:user_home_t:s0',
        tclass: 'file',
        perms: ['read'],
      });
      expect(e?.verdict).toBe('BOOLEAN');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
