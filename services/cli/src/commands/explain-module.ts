// `avcstream explain --format module`: one loadable policy module (checkmodule -M syntax, audit2allow -m
// layout) for all the denials of the input. Pure: the command feeds it explained denials and prints it.
import type { Explanation, Fix } from '@avcstream/selinux-access';
import { isPolicyIdentifier, type Policy } from '@avcstream/selinux-policy';

export const DEFAULT_MODULE_NAME = 'avcstream_local';

/**
 * Reserved words of checkpolicy's lexer (policy_scan.l), each also reserved in all capitals: a name spelled
 * like one is a syntax error where the grammar expects an identifier (module name, type, class, permission).
 * Checked against checkmodule 3.x.
 */
const KEYWORDS: ReadonlySet<string> = new Set(
  (
    'alias allow allowxperm and attribute attribute_role auditallow auditallowxperm auditdeny bool category ' +
    'class clone common constrain default_range default_role default_type default_user devicetreecon dom ' +
    'domby dominance dontaudit dontauditxperm else eq expandattribute false fs_use_task fs_use_trans ' +
    'fs_use_xattr fscon genfscon glblub h1 h2 high ibendportcon ibpkeycon if incomp inherits iomemcon ' +
    'ioportcon l1 l2 level low low-high mlsconstrain mlsvalidatetrans module netifcon neverallow ' +
    'neverallowxperm nodecon not optional or pcidevicecon permissive pirqcon policycap portcon r1 r2 r3 ' +
    'range range_transition require role role_transition roleattribute roles sameuser sensitivity sid source ' +
    't1 t2 t3 target true tunable type type_change type_member type_transition typealias typeattribute ' +
    'typebounds types u1 u2 u3 user validatetrans xor'
  ).split(' '),
);

/**
 * True when `name` can stand for a name in a policy module: a checkpolicy identifier (isPolicyIdentifier)
 * that is not one of the lexer's reserved words (`t2`, `sensitivity`, `ALLOW`...).
 */
export function isModuleIdentifier(name: string): boolean {
  if (!isPolicyIdentifier(name)) return false;
  const lower = name.toLowerCase();
  return !(KEYWORDS.has(lower) && (name === lower || name === name.toUpperCase()));
}

// What became of one denial (PolicyModule.add): its outcome, counted per record by PolicyModule.count.
/** It gave allow (or allowxperm) rules. */
export const MODULE_RULE = 0;
/** It is listed as a comment: an allow rule is not the fix (boolean, label, constraint...). */
export const MODULE_COMMENT = 1;
/** Left out: a context this policy does not define (INVALID_CONTEXT). */
export const MODULE_INVALID_CONTEXT = 2;
/** Left out: a class or permission this policy does not define (UNKNOWN_CLASS, UNKNOWN_PERM). */
export const MODULE_UNKNOWN = 3;
/** Left out: a name it would need is not a module identifier (crafted policy), or its fix was withheld. */
export const MODULE_UNNAMED = 4;
/** Left out: the explanation offers no fix at all. */
export const MODULE_NO_FIX = 5;
/** Left out: the module already holds `maxEntries` rules and comments (memory bound). */
export const MODULE_DROPPED = 6;
const OUTCOMES = 7;

/** Rules and comments one module holds at most (each ~1 KB with its sets): ~100 MB. */
export const MAX_MODULE_ENTRIES = 100_000;

/** The fields of a denial the module needs: contexts, class and permissions as in the record. */
export interface ModuleDenial {
  readonly scontext: string;
  readonly tcontext: string;
  readonly tclass: string;
  readonly perms: readonly string[];
}

export interface PolicyModule {
  /**
   * Merges one explained denial into the module and returns its outcome (MODULE_*). Adding the same
   * denial again changes nothing, so a caller may add each distinct denial once and count every record.
   */
  add(denial: ModuleDenial, explanation: Explanation): number;
  /** Counts one record of outcome `outcome`, for the summary at the end of the module. */
  count(outcome: number): void;
  /** The module text: `module NAME 1.0;`, the require block, the rules and comments by source domain. */
  render(name: string): string;
  /** How many allow and allowxperm rules the module holds (0: checkmodule rejects it, nothing to load). */
  ruleCount(): number;
}

// Comment kinds, in the order they are written for one (source, target, class).
const C_ALLOWED = 0;
const C_BOOLEAN = 1;
const C_LABEL = 2;
const C_CONSTRAINT = 3;
const C_RBAC = 4;
const C_BOUNDS = 5;
const C_INSUFFICIENT = 6;
const C_DONTAUDIT = 7;
/** The rule grants an access that guards the system (the explanation's `caution`). */
const C_CAUTION = 8;

