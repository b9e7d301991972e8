// audit2why-style classification of a denial (binary-policy.md §26) with verified fixes and blast radius.
import { escapeText } from '@avcstream/audit';
import {
  AVTAB_ALLOWED,
  AVTAB_AUDITDENY,
  booleanValues,
  type ClassDatum,
  formatCond,
  isPolicyIdentifier,
  type Policy,
  permName,
  permNames,
} from '@avcstream/selinux-policy';
import {
  type Context,
  type ContextResult,
  type ContextTables,
  contextTables,
  parseContextIn,
} from './context.ts';
import {
  type BoolState,
  boolNodes,
  type Decision,
  type DecideMemo,
  decide,
  decideMemo,
  TeCache,
  flipBool,
  makeBoolState,
  permValue,
  REASON_BOUNDS,
  REASON_CONSTRAINT,
  REASON_RBAC,
  REASON_TE,
  type TeRules,
} from './decide.ts';
import { type CandidateCache, labelAdvice, restoreAdvice, wantsPortAdvice } from './relabel.ts';
import { cautionLine, sensitiveReason } from './sensitive.ts';
import { type Cause, renderConstraint } from './render.ts';
import { checkIoctl, type IoctlCheck, ioctlHex } from './xperms.ts';
import type { BlastRadius, BooleanSuggestion, Denial, Explanation, Fix, Verdict } from './types.ts';

export interface ExplainerOptions {
  /** Boolean values overriding the policy defaults (e.g. read from the host). */
  booleans?: Readonly<Record<string, boolean>>;
  /** Memoized explanations kept per boolean state before the cache is cleared. Default 100 000. */
  cacheSize?: number;
  /**
   * Memoize explanations (default true). A caller that caches its own rendering of each explanation (the
   * CLI) turns it off to keep memory down; contexts and TE rules stay cached either way. Memoized
   * explanations are shared, so they are frozen; unmemoized ones are fresh objects and are not.
   */
  memoize?: boolean;
}

export interface Explainer {
  readonly policy: Policy;
  explain(denial: Denial, booleanOverrides?: Readonly<Record<string, boolean>>): Explanation;
}

const MISMATCH =
  'Possible mismatch between this policy and the one under which the audit message was generated, ' +
  'or between current in-memory boolean settings and permanent ones.';
const MAX_PERMS = 64;
/** Rules quoted as evidence, at most. */
const MAX_LISTED_RULES = 8;
const MAX_PERM_NAME = 256;
/** Slots of an explainer's direct-mapped cache of parsed contexts (a power of two). */
const CONTEXT_SLOTS = 512;

interface StateCache {
  te: TeCache;
  bs: BoolState;
  memo: Map<string, Explanation>;
  blast: Map<number, BlastRadius>;
  /** The state with one boolean flipped, per boolean value (read-only, so shared). */
  flips: Map<number, BoolState>;
  /** Types suggested by label and port advice (see relabel.ts). */
  labels: CandidateCache;
}

function flipped(policy: Policy, st: StateCache, b: number): BoolState {
  let f = st.flips.get(b);
  if (f === undefined) {
    f = flipBool(policy, st.bs, b);
    st.flips.set(b, f);
  }
  return f;
}

function freezeExplanation(e: Explanation): Explanation {
  for (const b of e.booleans) {
    Object.freeze(b.blastRadius);
    Object.freeze(b);
  }
  for (const f of e.fixes) Object.freeze(f);
  Object.freeze(e.booleans);
  Object.freeze(e.fixes);
  Object.freeze(e.evidence);
  if (e.constraint) {
    Object.freeze(e.constraint.causes);
    Object.freeze(e.constraint);
  }
  return Object.freeze(e);
}

function permList(perms: readonly string[]): string {
  return perms.length === 1 ? (perms[0] as string) : `{ ${perms.slice().sort().join(' ')} }`;
}

/**
 * Per class: its permission lists by vector (memoized, bounded), and its permission bits in the order of
 * their names (permNames's names, sorted as it sorts them), so a list is written without sorting.
 */
interface PermLists {
  readonly byVector: Map<number, string>;
  readonly sortedBits: Uint8Array;
  readonly names: readonly string[];
}

const permListCache = new WeakMap<ClassDatum, PermLists>();
// The class of the last call and its lists: an explanation asks for several lists of one class.
let lastPermClass: ClassDatum | null = null;
let lastPermLists: PermLists | null = null;
/** permList of the permission names of vector `av` of a class, memoized per class (bounded). */
function permListOf(cls: ClassDatum, av: number): string {
  let p = cls === lastPermClass ? lastPermLists : permListCache.get(cls);
  if (p === undefined || p === null) {
    const names: string[] = [];
    for (let b = 0; b < cls.nperms; b++) names.push(permName(cls, b));
    const bits = names.map((_, b) => b);
    bits.sort((x, y) => {
      const nx = names[x] as string;
      const ny = names[y] as string;
      return nx < ny ? -1 : nx > ny ? 1 : x - y;
    });
    p = { byVector: new Map(), sortedBits: Uint8Array.from(bits), names };
    permListCache.set(cls, p);
  }
  lastPermClass = cls;
  lastPermLists = p;
  const m = p.byVector;
  let r = m.get(av);
  if (r === undefined) {
    r = sortedPermList(p, av);
    if (m.size >= 4096) m.clear();
    m.set(av, r);
  }
  return r;
}

