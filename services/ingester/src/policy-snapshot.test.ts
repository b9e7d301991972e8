import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  assemblePolicy,
  decodeFileContextsBundle,
  decodePolicyMessage,
  encodePolicyMessage,
  sha256Hex,
} from '@avcstream/contracts';
import { describe, expect, it } from 'vitest';
import {
  parseBooleansText,
  readBooleansAt,
  readPolicySnapshot,
  snapshotMessages,
} from './policy-snapshot.ts';

describe('policy snapshots', () => {
  it('parses booleans in the name value, name=value and getsebool forms', () => {
    expect(
      parseBooleansText(
        '# c\nhttpd_enable_cgi 1\nssh_chroot_rw_homedirs=off\ndeny_ptrace --> on\nbad line here\n',
      ),
    ).toEqual({ httpd_enable_cgi: true, ssh_chroot_rw_homedirs: false, deny_ptrace: true });
  });

  it('reads selinuxfs-style boolean directories (current pending) and text files', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'selinuxfs-'));
    mkdirSync(join(dir, 'booleans'));
    writeFileSync(join(dir, 'booleans', 'httpd_enable_cgi'), '1 1');
    writeFileSync(join(dir, 'booleans', 'deny_ptrace'), '0 1');
    expect(await readBooleansAt(join(dir, 'booleans'))).toEqual({
      deny_ptrace: false,
      httpd_enable_cgi: true,
    });
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

  it('sends the file_contexts set of the policy type (auto, under a prefix), and goes without one as told', async () => {
    const root = mkdtempSync(join(tmpdir(), 'hostroot-'));
    mkdirSync(join(root, 'sys/fs/selinux'), { recursive: true });
    writeFileSync(join(root, 'sys/fs/selinux/policy'), Buffer.alloc(100, 5));
    mkdirSync(join(root, 'etc/selinux/targeted/contexts/files'), { recursive: true });
    writeFileSync(join(root, 'etc/selinux/config'), 'SELINUX=enforcing\nSELINUXTYPE=targeted\n');
    const files = join(root, 'etc/selinux/targeted/contexts/files');
    writeFileSync(join(files, 'file_contexts'), '/var/www(/.*)?\tsystem_u:object_r:httpd_sys_content_t:s0\n');
    writeFileSync(
      join(files, 'file_contexts.local'),
      '/srv/web(/.*)?\tsystem_u:object_r:httpd_sys_content_t:s0\n',
    );
    writeFileSync(join(files, 'file_contexts.subs_dist'), '/run /var/run\n');
    writeFileSync(join(root, 'etc/selinux/targeted/contexts/customizable_types'), 'httpd_user_content_t\n');
    const base = {
      policyPath: join(root, 'sys/fs/selinux/policy'),
      booleansPath: join(root, 'nope'),
      enforcePath: join(root, 'nope'),
    };
    const snap = await readPolicySnapshot({ ...base, fileContextsPath: 'auto' });
    expect(snap.fileContextsError).toBeNull();
    const fc = snap.fileContexts;
    expect(fc?.sha256).toBe(sha256Hex(fc!.bytes));
    const bundle = decodeFileContextsBundle(fc!.bytes);
    expect(bundle.ok && bundle.value.specs.map((x) => x.name)).toEqual([
      join(files, 'file_contexts'),
      join(files, 'file_contexts.local'),
    ]);
    expect(bundle.ok && bundle.value.subsDist?.text).toBe('/run /var/run\n');
    expect(bundle.ok && bundle.value.customizable?.text).toBe('httpd_user_content_t\n');
    const msgs = snapshotMessages(snap, 'h', 'start', new Date(0), 1024);
    expect(msgs.state.message.fileContexts).toEqual({
      sha256: fc!.sha256,
      bytes: fc!.bytes.length,
      chunks: 1,
    });
    expect(assemblePolicy(msgs.fileContextsChunks.map((c) => c.message))?.bytes.equals(fc!.bytes)).toBe(true);
    const enc = encodePolicyMessage(msgs.state.message);
    expect(enc.ok && decodePolicyMessage(enc.value).ok).toBe(true);

    // none: no set, and the state id of a snapshot without one.
    const none = await readPolicySnapshot({ ...base, fileContextsPath: 'none' });
    expect(none.fileContexts).toBeNull();
    const plain = snapshotMessages(none, 'h', 'start', new Date(0), 1024);
    expect(plain.state.message.fileContexts).toBeUndefined();
    expect(plain.fileContextsChunks).toEqual([]);
    expect(plain.stateId).not.toBe(msgs.stateId);
    // A configured file that cannot be read: an error value, the snapshot still taken.
    const missing = await readPolicySnapshot({ ...base, fileContextsPath: join(root, 'no_file_contexts') });
    expect(missing.fileContexts).toBeNull();
    expect(missing.fileContextsError).toMatchObject({ code: 'AVC_ERR_INGESTER_FILE_CONTEXTS_READ' });
    expect(missing.sha256).toBe(snap.sha256);
  });
});
