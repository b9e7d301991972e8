// Elasticsearch mappings of the three indices (installed as index templates by the analyzer at start).
import { AUDITD_PATH_KEYS } from './es.ts';

const kw = { type: 'keyword', ignore_above: 1024 } as const;
const context = { properties: { user: kw, role: kw, type: kw, level: kw } } as const;
const process = {
  properties: {
    pid: { type: 'long' },
    parent: { properties: { pid: { type: 'long' } } },
    name: kw,
    executable: kw,
    title: { type: 'keyword', ignore_above: 4096, fields: { text: { type: 'text' } } },
    working_directory: kw,
  },
} as const;
const event = {
  properties: {
    kind: kw,
    module: kw,
    dataset: kw,
    action: kw,
    category: kw,
    type: kw,
    outcome: kw,
    sequence: { type: 'long' },
    ingested: { type: 'date' },
  },
} as const;
/** ECS: `event.original` is kept in `_source` only (keyword, not indexed, no doc values). */
const denialEvent = {
  properties: {
    ...event.properties,
    original: { type: 'keyword', index: false, doc_values: false },
  },
} as const;
const source = {
  properties: {
    ingester_id: kw,
    path: kw,
    offset: { type: 'long' },
    kafka: { properties: { partition: { type: 'integer' }, offset: kw } },
  },
} as const;
const user = { properties: { id: kw, group: { properties: { id: kw } } } } as const;
const idGroup = { properties: { id: kw, group: { properties: { id: kw } } } } as const;
const selinuxUser = { properties: { user: kw, role: kw, domain: kw, level: kw, category: kw } } as const;
/** `auditd.paths[]`: the PATH records (Elastic maps them as plain objects of keywords, not `nested`). */
const auditdPath = {
  properties: Object.fromEntries(AUDITD_PATH_KEYS.map((k) => [k, kw])),
} as const;
/**
 * `auditd.*` of a denial (the Agent `auditd_manager` shape, anchors §5). `data` holds the AVC's and SYSCALL's
 * fields, whose keys come from the record (USER_AVC: from the sending program), so it is `flattened`: every
 * value is searchable as a keyword (`auditd.data.dest: 5432`, `auditd.data.seresult: denied`, as Elastic's
 * keyword mapping of `auditd.data.*`) without a mapping per key.
 */
const denialAuditd = {
  properties: {
    message_type: kw,
    result: kw,
    session: kw,
    summary: {
      properties: {
        actor: { properties: { primary: kw, secondary: kw } },
        object: { properties: { primary: kw, secondary: kw, type: kw } },
        how: kw,
      },
    },
    user: {
      properties: {
        selinux: selinuxUser,
        audit: { properties: { id: kw } },
        saved: idGroup,
        filesystem: idGroup,
      },
    },
    data: { type: 'flattened', ignore_above: 1024 },
    paths: auditdPath,
  },
} as const;
const policy = { properties: { sha256: kw, state_id: kw } } as const;

export const ES_MAPPINGS = {
  denials: {
    dynamic: 'strict',
    properties: {
      '@timestamp': { type: 'date' },
      ecs: { properties: { version: kw } },
      event: denialEvent,
      host: { properties: { name: kw } },
      process,
      user: { properties: { ...user.properties, selinux: selinuxUser } },
      file: { properties: { path: kw } },
      destination: { properties: { ip: { type: 'ip' }, port: { type: 'long' } } },
      network: { properties: { direction: kw } },
      auditd: denialAuditd,
      selinux: {
        properties: {
          scontext: context,
          tcontext: context,
          tclass: kw,
          perms: kw,
          permissive: { type: 'boolean' },
          seresult: kw,
        },
      },
      decision: {
        properties: {
          verdict: kw,
          booleans: {
            properties: {
              name: kw,
              current: { type: 'boolean' },
              blast_radius: { properties: { rules: { type: 'long' }, triples: { type: 'long' } } },
            },
          },
          constraint: { properties: { text: { type: 'text' }, causes: kw } },
          fix: {
            properties: {
              kind: kw,
              text: { type: 'keyword', ignore_above: 8192 },
              verified: { type: 'boolean' },
            },
          },
          blast_radius: { properties: { rules: { type: 'long' }, triples: { type: 'long' } } },
          evidence: { type: 'text' },
          error: { type: 'text' },
        },
      },
      policy,
      signature: kw,
      avcstream: { properties: { record_index: { type: 'integer' }, partial: { type: 'boolean' }, source } },
    },
  },
  selinuxEvents: {
    dynamic: 'strict',
    properties: {
      '@timestamp': { type: 'date' },
      event,
      host: { properties: { name: kw } },
      process,
      user,
      auditd: { properties: { message_type: kw, data: { type: 'object', enabled: false } } },
      selinux: {
        properties: {
          scontext: context,
          tcontext: context,
          tclass: kw,
          perms: kw,
          permissive: { type: 'boolean' },
          seresult: kw,
        },
      },
      policy,
      avcstream: { properties: { record_index: { type: 'integer' }, partial: { type: 'boolean' }, source } },
    },
  },
  signatures: {
    dynamic: 'strict',
    properties: {
      signature: {
        properties: {
          id: kw,
          key: kw,
          source_type: kw,
          target_type: kw,
          class: kw,
          perms: kw,
          exe: kw,
          path: kw,
        },
      },
      '@timestamp': { type: 'date' },
      first_seen: { type: 'date' },
      scope: kw,
      host: { properties: { name: kw } },
      // Outbox (@avcstream/alerts ES registry): the alerts the document raised, kept but not indexed.
      alerts: { type: 'object', enabled: false },
      delivered: { type: 'boolean' },
      claimed_by: kw,
      claimed_at: { type: 'date' },
    },
  },
} as const;
