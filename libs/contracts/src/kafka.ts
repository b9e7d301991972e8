import { z } from 'zod';
import { BOUNDS } from './bounds.ts';

const str = (max: number) => z.string().max(max);
const sha256Hex = z.string().regex(/^[0-9a-f]{64}$/);
const isoTime = z.iso.datetime({ offset: true });

export const securityContextSchema = z.object({
  user: str(BOUNDS.maxContextChars),
  role: str(BOUNDS.maxContextChars),
  type: str(BOUNDS.maxContextChars),
  level: str(BOUNDS.maxContextChars).nullable(),
  raw: str(BOUNDS.maxContextChars),
});

export const avcInfoSchema = z.object({
  decision: z.enum(['denied', 'granted']),
  perms: z.array(str(BOUNDS.maxNameChars)).max(BOUNDS.maxPerms),
  scontext: securityContextSchema,
  tcontext: securityContextSchema,
  tclass: str(BOUNDS.maxNameChars),
  permissive: z.boolean().nullable(),
});

/**
 * A plain object of at most `maxKeys` own keys (each ≤ `maxFieldKeyChars`) whose values pass `value`. One
 * hand-written loop inside zod: the records carry dozens of fields each, and zod's generic record parser made
 * decoding the hot spot of the analyzer.
 */
const boundedRecord = <T>(value: (v: unknown) => v is T, maxKeys: number, what: string) =>
  z.custom<Record<string, T>>(
    (v) => {
      if (typeof v !== 'object' || v === null || Array.isArray(v)) return false;
      let n = 0;
      for (const k in v) {
        if (!Object.hasOwn(v, k)) continue;
        if (++n > maxKeys || k.length > BOUNDS.maxFieldKeyChars) return false;
        if (!value((v as Record<string, unknown>)[k])) return false;
      }
      return true;
    },
    { message: `${what}: expected an object of at most ${maxKeys} keys within the size bounds` },
  );

const boundedString = (v: unknown): v is string =>
  typeof v === 'string' && v.length <= BOUNDS.maxFieldValueChars;
const anyValue = (_v: unknown): _v is unknown => true;

export const auditRecordSchema = z.object({
  type: str(BOUNDS.maxNameChars),
  node: str(BOUNDS.maxHostChars).nullable(),
  sec: z.number().int().nonnegative(),
  msec: z.number().int().min(0).max(999),
  serial: z.number().int().nonnegative(),
  fields: boundedRecord(boundedString, BOUNDS.maxFieldsPerRecord, 'fields'),
  interpreted: boundedRecord(anyValue, BOUNDS.maxFieldsPerRecord, 'interpreted'),
  avc: avcInfoSchema.optional(),
  line: z.number().int().nonnegative(),
});

export const auditEventSchema = z.object({
  node: str(BOUNDS.maxHostChars).nullable(),
  time: isoTime,
  epoch: z.number().nonnegative(),
  serial: z.number().int().nonnegative(),
  records: z.array(auditRecordSchema).min(1).max(BOUNDS.maxRecordsPerEvent),
  partial: z.boolean(),
});

/** Where a message came from in the host's audit log. */
export const fileSourceSchema = z
  .object({
    path: str(BOUNDS.maxPathChars),
    dev: z.number().int().nonnegative(),
    ino: z.number().int().nonnegative(),
    /** sha256 hex of the first `fpLen` bytes of the file. */
    fp: z.string().max(64),
    fpLen: z.number().int().nonnegative(),
    /** Byte offset just past the last line of this event. */
    offset: z.number().int().nonnegative(),
  })
  .strict();

/** The policy state in force when the ingester read the event (null when SELinux is off or unreadable). */
export const policyRefSchema = z
  .object({
    /** Id of the `avcstream.policy.v1` state message: sha256 of (policy sha256, enforcing, booleans). */
    stateId: sha256Hex,
    sha256: sha256Hex,
  })
  .strict();

/** `avcstream.events.v1`: one reassembled audit event. Key: host name. */
export const eventMessageSchema = z
  .object({
    schema: z.literal('avcstream.events.v1'),
    host: str(BOUNDS.maxHostChars).min(1),
    ingesterId: str(BOUNDS.maxIdChars).min(1),
    source: fileSourceSchema,
    policy: policyRefSchema.nullable(),
    event: auditEventSchema,
    publishedAt: isoTime,
  })
  .strict();

/**
 * The events.v1 envelope with the event reduced to its header: what a trusted producer (the ingester, whose
 * events come from our own parser) validates with zod, together with `eventBoundsViolation` on the records.
 * Consumers always validate the full `eventMessageSchema`.
 */
export const eventEnvelopeSchema = eventMessageSchema.extend({
  event: z.object({
    node: str(BOUNDS.maxHostChars).nullable(),
    time: isoTime,
    epoch: z.number().nonnegative(),
    serial: z.number().int().nonnegative(),
    records: z.array(z.unknown()).min(1).max(BOUNDS.maxRecordsPerEvent),
    partial: z.boolean(),
  }),
});

