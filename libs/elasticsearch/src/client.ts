import { createHash } from 'node:crypto';
import { Client, errors } from '@elastic/elasticsearch';
import { AvcError, retry } from '@avcstream/pipeline';

/** The logging surface needed here (pino's Logger satisfies it). Constant messages, values in fields. */
export interface EsLogger {
  debug(obj: Record<string, unknown>, msg: string): void;
  warn(obj: Record<string, unknown>, msg: string): void;
}

const silent: EsLogger = { debug() {}, warn() {} };

export interface EsClientOptions {
  /** e.g. `http://127.0.0.1:19200`. */
  node: string;
  /** Per-request timeout (default 30000). */
  requestTimeoutMs?: number;
  logger?: EsLogger;
  /** Retry policy for 429, 5xx and connection errors (defaults: 6 attempts, 200 ms doubling to 5 s). */
  retry?: EsRetryOptions;
}

export interface EsRetryOptions {
  /** Attempts in total; `Infinity` retries until `signal` aborts. */
  attempts?: number;
  initialDelayMs?: number;
  maxDelayMs?: number;
  signal?: AbortSignal;
}

/** An index template: index patterns plus settings and mappings, installed as a composable template. */
export interface IndexTemplateDef {
  name: string;
  indexPatterns: readonly string[];
  mappings: Record<string, unknown>;
  settings?: Record<string, unknown>;
  /** Higher wins when patterns overlap (default 200, above Elastic's built-in templates at 100). */
  priority?: number;
  /** Stored in `_meta` (e.g. `{ version: 1, owner: 'avcstream' }`). */
  meta?: Record<string, unknown>;
}

export interface BulkDoc {
  /** Deterministic `_id`: a redelivered document overwrites instead of duplicating. */
  id: string;
  doc: object;
}

/** A document ES did not take. `retriable` ones (429/5xx) failed every attempt. */
export interface BulkFailure {
  id: string;
  status: number;
  type: string;
  reason: string;
  retriable: boolean;
}

export interface BulkResult {
  /** Documents created or overwritten. */
  indexed: number;
  failures: BulkFailure[];
}

export interface BulkOptions extends EsRetryOptions {
  /** `true` or `'wait_for'` makes the documents searchable before resolving (tests); default false. */
  refresh?: boolean | 'wait_for';
}

export interface SearchHit<T> {
  index: string;
  id: string;
  source: T;
  /** With `seq_no_primary_term: true` in the search body: the version an `update` can be conditional on. */
  seqNo?: number;
  primaryTerm?: number;
}

export interface SearchResult<T> {
  total: number;
  hits: Array<SearchHit<T>>;
  aggregations?: Record<string, unknown>;
}

export interface EsClient {
  /** Polls cluster health until green or yellow (default timeout 60 s); throws AVC_ERR_ES_NOT_HEALTHY. */
  waitUntilHealthy(options?: {
    timeoutMs?: number;
    status?: 'green' | 'yellow';
  }): Promise<{ status: string }>;
  /** PUT each composable index template (idempotent, overwrites). */
  ensureIndexTemplates(defs: readonly IndexTemplateDef[]): Promise<void>;
  /**
   * Creates each index unless it exists (its template applies), so the first bulk request does not pay for the
   * index creation. Idempotent; concurrent callers are fine.
   */
  ensureIndices(names: readonly string[]): Promise<void>;
  /**
   * Adds the fields of `mappings` to the existing indices matching `index` (PUT _mapping): indices created
   * from an older template take new fields in place. A conflicting change throws AVC_ERR_ES_TEMPLATE_FAILED.
   */
  updateMappings(index: string, mappings: Record<string, unknown>): Promise<void>;
  /**
   * Indexes (create-or-overwrite) with the given `_id`s. 429/5xx and connection errors are retried with
   * exponential backoff (only the documents that failed); mapping and other 4xx errors come back as values.
   * Throws AVC_ERR_ES_UNAVAILABLE (retriable) when the whole request kept failing.
   */
  bulkIndex(index: string, docs: readonly BulkDoc[], options?: BulkOptions): Promise<BulkResult>;
  /** op_type=create: true when this call created the document, false when it existed (409). Atomic. */
  createIfAbsent(
    index: string,
    id: string,
    doc: object,
    options?: { refresh?: boolean | 'wait_for' },
  ): Promise<boolean>;
  /**
   * Partial update (`doc`). With `ifSeqNo`/`ifPrimaryTerm`, only when the document is still at that version
   * (optimistic concurrency). True when applied; false on a version conflict (409) or a missing document (404).
   */
  update(
    index: string,
    id: string,
    doc: Record<string, unknown>,
    options?: { ifSeqNo?: number; ifPrimaryTerm?: number; refresh?: boolean | 'wait_for' },
  ): Promise<boolean>;
  /** The document's source, or undefined when absent. */
  get<T = Record<string, unknown>>(index: string, id: string): Promise<T | undefined>;
  count(index: string, query?: Record<string, unknown>): Promise<number>;
  /** `body` is a search request body: `{ query, size, sort, aggs, ... }`. Missing indices count as empty. */
  search<T = Record<string, unknown>>(
    index: string,
    body?: Record<string, unknown>,
  ): Promise<SearchResult<T>>;
  refresh(index: string): Promise<void>;
  /** Deletes indices matching a name or pattern (tests). Missing ones are ignored. */
  deleteIndices(pattern: string): Promise<void>;
  deleteIndexTemplate(name: string): Promise<void>;
  close(): Promise<void>;
}

