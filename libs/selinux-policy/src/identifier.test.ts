import { describe, expect, it } from 'vitest';
import { isPolicyIdentifier } from './identifier.ts';

describe('isPolicyIdentifier', () => {
  it('accepts what checkpolicy lexes as an IDENTIFIER', () => {
    for (const n of ['httpd_t', 'httpd_read_user_content', 'a', 'x-y.z_1', 'Base.module-2', 's0', 'c1023']) {
      expect(isPolicyIdentifier(n)).toBe(true);
    }
  });

  it('rejects shell metacharacters, whitespace, controls and what the lexer does not accept', () => {
    const bad = [
      '',
      'x;touch /tmp/pwn\nid;#aa',
      'a$(id)',
      'a b',
      'a\u001b]0;PWN\u0007',
      'a\u202eb',
      "a'b",
      '1abc',
      '_abc',
      '-P',
      '.a',
      'a..b',
      'a.',
      'é_t',
      '@ttr0001',
    ];
    for (const n of bad) expect(isPolicyIdentifier(n)).toBe(false);
  });
});
