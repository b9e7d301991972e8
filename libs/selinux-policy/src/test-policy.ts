// Test helper: locate the Debian reference policy (selinux-policy-default). Not exported by the package.
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';

export const DEBIAN_POLICY = process.env.AVCSTREAM_TEST_POLICY ?? '/etc/selinux/default/policy/policy.33';
export const haveDebianPolicy = existsSync(DEBIAN_POLICY);
export const inCi = Boolean(process.env.CI);
/** Run oracle-dependent tests when the file exists, or always under CI (where absence must fail). */
export const runPolicyTests = haveDebianPolicy || inCi;

if (!runPolicyTests) {
  console.warn(`SKIPPED: ${DEBIAN_POLICY} is absent (install selinux-policy-default); set CI=1 to make this fail`);
}

function seinfoInstalled(): boolean {
  try {
    execFileSync('seinfo', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

export const haveSeinfo = haveDebianPolicy && seinfoInstalled();
/** Run the tests comparing with `seinfo` (setools) on the Debian policy when both exist, or always under CI. */
export const runSeinfoTests = haveSeinfo || inCi;

if (haveDebianPolicy && !runSeinfoTests) {
  console.warn('SKIPPED: seinfo is not installed (install setools); set CI=1 to make this fail');
}

let cached: Uint8Array | undefined;
export function debianPolicyBytes(): Uint8Array {
  cached ??= new Uint8Array(readFileSync(DEBIAN_POLICY));
  return cached;
}

/** Deterministic PRNG (mulberry32) for fuzzing with a configurable seed. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
