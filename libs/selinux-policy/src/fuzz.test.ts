import { describe, expect, it } from 'vitest';
import { PolicyFormatError } from './errors.ts';
import { policyInfo } from './info.ts';
import { readPolicy } from './read-policy.ts';
import { debianPolicyBytes, prng, runPolicyTests } from './test-policy.ts';

const SEED = Number(process.env.AVCSTREAM_FUZZ_SEED ?? 20261122);

function outcome(bytes: Uint8Array): 'ok' | 'format-error' {
  try {
    const p = readPolicy(bytes);
    // A file that reads must also index and summarise without throwing.
    expect(p.teIndex.size + p.condIndex.size + p.scIndex.size).toBeGreaterThanOrEqual(0);
    policyInfo(p);
    return 'ok';
  } catch (err) {
    if (err instanceof PolicyFormatError) {
      expect(err.code).toBe('AVC_ERR_POLICY_FORMAT');
      expect(err.offset).toBeGreaterThanOrEqual(0);
      expect(err.offset).toBeLessThanOrEqual(bytes.length);
      expect(typeof err.section).toBe('string');
      return 'format-error';
    }
    throw err;
  }
}

describe('readPolicy rejects hostile input with PolicyFormatError', () => {
  it('rejects empty, short and foreign files', () => {
    expect(outcome(new Uint8Array(0))).toBe('format-error');
    expect(outcome(new Uint8Array([0x8c, 0xff, 0x7c, 0xf9]))).toBe('format-error');
    expect(() => readPolicy(new Uint8Array([0x8d, 0xff, 0x7c, 0xf9, 0, 0, 0, 0]))).toThrow(/module/);
  });
});

// Generous timeouts: the machine is shared; these bound a hang, they do not measure speed.
describe.runIf(runPolicyTests)(`fuzzing the Debian policy (seed ${SEED})`, { timeout: 300_000 }, () => {
  const good = debianPolicyBytes();

  it('rejects every truncation, reporting an offset inside the file', () => {
    const rnd = prng(SEED);
    const cuts = [0, 1, 4, 31, 32, 67, 68, 2123, 175427, 350289, 1578373, 1967097, good.length - 1];
    for (let i = 0; i < 25; i++) cuts.push(Math.floor(rnd() * good.length));
    for (const cut of cuts) {
      expect(outcome(good.subarray(0, cut))).toBe('format-error');
    }
  });

  it('rejects trailing bytes', () => {
    const longer = new Uint8Array(good.length + 1);
    longer.set(good);
    expect(outcome(longer)).toBe('format-error');
  });

  it('never throws anything but PolicyFormatError on random byte flips', () => {
    const rnd = prng(SEED ^ 0x5a5a);
    const results = { ok: 0, 'format-error': 0 };
    for (let i = 0; i < 60; i++) {
      const copy = new Uint8Array(good);
      const flips = 1 + Math.floor(rnd() * 4);
      for (let f = 0; f < flips; f++) {
        // Bias half the flips to the first 400 KiB, where counts and symbol tables live.
        const pos = Math.floor(rnd() * (rnd() < 0.5 ? 400_000 : copy.length));
        copy[pos] = (copy[pos] as number) ^ (1 + Math.floor(rnd() * 255));
      }
      results[outcome(copy)]++;
    }
    expect(results.ok + results['format-error']).toBe(60);
  });

  it('survives counts set to huge values in every early section header', () => {
    for (const at of [68, 72, 2123, 2127, 175427, 179984, 322024, 323624, 333757, 333983, 350289, 1578373]) {
      const copy = new Uint8Array(good);
      copy[at] = 0xff;
      copy[at + 1] = 0xff;
      copy[at + 2] = 0xff;
      copy[at + 3] = 0x7f;
      expect(outcome(copy)).toBe('format-error');
    }
  });
});
