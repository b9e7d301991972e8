// Start-up check of --state-dir, before anything creates it: Node's recursive mkdir never returns on some
// pseudo filesystems (`mkdirSync('/proc/xx', { recursive: true })` spins at 100% CPU), and a state dir there
// or on a read-only mount could never hold a checkpoint anyway.
import { accessSync, constants, statfsSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';

/** Kernel filesystems (statfs f_type, linux/magic.h) that hold no files of ours. */
const PSEUDO_FILESYSTEMS: ReadonlyMap<number, string> = new Map([
  [0x9fa0, 'proc'],
  [0x62656572, 'sysfs'],
  [0xf97cff8c, 'selinuxfs'],
  [0x27e0eb, 'cgroup'],
  [0x63677270, 'cgroup2'],
  [0x64626720, 'debugfs'],
  [0x74726163, 'tracefs'],
  [0x73636673, 'securityfs'],
  [0x1cd1, 'devpts'],
  [0x6165676c, 'pstore'],
  [0xcafe4a11, 'bpf'],
  [0x62656570, 'configfs'],
  [0x65735543, 'fusectl'],
  [0xde5e81e4, 'efivarfs'],
  [0x42494e4d, 'binfmt_misc'],
]);

/**
 * Why `dir` cannot be the state dir, or null when it can: its nearest existing ancestor (itself when it
 * exists) must be a directory the process may write and search, on a filesystem that is not a kernel
 * pseudo filesystem (proc, sysfs, selinuxfs, cgroup, ...). Does no writes.
 */
export function stateDirProblem(dir: string): string | null {
  if (dir === '') return 'the path is empty';
  let p = resolve(dir);
  for (;;) {
    let isDir: boolean;
    try {
      isDir = statSync(p).isDirectory();
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      const up = dirname(p);
      if ((code === 'ENOENT' || code === 'ENOTDIR') && up !== p) {
        p = up;
        continue;
      }
      return `cannot inspect ${p}: ${code ?? (err as Error).message}`;
    }
    if (!isDir) return `${p} exists and is not a directory`;
    break;
  }
  let fsType: number;
  try {
    fsType = statfsSync(p).type >>> 0;
  } catch (err) {
    return `cannot inspect the filesystem of ${p}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`;
  }
  const pseudo = PSEUDO_FILESYSTEMS.get(fsType);
  if (pseudo !== undefined) return `on a ${pseudo} filesystem (${p}), not a regular one`;
  try {
    accessSync(p, constants.W_OK | constants.X_OK);
  } catch (err) {
    return `${p} is not writable (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`;
  }
  return null;
}
