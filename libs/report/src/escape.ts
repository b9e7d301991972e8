// Escaping of attacker-controlled audit text (comm, exe, path, contexts...) for the renderers.

// C0 and C1 controls, DEL, and Unicode format characters that reorder or hide text (bidi overrides and
// isolates, zero-width characters, line/paragraph separators, BOM).
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff]/g;

function codeOf(c: string): string {
  const n = c.charCodeAt(0);
  return n <= 0xff ? `\\x${n.toString(16).padStart(2, '0')}` : `\\u${n.toString(16).padStart(4, '0')}`;
}

/**
 * Makes a value safe for a terminal or an e-mail body: control and text-direction characters become
 * `\xNN` / `\uNNNN`, and a backslash is doubled so the escapes cannot be forged.
 */
export function escapeText(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(UNSAFE, codeOf);
}

const HTML_ENTITIES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
  '`': '&#96;',
  '=': '&#61;',
};

/**
 * HTML entity escaping, safe in element text and in quoted attribute values. Control and
 * text-direction characters are shown as visible `\xNN` escapes first (see `escapeText`).
 */
export function escapeHtml(value: string): string {
  return escapeText(value).replace(/[&<>"'`=]/g, (c) => HTML_ENTITIES[c] ?? c);
}
