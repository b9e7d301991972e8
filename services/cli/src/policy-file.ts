// Reading a binary policy named on the command line (`--policy FILE`, `policy info|query FILE`), bounded
// in bytes whatever FILE is: a FIFO (`<(cat policy.33)`), /dev/stdin or /dev/zero has size 0, so a stat
// check alone would let readFileSync read until memory runs out.
import { readFileBounded } from '@avcstream/selinux-access';

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
