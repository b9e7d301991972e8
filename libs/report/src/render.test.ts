import { describe, expect, it } from 'vitest';
import { escapeHtml, escapeText } from './escape.ts';
import { REPORT_CSP, renderHtml } from './render-html.ts';
import { parseSummaryJson, renderJson } from './render-json.ts';
import { renderText } from './render-text.ts';
import { buildSummary, createSummaryBuilder } from './summary.ts';
import { avcRecord, event, record } from './test-helpers.ts';

const T0 = 1_700_000_000;
// What the parser yields for comm=3C2F74643E (hex-encoded in the log).
const HEX_TD = Buffer.from('3C2F74643E', 'hex').toString('latin1');
const SCRIPT = '<script>window.__pwned=1</script>';
const PATH = '/tmp/"><img src=x onerror=alert(1)>\u001b[31m\n\u202eevil';

function hostileSummary() {
  return buildSummary(
    [
      event(
        T0,
        [avcRecord({ fields: { comm: SCRIPT, path: PATH } }), record('SYSCALL', { exe: HEX_TD })],
        'web<1>',
      ),
      event(T0 + 1, [avcRecord({ decision: 'granted', fields: { comm: HEX_TD, path: PATH } })], 'web1'),
      event(
        T0 + 2,
        [record('MAC_CONFIG_CHANGE', { bool: '<b>x</b>', val: '1', old_val: '0', auid: '"0"' })],
        'web1',
      ),
    ],
    {
      explain: () => ({
        verdict: 'TE_MISSING',
        booleans: [],
        fixes: [{ kind: 'allow', text: 'allow httpd_t user_home_t:file read; <script>', verified: false }],
      }),
      views: [{ name: '<i>view</i>', description: '</section><script>', match: 'all', criteria: {} }],
    },
  );
}

describe('escaping helpers', () => {
  it('escapes control and bidi characters in text, and doubles backslashes', () => {
    expect(escapeText('a\u001b[31mb\nc\u202ed\\x41')).toBe('a\\x1b[31mb\\x0ac\\u202ed\\\\x41');
    expect(escapeText('\u0085\u007f')).toBe('\\x85\\x7f');
  });

  it('escapes HTML metacharacters for text and attributes', () => {
    expect(escapeHtml(`<a href="x" onclick='y'>&\`=</a>`)).toBe(
      '&lt;a href&#61;&quot;x&quot; onclick&#61;&#39;y&#39;&gt;&amp;&#96;&#61;&lt;/a&gt;',
    );
  });
});

describe('HTML renderer', () => {
  const html = renderHtml(hostileSummary(), { title: 'Report <for> "ops"', sources: ['<in>.log'] });

  it('declares the strict CSP and contains no script element or handler', () => {
    expect(html).toContain(`<meta http-equiv="Content-Security-Policy" content="${REPORT_CSP}">`);
    expect(REPORT_CSP).toBe("default-src 'none'; style-src 'unsafe-inline'; img-src data:");
    expect(html.toLowerCase()).not.toContain('<script');
    expect(html).not.toMatch(/<img/i);
    expect(html).not.toContain('</td></td>');
    expect(html).not.toMatch(/\son\w+=/i);
  });

  it('shows hostile fields as escaped text', () => {
    expect(html).toContain('&lt;script&gt;window.__pwned&#61;1&lt;/script&gt;');
    expect(html).toContain('<code>&lt;/td&gt;</code>');
    expect(html).toContain(
      '/tmp/&quot;&gt;&lt;img src&#61;x onerror&#61;alert(1)&gt;\\x1b[31m\\x0a\\u202eevil',
    );
    expect(html).toContain('web&lt;1&gt;');
    expect(html).toContain('&lt;b&gt;x&lt;/b&gt;');
    expect(html).toContain('&lt;/section&gt;&lt;script&gt;');
    expect(html).toContain('<title>Report &lt;for&gt; &quot;ops&quot;</title>');
    expect(html).not.toMatch(/[\u0000-\u0008\u000b\u000c\u000e-\u001f\u202e]/);
  });

  it('has three inline SVG charts', () => {
    expect(html.match(/<svg /g)).toHaveLength(3);
    for (const id of ['chart-timeline', 'chart-sources', 'chart-targets'])
      expect(html).toContain(`id="${id}"`);
    expect(html).toContain('class="bar-denied"');
  });
});

