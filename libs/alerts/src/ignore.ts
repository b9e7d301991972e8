import picomatch from 'picomatch';

/**
 * Ignore rules: globs over the signature key (`source_t:target_t:class:perm`, plus `:exe=` / `:path=` parts
 * when configured). picomatch semantics: `*` does not cross `/`, use `**` for paths.
 */
export function compileIgnore(globs: readonly string[]): (key: string) => boolean {
  if (globs.length === 0) return () => false;
  const isMatch = picomatch([...globs], { dot: true, nobrace: false });
  return (key) => isMatch(key);
}
