import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { formatPolicyInfo, policyInfo } from './info.ts';
import { queryRules } from './query.ts';
import { readPolicy } from './read-policy.ts';
import { DEBIAN_POLICY, debianPolicyBytes, runPolicyTests, runSeinfoTests } from './test-policy.ts';

describe.runIf(runPolicyTests)('readPolicy on the Debian reference policy', { timeout: 120_000 }, () => {
  const policy = readPolicy(debianPolicyBytes());

  it('is immutable', () => {
    expect(Object.isFrozen(policy)).toBe(true);
    expect(Object.isFrozen(policy.types)).toBe(true);
    expect(Object.isFrozen(policy.types[0])).toBe(true);
    expect(Object.isFrozen(policy.classes[0]?.constraints)).toBe(true);
    expect(() => {
      (policy.types as unknown as unknown[]).push(1);
    }).toThrow(TypeError);
  });

  it('reads the header and symbol values of the worked example (§24.6)', () => {
    expect(policy.version).toBe(33);
    expect(policy.mls).toBe(true);
    expect(policy.handleUnknown).toBe('allow');
    expect(policy.polcaps).toEqual([0, 1, 2, 4, 5]);
    expect(policy.userByName.get('system_u')).toBe(1);
    expect(policy.roleByName.get('system_r')).toBe(6);
    expect(policy.roleByName.get('object_r')).toBe(1);
    expect(policy.typeByName.get('httpd_t')).toBe(96);
    expect(policy.typeByName.get('user_home_t')).toBe(1402);
    expect(policy.sensByName.get('s0')).toBe(1);
    const file = policy.classes[(policy.classByName.get('file') as number) - 1];
    expect(file?.value).toBe(6);
    expect(file?.common?.name).toBe('file');
    expect(file?.nperms).toBe(27);
    expect(file?.common?.perms.get('read')).toBe(2);
    expect(policy.typeAttrs[96]?.length).toBe(8);
    const attrs = [...(policy.typeAttrs[1402] ?? [])].map((v) => policy.types[v - 1]?.name).sort();
    expect(attrs).toEqual(
      [
        'user_home_t',
        'file_type',
        'init_mountpoint_type',
        'mountpoint',
        'non_auth_file_type',
        'non_security_file_type',
        'polymember',
        'polyparent',
        'ubac_constrained_type',
        'user_home_content_type',
        'base_typeattr_23',
      ].sort(),
    );
    const b = policy.booleans[(policy.boolByName.get('httpd_read_user_content') as number) - 1];
    expect(b?.value).toBe(25);
    expect(b?.state).toBe(false);
  });

  it('holds the conditional entries of the worked example, and no unconditional ones', () => {
    const file = policy.classByName.get('file') as number;
    for (const i of policy.typeAttrs[96] ?? []) {
      for (const j of policy.typeAttrs[1402] ?? []) {
        const o = policy.teIndex.get(i, j, file);
        if (o >= 0) expect(policy.teVectors[o]).toBe(0);
      }
    }
    const g = policy.condIndex.get(96, 1402, file);
    expect(g).toBeGreaterThanOrEqual(0);
    const start = policy.condLists[g] as number;
    const end = policy.condLists[g + 1] as number;
    const entries = [];
    for (let k = start; k < end; k++) {
      const e = policy.condLists[k] as number;
      entries.push({
        node: policy.condEntryNode[e],
        branch: policy.condEntryBranch[e],
        data: policy.condAvtab.data[e],
      });
    }
    expect(entries).toEqual([
      { node: 305, branch: 1, data: 0x00040053 },
      { node: 305, branch: 1, data: 0x00000400 },
    ]);
  });

  it('reports the reference counts (§29)', () => {
    const info = policyInfo(policy);
    expect(info).toMatchObject({
      classes: 134,
      permissions: 425,
      types: 3936,
      attributes: 217,
      users: 7,
      roles: 15,
      booleans: 291,
      condExprs: 321,
      allow: 104302,
      auditallow: 21,
      dontaudit: 16813,
      typeTrans: 9245,
      typeChange: 123,
      typeMember: 16,
      roleTrans: 376,
      roleAllow: 32,
      constraints: 133,
      mlsConstrain: 110,
      rangeTrans: 14,
      initialSids: 27,
      fsUse: 29,
      portcon: 479,
      genfscon: 93,
    });
    expect(policy.types.reduce((n, t) => n + t.aliases.length, 0)).toBe(268);
  });

  it.runIf(runSeinfoTests)('prints exactly what seinfo prints', () => {
    const expected = execFileSync('seinfo', [DEBIAN_POLICY], { encoding: 'utf8' });
    expect(formatPolicyInfo(policyInfo(policy), DEBIAN_POLICY)).toBe(expected);
  });

  it('queries rules with indirect attribute matching, like sesearch -A', () => {
    const rules = queryRules(policy, { source: 'httpd_t', target: 'user_home_t', tclass: 'dir', kinds: ['allow'] });
    expect(rules.map((r) => r.text)).toEqual([
      'allow httpd_t user_home_t:dir { getattr open search }; [ httpd_read_user_content ]:True',
    ]);
    expect(rules[0]?.conditional?.enabled).toBe(false);
    const on = queryRules(policy, {
      source: 'httpd_t',
      target: 'user_home_t',
      tclass: 'dir',
      kinds: ['allow'],
      booleans: { httpd_read_user_content: true },
    });
    expect(on[0]?.conditional?.enabled).toBe(true);
  });
});
