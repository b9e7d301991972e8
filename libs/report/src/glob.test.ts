import { describe, expect, it } from 'vitest';
import { compileGlob, compileGlobList } from './glob.ts';

const m = (p: string, v: string) => compileGlob(p)(v);

describe('seaudit glob semantics', () => {
  it('matches the whole value with ? * [..] [!..]', () => {
    expect(m('httpd_t', 'httpd_t')).toBe(true);
    expect(m('httpd', 'httpd_t')).toBe(false);
    expect(m('httpd_*', 'httpd_sys_content_t')).toBe(true);
    expect(m('*_t', 'httpd_t')).toBe(true);
    expect(m('h?tpd_t', 'httpd_t')).toBe(true);
    expect(m('h?tpd_t', 'htpd_t')).toBe(false);
    expect(m('[a-h]ttpd_t', 'httpd_t')).toBe(true);
    expect(m('[!h]ttpd_t', 'httpd_t')).toBe(false);
    expect(m('[!h]ttpd_t', 'xttpd_t')).toBe(true);
  });

  it('is case-sensitive', () => {
    expect(m('HTTPD_T', 'httpd_t')).toBe(false);
    expect(m('httpd_t', 'HTTPD_T')).toBe(false);
  });

  it('treats ^ and $ as explicit whole-value anchors', () => {
    expect(m('^httpd_t$', 'httpd_t')).toBe(true);
    expect(m('^httpd', 'httpd_t')).toBe(false);
    expect(m('^httpd*', 'httpd_t')).toBe(true);
    expect(m('*_t$', 'httpd_t')).toBe(true);
    expect(m('\\^x', '^x')).toBe(true);
    expect(m('cost\\$', 'cost$')).toBe(true);
  });

  it('lets * and ? cross / like fnmatch without FNM_PATHNAME', () => {
    expect(m('/var/*', '/var/www/html/index.html')).toBe(true);
    expect(m('*.html', '/var/www/html/index.html')).toBe(true);
    expect(m('/var/www?html/*', '/var/www/html/x')).toBe(true);
    expect(m('/home/*/.ssh/*', '/home/alice/.ssh/authorized_keys')).toBe(true);
    expect(m('/etc/*', '/var/etc/x')).toBe(false);
  });

  it('keeps braces, extglobs and ! literal', () => {
    expect(m('a{b,c}', 'ab')).toBe(false);
    expect(m('a{b,c}', 'a{b,c}')).toBe(true);
    expect(m('+(a)', '+(a)')).toBe(true);
    expect(m('!httpd_t', 'sshd_t')).toBe(false);
  });

  it('handles empty values and lists', () => {
    expect(m('*', '')).toBe(true);
    expect(m('', '')).toBe(true);
    expect(m('?', '')).toBe(false);
    expect(compileGlobList(['sshd_t', 'httpd_*'])('httpd_t')).toBe(true);
    expect(compileGlobList([])('httpd_t')).toBe(false);
  });
});
