import { z } from 'zod';
import { BOUNDS } from './bounds.ts';
import { sha256Hex } from './codec.ts';

const str = (max: number) => z.string().max(max);
const isoTime = z.iso.datetime({ offset: true });

const contextParts = z
  .object({
    user: str(BOUNDS.maxContextChars),
    role: str(BOUNDS.maxContextChars),
    type: str(BOUNDS.maxContextChars),
    level: str(BOUNDS.maxContextChars).nullable(),
  })
  .strict();

export const VERDICTS = [
  'ALLOWED',
  'DONTAUDIT',
  'TE_MISSING',
  'BOOLEAN',
  'CONSTRAINT',
  'RBAC',
  'BOUNDS',
  'INVALID_CONTEXT',
  'UNKNOWN_CLASS',
  'UNKNOWN_PERM',
] as const;

const blastRadius = z
  .object({ rules: z.number().int().nonnegative(), triples: z.number().int().nonnegative() })
  .strict();

/** `decision.*`: the replayed verdict, or `verdict: null` with `error` when the policy was not available. */
export const decisionSchema = z
  .object({
    verdict: z.enum(VERDICTS).nullable(),
    booleans: z
      .array(
        z
          .object({ name: str(BOUNDS.maxNameChars), current: z.boolean(), blast_radius: blastRadius })
          .strict(),
      )
      .max(BOUNDS.maxSuggestions),
    constraint: z
      .object({
        text: str(BOUNDS.maxTextChars),
        causes: z.array(z.enum(['user', 'role', 'type', 'level'])).max(4),
      })
      .strict()
      .nullable(),
    fix: z
      .array(z.object({ kind: str(32), text: str(BOUNDS.maxTextChars), verified: z.boolean() }).strict())
      .max(BOUNDS.maxFixes),
    /** Blast radius of the first suggested boolean, when any. */
    blast_radius: blastRadius.nullable(),
    evidence: z.array(str(BOUNDS.maxTextChars)).max(64),
    error: str(BOUNDS.maxReasonChars).nullable(),
  })
  .strict();

const processSchema = z
  .object({
    pid: z.number().int().nullable(),
    parent: z.object({ pid: z.number().int().nullable() }).strict(),
    name: str(BOUNDS.maxTextChars).nullable(),
    executable: str(BOUNDS.maxPathChars).nullable(),
    title: str(BOUNDS.maxTextChars).nullable(),
    working_directory: str(BOUNDS.maxPathChars).nullable(),
  })
  .strict();

const sourceSchema = z
  .object({
    ingester_id: str(BOUNDS.maxIdChars),
    path: str(BOUNDS.maxPathChars),
    offset: z.number().int().nonnegative(),
    kafka: z.object({ partition: z.number().int().nonnegative(), offset: z.string() }).strict(),
  })
  .strict();

/** `user:role:domain:level[:category]` split as Elastic's auditd module does (`user.selinux`, `auditd.user.selinux`). */
const selinuxUserSchema = z
  .object({
    user: str(BOUNDS.maxContextChars),
    role: str(BOUNDS.maxContextChars),
    domain: str(BOUNDS.maxContextChars),
    level: str(BOUNDS.maxContextChars).optional(),
    category: str(BOUNDS.maxContextChars).optional(),
  })
  .strict();

const idGroup = z
  .object({
    id: str(32).optional(),
    group: z
      .object({ id: str(32).optional() })
      .strict()
      .optional(),
  })
  .strict();

/** Keys of one `auditd.paths[]` entry (a PATH record), as Elastic's auditd module writes them. */
export const AUDITD_PATH_KEYS = [
  'item',
  'name',
  'nametype',
  'inode',
  'dev',
  'mode',
  'ouid',
  'ogid',
  'rdev',
  'obj_user',
  'obj_role',
  'obj_domain',
  'obj_level',
  'cap_fp',
  'cap_fi',
  'cap_fe',
  'cap_fver',
  'cap_frootid',
] as const;

/** Most `auditd.paths[]` entries and `auditd.data` keys of a denial document; values are cut as in `to-ecs`. */
export const AUDITD_BOUNDS = {
  maxPaths: 16,
  maxDataKeys: 256,
  maxDataValueChars: 4096,
  maxOriginalChars: 65536,
} as const;