describe('text renderer', () => {
  const text = renderText(hostileSummary(), { generatedAt: '2023-11-15T00:00:00.000Z' });

  it('has the seaudit-report sections', () => {
    for (const s of [
      'Statistics',
      'Policy Loads',
      'Enforcement Toggles',
      'Policy Booleans',
      'Allow Listing',
      'Deny Listing (grouped by signature)',
      'View: <i>view</i>',
    ]) {
      expect(text).toContain(`\n${s}\n`);
    }
    expect(text).toMatch(/Number of denied messages:\s+1\n/);
    expect(text).toContain('verdict:    TE_MISSING');
  });

  it('has no raw control or bidi characters from the log', () => {
    expect(text).not.toMatch(/[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u202e]/);
    expect(text).toContain('\\x1b[31m\\x0a\\u202eevil');
    expect(text).toContain('comm:       <script>window.__pwned=1</script>');
  });
});

describe('text renderer: the object', () => {
  it("says name: for a bare name (an AVC's name= alone), path: for a full path", () => {
    const summary = buildSummary([
      event(T0, [avcRecord({ fields: { name: 'index.html' } })], 'web1'),
      event(T0 + 1, [avcRecord({ perms: ['write'], fields: { path: '/var/www/html/a' } })], 'web1'),
    ]);
    const text = renderText(summary);
    expect(text).toContain('\n    name:       index.html\n');
    expect(text).not.toContain('path:       index.html');
    expect(text).toContain('\n    path:       /var/www/html/a\n');
  });
});

describe('JSON renderer', () => {
  it('reads a summary written before configChanges existed (older state dir) as none', () => {
    const old = JSON.parse(renderJson(hostileSummary()));
    delete old.configChanges;
    delete old.statistics.configChanges;
    delete old.truncated.configChanges;
    const back = parseSummaryJson(JSON.stringify(old));
    expect(back.configChanges).toEqual([]);
    expect(back.statistics.configChanges).toBe(0);
    expect(back.truncated.configChanges).toBe(0);
    expect(renderText(back)).toContain('Policy Configuration Changes');
  });

  it('round-trips through parseSummaryJson with the stable top level', () => {
    const s = hostileSummary();
    const json = renderJson(s);
    expect(Object.keys(JSON.parse(json))).toEqual([
      'statistics',
      'policyLoads',
      'enforcementToggles',
      'booleanChanges',
      'allowListing',
      'denyListing',
      'views',
      'truncated',
      'charts',
      'configChanges',
    ]);
    expect(json).not.toMatch(/[\u0000-\u001f](?<!\n)/);
    expect(json).not.toMatch(/[<>&\u2028\u2029]/);
    expect(json).toContain('\\u003cscript\\u003ewindow.__pwned=1\\u003c/script\\u003e');
    expect(parseSummaryJson(json)).toEqual(s);
  });

  it('rejects a summary of the wrong shape with a coded error', () => {
    expect(() => parseSummaryJson('{"statistics":{}}')).toThrow(/wrong shape/);
    expect(() => parseSummaryJson('nope')).toThrow(
      expect.objectContaining({ code: 'AVC_ERR_REPORT_SUMMARY' }),
    );
  });
});

