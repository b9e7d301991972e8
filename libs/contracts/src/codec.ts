import { createHash } from 'node:crypto';
import type { z } from 'zod';
import { BOUNDS } from './bounds.ts';
import {
  type DeadLetterMessage,
  type DeadLetterSource,
  deadLetterMessageSchema,
  type EventMessage,
  eventEnvelopeSchema,
  eventMessageSchema,
  type FileContextsBundle,
  fileContextsBundleSchema,
  type PolicyChunkMessage,
  type PolicyMessage,
  policyMessageSchema,
} from './kafka.ts';

/** Why bytes did not decode into a contract. Returned as a value, never thrown. */
export interface ContractViolation {
  code:
    | 'AVC_ERR_CONTRACT_TOO_LARGE'
    | 'AVC_ERR_CONTRACT_NOT_JSON'
    | 'AVC_ERR_CONTRACT_SCHEMA'
    | 'AVC_ERR_CONTRACT_EMPTY';
  message: string;
}

export type Decoded<T> = { ok: true; value: T } | { ok: false; error: ContractViolation };

function summarize(error: z.ZodError): string {
  const parts = error.issues.slice(0, 5).map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`);
  if (error.issues.length > 5) parts.push(`... ${error.issues.length - 5} more`);
  return parts.join('; ').slice(0, BOUNDS.maxReasonChars);
}

function tooLarge(what: string, n: number): { ok: false; error: ContractViolation } {
  return {
    ok: false,
    error: { code: 'AVC_ERR_CONTRACT_TOO_LARGE', message: `${what} of ${n} bytes exceeds the bound` },
  };
}

function decodeWith<T>(
  schema: z.ZodType<T>,
  bytes: Uint8Array | null | undefined,
  maxBytes: number = BOUNDS.maxMessageBytes,
  what = 'message',
): Decoded<T> {
  if (bytes === null || bytes === undefined || bytes.length === 0) {
    return { ok: false, error: { code: 'AVC_ERR_CONTRACT_EMPTY', message: `empty ${what}` } };
  }
  if (bytes.length > maxBytes) return tooLarge(what, bytes.length);
  let json: unknown;
  try {
    json = JSON.parse(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length).toString('utf8'));
  } catch (err) {
    return {
      ok: false,
      error: { code: 'AVC_ERR_CONTRACT_NOT_JSON', message: String((err as Error).message).slice(0, 200) },
    };
  }
  const parsed = schema.safeParse(json);
  if (!parsed.success)
    return { ok: false, error: { code: 'AVC_ERR_CONTRACT_SCHEMA', message: summarize(parsed.error) } };
  return { ok: true, value: parsed.data };
}

function encodeWith<T>(
  schema: z.ZodType<T>,
  value: T,
  maxBytes: number = BOUNDS.maxMessageBytes,
  what = 'message',
): Decoded<Buffer> {
  const parsed = schema.safeParse(value);
  if (!parsed.success)
    return { ok: false, error: { code: 'AVC_ERR_CONTRACT_SCHEMA', message: summarize(parsed.error) } };
  const buf = Buffer.from(JSON.stringify(parsed.data), 'utf8');
  if (buf.length > maxBytes) return tooLarge(what, buf.length);
  return { ok: true, value: buf };
}

export const decodeEventMessage = (b: Uint8Array | null | undefined) => decodeWith(eventMessageSchema, b);

/**
 * The first size bound a record breaks, or null. Mirrors the bounds of `auditRecordSchema` (string lengths,
 * key counts, perms) at a fraction of zod's cost, for trusted producers (`validate: 'envelope'`).
 */
export function eventBoundsViolation(event: EventMessage['event']): string | null {
  if (event.records.length > BOUNDS.maxRecordsPerEvent) return 'too many records';
  for (let i = 0; i < event.records.length; i++) {
    const r = event.records[i]!;
    if (r.type.length > BOUNDS.maxNameChars) return `records.${i}.type too long`;
    let n = 0;
    for (const k in r.fields) {
      const v = r.fields[k]!;
      if (++n > BOUNDS.maxFieldsPerRecord) return `records.${i}.fields: too many keys`;
      if (k.length > BOUNDS.maxFieldKeyChars) return `records.${i}.fields: key too long`;
      if (typeof v !== 'string' || v.length > BOUNDS.maxFieldValueChars)
        return `records.${i}.fields.${k.slice(0, 64)} too long`;
    }
    n = 0;
    for (const k in r.interpreted) {
      if (++n > BOUNDS.maxFieldsPerRecord) return `records.${i}.interpreted: too many keys`;
      if (k.length > BOUNDS.maxFieldKeyChars) return `records.${i}.interpreted: key too long`;
    }
    const a = r.avc;
    if (a !== undefined) {
      if (a.perms.length > BOUNDS.maxPerms || a.perms.some((p) => p.length > BOUNDS.maxNameChars))
        return `records.${i}.avc.perms`;
      if (a.tclass.length > BOUNDS.maxNameChars) return `records.${i}.avc.tclass too long`;
      for (const c of [a.scontext, a.tcontext]) {
        if (c.raw.length > BOUNDS.maxContextChars) return `records.${i}.avc context too long`;
      }
    }
  }
  return null;
}

/**
 * Validate then serialize an events.v1 message. `validate: 'full'` (default) runs the whole zod schema;
 * `'envelope'` runs zod on the envelope and `eventBoundsViolation` on the records (trusted producers). The
 * size bound is always checked.
 */
export function encodeEventMessage(
  m: EventMessage,
  opts: { validate?: 'full' | 'envelope' } = {},
): Decoded<Buffer> {
  if (opts.validate !== 'envelope') return encodeWith(eventMessageSchema, m);
  const env = eventEnvelopeSchema.safeParse(m);
  if (!env.success)
    return { ok: false, error: { code: 'AVC_ERR_CONTRACT_SCHEMA', message: summarize(env.error) } };
  const bad = eventBoundsViolation(m.event);
  if (bad !== null) return { ok: false, error: { code: 'AVC_ERR_CONTRACT_SCHEMA', message: bad } };
  const buf = Buffer.from(JSON.stringify(m), 'utf8');
  if (buf.length > BOUNDS.maxMessageBytes) return tooLarge('message', buf.length);
  return { ok: true, value: buf };
}
export const decodePolicyMessage = (b: Uint8Array | null | undefined) =>
  decodeWith<PolicyMessage>(policyMessageSchema, b);
export const encodePolicyMessage = (m: PolicyMessage) => encodeWith<PolicyMessage>(policyMessageSchema, m);
export const decodeDeadLetterMessage = (b: Uint8Array | null | undefined) =>
  decodeWith(deadLetterMessageSchema, b);
export const encodeDeadLetterMessage = (m: DeadLetterMessage) => encodeWith(deadLetterMessageSchema, m);

export function sha256Hex(bytes: Uint8Array | string): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/**
 * Id of a policy state: sha256 over the policy hash, the enforcing mode and the sorted boolean states, and
 * the hash of the file_contexts bundle when there is one (a state without one keeps its id of old).
 */
export function policyStateId(
  policySha256: string,
  enforcing: boolean | null,
  booleans: Record<string, boolean>,
  fileContextsSha256: string | null = null,
): string {
  const names = Object.keys(booleans).sort();
  const canon = [policySha256, enforcing, names.map((n) => [n, booleans[n]])];
  if (fileContextsSha256 !== null) canon.push(fileContextsSha256);
  return sha256Hex(JSON.stringify(canon));
}

/** Serialize a file_contexts bundle (validated; bounded by `maxFileContextsBytes`). */
export const encodeFileContextsBundle = (b: FileContextsBundle): Decoded<Buffer> =>
  encodeWith(fileContextsBundleSchema, b, BOUNDS.maxFileContextsBytes, 'file_contexts bundle');

/** Decode a file_contexts bundle (reassembled from its chunks), bounded by `maxFileContextsBytes`. */
export const decodeFileContextsBundle = (bytes: Uint8Array): Decoded<FileContextsBundle> =>
  decodeWith(fileContextsBundleSchema, bytes, BOUNDS.maxFileContextsBytes, 'file_contexts bundle');

/** Split a policy binary into chunk messages (keys `policy:<sha256>:<index>`). */
export function chunkPolicy(
  bytes: Uint8Array,
  chunkBytes: number = BOUNDS.maxPolicyChunkBytes,
): { sha256: string; chunks: Array<{ key: string; message: PolicyChunkMessage }> } {
  if (chunkBytes <= 0 || chunkBytes > BOUNDS.maxPolicyChunkBytes) throw new RangeError('bad chunk size');
  if (bytes.length > BOUNDS.maxPolicyBytes) throw new RangeError('policy exceeds the size bound');
  const sha256 = sha256Hex(bytes);
  const count = Math.max(1, Math.ceil(bytes.length / chunkBytes));
  const chunks: Array<{ key: string; message: PolicyChunkMessage }> = [];
  for (let index = 0; index < count; index++) {
    const part = bytes.subarray(index * chunkBytes, Math.min(bytes.length, (index + 1) * chunkBytes));
    chunks.push({
      key: policyChunkKey(sha256, index),
      message: {
        schema: 'avcstream.policy.v1',
        kind: 'chunk',
        sha256,
        index,
        count,
        totalBytes: bytes.length,
        data: Buffer.from(part).toString('base64'),
      },
    });
  }
  return { sha256, chunks };
}

export const policyChunkKey = (sha256: string, index: number) => `policy:${sha256}:${index}`;
export const policyStateKey = (stateId: string) => `state:${stateId}`;

/** Reassemble a policy from its chunks (any order, duplicates tolerated). Null until complete or if corrupt. */
export function assemblePolicy(
  chunks: Iterable<PolicyChunkMessage>,
): { bytes: Buffer; sha256: string } | null {
  const byIndex = new Map<number, PolicyChunkMessage>();
  let first: PolicyChunkMessage | undefined;
  for (const c of chunks) {
    first ??= c;
    if (c.sha256 !== first.sha256 || c.count !== first.count) return null;
    byIndex.set(c.index, c);
  }
  if (first === undefined || byIndex.size !== first.count) return null;
  const parts: Buffer[] = [];
  for (let i = 0; i < first.count; i++) parts.push(Buffer.from(byIndex.get(i)!.data, 'base64'));
  const bytes = Buffer.concat(parts);
  if (bytes.length !== first.totalBytes || sha256Hex(bytes) !== first.sha256) return null;
  return { bytes, sha256: first.sha256 };
}

/**
 * Build a dead-letter message, cutting the raw bytes to `maxRawBytes` (default and ceiling: `BOUNDS.maxRawBytes`,
 * 256 KiB; `avcstream run` keeps 4 KiB). `rawBytes`: the length of the whole input when `raw` is already only its
 * head (an over-long audit line); `truncated` is then true.
 */
export function makeDeadLetter(input: {
  component: DeadLetterMessage['component'];
  host: string | null;
  code: string;
  message: string;
  raw: Uint8Array;
  rawBytes?: number | undefined;
  source: DeadLetterSource;
  at: Date;
  maxRawBytes?: number | undefined;
}): DeadLetterMessage {
  const maxRaw = Math.min(input.maxRawBytes ?? BOUNDS.maxRawBytes, BOUNDS.maxRawBytes);
  const raw = input.raw.length > maxRaw ? input.raw.subarray(0, maxRaw) : input.raw;
  const rawBytes = Math.max(input.rawBytes ?? 0, input.raw.length);
  const truncated = rawBytes > raw.length;
  const code = /^AVC_ERR_[A-Z0-9_]+$/.test(input.code) ? input.code : 'AVC_ERR_UNKNOWN_REASON';
  return {
    schema: 'avcstream.deadletter.v1',
    component: input.component,
    host: input.host === null ? null : input.host.slice(0, BOUNDS.maxHostChars),
    reason: { code, message: input.message.slice(0, BOUNDS.maxReasonChars) },
    raw: Buffer.from(raw).toString('base64'),
    rawBytes,
    truncated,
    source: input.source,
    at: input.at.toISOString(),
  };
}
