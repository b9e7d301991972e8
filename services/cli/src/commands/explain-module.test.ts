import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { createExplainer, type Explanation } from '@avcstream/selinux-access';
import { type Policy, readPolicy } from '@avcstream/selinux-policy';
import { describe, expect, it } from 'vitest';
import {
  createPolicyModule,
  isModuleIdentifier,
  MODULE_COMMENT,
  MODULE_DROPPED,
  MODULE_INVALID_CONTEXT,
  MODULE_NO_FIX,
  MODULE_RULE,
  MODULE_UNKNOWN,
  MODULE_UNNAMED,
  type ModuleDenial,
} from './explain-module.ts';
import { explain } from './explain.ts';

const SAMPLE_POLICY = resolve(import.meta.dirname, '../../sample/policy/policy.33');
const sample = readPolicy(readFileSync(SAMPLE_POLICY));

function denial(s: string, t: string, tclass: string, perms: string[]): ModuleDenial {
  return { scontext: `system_u:system_r:${s}:s0`, tcontext: `system_u:object_r:${t}:s0`, tclass, perms };
}

/** Explains each denial with the sample policy and adds it (counted once) to a fresh module. */
function build(denials: ModuleDenial[], policy: Policy = sample) {
  const explainer = createExplainer(policy);
  const m = createPolicyModule(policy);
  const outcomes = denials.map((d) => {
    const o = m.add(d, explainer.explain({ ...d, perms: [...d.perms], permissive: false }));
    m.count(o);
    return o;
  });
  return { m, outcomes, explainer };
}

/** The lines of `text` that are not comments or blank. */
function statements(text: string): string[] {
  return text.split('\n').filter((l) => l.trim() !== '' && !l.trimStart().startsWith('#'));
}

describe('isModuleIdentifier', () => {
  it('accepts checkpolicy identifiers and rejects keywords, in lower or upper case only', () => {
    for (const ok of ['avcstream_local', 'local', 'my-mod', 'a.b', 'Allow', 'x1', 'self', 'low_high']) {
      expect(isModuleIdentifier(ok)).toBe(true);
    }
    for (const bad of ['', '1abc', '_x', 'a..b', 'a.', 'a b', 'a;b', 'x\n', 'allow', 'ALLOW', 't2', 'U1']) {
      expect(isModuleIdentifier(bad)).toBe(false);
    }
    for (const kw of ['module', 'require', 'type', 'class', 'sensitivity', 'low-high', 'glblub', 'dom']) {
      expect(isModuleIdentifier(kw)).toBe(false);
    }
  });
});