/** Commands quoted in one comment, at most (label advice differs by port). */
const MAX_COMMANDS = 16;
/** Characters a quoted command may hold: those of identifiers, numbers, options and the placeholders. */
const COMMAND = /^[A-Za-z0-9 _.:'<>/=-]{1,512}$/;
const ALLOW = /^allow (\S+) (\S+):(\S+) (?:\{ ([^{}]+) \}|(\S+));$/;
const ALLOWXPERM = /^allowxperm (\S+) (\S+):(\S+) ioctl 0x([0-9a-f]{1,4});$/;
/** The fields a failing constraint test can be on, in the order they are listed. */
const CONSTRAINT_CAUSES: readonly string[] = ['user', 'role', 'type', 'level'];

interface Rule {
  readonly source: string;
  readonly target: string;
  readonly tclass: string;
  readonly perms: Set<string>;
}

interface XpermRule {
  readonly source: string;
  readonly target: string;
  readonly tclass: string;
  readonly cmds: Set<number>;
}

interface Comment {
  readonly kind: number;
  readonly source: string;
  readonly target: string;
  readonly tclass: string;
  readonly perms: Set<string>;
  /** Commands (setsebool, semanage, restorecon), in the order first seen. */
  readonly commands: Set<string>;
  /** More distinct commands than MAX_COMMANDS were seen. */
  more: boolean;
  /** Failing constraint fields (CONSTRAINT). */
  readonly causes: Set<string>;
  /** The verified rules a label comment offers as the last resort, merged: permissions, ioctl commands. */
  readonly lastPerms: Set<string>;
  readonly lastCmds: Set<number>;
  /** Why the access guards the system (CAUTION). */
  readonly notes: Set<string>;
}

/** The type field of a context `user:role:type[:level]`, or ''. */
function typeOf(context: string): string {
  const a = context.indexOf(':');
  const b = a < 0 ? -1 : context.indexOf(':', a + 1);
  if (b < 0) return '';
  const c = context.indexOf(':', b + 1);
  return c < 0 ? context.slice(b + 1) : context.slice(b + 1, c);
}

function permText(perms: Iterable<string>): string {
  const list = [...perms].sort();
  return list.length === 1 ? (list[0] as string) : `{ ${list.join(' ')} }`;
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Sorted ioctl commands as checkmodule reads them: ranges of consecutive ones, braces unless one alone. */
function xpermText(cmds: Iterable<number>): string {
  const list = [...cmds].sort((a, b) => a - b);
  const parts: string[] = [];
  for (let i = 0; i < list.length; ) {
    let j = i;
    while (j + 1 < list.length && list[j + 1] === (list[j] as number) + 1) j++;
    const lo = `0x${(list[i] as number).toString(16)}`;
    parts.push(j === i ? lo : `${lo}-0x${(list[j] as number).toString(16)}`);
    i = j + 1;
  }
  return parts.length === 1 && list.length === 1 ? (parts[0] as string) : `{ ${parts.join(' ')} }`;
}

function plural(n: number, one: string, many: string): string {
  return `${n} ${n === 1 ? one : many}`;
}

/** The comment kind of the verdicts that are only ever comments. */
const COMMENT_KINDS: Readonly<Record<string, number>> = {
  ALLOWED: C_ALLOWED,
  BOOLEAN: C_BOOLEAN,
  CONSTRAINT: C_CONSTRAINT,
  RBAC: C_RBAC,
  BOUNDS: C_BOUNDS,
};

/** The key of a (source, target, class) rule. */
const ruleKey = (r: { source: string; target: string; tclass: string }) =>
  `${r.source}\u0000${r.target}\u0000${r.tclass}`;

/** The key of a comment of `kind` on (source, target, class). */
const commentKey = (kind: number, source: string, target: string, tclass: string) =>
  `${kind}\u0000${source}\u0000${target}\u0000${tclass}`;

/** An empty module for `policy`: names are checked against it before they go into the text. */
export function createPolicyModule(policy: Policy, opts: { maxEntries?: number } = {}): PolicyModule {
  const rules = new Map<string, Rule>();
  const xperms = new Map<string, XpermRule>();
  const comments = new Map<string, Comment>();
  const counts = new Array<number>(OUTCOMES).fill(0);
  const maxEntries = opts.maxEntries ?? MAX_MODULE_ENTRIES;
  /** Whether one more rule or comment may be added (entries already there still merge). */
  const full = () => rules.size + xperms.size + comments.size >= maxEntries;

  /** A type name of the policy that can go into the module. */
  const isType = (name: string) => isModuleIdentifier(name) && policy.typeByName.has(name);
  /** A class of the policy and permissions of it, all module identifiers. */
  const isClassPerms = (tclass: string, perms: readonly string[]) => {
    const v = policy.classByName.get(tclass);
    const cls = v === undefined ? undefined : policy.classes[v - 1];
    if (cls === undefined || !isModuleIdentifier(tclass) || perms.length === 0) return false;
    return perms.every((p) => isModuleIdentifier(p) && cls.permNames.includes(p));
  };

  const addComment = (
    kind: number,
    source: string,
    target: string,
    tclass: string,
    perms: readonly string[],
  ): Comment => {
    const key = commentKey(kind, source, target, tclass);
    let c = comments.get(key);
    if (c === undefined) {
      c = {
        kind,
        source,
        target,
        tclass,
        perms: new Set(),
        commands: new Set(),
        more: false,
        causes: new Set(),
        lastPerms: new Set(),
        lastCmds: new Set(),
        notes: new Set(),
      };
      comments.set(key, c);
    }
    for (const p of perms) c.perms.add(p);
    return c;
  };

  const addCommands = (c: Comment, fixes: readonly Fix[]) => {
    for (const f of fixes) {
      if (!COMMAND.test(f.text)) continue;
      const text = f.verified ? f.text : `${f.text}   (unverified)`;
      if (c.commands.has(text)) continue;
      if (c.commands.size >= MAX_COMMANDS) c.more = true;
      else c.commands.add(text);
    }
  };

  /** The rule of an allow fix, its names checked; null when it does not parse or a name is not valid. */
  const parseAllow = (text: string) => {
    const m = ALLOW.exec(text);
    if (m !== null) {
      const [, source, target, tclass, list, one] = m as unknown as [
        string,
        string,
        string,
        string,
        string?,
        string?,
      ];
      const perms = list !== undefined ? list.split(' ') : [one as string];
      if (!isType(source) || (target !== 'self' && !isType(target)) || !isClassPerms(tclass, perms))
        return null;
      return { xperm: false as const, source, target, tclass, perms, cmd: 0 };
    }
    const x = ALLOWXPERM.exec(text);
    if (x === null) return null;
    const [, source, target, tclass, hex] = x as unknown as [string, string, string, string, string];
    if (!isType(source) || (target !== 'self' && !isType(target)) || !isClassPerms(tclass, ['ioctl']))
      return null;
    return { xperm: true as const, source, target, tclass, perms: ['ioctl'], cmd: Number.parseInt(hex, 16) };
  };

  function add(d: ModuleDenial, e: Explanation): number {
    switch (e.verdict) {
      case 'INVALID_CONTEXT':
        return MODULE_INVALID_CONTEXT;
      case 'UNKNOWN_CLASS':
      case 'UNKNOWN_PERM':
        return MODULE_UNKNOWN;
    }
    const source = typeOf(d.scontext);
    const tt = typeOf(d.tcontext);
    const perms = [...new Set(d.perms)];
    if (!isType(source) || !isType(tt) || !isClassPerms(d.tclass, perms)) return MODULE_UNNAMED;
    const target = tt === source ? 'self' : tt;
    const comment = (kind: number) => addComment(kind, source, target, d.tclass, perms);
    /** No room for this denial's new comment of `kind` (an existing one still merges). */
    const hasComment = (kind: number) => comments.has(commentKey(kind, source, target, d.tclass));
    const noRoom = (kind: number) => full() && !hasComment(kind);
    const runnable = e.fixes.filter((f) => f.kind !== 'note');
    const kind = COMMENT_KINDS[e.verdict];
    if (kind !== undefined && noRoom(kind)) return MODULE_DROPPED;
    switch (e.verdict) {
      case 'ALLOWED':
        comment(C_ALLOWED);
        return MODULE_COMMENT;
      case 'BOOLEAN': {
        // A port on a generic port type gets semanage port commands first, a mislabelled file restorecon
        // (narrower than a boolean).
        const commands = runnable.filter(
          (f) => f.kind === 'setsebool' || f.kind === 'semanage' || f.kind === 'restorecon',
        );
        if (commands.length === 0) return MODULE_UNNAMED;
        addCommands(comment(C_BOOLEAN), commands);
        return MODULE_COMMENT;
      }
      case 'CONSTRAINT': {
        const c = comment(C_CONSTRAINT);
        for (const cause of e.constraint?.causes ?? [])
          if (CONSTRAINT_CAUSES.includes(cause)) c.causes.add(cause);
        return MODULE_COMMENT;
      }
      case 'RBAC':
        comment(C_RBAC);
        return MODULE_COMMENT;
      case 'BOUNDS':
        comment(C_BOUNDS);
        return MODULE_COMMENT;
    }
    // TE_MISSING, DONTAUDIT: the verified allow rules, unless label or port advice comes first.
    if (runnable.length === 0) {
      // A withheld fix leaves a note saying so in place of the commands (runnableOnly).
      return e.fixes.length === 0 ? MODULE_NO_FIX : MODULE_UNNAMED;
    }
    const allows = runnable.filter((f) => f.kind === 'allow');
    const parsed = allows.map((f) => parseAllow(f.text));
    const advice = runnable.filter((f) => f.kind === 'semanage' || f.kind === 'restorecon');
    if (advice.length > 0) {
      if (noRoom(C_LABEL)) return MODULE_DROPPED;
      const c = comment(C_LABEL);
      addCommands(c, advice);
      if (allows.every((f) => f.verified)) {
        for (const r of parsed) {
          if (r === null || r.source !== source || r.target !== target || r.tclass !== d.tclass) continue;
          if (r.xperm) c.lastCmds.add(r.cmd);
          else for (const p of r.perms) c.lastPerms.add(p);
        }
      }
      return MODULE_COMMENT;
    }
    if (allows.length === 0 || parsed.some((r) => r === null)) return MODULE_UNNAMED;
    if (allows.some((f) => !f.verified)) {
      if (noRoom(C_INSUFFICIENT)) return MODULE_DROPPED;
      comment(C_INSUFFICIENT);
      return MODULE_COMMENT;
    }
    // All of the denial or none of it: new rules (and a dontaudit note) only while there is room.
    let fresh = 0;
    for (const r of parsed) {
      if (r === null) continue;
      const key = ruleKey(r);
      if (!(r.xperm ? xperms : rules).has(key)) fresh++;
    }
    if (e.verdict === 'DONTAUDIT' && !hasComment(C_DONTAUDIT)) fresh++;
    if (e.caution !== undefined && !hasComment(C_CAUTION)) fresh++;
    if (fresh > 0 && rules.size + xperms.size + comments.size + fresh > maxEntries) return MODULE_DROPPED;
    for (const r of parsed) {
      if (r === null) continue;
      const key = ruleKey(r);
      if (r.xperm) {
        let x = xperms.get(key);
        if (x === undefined) {
          x = { source: r.source, target: r.target, tclass: r.tclass, cmds: new Set() };
          xperms.set(key, x);
        }
        x.cmds.add(r.cmd);
        continue;
      }
      let rule = rules.get(key);
      if (rule === undefined) {
        rule = { source: r.source, target: r.target, tclass: r.tclass, perms: new Set() };
        rules.set(key, rule);
      }
      for (const p of r.perms) rule.perms.add(p);
    }
    if (e.verdict === 'DONTAUDIT') comment(C_DONTAUDIT);
    if (e.caution !== undefined) comment(C_CAUTION).notes.add(e.caution);
    return MODULE_RULE;
  }

  function count(outcome: number): void {
    if (outcome >= 0 && outcome < OUTCOMES) counts[outcome] = (counts[outcome] as number) + 1;
  }

  function commentText(c: Comment): string {
    const what = `# ${c.source} ${c.target}:${c.tclass} ${permText(c.perms)}: `;
    const commands = () => {
      let s = '';
      for (const command of c.commands) s += `#   ${command}\n`;
      if (c.more) s += '#   ... (more commands left out)\n';
      return s;
    };
    switch (c.kind) {
      case C_ALLOWED:
        return `${what}already allowed by this policy (the policy or booleans that logged it differ); no rule needed.\n`;
      case C_BOOLEAN:
        return [...c.commands].some((x) => x.startsWith('semanage '))
          ? `${what}a boolean allows it, no rule needed; one of (labelling the port is narrower than a boolean):\n${commands()}`
          : `${what}a boolean allows it, no rule needed; one of:\n${commands()}`;
      case C_LABEL: {
        let s = `${what}label the object or port instead (preferred to an allow rule):\n${commands()}`;
        const rule = `${c.source} ${c.target}:${c.tclass}`;
        if (c.lastPerms.size > 0) s += `#   as a last resort: allow ${rule} ${permText(c.lastPerms)};\n`;
        if (c.lastCmds.size > 0)
          s += `#   as a last resort: allowxperm ${rule} ioctl ${xpermText(c.lastCmds)};\n`;
        return s;
      }
      case C_CONSTRAINT: {
        const causes = CONSTRAINT_CAUSES.filter((x) => c.causes.has(x));
        return `${what}an allow rule will not help: a constraint denies it${causes.length > 0 ? ` (failing test on ${causes.join(', ')})` : ''}.\n`;
      }
      case C_RBAC:
        return `${what}an allow rule will not help: the role change is denied (a role allow rule is needed).\n`;
      case C_BOUNDS:
        return `${what}an allow rule will not help: the type bounds of ${c.source} mask it (grant its parent type first).\n`;
      case C_INSUFFICIENT:
        return `${what}an allow rule alone would not be enough (a constraint, role or type bounds check denies it too).\n`;
      case C_CAUTION:
        return `${what}caution: ${[...c.notes].join('; ')}. The allow rule below grants it: find out why the domain asked before loading it.\n`;
      default:
        return `${what}a dontaudit rule hides this denial; the allow rule below grants it.\n`;
    }
  }

  function summary(): string {
    const denials = counts.reduce((a, b) => a + b, 0);
    if (denials === 0) return '# 0 denials.\n';
    const parts = [`${plural(denials, 'denial', 'denials')}: ${counts[MODULE_RULE]} in allow rules`];
    if ((counts[MODULE_COMMENT] as number) > 0) parts.push(`${counts[MODULE_COMMENT]} in comments`);
    let s = `# ${parts.join(', ')}`;
    const left: string[] = [];
    const n = (o: number) => counts[o] as number;
    if (n(MODULE_INVALID_CONTEXT) > 0)
      left.push(`${n(MODULE_INVALID_CONTEXT)} with a context this policy does not define`);
    if (n(MODULE_UNKNOWN) > 0)
      left.push(`${n(MODULE_UNKNOWN)} with a class or permission it does not define`);
    if (n(MODULE_UNNAMED) > 0) left.push(`${n(MODULE_UNNAMED)} with a name that is not a policy identifier`);
    if (n(MODULE_NO_FIX) > 0) left.push(`${n(MODULE_NO_FIX)} without a fix`);
    if (n(MODULE_DROPPED) > 0)
      left.push(`${n(MODULE_DROPPED)} past the limit of ${maxEntries} rules and comments per module`);
    if (left.length > 0) s += `; left out: ${left.join(', ')}`;
    return `${s}.\n`;
  }

  function render(name: string): string {
    let s = `module ${name} 1.0;\n\n`;
    const types = new Set<string>();
    const classes = new Map<string, Set<string>>();
    const need = (r: { source: string; target: string; tclass: string }, perms: Iterable<string>) => {
      types.add(r.source);
      if (r.target !== 'self') types.add(r.target);
      let set = classes.get(r.tclass);
      if (set === undefined) {
        set = new Set();
        classes.set(r.tclass, set);
      }
      for (const p of perms) set.add(p);
    };
    for (const r of rules.values()) need(r, r.perms);
    for (const x of xperms.values()) need(x, ['ioctl']);
    if (types.size === 0) s += '# No allow rule: nothing to load.\n\n';
    else {
      s += 'require {\n';
      for (const t of [...types].sort()) s += `\ttype ${t};\n`;
      for (const c of [...classes.keys()].sort()) s += `\tclass ${c} ${permText(classes.get(c) ?? [])};\n`;
      s += '}\n\n';
    }
    // Entries by source domain, then target and class: comments first (audit2allow puts its notes before
    // the rule), then the allow rule, then the allowxperm rule.
    type Entry = { source: string; target: string; tclass: string; order: number; text: string };
    const entries: Entry[] = [];
    for (const c of comments.values()) entries.push({ ...c, order: c.kind, text: `\n${commentText(c)}` });
    for (const r of rules.values()) {
      entries.push({
        ...r,
        order: 100,
        text: `allow ${r.source} ${r.target}:${r.tclass} ${permText(r.perms)};\n`,
      });
    }
    for (const x of xperms.values()) {
      entries.push({
        ...x,
        order: 101,
        text: `allowxperm ${x.source} ${x.target}:${x.tclass} ioctl ${xpermText(x.cmds)};\n`,
      });
    }
    entries.sort(
      (a, b) =>
        cmp(a.source, b.source) || cmp(a.target, b.target) || cmp(a.tclass, b.tclass) || a.order - b.order,
    );
    let domain: string | null = null;
    for (const e of entries) {
      if (e.source !== domain) {
        if (domain !== null) s += '\n';
        domain = e.source;
        s += `#============= ${domain} ==============\n`;
      }
      s += e.text;
    }
    if (domain !== null) s += '\n';
    return s + summary();
  }

  return { add, count, render, ruleCount: () => rules.size + xperms.size };
}
