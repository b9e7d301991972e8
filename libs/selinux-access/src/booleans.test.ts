import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { BooleanFileError, parseBooleans } from './booleans.ts';
import { readBooleans } from './booleans-fs.ts';

describe('parseBooleans', () => {
  it('reads name value lines, getsebool -a lines and comments', () => {
    const text = [
      '# host booleans',
      'httpd_read_user_content 1',
      'httpd_enable_cgi false',
      'ssh_sysadm_login --> on',
      'xdm_sysadm_login --> off',
      'allow_execmem=true',
      '',
    ].join('\n');
    expect({ ...parseBooleans(text) }).toEqual({
      httpd_read_user_content: true,
      httpd_enable_cgi: false,
      ssh_sysadm_login: true,
      xdm_sysadm_login: false,
      allow_execmem: true,
    });
  });

  it('rejects bad values and over-long names with the line number', () => {
    expect(() => parseBooleans('a 1\nb maybe\n')).toThrow(BooleanFileError);
    try {
      parseBooleans('a 1\nb maybe\n');
    } catch (e) {
      expect((e as BooleanFileError).line).toBe(2);
      expect((e as BooleanFileError).code).toBe('AVC_ERR_BOOLEANS_FORMAT');
    }
    expect(() => parseBooleans(`${'x'.repeat(300)} 1`)).toThrow(/bad boolean name/);
    expect(() => parseBooleans('a b c')).toThrow(BooleanFileError);
  });
});

describe('readBooleans', () => {
  const dir = mkdtempSync(join(tmpdir(), 'avcstream-bools-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('reads a directory laid out like /sys/fs/selinux/booleans (current value)', () => {
    const d = join(dir, 'booleans');
    mkdirSync(d);
    writeFileSync(join(d, 'httpd_read_user_content'), '1 0');
    writeFileSync(join(d, 'httpd_enable_cgi'), '0 1');
    expect({ ...readBooleans(d) }).toEqual({ httpd_read_user_content: true, httpd_enable_cgi: false });
  });

  it('reads a file', () => {
    const f = join(dir, 'b.txt');
    writeFileSync(f, 'a 1\nb 0\n');
    expect({ ...readBooleans(f) }).toEqual({ a: true, b: false });
  });

  it('rejects a directory entry that does not hold "cur pending"', () => {
    const d = join(dir, 'bad');
    mkdirSync(d);
    writeFileSync(join(d, 'x'), 'garbage');
    expect(() => readBooleans(d)).toThrow(BooleanFileError);
  });
});