/** permList(permNames(cls, av)) from the class's sorted bits. */
function sortedPermList(p: PermLists, av: number): string {
  const order = p.sortedBits;
  let first = '';
  let joined = '';
  let count = 0;
  for (let k = 0; k < order.length; k++) {
    const b = order[k] as number;
    if (((av >>> b) & 1) === 0) continue;
    const name = p.names[b] as string;
    if (count === 0) first = name;
    joined = count === 0 ? name : `${joined} ${name}`;
    count++;
  }
  return count === 1 ? first : `{ ${joined} }`;
}

/** Number of set bits of a 32-bit vector. */
function popcount(v: number): number {
  let x = v - ((v >>> 1) & 0x55555555);
  x = (x & 0x33333333) + ((x >>> 2) & 0x33333333);
  return Math.imul((x + (x >>> 4)) & 0x0f0f0f0f, 0x01010101) >>> 24;
}

function explanation(verdict: Verdict, evidence: string[], fixes: Fix[], booleans: BooleanSuggestion[] = []) {
  const e: Explanation = { verdict, booleans, evidence, fixes };
  return e;
}

/** Create an explainer over a policy, memoizing on (scontext, tcontext, tclass, perms, booleans). */
export function createExplainer(policy: Policy, opts: ExplainerOptions = {}): Explainer {
  const baseValues = booleanValues(policy, opts.booleans);
  const cacheSize = opts.cacheSize ?? 100_000;
  const memoize = opts.memoize ?? true;
  const states = new Map<string, StateCache>();
  const teCache = new TeCache(policy);
  // Parsed contexts, direct-mapped (a slot per cheap hash of the text, the last one parsed there): hot
  // contexts stay found, and a miss costs one string comparison. A Map of every context seen cost more
  // than parsing saved when contexts are many (bench:policy: 22.8k contexts over 29.8k denials).
  const contextKeys = new Array<string>(CONTEXT_SLOTS).fill('');
  const contextValues = new Array<ContextResult | undefined>(CONTEXT_SLOTS).fill(undefined);
  let ctxTables: ContextTables | null = null;

  function stateFor(overrides?: Readonly<Record<string, boolean>>): StateCache {
    let key = '';
    let values = baseValues;
    if (overrides) {
      const names = Object.keys(overrides).sort();
      const parts: string[] = [];
      for (const n of names) {
        const bv = policy.boolByName.get(n);
        if (bv === undefined) continue;
        const v = overrides[n] ? 1 : 0;
        if (baseValues[bv - 1] === v) continue;
        if (values === baseValues) values = baseValues.slice();
        values[bv - 1] = v;
        parts.push(`${n}=${v}`);
      }
      key = parts.join(',');
    }
    let st = states.get(key);
    if (!st) {
      if (states.size >= 64) states.clear();
      st = {
        te: teCache,
        bs: makeBoolState(policy, values),
        memo: new Map(),
        blast: new Map(),
        flips: new Map(),
        labels: new Map(),
      };
      states.set(key, st);
    }
    return st;
  }

  function context(text: string): ContextResult {
    const n = text.length;
    const slot =
      n === 0
        ? 0
        : (Math.imul(n, 0x9e3779b1) ^
            Math.imul(text.charCodeAt(n - 1), 31) ^
            Math.imul(text.charCodeAt(n >>> 1), 961) ^
            text.charCodeAt(n >>> 2)) &
          (CONTEXT_SLOTS - 1);
    const cached = contextValues[slot];
    if (cached !== undefined && contextKeys[slot] === text) return cached;
    if (ctxTables === null) ctxTables = contextTables(policy);
    const r = parseContextIn(policy, ctxTables, text, true);
    contextKeys[slot] = text;
    contextValues[slot] = r;
    return r;
  }

  // A policy holding a name that needs escaping (control, bidi... characters) gets every text escaped.
  const escapeNames = namesNeedEscaping(policy);

  function explain(denial: Denial, overrides?: Readonly<Record<string, boolean>>): Explanation {
    const st = stateFor(overrides);
    // An unmemoized explanation is the caller's own fresh object: freezing it would only cost time (the
    // blast radius objects it shares with the cache are frozen when cached).
    if (!memoize) return displaySafe(compute(policy, denial, st, context), escapeNames);
    const cmd = denial.ioctlcmd ?? -1;
    const port = denial.port ?? -1;
    const dl = denial.defaultLabel;
    const key = `${denial.scontext}\u0000${denial.tcontext}\u0000${denial.tclass}\u0000${denial.perms.join(' ')}\u0000${denial.permissive === true ? 1 : 0}${cmd < 0 ? '' : `\u0000${cmd}`}${port === -1 ? '' : `\u0000p${port}`}${dl ? `\u0000f${dl.type}\u0000${dl.spec}\u0000${dl.customizable === true ? 1 : 0}` : ''}`;
    let e = st.memo.get(key);
    if (e === undefined) {
      e = freezeExplanation(displaySafe(compute(policy, denial, st, context), escapeNames));
      if (st.memo.size >= cacheSize) st.memo.clear();
      st.memo.set(key, e);
    }
    return e;
  }

  return { policy, explain };
}

/** The DecideMemo compute empties and reuses (see decideMemo). */
let sharedMemo: DecideMemo | null = null;

