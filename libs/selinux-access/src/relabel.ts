// Label and port advice (setroubleshoot's bind_ports / connect_ports and restorecon / public_content
// plugins): when a TE denial hits a port type or a generic file label, the object's label is usually the
// problem, not the policy. Each suggested type is checked with the engine's own decision first.
import {
  AVTAB_ALLOWED,
  AVTAB_TRANSITION,
  type Policy,
  portconIndex,
  portProtocolNumber,
} from '@avcstream/selinux-policy';
import type { Context } from './context.ts';
import { FILE_CLASSES } from './file-contexts.ts';
import { type BoolState, decide, permValue } from './decide.ts';
import type { BooleanSuggestion, Fix } from './types.ts';

/**
 * Generic file types: labels that mean "nobody labelled this object for its use". default_t (no
 * file_contexts entry), unlabeled_t and file_t (no label at all), and the catch-all labels of the trees
 * file_contexts covers only in part: var_t (/var), tmp_t (files created in /tmp without a transition),
 * etc_t (/etc) and usr_t (/usr). etc_t and usr_t are kept although most of what they label is meant to
 * be shared: a denial on them asks for more than the tree's generic access (a service writing its own
 * config under /etc, cron running a script under /etc, a service reading data under /usr/share), which
 * the service's own type gives (*_etc_t, *_conf_t, bin_t...), as var_t's objects get *_var_lib_t. Home
 * labels (user_home_t, user_home_dir_t, admin_home_t, home_root_t) are not generic: they are what users'
 * files are labelled for, and a service's access to them is a policy choice (booleans such as
 * httpd_enable_homedirs, or a type such as httpd_user_content_t), not a forgotten label. A denial on one
 * of these types is usually fixed by labelling the object with a type of its service. Only those the
 * policy defines are used.
 */
export const GENERIC_FILE_TYPES: readonly string[] = [
  'default_t',
  'unlabeled_t',
  'file_t',
  'var_t',
  'tmp_t',
  'etc_t',
  'usr_t',
];

/**
 * Types never suggested as a new label: the generic ones, and the home labels (a service's object is never
 * a user's file; the booleans or the service's user-content type are the fix there).
 */
const NOT_SUGGESTED_FILE_TYPES: ReadonlySet<string> = new Set([
  ...GENERIC_FILE_TYPES,
  'home_root_t',
  'user_home_dir_t',
  'user_home_t',
  'admin_home_t',
]);

/** refpolicy's corenetwork port types that name no service: never suggested, and called generic. */
const GENERIC_PORT_TYPES: ReadonlySet<string> = new Set([
  'port_t',
  'reserved_port_t',
  'unreserved_port_t',
  'hi_reserved_port_t',
  'ephemeral_port_t',
]);

const GENERIC_FILE_SET: ReadonlySet<string> = new Set(GENERIC_FILE_TYPES);

/**
 * The kind of a generic file label, as the name suffixes of the types that usually replace it: a file
 * left as tmp_t is most likely some service's `*_tmp_t`, one under /var its `*_var_t` or `*_var_lib_t`.
 * Candidates with one of these suffixes are listed first. A generic type not in the table (default_t,
 * unlabeled_t, file_t: no hint about the object) has no kind preference. (var_log_t is not a generic
 * label here, so `*_log_t` has no row.) The ranking (rankCandidates) puts these after the types the
 * domain's own type_transition rules give objects created under the generic type.
 */
const GENERIC_KIND_SUFFIXES: ReadonlyMap<string, readonly string[]> = new Map([
  ['tmp_t', ['_tmp_t']],
  ['var_t', ['_var_t', '_var_lib_t']],
  ['etc_t', ['_etc_t', '_conf_t']],
  ['usr_t', ['_usr_t']],
]);

/** Socket classes with ports, and `semanage port -p`'s name of their protocol. */
const PORT_PROTOCOLS: ReadonlyMap<string, string> = new Map([
  ['tcp_socket', 'tcp'],
  ['udp_socket', 'udp'],
  ['sctp_socket', 'sctp'],
  ['dccp_socket', 'dccp'],
]);

/** Suggested types listed and turned into commands, at most; the evidence counts the others. */
export const MAX_LABEL_CANDIDATES = 3;

