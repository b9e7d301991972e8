import { readFileSync } from 'node:fs';
import { readPolicy } from '@avcstream/selinux-policy';
import { describe, expect, it } from 'vitest';
import { computeAv } from './compute-av.ts';
import { createExplainer } from './explain.ts';
import { debianPolicy, patchedSamplePolicy, runDebian, samplePolicy } from './test-policies.ts';
import type { Explanation } from './types.ts';

describe.runIf(runDebian)('Debian reference policy', { timeout: 120_000 }, () => {
  const policy = debianPolicy();
  const explainer = createExplainer(policy);

  it('computes the §24.6 worked example: nothing allowed, all audited', () => {
    const av = computeAv(
      policy,
      'system_u:system_r:httpd_t:s0',
      'system_u:object_r:user_home_t:s0',
      'file',
    );
    expect(av).toEqual({ allowed: 0, auditallow: 0, auditdeny: 0xffffffff, reasons: 1 });
    const on = computeAv(
      policy,
      'system_u:system_r:httpd_t:s0',
      'system_u:object_r:user_home_t:s0',
      'file',
      { httpd_read_user_content: true },
    );
    expect(on.allowed).toBe(0x00040053 | 0x00000400);
  });

  it('classifies the worked example as BOOLEAN httpd_read_user_content, value 1', () => {
    const e = explainer.explain({
      scontext: 'system_u:system_r:httpd_t:s0',
      tcontext: 'system_u:object_r:user_home_t:s0',
      tclass: 'file',
      perms: ['read'],
    });
    expect(e.verdict).toBe('BOOLEAN');
    expect(e.booleans.map((b) => [b.name, b.current])).toEqual([['httpd_read_user_content', false]]);
    expect(e.fixes).toEqual([{ kind: 'setsebool', text: 'setsebool -P httpd_read_user_content 1', verified: true }]);
  });

  it('names httpd_read_user_content with its blast radius for the Red Hat public_html example', () => {
    const e = explainer.explain({
      scontext: 'system_u:system_r:httpd_t:s0',
      tcontext: 'unconfined_u:object_r:user_home_t:s0',
      tclass: 'dir',
      perms: ['getattr'],
      permissive: false,
    });
    expect(e.verdict).toBe('BOOLEAN');
    expect(e.booleans).toHaveLength(1);
    // sesearch --allow -b httpd_read_user_content: 21 rules; two of them share the key httpd_t user_home_t:file.
    expect(e.booleans[0]).toEqual({
      name: 'httpd_read_user_content',
      current: false,
      blastRadius: { rules: 21, triples: 20 },
    });
  });

  it('is ALLOWED when the boolean is overridden on, per call or per explainer', () => {
    const d = {
      scontext: 'system_u:system_r:httpd_t:s0',
      tcontext: 'unconfined_u:object_r:user_home_t:s0',
      tclass: 'dir',
      perms: ['getattr'],
    };
    expect(explainer.explain(d, { httpd_read_user_content: true }).verdict).toBe('ALLOWED');
    expect(createExplainer(policy, { booleans: { httpd_read_user_content: true } }).explain(d).verdict).toBe(
      'ALLOWED',
    );
    // A BOOLEAN suggestion reports the current value of the state it was computed in.
    expect(explainer.explain(d).verdict).toBe('BOOLEAN');
  });

  it('memoizes explanations and freezes them', () => {
    const d = {
      scontext: 'system_u:system_r:httpd_t:s0',
      tcontext: 'system_u:object_r:shadow_t:s0',
      tclass: 'file',
      perms: ['read'],
    };
    const a = explainer.explain(d);
    expect(explainer.explain({ ...d })).toBe(a);
    expect(Object.isFrozen(a)).toBe(true);
    expect(a.verdict).toBe('TE_MISSING');
    expect(a.fixes).toEqual([{ kind: 'allow', text: 'allow httpd_t shadow_t:file read;', verified: true }]);
    const plain = createExplainer(policy, { memoize: false });
    const b = plain.explain(d);
    expect(b).toEqual(a);
    expect(plain.explain(d)).not.toBe(b);
  });

  it('explains a constraint failure like libsepol, and says an allow rule will not help', () => {
    const e = explainer.explain({
      scontext: 'user_u:user_r:user_t:s0',
      tcontext: 'system_u:object_r:user_home_t:s0',
      tclass: 'file',
      perms: ['relabelfrom'],
    });
    expect(e.verdict).toBe('CONSTRAINT');
    expect(e.constraint?.text).toBe(
      'constrain file { create relabelfrom relabelto } ((u1 == u2 -Fail-)  or (t1 == can_change_object_identity -Fail-) ); Constraint DENIED',
    );
    expect(e.constraint?.causes).toContain('user');
    expect(e.evidence).toContain(
      'Possible cause: the source user (user_u) and target user (system_u) are different.',
    );
    expect(e.fixes.map((f) => f.kind)).toEqual(['note']);
    expect(e.fixes[0]?.text).toMatch(/allow rule will not help/);
  });

  it('does not verify an allow rule that a constraint would still block', () => {
    const e = explainer.explain({
      scontext: 'user_u:user_r:user_t:s0',
      tcontext: 'system_u:object_r:etc_t:s0',
      tclass: 'file',
      perms: ['relabelfrom'],
    });
    expect(e.verdict).toBe('TE_MISSING');
    expect(e.fixes[0]).toEqual({ kind: 'allow', text: 'allow user_t etc_t:file relabelfrom;', verified: false });
    expect(e.fixes[1]?.text).toMatch(/constrain file/);
  });

  it('reports invalid contexts, unknown classes and permissions instead of failing', () => {
    const base = { scontext: 'system_u:system_r:httpd_t:s0', tclass: 'file', perms: ['read'] };
    expect(explainer.explain({ ...base, tcontext: 'system_u:object_r:no_such_t:s0' }).verdict).toBe(
      'INVALID_CONTEXT',
    );
    // role/type combination the policy does not authorize (audit2why: BADSCON)
    expect(
      explainer.explain({ ...base, scontext: 'system_u:user_r:httpd_t:s0', tcontext: 'system_u:object_r:etc_t:s0' })
        .verdict,
    ).toBe('INVALID_CONTEXT');
    // non-MLS context against an MLS policy
    expect(explainer.explain({ ...base, tcontext: 'system_u:object_r:etc_t' }).verdict).toBe('INVALID_CONTEXT');
    const tc = 'system_u:object_r:etc_t:s0';
    const cls = explainer.explain({ ...base, tcontext: tc, tclass: 'no_such_class' });
    expect(cls.verdict).toBe('UNKNOWN_CLASS');
    expect(cls.evidence[0]).toMatch(/handle_unknown=allow/);
    expect(explainer.explain({ ...base, tcontext: tc, perms: ['read', 'no_such_perm'] }).verdict).toBe(
      'UNKNOWN_PERM',
    );
  });

  it('reports DONTAUDIT when a dontaudit rule hides the denial', () => {
    const e = explainer.explain({
      scontext: 'system_u:system_r:httpd_t:s0',
      tcontext: 'system_u:object_r:user_tmp_t:s0',
      tclass: 'file',
      perms: ['write'],
    });
    expect(e.verdict).toBe('DONTAUDIT');
    expect(e.evidence.some((l) => l.startsWith('  dontaudit '))).toBe(true);
    expect(e.fixes[0]).toEqual({ kind: 'allow', text: 'allow httpd_t user_tmp_t:file write;', verified: true });
    const av = computeAv(policy, 'system_u:system_r:httpd_t:s0', 'system_u:object_r:user_tmp_t:s0', 'file');
    const file = policy.classes[(policy.classByName.get('file') as number) - 1];
    const write = 1 << ((file?.common?.perms.get('write') as number) - 1);
    expect(av.auditdeny & write).toBe(0);
  });
});