function compute(
  policy: Policy,
  denial: Denial,
  st: StateCache,
  context: (t: string) => ContextResult,
): Explanation {
  const sres = context(denial.scontext);
  if (!sres.ok) return invalidContext('source', denial.scontext, sres.reason);
  const tres = context(denial.tcontext);
  if (!tres.ok) return invalidContext('target', denial.tcontext, tres.reason);
  const s = sres.context;
  const t = tres.context;
  const clsValue = policy.classByName.get(denial.tclass);
  if (clsValue === undefined) return unknownClass(policy, denial.tclass);
  const cls = policy.classes[clsValue - 1] as ClassDatum;
  if (denial.perms.length === 0 || denial.perms.length > MAX_PERMS) {
    return explanation(
      'UNKNOWN_PERM',
      [`the record lists ${denial.perms.length} permissions`],
      [note('Nothing to analyse: the permission list is empty or too long.')],
    );
  }
  let requested = 0;
  // Indexed loops on the hot path: a for-of allocates an iterator result per step until TurboFan runs.
  for (let k = 0; k < denial.perms.length; k++) {
    const p = denial.perms[k] as string;
    const v = p.length > MAX_PERM_NAME ? undefined : permValue(cls, p);
    if (v === undefined) return unknownPerm(policy, cls, p);
    requested |= 1 << (v - 1);
  }
  requested >>>= 0;
  // The requested permissions as listed: sorted names, the same as the vector's unless the record
  // repeats a permission.
  const perms =
    popcount(requested) === denial.perms.length ? permListOf(cls, requested) : permList(denial.perms);

  // The decisions below (boolean flips, the allow-rule check) share the constraint outcomes and the parent's.
  // One memo serves every explanation in turn (compute is synchronous and never nested).
  const memo = decideMemo(policy, clsValue, sharedMemo);
  sharedMemo = memo;
  const d = decide(policy, s, t, clsValue, requested, st.bs, 0, 0, st.te, memo);
  const evidence: string[] = [];
  if (denial.permissive === true) evidence.push('permissive=1: the access was logged but not blocked.');
  if (policy.permissive[s.type]) evidence.push(`${s.typeName} is a permissive domain in this policy.`);

  // An ioctl command the kernel checks against the triple's allowxperm rules (null: no such rules).
  const ioctl = ioctlCommand(policy, denial, cls, requested, s, t, clsValue);

  if (d.reasons === 0) {
    if (ioctl !== null && !ioctl.check.allowed) {
      const lines = [
        `The policy allows ${s.typeName} ${t.typeName}:${cls.name} ${perms}, but xperm rules restrict its ioctl commands and no allowxperm rule lists command ${ioctlHex(ioctl.cmd)}:`,
      ];
      for (const r of ioctl.check.quoted) lines.push(`  ${r}`);
      lines.push('audit2why ignores extended permissions and would report this access as allowed.');
      for (let k = 0; k < evidence.length; k++) lines.push(evidence[k] as string);
      // With the base permission allowed, a rule listing the command is all the kernel needs.
      return explanation(
        'TE_MISSING',
        lines,
        runnableOnly(
          [{ kind: 'allow', text: allowXpermText(denial, s, t, ioctl.cmd), verified: true }],
          [s.typeName, t.typeName, denial.tclass],
          'allowxperm rule',
        ),
      );
    }
    const te = st.te.get(s.type, t.type, clsValue);
    const lines = [`The policy allows ${s.typeName} ${t.typeName}:${cls.name} ${perms} now.`];
    grantingRules(lines, policy, te, clsValue, requested, st.bs, AVTAB_ALLOWED);
    lines.push(MISMATCH);
    for (let k = 0; k < evidence.length; k++) lines.push(evidence[k] as string);
    return explanation('ALLOWED', lines, [
      note('No change needed under this policy: it already allows the access (policy or booleans differ).'),
    ]);
  }

  if (d.reasons & REASON_TE) {
    // Every fix below would allow it: an access that guards the system is flagged first.
    const sensitive = sensitiveReason(policy, t, denial.tclass, denial.perms);
    if (sensitive !== null) evidence.push(cautionLine(sensitive, s.typeName));
    const flagged = (e: Explanation) => {
      if (sensitive !== null) e.caution = sensitive;
      return e;
    };
    const found: BooleanSuggestion[] = [];
    const te = st.te.get(s.type, t.type, clsValue);
    const candidates = candidateBooleans(policy, st.te, s.type, t.type, clsValue);
    for (let k = 0; k < candidates.length; k++) {
      const b = candidates[k] as number;
      const flip = flipped(policy, st, b);
      // Cheap necessary condition first: the flip must make TE grant everything requested.
      if ((requested & ~teAllowedWith(policy, te, flip)) !== 0) continue;
      const d2 = decide(policy, s, t, clsValue, requested, flip, 0, 0, st.te, memo);
      if (d2.reasons === 0) {
        const datum = policy.booleans[b - 1];
        if (!datum) continue;
        found.push({
          name: datum.name,
          current: st.bs.values[b - 1] === 1,
          blastRadius: blastRadius(policy, st, b),
        });
      }
    }
    const missing = (requested & ~d.teAllowed) >>> 0;
    // The object's default label (file_contexts), when the caller knows it: restorecon may be the fix.
    const restore =
      denial.defaultLabel === undefined || denial.defaultLabel === null
        ? null
        : restoreAdvice(
            policy,
            s,
            t,
            denial.tclass,
            clsValue,
            requested,
            perms,
            denial.perms,
            st.bs,
            denial.defaultLabel,
          );
    if (found.length > 0) {
      for (const b of found) {
        const bv = policy.boolByName.get(b.name) as number;
        evidence.push(
          `The boolean ${b.name} is ${b.current ? 'on' : 'off'}; turning it ${b.current ? 'off' : 'on'} allows ${perms}.`,
        );
        grantingRules(
          evidence,
          policy,
          te,
          clsValue,
          requested,
          flipped(policy, st, bv),
          AVTAB_ALLOWED,
          true,
        );
        evidence.push(
          `Blast radius of ${b.name}: ${b.blastRadius.rules} allow rules over ${b.blastRadius.triples} (source, target, class) triples.`,
        );
      }
      const fixes = found.flatMap((b) =>
        runnableOnly(
          [{ kind: 'setsebool', text: `setsebool -P ${b.name} ${b.current ? 0 : 1}`, verified: true }],
          [b.name],
          'setsebool command',
        ),
      );
      // A port on a generic port type: labelling it for a port type the domain may use now is narrower
      // than any boolean, so it comes first; the verdict and the booleans stay audit2why's.
      const advice = wantsPortAdvice(denial.tclass, denial.perms)
        ? labelAdvice(
            policy,
            st.labels,
            s,
            t,
            denial.tclass,
            clsValue,
            requested,
            perms,
            denial.perms,
            denial.port,
            st.bs,
            found,
          )
        : null;
      if (advice !== null) {
        for (const line of advice.evidence) evidence.push(line);
        return flagged(
          explanation(
            'BOOLEAN',
            evidence,
            [...runnableOnly(advice.fixes, advice.names, 'semanage command'), ...fixes],
            found,
          ),
        );
      }
      // A mislabelled object: restoring its label changes it alone, narrower than any boolean.
      if (restore !== null) {
        evidence.push(restore.evidence);
        if (restore.fix !== null)
          return flagged(explanation('BOOLEAN', evidence, [restore.fix, ...fixes], found));
      }
      return flagged(explanation('BOOLEAN', evidence, fixes, found));
    }
    const dontaudited = (requested & ~d.auditdeny) >>> 0;
    const fixes = verifiedAllow(
      policy,
      s,
      t,
      clsValue,
      requested,
      st,
      allowRuleText(denial, s, t, perms),
      memo,
    );
    evidence.unshift(
      `No allow rule grants ${s.typeName} ${t.typeName}:${cls.name} ${permListOf(cls, missing)}.`,
    );
    if ((requested & d.teAllowed) !== 0) {
      evidence.push(`Already allowed: ${permListOf(cls, (requested & d.teAllowed) >>> 0)}.`);
    }
    if (ioctl !== null && !ioctl.check.allowed) {
      evidence.push(
        `xperm rules also restrict the ioctl commands of ${s.typeName} ${t.typeName}:${cls.name}; command ${ioctlHex(ioctl.cmd)} needs an allowxperm rule as well.`,
      );
      const base = fixes[0];
      fixes.push({
        kind: 'allow',
        text: allowXpermText(denial, s, t, ioctl.cmd),
        verified: base?.verified === true,
      });
    }
    if (restore !== null) evidence.push(restore.evidence);
    // Label or port advice comes first: the allow rule stays, audit2allow-style, as the last resort.
    // restorecon, when the default label allows the access, is the label advice.
    const advice = restore?.fix
      ? null
      : labelAdvice(
          policy,
          st.labels,
          s,
          t,
          denial.tclass,
          clsValue,
          requested,
          perms,
          denial.perms,
          denial.port,
          st.bs,
        );
    const allowFixes = runnableOnly(
      fixes,
      [s.typeName, t.typeName, denial.tclass, ...denial.perms],
      'allow rule',
    );
    let offered = allowFixes;
    if (restore?.fix) offered = [restore.fix, ...allowFixes];
    else if (advice !== null) {
      for (const line of advice.evidence) evidence.push(line);
      offered = [...runnableOnly(advice.fixes, advice.names, 'semanage command'), ...allowFixes];
    }
    if (dontaudited !== 0) {
      evidence.push(`A dontaudit rule covers ${permListOf(cls, dontaudited)}:`);
      grantingRules(evidence, policy, te, clsValue, dontaudited, st.bs, AVTAB_AUDITDENY);
      evidence.push(MISMATCH);
      return flagged(explanation('DONTAUDIT', evidence, offered));
    }
    return flagged(explanation('TE_MISSING', evidence, offered));
  }

  if (d.reasons & REASON_CONSTRAINT) {
    let text = '';
    const causes = new Set<Cause>();
    for (const k of d.failed) {
      const r = renderConstraint(policy, cls, k, s, t);
      text += r.text;
      for (const c of r.causes) causes.add(c);
    }
    for (const line of text.trimEnd().split('\n')) evidence.push(line);
    for (const hint of contextHints(s, t)) evidence.push(hint);
    const causeList = [...causes];
    const e = explanation('CONSTRAINT', evidence, [
      note(
        `An allow rule will not help: a constraint denies it (failing test on ${causeList.join(', ') || 'the contexts'}). ` +
          'Change the labels or the constraint, or add the domain to the attribute the constraint exempts.',
      ),
    ]);
    e.constraint = { text: text.trimEnd(), causes: causeList };
    return e;
  }

  if (d.reasons & REASON_RBAC) {
    evidence.push(
      `Missing role allow rule: role ${s.roleName} may not change to role ${t.roleName} (no "allow ${s.roleName} ${t.roleName};").`,
    );
    const bad = invalidNames([s.roleName, t.roleName]);
    return explanation('RBAC', evidence, [
      note(
        bad === null
          ? `An allow rule will not help: the role change is denied by RBAC. A role allow rule "allow ${s.roleName} ${t.roleName};" is needed.`
          : `An allow rule will not help: the role change is denied by RBAC. No role allow rule is quoted: ${notIdentifiers(bad)}`,
      ),
    ]);
  }

  if (d.reasons & REASON_BOUNDS) {
    const parent = policy.types[(policy.types[s.type - 1]?.bounds ?? 0) - 1]?.name ?? '?';
    // The parent's target is the target's own parent type when it has one (libsepol's type_attribute_bounds_av).
    const parentTarget = policy.types[(policy.types[t.type - 1]?.bounds || t.type) - 1]?.name ?? '?';
    const hit = (d.boundsMasked & requested) >>> 0;
    evidence.push(
      `Type bounds: ${s.typeName} is bounded by ${parent}, which is not allowed every permission ${s.typeName} has on ${t.typeName}:${cls.name}.`,
      `The bound removes ${permListOf(cls, d.boundsMasked)} (${parent} lacks them on ${parentTarget}:${cls.name}); ` +
        `requested among them: ${hit === 0 ? 'none' : permNames(cls, hit).join(' ')}.`,
    );
    return explanation('BOUNDS', evidence, [
      note(
        `An allow rule for ${s.typeName} will not help: grant the permissions to its parent type ${parent} first.`,
      ),
    ]);
  }
  evidence.push('The decision removed permissions for no known reason.');
  return explanation('TE_MISSING', evidence, []);
}