/** Placeholders written in commands: the record's path is attacker-controlled and never pasted in. */
export const PATH_PLACEHOLDER = "'<path>'";
export const PORT_PLACEHOLDER = '<port>';
/** Said once where fcontext commands are offered: what the path placeholder stands for, and why. */
const PATH_NOTE =
  `${PATH_PLACEHOLDER} stands for the object's path (the record's path=, or the name in its event's PATH record of the same inode; name= holds only the last component): ` +
  'fill it in yourself; it is never pasted from the record, because audit text is untrusted.';

/** The file_contexts default label of the denied object's path, as the caller looked it up. */
export interface DefaultLabel {
  /** The type of the spec's context. */
  type: string;
  /** The spec (path regular expression) that gave it. */
  spec: string;
  /**
   * The object's current type is one of contexts/customizable_types (a label an administrator sets by
   * hand): restorecon keeps it unless forced with -F.
   */
  customizable?: boolean;
}

/**
 * Permissions whose target context is not the label of an object that exists: `create` (the new object's
 * computed label), `relabelto` (the label asked for), `relabelfrom` (a relabel in progress).
 */
const NOT_AN_EXISTING_LABEL = ['create', 'relabelto', 'relabelfrom'];

/**
 * restorecon advice (setroubleshoot's restorecon plugin): the object's label differs from the default
 * file_contexts gives its path. `fix` is set when the default label allows every requested permission
 * (checked with the decision engine: TE, constraints, bounds): restoring it is then the fix, before any
 * boolean, other label or rule. Null when nothing is said: no default, not a file class, or a permission
 * whose target is not an existing object's label (create, relabelto, relabelfrom).
 */
export function restoreAdvice(
  policy: Policy,
  s: Context,
  t: Context,
  tclass: string,
  cls: number,
  requested: number,
  perms: string,
  permNames: readonly string[],
  bs: BoolState,
  fc: DefaultLabel | null | undefined,
): { evidence: string; fix: Fix | null } | null {
  if (fc === null || fc === undefined || !FILE_CLASSES.has(tclass)) return null;
  if (permNames.some((p) => NOT_AN_EXISTING_LABEL.includes(p))) return null;
  // A process in a container names its files in the container's mount namespace: a path there (a volume
  // mounted at /data, the image's /etc) is not the host path that file_contexts describes.
  const container = containerAttribute(policy, s.type);
  if (container !== null) {
    return {
      evidence: `${s.typeName} is a container domain (attribute ${container}): the record's path is inside the container's mount namespace, not the host path the host's file_contexts label, so no restorecon is offered. A directory shared from the host is labelled for containers by the :z or :Z volume option.`,
      fix: null,
    };
  }
  const spec = JSON.stringify(fc.spec);
  if (fc.type === t.typeName) {
    return {
      evidence: `file_contexts gives the object's path this same type, ${fc.type} (spec ${spec}): its label is the default, so restorecon alone would not change it.`,
      fix: null,
    };
  }
  // A filesystem without per-file labels (refpolicy's noxattrfs: NFS, CIFS, FAT, FUSE, ISO 9660...): its
  // files all carry the mount's label, which restorecon cannot change.
  if (inAttribute(policy, t.type, attributeValue(policy, 'noxattrfs'))) {
    return {
      evidence: `${t.typeName} labels a whole filesystem without per-file labels (attribute noxattrfs): restorecon cannot relabel its files; a boolean or the mount's context= option is the fix.`,
      fix: null,
    };
  }
  const v = policy.typeByName.get(fc.type);
  const datum = v === undefined ? undefined : policy.types[v - 1];
  if (v === undefined || datum === undefined || datum.isAttribute) {
    return {
      evidence: `file_contexts gives the object's path the type ${fc.type} (spec ${spec}), which this policy does not define.`,
      fix: null,
    };
  }
  const d = decide(policy, s, { ...t, type: v, typeName: fc.type }, cls, requested, bs);
  if (d.reasons !== 0) {
    return {
      evidence: `file_contexts gives the object's path the type ${fc.type} (spec ${spec}), not ${t.typeName}; ${s.typeName} is not allowed ${tclass} ${perms} on ${fc.type} either, so restorecon alone would not fix this.`,
      fix: null,
    };
  }
  const forced = fc.customizable === true;
  return {
    evidence:
      `The object is labelled ${t.typeName}, but file_contexts gives its path the type ${fc.type} (spec ${spec}), ` +
      `and ${s.typeName} is allowed ${tclass} ${perms} on ${fc.type}. Restoring the default label (restorecon) is ` +
      'usually the right fix: the object was probably moved or copied with its old label, or relabelled by hand. ' +
      (forced
        ? `${t.typeName} is a customizable type (contexts/customizable_types): an administrator may have set it on purpose, and restorecon resets it only with -F. `
        : '') +
      PATH_NOTE,
    fix: {
      kind: 'restorecon',
      text: `restorecon ${forced ? '-F ' : ''}-v ${PATH_PLACEHOLDER}`,
      verified: true,
    },
  };
}

