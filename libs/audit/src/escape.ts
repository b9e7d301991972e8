// Display escaping of untrusted text (audit values such as comm, exe, path and contexts, and the names a
// binary policy holds) for terminals, text reports and e-mail bodies. The one implementation: the report
// renderers, the alert console sink, `avcstream explain`/`policy` text output and the explainer's
// evidence lines all call it.

// C0 and C1 controls, DEL, and Unicode format characters that reorder or hide text (bidi overrides and
// isolates, zero-width characters, line/paragraph separators, BOM).
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff]/g;
// What escapeText changes: an unsafe character or a backslash (tested first: most values hold neither).
const NEEDS_ESCAPE = /[\\\u0000-\u001f\u007f-\u009f\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff]/;

function codeOf(c: string): string {
  const n = c.charCodeAt(0);
  return n <= 0xff ? `\\x${n.toString(16).padStart(2, '0')}` : `\\u${n.toString(16).padStart(4, '0')}`;
}

/**
 * Makes a value safe for a terminal or an e-mail body: control and text-direction characters become
 * `\xNN` / `\uNNNN`, and a backslash is doubled so the escapes cannot be forged. A value needing none is
 * returned as is.
 */
export function escapeText(value: string): string {
  if (!NEEDS_ESCAPE.test(value)) return value;
  return value.replace(/\\/g, '\\\\').replace(UNSAFE, codeOf);
}
