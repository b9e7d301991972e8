import { describe, expect, it } from 'vitest';
import { ReportError } from './errors.ts';
import { compileView, parseViews, type ViewSubject } from './views.ts';

const subject: ViewSubject = {
  sourceUser: 'system_u',
  sourceRole: 'system_r',
  sourceType: 'httpd_t',
  sourceLevel: 's0',
  targetUser: 'unconfined_u',
  targetRole: 'object_r',
  targetType: 'user_home_t',
  targetLevel: 's0',
  class: 'file',
  perms: ['read', 'open'],
  exe: '/usr/sbin/httpd',
  comm: 'httpd',
  path: '/home/alice/public_html/index.html',
  host: 'web1',
  epoch: 1_700_000_000,
};

describe('parseViews', () => {
  it('reads YAML with single values or lists', () => {
    const views = parseViews(`
views:
  - name: web
    description: Web server denials
    criteria:
      sourceType: httpd_*
      perm: [read, write]
  - name: any-host
    match: any
    criteria: { host: ["web?", "db[0-9]"], since: "2023-11-14T00:00:00Z", until: 1700100000 }
`);
    expect(views).toEqual([
      {
        name: 'web',
        description: 'Web server denials',
        match: 'all',
        criteria: { sourceType: ['httpd_*'], perm: ['read', 'write'] },
      },
      {
        name: 'any-host',
        match: 'any',
        criteria: { host: ['web?', 'db[0-9]'], since: '2023-11-14T00:00:00Z', until: '1700100000' },
      },
    ]);
  });

  it('reads JSON (a bare list)', () => {
    expect(parseViews('[{"name":"all"}]')).toEqual([{ name: 'all', match: 'all', criteria: {} }]);
  });

  it('rejects unknown criteria, bad times and duplicates with a coded error', () => {
    const bad = [
      'views: [{ name: x, criteria: { colour: red } }]',
      'views: [{ name: x, criteria: { since: yesterday } }]',
      'views: [{ name: x }, { name: x }]',
      'views: [{ name: x, match: some }]',
      '{ not: [valid',
    ];
    for (const text of bad) {
      expect(() => parseViews(text)).toThrow(ReportError);
      try {
        parseViews(text);
      } catch (e) {
        expect((e as ReportError).code).toBe('AVC_ERR_REPORT_VIEWS');
      }
    }
  });
});

describe('parseViews errors', () => {
  const message = (text: string) => {
    try {
      parseViews(text);
    } catch (e) {
      return (e as Error).message;
    }
    throw new Error('parsed');
  };

  it('name where each problem is (path in the file) and what it is', () => {
    const m = message(`
views:
  - name: web
    criteria:
      sourceTyp: httpd_t
  - name: x
    match: some
    criteria: { perm: [1], since: yesterday-ish }
`);
    expect(m).not.toContain('Invalid input\n');
    expect(m).toContain('views[0].criteria: unknown key "sourceTyp" (known:');
    expect(m).toContain('sourceType');
    expect(m).toContain('views[1].match: expected one of "all", "any"');
    expect(m).toContain('views[1].criteria.perm: expected a glob or a list of globs (strings)');
    expect(m).toContain('views[1].criteria.since: expected epoch seconds or an ISO-8601 time');
  });

  it('in a bare list, and for the wrong top level', () => {
    expect(message('- name: 3')).toContain('[0].name: expected a string');
    expect(message('view: []')).toContain('(top level): unknown key "view" (known: views)');
    expect(message('just text')).toContain('(top level): expected { views: [...] } or a list of views');
    expect(message('views: [{ name: a }, { name: a }]')).toContain('views[1].name: duplicate view name "a"');
  });
});

describe('compileView', () => {
  it('matches all or any criteria', () => {
    const all = compileView({
      name: 'a',
      match: 'all',
      criteria: { sourceType: ['httpd_t'], targetType: ['*_home_t'], perm: ['op*'], path: ['/home/*'] },
    });
    expect(all(subject)).toBe(true);
    const allFails = compileView({
      name: 'b',
      match: 'all',
      criteria: { sourceType: ['httpd_t'], class: ['dir'] },
    });
    expect(allFails(subject)).toBe(false);
    const any = compileView({
      name: 'c',
      match: 'any',
      criteria: { sourceType: ['sshd_t'], class: ['file'] },
    });
    expect(any(subject)).toBe(true);
    const none = compileView({
      name: 'd',
      match: 'any',
      criteria: { sourceType: ['sshd_t'], host: ['db*'] },
    });
    expect(none(subject)).toBe(false);
  });

  it('does not match a missing field', () => {
    const v = compileView({ name: 'e', match: 'all', criteria: { exe: ['*'] } });
    expect(v({ ...subject, exe: null })).toBe(false);
    expect(v(subject)).toBe(true);
  });

  it('filters on an inclusive time range and levels', () => {
    const v = compileView({
      name: 'f',
      match: 'all',
      criteria: { since: '1700000000', until: '2023-11-14T22:13:20Z', sourceLevel: ['s0'] },
    });
    expect(v(subject)).toBe(true);
    expect(v({ ...subject, epoch: 1_699_999_999 })).toBe(false);
    expect(v({ ...subject, sourceLevel: 's0-s0:c0.c1023' })).toBe(false);
  });

  it('matches everything without criteria', () => {
    expect(compileView({ name: 'g', match: 'any', criteria: {} })(subject)).toBe(true);
  });
});