/** Attributes of container processes: container-selinux's, and its older name (Fedora, RHEL). */
const CONTAINER_ATTRIBUTES = ['container_domain', 'svirt_sandbox_domain'];

/** The container attribute type `type` belongs to, or null. */
function containerAttribute(policy: Policy, type: number): string | null {
  for (const name of CONTAINER_ATTRIBUTES) {
    if (inAttribute(policy, type, attributeValue(policy, name))) return name;
  }
  return null;
}

/** The boolean with the smallest blast radius (triples, then rules), or null for none. */
function narrowestBoolean(booleans: readonly BooleanSuggestion[] | undefined): BooleanSuggestion | null {
  let best: BooleanSuggestion | null = null;
  for (const b of booleans ?? []) {
    const r = b.blastRadius;
    if (
      best === null ||
      r.triples < best.blastRadius.triples ||
      (r.triples === best.blastRadius.triples && r.rules < best.blastRadius.rules)
    )
      best = b;
  }
  return best;
}

export interface LabelAdvice {
  /** Evidence lines (one, or two with an unknown port). */
  evidence: string[];
  /** Commands before the allow rule (empty when no type of the policy allows the access). */
  fixes: Fix[];
  /** The type names the commands are built from (for the identifier check). */
  names: string[];
}

/** Whether the denial is one label or port advice applies to (cheap: class and permission names). */
export function wantsLabelAdvice(tclass: string, perms: readonly string[]): boolean {
  return FILE_CLASSES.has(tclass) || wantsPortAdvice(tclass, perms);
}

/** Whether the denial is a name_bind / name_connect on a socket class with ports. */
export function wantsPortAdvice(tclass: string, perms: readonly string[]): boolean {
  return PORT_PROTOCOLS.has(tclass) && (perms.includes('name_bind') || perms.includes('name_connect'));
}

/** The value of attribute `name`, or 0 when the policy has no such attribute. */
export function attributeValue(policy: Policy, name: string): number {
  const v = policy.typeByName.get(name);
  return v !== undefined && policy.types[v - 1]?.isAttribute === true ? v : 0;
}

/** Whether type `type` is a member of attribute `attr` (0: no such attribute). Reads the type's few attributes. */
export function inAttribute(policy: Policy, type: number, attr: number): boolean {
  return attr !== 0 && (policy.typeAttrs[type]?.includes(attr) ?? false);
}

/** The prefix of a type name before its first '_' (the whole name without one). */
function prefixOf(name: string): string {
  const u = name.indexOf('_');
  return u < 0 ? name : name.slice(0, u);
}

/**
 * The non-attribute members of attribute `attr` (other than the target's type and `skip`) on which the
 * source is allowed every requested permission under the boolean state (TE, constraints, RBAC, bounds), in
 * the order of rankCandidates.
 */
function allowedMembers(
  policy: Policy,
  attr: number,
  s: Context,
  t: Context,
  cls: number,
  requested: number,
  bs: BoolState,
  skip: ReadonlySet<string>,
  ownOnly: boolean,
): string[] {
  const members = policy.attrMembers[attr];
  if (members === undefined) return [];
  const te = teAllowedByTarget(policy, s.type, cls, requested, ownOnly, ownOnly ? bs : null);
  const out: number[] = [];
  for (let k = 0; k < members.length; k++) {
    const v = members[k] as number;
    if (v === t.type || ((te[v] as number) & requested) !== requested) continue;
    const datum = policy.types[v - 1];
    if (datum === undefined || datum.isAttribute || skip.has(datum.name)) continue;
    // No TE cache: a scan over every member would evict the explainer's hot triples.
    const d = decide(policy, s, { ...t, type: v, typeName: datum.name }, cls, requested, bs);
    if (d.reasons === 0) out.push(v);
  }
  return rankCandidates(policy, s, t, cls, out);
}