describe('createPolicyModule: rendering', () => {
  it('merges the allow rules of each (source, target, class), sorted, with a complete require block', () => {
    const { m, outcomes } = build([
      denial('httpd_t', 'shadow_t', 'file', ['read']),
      denial('httpd_t', 'shadow_t', 'file', ['open', 'read']),
      denial('httpd_t', 'var_log_t', 'file', ['write']),
      denial('httpd_t', 'shadow_t', 'dir', ['search']),
      denial('sshd_t', 'shadow_t', 'file', ['write']),
    ]);
    expect(outcomes).toEqual([MODULE_RULE, MODULE_RULE, MODULE_RULE, MODULE_RULE, MODULE_RULE]);
    const text = m.render('avcstream_local');
    expect(statements(text)).toEqual([
      'module avcstream_local 1.0;',
      'require {',
      '\ttype httpd_t;',
      '\ttype shadow_t;',
      '\ttype sshd_t;',
      '\ttype var_log_t;',
      '\tclass dir search;',
      '\tclass file { open read write };',
      '}',
      'allow httpd_t shadow_t:dir search;',
      'allow httpd_t shadow_t:file { open read };',
      'allow httpd_t var_log_t:file write;',
      'allow sshd_t shadow_t:file write;',
    ]);
    expect(text).toContain('\n#============= httpd_t ==============\n');
    expect(text.indexOf('#============= httpd_t')).toBeLessThan(text.indexOf('#============= sshd_t'));
    expect(text).toMatch(/# 5 denials: 5 in allow rules\.\n$/);
  });

  it('holds at most maxEntries rules and comments: later new ones are left out and counted, merges go on', () => {
    const explainer = createExplainer(sample);
    const m = createPolicyModule(sample, { maxEntries: 2 });
    const add = (d: ModuleDenial) => {
      const o = m.add(d, explainer.explain({ ...d, perms: [...d.perms], permissive: false }));
      m.count(o);
      return o;
    };
    expect(add(denial('httpd_t', 'shadow_t', 'file', ['read']))).toBe(MODULE_RULE);
    expect(add(denial('httpd_t', 'var_log_t', 'file', ['write']))).toBe(MODULE_RULE);
    expect(add(denial('sshd_t', 'shadow_t', 'file', ['write']))).toBe(MODULE_DROPPED);
    expect(add(denial('httpd_t', 'shadow_t', 'file', ['open']))).toBe(MODULE_RULE);
    const text = m.render('x');
    expect(statements(text).filter((l) => l.startsWith('allow '))).toEqual([
      'allow httpd_t shadow_t:file { open read };',
      'allow httpd_t var_log_t:file write;',
    ]);
    expect(text).toContain('left out: 1 past the limit of 2 rules and comments per module');
  });

  it('writes self for a target equal to the source and leaves it out of the require block', () => {
    const { m } = build([denial('httpd_t', 'httpd_t', 'capability', ['sys_admin'])]);
    const text = m.render('local');
    expect(text).toContain('\nallow httpd_t self:capability sys_admin;\n');
    expect(text).not.toContain('type self;');
  });

  it('is the same module whatever the order the denials come in, and adding one twice changes nothing', () => {
    const ds = [
      denial('httpd_t', 'shadow_t', 'file', ['read']),
      denial('sshd_t', 'shadow_t', 'file', ['write']),
      denial('httpd_t', 'etc_t', 'file', ['write']),
      denial('httpd_t', 'shadow_t', 'file', ['write']),
    ];
    const a = build(ds).m.render('x');
    const b = build([...ds].reverse().concat(ds)).m;
    expect(b.render('x').replace(/# \d+ denials.*\n$/, '')).toBe(a.replace(/# \d+ denials.*\n$/, ''));
  });

  it('lists booleans, allowed, constraint, RBAC and bounds denials as comments, never as rules', () => {
    const explainer = createExplainer(sample);
    const m = createPolicyModule(sample);
    const cases: Array<[ModuleDenial, string, RegExp]> = [
      // httpd_read_user_content allows httpd_t user_home_t:file read (sample README).
      [
        denial('httpd_t', 'user_home_t', 'file', ['read']),
        'BOOLEAN',
        /setsebool -P httpd_read_user_content 1/,
      ],
      [denial('httpd_t', 'etc_t', 'file', ['read']), 'ALLOWED', /already allowed by this policy/],
      [
        {
          scontext: 'user_u:user_r:user_t:s0',
          tcontext: 'system_u:system_r:passwd_t:s0',
          tclass: 'process',
          perms: ['transition'],
        },
        'RBAC',
        /an allow rule will not help: the role change is denied/,
      ],
    ];
    for (const [d, verdict, comment] of cases) {
      const e = explainer.explain({ ...d, perms: [...d.perms], permissive: false });
      expect(e.verdict).toBe(verdict);
      expect(m.add(d, e)).toBe(MODULE_COMMENT);
      expect(m.render('x')).toMatch(comment);
    }
    const text = m.render('x');
    expect(statements(text)).toEqual(['module x 1.0;']);
    expect(text).toContain(
      '\n# httpd_t user_home_t:file read: a boolean allows it, no rule needed; one of:\n',
    );
    expect(text).toContain('\n#   setsebool -P httpd_read_user_content 1\n');
  });

  it('keeps the port label commands of a BOOLEAN port denial, before the booleans, and says they are narrower', () => {
    const m = createPolicyModule(sample);
    const e: Explanation = {
      verdict: 'BOOLEAN',
      booleans: [{ name: 'sshd_port_forwarding', current: false, blastRadius: { rules: 2, triples: 233 } }],
      evidence: [],
      fixes: [
        { kind: 'semanage', text: 'semanage port -a -t ssh_port_t -p tcp 2222', verified: true },
        { kind: 'setsebool', text: 'setsebool -P sshd_port_forwarding 1', verified: true },
      ],
    };
    expect(m.add(denial('sshd_t', 'unreserved_port_t', 'tcp_socket', ['name_bind']), e)).toBe(MODULE_COMMENT);
    const text = m.render('x');
    expect(statements(text)).toEqual(['module x 1.0;']);
    expect(text).toContain(
      [
        '# sshd_t unreserved_port_t:tcp_socket name_bind: a boolean allows it, no rule needed; one of (labelling the port is narrower than a boolean):',
        '#   semanage port -a -t ssh_port_t -p tcp 2222',
        '#   setsebool -P sshd_port_forwarding 1',
        '',
      ].join('\n'),
    );
  });

  it('comments a constraint and a bounds denial with the failing fields, not their text', () => {
    const e = (verdict: Explanation['verdict'], causes?: Array<'user' | 'level'>): Explanation => ({
      verdict,
      booleans: [],
      evidence: ['constrain file { read } ((u1 == u2 -Fail-) ); Constraint DENIED'],
      ...(causes ? { constraint: { text: 'constrain file { read } ((u1 == u2 -Fail-) )', causes } } : {}),
      fixes: [{ kind: 'note', text: 'An allow rule will not help: x\n#evil', verified: false }],
    });
    const m = createPolicyModule(sample);
    expect(m.add(denial('user_t', 'user_home_t', 'file', ['read']), e('CONSTRAINT', ['user', 'level']))).toBe(
      MODULE_COMMENT,
    );
    expect(m.add(denial('httpd_sys_script_t', 'shadow_t', 'file', ['read']), e('BOUNDS'))).toBe(
      MODULE_COMMENT,
    );
    const text = m.render('x');
    expect(text).toContain(
      '# user_t user_home_t:file read: an allow rule will not help: a constraint denies it (failing test on user, level).\n',
    );
    expect(text).toContain(
      '# httpd_sys_script_t shadow_t:file read: an allow rule will not help: the type bounds',
    );
    expect(text).not.toContain('evil');
    expect(text).not.toContain('u1 == u2');
  });

  it('comments label advice (preferred to the rule) with its commands and the rule as a last resort', () => {
    const m = createPolicyModule(sample);
    const e: Explanation = {
      verdict: 'TE_MISSING',
      booleans: [],
      evidence: [],
      fixes: [
        { kind: 'semanage', text: "semanage fcontext -a -t httpd_sys_content_t '<path>'", verified: true },
        { kind: 'restorecon', text: "restorecon -v '<path>'", verified: true },
        { kind: 'allow', text: 'allow httpd_t tmp_t:file execute;', verified: true },
      ],
    };
    expect(m.add(denial('httpd_t', 'tmp_t', 'file', ['execute']), e)).toBe(MODULE_COMMENT);
    // A second denial on the same (source, target, class): one comment, the commands and rules merged.
    const read: Explanation = {
      ...e,
      fixes: [e.fixes[1]!, { kind: 'allow', text: 'allow httpd_t tmp_t:file read;', verified: true }],
    };
    expect(m.add(denial('httpd_t', 'tmp_t', 'file', ['read']), read)).toBe(MODULE_COMMENT);
    const text = m.render('x');
    expect(statements(text)).toEqual(['module x 1.0;']);
    expect(text).toContain(
      [
        '# httpd_t tmp_t:file { execute read }: label the object or port instead (preferred to an allow rule):',
        "#   semanage fcontext -a -t httpd_sys_content_t '<path>'",
        "#   restorecon -v '<path>'",
        '#   as a last resort: allow httpd_t tmp_t:file { execute read };',
        '',
      ].join('\n'),
    );
  });

  it('comments an allow rule that would not be enough alone, and notes a dontaudit rule next to its rule', () => {
    const m = createPolicyModule(sample);
    const te: Explanation = {
      verdict: 'TE_MISSING',
      booleans: [],
      evidence: [],
      fixes: [
        { kind: 'allow', text: 'allow user_t shadow_t:file read;', verified: false },
        { kind: 'note', text: 'The allow rule alone would not be enough: constrain ...', verified: false },
      ],
    };
    expect(m.add(denial('user_t', 'shadow_t', 'file', ['read']), te)).toBe(MODULE_COMMENT);
    const { m: m2, outcomes } = build([denial('httpd_t', 'var_log_t', 'dir', ['write'])]);
    expect(outcomes).toEqual([MODULE_RULE]);
    expect(m.render('x')).toContain('# user_t shadow_t:file read: an allow rule alone would not be enough');
    expect(statements(m.render('x'))).toEqual(['module x 1.0;']);
    const text = m2.render('x');
    expect(text).toContain('# httpd_t var_log_t:dir write: a dontaudit rule hides this denial');
    expect(text).toContain('\nallow httpd_t var_log_t:dir write;\n');
  });

  it("notes the explanation's caution (an access that guards the system) right before its allow rule", () => {
    const m = createPolicyModule(sample);
    const te: Explanation = {
      verdict: 'TE_MISSING',
      booleans: [],
      evidence: [],
      fixes: [{ kind: 'allow', text: 'allow user_t shadow_t:file read;', verified: true }],
      caution: 'shadow_t holds authentication data (a file type outside non_auth_file_type)',
    };
    expect(m.add(denial('user_t', 'shadow_t', 'file', ['read']), te)).toBe(MODULE_RULE);
    const text = m.render('x');
    expect(text).toContain(
      '\n# user_t shadow_t:file read: caution: shadow_t holds authentication data (a file type outside non_auth_file_type). The allow rule below grants it: find out why the domain asked before loading it.\nallow user_t shadow_t:file read;\n',
    );
    // Without a caution, the rule alone.
    const plain = createPolicyModule(sample);
    plain.add(denial('user_t', 'shadow_t', 'file', ['read']), { ...te, caution: undefined });
    expect(plain.render('x')).not.toContain('caution');
  });

  it('merges allowxperm commands into sorted ranges and requires the ioctl permission', () => {
    const m = createPolicyModule(sample);
    const xp = (cmd: string): Explanation => ({
      verdict: 'TE_MISSING',
      booleans: [],
      evidence: [],
      fixes: [{ kind: 'allow', text: `allowxperm httpd_t etc_t:file ioctl ${cmd};`, verified: true }],
    });
    for (const c of ['0x8912', '0x2a', '0x8910', '0x8911', '0x8914']) {
      expect(m.add(denial('httpd_t', 'etc_t', 'file', ['ioctl']), xp(c))).toBe(MODULE_RULE);
    }
    const text = m.render('x');
    expect(statements(text)).toContain('allowxperm httpd_t etc_t:file ioctl { 0x2a 0x8910-0x8912 0x8914 };');
    expect(statements(text)).toContain('\tclass file ioctl;');
  });

  it('counts invalid contexts, unknown classes and unfixable denials without quoting them', () => {
    const { m, outcomes } = build([
      {
        scontext: 'system_u:system_r:evil\u001b[2J_t:s0',
        tcontext: 'system_u:object_r:etc_t:s0',
        tclass: 'file',
        perms: ['read'],
      },
      denial('httpd_t', 'etc_t', 'no\u001bclass', ['read']),
      denial('httpd_t', 'etc_t', 'file', ['frobnicate']),
    ]);
    expect(outcomes).toEqual([MODULE_INVALID_CONTEXT, MODULE_UNKNOWN, MODULE_UNKNOWN]);
    const m2 = createPolicyModule(sample);
    const none: Explanation = { verdict: 'TE_MISSING', booleans: [], evidence: [], fixes: [] };
    expect(m2.add(denial('httpd_t', 'etc_t', 'file', ['write']), none)).toBe(MODULE_NO_FIX);
    const text = m.render('x');
    expect(text).not.toMatch(/evil|no.class|frobnicate|\u001b/);
    expect(text).toContain(
      '# 3 denials: 0 in allow rules; left out: 1 with a context this policy does not define, 2 with a class or permission it does not define.\n',
    );
  });

  it('leaves out, with a count, a denial whose names are not identifiers or are checkpolicy keywords', () => {
    // The sample with user_home_t renamed, byte for byte, to an escape sequence and to a keyword.
    const craft = (name: string): Policy => {
      const bytes = readFileSync(SAMPLE_POLICY);
      const at = bytes.indexOf('user_home_t');
      expect(at).toBeGreaterThan(0);
      Buffer.from(name, 'latin1').copy(bytes, at);
      return readPolicy(bytes);
    };
    const evil = '\u001b]0;PWN\u0007\u001b[J';
    for (const name of [evil, 'sensitivity']) {
      const policy = craft(name);
      const d = denial('httpd_t', name, 'dir', ['write']);
      const { m, outcomes } = build([d, denial('httpd_t', 'shadow_t', 'file', ['write'])], policy);
      expect(outcomes).toEqual([MODULE_UNNAMED, MODULE_RULE]);
      const text = m.render('x');
      expect(text).not.toContain(name);
      expect(statements(text)).toContain('allow httpd_t shadow_t:file write;');
      expect(text).toContain('left out: 1 with a name that is not a policy identifier');
    }
  });

  it('prints a module without rules when nothing could be allowed (no empty require block)', () => {
    const text = createPolicyModule(sample).render('avcstream_local');
    expect(text).toBe('module avcstream_local 1.0;\n\n# No allow rule: nothing to load.\n\n# 0 denials.\n');
  });
});

const SAMPLE = resolve(import.meta.dirname, '../../sample');

async function run(argv: string[], stdin: string | string[] = '') {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let out = '';
  let err = '';
  stdout.on('data', (c) => {
    out += c;
  });
  stderr.on('data', (c) => {
    err += c;
  });
  const chunks = typeof stdin === 'string' ? [stdin] : stdin;
  const code = await explain(argv, { stdout, stderr, stdin: Readable.from(chunks) });
  return { code, out, err };
}

const avc = (perms: string, s: string, t: string, c: string) =>
  `avc:  denied  { ${perms} } for  pid=2214 comm="httpd" name="x" scontext=system_u:system_r:${s}:s0 ` +
  `tcontext=system_u:object_r:${t}:s0 tclass=${c} permissive=0`;

describe('avcstream explain --format module', { timeout: 60_000 }, () => {
  it('prints one module for the sample log, at the end, with the booleans given', async () => {
    const base = ['--policy', SAMPLE_POLICY, '--format', 'module'];
    const r = await run([...base, `${SAMPLE}/audit.log`]);
    expect(r.code).toBe(0);
    expect(r.out.startsWith('module avcstream_local 1.0;\n\nrequire {\n')).toBe(true);
    expect(r.out.match(/^module /gm)).toHaveLength(1);
    expect(statements(r.out)).toContain('allow httpd_t shadow_t:file { getattr read };');
    expect(r.out).toContain('# user_t passwd_t:process transition: an allow rule will not help');
    expect(r.out).toMatch(/\n# 28 denials: \d+ in allow rules, \d+ in comments; left out: 3 with a context/);
    // The hosts' booleans (httpd_can_network_connect=1) allow the name_connect the defaults deny.
    const named = await run([
      ...base,
      '--module',
      'web.local',
      '--booleans',
      `${SAMPLE}/booleans`,
      `${SAMPLE}/audit.log`,
    ]);
    expect(named.out.startsWith('module web.local 1.0;\n')).toBe(true);
    const connect = '# httpd_t unreserved_port_t:tcp_socket name_connect: ';
    expect(r.out).toContain(
      `${connect}a boolean allows it, no rule needed; one of:\n#   setsebool -P httpd_can_network_connect 1\n`,
    );
    expect(named.out).toContain(`${connect}already allowed by this policy`);
  });

  it('counts every record, from the byte fast path and the full parser alike, and skips malformed lines', async () => {
    const rest = avc('read', 'httpd_t', 'shadow_t', 'file');
    const fast = `type=AVC msg=audit(1763802000.5:9): ${rest}`;
    const slow = `Jan 14 19:10:04 host kernel: audit(1763802000.5:10): ${rest}`;
    const write = `type=AVC msg=audit(1763802000.5:11): ${avc('write', 'httpd_t', 'shadow_t', 'file')}`;
    const text = `${fast}\n${slow}\n${fast}\ntype=AVC msg=audit(garbage avc: \n${write}\n`;
    const r = await run(['--policy', SAMPLE_POLICY, '--format', 'module', '-'], text);
    expect(r.code).toBe(0);
    expect(statements(r.out)).toContain('allow httpd_t shadow_t:file { read write };');
    expect(r.out).toMatch(/\n# 4 denials: 4 in allow rules\.\n$/);
    expect(r.err).toMatch(/1 malformed/);
    // The same input cut into small pieces gives the same module.
    const pieces: string[] = [];
    for (let i = 0; i < text.length; i += 7) pieces.push(text.slice(i, i + 7));
    expect((await run(['--policy', SAMPLE_POLICY, '--format', 'module', '-'], pieces)).out).toBe(r.out);
  });

  it('exits 1 when the module holds no rule (checkmodule rejects it), still printing why on standard output', async () => {
    // With the sample's default booleans this denial is fixed by setsebool: a comment, no rule.
    const connect =
      'type=AVC msg=audit(1763802109.439:8218): avc:  denied  { name_connect } for  pid=2231 comm="httpd" dest=5432 scontext=system_u:system_r:httpd_t:s0 tcontext=system_u:object_r:unreserved_port_t:s0 tclass=tcp_socket permissive=0\n';
    const r = await run(['--policy', SAMPLE_POLICY, '--format', 'module', '-'], connect);
    expect(r.code).toBe(1);
    expect(r.out).toContain('# No allow rule: nothing to load.');
    expect(r.out).toContain('setsebool -P httpd_can_network_connect 1');
    expect(r.out).toMatch(/# 1 denial: 0 in allow rules, 1 in comments\.\n$/);
    expect(r.err).toBe('avcstream explain: the module holds no rule (see its comments)\n');
    // No denial at all: no rule either.
    const empty = await run(['--policy', SAMPLE_POLICY, '--format', 'module', '-'], '');
    expect(empty.code).toBe(1);
    expect(empty.out).toMatch(/# 0 denials\.\n$/);
    // One rule is enough for 0, and the other formats never exit 1.
    const rule = `type=AVC msg=audit(1763802000.5:9): ${avc('read', 'httpd_t', 'shadow_t', 'file')}\n`;
    expect((await run(['--policy', SAMPLE_POLICY, '--format', 'module', '-'], connect + rule)).code).toBe(0);
    expect((await run(['--policy', SAMPLE_POLICY, '--format', 'ndjson', '-'], connect)).code).toBe(0);
    expect((await run(['--policy', SAMPLE_POLICY, '-'], '')).code).toBe(0);
    expect((await run(['--help'])).out).toMatch(/1 with --format\s+module when the module holds no rule/);
  });

  it('rejects a module name that is not a checkpolicy identifier or is a reserved word (64), escaped', async () => {
    for (const name of ['t2', 'module', '1x', 'a..b', 'x;rm -rf', 'ev\u001b[2Jil']) {
      const r = await run(['--policy', SAMPLE_POLICY, '--format', 'module', '--module', name, '-'], '');
      expect(r.code, name).toBe(64);
      expect(r.out).toBe('');
      expect(r.err).not.toContain('\u001b');
    }
    // Escaped once: the ESC shows as \x1b, not as a JSON-doubled \\x1b.
    const esc = await run(
      ['--policy', SAMPLE_POLICY, '--format', 'module', '--module', 'ev\u001b[2Jil', '-'],
      '',
    );
    expect(esc.err).toContain('module name "ev\\x1b[2Jil" is not a checkpolicy identifier');
    expect((await run(['--policy', SAMPLE_POLICY, '--module', 'x', '-'])).code).toBe(64);
    expect((await run(['--policy', SAMPLE_POLICY, '--format', 'ndjson', '--module', 'x', '-'])).code).toBe(
      64,
    );
    expect((await run(['--policy', SAMPLE_POLICY, '--format', 'modules', '-'])).code).toBe(64);
    expect((await run(['--help'])).out).toMatch(/--format text\|ndjson\|module/);
  });
});

const have = (cmd: string) => spawnSync(cmd, ['--help'], { stdio: 'ignore' }).error === undefined;
const haveOracles = have('checkmodule') && have('audit2allow');
if (!haveOracles && !process.env.CI) {
  console.warn(
    'SKIPPED: checkmodule or audit2allow is absent (checkpolicy, policycoreutils-python-utils); set CI=1 to make this fail',
  );
}

describe('avcstream explain --format module: ioctl commands', { timeout: 60_000 }, () => {
  // allow web_t web_content_t:file ioctl; allowxperm web_t web_content_t:file ioctl { 0x5401 0x8900-0x89ff };
  const XPERM_POLICY = resolve(
    import.meta.dirname,
    '../../../../libs/selinux-access/fixtures/TE_MISSING/policy.33',
  );
  const line = (serial: number, cmd: string) =>
    `type=AVC msg=audit(1763805000.1:${serial}): avc:  denied  { ioctl } for  pid=811 comm="webd" ` +
    `path="/srv/www/index.html" dev="vda1" ino=4101 ioctlcmd=${cmd} scontext=system_u:system_r:web_t ` +
    'tcontext=system_u:object_r:web_content_t tclass=file permissive=0\n';
  const input =
    line(1, '0x5413') + line(2, '0x5401') + line(3, '0x5414') + line(4, '0x8927') + line(5, '0x5413');

  it('writes the commands no allowxperm rule lists as one allowxperm rule, the listed ones as allowed', async () => {
    const r = await run(['--policy', XPERM_POLICY, '--format', 'module', '-'], input);
    expect(r.code).toBe(0);
    expect(statements(r.out)).toEqual([
      'module avcstream_local 1.0;',
      'require {',
      '\ttype web_content_t;',
      '\ttype web_t;',
      '\tclass file ioctl;',
      '}',
      'allowxperm web_t web_content_t:file ioctl { 0x5413-0x5414 };',
    ]);
    expect(r.out).toContain('# web_t web_content_t:file ioctl: already allowed by this policy');
    expect(r.out).toMatch(/# 5 denials: 3 in allow rules, 2 in comments\.\n$/);
  });

  it.runIf(haveOracles || Boolean(process.env.CI))(
    'compiles with checkmodule; audit2allow, blind to extended permissions, calls the access allowed',
    async () => {
      const r = await run(
        ['--policy', XPERM_POLICY, '--format', 'module', '--module', 'webd_ioctl', '-'],
        input,
      );
      const dir = mkdtempSync(join(tmpdir(), 'avc-module-'));
      try {
        writeFileSync(join(dir, 'webd_ioctl.te'), r.out);
        const c = spawnSync('checkmodule', ['-M', '-m', '-o', 'webd_ioctl.mod', 'webd_ioctl.te'], {
          cwd: dir,
          encoding: 'utf8',
        });
        expect(c.status, `${c.stdout}${c.stderr}`).toBe(0);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
      // The difference on purpose: the kernel denies 0x5413 (no allowxperm rule lists it), audit2why does
      // not look at xperm rules, so audit2allow writes a base rule the policy already has, annotated.
      const a = spawnSync('audit2allow', ['-p', XPERM_POLICY], { input, encoding: 'utf8' });
      expect(a.status, a.stderr).toBe(0);
      expect(a.stdout).toContain(
        '#!!!! This avc is allowed in the current policy\n#!!!! This av rule may have been overridden by an extended permission av rule\nallow web_t web_content_t:file ioctl;',
      );
    },
  );
});
