import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { ReportError } from './errors.ts';
import { escapeText } from './escape.ts';
import { compileGlobList, type Matcher } from './glob.ts';
import { parseTimeBound } from './time.ts';
import type { ViewCriteria, ViewDefinition } from './types.ts';

const MAX_VIEWS_BYTES = 1 << 20;

const globs = z
  .union([z.string().max(1024), z.array(z.string().max(1024)).max(256)], {
    error: 'expected a glob or a list of globs (strings)',
  })
  .transform((v) => (typeof v === 'string' ? [v] : v));
const bound = z.union([z.string().max(64), z.number()]).transform((v, ctx) => {
  try {
    parseTimeBound(v);
  } catch {
    ctx.addIssue({ code: 'custom', message: 'expected epoch seconds or an ISO-8601 time' });
    return z.NEVER;
  }
  return String(v);
});

const criteriaSchema = z
  .object({
    sourceUser: globs,
    sourceRole: globs,
    sourceType: globs,
    sourceLevel: globs,
    targetUser: globs,
    targetRole: globs,
    targetType: globs,
    targetLevel: globs,
    class: globs,
    perm: globs,
    exe: globs,
    comm: globs,
    path: globs,
    host: globs,
    since: bound,
    until: bound,
  })
  .partial()
  .strict();

const viewSchema = z
  .object({
    name: z.string().min(1).max(128),
    description: z.string().max(1024).optional(),
    match: z.enum(['all', 'any']).default('all'),
    criteria: criteriaSchema.default({}),
  })
  .strict();

const listSchema = z.array(viewSchema).max(256);
const objectSchema = z.object({ views: listSchema }).strict();

/** Keys each level accepts, named when a key is unknown. */
const KNOWN_KEYS: Array<[RegExp, string[]]> = [
  [/^(views\.)?\d+\.criteria$/, Object.keys(criteriaSchema.shape)],
  [/^(views\.)?\d+$/, Object.keys(viewSchema.shape)],
  [/^$/, ['views']],
];

/** `views[0].criteria.perm` (a bare list: `[0].criteria.perm`), or `(top level)`. */
function pathText(path: readonly PropertyKey[]): string {
  let out = '';
  for (const p of path) {
    out += typeof p === 'number' ? `[${p}]` : `${out === '' ? '' : '.'}${escapeText(String(p).slice(0, 64))}`;
  }
  return out === '' ? '(top level)' : out;
}

/** One line per problem: where it is in the file and what is wrong (at most 20 lines). */
function describeIssues(issues: readonly z.core.$ZodIssue[]): string {
  const lines = issues.slice(0, 20).map((i) => {
    const where = pathText(i.path);
    let what: string;
    if (i.code === 'unrecognized_keys') {
      const dotted = i.path.map(String).join('.');
      const known = KNOWN_KEYS.find(([re]) => re.test(dotted))?.[1];
      what =
        i.keys.map((k) => `unknown key "${escapeText(k.slice(0, 64))}"`).join(', ') +
        (known === undefined ? '' : ` (known: ${known.join(', ')})`);
    } else if (i.code === 'invalid_value') {
      what = `expected one of ${i.values.map((v) => JSON.stringify(v)).join(', ')}`;
    } else if (i.code === 'invalid_type') {
      what = `expected ${i.expected === 'string' ? 'a string' : i.expected === 'object' ? 'a mapping' : i.expected === 'array' ? 'a list' : i.expected}`;
    } else what = i.message;
    return `  ${where}: ${what}`;
  });
  if (issues.length > 20) lines.push(`  (${issues.length - 20} more problems)`);
  return lines.join('\n');
}

/**
 * Reads a views file (YAML or JSON; JSON is valid YAML). Accepted shapes: `{ views: [...] }` or a bare
 * list. Throws ReportError AVC_ERR_REPORT_VIEWS with the zod message on bad input.
 */
