// Escaping of attacker-controlled audit text (comm, exe, path, contexts...) for the renderers.
import { escapeText } from '@avcstream/audit';

export { escapeText };

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
