// Elasticsearch mappings of the three indices (installed as index templates by the analyzer at start).

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
const source = {
  properties: {
    ingester_id: kw,
    path: kw,
    offset: { type: 'long' },
    kafka: { properties: { partition: { type: 'integer' }, offset: kw } },
  },
} as const;
const user = { properties: { id: kw, group: { properties: { id: kw } } } } as const;
const policy = { properties: { sha256: kw, state_id: kw } } as const;

export const ES_MAPPINGS = {
  denials: {
    dynamic: 'strict',
    properties: {
      '@timestamp': { type: 'date' },
      ecs: { properties: { version: kw } },
      event,
      host: { properties: { name: kw } },
      process,
      user,
      file: { properties: { path: kw } },
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
          fix: { properties: { kind: kw, text: { type: 'keyword', ignore_above: 8192 }, verified: { type: 'boolean' } } },
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
