// file_contexts: the default label of a path, as matchpathcon / restorecon compute it (libselinux's file
// backend). Pure: the text of the files in, a lookup out. Used to tell a mislabelled object (restorecon
// restores a label the policy allows) from one whose default label is itself the problem.
//
// What libselinux does, and this module with it:
// - specs are read from file_contexts, then file_contexts.homedirs, then file_contexts.local;
// - specs without regex metacharacters (exact paths) move after the others, in their order, and the
//   last spec that matches wins;
// - a spec whose first path component has no metacharacter has that component as its "stem": it is
//   tried only on paths with the same first component, and its rest is matched, anchored (^rest$,
//   without a group), against the rest of the path; any other spec is matched, anchored, on the whole path;
// - a spec with a file type (-- -d -l -c -b -p -s) applies only to objects of that type;
// - `<<none>>` as the context means "no default label";
// - before matching, duplicate slashes are removed and the path's prefix aliases of file_contexts.subs,
//   then file_contexts.subs_dist, are applied (the last line of each file wins).
// - regular expressions are PCRE2's with DOTALL, matched on the path's bytes: a spec and a path are matched
//   here as strings of their UTF-8 bytes (one character per byte), `.` matches a newline, `$` also matches
//   before a final newline, and the PCRE forms JavaScript reads otherwise are translated (`\s`, POSIX
//   classes, a `]` first in a class) or refused as errors (`\A`, `\x{..}`, `(?` groups...).
//
// The path is attacker-controlled (audit text): a few stock specs (`...\.so(\.[^/]*)*`) backtrack
// exponentially in a backtracking engine on a crafted path, where PCRE2 stops at its match limit. V8 is
// told to switch a regex to its linear-time engine after excessive backtracking (a process-wide flag, set
// when this module loads, before any spec is compiled), so a lookup stays polynomial in the path length.
import { setFlagsFromString } from 'node:v8';

setFlagsFromString('--enable-experimental-regexp-engine-on-excessive-backtracks');

/** One file of specs or aliases, by name (for errors) and text. */
export interface FileContextsSource {
  name: string;
  text: string;
}

/** A line that was skipped: where, and why. Returned as values, never thrown. */
export interface FileContextsError {
  source: string;
  line: number;
  message: string;
}

/** The spec that gives a path its default label. */
export interface FileContextMatch {
  /** The spec's path regular expression, as written. */
  spec: string;
  /** Its file type field (`--`, `-d`...), or null for any type. */
  fileType: string | null;
  /** Its context, and the type of that context. */
  context: string;
  type: string;
  /** Where it was read: source name and 1-based line. */
  source: string;
  line: number;
  /** Position of the spec in lookup order (a small stable number: cache keys). */
  index: number;
}

export interface FileContexts {
  /**
   * Types of contexts/customizable_types: labels an administrator set by hand, which restorecon keeps
   * unless forced (-F).
   */
  readonly customizable: ReadonlySet<string>;
  /**
   * The spec that labels `path` (absolute) for an object of class `tclass` (file, dir, lnk_file...; any
   * other class: a spec of any file type), or null when none does, the spec says `<<none>>`, or the path
   * is not absolute, longer than MAX_PATH, or ends with " (deleted)" (the kernel's name of an unlinked
   * file: there is nothing left to relabel).
   */
  lookup(path: string, tclass: string): FileContextMatch | null;
  /** Specs read. */
  readonly size: number;
  /** Lines skipped (bad syntax, a regular expression JavaScript cannot compile, too many specs). */
  readonly errors: readonly FileContextsError[];
}

/** Longest path looked up (the kernel's PATH_MAX). */
export const MAX_PATH = 4096;
/** Most specs kept (Debian's and Fedora's policies have 5-8k); the rest are errors. */
const MAX_SPECS = 200_000;
/** Most aliases kept per subs file. */
const MAX_SUBS = 10_000;
/** Longest spec line read. */
const MAX_LINE = 8192;
/** Lookups remembered (paths repeat in logs), and the characters of their paths, at most. */
const MAX_CACHED = 8192;
const MAX_CACHED_CHARS = 2 * 1024 * 1024;
/** Most types read from customizable_types. */
const MAX_CUSTOMIZABLE = 10_000;
const MAX_ERRORS = 100;

