// `avcstream policy info` statistics == `seinfo FILE`, on the Debian reference policy, the bundled
// sample policy and every fixture policy.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { formatPolicyInfo, policyInfo, readPolicy } from '@avcstream/selinux-policy';
import { describe, expect, it } from 'vitest';
import { DEBIAN_POLICY, FIXTURES_DIR, gate, ORACLE_DIR, run } from './env.ts';

const SAMPLE_POLICY = join(ORACLE_DIR, '..', '..', '..', 'services', 'cli', 'sample', 'policy', 'policy.33');

/** seinfo's statistics block as label -> value ("Allow" -> "104302", "Policy Version" -> "33 (MLS enabled)"). */
function parseStats(text: string): Map<string, string> {
  const m = new Map<string, string>();
  for (const line of text.split('\n')) {
    if (line.startsWith('Statistics for policy file:')) continue;
    const full = /^(Policy Version|Target Policy|Handle unknown classes):\s+(.+?)\s*$/.exec(line);
    if (full) {
      m.set(full[1] as string, full[2] as string);
      continue;
    }
    for (const pair of line.matchAll(/([A-Za-z_. ]+?):\s+(\d+)/g))
      m.set((pair[1] as string).trim(), pair[2] as string);
  }
  return m;
}

const policies = [
  DEBIAN_POLICY,
  SAMPLE_POLICY,
  ...readdirSync(FIXTURES_DIR, { withFileTypes: true })
    .filter((d) => d.isDirectory())
    .map((d) => join(FIXTURES_DIR, d.name, 'policy.33')),
];

const g = gate('policy info vs seinfo', ['seinfo', 'debian-policy']);
describe.runIf(g.run)('policy info == seinfo', () => {
  it('has seinfo and the Debian policy', () => expect(g.missing).toEqual([]));
  it.each(policies)(
    '%s',
    (path) => {
      const expected = parseStats(run('seinfo', [path]));
      expect(expected.size).toBeGreaterThanOrEqual(40);
      const ours = formatPolicyInfo(policyInfo(readPolicy(readFileSync(path))), path);
      expect(Object.fromEntries(parseStats(ours))).toEqual(Object.fromEntries(expected));
    },
    60_000,
  );
});