/** The TE allowed vector of gathered rules under a boolean state. */
function teAllowedWith(policy: Policy, te: TeRules, bs: BoolState): number {
  let allowed = te.allowed;
  const ce = te.cond;
  for (let k = 0; k < ce.length; k++) {
    const e = ce[k] as number;
    if (policy.condAvtab.kind[e] !== AVTAB_ALLOWED) continue;
    const stt = bs.cond[policy.condEntryNode[e] as number] as number;
    if (stt !== -1 && stt === policy.condEntryBranch[e]) allowed |= policy.condAvtab.data[e] as number;
  }
  return allowed >>> 0;
}

const condTextCache = new WeakMap<Policy, string[]>();
/** formatCond, once per conditional node. */
function condText(policy: Policy, nodeIdx: number): string {
  let arr = condTextCache.get(policy);
  if (!arr) {
    arr = [];
    condTextCache.set(policy, arr);
  }
  let t = arr[nodeIdx];
  if (t === undefined) {
    const node = policy.conds[nodeIdx];
    t = node ? formatCond(policy, node) : '?';
    arr[nodeIdx] = t;
  }
  return t;
}

function note(text: string): Fix {
  return { kind: 'note', text, verified: false };
}

/** The distinct names of `names` that are not checkpolicy identifiers, or null when all are. */
function invalidNames(names: readonly string[]): string[] | null {
  let bad: string[] | null = null;
  for (let k = 0; k < names.length; k++) {
    const n = names[k] as string;
    if (isPolicyIdentifier(n)) continue;
    bad ??= [];
    if (!bad.includes(n)) bad.push(n);
  }
  return bad;
}

