import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { fileContextsFor, hostPolicyPath, readFileContexts } from './policy-file.ts';

const roots: string[] = [];
afterEach(() => {
  for (const r of roots.splice(0)) rmSync(r, { recursive: true, force: true });
});

/** A fake filesystem root holding `files` (path -> content). */
function root(files: Record<string, string>): string {
  const r = mkdtempSync(join(tmpdir(), 'avc-root-'));
  roots.push(r);
  for (const [p, text] of Object.entries(files)) {
    mkdirSync(join(r, p, '..'), { recursive: true });
    writeFileSync(join(r, p), text);
  }
  return r;
}

describe('hostPolicyPath', () => {
  it('prefers the running kernel policy of selinuxfs', () => {
    const r = root({
      'sys/fs/selinux/policy': 'k',
      'etc/selinux/config': 'SELINUXTYPE=targeted\n',
      'etc/selinux/targeted/policy/policy.33': 'p',
    });
    expect(hostPolicyPath(r)).toBe(join(r, 'sys/fs/selinux/policy'));
  });

  it("else takes the installed policy of /etc/selinux/config's SELINUXTYPE, the highest version", () => {
    const r = root({
      'etc/selinux/config': '# comment\nSELINUX=enforcing\n  SELINUXTYPE = "mls"  \nSETLOCALDEFS=0\n',
      'etc/selinux/mls/policy/policy.9': 'p',
      'etc/selinux/mls/policy/policy.31': 'p',
      'etc/selinux/mls/policy/policy.33': 'p',
      'etc/selinux/mls/policy/policy.33.bak': 'p',
      'etc/selinux/targeted/policy/policy.34': 'p',
    });
    expect(hostPolicyPath(r)).toBe(join(r, 'etc/selinux/mls/policy/policy.33'));
  });

  it('takes the newest version the reader supports, as setools does, and reads the key in any case', () => {
    const r = root({
      'etc/selinux/config': 'selinuxtype=targeted\r\n',
      'etc/selinux/targeted/policy/policy.31': 'p',
      'etc/selinux/targeted/policy/policy.33': 'p',
      'etc/selinux/targeted/policy/policy.34': 'p',
    });
    expect(hostPolicyPath(r)).toBe(join(r, 'etc/selinux/targeted/policy/policy.33'));
    // Only newer ones: the newest, whose reading then fails with a clear format error.
    const n = root({ 'etc/selinux/config': 'SELINUXTYPE=x\n', 'etc/selinux/x/policy/policy.35': 'p' });
    expect(hostPolicyPath(n)).toBe(join(n, 'etc/selinux/x/policy/policy.35'));
  });

  it('returns null without a policy, or for a SELINUXTYPE that is not a plain name', () => {
    expect(hostPolicyPath(root({}))).toBeNull();
    expect(hostPolicyPath(root({ 'etc/selinux/config': 'SELINUXTYPE=default\n' }))).toBeNull();
    expect(
      hostPolicyPath(root({ 'etc/selinux/config': 'SELINUXTYPE=../x\n', 'etc/x/policy/policy.33': 'p' })),
    ).toBeNull();
    expect(hostPolicyPath(root({ 'etc/selinux/config': 'SELINUX=enforcing\n' }))).toBeNull();
  });
});

describe('fileContextsFor and readFileContexts', () => {
  const FC = 'etc/selinux/targeted/contexts/files/file_contexts';
  it("finds the file_contexts of an installed policy, or of the kernel's policy by /etc/selinux/config", () => {
    const r = root({
      'etc/selinux/config': 'SELINUXTYPE=targeted\n',
      'etc/selinux/targeted/policy/policy.33': 'x',
      [FC]: '/.*\tsystem_u:object_r:default_t:s0\n',
      'sys/fs/selinux/policy': 'x',
    });
    expect(fileContextsFor(join(r, 'etc/selinux/targeted/policy/policy.33'), r)).toBe(join(r, FC));
    expect(fileContextsFor(join(r, 'sys/fs/selinux/policy'), r)).toBe(join(r, FC));
  });

  it("returns null for a policy that is not laid out as a host's, or without file_contexts", () => {
    const r = root({
      'etc/selinux/config': 'SELINUXTYPE=mls\n',
      'work/policy.33': 'x',
      'sys/fs/selinux/policy': 'x',
    });
    expect(fileContextsFor(join(r, 'work/policy.33'), r)).toBeNull();
    expect(fileContextsFor(join(r, 'sys/fs/selinux/policy'), r)).toBeNull();
    expect(fileContextsFor(join(r, 'etc/selinux/mls/policy/policy.33'), r)).toBeNull();
  });

  it('reads .homedirs, .local, .subs and .subs_dist beside it, and parses at the first lookup', () => {
    const r = root({
      [FC]: '/.*\tsystem_u:object_r:default_t:s0\n/srv(/.*)?\tsystem_u:object_r:var_t:s0\n',
      [`${FC}.homedirs`]: '/home/[^/]+/.+\tuser_u:object_r:user_home_t:s0\n',
      [`${FC}.local`]: '/srv/web(/.*)?\tsystem_u:object_r:httpd_sys_content_t:s0\nbad line here too\n',
      [`${FC}.subs`]: '/web /srv/web\n',
      [`${FC}.subs_dist`]: '/var/srv /srv\n',
    });
    const fc = readFileContexts(join(r, FC));
    expect(fc.parsed()).toBe(false);
    expect(fc.lookup('/web/index.html', 'file')?.type).toBe('httpd_sys_content_t');
    expect(fc.parsed()).toBe(true);
    expect(fc.lookup('/var/srv/x', 'file')?.type).toBe('var_t');
    expect(fc.lookup('/home/a/b', 'file')?.type).toBe('user_home_t');
    expect(fc.errors).toEqual([
      { source: join(r, `${FC}.local`), line: 2, message: expect.stringContaining('fields') },
    ]);
    expect(() => readFileContexts(join(r, 'etc/none'))).toThrow();
  });
});
