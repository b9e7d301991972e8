import { createHash } from 'node:crypto';
import type { FileHandle } from 'node:fs/promises';

/**
 * Identity of a followed file: device and inode, plus a sha256 fingerprint of its first `fpLen` bytes so a
 * reused inode (or a copytruncate rewrite) is told apart from the file we were reading.
 */
export interface FileIdentity {
  dev: number;
  ino: number;
  /** Number of leading bytes hashed (at most the configured fingerprint size; less for a short file). */
  fpLen: number;
  /** sha256 hex of the first `fpLen` bytes. */
  fp: string;
}

/** A byte position in one file. */
export interface TailPosition {
  identity: FileIdentity;
  offset: number;
}

export async function readPrefix(fh: FileHandle, len: number): Promise<Buffer> {
  const buf = Buffer.alloc(len);
  let got = 0;
  while (got < len) {
    const { bytesRead } = await fh.read(buf, got, len - got, got);
    if (bytesRead === 0) break;
    got += bytesRead;
  }
  return buf.subarray(0, got);
}

export function fingerprint(prefix: Buffer): string {
  return createHash('sha256').update(prefix).digest('hex');
}

/** Compute the identity of an open file, hashing up to `fingerprintBytes` leading bytes. */
export async function identify(fh: FileHandle, fingerprintBytes: number): Promise<FileIdentity> {
  const st = await fh.stat();
  const prefix = await readPrefix(fh, Math.min(fingerprintBytes, st.size));
  return { dev: st.dev, ino: st.ino, fpLen: prefix.length, fp: fingerprint(prefix) };
}

/** True when the open file is the one `id` describes: same dev/inode and the same first `id.fpLen` bytes. */
export async function matches(fh: FileHandle, id: FileIdentity): Promise<boolean> {
  const st = await fh.stat();
  if (st.dev !== id.dev || st.ino !== id.ino || st.size < id.fpLen) return false;
  const prefix = await readPrefix(fh, id.fpLen);
  return prefix.length === id.fpLen && fingerprint(prefix) === id.fp;
}

export function sameIdentity(a: FileIdentity, b: FileIdentity): boolean {
  return a.dev === b.dev && a.ino === b.ino && a.fpLen === b.fpLen && a.fp === b.fp;
}