function notIdentifiers(bad: readonly string[]): string {
  const quoted = bad.map((n) => `"${n}"`).join(', ');
  return (
    `${quoted} ${bad.length === 1 ? 'is' : 'are'} not a valid policy identifier (checkpolicy accepts a letter, ` +
    'then letters, digits, _, - and single dots); the policy may be corrupt or crafted.'
  );
}

/**
 * `fixes` unchanged when every name their commands or rules are built from is a checkpolicy identifier.
 * Otherwise no runnable fix is offered (a crafted name could carry shell syntax or a newline into a
 * command an administrator pastes): the notes are kept, and a note saying which names are not valid
 * takes the place of the commands.
 */
function runnableOnly(fixes: Fix[], names: readonly string[], what: string): Fix[] {
  const bad = invalidNames(names);
  if (bad === null) return fixes;
  const out = [note(`No ${what} is offered: ${notIdentifiers(bad)}`)];
  for (const f of fixes) if (f.kind === 'note') out.push(f);
  return out;
}

const escapeCache = new WeakMap<Policy, boolean>();

/** True when a name of the policy (symbol, alias or permission) holds a character escapeText changes. */
function namesNeedEscaping(policy: Policy): boolean {
  let r = escapeCache.get(policy);
  if (r !== undefined) return r;
  r = false;
  const names: Iterable<string>[] = [
    policy.commonByName.keys(),
    policy.classByName.keys(),
    policy.roleByName.keys(),
    policy.typeByName.keys(),
    policy.userByName.keys(),
    policy.boolByName.keys(),
    policy.sensByName.keys(),
    policy.catByName.keys(),
  ];
  for (const c of policy.classes) names.push(c.permNames);
  for (const c of policy.commons) names.push(c.perms.keys());
  outer: for (const list of names) {
    for (const n of list) {
      if (escapeText(n) !== n) {
        r = true;
        break outer;
      }
    }
  }
  escapeCache.set(policy, r);
  return r;
}

/** Verdicts whose evidence quotes audit text (a context, class or permission the policy does not know). */
const QUOTES_AUDIT_TEXT: ReadonlySet<string> = new Set(['INVALID_CONTEXT', 'UNKNOWN_CLASS', 'UNKNOWN_PERM']);

/**
 * Evidence lines, fix texts and the constraint text with names (and quoted audit text) escaped by
 * escapeText, so that none holds a newline, a control or a bidi character. Only when the policy holds a
 * name that needs it or the explanation quotes audit text: otherwise every text is already safe.
 */
function displaySafe(e: Explanation, escapeNames: boolean): Explanation {
  if (!escapeNames && !QUOTES_AUDIT_TEXT.has(e.verdict)) return e;
  e.evidence = e.evidence.map(escapeText);
  e.fixes = e.fixes.map((f) => ({ kind: f.kind, text: escapeText(f.text), verified: f.verified }));
  if (e.constraint) e.constraint = { text: escapeText(e.constraint.text), causes: e.constraint.causes };
  if (e.caution !== undefined) e.caution = escapeText(e.caution);
  return e;
}