export function parseViews(text: string): ViewDefinition[] {
  if (text.length > MAX_VIEWS_BYTES) {
    throw new ReportError('AVC_ERR_REPORT_VIEWS', `views file larger than ${MAX_VIEWS_BYTES} bytes`);
  }
  let doc: unknown;
  try {
    doc = parseYaml(text, { maxAliasCount: 100 });
  } catch (cause) {
    throw new ReportError('AVC_ERR_REPORT_VIEWS', 'views file is neither valid YAML nor JSON', { cause });
  }
  // The shape picks the schema, so a problem is reported where it is, not as a failed union of both.
  if (typeof doc !== 'object' || doc === null) {
    throw new ReportError(
      'AVC_ERR_REPORT_VIEWS',
      'invalid views file:\n  (top level): expected { views: [...] } or a list of views',
    );
  }
  const parsed = Array.isArray(doc)
    ? listSchema.safeParse(doc)
    : objectSchema.transform((o) => o.views).safeParse(doc);
  if (!parsed.success) {
    throw new ReportError(
      'AVC_ERR_REPORT_VIEWS',
      `invalid views file:\n${describeIssues(parsed.error.issues)}`,
    );
  }
  const list = parsed.data;
  const names = new Set<string>();
  const out: ViewDefinition[] = [];
  for (const [i, v] of list.entries()) {
    if (names.has(v.name)) {
      throw new ReportError(
        'AVC_ERR_REPORT_VIEWS',
        `invalid views file:\n  ${pathText(Array.isArray(doc) ? [i, 'name'] : ['views', i, 'name'])}: duplicate view name "${escapeText(v.name.slice(0, 128))}"`,
      );
    }
    names.add(v.name);
    const criteria: ViewCriteria = {};
    for (const [k, val] of Object.entries(v.criteria)) {
      if (val !== undefined) (criteria as Record<string, unknown>)[k] = val;
    }
    const def: ViewDefinition = { name: v.name, match: v.match, criteria };
    if (v.description !== undefined) def.description = v.description;
    out.push(def);
  }
  return out;
}

/** The facts of one AVC record a view looks at. */
export interface ViewSubject {
  sourceUser: string;
  sourceRole: string;
  sourceType: string;
  sourceLevel: string | null;
  targetUser: string;
  targetRole: string;
  targetType: string;
  targetLevel: string | null;
  class: string;
  perms: readonly string[];
  exe: string | null;
  comm: string | null;
  path: string | null;
  host: string;
  epoch: number;
}

type Test = (s: ViewSubject) => boolean;

function onString(m: Matcher, get: (s: ViewSubject) => string | null): Test {
  return (s) => {
    const v = get(s);
    return v !== null && m(v);
  };
}

/** Compiles a view to a predicate. A view without criteria matches every AVC message. */
export function compileView(view: ViewDefinition): (s: ViewSubject) => boolean {
  const c = view.criteria;
  const tests: Test[] = [];
  const str = (globs: string[] | undefined, get: (s: ViewSubject) => string | null) => {
    if (globs !== undefined) tests.push(onString(compileGlobList(globs), get));
  };
  str(c.sourceUser, (s) => s.sourceUser);
  str(c.sourceRole, (s) => s.sourceRole);
  str(c.sourceType, (s) => s.sourceType);
  str(c.sourceLevel, (s) => s.sourceLevel);
  str(c.targetUser, (s) => s.targetUser);
  str(c.targetRole, (s) => s.targetRole);
  str(c.targetType, (s) => s.targetType);
  str(c.targetLevel, (s) => s.targetLevel);
  str(c.class, (s) => s.class);
  str(c.exe, (s) => s.exe);
  str(c.comm, (s) => s.comm);
  str(c.path, (s) => s.path);
  str(c.host, (s) => s.host);
  if (c.perm !== undefined) {
    const m = compileGlobList(c.perm);
    tests.push((s) => s.perms.some(m));
  }
  if (c.since !== undefined || c.until !== undefined) {
    const lo = c.since === undefined ? Number.NEGATIVE_INFINITY : parseTimeBound(c.since);
    const hi = c.until === undefined ? Number.POSITIVE_INFINITY : parseTimeBound(c.until);
    tests.push((s) => s.epoch >= lo && s.epoch <= hi);
  }
  if (tests.length === 0) return () => true;
  return view.match === 'all' ? (s) => tests.every((t) => t(s)) : (s) => tests.some((t) => t(s));
}
