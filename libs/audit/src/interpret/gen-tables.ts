// Generates the checked-in syscall, errno and capability tables of the interpreter from the Linux UAPI headers that
// Debian's linux-libc-dev installs, evaluated by the C preprocessor (gcc's cpp), so that conditional
// sections of asm-generic/unistd.h resolve exactly as they do for arm64.
//
//   node libs/audit/src/interpret/gen-tables.ts            # rewrite the *.generated.ts files
//   node libs/audit/src/interpret/gen-tables.ts --check    # exit 1 when a checked-in file is stale
//
// Needs: cpp (gcc) and linux-libc-dev. Cross-check: `ausyscall <arch> --dump` (auditd), see
// syscalls.oracle.test.ts.
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));

interface SyscallSource {
  arch: string;
  constName: string;
  file: string;
  header: string;
  /** Extra -D flags for cpp. */
  defines: string[];
}

const SOURCES: SyscallSource[] = [
  {
    arch: 'x86_64',
    constName: 'SYSCALLS_X86_64',
    file: 'syscalls-x86_64.generated.ts',
    header: 'asm/unistd_64.h',
    defines: [],
  },
  {
    arch: 'i386',
    constName: 'SYSCALLS_I386',
    file: 'syscalls-i386.generated.ts',
    header: 'asm/unistd_32.h',
    defines: [],
  },
  {
    // arch/arm64/include/uapi/asm/unistd.h sets these before including asm-generic/unistd.h.
    arch: 'aarch64',
    constName: 'SYSCALLS_AARCH64',
    file: 'syscalls-aarch64.generated.ts',
    header: 'asm-generic/unistd.h',
    defines: [
      '__BITS_PER_LONG=64',
      '__ARCH_WANT_RENAMEAT',
      '__ARCH_WANT_NEW_STAT',
      '__ARCH_WANT_SET_GET_RLIMIT',
      '__ARCH_WANT_SYS_CLONE3',
      '__ARCH_WANT_MEMFD_SECRET',
    ],
  },
];

/** Macros of the form __NR_x that are not syscalls. */
const NOT_SYSCALLS = new Set(['syscalls', 'arch_specific_syscall']);

/**
 * Kernel-internal error codes (include/linux/errno.h, not exported to user space) that still show up as
 * `exit=` values in SYSCALL records, e.g. -512 for an interrupted syscall.
 */
const KERNEL_INTERNAL_ERRNOS: [string, number][] = [
  ['ERESTARTSYS', 512],
  ['ERESTARTNOINTR', 513],
  ['ERESTARTNOHAND', 514],
  ['ENOIOCTLCMD', 515],
  ['ERESTART_RESTARTBLOCK', 516],
  ['EPROBE_DEFER', 517],
  ['EOPENSTALE', 518],
  ['ENOPARAM', 519],
  ['EBADHANDLE', 521],
  ['ENOTSYNC', 522],
  ['EBADCOOKIE', 523],
  ['ENOTSUPP', 524],
  ['ETOOSMALL', 525],
  ['ESERVERFAULT', 526],
  ['EBADTYPE', 527],
  ['EJUKEBOX', 528],
  ['EIOCBQUEUED', 529],
  ['ERECALLCONFLICT', 530],
];

function cppMacros(header: string, defines: string[]): Map<string, string> {
  const args = ['-dM', ...defines.map((d) => `-D${d}`), '-'];
  const out = execFileSync('cpp', args, { input: `#include <${header}>\n`, encoding: 'utf8' });
  const macros = new Map<string, string>();
  for (const line of out.split('\n')) {
    const m = /^#define (\w+) (.+)$/.exec(line);
    if (m) macros.set(m[1]!, m[2]!.trim());
  }
  return macros;
}

function resolveNumber(macros: Map<string, string>, value: string, depth = 0): number | undefined {
  if (depth > 8) return undefined;
  let v = value.trim();
  while (v.startsWith('(') && v.endsWith(')')) v = v.slice(1, -1).trim();
  if (/^\d+$/.test(v)) return Number(v);
  const sum = /^(\w+)\s*\+\s*(\d+)$/.exec(v);
  if (sum) {
    const base = resolveNumber(macros, sum[1]!, depth + 1);
    return base === undefined ? undefined : base + Number(sum[2]);
  }
  const next = macros.get(v);
  return next === undefined ? undefined : resolveNumber(macros, next, depth + 1);
}

