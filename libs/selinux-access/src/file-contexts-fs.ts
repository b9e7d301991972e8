// Impure: the files of a host's file_contexts, read with a byte bound, and where a host keeps them.
import { existsSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { type FileContexts, type FileContextsSource, parseFileContexts } from './file-contexts.ts';
import { readFileBounded } from './read-bounded.ts';

/** Largest file of a file_contexts set read (Debian's and Fedora's file_contexts are 0.3-1 MB). */
export const MAX_FILE_CONTEXTS_BYTES = 32 * 1024 * 1024;

/**
 * What libselinux reads for file labels: the specs (file_contexts, then `.homedirs` and `.local`), the path
 * aliases (`.subs`, `.subs_dist`) and contexts/customizable_types, each as it was read.
 */
export interface FileContextsFiles {
  specs: FileContextsSource[];
  subs?: FileContextsSource;
  subsDist?: FileContextsSource;
  customizable?: FileContextsSource;
}

/** A file of the set holds more than MAX_FILE_CONTEXTS_BYTES (its path is `path`). */
export class FileContextsFileTooLarge extends Error {
  readonly path: string;
  constructor(path: string) {
    super('file_contexts file larger than its bound');
    this.name = 'FileContextsFileTooLarge';
    this.path = path;
  }
}

/**
 * The files of the file_contexts at `path`: `path` itself (its read errors are thrown as is), and beside
 * it, when present, `.homedirs`, `.local`, `.subs`, `.subs_dist` and `../customizable_types`. Each is
 * bounded by `maxBytes` (FileContextsFileTooLarge past it).
 */
export function readFileContextsFiles(path: string, maxBytes = MAX_FILE_CONTEXTS_BYTES): FileContextsFiles {
  const read = (p: string, required: boolean): FileContextsSource | undefined => {
    if (!required && !existsSync(p)) return undefined;
    const buf = readFileBounded(p, maxBytes);
    if (buf === null) throw new FileContextsFileTooLarge(p);
    return { name: p, text: buf.toString('utf8') };
  };
  const specs = [read(path, true), read(`${path}.homedirs`, false), read(`${path}.local`, false)].filter(
    (s): s is FileContextsSource => s !== undefined,
  );
  const files: FileContextsFiles = { specs };
  const subs = read(`${path}.subs`, false);
  const subsDist = read(`${path}.subs_dist`, false);
  // contexts/customizable_types beside contexts/files/file_contexts: labels restorecon keeps unless forced.
  const customizable = read(join(dirname(dirname(path)), 'customizable_types'), false);
  if (subs !== undefined) files.subs = subs;
  if (subsDist !== undefined) files.subsDist = subsDist;
  if (customizable !== undefined) files.customizable = customizable;
  return files;
}

/** The lookup of a file_contexts set (its regular expressions are compiled here). */
export function fileContextsOf(files: FileContextsFiles): FileContexts {
  const aliases: { subs?: FileContextsSource; subsDist?: FileContextsSource } = {};
  if (files.subs !== undefined) aliases.subs = files.subs;
  if (files.subsDist !== undefined) aliases.subsDist = files.subsDist;
  return parseFileContexts(files.specs, aliases, files.customizable);
}

/** Largest /etc/selinux/config read. */
const MAX_CONFIG_BYTES = 64 * 1024;
const POLICY_TYPE = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,63}$/;
const POLICY_FILE = /^policy\.([0-9]{1,3})$/;

/** SELINUXTYPE of `/etc/selinux/config` under `root`, or null when absent or not a plain name. */
export function hostPolicyType(root: string): string | null {
  let config: Buffer | null;
  try {
    config = readFileBounded(join(root, 'etc/selinux/config'), MAX_CONFIG_BYTES);
  } catch {
    return null;
  }
  if (config === null) return null;
  let type: string | undefined;
  for (const line of config.toString('latin1').split('\n')) {
    const m = /^\s*SELINUXTYPE\s*=\s*"?([^"\s]*)"?\s*$/i.exec(line);
    if (m) type = m[1];
  }
  if (type === undefined || !POLICY_TYPE.test(type) || type.includes('..')) return null;
  return type;
}

/**
 * The file_contexts that goes with a policy file, when the policy is a host's: `TYPE/policy/policy.N`
 * gives `TYPE/contexts/files/file_contexts` (as /etc/selinux lays them out), the kernel's selinuxfs
 * image the one of `/etc/selinux/config`'s type. Null when there is none. `root` is `/` but for tests.
 */
export function fileContextsFor(policyPath: string, root = '/'): string | null {
  let dir: string | null = null;
  if (policyPath === join(root, 'sys/fs/selinux/policy')) {
    const type = hostPolicyType(root);
    if (type !== null) dir = join(root, 'etc/selinux', type);
  } else if (POLICY_FILE.test(basename(policyPath)) && basename(dirname(policyPath)) === 'policy') {
    dir = dirname(dirname(policyPath));
  }
  if (dir === null) return null;
  const file = join(dir, 'contexts/files/file_contexts');
  return existsSync(file) ? file : null;
}