function invalidContext(which: 'source' | 'target', ctx: string, reason: string): Explanation {
  const shown = ctx.length > 256 ? `${ctx.slice(0, 256)}...` : ctx;
  return explanation(
    'INVALID_CONTEXT',
    [`Invalid ${which} context ${shown}: ${reason}.`, MISMATCH],
    [note('Replay the denial against the policy of the host that logged it, or relabel the object.')],
  );
}

function unknownClass(policy: Policy, name: string): Explanation {
  const shown = name.length > 128 ? `${name.slice(0, 128)}...` : name;
  const effect =
    policy.handleUnknown === 'allow'
      ? 'with handle_unknown=allow the kernel allows every permission of an unknown class, so this denial cannot come from this policy'
      : policy.handleUnknown === 'deny'
        ? 'with handle_unknown=deny the kernel denies every permission of an unknown class'
        : 'with handle_unknown=reject the kernel refuses to load a policy lacking a class it knows';
  return explanation(
    'UNKNOWN_CLASS',
    [`Class ${shown} is not defined by this policy; ${effect}.`],
    [
      note(
        'Define the class in the policy (update the policy package) or replay against the policy that logged it.',
      ),
    ],
  );
}

function unknownPerm(policy: Policy, cls: ClassDatum, perm: string): Explanation {
  const shown = perm.length > 128 ? `${perm.slice(0, 128)}...` : perm;
  const effect =
    policy.handleUnknown === 'allow'
      ? 'with handle_unknown=allow the kernel always grants it, so this denial cannot come from this policy'
      : policy.handleUnknown === 'deny'
        ? 'with handle_unknown=deny the kernel never grants it and always audits it'
        : 'with handle_unknown=reject the kernel refuses to load a policy lacking a permission it knows';
  return explanation(
    'UNKNOWN_PERM',
    [`Permission ${shown} is not defined for class ${cls.name} by this policy; ${effect}.`],
    [note('Update the policy so it defines the permission, or replay against the policy that logged it.')],
  );
}

function contextHints(s: Context, t: Context): string[] {
  const out: string[] = [];
  if (s.userName !== t.userName) {
    out.push(
      `Possible cause: the source user (${s.userName}) and target user (${t.userName}) are different.`,
    );
  }
  if (s.roleName !== t.roleName && t.roleName !== 'object_r') {
    out.push(
      `Possible cause: the source role (${s.roleName}) and target role (${t.roleName}) are different.`,
    );
  }
  if (s.mls !== t.mls) {
    out.push(`Possible cause: the source level (${s.mls}) and target level (${t.mls}) are different.`);
  }
  return out;
}

/**
 * The denial's ioctl command and the triple's xperm rules, when it asks for `ioctl` with an `ioctlcmd` and
 * the policy has ioctl xperm rules for (source, target, class); else null.
 */
function ioctlCommand(
  policy: Policy,
  denial: Denial,
  cls: ClassDatum,
  requested: number,
  s: Context,
  t: Context,
  clsValue: number,
): { cmd: number; check: IoctlCheck } | null {
  const cmd = denial.ioctlcmd;
  if (cmd === undefined || cmd === null || !Number.isInteger(cmd) || cmd < 0 || cmd > 0xffff) return null;
  const bit = permValue(cls, 'ioctl');
  if (bit === undefined || ((requested >>> (bit - 1)) & 1) === 0) return null;
  const check = checkIoctl(policy, s.type, t.type, clsValue, cmd);
  return check === null ? null : { cmd, check };
}

function allowXpermText(denial: Denial, s: Context, t: Context, cmd: number): string {
  const target = s.typeName === t.typeName ? 'self' : t.typeName;
  return `allowxperm ${s.typeName} ${target}:${denial.tclass} ioctl ${ioctlHex(cmd)};`;
}

/** audit2allow spelling: type names as written, `self` when equal, permissions sorted. */
function allowRuleText(denial: Denial, s: Context, t: Context, perms: string): string {
  const target = s.typeName === t.typeName ? 'self' : t.typeName;
  return `allow ${s.typeName} ${target}:${denial.tclass} ${perms};`;
}

function verifiedAllow(
  policy: Policy,
  s: Context,
  t: Context,
  cls: number,
  requested: number,
  st: StateCache,
  rule: string,
  memo: DecideMemo,
): Fix[] {
  const d: Decision = decide(policy, s, t, cls, requested, st.bs, requested, 0, st.te, memo);
  if (d.reasons === 0) return [{ kind: 'allow', text: rule, verified: true }];
  const datum = policy.classes[cls - 1] as ClassDatum;
  const why: string[] = [];
  if (d.reasons & REASON_CONSTRAINT) {
    for (const k of d.failed) why.push(renderConstraint(policy, datum, k, s, t).text.trimEnd());
  }
  if (d.reasons & REASON_RBAC) why.push(`role ${s.roleName} may not change to ${t.roleName}`);
  if (d.reasons & REASON_BOUNDS) why.push(`the type bounds of ${s.typeName} would mask it`);
  return [
    { kind: 'allow', text: rule, verified: false },
    note(`The allow rule alone would not be enough: ${why.join('; ')}.`),
  ];
}

const NO_BOOLEANS: number[] = [];

