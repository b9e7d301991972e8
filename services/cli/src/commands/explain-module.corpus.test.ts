// `explain --format module` against audit2allow on real audit logs of ../shared/corpus/audit (read in place,
// never copied) with the Debian reference policy, and the module compiled by checkmodule.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { explain } from './explain.ts';

const DEBIAN = '/etc/selinux/default/policy/policy.33';
const CORPUS = resolve(import.meta.dirname, '../../../../../shared/corpus/audit');
const has = (cmd: string) => spawnSync(cmd, ['--help'], { stdio: 'ignore' }).error === undefined;
const missing = [
  ...(existsSync(CORPUS) ? [] : [`the audit corpus ${CORPUS}`]),
  ...(existsSync(DEBIAN) ? [] : [`${DEBIAN} (selinux-policy-default)`]),
  ...(has('audit2allow') ? [] : ['audit2allow (policycoreutils-python-utils)']),
  ...(has('checkmodule') ? [] : ['checkmodule (checkpolicy)']),
];
const inCi = Boolean(process.env.CI);
if (missing.length > 0 && !inCi) {
  console.warn(`SKIPPED: module vs audit2allow: missing ${missing.join(', ')}; set CI=1 to make this fail`);
}

/** Logs with several denials, by name: one file, or several read in turn as one input. */
const LOGS: Record<string, string[]> = {
  'selinux-audit2allow/test.log': ['selinux-audit2allow/test.log'],
  'selinux-sepolgen/short.log': ['selinux-sepolgen/short.log'],
  'selinux-sepolgen/audit.txt': ['selinux-sepolgen/audit.txt'],
  'selinux-sepolgen/audit.log': ['selinux-sepolgen/audit.log'],
  'selinux-sepolgen/httpd.log': ['selinux-sepolgen/httpd.log'],
  'setroubleshoot/*.log': [
    'allow_execmod',
    'allow_postfix_local_write_mail_spool',
    'automount_exec_config',
    'bind_ports',
    'connect_ports',
    'ftp_home_dir',
    'http_connect_ports',
    'httpd_bad_labels',
    'httpd_can_network_connect',
    'httpd_can_network_connect_db',
    'httpd_enable_cgi',
    'httpd_unified',
    'public_content',
    'qemu_blk_image',
    'restorecon',
    'samba_home_dir',
    'samba_share',
    'test-dir-restorecon',
  ].map((n) => `setroubleshoot/${n}.log`),
};

const input = (name: string) => (LOGS[name] ?? []).map((f) => readFileSync(join(CORPUS, f), 'utf8')).join('');

async function ours(text: string, name = 'avcstream_local'): Promise<string> {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let out = '';
  stdout.on('data', (c) => {
    out += c;
  });
  stderr.resume();
  const code = await explain(['--policy', DEBIAN, '--format', 'module', '--module', name, '-'], {
    stdout,
    stderr,
    stdin: Readable.from([text]),
  });
  // A module without a rule is not loadable (checkmodule rejects it): exit 1, like grep's "no match".
  expect(code).toBe(/^allow(xperm)? /m.test(out) ? 0 : 1);
  return out;
}

function audit2allow(text: string): string {
  const r = spawnSync('audit2allow', ['-p', DEBIAN], { input: text, encoding: 'utf8', maxBuffer: 1 << 28 });
  expect(r.status, r.stderr).toBe(0);
  return r.stdout;
}

/** `S T:C p` for each permission of an allow rule's or a comment's `S T:C perms`. */
function tuples(s: string, t: string, c: string, perms: string): string[] {
  const list = perms.startsWith('{') ? perms.slice(1, -1).trim().split(/\s+/) : [perms];
  return list.map((p) => `${s} ${t}:${c} ${p}`);
}

const RULE = /^allow (\S+) (\S+):(\S+) (\{ [^}]+ \}|\S+);$/;

/** audit2allow's output: the access of its plain rules, and that of its `#!!!!`-annotated ones by kind. */
function parseAudit2allow(text: string) {
  const plain = new Set<string>();
  const annotated: Array<{ kind: string; access: string[]; booleans: string[] }> = [];
  let note: { kind: string; booleans: string[] } | null = null;
  let inBooleanList = false;
  for (const line of text.split('\n')) {
    if (line.startsWith('#!!!!')) {
      inBooleanList = false;
      if (line.includes('is allowed in the current policy')) note = { kind: 'allowed', booleans: [] };
      else if (line.includes('has a dontaudit rule')) note = { kind: 'dontaudit', booleans: [] };
      else if (line.includes('can be allowed using the boolean')) {
        note = { kind: 'boolean', booleans: [/'([^']+)'/.exec(line)?.[1] ?? '?'] };
      } else if (line.includes('can be allowed using one of the these booleans')) {
        note = { kind: 'boolean', booleans: [] };
        inBooleanList = true;
      } else if (line.includes('is a constraint violation')) note = { kind: 'constraint', booleans: [] };
      else if (line.includes('overridden by an extended permission')) {
        // Follows "allowed in the current policy".
      } else if (!line.includes('can write to')) throw new Error(`unknown audit2allow annotation: ${line}`);
      // "The source type ... can write to ... of the following types" is a hint on a plain TE rule.
      continue;
    }
    if (inBooleanList && line.startsWith('#     ')) {
      note?.booleans.push(...line.slice(6).split(', '));
      inBooleanList = false;
      continue;
    }
    const m = RULE.exec(line);
    if (m === null) continue;
    const access = tuples(m[1] as string, m[2] as string, m[3] as string, m[4] as string);
    if (note === null) for (const a of access) plain.add(a);
    else annotated.push({ kind: note.kind, access, booleans: note.booleans });
    note = null;
  }
  return { plain, annotated };
}