/** File type fields and the object classes they label. */
const FILE_TYPE_CLASS: ReadonlyMap<string, string> = new Map([
  ['--', 'file'],
  ['-d', 'dir'],
  ['-l', 'lnk_file'],
  ['-c', 'chr_file'],
  ['-b', 'blk_file'],
  ['-p', 'fifo_file'],
  ['-s', 'sock_file'],
]);
const META = '.^$?*+|[({';

interface Spec {
  match: FileContextMatch | null;
  /** 0: no stem; else the stem's number. */
  stem: number;
  /** The class its file type labels, or null for any. */
  cls: string | null;
  re: RegExp;
  exact: boolean;
  /** Text every match starts with (of the rest after the stem): a cheap test before the regex. */
  prefix: string;
}

/**
 * The literal text every match of `re` starts with: up to its first metacharacter, less a character a
 * quantifier may drop (`?`, `*`, `{`); '' when the expression has an alternation outside any group (its
 * branches need not share a start).
 */
function literalPrefix(re: string): string {
  let depth = 0;
  let inClass = false;
  for (let i = 0; i < re.length; i++) {
    const c = re[i] as string;
    if (c === '\\') i++;
    else if (inClass) {
      if (c === ']') inClass = false;
    } else if (c === '[') inClass = true;
    else if (c === '(') depth++;
    else if (c === ')') depth--;
    else if (c === '|' && depth === 0) return '';
  }
  let out = '';
  for (let i = 0; i < re.length; i++) {
    const c = re[i] as string;
    if (c === '\\') {
      const next = re[i + 1];
      // An escaped punctuation character is itself; \d, \w... are classes.
      if (next === undefined || /[A-Za-z0-9]/.test(next)) return out;
      const after = re[i + 2];
      if (after === '?' || after === '*' || after === '{') return out;
      out += next;
      i++;
      continue;
    }
    if (META.includes(c)) return out;
    const after = re[i + 1];
    if (after === '?' || after === '*' || after === '{') return out;
    out += c;
  }
  return out;
}

/** Length of the spec's stem ("/usr" of "/usr/lib(/.*)?"), 0 when it has none. */
function stemLength(spec: string): number {
  const slash = spec.indexOf('/', 1);
  if (slash < 0) return 0;
  for (let i = 0; i < slash; i++) if (META.includes(spec[i] as string)) return 0;
  return slash;
}

const POSIX_CLASSES: ReadonlyMap<string, string> = new Map([
  ['alpha', 'A-Za-z'],
  ['digit', '0-9'],
  ['alnum', 'A-Za-z0-9'],
  ['upper', 'A-Z'],
  ['lower', 'a-z'],
  ['xdigit', '0-9A-Fa-f'],
  ['space', '\\t\\n\\v\\f\\r '],
  ['blank', '\\t '],
  ['punct', '!-\\/:-@\\[-`{-~'],
  ['word', 'A-Za-z0-9_'],
]);
/** PCRE escapes JavaScript has no such meaning for (in this module's non-unicode mode). */
const UNSUPPORTED_ESCAPES = new Set([
  'A',
  'Z',
  'z',
  'G',
  'K',
  'Q',
  'E',
  'p',
  'P',
  'R',
  'X',
  'C',
  'h',
  'H',
  'N',
  'g',
  'k',
  'o',
]);

/**
 * The JavaScript source of a PCRE2 spec (read as its UTF-8 bytes, one character each), or a reason it
 * cannot be translated faithfully: `\s` and `\S` (PCRE2's ASCII white space, not JavaScript's Unicode one),
 * POSIX classes, a `]` right after `[` or `[^` (literal in PCRE), `\x{HH}`; `(?` groups and the escapes
 * JavaScript reads otherwise are refused.
 */