/** Booleans that can change the TE decision for (t1, t2, class), bounds chain included; ascending. */
function candidateBooleans(policy: Policy, te: TeCache, t1: number, t2: number, cls: number): number[] {
  const bounds = te.decideTables().bounds;
  // Most triples have no conditional rules and no bounded source: no booleans to try.
  if ((bounds[t1] ?? 0) === 0 && te.get(t1, t2, cls).cond.length === 0) return NO_BOOLEANS;
  const out = new Set<number>();
  let st = t1;
  let tt = t2;
  for (let depth = 0; depth < 32 && st !== 0; depth++) {
    const ce = te.get(st, tt, cls).cond;
    for (let k = 0; k < ce.length; k++) {
      const node = policy.conds[policy.condEntryNode[ce[k] as number] as number];
      for (const b of node?.booleans ?? []) out.add(b);
    }
    const parent = bounds[st] ?? 0;
    tt = bounds[tt] || tt;
    st = parent;
  }
  return [...out].sort((a, b) => a - b);
}

/**
 * The quoted rule lines (sesearch spelling) of a policy, built on first use and kept: an unconditional
 * (source, target, class) group's allow or dontaudit line by teVectors offset / 4, a conditional entry's
 * line by its condAvtab index. A rule quoted for one denial is often quoted again for others (rules on
 * attributes), and the line depends on the rule alone.
 */
interface RuleLines {
  readonly allow: Array<string | undefined>;
  readonly dontaudit: Array<string | undefined>;
  readonly cond: Array<string | undefined>;
}

const ruleLinesCache = new WeakMap<Policy, RuleLines>();
function ruleLinesOf(policy: Policy): RuleLines {
  let r = ruleLinesCache.get(policy);
  if (r === undefined) {
    // Dense arrays (an index far past the end would turn a growing array into a dictionary).
    const groups = policy.teVectors.length >>> 2;
    r = {
      allow: new Array<string | undefined>(groups).fill(undefined),
      dontaudit: new Array<string | undefined>(groups).fill(undefined),
      cond: new Array<string | undefined>(policy.condAvtab.kind.length).fill(undefined),
    };
    ruleLinesCache.set(policy, r);
  }
  return r;
}

/** One quoted rule: `  allow|dontaudit i j:class perms;suffix`, `v` the rule's own permission vector. */
function ruleLine(
  policy: Policy,
  datum: ClassDatum,
  word: string,
  i: number,
  j: number,
  v: number,
  suffix: string,
) {
  const si = policy.types[i - 1]?.name ?? String(i);
  const sj = policy.types[j - 1]?.name ?? String(j);
  return `  ${word} ${si} ${sj}:${datum.name} ${permListOf(datum, v)};${suffix}`;
}

/**
 * Appends to `out` the rules (sesearch spelling) of `kind` among the gathered rules of (t1, t2, class)
 * covering some of `perms`: at most MAX_LISTED_RULES, then '  ...' when there are more.
 */
function grantingRules(
  out: string[],
  policy: Policy,
  te: TeRules,
  cls: number,
  perms: number,
  bs: BoolState,
  kind: number,
  conditionalOnly = false,
): void {
  const base = out.length;
  const datum = policy.classes[cls - 1] as ClassDatum;
  const mask = datum.nperms >= 32 ? 0xffffffff : 2 ** datum.nperms - 1;
  const deny = kind === AVTAB_AUDITDENY;
  const word = deny ? 'dontaudit' : 'allow';
  const lines = ruleLinesOf(policy);
  const plain = deny ? lines.dontaudit : lines.allow;
  const pairs = te.pairs;
  const vectors = policy.teVectors;
  const lists = policy.condLists;
  const cav = policy.condAvtab;
  const entryNode = policy.condEntryNode;
  const entryBranch = policy.condEntryBranch;
  for (let p = 0; p < pairs.length && out.length - base <= MAX_LISTED_RULES; p += 4) {
    const o = pairs[p + 2] as number;
    const g = pairs[p + 3] as number;
    if (!conditionalOnly && o >= 0) {
      const kinds = vectors[o + 3] as number;
      if (kinds & kind) {
        const data = vectors[deny ? o + 2 : o] as number;
        const v = (deny ? ~data & mask : data) >>> 0;
        if ((v & perms) !== 0) {
          let line = plain[o >>> 2];
          if (line === undefined) {
            line = ruleLine(policy, datum, word, pairs[p] as number, pairs[p + 1] as number, v, '');
            plain[o >>> 2] = line;
          }
          out.push(line);
        }
      }
    }
    if (g < 0) continue;
    const end = lists[g + 1] as number;
    for (let k = lists[g] as number; k < end; k++) {
      const e = lists[k] as number;
      if (cav.kind[e] !== kind) continue;
      const nodeIdx = entryNode[e] as number;
      const st = bs.cond[nodeIdx] as number;
      const br = entryBranch[e] as number;
      if (st === -1 || st !== br) continue;
      const data = cav.data[e] as number;
      const v = (deny ? ~data & mask : data) >>> 0;
      if ((v & perms) === 0) continue;
      let line = lines.cond[e];
      if (line === undefined) {
        const node = policy.conds[nodeIdx];
        const expr = node ? condText(policy, nodeIdx) : '?';
        line = ruleLine(
          policy,
          datum,
          word,
          pairs[p] as number,
          pairs[p + 1] as number,
          v,
          ` [ ${expr} ]:${br ? 'True' : 'False'}`,
        );
        lines.cond[e] = line;
      }
      out.push(line);
    }
  }
  if (out.length - base > MAX_LISTED_RULES) {
    out.length = base + MAX_LISTED_RULES;
    out.push('  ...');
  }
}

const blastCache = new WeakMap<Policy, Map<string, BlastRadius>>();

