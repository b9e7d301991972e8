// What the policy language accepts as a name: checkpolicy's lexer (policy_scan.l) reads an IDENTIFIER as
// {letter}({alnum}|[_\-])*([\.]?({alnum}|[_\-]))*. A binary policy can hold any bytes as a name; text
// meant to be run or compiled (setsebool commands, allow rules) is only built from names that match.

const IDENTIFIER = /^[A-Za-z][A-Za-z0-9_-]*(?:\.[A-Za-z0-9_-]+)*$/;

/**
 * True when `name` is an identifier checkpolicy accepts: an ASCII letter, then ASCII letters, digits, `_`
 * and `-`, with single dots between them (no `..`, no trailing dot).
 */
export function isPolicyIdentifier(name: string): boolean {
  return IDENTIFIER.test(name);
}
