import picomatch from 'picomatch';

/**
 * seaudit-style glob matching on top of picomatch.
 *
 * - `?` one character, `*` any run of characters (including `/` and the empty string), `[abc]`, `[a-z]`,
 *   `[!abc]` (and `[^abc]`) character classes; `\` escapes the next character. Case-sensitive.
 * - A pattern always matches the WHOLE value, like seaudit's `fnmatch(3)` without flags. `^` at the start
 *   and `$` at the end are therefore accepted as explicit anchors and have no further effect;
 *   `^httpd` equals `httpd`, and a prefix match is written `httpd*` (or `^httpd*`). A literal leading `^`
 *   or trailing `$` is written `\^` / `\$`.
 * - Brace expansion, extglobs (`+(..)`), globstars and negation (`!pat`) are switched off, so those
 *   characters are literal.
 *
 * picomatch treats `/` as a path separator; we map `/` to a private-use code point in both the pattern
 * and the value so that `*` and `?` cross it as fnmatch does without FNM_PATHNAME.
 */
const SLASH = '\uE000';
const OPTIONS: picomatch.PicomatchOptions = {
  dot: true,
  nobrace: true,
  noextglob: true,
  nonegate: true,
  noglobstar: true,
  posix: true,
};

export type Matcher = (value: string) => boolean;

export function stripAnchors(pattern: string): string {
  let p = pattern;
  if (p.startsWith('^')) p = p.slice(1);
  if (p.endsWith('$') && !p.endsWith('\\$')) p = p.slice(0, -1);
  return p;
}

export function compileGlob(pattern: string): Matcher {
  const p = stripAnchors(pattern);
  if (p === '') return (value) => value === '';
  if (/^\*+$/.test(p)) return () => true;
  const isMatch = picomatch(p.replaceAll('/', SLASH), OPTIONS);
  return (value) => isMatch(value.replaceAll('/', SLASH));
}

/** A list of globs matches when any of them matches. */
export function compileGlobList(patterns: readonly string[]): Matcher {
  const matchers = patterns.map(compileGlob);
  return (value) => matchers.some((m) => m(value));
}
