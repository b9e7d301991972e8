import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { readPolicy } from '@avcstream/selinux-policy';
import { describe, expect, it } from 'vitest';
import { createExplainer } from './explain.ts';
import { checkIoctl } from './xperms.ts';

// The TE_MISSING fixture: `allow web_t web_content_t:file { getattr open read ioctl };` and
// `allowxperm web_t web_content_t:file ioctl { 0x5401 0x8900-0x89ff };` (see fixtures/TE_MISSING).
const here = dirname(fileURLToPath(import.meta.url));
const policy = readPolicy(readFileSync(join(here, '../fixtures/TE_MISSING/policy.33')));
const web = 'system_u:system_r:web_t';
const content = 'system_u:object_r:web_content_t';
const type = (name: string) => policy.typeByName.get(name) as number;
const file = policy.classByName.get('file') as number;

describe('checkIoctl', () => {
  it('finds the allowxperm rule and tests a command against its functions and whole drivers', () => {
    const c = checkIoctl(policy, type('web_t'), type('web_content_t'), file, 0x5413);
    // One source rule, two avtab entries: the functions of driver 0x54, and the whole driver 0x89.
    expect(c).toEqual({
      rules: 2,
      allowed: false,
      quoted: [
        'allowxperm web_t web_content_t:file ioctl 0x5401;',
        'allowxperm web_t web_content_t:file ioctl 0x8900-0x89ff;',
      ],
    });
    expect(checkIoctl(policy, type('web_t'), type('web_content_t'), file, 0x5401)?.allowed).toBe(true);
    expect(checkIoctl(policy, type('web_t'), type('web_content_t'), file, 0x8927)?.allowed).toBe(true);
    expect(checkIoctl(policy, type('web_t'), type('web_content_t'), file, 0x8a00)?.allowed).toBe(false);
  });

  it('is null where no xperm rule applies (the base permission alone decides)', () => {
    expect(checkIoctl(policy, type('web_t'), type('web_log_t'), file, 0x5413)).toBeNull();
  });
});

describe('explain with ioctlcmd', () => {
  const ex = createExplainer(policy);

  it('says TE_MISSING, not ALLOWED, for a command no allowxperm rule lists, and offers a verified allowxperm', () => {
    const e = ex.explain({
      scontext: web,
      tcontext: content,
      tclass: 'file',
      perms: ['ioctl'],
      ioctlcmd: 0x5413,
    });
    expect(e.verdict).toBe('TE_MISSING');
    expect(e.evidence[0]).toContain('no allowxperm rule lists command 0x5413');
    expect(e.evidence).toContain('  allowxperm web_t web_content_t:file ioctl 0x5401;');
    expect(e.evidence).toContain('  allowxperm web_t web_content_t:file ioctl 0x8900-0x89ff;');
    expect(e.fixes).toEqual([
      { kind: 'allow', text: 'allowxperm web_t web_content_t:file ioctl 0x5413;', verified: true },
    ]);
  });

  it('says ALLOWED for a listed command, and without ioctlcmd (as audit2why)', () => {
    expect(
      ex.explain({ scontext: web, tcontext: content, tclass: 'file', perms: ['ioctl'], ioctlcmd: 0x5401 })
        .verdict,
    ).toBe('ALLOWED');
    expect(ex.explain({ scontext: web, tcontext: content, tclass: 'file', perms: ['ioctl'] }).verdict).toBe(
      'ALLOWED',
    );
  });

  it('memoizes per command', () => {
    const a = ex.explain({
      scontext: web,
      tcontext: content,
      tclass: 'file',
      perms: ['ioctl'],
      ioctlcmd: 0x5413,
    });
    const b = ex.explain({
      scontext: web,
      tcontext: content,
      tclass: 'file',
      perms: ['ioctl'],
      ioctlcmd: 0x8901,
    });
    expect([a.verdict, b.verdict]).toEqual(['TE_MISSING', 'ALLOWED']);
  });

  it('adds the allowxperm rule to the allow rule when the base permissions are missing too', () => {
    const e = ex.explain({
      scontext: web,
      tcontext: content,
      tclass: 'file',
      perms: ['ioctl', 'write'],
      ioctlcmd: 0x5413,
    });
    expect(e.verdict).toBe('TE_MISSING');
    expect(e.fixes.map((f) => f.text)).toEqual([
      'allow web_t web_content_t:file { ioctl write };',
      'allowxperm web_t web_content_t:file ioctl 0x5413;',
    ]);
    expect(e.evidence.some((l) => l.includes('command 0x5413 needs an allowxperm rule as well'))).toBe(true);
  });
});