describe('sample policy (services/cli/sample): RBAC, BOUNDS, MLS constraints', () => {
  const policy = samplePolicy();
  const explainer = createExplainer(policy);

  it('reports RBAC for a role change without a role allow', () => {
    const e = explainer.explain({
      scontext: 'user_u:user_r:user_t:s0',
      tcontext: 'system_u:system_r:passwd_t:s0',
      tclass: 'process',
      perms: ['transition'],
    });
    expect(e.verdict).toBe('RBAC');
    expect(e.fixes[0]?.kind).toBe('note');
    expect(e.fixes[0]?.text).toMatch(/allow rule will not help/);
  });

  it('reports BOUNDS when the parent type lacks a permission of the bounded type', () => {
    const e = explainer.explain({
      scontext: 'system_u:system_r:httpd_sys_script_t:s0',
      tcontext: 'system_u:object_r:httpd_sys_content_t:s1',
      tclass: 'file',
      perms: ['read'],
    });
    expect(e.verdict).toBe('BOUNDS');
    expect(e.evidence[0]).toMatch(/bounded by httpd_t/);
  });

  it('reports an MLS constraint with the level as a cause', () => {
    const e = explainer.explain({
      scontext: 'system_u:system_r:httpd_t:s0',
      tcontext: 'system_u:object_r:httpd_sys_content_t:s1:c3',
      tclass: 'file',
      perms: ['read'],
    });
    expect(e.verdict).toBe('CONSTRAINT');
    expect(e.constraint?.text).toMatch(/^mlsconstrain file /);
    expect(e.constraint?.causes).toContain('level');
  });

  it('applies handle_unknown=deny in the explanation of an unknown class', () => {
    expect(policy.handleUnknown).toBe('deny');
    const e = explainer.explain({
      scontext: 'system_u:system_r:init_t:s0-s1:c0.c15',
      tcontext: 'system_u:system_r:init_t:s0-s1:c0.c15',
      tclass: 'bpf',
      perms: ['map_create'],
    });
    expect(e.verdict).toBe('UNKNOWN_CLASS');
    expect(e.evidence[0]).toMatch(/handle_unknown=deny/);
  });
});

