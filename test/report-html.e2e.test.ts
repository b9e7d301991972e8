// The HTML report in a real headless Chromium (Debian `chromium`, driven by playwright-core):
// charts render, hostile audit fields show as text, no script runs. Needs no Kafka/ES.
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseAuditText } from '@avcstream/audit';
import { buildSummary, renderHtml } from '@avcstream/report';
import { generateAuditLog } from '@avcstream/report/testing';
import { type Browser, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const CHROMIUM = '/usr/bin/chromium';
const ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];
const ARTIFACTS = resolve(dirname(fileURLToPath(import.meta.url)), '..', 'test-artifacts');

const haveChromium = existsSync(CHROMIUM);
const inCi = process.env.CI !== undefined && process.env.CI !== '' && process.env.CI !== 'false';
if (!haveChromium && !inCi) {
  console.warn('[report-html e2e] /usr/bin/chromium not installed (apt-get install chromium): test skipped');
}

// Hostile values written into the log by the generator (hex-encoded where auditd would encode them).
const HOSTILE_TEXT = [
  '<script>window.__pwned=1</script>',
  '</td><script>window.__pwned=2</script>',
  '/tmp/x"><img src=x onerror="window.__pwned=3">',
];

/** Evaluates an expression in the page (a string, so this file needs no DOM typings). */
const inPage = <T>(p: Page, expression: string) => p.evaluate(expression) as Promise<T>;

describe.runIf(haveChromium || inCi)('HTML report in headless Chromium', () => {
  let browser: Browser;
  let page: Page;
  let html: string;
  let file: string;

  beforeAll(async () => {
    expect(existsSync(CHROMIUM), 'chromium must be installed under CI').toBe(true);
    const { text } = generateAuditLog({ seed: 42, events: 300, hostile: true });
    const parsed = parseAuditText(text);
    const summary = buildSummary(parsed.events, {
      malformed: parsed.errors.length,
      views: [
        {
          name: 'web server',
          description: '<b>httpd</b> denials',
          match: 'all',
          criteria: { sourceType: ['httpd_*'] },
        },
      ],
    });
    expect(summary.statistics.deniedMessages).toBeGreaterThan(0);
    html = renderHtml(summary, { title: 'avcstream e2e report', sources: ['generated seed 42'] });
    mkdirSync(ARTIFACTS, { recursive: true });
    file = join(ARTIFACTS, 'report.html');
    writeFileSync(file, html);
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ARGS, headless: true });
    page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    await page.goto(pathToFileURL(file).href, { waitUntil: 'load' });
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
  });

  it('runs no script: no script element, no injected global, no img', async () => {
    expect(await inPage(page, "document.querySelectorAll('script').length")).toBe(0);
    expect(await inPage(page, "document.querySelectorAll('img, iframe, object, embed').length")).toBe(0);
    expect(await inPage(page, 'typeof window.__pwned')).toBe('undefined');
  });

  it('shows every hostile field as text', async () => {
    const text = await inPage<string>(page, 'document.body.innerText');
    for (const h of HOSTILE_TEXT) expect(text).toContain(h);
    // The control and bidi characters of the hostile path are shown as visible escapes.
    expect(text).toContain('\\x1b[2J\\u202etxt.exe');
  });

  it('renders the three SVG charts with a nonzero size', async () => {
    for (const id of ['chart-timeline', 'chart-sources', 'chart-targets']) {
      const box = await page.locator(`svg#${id}`).boundingBox();
      expect(box, id).not.toBeNull();
      expect(box!.width).toBeGreaterThan(0);
      expect(box!.height).toBeGreaterThan(0);
    }
    const bars = page.locator('svg#chart-timeline rect.bar-denied');
    expect(await bars.count()).toBeGreaterThan(0);
    const bar = await bars.first().boundingBox();
    expect(bar!.width).toBeGreaterThan(0);
    expect(bar!.height).toBeGreaterThan(0);
    const ranked = page.locator('svg#chart-sources rect.bar');
    expect(await ranked.count()).toBeGreaterThan(0);
  });

  it('declares a CSP that Chromium enforces (an injected inline script is blocked)', async () => {
    const csp = await page.locator('meta[http-equiv="Content-Security-Policy"]').getAttribute('content');
    expect(csp).toBe("default-src 'none'; style-src 'unsafe-inline'; img-src data:");
    // Defence in depth: even if escaping failed, the page's own CSP stops inline script.
    const tampered = join(ARTIFACTS, 'report-tampered.html');
    writeFileSync(tampered, html.replace('<main>', '<main><script>window.__pwned=9</script>'));
    const other = await browser.newPage();
    await other.goto(pathToFileURL(tampered).href, { waitUntil: 'load' });
    expect(await inPage(other, "document.querySelectorAll('script').length")).toBe(1);
    expect(await inPage(other, 'typeof window.__pwned')).toBe('undefined');
    await other.close();
  });

  it('takes a screenshot into test-artifacts', async () => {
    const path = join(ARTIFACTS, 'report.png');
    const png = await page.screenshot({ path, fullPage: true });
    expect(png.length).toBeGreaterThan(10_000);
    expect(existsSync(path)).toBe(true);
  });
});
