import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  chunkPolicy,
  encodeFileContextsBundle,
  type PolicyMessage,
  policyStateId,
} from '@avcstream/contracts';
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

describe('policy store: state ids that timed out', () => {
  const setup = () => {
    let clock = 1_000;
    const outcomes: string[] = [];
    const store = createPolicyStore({
      missTtlMs: 60_000,
      now: () => clock,
      onWait: (_id, outcome) => outcomes.push(outcome),
    });
    return { store, outcomes, advance: (ms: number) => (clock += ms) };
  };

  it('are not waited for again until the entry expires', async () => {
    const t = setup();
    expect(await t.store.waitFor(stateId, 0)).toEqual({ kind: 'pending', reason: 'state' });
    // Would wait an hour if it waited at all.
    expect(await t.store.waitFor(stateId, 3_600_000)).toEqual({ kind: 'pending', reason: 'state' });
    expect(t.outcomes).toEqual(['timeout', 'known_missing']);
    expect(t.store.stats().misses).toBe(1);
    t.advance(60_000);
    await t.store.waitFor(stateId, 0);
    expect(t.outcomes).toEqual(['timeout', 'known_missing', 'timeout']);
  });

  it('are used again once the state arrives, and a missing binary is waited for again once a chunk arrives', async () => {
    const t = setup();
    await t.store.waitFor(stateId, 0);
    t.store.apply(state);
    expect(t.store.stats().misses).toBe(0);
    // The state is there, its binary is not: the binary's wait times out and is remembered in turn.
    expect(await t.store.waitFor(stateId, 0)).toEqual({ kind: 'pending', reason: 'binary' });
    expect(t.store.stats().misses).toBe(1);
    for (const c of chunks) t.store.apply(c.message);
    expect(t.store.stats().misses).toBe(0);
    expect((await t.store.waitFor(stateId, 3_600_000)).kind).toBe('error'); // loaded (not a policy: an error)
    expect(t.outcomes).toEqual(['timeout', 'timeout', 'found']);
  });

  it('a wait already running for the same id is joined, not doubled', async () => {
    const t = setup();
    const a = t.store.waitFor(stateId, 3_600_000);
    const b = t.store.waitFor(stateId, 3_600_000);
    t.store.apply(state);
    for (const c of chunks) t.store.apply(c.message);
    expect((await a).kind).toBe('error');
    expect((await b).kind).toBe('error');
    expect(t.outcomes).toEqual(['found']);
  });
});

describe('policy store: file_contexts', () => {
  const policyBytes = readFileSync(join(import.meta.dirname, '../../cli/sample/policy/policy.33'));
  const policy = chunkPolicy(policyBytes, 4096);
  const bundleOf = (text: string) => {
    const enc = encodeFileContextsBundle({
      schema: 'avcstream.file-contexts.v1',
      specs: [{ name: 'file_contexts', text }],
      customizable: { name: 'customizable_types', text: 'httpd_user_content_t\n' },
    });
    if (!enc.ok) throw new Error(enc.error.message);
    return enc.value;
  };
  const stateWith = (fcBytes: Buffer) => {
    const fc = chunkPolicy(fcBytes, 64);
    const id = policyStateId(policy.sha256, true, {}, fc.sha256);
    const st: PolicyMessage = {
      schema: 'avcstream.policy.v1',
      kind: 'state',
      stateId: id,
      host: 'web01',
      takenAt: '2023-11-14T22:13:22.000Z',
      reason: 'start',
      policy: { sha256: policy.sha256, bytes: policyBytes.length, chunks: policy.chunks.length },
      enforcing: true,
      booleans: {},
      fileContexts: { sha256: fc.sha256, bytes: fcBytes.length, chunks: fc.chunks.length },
    };
    return { id, st, fcChunks: fc.chunks };
  };

  it('is pending until the bundle named by the state is complete, then ready with the set', () => {
    const store = createPolicyStore();
    const { id, st, fcChunks } = stateWith(
      bundleOf('/var/www(/.*)?\tsystem_u:object_r:httpd_sys_content_t:s0\n'),
    );
    store.apply(st);
    for (const c of policy.chunks) store.apply(c.message);
    expect(store.lookup(id)).toEqual({ kind: 'pending', reason: 'file_contexts' });
    for (const c of fcChunks.slice(1)) store.apply(c.message);
    expect(store.lookup(id)).toEqual({ kind: 'pending', reason: 'file_contexts' });
    store.apply(fcChunks[0]!.message);
    const r = store.lookup(id);
    expect(r.kind).toBe('ready');
    if (r.kind !== 'ready') return;
    expect(r.fileContextsError).toBeNull();
    expect(r.fileContexts?.lookup('/var/www/html/x', 'file')?.type).toBe('httpd_sys_content_t');
    expect(r.fileContexts?.customizable.has('httpd_user_content_t')).toBe(true);
    expect(store.stats().fileContexts).toBe(1);
  });

  it('a bundle that does not decode leaves the policy usable, says why, and hands its chunks to onInvalid', () => {
    const invalid: Array<{ error: string; sources: string[] }> = [];
    const store = createPolicyStore<string>({
      onInvalid: (_sha, error, sources) => invalid.push({ error, sources }),
    });
    const { id, st, fcChunks } = stateWith(Buffer.from('{"schema":"avcstream.file-contexts.v1","specs":[]}'));
    store.apply(st);
    for (const c of policy.chunks) store.apply(c.message);
    for (const [i, c] of fcChunks.entries()) store.apply(c.message, `fc-${i}`);
    const r = store.lookup(id);
    expect(r.kind).toBe('ready');
    if (r.kind !== 'ready') return;
    expect(r.fileContexts).toBeNull();
    expect(r.fileContextsError).toMatch(/^file_contexts bundle invalid: specs/);
    expect(invalid).toEqual([{ error: r.fileContextsError, sources: fcChunks.map((_, i) => `fc-${i}`) }]);
  });
});