/** A stable document id from its identifying parts (sha256, base64url, 43 chars). */
export function stableId(parts: readonly (string | number | bigint)[]): string {
  const h = createHash('sha256');
  for (const p of parts) {
    const s = String(p);
    h.update(`${Buffer.byteLength(s)}:${s};`);
  }
  return h.digest('base64url');
}

const statusOf = (err: unknown): number | undefined =>
  err instanceof errors.ResponseError ? err.meta.statusCode : undefined;

/** Elasticsearch's `error.type` of a response error (e.g. `resource_already_exists_exception`). */
const errorType = (err: unknown): string | undefined => {
  if (!(err instanceof errors.ResponseError)) return undefined;
  const body = err.meta.body as { error?: { type?: unknown } } | undefined;
  return typeof body?.error?.type === 'string' ? body.error.type : undefined;
};

/** 429, 5xx, and transport failures (connection refused, timeout) are worth retrying. */
export function isRetriableEsError(err: unknown): boolean {
  if (err instanceof errors.ResponseError) {
    const s = err.meta.statusCode ?? 0;
    return s === 429 || s >= 500;
  }
  return (
    err instanceof errors.ConnectionError ||
    err instanceof errors.TimeoutError ||
    err instanceof errors.NoLivingConnectionsError
  );
}

const isRetriableStatus = (s: number) => s === 429 || s >= 500;

/** Some bulk items got 429/5xx: retry just those. */
class ItemsRejected extends Error {
  readonly count: number;
  constructor(count: number) {
    super('bulk items rejected');
    this.count = count;
  }
}

function wrap(code: string, message: string, err: unknown, details: Record<string, unknown> = {}): AvcError {
  const status = statusOf(err);
  return new AvcError(code, message, {
    retriable: isRetriableEsError(err),
    cause: err,
    details: { ...details, ...(status !== undefined ? { status } : {}), esError: (err as Error)?.name },
  });
}

