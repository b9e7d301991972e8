import { chunkPolicy, type PolicyMessage, policyStateId } from '@avcstream/contracts';
import { describe, expect, it } from 'vitest';
import { createPolicyStore } from './policy-store.ts';

const bytes = Buffer.alloc(300, 7); // not a policy: parses to an error, but reassembles to its sha256
const { sha256, chunks } = chunkPolicy(bytes, 200);
const stateId = policyStateId(sha256, true, {});
const state: PolicyMessage = {
  schema: 'avcstream.policy.v1',
  kind: 'state',
  stateId,
  host: 'web01',
  takenAt: '2023-11-14T22:13:22.000Z',
  reason: 'start',
  policy: { sha256, bytes: bytes.length, chunks: chunks.length },
  enforcing: true,
  booleans: {},
};
const REASSEMBLY = 'policy chunks do not reassemble to their sha256';

describe('policy store', () => {
  it('a later valid chunk replaces a corrupt one: the reassembly error is not kept for the hash', () => {
    const invalid: Array<{ sha256: string; error: string; sources: string[] }> = [];
    const store = createPolicyStore<string>({
      onInvalid: (sha, error, sources) => invalid.push({ sha256: sha, error, sources }),
    });
    const [c0, c1] = chunks;
    const corrupt = { ...c0!.message, data: Buffer.alloc(200, 1).toString('base64') };
    store.apply(corrupt, 'corrupt-0');
    store.apply(c1!.message, 'good-1');
    store.apply(state);
    expect(store.lookup(stateId)).toEqual({ kind: 'error', message: REASSEMBLY });
    // The bad binary's messages are reported once, with what the caller passed for them (to dead-letter).
    expect(invalid).toEqual([{ sha256, error: REASSEMBLY, sources: ['corrupt-0', 'good-1'] }]);
    store.apply(c0!.message, 'good-0');
    const again = store.lookup(stateId);
    expect(again.kind).toBe('error');
    expect(again.kind === 'error' && again.message).toMatch(/^policy does not parse/);
    expect(invalid.map((x) => x.sources)).toEqual([['corrupt-0', 'good-1'], ['good-0']]);
  });
});