function syscallTable(src: SyscallSource): (string | undefined)[] {
  const macros = cppMacros(src.header, src.defines);
  const table: (string | undefined)[] = [];
  for (const [name, value] of macros) {
    if (!name.startsWith('__NR_')) continue;
    const sys = name.slice(5);
    if (NOT_SYSCALLS.has(sys)) continue;
    const nr = resolveNumber(macros, value);
    if (nr === undefined) throw new Error(`cannot resolve ${name}=${value} for ${src.arch}`);
    const prev = table[nr];
    if (prev !== undefined && prev !== sys) throw new Error(`${src.arch}: ${nr} is both ${prev} and ${sys}`);
    table[nr] = sys;
  }
  return table;
}

function errnoTable(): (string | undefined)[] {
  const macros = cppMacros('asm-generic/errno.h', []);
  const table: (string | undefined)[] = [];
  for (const [name, value] of macros) {
    if (!/^E[A-Z0-9_]+$/.test(name) || !/^\d+$/.test(value)) continue; // aliases (EWOULDBLOCK) skipped
    const n = Number(value);
    if (table[n] === undefined) table[n] = name;
  }
  for (const [name, n] of KERNEL_INTERNAL_ERRNOS) table[n] = name;
  return table;
}

function capabilityTable(): (string | undefined)[] {
  const macros = cppMacros('linux/capability.h', []);
  const table: (string | undefined)[] = [];
  for (const [name, value] of macros) {
    if (!/^CAP_[A-Z_]+$/.test(name) || !/^\d+$/.test(value) || name === 'CAP_LAST_CAP') continue;
    table[Number(value)] = name.slice(4).toLowerCase();
  }
  return table;
}

function libcDevVersion(): string {
  try {
    return execFileSync('dpkg-query', ['-W', '-f=$' + '{Version}', 'linux-libc-dev'], {
      encoding: 'utf8',
    }).trim();
  } catch {
    return 'unknown';
  }
}

function render(constName: string, what: string, source: string, table: (string | undefined)[]): string {
  const items: string[] = [];
  for (let i = 0; i < table.length; i++) {
    const v = table[i];
    items.push(v === undefined ? `  undefined, // ${i}` : `  '${v}', // ${i}`);
  }
  return (
    `// GENERATED by gen-tables.ts from ${source}. Do not edit; run: node libs/audit/src/interpret/gen-tables.ts\n` +
    `/** ${what}, indexed by number; undefined where the number is unassigned. */\n` +
    `export const ${constName}: readonly (string | undefined)[] = [\n${items.join('\n')}\n];\n`
  );
}

function main(): void {
  const check = process.argv.includes('--check');
  const version = libcDevVersion();
  const outputs: [string, string][] = [];
  for (const src of SOURCES) {
    const table = syscallTable(src);
    const source = `<${src.header}> (linux-libc-dev ${version}${src.defines.length ? `, cpp -D${src.defines.join(' -D')}` : ''})`;
    outputs.push([src.file, render(src.constName, `${src.arch} syscall names`, source, table)]);
  }
  outputs.push([
    'errno.generated.ts',
    render(
      'ERRNO_NAMES',
      'errno names (asm-generic, used by x86_64, i386, aarch64) plus kernel-internal codes 512..530',
      `<asm-generic/errno.h> (linux-libc-dev ${version}) and include/linux/errno.h kernel-internal codes`,
      errnoTable(),
    ),
  ]);
  outputs.push([
    'capabilities.generated.ts',
    render(
      'CAPABILITY_NAMES',
      'capability names (lower case, without CAP_), indexed by capability number',
      `<linux/capability.h> (linux-libc-dev ${version})`,
      capabilityTable(),
    ),
  ]);
  let stale = 0;
  for (const [file, text] of outputs) {
    const path = join(here, file);
    if (check) {
      let old = '';
      try {
        old = readFileSync(path, 'utf8');
      } catch {}
      if (old !== text) {
        stale++;
        process.stderr.write(`stale: ${file}\n`);
      }
    } else {
      writeFileSync(path, text);
      process.stdout.write(`wrote ${file}\n`);
    }
  }
  if (stale) process.exit(1);
}

main();