export function createEsClient(options: EsClientOptions): EsClient {
  const client = new Client({
    node: options.node,
    requestTimeout: options.requestTimeoutMs ?? 30000,
    maxRetries: 0,
    sniffOnStart: false,
  });
  const logger = options.logger ?? silent;
  const defaults = options.retry ?? {};

  const withRetry = <T>(what: string, fn: () => Promise<T>, o: EsRetryOptions = {}): Promise<T> =>
    retry(fn, {
      attempts: o.attempts ?? defaults.attempts ?? 6,
      initialDelayMs: o.initialDelayMs ?? defaults.initialDelayMs ?? 200,
      maxDelayMs: o.maxDelayMs ?? defaults.maxDelayMs ?? 5000,
      shouldRetry: (err) => err instanceof ItemsRejected || isRetriableEsError(err),
      onRetry: (err, attempt, delayMs) =>
        logger.warn(
          { op: what, attempt, delayMs, status: statusOf(err), err: String(err) },
          'elasticsearch request retried',
        ),
      ...((o.signal ?? defaults.signal) ? { signal: (o.signal ?? defaults.signal)! } : {}),
    });

  return {
    async waitUntilHealthy(o = {}) {
      const deadline = Date.now() + (o.timeoutMs ?? 60000);
      const want = o.status ?? 'yellow';
      let last: unknown;
      for (;;) {
        try {
          const h = await client.cluster.health(
            { wait_for_status: want, timeout: '1s' },
            { requestTimeout: 5000 },
          );
          if (!h.timed_out && (h.status === 'green' || (want === 'yellow' && h.status === 'yellow'))) {
            return { status: h.status };
          }
          last = new Error(`cluster status ${h.status}`);
        } catch (err) {
          last = err;
        }
        if (Date.now() >= deadline) {
          throw new AvcError('AVC_ERR_ES_NOT_HEALTHY', 'Elasticsearch did not become healthy in time', {
            retriable: true,
            cause: last,
            details: { node: options.node, status: want },
          });
        }
        await new Promise((r) => setTimeout(r, 500));
      }
    },

    async ensureIndexTemplates(defs) {
      for (const d of defs) {
        try {
          await withRetry('put_index_template', () =>
            client.indices.putIndexTemplate({
              name: d.name,
              index_patterns: [...d.indexPatterns],
              priority: d.priority ?? 200,
              ...(d.meta ? { _meta: d.meta } : {}),
              template: {
                ...(d.settings ? { settings: d.settings } : {}),
                mappings: d.mappings,
              },
            }),
          );
        } catch (err) {
          throw wrap('AVC_ERR_ES_TEMPLATE_FAILED', 'cannot install an index template', err, {
            template: d.name,
          });
        }
      }
    },

    async ensureIndices(names) {
      for (const index of names) {
        try {
          await withRetry('create_index', () => client.indices.create({ index }));
        } catch (err) {
          if (errorType(err) === 'resource_already_exists_exception') continue;
          throw wrap('AVC_ERR_ES_REQUEST_FAILED', 'Elasticsearch index create failed', err, { index });
        }
      }
    },

    async updateMappings(index, mappings) {
      try {
        await withRetry('put_mapping', () =>
          client.indices.putMapping({ index, allow_no_indices: true, ignore_unavailable: true, ...mappings }),
        );
      } catch (err) {
        throw wrap('AVC_ERR_ES_TEMPLATE_FAILED', 'cannot update the mappings of existing indices', err, {
          index,
        });
      }
    },

    async bulkIndex(index, docs, o = {}) {
      const failures = new Map<string, BulkFailure>();
      let indexed = 0;
      let pending: readonly BulkDoc[] = docs;
      const refresh = o.refresh ?? false;
      try {
        await withRetry(
          'bulk',
          async () => {
            if (pending.length === 0) return;
            const operations: object[] = [];
            for (const d of pending) operations.push({ index: { _index: index, _id: d.id } }, d.doc);
            const res = await client.bulk({ operations, refresh });
            const again: BulkDoc[] = [];
            res.items.forEach((item, i) => {
              const r = item.index ?? item.create ?? item.update;
              const d = pending[i];
              if (!r || !d) return;
              if (!r.error && r.status < 300) {
                indexed++;
                failures.delete(d.id);
                return;
              }
              const f: BulkFailure = {
                id: d.id,
                status: r.status,
                type: r.error?.type ?? 'unknown',
                reason: r.error?.reason ?? '',
                retriable: isRetriableStatus(r.status),
              };
              failures.set(d.id, f);
              if (f.retriable) again.push(d);
            });
            pending = again;
            if (again.length > 0) {
              // `retry` backs off and sends only these documents again.
              throw new ItemsRejected(again.length);
            }
          },
          o,
        );
      } catch (err) {
        if (!(err instanceof ItemsRejected)) {
          // Transient (ES down, 429/5xx on the whole request): UNAVAILABLE. Anything else (a 4xx on the whole
          // request, e.g. 413 too large) will fail again the same way: REQUEST_FAILED, not retriable.
          const code = isRetriableEsError(err) ? 'AVC_ERR_ES_UNAVAILABLE' : 'AVC_ERR_ES_REQUEST_FAILED';
          throw wrap(code, 'Elasticsearch did not take the bulk request', err, { index, docs: docs.length });
        }
      }
      return { indexed, failures: [...failures.values()] };
    },

    async createIfAbsent(index, id, doc, o = {}) {
      try {
        await withRetry('create', () =>
          client.create({ index, id, document: doc, refresh: o.refresh ?? false }),
        );
        return true;
      } catch (err) {
        if (statusOf(err) === 409) return false;
        throw wrap('AVC_ERR_ES_REQUEST_FAILED', 'Elasticsearch create failed', err, { index });
      }
    },

    async update(index, id, doc, o = {}) {
      try {
        await withRetry('update', () =>
          client.update({
            index,
            id,
            doc,
            refresh: o.refresh ?? false,
            ...(o.ifSeqNo !== undefined ? { if_seq_no: o.ifSeqNo } : {}),
            ...(o.ifPrimaryTerm !== undefined ? { if_primary_term: o.ifPrimaryTerm } : {}),
          }),
        );
        return true;
      } catch (err) {
        const status = statusOf(err);
        if (status === 409 || status === 404) return false;
        throw wrap('AVC_ERR_ES_REQUEST_FAILED', 'Elasticsearch update failed', err, { index });
      }
    },

    async get<T>(index: string, id: string) {
      try {
        const r = await withRetry('get', () => client.get<T>({ index, id }));
        return r.found ? r._source : undefined;
      } catch (err) {
        if (statusOf(err) === 404) return undefined;
        throw wrap('AVC_ERR_ES_REQUEST_FAILED', 'Elasticsearch get failed', err, { index });
      }
    },

    async count(index, query) {
      try {
        const r = await withRetry('count', () =>
          client.count({
            index,
            ignore_unavailable: true,
            allow_no_indices: true,
            ...(query ? { query } : {}),
          }),
        );
        return r.count;
      } catch (err) {
        throw wrap('AVC_ERR_ES_REQUEST_FAILED', 'Elasticsearch count failed', err, { index });
      }
    },

    async search<T>(index: string, body: Record<string, unknown> = {}) {
      try {
        const r = await withRetry('search', () =>
          client.search<T>({ index, ignore_unavailable: true, allow_no_indices: true, ...body }),
        );
        const total =
          typeof r.hits.total === 'number' ? r.hits.total : (r.hits.total?.value ?? r.hits.hits.length);
        const result: SearchResult<T> = {
          total,
          hits: r.hits.hits.map((h) => ({
            index: h._index,
            id: h._id ?? '',
            source: h._source as T,
            ...(typeof h._seq_no === 'number' ? { seqNo: h._seq_no } : {}),
            ...(typeof h._primary_term === 'number' ? { primaryTerm: h._primary_term } : {}),
          })),
        };
        if (r.aggregations) result.aggregations = r.aggregations as Record<string, unknown>;
        return result;
      } catch (err) {
        throw wrap('AVC_ERR_ES_REQUEST_FAILED', 'Elasticsearch search failed', err, { index });
      }
    },

    async refresh(index) {
      try {
        await withRetry('refresh', () =>
          client.indices.refresh({ index, ignore_unavailable: true, allow_no_indices: true }),
        );
      } catch (err) {
        throw wrap('AVC_ERR_ES_REQUEST_FAILED', 'Elasticsearch refresh failed', err, { index });
      }
    },

    async deleteIndices(pattern) {
      try {
        await withRetry('delete_index', () =>
          client.indices.delete({ index: pattern, ignore_unavailable: true, allow_no_indices: true }),
        );
      } catch (err) {
        if (statusOf(err) === 404) return;
        throw wrap('AVC_ERR_ES_REQUEST_FAILED', 'Elasticsearch index delete failed', err, { index: pattern });
      }
    },

    async deleteIndexTemplate(name) {
      try {
        await withRetry('delete_index_template', () => client.indices.deleteIndexTemplate({ name }));
      } catch (err) {
        if (statusOf(err) === 404) return;
        throw wrap('AVC_ERR_ES_REQUEST_FAILED', 'Elasticsearch template delete failed', err, {
          template: name,
        });
      }
    },

    async close() {
      await client.close();
    },
  };
}
