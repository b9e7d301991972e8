import { describe, expect, it } from 'vitest';
type AuditEvent = EventMessage['event'];
import { BOUNDS } from './bounds.ts';
import {
  assemblePolicy,
  chunkPolicy,
  decodeDeadLetterMessage,
  decodeEventMessage,
  decodeFileContextsBundle,
  decodePolicyMessage,
  encodeDeadLetterMessage,
  encodeEventMessage,
  encodeFileContextsBundle,
  encodePolicyMessage,
  makeDeadLetter,
  policyStateId,
} from './codec.ts';
import { docId } from './es.ts';
import { deadLetterMessageSchema, type EventMessage, type PolicyStateMessage } from './kafka.ts';

const ctx = (raw: string) => {
  const [user, role, type, ...level] = raw.split(':');
  return { user: user!, role: role!, type: type!, level: level.length ? level.join(':') : null, raw };
};

const event: AuditEvent = {
  node: null,
  time: '2023-11-14T22:13:21.456Z',
  epoch: 1700000001.456,
  serial: 4243,
  partial: false,
  records: [
    {
      type: 'AVC',
      node: null,
      sec: 1700000001,
      msec: 456,
      serial: 4243,
      fields: { pid: '2345', comm: 'httpd', name: 'index.html' },
      interpreted: {},
      avc: {
        decision: 'denied',
        perms: ['read'],
        scontext: ctx('system_u:system_r:httpd_t:s0'),
        tcontext: ctx('unconfined_u:object_r:user_home_t:s0'),
        tclass: 'file',
        permissive: false,
      },
      line: 1,
    },
  ],
};

const sha = 'a'.repeat(64);
const message: EventMessage = {
  schema: 'avcstream.events.v1',
  host: 'web-1',
  ingesterId: 'ing-1',
  source: { path: '/var/log/audit/audit.log', dev: 2049, ino: 12, fp: 'b'.repeat(64), fpLen: 1024, offset: 300 },
  policy: { stateId: sha, sha256: sha },
  event,
  publishedAt: '2023-11-14T22:13:22.000Z',
};

describe('events.v1', () => {
  it('round-trips a valid message, and accepts the shared AuditEvent type', () => {
    const enc = encodeEventMessage(message);
    expect(enc.ok).toBe(true);
    if (!enc.ok) return;
    const dec = decodeEventMessage(enc.value);
    expect(dec).toEqual({ ok: true, value: message });
  });
  it('returns violations as values: empty, not JSON, schema, too large', () => {
    expect(decodeEventMessage(null)).toMatchObject({ ok: false, error: { code: 'AVC_ERR_CONTRACT_EMPTY' } });
    expect(decodeEventMessage(Buffer.from('{nope'))).toMatchObject({
      ok: false,
      error: { code: 'AVC_ERR_CONTRACT_NOT_JSON' },
    });
    const bad = decodeEventMessage(Buffer.from(JSON.stringify({ ...message, host: '' })));
    expect(bad).toMatchObject({ ok: false, error: { code: 'AVC_ERR_CONTRACT_SCHEMA' } });
    if (!bad.ok) expect(bad.error.message).toContain('host');
    expect(
      decodeEventMessage(Buffer.from(JSON.stringify({ ...message, extra: 1 }))),
    ).toMatchObject({ ok: false, error: { code: 'AVC_ERR_CONTRACT_SCHEMA' } });
    expect(decodeEventMessage(Buffer.alloc(BOUNDS.maxMessageBytes + 1, 0x20))).toMatchObject({
      ok: false,
      error: { code: 'AVC_ERR_CONTRACT_TOO_LARGE' },
    });
  });
  it('bounds strings inside records, in full and in envelope validation', () => {
    const big = structuredClone(message);
    big.event.records[0]!.fields.proctitle = 'x'.repeat(BOUNDS.maxFieldValueChars + 1);
    expect(encodeEventMessage(big).ok).toBe(false);
    expect(encodeEventMessage(big, { validate: 'envelope' }).ok).toBe(false);
    const perms = structuredClone(message);
    perms.event.records[0]!.avc!.perms = Array.from({ length: BOUNDS.maxPerms + 1 }, (_, i) => `p${i}`);
    expect(encodeEventMessage(perms).ok).toBe(false);
    expect(encodeEventMessage(perms, { validate: 'envelope' }).ok).toBe(false);
    const keys = structuredClone(message);
    keys.event.records[0]!.fields = Object.fromEntries(
      Array.from({ length: BOUNDS.maxFieldsPerRecord + 1 }, (_, i) => [`k${i}`, 'v']),
    );
    expect(encodeEventMessage(keys).ok).toBe(false);
    expect(encodeEventMessage(keys, { validate: 'envelope' }).ok).toBe(false);
  });
  it('envelope validation checks the envelope with zod and gives the same bytes a consumer decodes', () => {
    const enc = encodeEventMessage(message, { validate: 'envelope' });
    expect(enc.ok && decodeEventMessage(enc.value)).toEqual({ ok: true, value: message });
    expect(encodeEventMessage({ ...message, host: '' }, { validate: 'envelope' }).ok).toBe(false);
    expect(encodeEventMessage({ ...message, event: { ...message.event, records: [] } }, { validate: 'envelope' }).ok).toBe(
      false,
    );
  });
});

