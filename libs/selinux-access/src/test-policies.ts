// Test helper: the Debian reference policy (optional, see runDebian) and the committed sample policy.
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Policy, readPolicy } from '@avcstream/selinux-policy';

export const DEBIAN_POLICY = process.env.AVCSTREAM_TEST_POLICY ?? '/etc/selinux/default/policy/policy.33';
export const runDebian = existsSync(DEBIAN_POLICY) || Boolean(process.env.CI);
if (!runDebian) {
  console.warn(`SKIPPED: ${DEBIAN_POLICY} is absent (install selinux-policy-default); set CI=1 to make this fail`);
}

const here = dirname(fileURLToPath(import.meta.url));
/** The hand-written MLS sample policy committed with the CLI (always present in the repo). */
export const SAMPLE_POLICY = join(here, '../../../services/cli/sample/policy/policy.33');

let debian: Policy | undefined;
export function debianPolicy(): Policy {
  debian ??= readPolicy(new Uint8Array(readFileSync(DEBIAN_POLICY)));
  return debian;
}

let sample: Policy | undefined;
export function samplePolicy(): Policy {
  sample ??= readPolicy(new Uint8Array(readFileSync(SAMPLE_POLICY)));
  return sample;
}

/**
 * The sample policy with every occurrence of the name `from` replaced by `to` of the same length (bytes,
 * latin1): a crafted policy built at test time, e.g. a boolean whose name holds shell metacharacters.
 */
export function patchedSamplePolicy(from: string, to: string): Policy {
  return patchedPolicy(SAMPLE_POLICY, from, to);
}

/** patchedSamplePolicy over the policy file at `path` (e.g. DEBIAN_POLICY). */
export function patchedPolicy(path: string, from: string, to: string): Policy {
  const bytes = readFileSync(path);
  const f = Buffer.from(from, 'latin1');
  const t = Buffer.from(to, 'latin1');
  if (f.length !== t.length) throw new Error('patchedPolicy: the names must have the same length');
  let n = 0;
  for (let i = bytes.indexOf(f); i >= 0; i = bytes.indexOf(f, i + f.length)) {
    t.copy(bytes, i);
    n++;
  }
  if (n === 0) throw new Error(`patchedPolicy: ${from} is not in ${path}`);
  return readPolicy(new Uint8Array(bytes));
}
