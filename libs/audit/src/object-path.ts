import { posix } from 'node:path';

/**
 * Syscalls whose relative path names are resolved against the working directory: the CWD record then makes
 * them absolute.
 */
const CWD_RELATIVE = new Set([
  'open',
  'creat',
  'stat',
  'lstat',
  'stat64',
  'lstat64',
  'access',
  'chmod',
  'chown',
  'lchown',
  'chown32',
  'lchown32',
  'mkdir',
  'rmdir',
  'unlink',
  'rename',
  'link',
  'symlink',
  'truncate',
  'truncate64',
  'execve',
  'chdir',
  'readlink',
  'utime',
  'utimes',
  'mknod',
  'getxattr',
  'lgetxattr',
  'setxattr',
  'lsetxattr',
  'listxattr',
  'llistxattr',
  'removexattr',
  'lremovexattr',
  'statfs',
  'statfs64',
  'chroot',
]);

/**
 * Syscalls taking one directory fd as their first argument: their relative names are resolved against the
 * working directory only when that argument is AT_FDCWD. (renameat, linkat, symlinkat and the like take
 * their directory fds elsewhere, or two of them: their relative names are never joined.)
 */
const DIRFD_FIRST = new Set([
  'openat',
  'openat2',
  'newfstatat',
  'fstatat64',
  'statx',
  'faccessat',
  'faccessat2',
  'fchmodat',
  'fchmodat2',
  'fchownat',
  'mkdirat',
  'mknodat',
  'unlinkat',
  'readlinkat',
  'utimensat',
  'futimesat',
  'execveat',
  'name_to_handle_at',
]);

/** AT_FDCWD (-100) as the kernel writes a0 (32 or 64 bits), or as `ausearch -i` writes it. */
const AT_FDCWD = new Set(['ffffff9c', 'ffffffffffffff9c', 'AT_FDCWD']);

function nonEmpty(v: string | undefined): string | null {
  return v === undefined || v === '' || v === '(null)' ? null : v;
}

/**
 * What avcObjectPath reads of a record: an AuditRecord, or a stored copy of one (a report rebuilt from a state
 * dir may have no `interpreted`).
 */
export interface ObjectPathRecord {
  type: string;
  fields: Record<string, string>;
  interpreted?: Record<string, unknown>;
  avc?: { tcontext: { raw: string } };
}

/** The syscall name of a SYSCALL record: its interpretation, or the field when a log was written interpreted. */
function syscallName(r: ObjectPathRecord): string | null {
  const i = r.interpreted?.syscall;
  if (typeof i === 'string') return i;
  const f = r.fields.syscall;
  return f !== undefined && !/^\d+$/.test(f) ? f : null;
}

/**
 * The absolute path of the object an AVC record's permission check was on, for a file_contexts lookup (the
 * default label `restorecon` would set), or null when it cannot be told for sure:
 * - the record's own `path=` (the kernel's d_path of the object);
 * - else, for a record naming its object by `name=` and `ino=` only (most read, write and open denials), the
 *   name of a PATH record of the same event with that inode, whose last component is that name and whose
 *   `obj=`, when present, is the AVC's tcontext. A relative name is joined to the event's CWD only when the
 *   syscall resolves it against the working directory (not against another directory fd), and a name with a
 *   `..` component is not used (through a symbolic link, `..` is not the parent its text shows).
 * A lookup on a directory of the path walk (a `search` denial) names another inode than the PATH records, so
 * it is never matched to the file at the end of the walk.
 */
export function avcObjectPath(
  avcRecord: ObjectPathRecord,
  event: { readonly records: readonly ObjectPathRecord[] },
): string | null {
  const own = nonEmpty(avcRecord.fields.path);
  if (own !== null) return own;
  const ino = avcRecord.fields.ino;
  if (ino === undefined || !/^\d{1,20}$/.test(ino)) return null;
  const name = nonEmpty(avcRecord.fields.name);
  const tcontext = avcRecord.avc?.tcontext.raw ?? avcRecord.fields.tcontext;
  let cwd: string | null = null;
  let syscall: ObjectPathRecord | null = null;
  for (const r of event.records) {
    if (r.type === 'CWD') cwd ??= nonEmpty(r.fields.cwd);
    else if (r.type === 'SYSCALL') syscall ??= r;
  }
  for (const r of event.records) {
    if (r.type !== 'PATH' || r.fields.inode !== ino) continue;
    const pathName = nonEmpty(r.fields.name);
    if (pathName === null) continue;
    const obj = r.fields.obj;
    if (obj !== undefined && tcontext !== undefined && obj !== tcontext) continue;
    if (name !== null && posix.basename(pathName) !== name) continue;
    let full: string;
    if (pathName.startsWith('/')) full = pathName;
    else if (cwd?.startsWith('/') && syscall !== null && resolvesAgainstCwd(syscall)) {
      full = `${cwd}/${pathName}`;
    } else continue;
    // `..` is left to the kernel: through a symbolic link it is not the parent the text shows.
    if (full.split('/').includes('..')) continue;
    return posix.normalize(full);
  }
  return null;
}

function resolvesAgainstCwd(syscall: ObjectPathRecord): boolean {
  const name = syscallName(syscall);
  if (name === null) return false;
  if (CWD_RELATIVE.has(name)) return true;
  return DIRFD_FIRST.has(name) && AT_FDCWD.has(syscall.fields.a0 ?? '');
}