describe('policy.v1', () => {
  it('chunks and reassembles a policy binary, in any order', () => {
    const bytes = Buffer.alloc(1300, 7);
    bytes[5] = 1;
    const { sha256, chunks } = chunkPolicy(bytes, 500);
    expect(chunks.map((c) => c.key)).toEqual([0, 1, 2].map((i) => `policy:${sha256}:${i}`));
    for (const c of chunks) {
      const enc = encodePolicyMessage(c.message);
      expect(enc.ok).toBe(true);
      if (enc.ok) expect(decodePolicyMessage(enc.value)).toEqual({ ok: true, value: c.message });
    }
    const msgs = chunks.map((c) => c.message);
    expect(assemblePolicy([msgs[2]!, msgs[0]!, msgs[1]!, msgs[0]!])?.bytes.equals(bytes)).toBe(true);
    expect(assemblePolicy([msgs[0]!, msgs[1]!])).toBeNull();
    const corrupt = { ...msgs[1]!, data: Buffer.alloc(500, 9).toString('base64') };
    expect(assemblePolicy([msgs[0]!, corrupt, msgs[2]!])).toBeNull();
  });
  it('state id depends on policy, enforcing and booleans but not on key order', () => {
    const a = policyStateId(sha, true, { b: true, a: false });
    expect(policyStateId(sha, true, { a: false, b: true })).toBe(a);
    expect(policyStateId(sha, false, { a: false, b: true })).not.toBe(a);
    expect(policyStateId(sha, true, { a: true, b: true })).not.toBe(a);
    const state: PolicyStateMessage = {
      schema: 'avcstream.policy.v1',
      kind: 'state',
      stateId: a,
      host: 'web-1',
      takenAt: '2023-11-14T22:13:22.000Z',
      reason: 'start',
      policy: { sha256: sha, bytes: 10, chunks: 1 },
      enforcing: true,
      booleans: { a: false, b: true },
    };
    const enc = encodePolicyMessage(state);
    expect(enc.ok && decodePolicyMessage(enc.value)).toEqual({ ok: true, value: state });
  });
  it('a state with a file_contexts bundle has its own id and carries its hash, size and chunk count', () => {
    const plain = policyStateId(sha, true, { a: false });
    // Without a bundle the id is the one states had before bundles (older analyzers' caches stay valid).
    expect(plain).toBe(policyStateId(sha, true, { a: false }, null));
    const withFc = policyStateId(sha, true, { a: false }, 'f'.repeat(64));
    expect(withFc).not.toBe(plain);
    expect(policyStateId(sha, true, { a: false }, 'e'.repeat(64))).not.toBe(withFc);
    const state: PolicyStateMessage = {
      schema: 'avcstream.policy.v1',
      kind: 'state',
      stateId: withFc,
      host: 'web-1',
      takenAt: '2023-11-14T22:13:22.000Z',
      reason: 'start',
      policy: { sha256: sha, bytes: 10, chunks: 1 },
      enforcing: true,
      booleans: { a: false },
      fileContexts: { sha256: 'f'.repeat(64), bytes: 900, chunks: 2 },
    };
    const enc = encodePolicyMessage(state);
    expect(enc.ok && decodePolicyMessage(enc.value)).toEqual({ ok: true, value: state });
    const tooMany = { ...state, fileContexts: { sha256: 'f'.repeat(64), bytes: 10, chunks: 10_000 } };
    expect(encodePolicyMessage(tooMany).ok).toBe(false);
  });
});

