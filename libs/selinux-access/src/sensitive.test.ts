import { describe, expect, it } from 'vitest';
import { createExplainer } from './explain.ts';
import { cautionLine, cautionOfEvidence } from './sensitive.ts';
import { debianPolicy, runDebian } from './test-policies.ts';

const denial = (source: string, target: string, tclass: string, perms: string[]) => ({
  scontext: `system_u:system_r:${source}:s0`,
  tcontext: `system_u:${target === source || target.endsWith('unconfined_t') ? 'system_r' : 'object_r'}:${target}:s0`,
  tclass,
  perms,
});

describe.runIf(runDebian)(
  'a caution before fixes that would allow an access guarding the system (Debian policy)',
  () => {
    const explainer = createExplainer(debianPolicy());

    it.each([
      [
        'httpd_t',
        'shadow_t',
        'file',
        ['read'],
        'shadow_t holds authentication data (a file type outside non_auth_file_type)',
      ],
      ['httpd_t', 'auditd_log_t', 'file', ['read'], 'auditd_log_t is a security-relevant file type'],
      [
        'httpd_t',
        'security_t',
        'security',
        ['load_policy'],
        'security load_policy operates the SELinux security server itself',
      ],
      [
        'httpd_t',
        'httpd_t',
        'capability',
        ['sys_module'],
        'capability sys_module loads code into the kernel',
      ],
      [
        'httpd_t',
        'unconfined_t',
        'process',
        ['ptrace'],
        "process ptrace reads and writes another process's memory",
      ],
      ['httpd_t', 'memory_device_t', 'chr_file', ['read'], 'memory_device_t is raw system memory'],
    ])('%s %s:%s %s', (source, target, tclass, perms, reason) => {
      const e = explainer.explain(denial(source, target, tclass, perms));
      expect(e.verdict).toBe('TE_MISSING');
      expect(e.caution).toContain(reason);
      const line = e.evidence.find((l) => l.startsWith('Caution: ')) as string;
      expect(line).toContain(reason);
      expect(line).toContain(`find out why ${source} asked before allowing it`);
      // The verdict and the fix stay audit2why's and audit2allow's: the caution comes with them.
      expect(e.fixes.map((f) => f.kind)).toContain('allow');
    });

    it('says nothing for an ordinary file type, or when the policy allows it already', () => {
      for (const d of [
        denial('httpd_t', 'samba_share_t', 'file', ['read']),
        denial('httpd_t', 'user_home_t', 'dir', ['getattr']),
        denial('passwd_t', 'shadow_t', 'file', ['read']),
      ]) {
        const e = explainer.explain(d);
        expect(e.caution, d.tcontext).toBeUndefined();
        expect(
          e.evidence.some((l) => l.startsWith('Caution: ')),
          d.tcontext,
        ).toBe(false);
      }
    });
  },
);

describe('cautionOfEvidence', () => {
  it('reads back the reason of a caution line among evidence lines, or null', () => {
    const reason = 'shadow_t holds authentication data (a file type outside non_auth_file_type)';
    expect(
      cautionOfEvidence(['No allow rule grants httpd_t shadow_t:file read.', cautionLine(reason, 'httpd_t')]),
    ).toBe(reason);
    expect(cautionOfEvidence(['No allow rule grants httpd_t etc_t:file read.'])).toBeNull();
    expect(cautionOfEvidence('Caution: x')).toBeNull();
    expect(cautionOfEvidence([42, null])).toBeNull();
  });
});
