import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { CONFIG_EXIT_CODE } from '@avcstream/config';
import { afterAll, describe, expect, it } from 'vitest';
import { runAnalyzer } from './main.ts';

const dir = mkdtempSync(join(tmpdir(), 'avc-analyzer-main-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function run(argv: string[]): Promise<{ code: number; stderr: string }> {
  let stderr = '';
  const err = new Writable({
    write(c, _e, cb) {
      stderr += String(c);
      cb();
    },
  });
  // Only bad configurations here: runAnalyzer returns before starting anything.
  const code = await runAnalyzer(['--http.port=0', ...argv], { stderr: err });
  return { code, stderr };
}

describe('runAnalyzer: the webhook secret', () => {
  it.each([
    [['--alerts.webhook.url=http://127.0.0.1:1/hook', '--alerts.webhook.secret=hunter2-on-argv']],
    [['--alerts.webhook.url=http://127.0.0.1:1/hook', '--alerts.webhook.secret', 'hunter2-on-argv']],
  ])(
    'is refused on the command line (%o): exit 78, pointing to env or secretFile, the value not echoed',
    async (argv) => {
      const r = await run(argv);
      expect(r.code).toBe(CONFIG_EXIT_CODE);
      expect(r.stderr).toContain('AVCSTREAM_ALERTS__WEBHOOK__SECRET');
      expect(r.stderr).toContain('alerts.webhook.secretFile');
      expect(r.stderr).not.toContain('hunter2-on-argv');
    },
  );

  it('an unreadable alerts.webhook.secretFile exits 78 at start', async () => {
    const missing = join(dir, 'no-such-secret');
    const r = await run([
      '--alerts.webhook.url=http://127.0.0.1:1/hook',
      `--alerts.webhook.secretFile=${missing}`,
    ]);
    expect(r.code).toBe(CONFIG_EXIT_CODE);
    expect(r.stderr).toContain(missing);
  });

  it('a webhook URL without any secret exits 78', async () => {
    const r = await run(['--alerts.webhook.url=http://127.0.0.1:1/hook']);
    expect(r.code).toBe(CONFIG_EXIT_CODE);
    expect(r.stderr).toContain('HMAC secret');
  });
});