const KINDS: Array<[string, string]> = [
  ['already allowed by this policy', 'allowed'],
  ['a boolean allows it', 'boolean'],
  ['label the object or port instead', 'label'],
  ['an allow rule alone would not be enough', 'insufficient'],
  ['a constraint denies it', 'constraint'],
  ['the role change is denied', 'rbac'],
  ['the type bounds of', 'bounds'],
  ['a dontaudit rule hides this denial', 'dontaudit'],
  ['caution: ', 'caution'],
];

/** Our module: its rules (each (source, target, class) once) and its comments by kind, with their lines. */
function parseOurs(text: string) {
  const rules = new Set<string>();
  const triples = new Set<string>();
  /** The (source, target, class) of each allowxperm rule. */
  const xperms = new Set<string>();
  const comments = new Map<string, Array<{ kind: string; lines: string[] }>>();
  let current: { kind: string; lines: string[] } | null = null;
  for (const line of text.split('\n')) {
    const x = /^allowxperm (\S+) (\S+):(\S+) ioctl /.exec(line);
    if (x !== null) xperms.add(`${x[1]} ${x[2]}:${x[3]}`);
    const r = RULE.exec(line);
    if (r !== null) {
      const triple = `${r[1]} ${r[2]}:${r[3]}`;
      expect(triples.has(triple), `one rule per (source, target, class): ${triple}`).toBe(false);
      triples.add(triple);
      for (const a of tuples(r[1] as string, r[2] as string, r[3] as string, r[4] as string)) rules.add(a);
    }
    const c = /^# (\S+) (\S+):(\S+) (\{ [^}]+ \}|\S+): (.*)$/.exec(line);
    if (c !== null) {
      const kind = KINDS.find(([text]) => (c[5] as string).includes(text))?.[1];
      expect(kind, line).toBeDefined();
      current = { kind: kind as string, lines: [] };
      for (const a of tuples(c[1] as string, c[2] as string, c[3] as string, c[4] as string)) {
        const list = comments.get(a) ?? [];
        list.push(current);
        comments.set(a, list);
      }
    } else if (current !== null && line.startsWith('#   ')) current.lines.push(line.slice(4));
    else current = null;
  }
  const kindsOf = (a: string) => new Set((comments.get(a) ?? []).map((x) => x.kind));
  return { rules, comments, kindsOf, xperms };
}

/**
 * Where we differ from audit2allow on purpose, by the kind of our comment on the access:
 * - `label`: label or port advice (semanage, then restorecon) is the fix, preferred to an allow rule;
 *   audit2allow has no such advice and writes the rule, which the comment keeps as the last resort.
 * - `insufficient`: audit2why stops at the first failing check (TE) and audit2allow writes the rule;
 *   replaying the decision with that rule added shows that a constraint (or RBAC, or type bounds) still
 *   denies it, so the rule alone would not fix the denial.
 * - `rbac`, `bounds`: audit2allow writes no `#!!!!` note for audit2why's RBAC or BOUNDS and prints the
 *   rule; an allow rule cannot lift either.
 */
const NOT_A_RULE_ON_PURPOSE = new Set(['label', 'insufficient', 'rbac', 'bounds']);
/** audit2allow's note kinds and the comment kind that stands for each in our module. */
const NOTE_TO_COMMENT: Record<string, string> = {
  allowed: 'allowed',
  boolean: 'boolean',
  constraint: 'constraint',
  dontaudit: 'dontaudit',
};

