// Cross-checks the generated syscall tables against auditd's own tables (`ausyscall <arch> --dump`).
import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { SYSCALLS_AARCH64 } from './syscalls-aarch64.generated.ts';
import { SYSCALLS_I386 } from './syscalls-i386.generated.ts';
import { SYSCALLS_X86_64 } from './syscalls-x86_64.generated.ts';

function ausyscallDump(arch: string): Map<number, string> | undefined {
  try {
    const out = execFileSync('ausyscall', [arch, '--dump'], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    });
    const m = new Map<number, string>();
    for (const line of out.split('\n')) {
      const parts = /^(\d+)\s+(\S+)$/.exec(line.trim());
      if (parts) m.set(Number(parts[1]), parts[2]!);
    }
    return m;
  } catch {
    return undefined;
  }
}

const available = ausyscallDump('x86_64') !== undefined;
if (!available && !process.env.CI) {
  console.warn('ausyscall (Debian package auditd) not found: skipping the syscall table cross-check');
}

/** Where auditd 3.0.9 spells a syscall differently from the kernel UAPI headers: number -> auditd name. */
const AUDITD_SPELLINGS: Record<string, Record<number, string>> = {
  x86_64: { 17: 'pread', 18: 'pwrite' },
  i386: { 283: 'sys_kexec_load', 423: 'sched_rr_get_interval64' },
  aarch64: { 61: 'getdents', 67: 'pread', 68: 'pwrite', 80: 'newfstat' },
};

describe.runIf(available || process.env.CI)('syscall tables agree with ausyscall --dump', () => {
  for (const [arch, table] of [
    ['x86_64', SYSCALLS_X86_64],
    ['i386', SYSCALLS_I386],
    ['aarch64', SYSCALLS_AARCH64],
  ] as const) {
    it(arch, () => {
      const dump = ausyscallDump(arch);
      expect(dump, 'ausyscall must be installed when CI is set').toBeDefined();
      expect(dump!.size).toBeGreaterThan(250);
      const spellings = AUDITD_SPELLINGS[arch] ?? {};
      const mismatches: string[] = [];
      for (const [nr, name] of dump!) {
        const ours = table[nr];
        if (ours !== name && spellings[nr] !== name) mismatches.push(`${nr}: ours=${ours} auditd=${name}`);
      }
      expect(mismatches).toEqual([]);
    });
  }
});