/**
 * Candidate types in the order an administrator would most likely label the object with them: the
 * service's usual types first. Everything is read from the policy (no type name is special), and the
 * order was chosen by measuring variants (direct rules of the domain, unconditional rules, name length,
 * rule counts of the domain, its family or the whole policy, least privilege...) on denials of common
 * services against the Debian reference policy. relabel.test.ts holds the 35 that get advice there: the
 * first type offered is right for 31 and one of the 3 shown for all 35, where the former order (kind,
 * then prefix, then name) got 16 and 26. Keys, in order:
 * 1. the types the source's own type_transition rules give a file-like object created in a directory of
 *    the target's type (type_transition httpd_t var_t:dir httpd_cache_t): the policy's own answer for an
 *    object of the generic type;
 * 2. not an entrypoint of the source domain (httpd_exec_t for httpd_t): labelling an object with the
 *    domain's program type makes it a way into the domain;
 * 3. names sharing the source's prefix before its first '_' (httpd_t: httpd_*);
 * 4. names of the generic label's kind (GENERIC_KIND_SUFFIXES: tmp_t → *_tmp_t);
 * 5. not a type the source creates by type_transition elsewhere (its pid, lock, tmp or log files, created
 *    in other directories): an object it has to reach under a generic label is rarely one of those;
 * 6. more allow rules (any class) whose source is named with that prefix (the service's domains and its
 *    attributes, such as dovecot_domain) and whose target is the type itself: how much the service's
 *    policy uses the type (httpd_sys_content_t over the other httpd_*_content_t);
 * 7. more allow rules of the denied class, of any source, whose target is the type itself;
 * 8. the name.
 * For port types keys 1, 2, 4 and 5 never apply. The counts are kept per policy (per class and per
 * prefix, bounded); the caller caches the ranked lists.
 */
function rankCandidates(policy: Policy, s: Context, t: Context, cls: number, types: number[]): string[] {
  if (types.length === 0) return [];
  const tables = rankTablesOf(policy);
  const prefix = prefixOf(s.typeName);
  const family = familyRefs(policy, tables, prefix);
  const inClass = classRefs(policy, tables, cls);
  const fileLike = FILE_CLASSES.has(policy.classes[cls - 1]?.name ?? '');
  const created = fileLike ? createdTypes(policy, tables, s.type, t.type) : null;
  const entry = fileLike ? entrypointsOf(policy, s.type) : null;
  const suffixes = GENERIC_KIND_SUFFIXES.get(t.typeName);
  const keyed = types.map((v) => {
    const name = (policy.types[v - 1] as { name: string }).name;
    const made = created?.get(v) ?? 0;
    return {
      name,
      // Lower sorts first.
      a: made === CREATED_HERE ? 0 : 1,
      b: entry !== null && (entry[v] as number) !== 0 ? 1 : 0,
      c: prefixOf(name) === prefix ? 0 : 1,
      d: suffixes?.some((x) => name.endsWith(x)) ? 0 : 1,
      e: made === CREATED_ELSEWHERE ? 1 : 0,
      f: -(family[v] as number),
      g: -(inClass[v] as number),
    };
  });
  keyed.sort(
    (x, y) =>
      x.a - y.a ||
      x.b - y.b ||
      x.c - y.c ||
      x.d - y.d ||
      x.e - y.e ||
      x.f - y.f ||
      x.g - y.g ||
      (x.name < y.name ? -1 : x.name > y.name ? 1 : 0),
  );
  return keyed.map((k) => k.name);
}

const NO_VALUES = new Uint16Array(0);
const CREATED_HERE = 1;
const CREATED_ELSEWHERE = 2;

