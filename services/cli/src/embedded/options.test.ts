import { describe, expect, it } from 'vitest';
import { parseHttp, parseRunArgs, RUN_HELP, UsageError } from './options.ts';

describe('parseRunArgs', () => {
  it('has the documented defaults', () => {
    const o = parseRunArgs([])!;
    expect(o.input).toBe('/var/log/audit/audit.log');
    expect(o.policy).toBe('/sys/fs/selinux/policy');
    expect(o.booleans).toBe('/sys/fs/selinux/booleans');
    expect(o.policyGiven).toBe(false);
    expect(o.booleansGiven).toBe(false);
    expect(o.stateDir).toBe('/var/lib/avcstream');
    expect(o.http).toEqual({ host: '127.0.0.1', port: 9464 });
    expect(o.once).toBe(false);
    expect(o.startAt).toBe('beginning');
  });

  it('says in --help what --start-at does: a first run from the beginning alerts on every past denial', () => {
    const help = RUN_HELP.replace(/\s+/g, ' ');
    expect(help).toContain(
      '--start-at beginning|end where to start on the first run (no checkpoint yet): beginning (default) reads the whole log, so it alerts on every denial already in it; end reads only what is written from now on',
    );
    expect(parseRunArgs(['--start-at', 'end'])!.startAt).toBe('end');
  });

  it('does not serve HTTP with --once unless asked', () => {
    expect(parseRunArgs(['--once'])!.http).toBeNull();
    expect(parseRunArgs(['--once', '--http', '0.0.0.0:8080'])!.http).toEqual({ host: '0.0.0.0', port: 8080 });
    expect(parseRunArgs(['--http', 'off'])!.http).toBeNull();
  });

  it('reads none as no policy / default booleans, and repeatable options', () => {
    const o = parseRunArgs([
      '--policy',
      'none',
      '--booleans',
      'none',
      '--ignore',
      'a:*',
      '--ignore',
      'b:**',
    ])!;
    expect(o.policy).toBeNull();
    expect(o.booleans).toBeNull();
    expect(o.ignore).toEqual(['a:*', 'b:**']);
    expect(parseRunArgs(['--policy', 'p', '--booleans', 'b'])).toMatchObject({
      policyGiven: true,
      booleansGiven: true,
    });
  });

  it('rejects bad values with a usage error', () => {
    expect(() => parseRunArgs(['--start-at', 'middle'])).toThrow(UsageError);
    expect(() => parseRunArgs(['--rate-limit', '-1'])).toThrow(UsageError);
    expect(() => parseRunArgs(['--signature-include', 'uid'])).toThrow(UsageError);
    expect(() => parseRunArgs(['--bogus'])).toThrow(UsageError);
    expect(() => parseHttp('localhost')).toThrow(UsageError);
    expect(() => parseHttp('h:70000')).toThrow(UsageError);
  });

  it('returns null for --help', () => {
    expect(parseRunArgs(['--help'])).toBeNull();
  });
});
