import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createAuditDecoder } from '@avcstream/audit';
import {
  chunkPolicy,
  denialDocSchema,
  type EventMessage,
  policyStateId,
  selinuxEventDocSchema,
  sha256Hex,
} from '@avcstream/contracts';
import { parseBooleans } from '@avcstream/selinux-access';
import { describe, expect, it } from 'vitest';
import { createPolicyStore } from './policy-store.ts';
import { toEcs } from './to-ecs.ts';

const sample = join(import.meta.dirname, '../../cli/sample');
const policyBytes = readFileSync(join(sample, 'policy/policy.33'));
const booleans = parseBooleans(readFileSync(join(sample, 'booleans'), 'utf8'));
const sha = sha256Hex(policyBytes);
const stateId = policyStateId(sha, true, booleans);

function messages(): EventMessage[] {
  const dec = createAuditDecoder();
  const a = dec.write(readFileSync(join(sample, 'audit.log')));
  const b = dec.end();
  return [...a.events, ...b.events].map((event) => ({
    schema: 'avcstream.events.v1',
    host: event.node ?? 'nohost',
    ingesterId: 'i',
    source: { path: '/var/log/audit/audit.log', dev: 1, ino: 1, fp: 'x', fpLen: 1, offset: 0 },
    policy: { stateId, sha256: sha },
    event,
    publishedAt: new Date(0).toISOString(),
  }));
}

function loadedStore() {
  const store = createPolicyStore();
  for (const c of chunkPolicy(policyBytes, 4096).chunks) store.apply(c.message);
  store.apply({
    schema: 'avcstream.policy.v1',
    kind: 'state',
    stateId,
    host: 'h',
    takenAt: new Date(0).toISOString(),
    reason: 'start',
    policy: { sha256: sha, bytes: policyBytes.length, chunks: 3 },
    enforcing: true,
    booleans,
  });
  return store;
}