/** What the ranking reads besides the model, per policy: built on first use, bounded. */
interface RankTables {
  /** Per class value: allow rules naming each type value itself as target. */
  readonly byClass: Map<number, Uint32Array>;
  /** Per name prefix: allow rules (any class) of sources named with it, by target type value. */
  readonly byPrefix: Map<string, Uint32Array>;
  /** The types and attributes per name prefix. */
  prefixes: Map<string, number[]> | null;
  /** The targets of the allow rules by source value: targets[start[v]..start[v + 1]). */
  bySource: { readonly start: Uint32Array; readonly targets: Uint16Array } | null;
  /** type_transition rules on file-like classes by source value: [target, default, ...]. */
  transitions: Map<number, number[]> | null;
}

const rankTablesCache = new WeakMap<Policy, RankTables>();
/** Prefixes (and classes) whose counts are kept per policy. */
const MAX_RANK_TABLES = 64;

function rankTablesOf(policy: Policy): RankTables {
  let r = rankTablesCache.get(policy);
  if (r === undefined) {
    r = {
      byClass: new Map(),
      byPrefix: new Map(),
      prefixes: null,
      bySource: null,
      transitions: null,
    };
    rankTablesCache.set(policy, r);
  }
  return r;
}

/** The allow rules (avtab entries, unconditional and conditional), in turn. */
function forEachAllow(policy: Policy, f: (source: number, target: number, cls: number) => void): void {
  for (const tab of [policy.avtab, policy.condAvtab]) {
    const kind = tab.kind;
    for (let e = 0; e < tab.count; e++) {
      if (((kind[e] as number) & AVTAB_ALLOWED) !== 0) {
        f(tab.source[e] as number, tab.target[e] as number, tab.tclass[e] as number);
      }
    }
  }
}

function classRefs(policy: Policy, tables: RankTables, cls: number): Uint32Array {
  let r = tables.byClass.get(cls);
  if (r === undefined) {
    const out = new Uint32Array(policy.types.length + 1);
    forEachAllow(policy, (_, target, c) => {
      if (c === cls) out[target] = (out[target] as number) + 1;
    });
    r = out;
    if (tables.byClass.size >= MAX_RANK_TABLES) tables.byClass.clear();
    tables.byClass.set(cls, r);
  }
  return r;
}

function familyRefs(policy: Policy, tables: RankTables, prefix: string): Uint32Array {
  let r = tables.byPrefix.get(prefix);
  if (r === undefined) {
    if (tables.prefixes === null) {
      const m = new Map<string, number[]>();
      for (let v = 1; v <= policy.types.length; v++) {
        const p = prefixOf((policy.types[v - 1] as { name: string }).name);
        const list = m.get(p);
        if (list === undefined) m.set(p, [v]);
        else list.push(v);
      }
      tables.prefixes = m;
    }
    if (tables.bySource === null) {
      // Two passes: count per source, then place each rule's target in its source's row.
      const start = new Uint32Array(policy.types.length + 2);
      forEachAllow(policy, (source) => {
        start[source + 1] = (start[source + 1] as number) + 1;
      });
      for (let v = 1; v < start.length; v++) start[v] = (start[v] as number) + (start[v - 1] as number);
      const targets = new Uint16Array(start[start.length - 1] as number);
      const fill = start.slice(0, -1);
      forEachAllow(policy, (source, target) => {
        const at = fill[source] as number;
        targets[at] = target;
        fill[source] = at + 1;
      });
      tables.bySource = { start, targets };
    }
    const { start, targets } = tables.bySource;
    const out = new Uint32Array(policy.types.length + 1);
    for (const v of tables.prefixes.get(prefix) ?? []) {
      const end = start[v + 1] as number;
      for (let j = start[v] as number; j < end; j++) {
        const target = targets[j] as number;
        out[target] = (out[target] as number) + 1;
      }
    }
    r = out;
    if (tables.byPrefix.size >= MAX_RANK_TABLES) tables.byPrefix.clear();
    tables.byPrefix.set(prefix, r);
  }
  return r;
}

/**
 * The types the source's type_transition rules on file-like classes create (source through its
 * attributes): CREATED_HERE when the parent is the target's type (through its attributes), else
 * CREATED_ELSEWHERE.
 */