/**
 * `auditd.*` of a denial document: the Elastic Agent `auditd_manager` shape (anchors §5.1) of the AVC and its
 * event's SYSCALL and PATH records.
 */
export const denialAuditdSchema = z
  .object({
    message_type: str(BOUNDS.maxNameChars),
    result: z.enum(['success', 'fail']).nullable(),
    session: str(32).optional(),
    summary: z
      .object({
        actor: z.object({ primary: str(BOUNDS.maxContextChars), secondary: str(32).optional() }).strict(),
        object: z
          .object({
            primary: str(BOUNDS.maxContextChars),
            secondary: str(BOUNDS.maxNameChars),
            type: str(64).optional(),
          })
          .strict(),
        how: str(BOUNDS.maxPathChars).optional(),
      })
      .strict(),
    user: z
      .object({
        selinux: selinuxUserSchema.optional(),
        audit: z
          .object({ id: str(32) })
          .strict()
          .optional(),
        saved: idGroup.optional(),
        filesystem: idGroup.optional(),
      })
      .strict(),
    data: z
      .record(str(BOUNDS.maxFieldKeyChars), str(AUDITD_BOUNDS.maxDataValueChars))
      .refine((r) => Object.keys(r).length <= AUDITD_BOUNDS.maxDataKeys),
    paths: z
      .array(z.partialRecord(z.enum(AUDITD_PATH_KEYS), str(BOUNDS.maxPathChars)))
      .max(AUDITD_BOUNDS.maxPaths),
  })
  .strict();

/** A denial document (index `<prefix>-denials`): one AVC record with `denied`, replayed. */
export const denialDocSchema = z
  .object({
    '@timestamp': isoTime,
    ecs: z.object({ version: z.literal('8.11.0') }).strict(),
    event: z
      .object({
        kind: z.literal('event'),
        module: z.literal('auditd'),
        dataset: z.literal('avcstream.denials'),
        action: z.literal('violated-selinux-policy'),
        category: z.array(str(64)).max(4),
        type: z.array(str(64)).max(4),
        outcome: z.enum(['success', 'failure', 'unknown']),
        sequence: z.number().int().nonnegative(),
        ingested: isoTime,
        /** The event's records re-rendered as audit.log lines (`\n`-joined), cut to `maxOriginalChars`. */
        original: str(AUDITD_BOUNDS.maxOriginalChars),
      })
      .strict(),
    host: z.object({ name: str(BOUNDS.maxHostChars) }).strict(),
    process: processSchema,
    user: z
      .object({
        id: str(32).nullable(),
        group: z.object({ id: str(32).nullable() }).strict(),
        selinux: selinuxUserSchema.optional(),
      })
      .strict(),
    file: z.object({ path: str(BOUNDS.maxPathChars).nullable() }).strict(),
    /** The peer of a network denial: `dest=` of the AVC, the SOCKADDR address. */
    destination: z
      .object({
        ip: z.union([z.ipv4(), z.ipv6()]).optional(),
        port: z.number().int().min(0).max(65535).optional(),
      })
      .strict()
      .optional(),
    network: z
      .object({ direction: z.literal('egress') })
      .strict()
      .optional(),
    auditd: denialAuditdSchema,
    selinux: z
      .object({
        scontext: contextParts,
        tcontext: contextParts,
        tclass: str(BOUNDS.maxNameChars),
        perms: z.array(str(BOUNDS.maxNameChars)).max(BOUNDS.maxPerms),
        permissive: z.boolean().nullable(),
        seresult: z.literal('denied'),
      })
      .strict(),
    decision: decisionSchema,
    policy: z
      .object({
        sha256: z
          .string()
          .regex(/^[0-9a-f]{64}$/)
          .nullable(),
        state_id: str(64).nullable(),
      })
      .strict(),
    signature: z.string().regex(/^[0-9a-f]{32}$/),
    avcstream: z
      .object({ record_index: z.number().int().nonnegative(), partial: z.boolean(), source: sourceSchema })
      .strict(),
  })
  .strict();