describe('verdict breakdown', () => {
  // One signature whose records got different verdicts (a user constraint: the tcontext users differ).
  const verdictOf = (d: { tcontext: string }) => ({
    verdict: d.tcontext.startsWith('staff_u:') ? 'ALLOWED' : 'CONSTRAINT<x>',
    booleans: [],
    fixes: [{ kind: 'note', text: 'a constraint denies it', verified: false }],
  });
  const rec = (user: string) => avcRecord({ tcontext: `${user}:object_r:user_home_t:s0` });
  const mixed = buildSummary([event(T0, [rec('root'), rec('user_u')]), event(T0 + 1, [rec('staff_u')])], {
    explain: verdictOf,
  });
  const single = buildSummary([event(T0, [rec('root'), rec('user_u')])], { explain: verdictOf });

  it('text: every verdict with its count when the records differ, the one verdict otherwise', () => {
    const t = renderText(mixed);
    expect(t).toContain('    verdict:    CONSTRAINT<x> ×2, ALLOWED ×1\n');
    expect(t).toContain('the first record');
    expect(renderText(single)).toContain('    verdict:    CONSTRAINT<x>\n');
  });

  it('HTML: the same, escaped', () => {
    const html = renderHtml(mixed);
    expect(html).toContain(
      '<span class="verdict">CONSTRAINT&lt;x&gt;</span> ×2, <span class="verdict">ALLOWED</span> ×1',
    );
    expect(html).not.toContain('CONSTRAINT<x>');
    expect(renderHtml(single)).not.toContain('×');
  });

  it('JSON: explanation.verdict kept, the breakdown in verdicts; an older summary reads back with none', () => {
    const o = JSON.parse(renderJson(mixed));
    expect(o.denyListing[0].explanation.verdict).toBe('CONSTRAINT<x>');
    expect(o.denyListing[0].verdicts).toEqual([
      { verdict: 'CONSTRAINT<x>', count: 2 },
      { verdict: 'ALLOWED', count: 1 },
    ]);
    // Added after the other keys (then caution, added after it).
    expect(Object.keys(o.denyListing[0]).slice(-2)).toEqual(['verdicts', 'caution']);
    delete o.denyListing[0].verdicts;
    const back = parseSummaryJson(JSON.stringify(o));
    expect(back.denyListing[0]!.verdicts).toEqual([]);
    expect(renderText(back)).toContain('    verdict:    CONSTRAINT<x>\n');
  });
});

describe('caution (a fix would open an access that guards the system)', () => {
  const REASON = 'shadow_t holds authentication data (a file type outside non_auth_file_type)';
  const explainWith = (caution: string | undefined) => (d: { tcontext: string }) => ({
    verdict: 'TE_MISSING',
    booleans: [{ name: 'b<1>', current: false }],
    fixes: [{ kind: 'allow', text: `allow httpd_t ${d.tcontext.split(':')[2]}:file read;`, verified: true }],
    ...(caution === undefined || !d.tcontext.includes(':shadow_t:') ? {} : { caution }),
  });
  const shadow = avcRecord({ tcontext: 'system_u:object_r:shadow_t:s0' });
  const s = buildSummary([event(T0, [shadow]), event(T0 + 1, [avcRecord()])], {
    explain: explainWith(REASON),
  });
  // Quoted audit text can reach it (the explainer escapes it once); the renderers escape it for their medium.
  const hostile = buildSummary([event(T0, [shadow])], {
    explain: explainWith('<script>x</script>\u001b[31m\n\u202e'),
  });

  it('text: a caution: line after the verdict, before the booleans and the fix; none without', () => {
    const [withCaution, without] = renderText(s)
      .split('Deny Listing (grouped by signature)')[1]!
      .split('\n\n')
      .map((b) => b.split('\n'));
    const at = withCaution!.findIndex((l) => l.startsWith('    caution:    '));
    expect(at, withCaution!.join('\n')).toBeGreaterThan(0);
    expect(withCaution![at]).toContain(`    caution:    ${REASON}; `);
    expect(withCaution![at]).toContain('find out why httpd_t asked before applying a fix');
    expect(at).toBeGreaterThan(withCaution!.findIndex((l) => l.startsWith('    verdict:')));
    expect(at).toBeLessThan(withCaution!.findIndex((l) => l.startsWith('    boolean:')));
    expect(at).toBeLessThan(withCaution!.findIndex((l) => l.startsWith('    fix:')));
    expect(without!.join('\n')).toContain('user_home_t');
    expect(without!.join('\n')).not.toContain('caution');
    const t = renderText(hostile);
    expect(t).toContain('    caution:    <script>x</script>\\x1b[31m\\x0a\\u202e; ');
    expect(t).not.toMatch(/[\u0000-\u0008\u000b-\u001f\u202e]/);
  });

  it('HTML: the caution, escaped, in the verdict and fix cell before the fix; none without', () => {
    const html = renderHtml(s);
    const row = (target: string) => html.split('<tr>').find((r) => r.includes(`&rarr; ${target}:file`)) ?? '';
    const cell = row('shadow_t');
    expect(cell).toContain(`<div class="caution"><b>Caution:</b> ${escapeHtml(REASON)}; `);
    expect(cell.indexOf('class="caution"')).toBeGreaterThan(cell.indexOf('class="verdict"'));
    expect(cell.indexOf('class="caution"')).toBeLessThan(cell.indexOf('allow httpd_t shadow_t:file read;'));
    expect(row('user_home_t')).not.toContain('caution');
    const bad = renderHtml(hostile);
    expect(bad).toContain('<b>Caution:</b> &lt;script&gt;x&lt;/script&gt;\\x1b[31m\\x0a\\u202e; ');
    expect(bad.toLowerCase()).not.toContain('<script');
  });

  it('JSON: caution on the group (null without), the last key; an older summary reads back with null', () => {
    const o = JSON.parse(renderJson(s));
    const byTarget = new Map(
      o.denyListing.map((g: { signature: { targetType: string } }) => [g.signature.targetType, g]),
    );
    expect(byTarget.get('shadow_t')).toMatchObject({ caution: REASON });
    expect(byTarget.get('user_home_t')).toMatchObject({ caution: null });
    expect(Object.keys(o.denyListing[0]).at(-1)).toBe('caution');
    expect(parseSummaryJson(renderJson(s))).toEqual(s);
    for (const g of o.denyListing) delete g.caution;
    const back = parseSummaryJson(JSON.stringify(o));
    expect(back.denyListing.map((g) => g.caution)).toEqual([null, null]);
    expect(renderText(back)).not.toContain('caution');
  });
});

