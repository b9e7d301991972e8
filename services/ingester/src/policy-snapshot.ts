import { open, readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import {
  BOUNDS,
  chunkPolicy,
  encodeFileContextsBundle,
  type FileContextsBundle,
  type PolicyChunkMessage,
  type PolicyStateMessage,
  policyStateId,
  policyStateKey,
  sha256Hex,
} from '@avcstream/contracts';
import { AvcError } from '@avcstream/pipeline';
import { FileContextsFileTooLarge, fileContextsFor, readFileContextsFiles } from '@avcstream/selinux-access';

export interface PolicySnapshot {
  policy: Buffer;
  sha256: string;
  enforcing: boolean | null;
  booleans: Record<string, boolean>;
  /**
   * The host's file_contexts set as a serialized bundle (`fileContextsBundleSchema`) and its hash, for the
   * analyzer's restorecon advice; null when none is configured or found, or it could not be read.
   */
  fileContexts?: { bytes: Buffer; sha256: string } | null;
  /** Why a configured file_contexts set was not read (an error code and message), else null. */
  fileContextsError?: { code: string; message: string } | null;
}

export type SnapshotReason = PolicyStateMessage['reason'];

/** Record types that make the ingester take a new snapshot. */
export const SNAPSHOT_TRIGGERS: ReadonlySet<string> = new Set([
  'MAC_POLICY_LOAD',
  'MAC_CONFIG_CHANGE',
  'MAC_STATUS',
]);

async function readBounded(path: string, max: number): Promise<Buffer> {
  const fh = await open(path, 'r');
  try {
    const chunks: Buffer[] = [];
    let total = 0;
    for (;;) {
      const buf = Buffer.alloc(Math.min(1024 * 1024, max + 1 - total));
      const { bytesRead } = await fh.read(buf, 0, buf.length, null);
      if (bytesRead === 0) break;
      total += bytesRead;
      chunks.push(buf.subarray(0, bytesRead));
      if (total > max)
        throw new AvcError('AVC_ERR_INGESTER_POLICY_TOO_LARGE', 'policy file exceeds the size bound', {
          details: { path, max },
        });
    }
    return Buffer.concat(chunks);
  } finally {
    await fh.close();
  }
}

const BOOL_VALUE: Record<string, boolean> = {
  '1': true,
  '0': false,
  on: true,
  off: false,
  true: true,
  false: false,
};

/**
 * Parse boolean states from text: `name value` or `name=value` or getsebool's `name --> on` lines
 * (values 0/1/on/off/true/false). Unparseable lines are ignored; names are bounded.
 */
export function parseBooleansText(text: string): Record<string, boolean> {
  const out: Record<string, boolean> = {};
  for (const raw of text.split('\n')) {
    const line = raw.replace(/#.*/, '').trim();
    if (line === '') continue;
    const m = /^([A-Za-z0-9_.-]{1,256})\s*(?:-->|=|\s)\s*(\S+)/.exec(line);
    if (m === null) continue;
    const v = BOOL_VALUE[m[2]!.toLowerCase()];
    if (v !== undefined) out[m[1]!] = v;
    if (Object.keys(out).length >= BOUNDS.maxBooleans) break;
  }
  return out;
}

/** Read booleans from selinuxfs (a directory of files holding `current pending`) or from a text file. */
export async function readBooleansAt(path: string): Promise<Record<string, boolean>> {
  const st = await stat(path);
  if (!st.isDirectory()) return parseBooleansText((await readBounded(path, 1024 * 1024)).toString('utf8'));
  const out: Record<string, boolean> = {};
  const names = (await readdir(path)).filter((n) => /^[A-Za-z0-9_.-]{1,256}$/.test(n)).sort();
  for (const name of names.slice(0, BOUNDS.maxBooleans)) {
    try {
      const text = (await readFile(join(path, name), 'utf8')).trim();
      const cur = text.split(/\s+/)[0];
      if (cur === '1' || cur === '0') out[name] = cur === '1';
    } catch {
      // a boolean file we may not read: skip it
    }
  }
  return out;
}

/**
 * The file_contexts set at `path` as a serialized bundle. A missing or unreadable file, one over its bound,
 * or a bundle over `maxFileContextsBytes` is an error value: the snapshot goes without it.
 */
export function readFileContextsBundle(
  path: string,
): { bytes: Buffer; sha256: string } | { code: string; message: string } {
  let bundle: FileContextsBundle;
  try {
    bundle = { schema: 'avcstream.file-contexts.v1', ...readFileContextsFiles(path) };
  } catch (err) {
    if (err instanceof FileContextsFileTooLarge) {
      return {
        code: 'AVC_ERR_INGESTER_FILE_CONTEXTS_TOO_LARGE',
        message: 'a file_contexts file exceeds its bound',
      };
    }
    return {
      code: 'AVC_ERR_INGESTER_FILE_CONTEXTS_READ',
      message: `cannot read file_contexts (${String((err as NodeJS.ErrnoException).code ?? 'error')})`,
    };
  }
  const enc = encodeFileContextsBundle(bundle);
  if (!enc.ok) return { code: 'AVC_ERR_INGESTER_FILE_CONTEXTS_TOO_LARGE', message: enc.error.message };
  return { bytes: enc.value, sha256: sha256Hex(enc.value) };
}

const SELINUXFS_POLICY = 'sys/fs/selinux/policy';

/**
 * The file_contexts of the policy at `policyPath` (`fileContextsFor`). A selinuxfs policy under a prefix (a
 * container's `/host/sys/fs/selinux/policy`) looks for the host's /etc/selinux under the same prefix.
 */
function autoFileContexts(policyPath: string): string | null {
  const root = policyPath.endsWith(`/${SELINUXFS_POLICY}`)
    ? policyPath.slice(0, -SELINUXFS_POLICY.length)
    : '/';
  return fileContextsFor(policyPath, root);
}

/**
 * Read the host's current policy, enforcing mode and booleans, and its file_contexts set. Missing booleans
 * or enforce give {} / null. `fileContextsPath`: a file, `none`, or `auto` (default: the set that goes with
 * the policy, `fileContextsFor`; none found is no error).
 */
export async function readPolicySnapshot(paths: {
  policyPath: string;
  booleansPath: string;
  enforcePath: string;
  fileContextsPath?: string;
}): Promise<PolicySnapshot> {
  let policy: Buffer;
  try {
    policy = await readBounded(paths.policyPath, BOUNDS.maxPolicyBytes);
  } catch (err) {
    if (err instanceof AvcError) throw err;
    throw new AvcError('AVC_ERR_INGESTER_POLICY_READ', 'cannot read the policy', {
      cause: err,
      retriable: true,
      details: { path: paths.policyPath },
    });
  }
  let enforcing: boolean | null = null;
  try {
    const t = (await readBounded(paths.enforcePath, 64)).toString('utf8').trim();
    enforcing = t === '1' ? true : t === '0' ? false : null;
  } catch {
    enforcing = null;
  }
  let booleans: Record<string, boolean> = {};
  try {
    booleans = await readBooleansAt(paths.booleansPath);
  } catch {
    booleans = {};
  }
  const setting = paths.fileContextsPath ?? 'none';
  const fcPath =
    setting === 'none' ? null : setting === 'auto' ? autoFileContexts(paths.policyPath) : setting;
  let fileContexts: PolicySnapshot['fileContexts'] = null;
  let fileContextsError: PolicySnapshot['fileContextsError'] = null;
  if (fcPath !== null) {
    const r = readFileContextsBundle(fcPath);
    if ('bytes' in r) fileContexts = r;
    else fileContextsError = r;
  }
  return { policy, sha256: sha256Hex(policy), enforcing, booleans, fileContexts, fileContextsError };
}

/**
 * Messages for one snapshot: the state message, the policy binary chunks and the file_contexts bundle chunks
 * (the caller sends the chunks of a hash it has not sent yet, then the state).
 */
export function snapshotMessages(
  snap: PolicySnapshot,
  host: string,
  reason: SnapshotReason,
  takenAt: Date,
  chunkBytes: number,
): {
  stateId: string;
  state: { key: string; message: PolicyStateMessage };
  chunks: Array<{ key: string; message: PolicyChunkMessage }>;
  fileContextsChunks: Array<{ key: string; message: PolicyChunkMessage }>;
} {
  const { chunks } = chunkPolicy(snap.policy, chunkBytes);
  const fc = snap.fileContexts ?? null;
  const fcChunks = fc === null ? [] : chunkPolicy(fc.bytes, chunkBytes).chunks;
  const stateId = policyStateId(snap.sha256, snap.enforcing, snap.booleans, fc?.sha256 ?? null);
  const message: PolicyStateMessage = {
    schema: 'avcstream.policy.v1',
    kind: 'state',
    stateId,
    host,
    takenAt: takenAt.toISOString(),
    reason,
    policy: { sha256: snap.sha256, bytes: snap.policy.length, chunks: chunks.length },
    enforcing: snap.enforcing,
    booleans: snap.booleans,
  };
  if (fc !== null)
    message.fileContexts = { sha256: fc.sha256, bytes: fc.bytes.length, chunks: fcChunks.length };
  return { stateId, state: { key: policyStateKey(stateId), message }, chunks, fileContextsChunks: fcChunks };
}
