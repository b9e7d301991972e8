import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough, Readable, Writable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { run } from './run.ts';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'avc-run-'));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

const denial = (serial: number, type: string) =>
  `type=AVC msg=audit(1763802001.000:${serial}): avc:  denied  { read } for  pid=1 comm="cat" name="x" scontext=system_u:system_r:${type}:s0 tcontext=system_u:object_r:user_home_t:s0 tclass=file permissive=0\n`;

describe('avcstream run --once', () => {
  it('stops writing when stdout is a closed pipe (EPIPE) and still stores the run and releases the lock', async () => {
    writeFileSync(join(dir, 'audit.log'), denial(1, 'httpd_t') + denial(2, 'sshd_t') + denial(3, 'cron_t'));
    let writes = 0;
    // `| head -1`: the first write fails with EPIPE, as the reader has gone.
    const stdout = new Writable({
      write(_chunk, _enc, cb) {
        writes++;
        cb(Object.assign(new Error('write EPIPE'), { code: 'EPIPE' }));
      },
    });
    const stderr = new PassThrough();
    const errText: Buffer[] = [];
    stderr.on('data', (b: Buffer) => errText.push(b));
    const state = join(dir, 'state');
    const code = await run(
      [
        '--once',
        '--input',
        join(dir, 'audit.log'),
        '--policy',
        'none',
        '--booleans',
        'none',
        '--state-dir',
        state,
      ],
      { stdout, stderr, stdin: Readable.from([]) },
    );
    expect(code).toBe(0);
    expect(writes).toBe(1);
    expect(Buffer.concat(errText).toString()).toBe('');
    expect(existsSync(join(state, 'report.txt'))).toBe(true);
    expect(existsSync(join(state, 'lock'))).toBe(false);
  });

  it('exits 78 with a clear message for a state dir under /proc instead of spinning in mkdir', async () => {
    writeFileSync(join(dir, 'audit.log'), denial(1, 'httpd_t'));
    const stderr = new PassThrough();
    const errText: Buffer[] = [];
    stderr.on('data', (b: Buffer) => errText.push(b));
    const code = await run(
      [
        '--once',
        '--input',
        join(dir, 'audit.log'),
        '--policy',
        'none',
        '--booleans',
        'none',
        '--state-dir',
        '/proc/avcstream-xx/state',
      ],
      { stdout: new PassThrough(), stderr, stdin: Readable.from([]) },
    );
    expect(code).toBe(78);
    expect(Buffer.concat(errText).toString()).toBe(
      'avcstream run: bad state dir /proc/avcstream-xx/state: on a proc filesystem (/proc), not a regular one\n',
    );
  });
});