/** `avcstream.policy.v1` state: the host's policy hash, enforcing mode and booleans. Key: `state:<stateId>`. */
export const policyStateMessageSchema = z
  .object({
    schema: z.literal('avcstream.policy.v1'),
    kind: z.literal('state'),
    stateId: sha256Hex,
    host: str(BOUNDS.maxHostChars).min(1),
    takenAt: isoTime,
    /** What made the ingester take the snapshot. */
    reason: z.enum(['start', 'MAC_POLICY_LOAD', 'MAC_CONFIG_CHANGE', 'MAC_STATUS']),
    policy: z
      .object({
        sha256: sha256Hex,
        bytes: z.number().int().nonnegative().max(BOUNDS.maxPolicyBytes),
        chunks: z
          .number()
          .int()
          .positive()
          .max(Math.ceil(BOUNDS.maxPolicyBytes / BOUNDS.maxPolicyChunkBytes)),
      })
      .strict(),
    enforcing: z.boolean().nullable(),
    booleans: z
      .record(str(BOUNDS.maxNameChars), z.boolean())
      .refine((r) => Object.keys(r).length <= BOUNDS.maxBooleans, { message: 'too many booleans' }),
    /**
     * The host's file_contexts set (a `fileContextsBundleSchema` document, sent in chunks like the policy,
     * keys `policy:<sha256>:<index>`), for restorecon advice; null or absent when the host has none or the
     * ingester does not send it.
     */
    fileContexts: z
      .object({
        sha256: sha256Hex,
        bytes: z.number().int().nonnegative().max(BOUNDS.maxFileContextsBytes),
        chunks: z
          .number()
          .int()
          .positive()
          .max(Math.ceil(BOUNDS.maxFileContextsBytes / BOUNDS.maxPolicyChunkBytes)),
      })
      .strict()
      .nullable()
      .optional(),
  })
  .strict();

const fileContextsSourceSchema = z.object({ name: str(BOUNDS.maxPathChars), text: z.string() }).strict();

/**
 * A host's file_contexts set as the ingester sends it: the files libselinux reads for file labels, each with
 * its path and text (`specs`: file_contexts, .homedirs, .local in that order; path aliases; customizable_types).
 * Its serialized size is bounded by `maxFileContextsBytes`.
 */
export const fileContextsBundleSchema = z
  .object({
    schema: z.literal('avcstream.file-contexts.v1'),
    specs: z.array(fileContextsSourceSchema).min(1).max(3),
    subs: fileContextsSourceSchema.optional(),
    subsDist: fileContextsSourceSchema.optional(),
    customizable: fileContextsSourceSchema.optional(),
  })
  .strict();

/** `avcstream.policy.v1` chunk of a policy binary. Key: `policy:<sha256>:<index>` (compacted topic). */
export const policyChunkMessageSchema = z
  .object({
    schema: z.literal('avcstream.policy.v1'),
    kind: z.literal('chunk'),
    sha256: sha256Hex,
    index: z.number().int().nonnegative(),
    count: z.number().int().positive(),
    totalBytes: z.number().int().nonnegative().max(BOUNDS.maxPolicyBytes),
    /** base64 of at most `maxPolicyChunkBytes` bytes. */
    data: z.base64().max(Math.ceil(BOUNDS.maxPolicyChunkBytes / 3) * 4),
  })
  .strict()
  .refine((m) => m.index < m.count, { message: 'index must be < count' });

export const policyMessageSchema = z.union([policyStateMessageSchema, policyChunkMessageSchema]);

export const deadLetterSourceSchema = z.discriminatedUnion('kind', [
  z
    .object({
      kind: z.literal('file'),
      path: str(BOUNDS.maxPathChars),
      dev: z.number().int().nonnegative(),
      ino: z.number().int().nonnegative(),
      /** Byte offset of the start of the bad line. */
      offset: z.number().int().nonnegative(),
      /** 1-based line number as counted by the decoder (since the ingester started). */
      line: z.number().int().nonnegative(),
    })
    .strict(),
  z
    .object({
      kind: z.literal('kafka'),
      topic: str(BOUNDS.maxNameChars),
      partition: z.number().int().nonnegative(),
      offset: z.string().regex(/^\d+$/),
      key: str(BOUNDS.maxTextChars).nullable(),
    })
    .strict(),
]);

/**
 * `avcstream.deadletter.v1`: something that could not be processed, with its raw bytes. Key: host or null.
 * `component: "run"` is the embedded mode (`avcstream run`), which writes these records to a file, not Kafka.
 */
export const deadLetterMessageSchema = z
  .object({
    schema: z.literal('avcstream.deadletter.v1'),
    component: z.enum(['ingester', 'analyzer', 'run']),
    host: str(BOUNDS.maxHostChars).nullable(),
    reason: z
      .object({
        code: z.string().regex(/^AVC_ERR_[A-Z0-9_]+$/),
        message: str(BOUNDS.maxReasonChars),
      })
      .strict(),
    /** base64 of the raw bytes (cut to `maxRawBytes`, see `truncated`). */
    raw: z.base64().max(Math.ceil(BOUNDS.maxRawBytes / 3) * 4),
    rawBytes: z.number().int().nonnegative(),
    truncated: z.boolean(),
    source: deadLetterSourceSchema,
    at: isoTime,
  })
  .strict();

export type EventMessage = z.infer<typeof eventMessageSchema>;
export type PolicyRef = z.infer<typeof policyRefSchema>;
export type FileSource = z.infer<typeof fileSourceSchema>;
export type PolicyStateMessage = z.infer<typeof policyStateMessageSchema>;
export type PolicyChunkMessage = z.infer<typeof policyChunkMessageSchema>;
export type PolicyMessage = z.infer<typeof policyMessageSchema>;
export type FileContextsBundle = z.infer<typeof fileContextsBundleSchema>;
export type DeadLetterMessage = z.infer<typeof deadLetterMessageSchema>;
export type DeadLetterSource = z.infer<typeof deadLetterSourceSchema>;
