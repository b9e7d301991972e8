import { z } from 'zod';

/** A bad configuration. The process should print `message` and exit with {@link CONFIG_EXIT_CODE} (78). */
export class ConfigError extends Error {
  readonly code = 'AVC_ERR_CONFIG_INVALID';
  readonly retriable = false;
  readonly exitCode = CONFIG_EXIT_CODE;
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'ConfigError';
  }
}

/** EX_CONFIG from sysexits.h. */
export const CONFIG_EXIT_CODE = 78;

export const ENV_PREFIX = 'AVCSTREAM_';

type Json = Record<string, unknown>;

function isPlainObject(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** `CLIENT_ID` → `clientId`, `MAX_IN_FLIGHT_BYTES` → `maxInFlightBytes`. */
export function envSegmentToKey(segment: string): string {
  return segment.toLowerCase().replace(/_([a-z0-9])/g, (_m, c: string) => c.toUpperCase());
}

function setPath(target: Json, path: string[], value: unknown): void {
  let node = target;
  for (let i = 0; i < path.length - 1; i++) {
    const k = path[i]!;
    if (k === '__proto__' || k === 'constructor' || k === 'prototype') return;
    const next = node[k];
    if (!isPlainObject(next)) node[k] = {};
    node = node[k] as Json;
  }
  const last = path[path.length - 1]!;
  if (last === '__proto__' || last === 'constructor' || last === 'prototype') return;
  node[last] = value;
}

/** `AVCSTREAM_KAFKA__CLIENT_ID=x` → `{ kafka: { clientId: 'x' } }`. Other variables are ignored. */
export function envToObject(env: Record<string, string | undefined>, prefix = ENV_PREFIX): Json {
  const out: Json = {};
  for (const [name, value] of Object.entries(env)) {
    if (value === undefined || !name.startsWith(prefix)) continue;
    const rest = name.slice(prefix.length);
    if (rest === '' || rest === 'LOG_LEVEL' || rest === 'CONFIG') continue;
    const path = rest
      .split('__')
      .filter((s) => s !== '')
      .map(envSegmentToKey);
    if (path.length > 0) setPath(out, path, value);
  }
  return out;
}

/**
 * `--kafka.brokers=a,b --tail.startAt end --dryRun` → `{ kafka: { brokers: 'a,b' }, tail: { startAt: 'end' },
 * dryRun: 'true' }`. Values stay strings; the schema coerces. Unknown shapes raise ConfigError.
 */
export function argvToObject(argv: readonly string[]): Json {
  const out: Json = {};
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (!arg.startsWith('--') || arg === '--') {
      throw new ConfigError(`unexpected argument ${JSON.stringify(arg)}: options are --path.to.key=value`);
    }
    const body = arg.slice(2);
    const eq = body.indexOf('=');
    let key: string;
    let value: string;
    if (eq >= 0) {
      key = body.slice(0, eq);
      value = body.slice(eq + 1);
    } else {
      key = body;
      const next = argv[i + 1];
      if (next !== undefined && !next.startsWith('--')) {
        value = next;
        i++;
      } else {
        value = 'true';
      }
    }
    if (!/^[A-Za-z][A-Za-z0-9]*(\.[A-Za-z][A-Za-z0-9]*)*$/.test(key)) {
      throw new ConfigError(`bad option name ${JSON.stringify(key)}`);
    }
    setPath(out, key.split('.'), value);
  }
  return out;
}

/** Deep merge of plain objects; later sources win; arrays and scalars are replaced. */
export function deepMerge(...sources: Json[]): Json {
  const out: Json = {};
  for (const src of sources) {
    for (const [k, v] of Object.entries(src)) {
      if (k === '__proto__' || k === 'constructor' || k === 'prototype') continue;
      const prev = out[k];
      out[k] = isPlainObject(prev) && isPlainObject(v) ? deepMerge(prev, v) : v;
    }
  }
  return out;
}

export function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value)) deepFreeze(v);
  }
  return value;
}

function topLevelKeys(schema: z.ZodType): Set<string> | null {
  let s: unknown = schema;
  // unwrap defaults/optionals/pipes to reach the object
  for (let i = 0; i < 8 && s !== null && typeof s === 'object'; i++) {
    const def = (
      s as { def?: { type?: string; innerType?: unknown; in?: unknown; shape?: Record<string, unknown> } }
    ).def;
    if (def === undefined) return null;
    if (def.type === 'object' && def.shape !== undefined) return new Set(Object.keys(def.shape));
    s = def.innerType ?? def.in;
  }
  return null;
}

