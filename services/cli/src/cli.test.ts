import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { runCli } from './cli.ts';

const PKG = resolve(import.meta.dirname, '../package.json');
const BIN = resolve(import.meta.dirname, '../bin/avcstream.js');

async function cli(argv: string[]) {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let out = '';
  let err = '';
  stdout.on('data', (c) => {
    out += c;
  });
  stderr.on('data', (c) => {
    err += c;
  });
  const code = await runCli(argv, { stdout, stderr, stdin: Readable.from(['']) });
  return { code, out, err };
}

describe('avcstream', () => {
  const version = (JSON.parse(readFileSync(PKG, 'utf8')) as { version: string }).version;

  it('--version and -V print the version of services/cli/package.json', async () => {
    expect(version).toMatch(/^\d+\.\d+\.\d+/);
    for (const flag of ['--version', '-V']) {
      const r = await cli([flag]);
      expect(r).toEqual({ code: 0, out: `avcstream ${version}\n`, err: '' });
    }
    // The installed launcher too (plain Node, no vitest transform).
    const b = spawnSync(process.execPath, [BIN, '--version'], { encoding: 'utf8' });
    expect(b.status, b.stderr).toBe(0);
    expect(b.stdout).toBe(`avcstream ${version}\n`);
  });

  it('every command and subcommand prints its usage for --help and -h, exit 0 (as the README says)', async () => {
    const commands = [
      ['run'],
      ['parse'],
      ['explain'],
      ['policy'],
      ['policy', 'info'],
      ['policy', 'query'],
      ['report'],
      ['ingester'],
      ['analyzer'],
    ];
    for (const c of commands) {
      for (const flag of ['--help', '-h']) {
        const r = await cli([...c, flag]);
        expect(r.code, `${c.join(' ')} ${flag}: ${r.err}`).toBe(0);
        expect(r.out, `${c.join(' ')} ${flag}`).toMatch(/usage/i);
        expect(r.err, `${c.join(' ')} ${flag}`).toBe('');
      }
    }
  });

  it('names --version in the top-level help; an unknown command is a usage error, escaped', async () => {
    const h = await cli(['--help']);
    expect(h.code).toBe(0);
    expect(h.out).toMatch(/^ {2}-V, --version +the version of avcstream$/m);
    const u = await cli(['bogus\u001b[2J']);
    expect(u.code).toBe(64);
    expect(u.err.split('\n')[0]).toBe("avcstream: unknown command 'bogus\\x1b[2J'");
    expect(u.err).toContain('Usage: avcstream <command> [options]');
  });
});
