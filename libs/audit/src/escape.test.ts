import { describe, expect, it } from 'vitest';
import { escapeText } from './escape.ts';

describe('escapeText', () => {
  it('escapes C0, C1, DEL, bidi and zero-width characters and doubles backslashes', () => {
    expect(escapeText('a\u001b[31mb\nc\u202ed\\x41')).toBe('a\\x1b[31mb\\x0ac\\u202ed\\\\x41');
    expect(escapeText('\u0085\u007f\u009b2J')).toBe('\\x85\\x7f\\x9b2J');
    expect(escapeText('x\u200by\u2066z\ufeff\u2028')).toBe('x\\u200by\\u2066z\\ufeff\\u2028');
  });

  it('returns plain text unchanged, UTF-8 letters included', () => {
    const s = 'system_u:system_r:httpd_t:s0 /home/ü/é.txt';
    expect(escapeText(s)).toBe(s);
  });
});