export function pcreToJs(spec: string): { source: string } | { error: string } {
  let out = '';
  let inClass = false;
  for (let i = 0; i < spec.length; i++) {
    const c = spec[i] as string;
    if (c === '\\') {
      const n = spec[i + 1];
      if (n === undefined) return { error: 'a trailing backslash' };
      i++;
      if (n === 's') out += inClass ? '\\t\\n\\v\\f\\r ' : '[\\t\\n\\v\\f\\r ]';
      else if (n === 'S') {
        if (inClass) return { error: '\\S inside a character class' };
        out += '[^\\t\\n\\v\\f\\r ]';
      } else if (n === 'x' && spec[i + 1] === '{') {
        const end = spec.indexOf('}', i + 2);
        const hex = end < 0 ? '' : spec.slice(i + 2, end);
        if (!/^[0-9A-Fa-f]{1,2}$/.test(hex)) return { error: 'a \\x{...} escape beyond one byte' };
        out += `\\x${hex.padStart(2, '0')}`;
        i = end;
      } else if (UNSUPPORTED_ESCAPES.has(n)) return { error: `the PCRE escape \\${n}` };
      else out += `\\${n}`;
      continue;
    }
    if (inClass) {
      if (c === '[' && spec[i + 1] === ':') {
        const end = spec.indexOf(':]', i + 2);
        const name = end < 0 ? '' : spec.slice(i + 2, end);
        const range = POSIX_CLASSES.get(name);
        if (range === undefined) return { error: `the POSIX class [:${name}:]` };
        out += range;
        i = end + 1;
        continue;
      }
      if (c === ']') inClass = false;
      out += c === '[' ? '\\[' : c;
      continue;
    }
    if (c === '[') {
      inClass = true;
      out += '[';
      if (spec[i + 1] === '^') {
        out += '^';
        i++;
      }
      // A ']' first in a class is a literal one in PCRE (JavaScript would close an empty class).
      if (spec[i + 1] === ']') {
        out += '\\]';
        i++;
      }
      continue;
    }
    if (c === '(' && spec[i + 1] === '?') return { error: 'a (? group' };
    out += c;
  }
  if (inClass) return { error: 'an unterminated character class' };
  return { source: out };
}

/** A string's UTF-8 bytes as a string of one character per byte (how the specs and paths are matched). */
function bytesOf(s: string): string {
  // Plain ASCII, the usual case, is its own byte string.
  for (let i = 0; i < s.length; i++) {
    if (s.charCodeAt(i) > 0x7f) return Buffer.from(s, 'utf8').toString('latin1');
  }
  return s;
}

/** Whether the spec has regex metacharacters (a backslash escapes the next character). */
function hasMeta(spec: string): boolean {
  for (let i = 0; i < spec.length; i++) {
    const c = spec[i] as string;
    if (c === '\\') i++;
    else if (META.includes(c)) return true;
  }
  return false;
}

/** The type of a context `user:role:type[:level]`, or null when it has fewer parts. */
function typeOf(context: string): string | null {
  const parts = context.split(':');
  return parts.length >= 3 && parts[2] !== '' ? (parts[2] as string) : null;
}

interface Alias {
  from: string;
  to: string;
}

function readSubs(src: FileContextsSource | undefined, errors: FileContextsError[]): Alias[] {
  if (src === undefined) return [];
  const out: Alias[] = [];
  const lines = src.text.split('\n');
  for (let n = 0; n < lines.length; n++) {
    const words = (lines[n] as string).trim().split(/\s+/);
    const from = words[0] ?? '';
    if (from === '' || from.startsWith('#') || words.length < 2) continue;
    if (out.length >= MAX_SUBS) {
      if (errors.length < MAX_ERRORS)
        errors.push({ source: src.name, line: n + 1, message: `more than ${MAX_SUBS} aliases` });
      break;
    }
    out.push({ from: bytesOf(from), to: bytesOf(words[1] as string) });
  }
  // libselinux builds its list by prepending: the last line is tried first.
  return out.reverse();
}

function applySubs(subs: readonly Alias[], path: string): string | null {
  for (const s of subs) {
    if (!path.startsWith(s.from)) continue;
    const next = path[s.from.length];
    if (next !== '/' && next !== undefined) continue;
    const cut = next === '/' && s.to === '/' ? s.from.length + 1 : s.from.length;
    return s.to + path.slice(cut);
  }
  return null;
}