describe('toEcs on the bundled sample', () => {
  it('gives the 28 denials with the verdicts of the sample README (booleans file)', () => {
    const store = loadedStore();
    const lookup = store.lookup(stateId);
    expect(lookup.kind).toBe('ready');
    if (lookup.kind !== 'ready') return;
    const verdicts: Record<string, number> = {};
    const ids = new Set<string>();
    let selinux = 0;
    for (const [i, msg] of messages().entries()) {
      const docs = toEcs(
        msg,
        { partition: 0, offset: String(i) },
        new Date(0),
        (d) => ({ explanation: lookup.explainer.explain(d, lookup.booleans), error: null }),
        () => 'a'.repeat(32),
      );
      for (const d of docs.denials) {
        denialDocSchema.parse(d.doc);
        ids.add(d.id);
        const v = d.doc.decision.verdict ?? 'none';
        verdicts[v] = (verdicts[v] ?? 0) + 1;
      }
      for (const d of docs.selinux) {
        selinuxEventDocSchema.parse(d.doc);
        ids.add(d.id);
        selinux++;
      }
    }
    expect(verdicts).toEqual({
      ALLOWED: 3,
      DONTAUDIT: 2,
      TE_MISSING: 6,
      BOOLEAN: 7,
      CONSTRAINT: 2,
      RBAC: 1,
      BOUNDS: 2,
      INVALID_CONTEXT: 3,
      UNKNOWN_CLASS: 1,
      UNKNOWN_PERM: 1,
    });
    // 3 granted AVCs, 3 MAC_STATUS, 2 MAC_POLICY_LOAD, 2 MAC_CONFIG_CHANGE, 1 USER_AVC policyload notice, and
    // the 2 AVC records whose body does not parse (lines 94, 154: kept, not dropped silently)
    expect(selinux).toBe(13);
    expect(ids.size).toBe(28 + 13);
  });

  it('fills the ECS fields of a denial (process, user, file path, contexts, decision)', () => {
    const store = loadedStore();
    const lookup = store.lookup(stateId);
    if (lookup.kind !== 'ready') throw new Error('not ready');
    const all = messages().flatMap(
      (msg) =>
        toEcs(
          msg,
          { partition: 0, offset: '0' },
          new Date(0),
          (d) => ({ explanation: lookup.explainer.explain(d, lookup.booleans), error: null }),
          () => 'b'.repeat(32),
        ).denials,
    );
    const boolean = all.find((d) => d.doc.decision.verdict === 'BOOLEAN' && d.doc.selinux.tclass === 'dir');
    expect(boolean?.doc).toMatchObject({
      event: { action: 'violated-selinux-policy', category: ['file'] },
      host: { name: 'web01.example.com' },
      selinux: { scontext: { type: 'httpd_t' }, tcontext: { type: 'user_home_t' }, seresult: 'denied' },
      policy: { sha256: sha, state_id: stateId },
    });
    expect(boolean?.doc.decision.booleans[0]?.name).toBe('httpd_read_user_content');
    expect(boolean?.doc.decision.blast_radius).not.toBeNull();
    const hostile = all.find((d) => d.doc.process.name === '<script>alert(1)</script>');
    expect(hostile?.doc.process.working_directory).toBe('/srv/www/<svg/onload=alert(document.domain)>');
  });

  it('replays a name_bind / name_connect denial with its port (src= / dest=)', () => {
    const asked: Array<{ perms: string[]; port?: number | null }> = [];
    for (const msg of messages())
      toEcs(
        msg,
        { partition: 0, offset: '0' },
        new Date(0),
        (d) => {
          asked.push(d);
          return { explanation: null, error: 'x' };
        },
        () => 'b'.repeat(32),
      );
    const ports = asked.filter((d) => d.perms.includes('name_bind') || d.perms.includes('name_connect'));
    expect(ports.map((d) => d.port)).toContain(4460);
    expect(ports.map((d) => d.port)).toContain(5432);
    expect(asked.find((d) => d.perms.includes('read'))?.port).toBeNull();
  });

  it('without a policy the denial is still indexed, with verdict null and the reason', () => {
    const msg = messages().find((m) => m.event.records.some((r) => r.avc?.decision === 'denied'))!;
    const docs = toEcs(
      msg,
      { partition: 0, offset: '1' },
      new Date(0),
      () => ({ explanation: null, error: 'policy state not received in time' }),
      () => 'c'.repeat(32),
    );
    expect(docs.denials[0]?.doc.decision).toMatchObject({
      verdict: null,
      error: 'policy state not received in time',
    });
    denialDocSchema.parse(docs.denials[0]!.doc);
  });

  it('policy store: pending until state and every chunk arrived; corrupt binaries are errors', async () => {
    const store = createPolicyStore();
    expect(store.lookup(stateId)).toEqual({ kind: 'pending', reason: 'state' });
    const { chunks } = chunkPolicy(policyBytes, 4096);
    store.apply({
      schema: 'avcstream.policy.v1',
      kind: 'state',
      stateId,
      host: 'h',
      takenAt: new Date(0).toISOString(),
      reason: 'start',
      policy: { sha256: sha, bytes: policyBytes.length, chunks: chunks.length },
      enforcing: true,
      booleans,
    });
    expect(store.lookup(stateId)).toEqual({ kind: 'pending', reason: 'binary' });
    const waiting = store.waitFor(stateId, 5000);
    for (const c of chunks) store.apply(c.message);
    expect((await waiting).kind).toBe('ready');

    const junk = Buffer.from('not a policy at all');
    const bad = chunkPolicy(junk);
    const badState = policyStateId(bad.sha256, true, {});
    store.apply(bad.chunks[0]!.message);
    store.apply({
      schema: 'avcstream.policy.v1',
      kind: 'state',
      stateId: badState,
      host: 'h',
      takenAt: new Date(0).toISOString(),
      reason: 'start',
      policy: { sha256: bad.sha256, bytes: junk.length, chunks: 1 },
      enforcing: true,
      booleans: {},
    });
    expect(store.lookup(badState).kind).toBe('error');
  });
});