/**
 * Blast radius of flipping boolean `b` from the current state: allow rules that become active, and the
 * distinct (source type, target type, class) triples they cover with attributes expanded. It depends only
 * on the values of the booleans that share a conditional with `b`, so it is cached per policy on those.
 */
function blastRadius(policy: Policy, st: StateCache, b: number): BlastRadius {
  const cached = st.blast.get(b);
  if (cached) return cached;
  const nodesOfB = boolNodes(policy)[b - 1] ?? [];
  let key = `${b}:`;
  const related = new Set<number>();
  for (const n of nodesOfB) for (const x of policy.conds[n]?.booleans ?? []) related.add(x);
  for (const x of [...related].sort((m, n) => m - n)) key += st.bs.values[x - 1] ? '1' : '0';
  let perPolicy = blastCache.get(policy);
  if (!perPolicy) {
    perPolicy = new Map();
    blastCache.set(policy, perPolicy);
  }
  let r = perPolicy.get(key);
  if (!r) {
    r = Object.freeze(computeBlastRadius(policy, st.bs, b, nodesOfB));
    perPolicy.set(key, r);
  }
  st.blast.set(b, r);
  return r;
}

function computeBlastRadius(
  policy: Policy,
  bs: BoolState,
  b: number,
  nodesOfB: readonly number[],
): BlastRadius {
  const flipped = flipBool(policy, bs, b);
  const av = policy.condAvtab;
  // Newly enabled allow entries, grouped by class.
  const byClass = new Map<number, number[]>();
  let rules = 0;
  for (const nodeIdx of nodesOfB) {
    const node = policy.conds[nodeIdx];
    if (!node) continue;
    const before = bs.cond[nodeIdx] as number;
    const after = flipped.cond[nodeIdx] as number;
    if (before === after) continue;
    const from = after === 1 ? node.trueStart : after === 0 ? node.falseStart : 0;
    const to = after === 1 ? node.trueEnd : after === 0 ? node.falseEnd : 0;
    for (let e = from; e < to; e++) {
      if (av.kind[e] !== AVTAB_ALLOWED) continue;
      rules++;
      const cls = av.tclass[e] as number;
      const list = byClass.get(cls);
      if (list) list.push(e);
      else byClass.set(cls, [e]);
    }
  }
  let triples = 0;
  const one = new Uint16Array(1);
  for (const entries of byClass.values()) {
    if (entries.length === 1) {
      const e = entries[0] as number;
      const sources = expandType(policy, av.source[e] as number, one).length;
      triples += sources * expandType(policy, av.target[e] as number, one).length;
      continue;
    }
    triples += coveredPairs(policy, entries);
  }
  return { rules, triples };
}

const NO_TYPES = new Uint16Array(0);

/**
 * The types of a type or attribute value: the attribute's members, or the type itself written into `one`
 * (always a Uint16Array, so that the loops reading it see one kind of array).
 */
function expandType(policy: Policy, v: number, one: Uint16Array): Uint16Array {
  if (policy.types[v - 1]?.isAttribute) return policy.attrMembers[v] ?? NO_TYPES;
  one[0] = v;
  return one;
}

/**
 * The distinct (source type, target type) pairs covered by several allow entries of one class, attributes
 * expanded. Source types are grouped by the set of entries whose source side holds them (their
 * signature): a source's pairs are the union of those entries' targets, the same for the whole group, so
 * the cost follows the sizes of the source and target sets, not their product.
 */
function coveredPairs(policy: Policy, entries: readonly number[]): number {
  const av = policy.condAvtab;
  const ntypes = policy.types.length;
  // Signatures form a trie built in entry order: id 0 is the empty set, id x > 0 is its parent's set plus
  // the entry at position entryAt[x]. `stamp`/`next`: the id a signature extends to at the current entry.
  const sigOf = new Int32Array(ntypes + 1);
  const parent: number[] = [0];
  const entryAt: number[] = [-1];
  const stamp: number[] = [-1];
  const next: number[] = [0];
  const touched: number[] = [];
  const one = new Uint16Array(1);
  for (let k = 0; k < entries.length; k++) {
    const sources = expandType(policy, av.source[entries[k] as number] as number, one);
    for (let x = 0; x < sources.length; x++) {
      const sv = sources[x] as number;
      const old = sigOf[sv] as number;
      if (old === 0) touched.push(sv);
      let id: number;
      if (stamp[old] === k) id = next[old] as number;
      else {
        id = parent.length;
        parent.push(old);
        entryAt.push(k);
        stamp.push(-1);
        next.push(0);
        stamp[old] = k;
        next[old] = id;
      }
      sigOf[sv] = id;
    }
  }
  const groupSize = new Int32Array(parent.length);
  for (const sv of touched) {
    const id = sigOf[sv] as number;
    groupSize[id] = (groupSize[id] as number) + 1;
  }
  const row = new Uint32Array((ntypes + 32) >>> 5);
  let triples = 0;
  for (let id = 1; id < parent.length; id++) {
    const n = groupSize[id] as number;
    if (n === 0) continue;
    row.fill(0);
    let covered = 0;
    for (let x = id; x !== 0; x = parent[x] as number) {
      const targets = expandType(policy, av.target[entries[entryAt[x] as number] as number] as number, one);
      for (let y = 0; y < targets.length; y++) {
        const tv = targets[y] as number;
        const w = row[tv >>> 5] as number;
        const bit = 1 << (tv & 31);
        if ((w & bit) === 0) {
          row[tv >>> 5] = (w | bit) >>> 0;
          covered++;
        }
      }
    }
    triples += covered * n;
  }
  return triples;
}