describe('file_contexts bundle', () => {
  const bundle = {
    schema: 'avcstream.file-contexts.v1' as const,
    specs: [{ name: '/etc/selinux/t/contexts/files/file_contexts', text: '/var/www(/.*)?\tsystem_u:object_r:httpd_sys_content_t:s0\n' }],
    subsDist: { name: '/etc/selinux/t/contexts/files/file_contexts.subs_dist', text: '/run /var/run\n' },
  };
  it('round-trips through its chunks', () => {
    const enc = encodeFileContextsBundle(bundle);
    expect(enc.ok).toBe(true);
    if (!enc.ok) return;
    const { chunks } = chunkPolicy(enc.value, 40);
    expect(chunks.length).toBeGreaterThan(1);
    const back = assemblePolicy(chunks.map((c) => c.message).reverse());
    expect(back).not.toBeNull();
    expect(decodeFileContextsBundle(back!.bytes)).toEqual({ ok: true, value: bundle });
  });
  it('refuses bad bytes with a reason, as a value', () => {
    expect(decodeFileContextsBundle(Buffer.from('{"schema":')).ok).toBe(false);
    expect(decodeFileContextsBundle(Buffer.alloc(0))).toMatchObject({ ok: false, error: { code: 'AVC_ERR_CONTRACT_EMPTY' } });
    expect(decodeFileContextsBundle(Buffer.from(JSON.stringify({ ...bundle, specs: [] })))).toMatchObject({
      ok: false,
      error: { code: 'AVC_ERR_CONTRACT_SCHEMA' },
    });
    expect(decodeFileContextsBundle(Buffer.from(JSON.stringify({ ...bundle, extra: 1 }))).ok).toBe(false);
    const big = Buffer.alloc(BOUNDS.maxFileContextsBytes + 1, 0x20);
    expect(decodeFileContextsBundle(big)).toMatchObject({ ok: false, error: { code: 'AVC_ERR_CONTRACT_TOO_LARGE' } });
    const huge = { ...bundle, specs: [{ name: 'x', text: 'a'.repeat(BOUNDS.maxFileContextsBytes) }] };
    expect(encodeFileContextsBundle(huge)).toMatchObject({ ok: false, error: { code: 'AVC_ERR_CONTRACT_TOO_LARGE' } });
  });
});