function createdTypes(
  policy: Policy,
  tables: RankTables,
  source: number,
  target: number,
): Map<number, number> {
  if (tables.transitions === null) {
    const m = new Map<number, number[]>();
    const fileLike = new Uint8Array(policy.classes.length + 1);
    for (let c = 1; c <= policy.classes.length; c++) {
      fileLike[c] = FILE_CLASSES.has(policy.classes[c - 1]?.name ?? '') ? 1 : 0;
    }
    for (const tab of [policy.avtab, policy.condAvtab]) {
      for (let e = 0; e < tab.count; e++) {
        if (((tab.kind[e] as number) & AVTAB_TRANSITION) === 0) continue;
        if (fileLike[tab.tclass[e] as number] !== 1) continue;
        const src = tab.source[e] as number;
        const list = m.get(src);
        if (list === undefined) m.set(src, [tab.target[e] as number, tab.data[e] as number]);
        else list.push(tab.target[e] as number, tab.data[e] as number);
      }
    }
    tables.transitions = m;
  }
  const out = new Map<number, number>();
  const sourceAttrs = policy.typeAttrs[source] ?? NO_VALUES;
  const targetAttrs = policy.typeAttrs[target] ?? NO_VALUES;
  for (let x = 0; x < sourceAttrs.length; x++) {
    const list = tables.transitions.get(sourceAttrs[x] as number);
    if (list === undefined) continue;
    for (let k = 0; k < list.length; k += 2) {
      const made = list[k + 1] as number;
      if (targetAttrs.includes(list[k] as number)) out.set(made, CREATED_HERE);
      else if (out.get(made) !== CREATED_HERE) out.set(made, CREATED_ELSEWHERE);
    }
  }
  return out;
}

/** Per type value: non-zero when some rule may allow the source `entrypoint` on it as a file. */
function entrypointsOf(policy: Policy, source: number): Uint32Array | null {
  const file = policy.classByName.get('file');
  const datum = file === undefined ? undefined : policy.classes[file - 1];
  const bit = datum === undefined ? undefined : permValue(datum, 'entrypoint');
  if (file === undefined || bit === undefined) return null;
  return teAllowedByTarget(policy, source, file, (1 << (bit - 1)) >>> 0);
}

/**
 * Per target type value: the requested permissions that some AV rule of the source (through its
 * attributes) for the class may allow, unconditional or conditional in either branch, with attribute
 * targets expanded. A superset of what `decide` can allow (allowed vectors come only from these rules;
 * booleans, constraints and bounds only take away), so members outside it need no decision: a denial on a
 * generic label would otherwise decide over every member of file_type (thousands).
 */
function teAllowedByTarget(
  policy: Policy,
  source: number,
  cls: number,
  requested: number,
  ownOnly = false,
  bs: BoolState | null = null,
): Uint32Array {
  const out = new Uint32Array(policy.types.length + 1);
  const attrs = policy.typeAttrs[source];
  if (attrs === undefined) return out;
  const prefix = ownOnly ? prefixOf(policy.types[source - 1]?.name ?? '') : '';
  const ranges = policy.scRanges;
  const targets = policy.scTargets;
  const scTe = policy.scTe;
  const scCond = policy.scCond;
  const vectors = policy.teVectors;
  const lists = policy.condLists;
  const condKind = policy.condAvtab.kind;
  const condData = policy.condAvtab.data;
  for (let x = 0; x < attrs.length; x++) {
    const a = attrs[x] as number;
    // Own rules only: those of the source type itself or of an attribute of its family (httpd_*).
    if (ownOnly && a !== source && prefixOf(policy.types[a - 1]?.name ?? '') !== prefix) continue;
    const o = policy.scIndex.get(a, 0, cls);
    if (o < 0) continue;
    const end = ranges[o + 1] as number;
    for (let j = ranges[o] as number; j < end; j++) {
      let vec = 0;
      const te = scTe[j] as number;
      if (te >= 0) vec |= vectors[te] as number;
      const cd = scCond[j] as number;
      if (cd >= 0) {
        const ce = lists[cd + 1] as number;
        for (let k = lists[cd] as number; k < ce; k++) {
          const e = lists[k] as number;
          if (((condKind[e] as number) & AVTAB_ALLOWED) === 0) continue;
          // Own rules count only when enabled now: a disabled `allow httpd_t port_type` grants nothing.
          if (bs !== null) {
            const st = bs.cond[policy.condEntryNode[e] as number] as number;
            if (st === -1 || st !== policy.condEntryBranch[e]) continue;
          }
          vec |= condData[e] as number;
        }
      }
      vec &= requested;
      if (vec === 0) continue;
      const target = targets[j] as number;
      if (policy.types[target - 1]?.isAttribute === true) {
        const m = policy.attrMembers[target];
        if (m !== undefined) {
          for (let y = 0; y < m.length; y++) {
            const v = m[y] as number;
            out[v] = (out[v] as number) | vec;
          }
        }
      } else {
        out[target] = (out[target] as number) | vec;
      }
    }
  }
  return out;
}

