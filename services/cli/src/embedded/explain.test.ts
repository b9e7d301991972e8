import { spawn } from 'node:child_process';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { existsSync } from 'node:fs';
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

const DEBIAN = '/etc/selinux/default/policy/policy.33';
describe.runIf(existsSync(DEBIAN) || Boolean(process.env.CI))('loadExplainer on the Debian policy', () => {
  it('passes the port to the explainer and keys its cache on it', () => {
    const loaded = loadExplainer(DEBIAN, null);
    const bind = {
      scontext: 'system_u:system_r:httpd_t:s0',
      tcontext: 'system_u:object_r:reserved_port_t:s0',
      tclass: 'tcp_socket',
      perms: ['name_bind'],
    };
    const first = (port: number | null) => loaded.explain({ ...bind, port })?.fixes[0]?.text;
    expect(first(81)).toBe('semanage port -a -t http_port_t -p tcp 81');
    // tcp 8081 has its own record (transproxy_port_t): semanage port -a would fail, -m modifies it.
    expect(first(8081)).toBe('semanage port -m -t http_port_t -p tcp 8081');
    expect(first(null)).toBe('semanage port -a -t http_port_t -p tcp <port>');
  });

  it('with file_contexts, puts restorecon first for a file whose path has a default label that allows it', () => {
    const dir = mkdtempSync(join(tmpdir(), 'avc-fc-'));
    try {
      const fc = join(dir, 'file_contexts');
      writeFileSync(
        fc,
        '/.*\tsystem_u:object_r:etc_t:s0\n/var/www(/.*)?\tsystem_u:object_r:httpd_sys_content_t:s0\n' +
          '/home/[^/]+/.+\tsystem_u:object_r:user_home_t:s0\n',
      );
      const loaded = loadExplainer(SAMPLE_POLICY, null, undefined, fc);
      expect(loaded.fileContexts).toBe(fc);
      const denial = {
        scontext: 'system_u:system_r:httpd_t:s0',
        tcontext: 'system_u:object_r:user_home_t:s0',
        tclass: 'file',
        perms: ['read'],
      };
      const moved = loaded.explain({ ...denial, path: '/var/www/html/index.html' });
      expect(moved?.verdict).toBe('BOOLEAN');
      expect(moved?.fixes[0]).toEqual({ kind: 'restorecon', text: "restorecon -v '<path>'", verified: true });
      // The cache is keyed on the default label: another path of the same denial, its own advice.
      const home = loaded.explain({ ...denial, path: '/home/alice/notes' });
      expect(home?.fixes[0]?.kind).toBe('setsebool');
      expect(loaded.explain(denial)?.fixes[0]?.kind).toBe('setsebool');
      // Without file_contexts the path changes nothing.
      expect(
        loadExplainer(SAMPLE_POLICY, null).explain({ ...denial, path: '/var/www/x' })?.fixes[0]?.kind,
      ).toBe('setsebool');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