describe('BOUNDS fixture (fixtures/BOUNDS): what the type bound removed', () => {
  const fixture = new URL('../fixtures/BOUNDS/policy.33', import.meta.url);
  const policy = readPolicy(new Uint8Array(readFileSync(fixture)));
  const explainer = createExplainer(policy);
  const denial = (scontext: string, perm: string) => ({
    scontext,
    tcontext: 'system_u:object_r:content_t',
    tclass: 'file',
    perms: [perm],
  });

  it('lists the permissions the parent lacks, the requested one among them', () => {
    const e = explainer.explain(denial('web_u:system_r:cgi_t', 'relabelfrom'));
    expect(e.verdict).toBe('BOUNDS');
    expect(e.evidence).toEqual([
      'Type bounds: cgi_t is bounded by web_t, which is not allowed every permission cgi_t has on content_t:file.',
      'The bound removes { relabelfrom relabelto } (web_t lacks them on content_t:file); requested among them: relabelfrom.',
    ]);
  });

  it('lists them too when the requested permission itself was not removed', () => {
    const e = explainer.explain(denial('web_u:system_r:cgi_t', 'read'));
    expect(e.verdict).toBe('BOUNDS');
    expect(e.evidence[1]).toBe(
      'The bound removes { relabelfrom relabelto } (web_t lacks them on content_t:file); requested among them: none.',
    );
  });

  it('reports nothing removed when the parent passes the constraint too', () => {
    const e = explainer.explain(denial('system_u:system_r:cgi_t', 'read'));
    expect(e.verdict).toBe('ALLOWED');
    expect(e.evidence.some((line) => line.startsWith('The bound removes'))).toBe(false);
  });
});

describe('the explainer caches', () => {
  it('explain as a fresh explainer does, with more contexts than context slots (hits and collisions)', () => {
    const policy = samplePolicy();
    const users = policy.users.map((u) => u.name);
    const roles = policy.roles.map((r) => r.name);
    const types = policy.types.filter((t) => !t.isAttribute).map((t) => t.name);
    const levels = ['s0', 's0-s0:c0.c3', 's0:c1', 's1', 'nosuch'];
    const contexts: string[] = [];
    for (const u of users)
      for (const r of roles) for (const t of types) for (const l of levels) contexts.push(`${u}:${r}:${t}:${l}`);
    expect(contexts.length).toBeGreaterThan(600);
    const classes = policy.classes.map((c) => c.name);
    const shared = createExplainer(policy, { memoize: false });
    let seed = 7;
    const pick = <T>(xs: readonly T[]): T => {
      seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
      return xs[seed % xs.length] as T;
    };
    for (let i = 0; i < 1500; i++) {
      const cls = policy.classes.find((c) => c.name === pick(classes));
      const perm = cls ? [...cls.ownPerms.keys(), ...(cls.common?.perms.keys() ?? [])][0] : undefined;
      const denial = {
        scontext: pick(contexts),
        tcontext: i % 3 === 0 ? (contexts[i % contexts.length] as string) : pick(contexts),
        tclass: cls?.name ?? 'file',
        perms: [perm ?? 'read'],
      };
      expect(shared.explain(denial)).toEqual(createExplainer(policy, { memoize: false }).explain(denial));
    }
  });
});