describe('deadletter.v1', () => {
  it('keeps raw bytes (cut to the bound) and the source position', () => {
    const dl = makeDeadLetter({
      component: 'ingester',
      host: 'web-1',
      code: 'AVC_ERR_AUDIT_PARSE',
      message: 'no msg=audit(...) header',
      raw: Buffer.from('garbage \u0000 line'),
      source: { kind: 'file', path: '/var/log/audit/audit.log', dev: 1, ino: 2, offset: 10, line: 3 },
      at: new Date(0),
    });
    const enc = encodeDeadLetterMessage(dl);
    expect(enc.ok).toBe(true);
    if (!enc.ok) return;
    const dec = decodeDeadLetterMessage(enc.value);
    expect(dec.ok && Buffer.from(dec.value.raw, 'base64').toString()).toBe('garbage \u0000 line');
    const big = makeDeadLetter({ ...dl, code: 'lowercase', raw: Buffer.alloc(BOUNDS.maxRawBytes + 5), at: new Date(0), source: dl.source, component: 'analyzer', message: 'm' });
    expect(big.truncated).toBe(true);
    expect(big.rawBytes).toBe(BOUNDS.maxRawBytes + 5);
    expect(big.reason.code).toBe('AVC_ERR_UNKNOWN_REASON');
    expect(encodeDeadLetterMessage(big).ok).toBe(true);
    // Raw bytes already cut by the producer (the decoder keeps the head of an over-long line): the
    // whole length is given, and the dead letter says it and that the bytes are truncated.
    const line = { component: 'ingester', host: null, code: 'AVC_ERR_AUDIT_LINE_TOO_LONG', message: 'm', source: dl.source, at: new Date(0) } as const;
    const head = makeDeadLetter({ ...line, raw: Buffer.alloc(4096, 0x61), rawBytes: 1_126_456 });
    expect(head).toMatchObject({ rawBytes: 1_126_456, truncated: true });
    expect(Buffer.from(head.raw, 'base64')).toHaveLength(4096);
    expect(makeDeadLetter({ ...line, raw: Buffer.alloc(10), rawBytes: 3 })).toMatchObject({ rawBytes: 10, truncated: false });
  });

  it('cuts the raw bytes to a per-call bound (never past BOUNDS.maxRawBytes); component "run" is valid', () => {
    const base = {
      component: 'run',
      host: 'web-1',
      code: 'AVC_ERR_AUDIT_PARSE',
      message: 'm',
      source: { kind: 'file', path: '/var/log/audit/audit.log', dev: 1, ino: 2, offset: 0, line: 1 },
      at: new Date(0),
    } as const;
    const small = makeDeadLetter({ ...base, raw: Buffer.from('0123456789'), maxRawBytes: 4 });
    expect(small).toMatchObject({ component: 'run', rawBytes: 10, truncated: true });
    expect(Buffer.from(small.raw, 'base64').toString()).toBe('0123');
    expect(makeDeadLetter({ ...base, raw: Buffer.from('0123'), maxRawBytes: 4 })).toMatchObject({
      rawBytes: 4,
      truncated: false,
    });
    const enc = encodeDeadLetterMessage(small);
    expect(enc.ok && decodeDeadLetterMessage(enc.value)).toEqual({ ok: true, value: small });
    // A bound over the contract's is the contract's: the message stays valid.
    const over = makeDeadLetter({
      ...base,
      raw: Buffer.alloc(BOUNDS.maxRawBytes + 5),
      maxRawBytes: BOUNDS.maxRawBytes * 2,
    });
    expect(Buffer.from(over.raw, 'base64')).toHaveLength(BOUNDS.maxRawBytes);
    expect(encodeDeadLetterMessage(over).ok).toBe(true);
    expect(deadLetterMessageSchema.safeParse({ ...small, component: 'cli' }).success).toBe(false);
  });
});

describe('ES ids and signatures', () => {
  it('docId is deterministic and distinguishes every part', () => {
    const id = docId('web-1', 1700000001, 456, 4243, 0);
    expect(id).toMatch(/^[0-9a-f]{40}$/);
    expect(docId('web-1', 1700000001, 456, 4243, 0)).toBe(id);
    for (const other of [
      docId('web-2', 1700000001, 456, 4243, 0),
      docId('web-1', 1700000002, 456, 4243, 0),
      docId('web-1', 1700000001, 45, 4243, 0),
      docId('web-1', 1700000001, 456, 4244, 0),
      docId('web-1', 1700000001, 456, 4243, 1),
    ])
      expect(other).not.toBe(id);
  });
});