/** Reads specs (file_contexts, .homedirs, .local, in that order) and aliases (.subs, .subs_dist). */
export function parseFileContexts(
  specs: readonly FileContextsSource[],
  aliases: { subs?: FileContextsSource; subsDist?: FileContextsSource } = {},
  customizableTypes?: FileContextsSource,
): FileContexts {
  const errors: FileContextsError[] = [];
  const bad = (source: string, line: number, message: string) => {
    if (errors.length < MAX_ERRORS) errors.push({ source, line, message });
  };
  const stems = new Map<string, number>();
  const regexOrder: Spec[] = [];
  const exactOrder: Spec[] = [];
  let count = 0;
  for (const src of specs) {
    const lines = src.text.split('\n');
    for (let n = 0; n < lines.length; n++) {
      const raw = lines[n] as string;
      const text = raw.trim();
      if (text === '' || text.startsWith('#')) continue;
      if (raw.length > MAX_LINE) {
        bad(src.name, n + 1, `line longer than ${MAX_LINE} characters`);
        continue;
      }
      const words = text.split(/\s+/);
      if (words.length < 2 || words.length > 3) {
        bad(src.name, n + 1, `expected "regex [type] context", got ${words.length} fields`);
        continue;
      }
      const spec = words[0] as string;
      const fileType = words.length === 3 ? (words[1] as string) : null;
      const context = words[words.length - 1] as string;
      const cls = fileType === null ? null : FILE_TYPE_CLASS.get(fileType);
      if (cls === undefined) {
        bad(src.name, n + 1, 'unknown file type field (expected --, -d, -l, -c, -b, -p or -s)');
        continue;
      }
      const type = context === '<<none>>' ? null : typeOf(context);
      if (context !== '<<none>>' && type === null) {
        bad(src.name, n + 1, 'the context is not user:role:type[:level]');
        continue;
      }
      if (count >= MAX_SPECS) {
        bad(src.name, n + 1, `more than ${MAX_SPECS} specs`);
        continue;
      }
      // Matched as UTF-8 bytes, as libselinux does.
      const bspec = bytesOf(spec);
      const sl = stemLength(bspec);
      let stem = 0;
      if (sl > 0) {
        const s = bspec.slice(0, sl);
        stem = stems.get(s) ?? 0;
        if (stem === 0) {
          stem = stems.size + 1;
          stems.set(s, stem);
        }
      }
      // PCRE's `$` also matches before a final newline; DOTALL (`s`): `.` matches a newline too.
      const js = pcreToJs(bspec.slice(sl));
      if ('error' in js) {
        bad(src.name, n + 1, `the regular expression uses ${js.error}, which is not supported`);
        continue;
      }
      let re: RegExp;
      try {
        re = new RegExp(`^${js.source}\\n?$`, 's');
      } catch {
        bad(src.name, n + 1, 'a regular expression that does not compile');
        continue;
      }
      count++;
      const entry: Spec = {
        match:
          type === null ? null : { spec, fileType, context, type, source: src.name, line: n + 1, index: 0 },
        stem,
        cls,
        re,
        exact: !hasMeta(bspec),
        prefix: literalPrefix(bspec.slice(sl)),
      };
      (entry.exact ? exactOrder : regexOrder).push(entry);
    }
  }
  // Lookup order: the last match wins, exact paths after every regular expression.
  const order = [...regexOrder, ...exactOrder];
  for (let i = 0; i < order.length; i++) {
    const m = (order[i] as Spec).match;
    if (m !== null) m.index = i;
  }
  // The positions in `order` of the specs without a stem, and of each stem's specs, last first: a path is
  // tested against its own stem's specs and the stem-less ones only, merged in lookup order.
  const noStem: number[] = [];
  const stemLists = new Map<number, number[]>();
  for (let i = order.length - 1; i >= 0; i--) {
    const st = (order[i] as Spec).stem;
    if (st === 0) noStem.push(i);
    else {
      let l = stemLists.get(st);
      if (l === undefined) {
        l = [];
        stemLists.set(st, l);
      }
      l.push(i);
    }
  }
  const noStemAt = Int32Array.from(noStem);
  const byStem = new Map<number, Int32Array>();
  for (const [st, l] of stemLists) byStem.set(st, Int32Array.from(l));
  const NONE = new Int32Array(0);
  const subs = readSubs(aliases.subs, errors);
  const subsDist = readSubs(aliases.subsDist, errors);
  const cache = new Map<string, FileContextMatch | null>();
  let cacheChars = 0;
  const customizable = new Set<string>();
  if (customizableTypes !== undefined) {
    for (const line of customizableTypes.text.split('\n')) {
      const t = line.trim();
      if (t === '' || t.startsWith('#')) continue;
      if (customizable.size >= MAX_CUSTOMIZABLE) break;
      customizable.add(t);
    }
  }

  const find = (path: string, cls: string): FileContextMatch | null => {
    const bytes = bytesOf(path);
    let key = bytes.includes('//') ? bytes.replace(/\/\/+/g, '/') : bytes;
    const local = applySubs(subs, key);
    if (local !== null) key = applySubs(subsDist, local) ?? local;
    else key = applySubs(subsDist, key) ?? key;
    const slash = key.indexOf('/', 1);
    const fileStem = slash < 0 ? 0 : (stems.get(key.slice(0, slash)) ?? -1);
    const rest = slash < 0 ? key : key.slice(slash);
    const own = fileStem > 0 ? (byStem.get(fileStem) ?? NONE) : NONE;
    let a = 0;
    let b = 0;
    while (a < noStemAt.length || b < own.length) {
      // The later of the two lists' next positions first (last match wins).
      const fromOwn =
        b < own.length && (a >= noStemAt.length || (own[b] as number) > (noStemAt[a] as number));
      const s = order[fromOwn ? (own[b++] as number) : (noStemAt[a++] as number)] as Spec;
      if (s.cls !== null && cls !== '' && s.cls !== cls) continue;
      if (!fromOwn) {
        if (key.startsWith(s.prefix) && s.re.test(key)) return s.match;
      } else if (rest.startsWith(s.prefix) && s.re.test(rest)) return s.match;
    }
    return null;
  };

  return {
    size: count,
    errors,
    customizable,
    lookup(path: string, tclass: string): FileContextMatch | null {
      if (path.length === 0 || path[0] !== '/' || path.length > MAX_PATH || path.endsWith(DELETED))
        return null;
      const cls = FILE_CLASSES.has(tclass) ? tclass : '';
      const key = `${cls}\u0000${path}`;
      const hit = cache.get(key);
      if (hit !== undefined || cache.has(key)) return hit ?? null;
      const m = find(path, cls);
      if (cache.size >= MAX_CACHED || cacheChars + key.length > MAX_CACHED_CHARS) {
        cache.clear();
        cacheChars = 0;
      }
      cache.set(key, m);
      cacheChars += key.length;
      return m;
    },
  };
}