describe('malformed lines listing', () => {
  const s = createSummaryBuilder({ listMalformed: true, limits: { maxMalformedLines: 1 } });
  s.addMalformed(2, [
    { file: 'audit<1>.log', line: 7, text: 'bad \u001b[31m<script>alert(1)</script>\u202e' },
    { file: 'audit.log', line: 8, text: 'second' },
  ]);
  const summary = s.build();

  it('text: file, line and the escaped text, and how many were left out', () => {
    const t = renderText(summary);
    expect(t).toMatch(/Malformed Lines[\s\S]*audit<1>\.log:7: bad \\x1b\[31m<script>/);
    expect(t).not.toContain('\u001b');
    expect(t).not.toContain('\u202e');
    expect(t).toMatch(/1 more malformed lines? not listed/);
  });

  it('HTML: escaped, never markup', () => {
    const html = renderHtml(summary);
    expect(html).toContain('id="malformed-lines"');
    expect(html).not.toContain('<script>alert');
    expect(html).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
    expect(html).toContain('audit&lt;1&gt;.log');
  });

  it('JSON: a bounded array after the other keys, read back by parseSummaryJson', () => {
    const json = renderJson(summary);
    const o = JSON.parse(json);
    expect(Object.keys(o).at(-1)).toBe('malformedLines');
    expect(o.malformedLines).toEqual([
      { file: 'audit<1>.log', line: 7, text: 'bad \u001b[31m<script>alert(1)</script>\u202e', cut: false },
    ]);
    expect(o.truncated.malformedLines).toBe(1);
    expect(parseSummaryJson(json).malformedLines).toHaveLength(1);
    expect(Object.keys(JSON.parse(renderJson(buildSummary([]))))).not.toContain('malformedLines');
  });

  it('says how many counted malformed lines are AVC records that cannot be listed', () => {
    const b = createSummaryBuilder({ listMalformed: true });
    b.addMalformed(3, [{ file: 'a.log', line: 1, text: 'x' }]);
    const s = b.build();
    expect(renderText(s)).toContain(
      '(2 more malformed lines counted above are AVC records whose body did not parse: not listed)',
    );
    expect(renderHtml(s)).toContain(
      '2 more malformed lines counted above are AVC records whose body did not parse: not listed.',
    );
  });
});
