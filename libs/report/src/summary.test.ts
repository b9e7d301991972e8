import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseAuditText } from '@avcstream/audit';
import { describe, expect, it } from 'vitest';
import { renderText } from './render-text.ts';
import { buildSummary, createSummaryBuilder } from './summary.ts';
import { avcRecord, event, record } from './test-helpers.ts';
import type { DenialInput, ExplanationLike } from './types.ts';

const T0 = 1_700_000_000;

describe('statistics', () => {
  it('counts SELinux records by type and ignores the rest', () => {
    const events = [
      event(T0, [avcRecord(), record('SYSCALL', { exe: '/usr/sbin/httpd', comm: 'httpd' })], 'web1', 1),
      event(T0 + 1, [avcRecord({ decision: 'granted', perms: ['setenforce'] })], 'web1', 2),
      event(T0 + 2, [avcRecord({ type: 'USER_AVC' })], 'db1', 3),
      event(T0 + 3, [record('MAC_POLICY_LOAD', { auid: '0' }), record('SYSCALL')], 'db1', 4),
      event(T0 + 4, [record('MAC_STATUS', { enforcing: '0', old_enforcing: '1', auid: '1000' })], null, 5),
      event(
        T0 + 5,
        [record('MAC_CONFIG_CHANGE', { bool: 'httpd_can_network_connect', val: '1', old_val: '0' })],
        'db1',
        6,
      ),
      event(T0 + 6, [record('SELINUX_ERR', { op: 'security_compute_sid' })], 'db1', 7),
      event(T0 + 7, [record('USER_SELINUX_ERR'), record('MAC_UNLBL_ALLOW')], 'db1', 8),
      event(T0 + 8, [record('SYSCALL'), record('EXECVE'), record('USER_LOGIN')], 'other', 9),
      event(T0 + 9, [record('USER_AVC', { msg: 'avc:  received policyload notice (seqno=2)' })], 'db1', 10),
    ];
    const s = buildSummary(events, { malformed: 3 });
    expect(s.statistics).toEqual({
      totalMessages: 10,
      policyLoads: 1,
      enforcementToggles: 1,
      booleanChanges: 1,
      allowMessages: 1,
      deniedMessages: 2,
      hosts: 3,
      malformed: 3,
      firstEvent: new Date(T0 * 1000).toISOString(),
      lastEvent: new Date((T0 + 9) * 1000).toISOString(),
      configChanges: 0,
      malformedUnfiltered: 0,
    });
    expect(s.policyLoads).toEqual([
      {
        time: new Date((T0 + 3) * 1000).toISOString(),
        host: 'db1',
        auid: '0',
        type: 'MAC_POLICY_LOAD',
        exe: null,
      },
    ]);
    expect(s.enforcementToggles).toEqual([
      { time: new Date((T0 + 4) * 1000).toISOString(), host: 'localhost', old: 1, new: 0, auid: '1000' },
    ]);
    expect(s.booleanChanges).toEqual([
      {
        time: new Date((T0 + 5) * 1000).toISOString(),
        host: 'db1',
        boolean: 'httpd_can_network_connect',
        old: 0,
        new: 1,
        auid: null,
      },
    ]);
    expect(s.allowListing).toHaveLength(1);
    expect(s.allowListing[0]).toMatchObject({
      host: 'web1',
      perms: ['setenforce'],
      serial: 2,
      comm: 'httpd',
    });
  });

  it('counts an AVC whose body did not parse as malformed and ignores AppArmor AVC records', () => {
    const s = buildSummary(
      [
        event(
          T0,
          [record('AVC', { seresult: 'denied', seperms: 'read', comm: 'httpd', name: 'robots.t' })],
          'a',
        ),
        event(T0 + 1, [record('AVC', { apparmor: 'DENIED', operation: 'open', profile: 'x' })], 'b'),
        event(T0 + 2, [avcRecord()], 'a'),
      ],
      { malformed: 1 },
    );
    expect(s.statistics).toMatchObject({ totalMessages: 1, deniedMessages: 1, malformed: 2, hosts: 1 });
  });

  it('an AppArmor record is one with apparmor= and no SELinux decision: a decision with apparmor= still counts', () => {
    // The same rule as avcstream parse --selinux-only and run (isAppArmorAvc): an SELinux decision, parsed or
    // cut off, is never hidden by an apparmor= key; AppArmor USER_AVC records (dbus) are ignored too.
    const s = buildSummary([
      event(T0, [avcRecord({ fields: { apparmor: 'DENIED' } })], 'a', 1),
      event(T0 + 1, [record('AVC', { seresult: 'denied', seperms: 'read', apparmor: 'DENIED' })], 'a', 2),
      event(T0 + 2, [record('USER_AVC', { apparmor: 'DENIED', operation: 'dbus_method_call' })], 'b', 3),
      event(T0 + 3, [record('AVC', { apparmor: 'STATUS', operation: 'profile_load' })], 'b', 4),
    ]);
    expect(s.statistics).toMatchObject({ totalMessages: 1, deniedMessages: 1, malformed: 1, hosts: 1 });
  });

  it('shows an unset auid (4294967295 or -1) as unset, as aureport -i does', () => {
    const s = buildSummary([
      event(T0, [record('MAC_POLICY_LOAD', { auid: '4294967295' })], 'h', 1),
      event(T0 + 1, [record('MAC_STATUS', { enforcing: '1', old_enforcing: '0', auid: '-1' })], 'h', 2),
      event(
        T0 + 2,
        [record('MAC_CONFIG_CHANGE', { bool: 'b', val: '1', old_val: '0', auid: '1000' })],
        'h',
        3,
      ),
    ]);
    expect(s.policyLoads.map((r) => r.auid)).toEqual(['unset']);
    expect(s.enforcementToggles.map((r) => r.auid)).toEqual(['unset']);
    expect(s.booleanChanges.map((r) => r.auid)).toEqual(['1000']);
  });

  it('has a stable top-level key order', () => {
    const s = buildSummary([]);
    expect(Object.keys(s)).toEqual([
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
    expect(s.statistics.firstEvent).toBeNull();
    expect(s.charts.timeline.buckets).toEqual([]);
  });

  it('counts each AVC record of a multi-AVC event', () => {
    const s = buildSummary([event(T0, [avcRecord(), avcRecord({ perms: ['open'] }), record('SYSCALL')])]);
    expect(s.statistics.deniedMessages).toBe(2);
    expect(s.denyListing).toHaveLength(2);
  });

  it('applies since/until and host filters before counting', () => {
    const events = [
      event(T0, [avcRecord()], 'a'),
      event(T0 + 10, [avcRecord()], 'b'),
      event(T0 + 20, [avcRecord()], 'a'),
      event(T0 + 30, [avcRecord()], 'a'),
    ];
    const s = buildSummary(events, { since: T0 + 10, until: T0 + 20, hosts: ['a'] });
    expect(s.statistics.deniedMessages).toBe(1);
    expect(s.statistics.hosts).toBe(1);
    expect(s.statistics.firstEvent).toBe(new Date((T0 + 20) * 1000).toISOString());
  });
});

describe('deny listing', () => {
  it('groups by (source type, target type, class, perm set) and keeps samples', () => {
    const events = [
      event(
        T0 + 5,
        [
          avcRecord({ perms: ['write', 'read'], fields: { comm: 'httpd', name: 'index.html' } }),
          record('SYSCALL', { exe: '/usr/sbin/httpd' }),
          record('PATH', { name: '/var/www/html/index.html' }),
        ],
        'web1',
      ),
      event(
        T0,
        [avcRecord({ perms: ['read', 'write'], scontext: 'system_u:system_r:httpd_t:s0-s0:c0.c1023' })],
        'web2',
      ),
      event(T0 + 9, [avcRecord({ perms: ['read'], permissive: true })], 'web1'),
      event(T0 + 9, [avcRecord({ tclass: 'dir', perms: ['search'] })], 'web1'),
    ];
    const s = buildSummary(events);
    expect(s.denyListing.map((g) => [g.signature.class, g.signature.perms, g.count])).toEqual([
      ['file', ['read', 'write'], 2],
      ['file', ['read'], 1],
      ['dir', ['search'], 1],
    ]);
    const g = s.denyListing[0]!;
    expect(g.hosts).toEqual(['web1', 'web2']);
    expect(g.firstSeen).toBe(new Date(T0 * 1000).toISOString());
    expect(g.lastSeen).toBe(new Date((T0 + 5) * 1000).toISOString());
    expect(g.scontexts).toEqual(['system_u:system_r:httpd_t:s0', 'system_u:system_r:httpd_t:s0-s0:c0.c1023']);
    expect(g.exes).toEqual(['/usr/sbin/httpd']);
    expect(g.pathSample).toBe('/var/www/html/index.html');
    expect(g.permissive).toBe(false);
    expect(s.denyListing[1]!.permissive).toBe(true);
    const created = buildSummary([
      event(T0, [
        avcRecord({ fields: { name: 'ntp.drift' } }),
        record('PATH', { item: '0', name: '/var/lib/ntp/', nametype: 'PARENT' }),
        record('PATH', { item: '1', name: 'ntp.drift', nametype: 'CREATE' }),
      ]),
    ]);
    expect(created.denyListing[0]!.pathSample).toBe('/var/lib/ntp/ntp.drift');
    // A name relative to the working directory (chcon notes.txt in /home/carol): the full path, as the alert.
    const relative = buildSummary([
      event(T0, [
        record('SYSCALL', { comm: 'chcon', exe: '/usr/bin/chcon' }),
        avcRecord({ fields: { name: 'notes.txt' } }),
        record('CWD', { cwd: '/home/carol' }),
        record('PATH', { item: '0', name: 'notes.txt', nametype: 'NORMAL' }),
      ]),
    ]);
    expect(relative.denyListing[0]!.pathSample).toBe('/home/carol/notes.txt');
    // Only the AVC's name=: kept as written (which directory holds it is unknown).
    const bare = buildSummary([
      event(T0, [avcRecord({ fields: { name: 'robots.txt' } }), record('CWD', { cwd: '/' })]),
    ]);
    expect(bare.denyListing[0]!.pathSample).toBe('robots.txt');
    expect(s.charts.topSourceTypes).toEqual([{ name: 'httpd_t', count: 4 }]);
    expect(s.charts.topTargetTypes).toEqual([{ name: 'user_home_t', count: 4 }]);
  });

  it('asks the explainer for each denied record and attaches the first verdict and fix', () => {
    const asked: DenialInput[] = [];
    const explain = (d: DenialInput): ExplanationLike => {
      asked.push(d);
      return {
        verdict: 'BOOLEAN',
        booleans: [
          { name: 'httpd_read_user_content', current: false, blastRadius: { rules: 12, triples: 40 } },
        ],
        fixes: [{ kind: 'setsebool', text: 'setsebool -P httpd_read_user_content 1', verified: true }],
      };
    };
    const b = createSummaryBuilder();
    b.add(event(T0, [avcRecord()]), explain);
    b.add(event(T0 + 1, [avcRecord({ fields: { path: '/home/alice/public_html' } })]), explain);
    b.add(event(T0 + 2, [avcRecord({ decision: 'granted' })]), explain);
    const denial = {
      scontext: 'system_u:system_r:httpd_t:s0',
      tcontext: 'unconfined_u:object_r:user_home_t:s0',
      tclass: 'file',
      perms: ['read'],
      permissive: false,
      // The record has no ioctlcmd= (an ioctl denial's command is checked against allowxperm rules).
      ioctlcmd: null,
      port: null,
      // The object's path, when the event names it (for a file_contexts lookup: restorecon advice).
      path: null,
    };
    // Each denied record (its verdict is counted), never a granted one.
    expect(asked).toEqual([denial, { ...denial, path: '/home/alice/public_html' }]);
    const s = b.build();
    expect(s.denyListing[0]!.explanation).toEqual({
      verdict: 'BOOLEAN',
      booleans: [
        { name: 'httpd_read_user_content', current: false, blastRadius: { rules: 12, triples: 40 } },
      ],
      fixes: [{ kind: 'setsebool', text: 'setsebool -P httpd_read_user_content 1', verified: true }],
    });
  });

  it('takes the verdict from a later message when the first one of the group has none', () => {
    // report --es: each document carries its own decision; the first may have none (policy not available).
    const answers: Array<ExplanationLike | null> = [
      null,
      { verdict: 'TE_MISSING', booleans: [], fixes: [] },
      { verdict: 'BOOLEAN', booleans: [], fixes: [] },
    ];
    const b = createSummaryBuilder();
    for (const [i, answer] of answers.entries()) b.add(event(T0 + i, [avcRecord()]), () => answer);
    const s = b.build();
    expect(s.denyListing[0]!.count).toBe(3);
    // The first verdict found is kept: later documents do not overwrite it.
    expect(s.denyListing[0]!.explanation).toEqual({ verdict: 'TE_MISSING', booleans: [], fixes: [] });
  });

  it('counts the verdict of every record: one signature can hide records with other verdicts', () => {
    // selinux-sepolgen/httpd.log: staff_t -> user_home_t:file { read } with three tcontext users; a user
    // constraint denies the records of two of them, the third is allowed by the policy.
    const verdictOf = (d: DenialInput): ExplanationLike => ({
      verdict: d.tcontext.startsWith('staff_u:') ? 'ALLOWED' : 'CONSTRAINT',
      booleans: [],
      fixes: [],
    });
    const rec = (user: string) =>
      avcRecord({ scontext: 'staff_u:staff_r:staff_t:s0', tcontext: `${user}:object_r:user_home_t:s0` });
    const b = createSummaryBuilder();
    b.add(event(T0, [rec('root')]), verdictOf);
    b.add(event(T0 + 1, [rec('staff_u')]), verdictOf);
    b.add(event(T0 + 2, [rec('user_u'), rec('root')]), verdictOf);
    b.add(event(T0 + 3, [avcRecord({ tcontext: 'system_u:object_r:etc_t:s0' })]), () => null);
    const [mixed, unknown] = b.build().denyListing;
    expect(mixed!.count).toBe(4);
    // The existing field keeps the first record's verdict; the breakdown has every record's, most first.
    expect(mixed!.explanation?.verdict).toBe('CONSTRAINT');
    expect(mixed!.verdicts).toEqual([
      { verdict: 'CONSTRAINT', count: 3 },
      { verdict: 'ALLOWED', count: 1 },
    ]);
    expect(unknown!.explanation).toBeNull();
    expect(unknown!.verdicts).toEqual([]);
  });

  it('survives an explainer that throws', () => {
    const s = buildSummary([event(T0, [avcRecord()])], {
      explain: () => {
        throw new Error('boom');
      },
    });
    expect(s.denyListing[0]!.explanation).toBeNull();
  });
});

describe('listing order', () => {
  /** One of each listed record type at `epoch`. */
  const at = (epoch: number, serial: number) => [
    event(epoch, [record('MAC_POLICY_LOAD', { auid: String(serial) })], 'h', serial),
    event(epoch, [record('MAC_STATUS', { enforcing: '1', old_enforcing: '0' })], 'h', serial),
    event(epoch, [record('MAC_CONFIG_CHANGE', { bool: `b${serial}`, val: '1', old_val: '0' })], 'h', serial),
    event(epoch, [avcRecord({ decision: 'granted', perms: ['setenforce'] })], 'h', serial),
  ];

  it('lists rows by time whatever the input order (rotated logs given newest first: audit.log audit.log.1)', () => {
    const newer = [5, 6, 7].flatMap((i) => at(T0 + i, i));
    const older = [1, 2, 3].flatMap((i) => at(T0 + i, i));
    const s = buildSummary([...newer, ...older]);
    const times = [1, 2, 3, 5, 6, 7].map((i) => new Date((T0 + i) * 1000).toISOString());
    expect(s.policyLoads.map((r) => r.time)).toEqual(times);
    expect(s.enforcementToggles.map((r) => r.time)).toEqual(times);
    expect(s.booleanChanges.map((r) => r.time)).toEqual(times);
    expect(s.allowListing.map((r) => r.time)).toEqual(times);
  });

  it('keeps rows of one time in input order', () => {
    const s = buildSummary([
      event(T0, [record('MAC_POLICY_LOAD', { auid: 'a' })], 'h', 1),
      event(T0, [record('MAC_POLICY_LOAD', { auid: 'b' })], 'h', 2),
    ]);
    expect(s.policyLoads.map((r) => r.auid)).toEqual(['a', 'b']);
  });

  it('keeps the earliest maxRows rows of each listing when it truncates', () => {
    const b = createSummaryBuilder({ limits: { maxRows: 2 } });
    for (const i of [5, 4, 3, 2, 1, 0]) for (const e of at(T0 + i, i)) b.add(e);
    const s = b.build();
    const times = [0, 1].map((i) => new Date((T0 + i) * 1000).toISOString());
    expect(s.policyLoads.map((r) => r.time)).toEqual(times);
    expect(s.enforcementToggles.map((r) => r.time)).toEqual(times);
    expect(s.booleanChanges.map((r) => r.time)).toEqual(times);
    expect(s.allowListing.map((r) => r.time)).toEqual(times);
    expect(s.truncated).toMatchObject({
      policyLoads: 4,
      enforcementToggles: 4,
      booleanChanges: 4,
      allowListing: 4,
    });
  });
});

describe('bounded memory', () => {
  it('caps signatures, rows and samples and counts the overflow', () => {
    const b = createSummaryBuilder({ limits: { maxSignatures: 3, maxRows: 2, maxSamples: 1 } });
    for (let i = 0; i < 10; i++) {
      b.add(event(T0 + i, [avcRecord({ tclass: `class${i % 5}` })], `host${i}`));
      b.add(event(T0 + i, [avcRecord({ decision: 'granted' })]));
      b.add(event(T0 + i, [record('MAC_POLICY_LOAD')]));
    }
    const s = b.build();
    expect(s.statistics.deniedMessages).toBe(10);
    expect(s.denyListing).toHaveLength(3);
    expect(s.denyListing.reduce((n, g) => n + g.count, 0)).toBe(6);
    expect(s.truncated).toEqual({
      policyLoads: 8,
      enforcementToggles: 0,
      booleanChanges: 0,
      allowListing: 8,
      denyListing: 4,
      configChanges: 0,
    });
    expect(s.policyLoads).toHaveLength(2);
    expect(s.allowListing).toHaveLength(2);
    for (const g of s.denyListing) expect(g.hosts).toHaveLength(1);
    expect(s.denyListing.map((g) => g.samplesDropped)).toEqual([1, 1, 1]);
  });

  it('coarsens the timeline so it never exceeds maxBuckets, keeping every count', () => {
    const b = createSummaryBuilder({ limits: { maxBuckets: 10 } });
    const day = 86_400;
    for (let i = 0; i < 100; i++) b.add(event(T0 + i * (day / 10), [avcRecord()]));
    const s = b.build();
    const t = s.charts.timeline;
    expect(t.buckets.length).toBeLessThanOrEqual(10);
    expect(t.buckets.reduce((n, x) => n + x.denied, 0)).toBe(100);
    expect(t.bucketSeconds).toBeGreaterThanOrEqual((99 * day) / 10 / 10);
  });

  it('build() is a snapshot; the builder keeps counting', () => {
    const b = createSummaryBuilder();
    b.add(event(T0, [avcRecord()]));
    const first = b.build();
    first.denyListing[0]!.hosts.push('mutated');
    b.add(event(T0 + 1, [avcRecord()]));
    const second = b.build();
    expect(first.statistics.deniedMessages).toBe(1);
    expect(second.statistics.deniedMessages).toBe(2);
    expect(second.denyListing[0]!.hosts).toEqual(['localhost']);
  });
});

describe('caution (the explainer says a fix would open an access that guards the system)', () => {
  const SHADOW = 'shadow_t holds authentication data (a file type outside non_auth_file_type)';
  const shadow = (serial: number) =>
    avcRecord({ tcontext: 'system_u:object_r:shadow_t:s0', fields: { comm: `c${serial}` } });
  const explain = (d: DenialInput): ExplanationLike => ({
    verdict: 'TE_MISSING',
    booleans: [],
    fixes: [{ kind: 'allow', text: `allow httpd_t ${d.tcontext.split(':')[2]}:file read;`, verified: true }],
    ...(d.tcontext.includes(':shadow_t:') ? { caution: SHADOW } : {}),
  });

  it("is the group's caution, null for a group whose explanations have none or without an explainer", () => {
    const events = [event(T0, [shadow(1)]), event(T0 + 1, [avcRecord()]), event(T0 + 2, [shadow(2)])];
    const s = buildSummary(events, { explain });
    const byTarget = new Map(s.denyListing.map((g) => [g.signature.targetType, g]));
    expect(byTarget.get('shadow_t')!.caution).toBe(SHADOW);
    expect(byTarget.get('user_home_t')!.caution).toBeNull();
    expect(buildSummary(events).denyListing.map((g) => g.caution)).toEqual([null, null]);
  });

  it("is kept from a later record when the group's first one had none (the warning is not dropped)", () => {
    const answers: Array<ExplanationLike | null> = [
      null,
      { verdict: 'ALLOWED', booleans: [], fixes: [] },
      { verdict: 'TE_MISSING', booleans: [], fixes: [], caution: SHADOW },
      { verdict: 'TE_MISSING', booleans: [], fixes: [], caution: 'another reason' },
    ];
    const b = createSummaryBuilder();
    for (const [i, answer] of answers.entries()) b.add(event(T0 + i, [shadow(i)]), () => answer);
    const [g] = b.build().denyListing;
    expect(g!.explanation?.verdict).toBe('ALLOWED');
    expect(g!.caution).toBe(SHADOW);
  });

  it("is in the groups of a view, and a view group explained by no one shares the deny listing's", () => {
    const views = [{ name: 'all', match: 'all' as const, criteria: {} }];
    const s = buildSummary([event(T0, [shadow(1)])], { explain, views });
    expect(s.views[0]!.groups[0]!.caution).toBe(SHADOW);
    // report --es: a document may have no stored decision (no policy then); a view of only such records.
    const b = createSummaryBuilder({ views: [{ name: 'db', match: 'all', criteria: { host: ['db1'] } }] });
    b.add(event(T0, [shadow(1)], 'web1'), explain);
    b.add(event(T0 + 1, [shadow(2)], 'db1'), () => null);
    const view = b.build().views[0]!.groups[0]!;
    expect(view.explanation?.verdict).toBe('TE_MISSING');
    expect(view.caution).toBe(SHADOW);
  });
});

describe('views', () => {
  it('groups the matching messages of each view and shares explanations', () => {
    const events = [
      event(T0, [avcRecord({ fields: { comm: 'httpd', exe: '/usr/sbin/httpd' } })], 'web1'),
      event(
        T0 + 1,
        [avcRecord({ scontext: 'system_u:system_r:sshd_t:s0', fields: { comm: 'sshd' } })],
        'web1',
      ),
      event(T0 + 2, [avcRecord({ decision: 'granted', perms: ['setenforce'], tclass: 'security' })], 'db1'),
    ];
    const s = buildSummary(events, {
      explain: () => ({ verdict: 'TE_MISSING', booleans: [], fixes: [] }),
      views: [
        { name: 'web', match: 'all', criteria: { sourceType: ['httpd_*'], exe: ['/usr/sbin/*'] } },
        { name: 'db-or-sshd', match: 'any', criteria: { host: ['db?'], comm: ['ssh[a-z]'] } },
        { name: 'late', match: 'all', criteria: { since: String(T0 + 1) } },
      ],
    });
    const [web, dbOrSshd, late] = s.views;
    expect(web).toMatchObject({ name: 'web', count: 1, denied: 1, granted: 0 });
    expect(web!.groups[0]!.explanation?.verdict).toBe('TE_MISSING');
    expect(web!.groups[0]!.verdicts).toEqual([{ verdict: 'TE_MISSING', count: 1 }]);
    expect(dbOrSshd).toMatchObject({ count: 2, denied: 1, granted: 1 });
    expect(dbOrSshd!.groups.find((g) => g.decision === 'granted')!.verdicts).toEqual([]);
    expect(late).toMatchObject({ count: 2 });
  });

  it('counts the verdicts of its own records, and explains with its own first record', () => {
    const verdictOf = (d: DenialInput): ExplanationLike => ({
      verdict: d.tcontext.startsWith('staff_u:') ? 'ALLOWED' : 'CONSTRAINT',
      booleans: [],
      fixes: [],
    });
    const rec = (user: string) => avcRecord({ tcontext: `${user}:object_r:user_home_t:s0` });
    const s = buildSummary(
      [event(T0, [rec('root')]), event(T0 + 1, [rec('staff_u')]), event(T0 + 2, [rec('staff_u')])],
      { explain: verdictOf, views: [{ name: 'staff', match: 'all', criteria: { targetUser: ['staff_u'] } }] },
    );
    expect(s.denyListing[0]!.verdicts).toEqual([
      { verdict: 'ALLOWED', count: 2 },
      { verdict: 'CONSTRAINT', count: 1 },
    ]);
    expect(s.views[0]!.groups[0]!.explanation?.verdict).toBe('ALLOWED');
    expect(s.views[0]!.groups[0]!.verdicts).toEqual([{ verdict: 'ALLOWED', count: 2 }]);
  });
});

describe('userspace MAC configuration changes (semanage)', () => {
  // One event per change, so aureport's rows (events) and our counts (records) are comparable.
  const LOG = [
    'type=MAC_CONFIG_CHANGE msg=audit(1763900000.100:700): bool=httpd_can_network_connect val=1 old_val=0 auid=1000 ses=2',
    'type=SYSCALL msg=audit(1763900000.100:700): arch=c000003e syscall=1 success=yes exit=2 a0=3 a1=7ffd a2=2 a3=0 items=0 ppid=1 pid=5 auid=1000 uid=0 gid=0 euid=0 suid=0 fsuid=0 egid=0 sgid=0 fsgid=0 tty=pts0 ses=2 comm="setsebool" exe="/usr/sbin/setsebool" subj=unconfined_u:unconfined_r:unconfined_t:s0 key=(null)',
    'type=MAC_STATUS msg=audit(1763900010.000:701): enforcing=0 old_enforcing=1 auid=1000 ses=2 enabled=1 old-enabled=1 lsm=selinux res=1',
    `type=USER_MAC_CONFIG_CHANGE msg=audit(1763900020.000:702): pid=7 uid=0 auid=1000 ses=2 subj=unconfined_u:unconfined_r:unconfined_t:s0 msg='resrc=boolean op=modify name=httpd_can_network_connect val=1 exe="/usr/sbin/semanage" hostname=? addr=? terminal=pts/0 res=success'`,
    `type=USER_MAC_CONFIG_CHANGE msg=audit(1763900025.000:704): pid=9 uid=0 auid=4294967295 ses=2 subj=unconfined_u:unconfined_r:unconfined_t:s0 msg='resrc=port op=add lport=8888 proto=6 tgtcontext=system_u:object_r:http_port_t:s0 exe="/usr/sbin/semanage" hostname=? addr=? terminal=pts/0 res=success'`,
    'type=MAC_POLICY_LOAD msg=audit(1763900030.000:703): auid=1000 ses=2 lsm=selinux res=1',
    '',
  ].join('\n');

  it('counts and lists USER_MAC_CONFIG_CHANGE records, as aureport -ma does', () => {
    const parsed = parseAuditText(LOG);
    const s = buildSummary(parsed.events);
    expect(s.statistics).toMatchObject({ totalMessages: 5, configChanges: 2, booleanChanges: 1 });
    expect(s.configChanges).toEqual([
      {
        time: '2025-11-23T12:13:40.000Z',
        host: 'localhost',
        resource: 'boolean',
        op: 'modify',
        name: 'httpd_can_network_connect',
        value: '1',
        exe: '/usr/sbin/semanage',
        result: 'success',
        auid: '1000',
      },
      {
        time: '2025-11-23T12:13:45.000Z',
        host: 'localhost',
        resource: 'port',
        op: 'add',
        name: null,
        value: null,
        exe: '/usr/sbin/semanage',
        result: 'success',
        auid: 'unset',
      },
    ]);
    expect(s.truncated.configChanges).toBe(0);
    expect(renderText(s)).toMatch(
      /Policy Configuration Changes[\s\S]*boolean +modify +httpd_can_network_connect/,
    );
    const st = s.statistics;
    const macRows = st.policyLoads + st.enforcementToggles + st.booleanChanges + st.configChanges;
    expect(macRows).toBe(5);
    if (existsSync('/usr/sbin/aureport')) {
      const dir = mkdtempSync(join(tmpdir(), 'avc-report-mac-'));
      try {
        writeFileSync(join(dir, 'audit.log'), LOG);
        const out = execFileSync('/usr/sbin/aureport', ['-ma', '-if', join(dir, 'audit.log')], {
          encoding: 'utf8',
        });
        const rows = out.split('\n').filter((l) => /^\d+\. /.test(l));
        expect(rows).toHaveLength(macRows);
        expect(rows.filter((l) => l.includes(' USER_MAC_CONFIG_CHANGE '))).toHaveLength(st.configChanges);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    }
  });
});

describe('userspace policy loads (USER_MAC_POLICY_LOAD)', () => {
  // A load_policy run, then two userspace object managers (systemd, dbus-broker) reporting the reload.
  const LOG = [
    'type=MAC_POLICY_LOAD msg=audit(1763900030.000:703): auid=1000 ses=2 lsm=selinux res=1',
    'type=SYSCALL msg=audit(1763900030.000:703): arch=c000003e syscall=1 success=yes exit=3 a0=4 a1=7f a2=3 a3=0 items=0 ppid=100 pid=101 auid=1000 uid=0 gid=0 euid=0 suid=0 fsuid=0 egid=0 sgid=0 fsgid=0 tty=pts0 ses=2 comm="load_policy" exe="/usr/sbin/load_policy" subj=unconfined_u:unconfined_r:unconfined_t:s0 key=(null)',
    `type=USER_MAC_POLICY_LOAD msg=audit(1763900030.120:705): pid=1 uid=0 auid=4294967295 ses=4294967295 subj=system_u:system_r:init_t:s0 msg='avc:  received policyload notice (seqno=2)  exe="/usr/lib/systemd/systemd" sauid=0 hostname=? addr=? terminal=?'`,
    `type=USER_MAC_POLICY_LOAD msg=audit(1763900030.130:706): pid=812 uid=81 auid=4294967295 ses=4294967295 subj=system_u:system_r:system_dbusd_t:s0-s0:c0.c1023 msg='avc:  received policyload notice (seqno=2)  exe="/usr/bin/dbus-broker" sauid=81 hostname=? addr=? terminal=?'`,
    '',
  ].join('\n');

  it('counts and lists them with the policy loads, as aureport -ma does', () => {
    const s = buildSummary(parseAuditText(LOG).events);
    expect(s.statistics).toMatchObject({ totalMessages: 3, policyLoads: 3 });
    expect(s.policyLoads).toEqual([
      {
        time: '2025-11-23T12:13:50.000Z',
        host: 'localhost',
        auid: '1000',
        type: 'MAC_POLICY_LOAD',
        exe: '/usr/sbin/load_policy',
      },
      {
        time: '2025-11-23T12:13:50.120Z',
        host: 'localhost',
        auid: 'unset',
        type: 'USER_MAC_POLICY_LOAD',
        exe: '/usr/lib/systemd/systemd',
      },
      {
        time: '2025-11-23T12:13:50.130Z',
        host: 'localhost',
        auid: 'unset',
        type: 'USER_MAC_POLICY_LOAD',
        exe: '/usr/bin/dbus-broker',
      },
    ]);
    expect(renderText(s)).toMatch(/Policy Loads[\s\S]*USER_MAC_POLICY_LOAD +\/usr\/bin\/dbus-broker/);
    if (existsSync('/usr/sbin/aureport')) {
      const dir = mkdtempSync(join(tmpdir(), 'avc-report-load-'));
      try {
        writeFileSync(join(dir, 'audit.log'), LOG);
        const out = execFileSync('/usr/sbin/aureport', ['-ma', '-if', join(dir, 'audit.log')], {
          encoding: 'utf8',
        });
        const rows = out.split('\n').filter((l) => /^\d+\. /.test(l));
        expect(rows).toHaveLength(s.statistics.policyLoads);
        expect(rows.filter((l) => l.includes(' USER_MAC_POLICY_LOAD '))).toHaveLength(2);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    }
  });
});

describe('malformed lines under a host or time filter', () => {
  const lines = [
    {
      file: 'a.log',
      line: 1,
      text: `node=web01 type=AVC msg=audit(${T0}.250:1): avc:  denied  { read } for x`,
    },
    { file: 'a.log', line: 2, text: `node=db01 type=AVC msg=audit(${T0}.250:2): avc:  denied  { read` },
    { file: 'a.log', line: 3, text: `type=SYSCALL msg=audit(${T0 + 100}.000:3): arch=` },
    { file: 'a.log', line: 4, text: 'garbage \u0000 with no node and no time' },
  ];

  it('counts (and lists) only the lines of the selected hosts: node=, else the default host', () => {
    const b = createSummaryBuilder({ hosts: ['web01'], listMalformed: true });
    b.addMalformed(4, lines);
    const s = b.build();
    expect(s.statistics.malformed).toBe(1);
    expect(s.statistics.malformedUnfiltered).toBe(0);
    expect(s.malformedLines?.map((l) => l.line)).toEqual([1]);
    const local = createSummaryBuilder({ hosts: ['localhost'] });
    local.addMalformed(4, lines);
    expect(local.build().statistics.malformed).toBe(2);
  });

  it('applies the time filter where the line has a readable audit time; other lines are counted as unfiltered', () => {
    const b = createSummaryBuilder({ since: T0 + 50 });
    b.addMalformed(4, lines);
    const st = b.build().statistics;
    expect(st.malformed).toBe(2);
    expect(st.malformedUnfiltered).toBe(1);
  });

  it('a bare count cannot be filtered: it is labelled as the whole input', () => {
    const b = createSummaryBuilder({ hosts: ['web01'] });
    b.addMalformed(5);
    const s = b.build();
    expect(s.statistics).toMatchObject({ malformed: 5, malformedUnfiltered: 5 });
    expect(renderText(s)).toMatch(
      /Number of malformed lines: +5 \(in the input, all hosts and times: not filtered\)/,
    );
    const none = createSummaryBuilder();
    none.addMalformed(5);
    expect(none.build().statistics.malformedUnfiltered).toBe(0);
    expect(renderText(none.build())).toMatch(/Number of malformed lines: +5\n/);
  });
});

describe('listing malformed lines (listMalformed)', () => {
  it('keeps the first maxMalformedLines lines with file and line, cuts long ones, counts the rest as dropped', () => {
    const b = createSummaryBuilder({
      listMalformed: true,
      limits: { maxMalformedLines: 2, maxMalformedLineChars: 10 },
    });
    b.addMalformed(2, [
      { file: 'a.log', line: 3, text: 'garbage' },
      { file: 'a.log', line: 9, text: 'type=AVC msg=audit(cut' },
    ]);
    b.addMalformed(1, [{ file: 'b.log', line: 1, text: 'x' }]);
    const s = b.build();
    expect(s.statistics.malformed).toBe(3);
    expect(s.malformedLines).toEqual([
      { file: 'a.log', line: 3, text: 'garbage', cut: false },
      { file: 'a.log', line: 9, text: 'type=AVC m', cut: true },
    ]);
    expect(s.truncated.malformedLines).toBe(1);
  });

  it('lists AVC records whose body did not parse too, with the text the caller kept, in (file, line) order', () => {
    const b = createSummaryBuilder({ listMalformed: true, limits: { maxMalformedLineChars: 40 } });
    const broken = (line: number) => ({
      ...record('AVC', { seresult: 'denied', seperms: 'read', comm: 'httpd' }),
      line,
    });
    const text = (n: number) =>
      `type=AVC msg=audit(${T0}.000:${n}): avc:  denied  { read } for  pid=1 comm="httpd" \u001b[31m`;
    b.addMalformed(1, [{ file: 'a.log', line: 9, text: 'garbage' }]);
    // The record is closed after line 9 was read; it is listed in its place all the same.
    b.add(event(T0, [broken(4)], null, 4), undefined, (r) =>
      r.line === undefined ? undefined : { file: 'a.log', line: r.line, text: text(r.line) },
    );
    // Without its text (the caller did not keep it), counted and left out, as before.
    b.add(event(T0 + 1, [broken(12)], null, 12), undefined, () => undefined);
    const s = b.build();
    expect(s.statistics.malformed).toBe(3);
    expect(s.malformedLines).toEqual([
      { file: 'a.log', line: 4, text: text(4).slice(0, 40), cut: true },
      { file: 'a.log', line: 9, text: 'garbage', cut: false },
    ]);
    expect(renderText(s)).toContain(
      '(1 more malformed lines counted above are AVC records whose body did not parse: not listed)',
    );
  });

  it('lists nothing unless asked (the summary keeps its shape)', () => {
    const b = createSummaryBuilder();
    b.addMalformed(1, [{ file: 'a.log', line: 3, text: 'garbage' }]);
    const s = b.build();
    expect(s.statistics.malformed).toBe(1);
    expect(s.malformedLines).toBeUndefined();
    expect(s.truncated.malformedLines).toBeUndefined();
  });
});