describe.runIf(missing.length === 0 || inCi)(
  'explain --format module against audit2allow',
  { timeout: 180_000 },
  () => {
    it('has the corpus, the policy and the oracles', () => {
      expect(missing).toEqual([]);
    });

    for (const name of Object.keys(LOGS)) {
      it(`${name}: the same allow rules as audit2allow's plain ones, its notes as comments; checkmodule compiles it`, async () => {
        const text = input(name);
        const theirs = parseAudit2allow(audit2allow(text));
        const module = await ours(text);
        const mine = parseOurs(module);

        // Each access audit2allow annotates is one of our comments of the same kind, and no rule of ours, but
        // for a dontaudit rule: a verified allow rule fixes the denial, so we write it (with a comment saying
        // a dontaudit rule hides it), as the text and NDJSON formats offer it.
        for (const note of theirs.annotated) {
          for (const a of note.access) {
            const kinds = mine.kindsOf(a);
            // audit2why ignores extended permissions: an ioctl whose command no allowxperm rule lists is
            // "allowed" to audit2allow; the kernel denies it and we write the allowxperm rule instead.
            const xperm = note.kind === 'allowed' && mine.xperms.has(a.slice(0, a.lastIndexOf(' ')));
            expect(xperm || kinds.has(NOTE_TO_COMMENT[note.kind] as string), `${note.kind}: ${a}`).toBe(true);
            if (note.kind === 'dontaudit') expect(mine.rules.has(a), a).toBe(true);
            else if (!theirs.plain.has(a))
              expect(mine.rules.has(a), `${note.kind} as a rule: ${a}`).toBe(false);
            if (note.kind === 'boolean') {
              const lines = (mine.comments.get(a) ?? []).flatMap((c) => c.lines);
              for (const b of note.booleans) {
                expect(
                  lines.some((l) => l.startsWith(`setsebool -P ${b} `)),
                  `${b}: ${a}`,
                ).toBe(true);
              }
            }
          }
        }

        // Our rules are audit2allow's plain rules plus its dontaudit-annotated ones, but for the differences
        // on purpose above: a permission of a plain rule that is not in ours must be in one of our comments of
        // those kinds. (The comparison is per permission: a rule and a comment may share a (source, target,
        // class) when the denials differ, e.g. {relabelfrom} alone and {relabelfrom relabelto}.)
        const dontaudit = new Set(
          theirs.annotated.filter((n) => n.kind === 'dontaudit').flatMap((n) => n.access),
        );
        expect([...mine.rules].filter((a) => !theirs.plain.has(a) && !dontaudit.has(a))).toEqual([]);
        expect([...dontaudit].filter((a) => !mine.rules.has(a))).toEqual([]);
        const onPurpose = new Map<string, number>();
        const unexplained: string[] = [];
        for (const a of theirs.plain) {
          if (mine.rules.has(a)) continue;
          const purposes = [...mine.kindsOf(a)].filter((k) => NOT_A_RULE_ON_PURPOSE.has(k));
          if (purposes.length === 0) unexplained.push(a);
          for (const k of purposes) onPurpose.set(k, (onPurpose.get(k) ?? 0) + 1);
          if (purposes.includes('label')) {
            const lines = (mine.comments.get(a) ?? [])
              .filter((c) => c.kind === 'label')
              .flatMap((c) => c.lines);
            // A port's semanage commands, or restorecon for a file whose path the event tells (an AVC's
            // path=, or the PATH record of its inode: setroubleshoot/automount_exec_config.log).
            expect(
              lines.some((l) => l.startsWith('semanage ') || l.startsWith('restorecon ')),
              a,
            ).toBe(true);
          }
        }
        expect(unexplained).toEqual([]);
        console.info(
          `[module vs audit2allow] ${name}: ${mine.rules.size} rule permissions; not rules on purpose: ${JSON.stringify(Object.fromEntries(onPurpose))}`,
        );

        if (mine.rules.size === 0) {
          expect(module).toContain('# No allow rule: nothing to load.');
          return;
        }
        const dir = mkdtempSync(join(tmpdir(), 'avc-module-'));
        try {
          writeFileSync(join(dir, 'avcstream_local.te'), module);
          const r = spawnSync(
            'checkmodule',
            ['-M', '-m', '-o', 'avcstream_local.mod', 'avcstream_local.te'],
            {
              cwd: dir,
              encoding: 'utf8',
            },
          );
          expect(r.status, `${r.stdout}${r.stderr}`).toBe(0);
          expect(existsSync(join(dir, 'avcstream_local.mod'))).toBe(true);
        } finally {
          rmSync(dir, { recursive: true, force: true });
        }
      });
    }

    it('covers each difference on purpose with a known denial', async () => {
      // Label advice (httpd_t on var_t, bind_ports), an allow rule a constraint would still block (staff_t
      // relabelling bin_t: the can_change_object_identity constraint), a dontaudit rule (pam_t on xdm_t).
      const test = parseOurs(await ours(input('selinux-audit2allow/test.log')));
      expect(test.kindsOf('httpd_t var_t:file execute_no_trans').has('label')).toBe(true);
      expect(test.kindsOf('httpd_t reserved_port_t:tcp_socket name_bind').has('label')).toBe(true);
      const httpd = parseOurs(await ours(input('selinux-sepolgen/httpd.log')));
      expect(httpd.kindsOf('staff_t bin_t:dir relabelto').has('insufficient')).toBe(true);
      expect(httpd.rules.has('staff_t bin_t:dir relabelto')).toBe(false);
      const short = parseOurs(await ours(input('selinux-sepolgen/short.log')));
      expect(short.kindsOf('pam_t xdm_t:fifo_file ioctl').has('dontaudit')).toBe(true);
      expect(short.rules.has('pam_t xdm_t:fifo_file ioctl')).toBe(true);
      // A rule that grants an access guarding the system keeps audit2allow's rule, with a caution above it.
      const audit = parseOurs(await ours(input('selinux-sepolgen/audit.log')));
      expect(audit.kindsOf('crond_t auditd_etc_t:dir getattr').has('caution')).toBe(true);
      expect(audit.rules.has('crond_t auditd_etc_t:dir getattr')).toBe(true);
    });
  },
);