/** A SELinux event document (index `<prefix>-selinux-events`): MAC_* records and granted AVCs. */
export const selinuxEventDocSchema = z
  .object({
    '@timestamp': isoTime,
    event: z
      .object({
        kind: z.literal('event'),
        module: z.literal('auditd'),
        dataset: z.literal('avcstream.selinux'),
        action: str(64),
        category: z.array(str(64)).max(4),
        type: z.array(str(64)).max(4),
        outcome: z.enum(['success', 'failure', 'unknown']),
        sequence: z.number().int().nonnegative(),
        ingested: isoTime,
      })
      .strict(),
    host: z.object({ name: str(BOUNDS.maxHostChars) }).strict(),
    process: processSchema,
    user: z.object({ id: str(32).nullable(), group: z.object({ id: str(32).nullable() }).strict() }).strict(),
    auditd: z
      .object({
        message_type: str(BOUNDS.maxNameChars),
        data: z
          .record(str(BOUNDS.maxFieldKeyChars), str(BOUNDS.maxFieldValueChars))
          .refine((r) => Object.keys(r).length <= BOUNDS.maxFieldsPerRecord),
      })
      .strict(),
    selinux: z
      .object({
        scontext: contextParts.nullable(),
        tcontext: contextParts.nullable(),
        tclass: str(BOUNDS.maxNameChars).nullable(),
        perms: z.array(str(BOUNDS.maxNameChars)).max(BOUNDS.maxPerms),
        permissive: z.boolean().nullable(),
        seresult: z.enum(['granted', 'denied']).nullable(),
      })
      .strict(),
    policy: z
      .object({
        sha256: z
          .string()
          .regex(/^[0-9a-f]{64}$/)
          .nullable(),
        state_id: str(64).nullable(),
      })
      .strict(),
    avcstream: z
      .object({ record_index: z.number().int().nonnegative(), partial: z.boolean(), source: sourceSchema })
      .strict(),
  })
  .strict();

/**
 * A signature document (index `<prefix>-signatures`), created once (op_type=create) by the analyzer's alerter
 * (@avcstream/alerts' ES registry): `_id` = signature id for the fleet document, `h-<sha>` for the per-host one.
 */
export const signatureDocSchema = z
  .object({
    signature: z
      .object({
        id: z.string().regex(/^[0-9a-f]{32}$/),
        key: str(BOUNDS.maxTextChars),
        source_type: str(BOUNDS.maxContextChars),
        target_type: str(BOUNDS.maxContextChars),
        class: str(BOUNDS.maxNameChars),
        perms: z.array(str(BOUNDS.maxNameChars)).max(BOUNDS.maxPerms),
        exe: str(BOUNDS.maxPathChars).optional(),
        path: str(BOUNDS.maxPathChars).optional(),
      })
      .strict(),
    '@timestamp': isoTime,
    first_seen: isoTime,
    scope: z.enum(['fleet', 'host']),
    host: z.object({ name: str(BOUNDS.maxHostChars) }).strict(),
    // Outbox: the alerts this document raised, whether every sink acknowledged them, and who claimed it when.
    alerts: z.array(z.record(z.string(), z.unknown())).max(8).optional(),
    delivered: z.boolean().optional(),
    claimed_by: str(BOUNDS.maxHostChars).optional(),
    claimed_at: isoTime.optional(),
  })
  .strict();

export type DenialDoc = z.infer<typeof denialDocSchema>;
export type SelinuxEventDoc = z.infer<typeof selinuxEventDocSchema>;
export type SignatureDoc = z.infer<typeof signatureDocSchema>;
export type DecisionDoc = z.infer<typeof decisionSchema>;

/**
 * Deterministic Elasticsearch `_id` of the document made from one record: sha256 over (host, audit time
 * `sec.msec`, serial, record index in the event), first 40 hex chars. Redelivery overwrites, never duplicates.
 */
export function docId(host: string, sec: number, msec: number, serial: number, recordIndex: number): string {
  return sha256Hex(
    JSON.stringify([host, `${sec}.${String(msec).padStart(3, '0')}`, serial, recordIndex]),
  ).slice(0, 40);
}

/** Index names for a prefix (default `avcstream`). */
export function indexNames(prefix = 'avcstream') {
  return {
    denials: `${prefix}-denials`,
    selinuxEvents: `${prefix}-selinux-events`,
    signatures: `${prefix}-signatures`,
  } as const;
}