describe('a crafted policy whose names are not identifiers', () => {
  // Control, C1, bidi and zero-width characters: what must never reach a terminal from evidence or fixes.
  const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff]/;
  const texts = (e: Explanation) => [...e.evidence, ...e.fixes.map((f) => f.text), e.constraint?.text ?? ''];
  const httpdRead = {
    scontext: 'system_u:system_r:httpd_t:s0',
    tcontext: 'system_u:object_r:user_home_t:s0',
    tclass: 'file',
    perms: ['read'],
  };

  it('offers setsebool for the sample boolean (the baseline)', () => {
    const e = createExplainer(samplePolicy()).explain(httpdRead);
    expect(e.fixes).toEqual([
      { kind: 'setsebool', text: 'setsebool -P httpd_read_user_content 1', verified: true },
    ]);
  });

  it('never offers setsebool for a boolean named with shell metacharacters and a newline', () => {
    const evil = 'x;touch /tmp/pwn\nid;#aa';
    const e = createExplainer(patchedSamplePolicy('httpd_read_user_content', evil)).explain(httpdRead);
    expect(e.verdict).toBe('BOOLEAN');
    // The suggestion keeps the name as data (JSON escapes it).
    expect(e.booleans.map((b) => b.name)).toEqual([evil]);
    expect(e.fixes.every((f) => f.kind === 'note' && !f.verified)).toBe(true);
    expect(e.fixes.some((f) => f.text.includes('setsebool -P'))).toBe(false);
    expect(e.fixes[0]?.text).toContain('not a valid policy identifier');
    for (const t of texts(e)) expect(t).not.toMatch(UNSAFE);
    expect(e.evidence[0]).toBe('The boolean x;touch /tmp/pwn\\x0aid;#aa is off; turning it on allows read.');
  });

  it('never offers setsebool for a boolean name without control characters that checkpolicy rejects', () => {
    const e = createExplainer(
      patchedSamplePolicy('httpd_read_user_content', 'a$(touch /tmp/p)&&id;zz'),
    ).explain(httpdRead);
    expect(e.verdict).toBe('BOOLEAN');
    expect(e.fixes.map((f) => f.kind)).toEqual(['note']);
    expect(e.fixes[0]?.text).toContain('a$(touch /tmp/p)&&id;zz');
    expect(e.fixes[0]?.text).not.toContain('setsebool -P');
  });

  it('never offers an allow rule naming a type that is not an identifier, and escapes it in evidence', () => {
    const evil = 'a;id\n\u001b[2Jxy';
    const e = createExplainer(patchedSamplePolicy('user_home_t', evil)).explain({
      ...httpdRead,
      tcontext: `system_u:object_r:${evil}:s0`,
      perms: ['write'],
    });
    expect(e.verdict).toBe('TE_MISSING');
    expect(e.fixes.map((f) => f.kind)).toEqual(['note']);
    expect(e.fixes[0]?.text).toContain('not a valid policy identifier');
    expect(e.fixes[0]?.text).not.toMatch(/allow httpd_t/);
    for (const t of texts(e)) expect(t).not.toMatch(UNSAFE);
    expect(e.evidence[0]).toBe('No allow rule grants httpd_t a;id\\x0a\\x1b[2Jxy:file write.');
  });

  it('does not quote a role allow rule naming a role that is not an identifier', () => {
    const evil = 'r;id\n_';
    const e = createExplainer(patchedSamplePolicy('user_r', evil)).explain({
      scontext: `user_u:${evil}:user_t:s0`,
      tcontext: 'system_u:system_r:passwd_t:s0',
      tclass: 'process',
      perms: ['transition'],
    });
    expect(e.verdict).toBe('RBAC');
    for (const t of texts(e)) expect(t).not.toMatch(UNSAFE);
    expect(e.fixes.map((f) => f.kind)).toEqual(['note']);
    expect(e.fixes[0]?.text).not.toMatch(/allow r;id/);
    expect(e.fixes[0]?.text).toContain('not a valid policy identifier');
  });
});
