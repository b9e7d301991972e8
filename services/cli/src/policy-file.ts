// Reading a binary policy named on the command line (`--policy FILE`, `policy info|query FILE`), bounded
// in bytes whatever FILE is: a FIFO (`<(cat policy.33)`), /dev/stdin or /dev/zero has size 0, so a stat
// check alone would let readFileSync read until memory runs out.
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import {
  type FileContexts,
  FileContextsFileTooLarge,
  type FileContextsFiles,
  fileContextsFor,
  fileContextsOf,
  hostPolicyType,
  MAX_FILE_CONTEXTS_BYTES,
  readFileBounded,
  readFileContextsFiles,
} from '@avcstream/selinux-access';
import { MAX_POLICY_VERSION } from '@avcstream/selinux-policy';

/** Largest policy file read (the kernel's are 2-10 MB). */
export const MAX_POLICY_BYTES = 256 * 1024 * 1024;

/** The policy file holds more than its bound; commands report it as "policy file too large" (exit 65). */
export class PolicyTooLargeError extends Error {
  readonly code = 'AVC_ERR_CLI_POLICY_TOO_LARGE';
  readonly maxBytes: number;
  constructor(maxBytes: number) {
    super('policy file too large');
    this.maxBytes = maxBytes;
    this.name = 'PolicyTooLargeError';
  }
}

/** The bytes of the policy file at `path`; throws PolicyTooLargeError past `maxBytes`, fs errors as is. */
export function readPolicyFile(path: string, maxBytes = MAX_POLICY_BYTES): Uint8Array {
  const buf = readFileBounded(path, maxBytes);
  if (buf === null) throw new PolicyTooLargeError(maxBytes);
  return new Uint8Array(buf.buffer, buf.byteOffset, buf.length);
}

const POLICY_FILE = /^policy\.([0-9]{1,3})$/;

/**
 * The binary policy this host runs, for commands run without `--policy` (as audit2why and seinfo use the
 * current policy): the kernel's own image in selinuxfs (it holds the booleans' current values), else the
 * installed policy of `/etc/selinux/config`'s SELINUXTYPE, `/etc/selinux/TYPE/policy/policy.N` with the
 * highest N (what the kernel would load). Null when there is neither. `root` is `/` but for tests.
 */
export function hostPolicyPath(root = '/'): string | null {
  const kernel = join(root, 'sys/fs/selinux/policy');
  if (existsSync(kernel)) return kernel;
  const type = hostPolicyType(root);
  if (type === null) return null;
  const dir = join(root, 'etc/selinux', type, 'policy');
  // The newest version the reader supports (as setools picks), else the newest there is (its reading
  // then fails with a clear format error rather than "no policy").
  let best = -1;
  let newest = -1;
  try {
    for (const name of readdirSync(dir)) {
      const m = POLICY_FILE.exec(name);
      if (!m) continue;
      const v = Number(m[1]);
      newest = Math.max(newest, v);
      if (v <= MAX_POLICY_VERSION) best = Math.max(best, v);
    }
  } catch {
    return null;
  }
  const pick = best >= 0 ? best : newest;
  return pick < 0 ? null : join(dir, `policy.${pick}`);
}

export { fileContextsFor };

/** file_contexts is larger than its bound. */
export class FileContextsTooLargeError extends Error {
  readonly code = 'AVC_ERR_CLI_FILE_CONTEXTS_TOO_LARGE';
  constructor(path: string) {
    super(`${path}: larger than ${MAX_FILE_CONTEXTS_BYTES} bytes`);
    this.name = 'FileContextsTooLargeError';
  }
}

/**
 * file_contexts at `path` with what libselinux reads beside it (`readFileContextsFiles`). The files are read
 * now (read errors of `path` itself are thrown as is) and parsed at the first lookup, as libselinux compiles
 * its regular expressions when first used: a log without a path pays nothing. Lines that do not parse are
 * in `errors` once parsed (`parsed()`).
 */
export function readFileContexts(path: string): FileContexts & { parsed(): boolean } {
  let files: FileContextsFiles;
  try {
    files = readFileContextsFiles(path);
  } catch (err) {
    if (err instanceof FileContextsFileTooLarge) throw new FileContextsTooLargeError(err.path);
    throw err;
  }
  let fc: FileContexts | null = null;
  const get = (): FileContexts => {
    fc ??= fileContextsOf(files);
    return fc;
  };
  return {
    lookup: (p, tclass) => get().lookup(p, tclass),
    get customizable() {
      return get().customizable;
    },
    get size() {
      return get().size;
    },
    get errors() {
      return get().errors;
    },
    parsed: () => fc !== null,
  };
}
