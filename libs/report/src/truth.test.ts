// Statistics and listings against the known truth of generated logs, and against aureport on the same file.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createAuditDecoder, parseAuditText } from '@avcstream/audit';
import { afterAll, describe, expect, it } from 'vitest';
import { buildSummary, createSummaryBuilder } from './summary.ts';
import { type GeneratedTruth, generateAuditLog } from './testing/generate.ts';
import type { Summary } from './types.ts';

function summarize(text: string): Summary {
  const parsed = parseAuditText(text);
  return buildSummary(parsed.events, { malformed: parsed.errors.length, limits: { maxRows: 100_000 } });
}

function expectTruth(s: Summary, truth: GeneratedTruth): void {
  expect(s.statistics).toEqual(truth.statistics);
  expect(s.policyLoads).toEqual(truth.policyLoads);
  expect(s.enforcementToggles).toEqual(truth.enforcementToggles);
  expect(s.booleanChanges).toEqual(truth.booleanChanges);
  expect(s.allowListing.map((r) => ({ time: r.time, host: r.host, perms: r.perms }))).toEqual(
    truth.allowListing,
  );
  const groups = Object.fromEntries(
    s.denyListing.map((g) => [
      `${g.signature.sourceType}|${g.signature.targetType}|${g.signature.class}|${g.signature.perms.join(' ')}`,
      { count: g.count, hosts: [...g.hosts].sort(), firstSeen: g.firstSeen, lastSeen: g.lastSeen },
    ]),
  );
  const expected = Object.fromEntries(
    Object.entries(truth.denyGroups).map(([k, g]) => [k, { ...g, hosts: [...g.hosts].sort() }]),
  );
  expect(groups).toEqual(expected);
  expect(s.truncated).toEqual({
    policyLoads: 0,
    enforcementToggles: 0,
    booleanChanges: 0,
    allowListing: 0,
    denyListing: 0,
    configChanges: 0,
  });
}

describe('report truth on generated logs', () => {
  for (const seed of [1, 7, 42, 2024]) {
    it(`seed ${seed}: statistics and listings equal the generator's truth`, () => {
      const { text, truth } = generateAuditLog({ seed, events: 300, hostile: seed === 42 });
      expect(truth.statistics.deniedMessages).toBeGreaterThan(50);
      expect(truth.statistics.policyLoads + truth.statistics.booleanChanges).toBeGreaterThan(0);
      expectTruth(summarize(text), truth);
    });
  }

  it('records without node= count as one host, "localhost"', () => {
    const { text, truth } = generateAuditLog({ seed: 5, events: 150, hosts: [] });
    expect(truth.statistics.hosts).toBe(1);
    expectTruth(summarize(text), truth);
  });

  it('streaming in odd-sized chunks gives the same summary as one pass', () => {
    const { text, truth } = generateAuditLog({ seed: 11, events: 200 });
    const bytes = Buffer.from(text);
    const decoder = createAuditDecoder();
    const builder = createSummaryBuilder({ limits: { maxRows: 100_000 } });
    const take = (r: { events: Parameters<typeof builder.add>[0][]; errors: unknown[] }) => {
      for (const e of r.events) builder.add(e);
      builder.addMalformed(r.errors.length);
    };
    let size = 1;
    for (let at = 0; at < bytes.length; at += size, size = (size * 7 + 3) % 4093 || 1) {
      take(decoder.write(bytes.subarray(at, at + size)));
    }
    take(decoder.end());
    expectTruth(builder.build(), truth);
  });
});

// aureport (auditd package) counts on the same file, where its figures overlap ours:
// - `aureport --avc` lists one row per AVC and USER_AVC record = allowMessages + deniedMessages;
// - `aureport -ma` lists one row per event holding a MAC_POLICY_LOAD / MAC_STATUS / MAC_CONFIG_CHANGE record;
//   the generator writes one MAC record per event, so rows = policyLoads + enforcementToggles + booleanChanges;
// - the summary's "Number of AVC's" counts events holding a kernel AVC record (the generator's avcEvents).
const AUREPORT = '/usr/sbin/aureport';
const haveAureport = existsSync(AUREPORT);
const inCi = process.env.CI !== undefined && process.env.CI !== '' && process.env.CI !== 'false';
if (!haveAureport && !inCi) {
  console.warn('[report truth] aureport not installed (apt-get install auditd): aureport comparison skipped');
}

describe.runIf(haveAureport || inCi)('report figures equal aureport on the same file', () => {
  const dir = mkdtempSync(join(tmpdir(), 'avcstream-report-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const rows = (args: string[], file: string) =>
    execFileSync(AUREPORT, [...args, '-if', file], {
      encoding: 'utf8',
      env: { ...process.env, LC_ALL: 'C', TZ: 'UTC' },
    })
      .split('\n')
      .filter((l) => /^\d+\. /.test(l)).length;
  const summaryFigure = (label: string, file: string) => {
    const out = execFileSync(AUREPORT, ['-if', file], {
      encoding: 'utf8',
      env: { ...process.env, LC_ALL: 'C' },
    });
    const m = new RegExp(`^${label}: (\\d+)$`, 'm').exec(out);
    return m === null ? Number.NaN : Number(m[1]);
  };

  for (const seed of [3, 42]) {
    it(`seed ${seed}: AVC and MAC figures`, () => {
      expect(existsSync(AUREPORT), 'aureport must be installed under CI').toBe(true);
      const { text, truth } = generateAuditLog({ seed, events: 300, hostile: true });
      const file = join(dir, `gen-${seed}.log`);
      writeFileSync(file, text);
      const s = summarize(text).statistics;
      expect(rows(['--avc'], file)).toBe(s.allowMessages + s.deniedMessages);
      expect(rows(['-ma'], file)).toBe(s.policyLoads + s.enforcementToggles + s.booleanChanges);
      expect(summaryFigure('Number of MAC events', file)).toBe(truth.aureport.macEvents);
      expect(summaryFigure("Number of AVC's", file)).toBe(truth.aureport.avcEvents);
    });
  }
});