/** The object classes file_contexts labels (those of its file type fields). */
export const FILE_CLASSES: ReadonlySet<string> = new Set(FILE_TYPE_CLASS.values());
/** What the kernel appends to the path of an unlinked file. */
const DELETED = ' (deleted)';

/**
 * The explainer's `defaultLabel` for an object labelled `tcontext` whose path matched `m`: the spec's type,
 * and whether the object's current type is customizable (restorecon keeps it unless forced).
 */
export function defaultLabelOf(
  m: FileContextMatch,
  tcontext: string,
  fc: FileContexts,
): { type: string; spec: string; customizable: boolean } {
  return { type: m.type, spec: m.spec, customizable: fc.customizable.has(tcontext.split(':')[2] ?? '') };
}

/**
 * The explainer's `defaultLabel` for a denial of class `tclass` on the object at `path`, labelled `tcontext`:
 * what file_contexts gives that path, for a file class; null without file_contexts, path or matching spec.
 */
export function defaultLabelAt(
  fc: FileContexts | null,
  path: string | null | undefined,
  tclass: string,
  tcontext: string,
): { type: string; spec: string; customizable: boolean } | null {
  if (fc === null || path === null || path === undefined || !FILE_CLASSES.has(tclass)) return null;
  const m = fc.lookup(path, tclass);
  return m === null ? null : defaultLabelOf(m, tcontext, fc);
}