function listed(names: readonly string[]): string {
  const shown = names.slice(0, MAX_LABEL_CANDIDATES).join(', ');
  const others = names.length - MAX_LABEL_CANDIDATES;
  return others > 0 ? `${shown} and ${others} other${others === 1 ? '' : 's'}` : shown;
}

/** A cache of candidate lists, bounded (per boolean state: the caller keeps one per state). */
export type CandidateCache = Map<string, string[]>;
const MAX_CACHED = 4096;

function candidates(
  cache: CandidateCache,
  policy: Policy,
  attr: number,
  s: Context,
  t: Context,
  cls: number,
  requested: number,
  bs: BoolState,
  skip: ReadonlySet<string>,
  ownOnly = false,
): string[] {
  // Everything the decisions read but the target's type: the source context, the target's user, role
  // and level (constraints), the class and the requested vector.
  const key = `${attr}\u0000${s.userName}:${s.roleName}:${s.typeName}:${s.mls}\u0000${t.userName}:${t.roleName}:${t.mls}\u0000${t.type}\u0000${cls}\u0000${requested}`;
  let r = cache.get(key);
  if (r === undefined) {
    r = allowedMembers(policy, attr, s, t, cls, requested, bs, skip, ownOnly);
    if (cache.size >= MAX_CACHED) cache.clear();
    cache.set(key, r);
  }
  return r;
}

/**
 * Label or port advice for a TE denial of (s, t, class), or null when none applies: a socket denial of
 * name_bind / name_connect on a member of `port_type`, or a file-like denial on a generic file type.
 * `perms` is the requested permissions as written in rules, `port` the record's port (validated here).
 * With `booleans` (a BOOLEAN verdict: the booleans whose flip allows it), only port advice on a generic
 * port type that some port type allows now is given, with a line comparing it with the narrowest
 * boolean's blast radius: a service's own port type has the boolean made for it (httpd_t to
 * mysqld_port_t: httpd_can_network_connect_db), and a file label is left to the boolean.
 */
