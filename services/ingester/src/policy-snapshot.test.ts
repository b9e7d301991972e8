import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { assemblePolicy, decodePolicyMessage, encodePolicyMessage, sha256Hex } from '@avcstream/contracts';
import { describe, expect, it } from 'vitest';
import { parseBooleansText, readBooleansAt, readPolicySnapshot, snapshotMessages } from './policy-snapshot.ts';

describe('policy snapshots', () => {
  it('parses booleans in the name value, name=value and getsebool forms', () => {
    expect(
      parseBooleansText('# c\nhttpd_enable_cgi 1\nssh_chroot_rw_homedirs=off\ndeny_ptrace --> on\nbad line here\n'),
    ).toEqual({ httpd_enable_cgi: true, ssh_chroot_rw_homedirs: false, deny_ptrace: true });
  });

  it('reads selinuxfs-style boolean directories (current pending) and text files', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'selinuxfs-'));
    mkdirSync(join(dir, 'booleans'));
    writeFileSync(join(dir, 'booleans', 'httpd_enable_cgi'), '1 1');
    writeFileSync(join(dir, 'booleans', 'deny_ptrace'), '0 1');
    expect(await readBooleansAt(join(dir, 'booleans'))).toEqual({ deny_ptrace: false, httpd_enable_cgi: true });
    writeFileSync(join(dir, 'bools.txt'), 'a 1\nb 0\n');
    expect(await readBooleansAt(join(dir, 'bools.txt'))).toEqual({ a: true, b: false });
  });

  it('reads policy, enforce and booleans; missing enforce/booleans give null/{}; chunks reassemble', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'selinuxfs-'));
    const policy = Buffer.alloc(5000, 3);
    writeFileSync(join(dir, 'policy'), policy);
    writeFileSync(join(dir, 'enforce'), '0');
    const snap = await readPolicySnapshot({
      policyPath: join(dir, 'policy'),
      booleansPath: join(dir, 'nope'),
      enforcePath: join(dir, 'enforce'),
    });
    expect(snap).toMatchObject({ sha256: sha256Hex(policy), enforcing: false, booleans: {} });
    const none = await readPolicySnapshot({
      policyPath: join(dir, 'policy'),
      booleansPath: join(dir, 'nope'),
      enforcePath: join(dir, 'nope'),
    });
    expect(none.enforcing).toBeNull();
    const msgs = snapshotMessages(snap, 'h', 'start', new Date(0), 2048);
    expect(msgs.chunks).toHaveLength(3);
    for (const m of [msgs.state.message, ...msgs.chunks.map((c) => c.message)]) {
      const enc = encodePolicyMessage(m);
      expect(enc.ok && decodePolicyMessage(enc.value).ok).toBe(true);
    }
    expect(assemblePolicy(msgs.chunks.map((c) => c.message))?.bytes.equals(policy)).toBe(true);
    await expect(
      readPolicySnapshot({ policyPath: join(dir, 'missing'), booleansPath: dir, enforcePath: dir }),
    ).rejects.toMatchObject({ code: 'AVC_ERR_INGESTER_POLICY_READ', retriable: true });
  });
});