/**
 * Pure config load: `file` < `env` (`AVCSTREAM_` + `__` nesting) < `argv` (`--a.b=value`), validated by the
 * service's `.strict()` zod schema (with defaults). Returns a deeply frozen object or throws ConfigError with
 * zod's pretty message.
 */
export function loadConfig<S extends z.ZodType>(
  schema: S,
  env: Record<string, string | undefined>,
  argv: readonly string[],
  fileObj: unknown = {},
): Readonly<z.output<S>> {
  if (!isPlainObject(fileObj)) throw new ConfigError('config file must hold a JSON object');
  // The AVCSTREAM_ namespace is shared (AVCSTREAM_LOG_LEVEL, test kits...): from the environment only the
  // sections the schema knows are taken; typos inside a known section are still rejected.
  const known = topLevelKeys(schema);
  const fromEnv = envToObject(env);
  if (known !== null) for (const k of Object.keys(fromEnv)) if (!known.has(k)) delete fromEnv[k];
  const merged = deepMerge(fileObj, fromEnv, argvToObject(argv));
  const parsed = schema.safeParse(merged);
  if (!parsed.success) {
    throw new ConfigError(`invalid configuration:\n${z.prettifyError(parsed.error)}`, {
      cause: parsed.error,
    });
  }
  return deepFreeze(parsed.data) as Readonly<z.output<S>>;
}

const SECRET_KEY_RE = /(password|passwd|secret|token|apikey|api_key|authorization|credentials|privatekey)/i;

/**
 * Copy of a config with secret-looking keys replaced by `[redacted]`, and in URLs the userinfo and any path
 * or query (webhook services put their tokens there: hooks.slack.com/services/T/B/TOKEN) replaced, for
 * logging. The scheme, host and port stay, so the log still says where a service connects.
 */
export function redactConfig(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(redactConfig);
  if (isPlainObject(value)) {
    const out: Json = {};
    for (const [k, v] of Object.entries(value)) {
      out[k] =
        SECRET_KEY_RE.test(k) && v !== undefined && v !== null && v !== '' ? '[redacted]' : redactConfig(v);
    }
    return out;
  }
  if (typeof value === 'string') {
    return value
      .replace(/(\w+:\/\/)[^/@\s]+@/g, '$1[redacted]@')
      .replace(/(\w+:\/\/[^/?#\s]+)(?:\/[^/?#\s]|[?#])\S*/g, '$1/[redacted]');
  }
  return value;
}

// ---- zod helpers for fragments --------------------------------------------------------------------------

/** Boolean from a real boolean (file) or from `true/false/1/0/yes/no/on/off` (env, argv). */
export const zBool = () => z.union([z.boolean(), z.stringbool()]);

/**
 * Integer from a number or a numeric string, with bounds. An empty or blank string is an error (it is not 0:
 * `--http.port=` must not mean a random port).
 */
export const zInt = (min: number, max: number) =>
  z.preprocess(
    (v) => (typeof v === 'string' && v.trim() !== '' ? Number(v) : v),
    z.number({ error: 'expected an integer' }).int().min(min).max(max),
  );

/** List from an array or a comma-separated string. */
export const zList = <T extends z.ZodType>(item: T) =>
  z.preprocess(
    (v) =>
      typeof v === 'string'
        ? v
            .split(',')
            .map((s) => s.trim())
            .filter((s) => s !== '')
        : v,
    z.array(item),
  );

/** Kafka brokers: a non-empty list (array or comma-separated) of `host:port` (`[v6]:port`), port 1-65535. */
export const zBrokers = () =>
  zList(
    z.string().refine((b) => {
      const m = /^(\[[0-9A-Fa-f:.]+\]|[^\s:,[\]]+):(\d{1,5})$/.exec(b);
      const port = m === null ? 0 : Number(m[2]);
      return port >= 1 && port <= 65535;
    }, 'expected host:port (port 1-65535)'),
  ).pipe(z.array(z.string()).min(1, 'expected at least one broker'));

/** An http or https URL (Elasticsearch and similar endpoints). */
export const zHttpUrl = () => z.url({ protocol: /^https?$/, error: 'expected an http(s) URL' });