export function labelAdvice(
  policy: Policy,
  cache: CandidateCache,
  s: Context,
  t: Context,
  tclass: string,
  cls: number,
  requested: number,
  perms: string,
  permNames: readonly string[],
  port: number | null | undefined,
  bs: BoolState,
  booleans?: readonly BooleanSuggestion[],
): LabelAdvice | null {
  const proto = PORT_PROTOCOLS.get(tclass);
  if (proto !== undefined) {
    if (!permNames.includes('name_bind') && !permNames.includes('name_connect')) return null;
    const generic = GENERIC_PORT_TYPES.has(t.typeName);
    if (booleans !== undefined && !generic) return null;
    const attr = attributeValue(policy, 'port_type');
    if (!inAttribute(policy, t.type, attr)) return null;
    // Only port types the domain's own rules grant (its type's, or its family's attributes'): one it
    // reaches only as a member of a broad attribute (httpd_t to dns_port_t through nsswitch_domain, 359
    // domains) is no label for its port: relabelling would open the port to every member.
    const found = candidates(cache, policy, attr, s, t, cls, requested, bs, GENERIC_PORT_TYPES, true);
    const known = port !== undefined && port !== null && Number.isInteger(port) && port >= 0 && port <= 65535;
    const shown = known ? String(port) : PORT_PLACEHOLDER;
    // semanage port keys records by (protocol, low, high): `-a` fails with "already defined" when the
    // policy has a record for exactly this port, and `-m` (which needs one) is the command. A port only
    // inside a range (reserved_port_t 1-511, a service's 10001-10010) gets a narrower record: `-a`. With
    // the port unknown the command stays `-a`, the common case (most denied ports sit in a range) and
    // what the placeholder's reader expects; the evidence of a service's port type says when to use -m.
    const own = known && portconIndex(policy, portProtocolNumber(proto), port) >= 0;
    const op = own ? '-m' : '-a';
    const evidence: string[] = [];
    if (found.length === 0) {
      // A service's own port type with nothing to relabel to: the allow rule (or the label) is the question.
      if (!generic || booleans !== undefined) return null;
      evidence.push(
        `Port ${shown}/${proto} has the type ${t.typeName}; no port type granted by ${s.typeName}'s own rules allows ${perms}, so no semanage port command is offered.`,
      );
      return { evidence, fixes: [], names: [] };
    }
    const notes: string[] = [];
    if (!generic) notes.push(`relabelling moves the port away from what uses ${t.typeName}`);
    if (own)
      notes.push(`${shown}/${proto} has its own record in this policy, so semanage port -m modifies it`);
    else if (!known && !generic) notes.push('if semanage says it is already defined, use -m instead of -a');
    const instead =
      booleans === undefined ? `allowing ${s.typeName} on ${t.typeName}` : 'turning on a boolean';
    evidence.push(
      `Port ${shown}/${proto} has the type ${t.typeName}${generic ? ', a generic port type' : ''}; ${s.typeName} is allowed ${perms} on ports of type ${listed(found)}. ` +
        `Labelling the port with one of them (semanage port) is usually the right fix rather than ${instead}` +
        `${notes.length === 0 ? '' : ` (${notes.join('; ')})`}.`,
    );
    const narrowest = narrowestBoolean(booleans);
    if (narrowest !== null && booleans !== undefined) {
      const { rules, triples } = narrowest.blastRadius;
      evidence.push(
        `The port label is the narrower fix: semanage port changes the type of port ${shown}/${proto} alone, while ` +
          `${booleans.length === 1 ? '' : 'the narrowest boolean, '}${narrowest.name}${booleans.length === 1 ? '' : ','} enables ${rules} allow rule${rules === 1 ? '' : 's'} over ${triples} (source, target, class) triple${triples === 1 ? '' : 's'}.`,
      );
    }
    if (!known) evidence.push(`The record's port is not known: replace ${PORT_PLACEHOLDER} with it.`);
    const chosen = found.slice(0, MAX_LABEL_CANDIDATES);
    return {
      evidence,
      fixes: chosen.map((name) => ({
        kind: 'semanage',
        text: `semanage port ${op} -t ${name} -p ${proto} ${shown}`,
        verified: known,
      })),
      names: chosen,
    };
  }
  if (booleans !== undefined || !FILE_CLASSES.has(tclass) || !GENERIC_FILE_SET.has(t.typeName)) return null;
  const attr = attributeValue(policy, 'file_type');
  if (attr === 0) return null;
  const found = candidates(cache, policy, attr, s, t, cls, requested, bs, NOT_SUGGESTED_FILE_TYPES);
  if (found.length === 0) {
    return {
      evidence: [
        `${t.typeName} is a generic label, but no file type in this policy allows ${s.typeName} ${tclass} ${perms}, so no relabelling is offered.`,
      ],
      fixes: [],
      names: [],
    };
  }
  const chosen = found.slice(0, MAX_LABEL_CANDIDATES);
  const fixes: Fix[] = chosen.map((name) => ({
    kind: 'semanage',
    text: `semanage fcontext -a -t ${name} ${PATH_PLACEHOLDER}`,
    verified: true,
  }));
  fixes.push({ kind: 'restorecon', text: `restorecon -v ${PATH_PLACEHOLDER}`, verified: true });
  return {
    evidence: [
      `${t.typeName} is a generic label: the object was probably never labelled for its use. ${s.typeName} is allowed ${tclass} ${perms} on ${listed(found)}. ` +
        `Labelling the object with one of them (semanage fcontext for its path, then restorecon) is usually the right fix rather than allowing ${s.typeName} on ${t.typeName}.`,
      PATH_NOTE,
    ],
    fixes,
    names: chosen,
  };
}
