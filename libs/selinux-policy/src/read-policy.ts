// Reader for binary SELinux kernel policies, versions 24-33 (spec: shared/docs/binary-policy.md, Part I).
import { Cursor } from './cursor.ts';
import { Ebitmap } from './ebitmap.ts';
import { KeyIndex } from './key-index.ts';
import {
  AVTAB_ALLOWED,
  AVTAB_AUDITALLOW,
  AVTAB_AUDITDENY,
  AVTAB_CHANGE,
  AVTAB_ENABLED,
  AVTAB_MEMBER,
  AVTAB_TRANSITION,
  AVTAB_XPERMS_ALLOWED,
  AVTAB_XPERMS_AUDITALLOW,
  AVTAB_XPERMS_DONTAUDIT,
  type AvtabEntries,
  type CategoryDatum,
  CEXPR_AND,
  CEXPR_ATTR,
  CEXPR_DOM,
  CEXPR_EQ,
  CEXPR_INCOMP,
  CEXPR_L1L2,
  CEXPR_L2H2,
  CEXPR_NAMES,
  CEXPR_NEQ,
  CEXPR_NOT,
  CEXPR_OR,
  CEXPR_ROLE,
  CEXPR_TARGET,
  CEXPR_TYPE,
  CEXPR_USER,
  CEXPR_XTARGET,
  type ClassDatum,
  type CommonDatum,
  COND_BOOL,
  COND_NEQ,
  COND_NOT,
  type CondNode,
  type Constraint,
  type ConstraintNode,
  type HandleUnknown,
  type MlsLevel,
  type MlsRange,
  type Policy,
  type PolicyCounts,
  type PortCons,
  type RoleDatum,
  type RoleTransition,
  roleAllowKey,
  type SensitivityDatum,
  type TypeDatum,
  type TypeSet,
  type UserDatum,
  type XpermDatum,
} from './model.ts';

const POLICY_MAGIC = 0xf97cff8c;
const MODULE_MAGIC = 0xf97cff8d;
const MIN_VERSION = 24;
/** Newest policy version the reader knows (exported for picking among installed policy.N files). */
export const MAX_VERSION = 33;
const TYPE_PRIMARY = 0x1;
const TYPE_ATTRIBUTE = 0x2;
const AV_KINDS = AVTAB_ALLOWED | AVTAB_AUDITALLOW | AVTAB_AUDITDENY;
const TYPE_KINDS = AVTAB_TRANSITION | AVTAB_MEMBER | AVTAB_CHANGE;
const XPERM_KINDS = AVTAB_XPERMS_ALLOWED | AVTAB_XPERMS_AUDITALLOW | AVTAB_XPERMS_DONTAUDIT;
const CONSTRAINT_STACK_MAX = 5;

/** Upper bound on nprim where gaps are tolerated (types and roles; types and classes are 16-bit). */
const MAX_16 = 0xffff;

interface Symtab {
  nprim: number;
  nel: number;
}

/**
 * Read a binary kernel policy. Pure and synchronous. Every section is read in order and the end of the
 * file must be reached exactly. Throws PolicyFormatError (with the byte offset and section) for anything
 * malformed; no count is trusted before it is checked against the bytes remaining.
 */
export function readPolicy(bytes: Uint8Array): Policy {
  const c = new Cursor(bytes);

  // ---- header (§3)
  const magic = c.u32();
  if (magic === MODULE_MAGIC) c.fail('this is a policy module (.pp), not a kernel policy', 0);
  if (magic !== POLICY_MAGIC) c.fail(`not an SELinux binary policy: bad magic 0x${magic.toString(16)}`, 0);
  const idlen = c.u32();
  if (idlen < 1 || idlen > 32) c.fail(`bad identifier length ${idlen}`, 4);
  const id = c.str(idlen, 'identifier');
  if (id === 'XenFlask') c.fail('Xen policies are not supported', 8);
  if (id !== 'SE Linux') c.fail('unknown policy identifier', 8);
  const versionAt = c.pos;
  const version = c.u32();
  if (version < MIN_VERSION || version > MAX_VERSION) {
    c.fail(`unsupported policy version ${version} (supported: ${MIN_VERSION}-${MAX_VERSION})`, versionAt);
  }
  const config = c.u32();
  const symNum = c.u32();
  const oconNum = c.u32();
  if (symNum !== 8) c.fail(`symbol table count ${symNum} is not 8`, c.pos - 8);
  const expectedOcon = version >= 31 ? 9 : 7;
  if (oconNum !== expectedOcon)
    c.fail(`object context list count ${oconNum} is not ${expectedOcon}`, c.pos - 4);
  const mls = (config & 1) !== 0;
  const handleUnknown: HandleUnknown = config & 2 ? 'reject' : config & 4 ? 'allow' : 'deny';

  // ---- policy capabilities (§4), permissive map (§5)
  c.section = 'policycaps';
  const polcaps = c.ebitmap().toArray();
  c.section = 'permissive';
  const permissiveBits = c.ebitmap().toArray();

  // ---- symbol tables (§6-§11)
  c.section = 'commons';
  const commonTab = symtabHeader(c, MAX_16);
  const commons = new Array<CommonDatum | undefined>(commonTab.nprim);
  const commonByName = new Map<string, number>();
  for (let i = 0; i < commonTab.nel; i++) {
    const at = c.pos;
    const len = c.u32();
    const value = c.u32();
    const permNprim = c.u32();
    const permCount = c.u32();
    const name = c.str(len);
    checkValue(c, value, commonTab.nprim, 'common', at);
    if (permNprim > 32) c.fail(`common ${name} has ${permNprim} permissions (max 32)`, at);
    if (commons[value - 1] !== undefined) c.fail(`duplicate common value ${value}`, at);
    const perms = readPerms(c, permCount, permNprim, new Map());
    commons[value - 1] = { name, value, nperms: permNprim, perms };
    setName(c, commonByName, name, value, at);
  }
  const commonList = requireAll(c, commons, 'common');

  c.section = 'classes';
  const classTab = symtabHeader(c, MAX_16);
  const classes = new Array<ClassDatum | undefined>(classTab.nprim);
  const classByName = new Map<string, number>();
  for (let i = 0; i < classTab.nel; i++) {
    const at = c.pos;
    const len = c.u32();
    const comlen = c.u32();
    const value = c.u32();
    const permNprim = c.u32();
    const permCount = c.u32();
    const ncons = c.u32();
    const name = c.str(len);
    checkValue(c, value, classTab.nprim, 'class', at);
    if (permNprim > 32) c.fail(`class ${name} has ${permNprim} permissions (max 32)`, at);
    if (classes[value - 1] !== undefined) c.fail(`duplicate class value ${value}`, at);
    let common: CommonDatum | null = null;
    if (comlen > 0) {
      const comName = c.str(comlen, 'common name');
      const cv = commonByName.get(comName);
      if (cv === undefined) c.fail(`class ${name} names unknown common ${comName}`, at);
      common = commonList[(cv as number) - 1] as CommonDatum;
      if (common.nperms > permNprim) c.fail(`class ${name} has fewer permissions than its common`, at);
    }
    const ownPerms = readPerms(c, permCount, permNprim, common ? common.perms : new Map());
    const permNames = new Array<string>(permNprim).fill('');
    if (common) for (const [pn, pv] of common.perms) permNames[pv - 1] = pn;
    for (const [pn, pv] of ownPerms) permNames[pv - 1] = pn;
    c.checkCount(ncons, 8, 'constraint');
    const raw: RawConstraint[] = [];
    for (let k = 0; k < ncons; k++) raw.push(readConstraint(c, version, false));
    const nvt = c.u32();
    c.checkCount(nvt, 8, 'validatetrans');
    const vt: RawConstraint[] = [];
    for (let k = 0; k < nvt; k++) vt.push(readConstraint(c, version, true));
    let defaultUser = 0;
    let defaultRole = 0;
    let defaultRange = 0;
    let defaultType = 0;
    if (version >= 27) {
      defaultUser = c.u32();
      defaultRole = c.u32();
      defaultRange = c.u32();
      if (defaultUser > 2 || defaultRole > 2) c.fail(`class ${name}: bad default user/role`, c.pos - 12);
      if (defaultRange > 7 || (defaultRange === 7 && version < 32)) {
        c.fail(`class ${name}: bad default range ${defaultRange}`, c.pos - 4);
      }
    }
    if (version >= 28) {
      defaultType = c.u32();
      if (defaultType > 2) c.fail(`class ${name}: bad default type`, c.pos - 4);
    }
    classes[value - 1] = {
      name,
      value,
      common,
      ownPerms,
      nperms: permNprim,
      permNames,
      constraints: raw.map((r) => r.constraint),
      validatetrans: vt.map((r) => r.constraint),
      defaultUser,
      defaultRole,
      defaultType,
      defaultRange,
    };
    setName(c, classByName, name, value, at);
  }
  const classList = requireAll(c, classes, 'class');

  c.section = 'roles';
  // checkpolicy counts role attributes in nprim but writes no entry for them: value gaps, bounded like
  // the types' (a placeholder per gap).
  const roleTab = symtabHeader(c, MAX_16, true);
  const roles = new Array<RoleDatum | undefined>(roleTab.nprim);
  const roleByName = new Map<string, number>();
  for (let i = 0; i < roleTab.nel; i++) {
    const at = c.pos;
    const len = c.u32();
    const value = c.u32();
    const bounds = c.u32();
    const name = c.str(len);
    checkValue(c, value, roleTab.nprim, 'role', at);
    if (bounds > roleTab.nprim) c.fail(`role ${name} bounds out of range`, at);
    let dominates = c.ebitmap();
    let types = c.ebitmap();
    if (name === 'object_r') {
      if (value !== 1) c.fail('object_r does not have value 1', at);
      dominates = Ebitmap.EMPTY;
      types = Ebitmap.EMPTY;
    }
    if (roles[value - 1] !== undefined) c.fail(`duplicate role value ${value}`, at);
    roles[value - 1] = { name, value, bounds, dominates, types };
    setName(c, roleByName, name, value, at);
  }
  const roleList = fillGaps(roles, (value) => ({
    name: gapName('role', value),
    value,
    bounds: 0,
    dominates: Ebitmap.EMPTY,
    types: Ebitmap.EMPTY,
    gap: true as const,
  }));

  c.section = 'types';
  const typeTab = symtabHeader(c, MAX_16, true);
  const typeSlots = new Array<{ name: string; isAttribute: boolean; bounds: number } | undefined>(
    typeTab.nprim,
  );
  const typeByName = new Map<string, number>();
  const aliasList: Array<[string, number]> = [];
  for (let i = 0; i < typeTab.nel; i++) {
    const at = c.pos;
    const len = c.u32();
    const value = c.u32();
    const properties = c.u32();
    const bounds = c.u32();
    const name = c.str(len);
    checkValue(c, value, typeTab.nprim, 'type', at);
    if (bounds > typeTab.nprim) c.fail(`type ${name} bounds out of range`, at);
    if (properties & TYPE_PRIMARY) {
      if (typeSlots[value - 1] !== undefined) c.fail(`duplicate type value ${value}`, at);
      typeSlots[value - 1] = { name, isAttribute: (properties & TYPE_ATTRIBUTE) !== 0, bounds };
    } else {
      aliasList.push([name, value]);
    }
    setName(c, typeByName, name, value, at);
  }
  const typeAliases: string[][] = Array.from({ length: typeTab.nprim }, () => []);
  for (const [name, value] of aliasList) typeAliases[value - 1]?.push(name);
  const typeList: TypeDatum[] = [];
  for (let v = 1; v <= typeTab.nprim; v++) {
    const slot = typeSlots[v - 1];
    const aliases = typeAliases[v - 1] ?? [];
    if (slot === undefined) {
      // A value gap: an anonymous attribute, named the way setools names it.
      const name = `@ttr${String(v).padStart(10, '0')}`;
      typeList.push({ name, value: v, isAttribute: true, bounds: 0, aliases });
    } else {
      typeList.push({
        name: slot.name,
        value: v,
        isAttribute: slot.isAttribute,
        bounds: slot.bounds,
        aliases,
      });
    }
  }

  c.section = 'users';
  const userTab = symtabHeader(c, 1 << 20);
  const users = new Array<UserDatum | undefined>(userTab.nprim);
  const userByName = new Map<string, number>();
  for (let i = 0; i < userTab.nel; i++) {
    const at = c.pos;
    const len = c.u32();
    const value = c.u32();
    const bounds = c.u32();
    const name = c.str(len);
    checkValue(c, value, userTab.nprim, 'user', at);
    if (bounds > userTab.nprim) c.fail(`user ${name} bounds out of range`, at);
    const userRoles = c.ebitmap();
    const range = readRange(c);
    const defaultLevel = readLevel(c);
    if (users[value - 1] !== undefined) c.fail(`duplicate user value ${value}`, at);
    users[value - 1] = { name, value, bounds, roles: userRoles, range, defaultLevel };
    setName(c, userByName, name, value, at);
  }
  const userList = requireAll(c, users, 'user');

  c.section = 'booleans';
  const boolTab = symtabHeader(c, 1 << 20);
  const bools = new Array<{ name: string; value: number; state: boolean } | undefined>(boolTab.nprim);
  const boolByName = new Map<string, number>();
  for (let i = 0; i < boolTab.nel; i++) {
    const at = c.pos;
    const value = c.u32();
    const state = c.u32();
    const len = c.u32();
    const name = c.str(len);
    checkValue(c, value, boolTab.nprim, 'boolean', at);
    if (state > 1) c.fail(`boolean ${name} has state ${state}`, at);
    if (bools[value - 1] !== undefined) c.fail(`duplicate boolean value ${value}`, at);
    bools[value - 1] = { name, value, state: state === 1 };
    setName(c, boolByName, name, value, at);
  }
  const boolList = requireAll(c, bools, 'boolean');

  c.section = 'sensitivities';
  // checkpolicy counts each sensitivity and category alias in nprim, so a value no entry claims (aliases
  // have entries of their own, so nprim still never exceeds nel).
  const sensTab = symtabHeader(c, 1 << 20);
  const sensSlots = new Array<{ name: string; cats: Ebitmap } | undefined>(sensTab.nprim);
  const sensByName = new Map<string, number>();
  const sensAliases: Array<[string, number]> = [];
  for (let i = 0; i < sensTab.nel; i++) {
    const at = c.pos;
    const len = c.u32();
    const isAlias = c.u32();
    const name = c.str(len);
    const level = readLevel(c);
    checkValue(c, level.sens, sensTab.nprim, 'sensitivity', at);
    if (isAlias) sensAliases.push([name, level.sens]);
    else {
      if (sensSlots[level.sens - 1] !== undefined) c.fail(`duplicate sensitivity value ${level.sens}`, at);
      sensSlots[level.sens - 1] = { name, cats: level.cats };
    }
    setName(c, sensByName, name, level.sens, at);
  }
  const sensList: SensitivityDatum[] = fillGaps(sensSlots, (value) => ({
    name: gapName('sensitivity', value),
    cats: Ebitmap.EMPTY,
    gap: true as const,
  })).map((s, i) => ({
    ...s,
    value: i + 1,
    aliases: sensAliases.filter(([, v]) => v === i + 1).map(([n]) => n),
  }));

  c.section = 'categories';
  const catTab = symtabHeader(c, 1 << 20);
  const catSlots = new Array<string | undefined>(catTab.nprim);
  const catByName = new Map<string, number>();
  const catAliasMap = new Map<number, string[]>();
  for (let i = 0; i < catTab.nel; i++) {
    const at = c.pos;
    const len = c.u32();
    const value = c.u32();
    const isAlias = c.u32();
    const name = c.str(len);
    checkValue(c, value, catTab.nprim, 'category', at);
    if (isAlias) {
      const l = catAliasMap.get(value) ?? [];
      l.push(name);
      catAliasMap.set(value, l);
    } else {
      if (catSlots[value - 1] !== undefined) c.fail(`duplicate category value ${value}`, at);
      catSlots[value - 1] = name;
    }
    setName(c, catByName, name, value, at);
  }
  const catList: CategoryDatum[] = [];
  for (let i = 0; i < catSlots.length; i++) {
    const name = catSlots[i];
    const aliases = catAliasMap.get(i + 1) ?? [];
    catList.push(
      name === undefined
        ? { name: gapName('category', i + 1), value: i + 1, aliases, gap: true }
        : { name, value: i + 1, aliases },
    );
  }

  // ---- avtab (§12)
  c.section = 'avtab';
  const ntypes = typeTab.nprim;
  const nclasses = classTab.nprim;
  const avAt = c.pos;
  const avNel = c.u32();
  if (avNel === 0) c.fail('empty avtab', avAt);
  c.checkCount(avNel, 12, 'avtab entry');
  const avtab = newAvtabBuilder(avNel);
  for (let i = 0; i < avNel; i++) readAvtabEntry(c, avtab, version, ntypes, nclasses, false);
  const avtabEntries = avtab.finish();

  // ---- conditional list (§13)
  c.section = 'conditionals';
  const ncond = c.u32();
  c.checkCount(ncond, 16, 'conditional');
  const condBuilder = newAvtabBuilder(Math.min(1024, c.remaining / 12));
  const conds: CondNode[] = [];
  const condEntryNode: number[] = [];
  const condEntryBranch: number[] = [];
  for (let i = 0; i < ncond; i++) {
    const at = c.pos;
    const curState = c.u32();
    const nexpr = c.u32();
    if (nexpr === 0) c.fail('conditional with an empty expression', at);
    c.checkCount(nexpr, 8, 'conditional expression node');
    const expr = new Uint32Array(nexpr * 2);
    const boolsUsed = new Set<number>();
    let depth = 0;
    c.need(nexpr * 8);
    for (let k = 0; k < nexpr; k++) {
      const nodeAt = c.pos;
      const t = c.view.getUint32(nodeAt, true);
      const b = c.view.getUint32(nodeAt + 4, true);
      c.pos = nodeAt + 8;
      if (t < COND_BOOL || t > COND_NEQ) c.fail(`bad conditional expression node type ${t}`, nodeAt);
      if (t === COND_BOOL) {
        if (b < 1 || b > boolTab.nprim) c.fail(`conditional names unknown boolean ${b}`, nodeAt);
        boolsUsed.add(b);
        depth++;
      } else if (t === COND_NOT) {
        if (depth < 1) c.fail('conditional expression underflows', nodeAt);
      } else {
        if (depth < 2) c.fail('conditional expression underflows', nodeAt);
        depth--;
      }
      expr[k * 2] = t;
      expr[k * 2 + 1] = b;
    }
    if (depth !== 1) c.fail('conditional expression does not leave exactly one value', at);
    const ntrue = c.u32();
    c.checkCount(ntrue, 12, 'conditional true list entry');
    const trueStart = condBuilder.count;
    for (let k = 0; k < ntrue; k++) {
      readAvtabEntry(c, condBuilder, version, ntypes, nclasses, true);
      condEntryNode.push(i);
      condEntryBranch.push(1);
    }
    const trueEnd = condBuilder.count;
    const nfalse = c.u32();
    c.checkCount(nfalse, 12, 'conditional false list entry');
    for (let k = 0; k < nfalse; k++) {
      readAvtabEntry(c, condBuilder, version, ntypes, nclasses, true);
      condEntryNode.push(i);
      condEntryBranch.push(0);
    }
    conds.push({
      index: i,
      curState,
      expr,
      booleans: [...boolsUsed].sort((a, b) => a - b),
      trueStart,
      trueEnd,
      falseStart: trueEnd,
      falseEnd: condBuilder.count,
    });
  }
  const condAvtab = condBuilder.finish();

  // ---- role transitions and role allows (§14)
  c.section = 'role_transitions';
  const nrt = c.u32();
  c.checkCount(nrt, version >= 26 ? 16 : 12, 'role transition');
  const roleTransitions: RoleTransition[] = [];
  for (let i = 0; i < nrt; i++) {
    const at = c.pos;
    const role = c.u32();
    const type = c.u32();
    const newRole = c.u32();
    const tclass = version >= 26 ? c.u32() : (classByName.get('process') ?? 0);
    if (role < 1 || role > roleTab.nprim || newRole < 1 || newRole > roleTab.nprim) {
      c.fail('role transition names an unknown role', at);
    }
    if (type < 1 || type > ntypes) c.fail('role transition names an unknown type', at);
    if (version >= 26 && (tclass < 1 || tclass > nclasses))
      c.fail('role transition names an unknown class', at);
    roleTransitions.push({ role, type, newRole, tclass });
  }
  c.section = 'role_allows';
  const nra = c.u32();
  c.checkCount(nra, 8, 'role allow');
  const roleAllows = new Set<number>();
  const roleAllowList: Array<readonly [number, number]> = [];
  for (let i = 0; i < nra; i++) {
    const at = c.pos;
    const r1 = c.u32();
    const r2 = c.u32();
    if (r1 < 1 || r1 > roleTab.nprim || r2 < 1 || r2 > roleTab.nprim)
      c.fail('role allow names an unknown role', at);
    roleAllows.add(roleAllowKey(r1, r2));
    roleAllowList.push([r1, r2]);
  }

  // ---- filename transitions (§14.3)
  let filenameTransitions = 0;
  if (version >= 25) {
    c.section = 'filename_transitions';
    const n = c.u32();
    if (version >= 33) {
      c.checkCount(n, 16, 'filename transition');
      for (let i = 0; i < n; i++) {
        const len = c.u32();
        c.str(len, 'file name');
        c.u32(); // ttype
        c.u32(); // tclass
        const at = c.pos;
        const ndatum = c.u32();
        if (ndatum === 0) c.fail('filename transition without data', at);
        c.checkCount(ndatum, 16, 'filename transition datum');
        for (let k = 0; k < ndatum; k++) {
          filenameTransitions += c.ebitmap().cardinality();
          c.u32(); // otype
        }
      }
    } else {
      c.checkCount(n, 20, 'filename transition');
      for (let i = 0; i < n; i++) {
        const len = c.u32();
        c.str(len, 'file name');
        c.skip(16);
        filenameTransitions++;
      }
    }
  }

  // ---- object contexts (§15)
  c.section = 'object_contexts';
  const oconCounts: number[] = [];
  let portcons: PortCons = EMPTY_PORTCONS;
  for (let list = 0; list < oconNum; list++) {
    const n = c.u32();
    if (list === OCON_PORT) {
      c.checkCount(n, PORTCON_MIN_BYTES, 'port context');
      portcons = readPortcons(c, n, ntypes);
    } else {
      c.checkCount(n, 4, 'object context');
      for (let i = 0; i < n; i++) readOcon(c, list);
    }
    oconCounts.push(n);
  }

  // ---- genfs (§16)
  c.section = 'genfs';
  const nfs = c.u32();
  c.checkCount(nfs, 8, 'genfs filesystem');
  let genfscon = 0;
  for (let i = 0; i < nfs; i++) {
    const len = c.u32();
    c.str(len, 'filesystem type');
    const n = c.u32();
    c.checkCount(n, 8, 'genfs entry');
    for (let k = 0; k < n; k++) {
      const plen = c.u32();
      c.str(plen, 'genfs path');
      c.u32(); // sclass
      readContext(c);
      genfscon++;
    }
  }

  // ---- range transitions (§17.1)
  c.section = 'range_transitions';
  const nrange = c.u32();
  c.checkCount(nrange, 12, 'range transition');
  for (let i = 0; i < nrange; i++) {
    c.skip(12);
    readRange(c);
  }

  // ---- type -> attribute map (§17.2)
  c.section = 'type_attr_map';
  const typeAttrs: Uint16Array[] = [new Uint16Array(0)];
  const members: number[][] = Array.from({ length: ntypes + 1 }, () => []);
  for (let v = 1; v <= ntypes; v++) {
    const at = c.pos;
    const bits = c.ebitmap().toArray();
    const isAttr = (typeList[v - 1] as TypeDatum).isAttribute;
    // bits are ascending: merge the type's own value in while copying.
    const attrs = new Uint16Array(bits.length + 1);
    let n = 0;
    let ownDone = false;
    for (const b of bits) {
      const av = b + 1;
      if (av > ntypes) c.fail(`type ${v} maps to unknown attribute ${av}`, at);
      if (av === v) continue;
      if (isAttr) c.fail(`attribute ${v} maps to another attribute`, at);
      if (!(typeList[av - 1] as TypeDatum).isAttribute) c.fail(`type ${v} maps to non-attribute ${av}`, at);
      if (!ownDone && v < av) {
        attrs[n++] = v;
        ownDone = true;
      }
      attrs[n++] = av;
      members[av]?.push(v);
    }
    if (!ownDone) attrs[n++] = v;
    typeAttrs.push(n === attrs.length ? attrs : attrs.slice(0, n));
  }
  c.section = 'end';
  if (c.remaining !== 0) c.fail(`${c.remaining} trailing bytes after the last section`);

  const attrMembers = members.map((m) => Uint16Array.from(m));

  // ---- indexes for decisions
  // Duplicate unconditional entries are rejected now (libsepol does); the lookup indexes are built on
  // first use, so reading a policy (e.g. for `policy info`) does not pay for them.
  checkDuplicates(c, avtabEntries);
  let indexes: DecisionIndexes | undefined;
  const idx = (): DecisionIndexes => {
    indexes ??= buildIndexes(avtabEntries, condAvtab);
    return indexes;
  };

  const permissive = new Uint8Array(ntypes + 1);
  const permissiveTypes: number[] = [];
  for (const b of permissiveBits) {
    if (b >= 1 && b <= ntypes) {
      permissive[b] = 1;
      permissiveTypes.push(b);
    }
  }

  const counts: PolicyCounts = {
    filenameTransitions,
    rangeTransitions: nrange,
    initialSids: oconCounts[0] ?? 0,
    fs: oconCounts[1] ?? 0,
    portcon: oconCounts[2] ?? 0,
    netifcon: oconCounts[3] ?? 0,
    nodecon: oconCounts[4] ?? 0,
    fsUse: oconCounts[5] ?? 0,
    nodecon6: oconCounts[6] ?? 0,
    ibpkeycon: oconCounts[7] ?? 0,
    ibendportcon: oconCounts[8] ?? 0,
    genfscon,
  };

  const policy: Policy = {
    version,
    mls,
    handleUnknown,
    target: 'selinux',
    polcaps,
    permissiveTypes,
    permissive,
    commons: commonList,
    classes: classList,
    roles: roleList,
    types: typeList,
    users: userList,
    booleans: boolList,
    sensitivities: sensList,
    categories: catList,
    commonByName,
    classByName,
    roleByName,
    typeByName,
    userByName,
    boolByName,
    sensByName,
    catByName,
    avtab: avtabEntries,
    condAvtab,
    condEntryNode: Uint32Array.from(condEntryNode),
    condEntryBranch: Uint8Array.from(condEntryBranch),
    conds,
    get teIndex() {
      return idx().teIndex;
    },
    get teVectors() {
      return idx().teVectors;
    },
    get condIndex() {
      return idx().condIndex;
    },
    get condLists() {
      return idx().condLists;
    },
    get scIndex() {
      return idx().scIndex;
    },
    get scRanges() {
      return idx().scRanges;
    },
    get scTargets() {
      return idx().scTargets;
    },
    get scTe() {
      return idx().scTe;
    },
    get scCond() {
      return idx().scCond;
    },
    typeAttrs,
    attrMembers,
    roleTransitions,
    roleAllows,
    roleAllowList,
    portcons,
    counts,
    size: bytes.length,
  };
  for (const list of [
    commonList,
    classList,
    roleList,
    typeList,
    userList,
    boolList,
    sensList,
    catList,
    conds,
  ]) {
    for (const item of list as object[]) Object.freeze(item);
    Object.freeze(list);
  }
  for (const cl of classList) {
    Object.freeze(cl.permNames);
    Object.freeze(cl.constraints);
    Object.freeze(cl.validatetrans);
  }
  Object.freeze(roleTransitions);
  Object.freeze(roleAllowList);
  Object.freeze(counts);
  return Object.freeze(policy);
}

// ---------------------------------------------------------------------------------------------------------

function symtabHeader(c: Cursor, maxNprim: number, allowGaps = false): Symtab {
  const at = c.pos;
  const nprim = c.u32();
  const nel = c.u32();
  if (nel > 0 && nprim === 0) c.fail('symbol table with entries but no values', at);
  if (nprim > maxNprim) c.fail(`symbol table nprim ${nprim} too large`, at);
  if (!allowGaps && nprim > nel) c.fail(`symbol table nprim ${nprim} exceeds its ${nel} entries`, at);
  c.checkCount(nel, 8, 'symbol');
  return { nprim, nel };
}

function checkValue(c: Cursor, value: number, nprim: number, what: string, at: number): void {
  if (value < 1 || value > nprim) c.fail(`${what} value ${value} out of range 1..${nprim}`, at);
}

function setName(c: Cursor, map: Map<string, number>, name: string, value: number, at: number): void {
  if (map.has(name)) c.fail(`duplicate name ${JSON.stringify(name.slice(0, 64))}`, at);
  map.set(name, value);
}

/**
 * A value no entry claims (checkpolicy counts role attributes and sensitivity and category aliases in a
 * table's nprim): a placeholder that no name resolves to, and that counts and listings leave out.
 */
function fillGaps<T>(arr: Array<T | undefined>, gap: (value: number) => T): T[] {
  const out = new Array<T>(arr.length);
  for (let i = 0; i < arr.length; i++) out[i] = arr[i] ?? gap(i + 1);
  return out;
}

/** A placeholder's name: not an identifier, so no context or rule text can name it. */
function gapName(what: string, value: number): string {
  return `@${what}${value}`;
}

function requireAll<T>(c: Cursor, arr: Array<T | undefined>, what: string): T[] {
  for (let i = 0; i < arr.length; i++) if (arr[i] === undefined) c.fail(`no ${what} has value ${i + 1}`);
  return arr as T[];
}

function readPerms(
  c: Cursor,
  count: number,
  nprim: number,
  inherited: ReadonlyMap<string, number>,
): Map<string, number> {
  c.checkCount(count, 8, 'permission');
  const perms = new Map<string, number>();
  const used = new Set<number>(inherited.values());
  for (let i = 0; i < count; i++) {
    const at = c.pos;
    const len = c.u32();
    const value = c.u32();
    const name = c.str(len);
    if (value < 1 || value > nprim) c.fail(`permission value ${value} out of range 1..${nprim}`, at);
    if (perms.has(name) || inherited.has(name) || used.has(value)) c.fail('duplicate permission', at);
    used.add(value);
    perms.set(name, value);
  }
  return perms;
}

interface RawConstraint {
  constraint: Constraint;
}

function readConstraint(c: Cursor, version: number, validatetrans: boolean): RawConstraint {
  const at = c.pos;
  const perms = c.u32();
  const nexpr = c.u32();
  if (nexpr === 0) c.fail('constraint with an empty expression', at);
  c.checkCount(nexpr, 12, 'constraint expression node');
  const expr: ConstraintNode[] = [];
  let depth = 0;
  let isMls = false;
  for (let i = 0; i < nexpr; i++) {
    const nodeAt = c.pos;
    const exprType = c.u32();
    const attr = c.u32();
    const op = c.u32();
    let names: Ebitmap | null = null;
    let typeSet: TypeSet | null = null;
    switch (exprType) {
      case CEXPR_NOT:
        if (depth < 1) c.fail('constraint expression underflows', nodeAt);
        break;
      case CEXPR_AND:
      case CEXPR_OR:
        if (depth < 2) c.fail('constraint expression underflows', nodeAt);
        depth--;
        break;
      case CEXPR_ATTR: {
        if (op < CEXPR_EQ || op > CEXPR_INCOMP) c.fail(`bad constraint operator ${op}`, nodeAt);
        if (attr === CEXPR_USER || attr === CEXPR_TYPE) {
          if (op > CEXPR_NEQ) c.fail('bad operator for a user/type comparison', nodeAt);
        } else if (attr === CEXPR_ROLE) {
          // any operator
        } else if (attr >= CEXPR_L1L2 && attr <= CEXPR_L2H2 && (attr & (attr - 1)) === 0) {
          isMls = true;
        } else c.fail(`bad constraint attribute ${attr}`, nodeAt);
        if (++depth > CONSTRAINT_STACK_MAX) c.fail('constraint expression too deep', nodeAt);
        break;
      }
      case CEXPR_NAMES: {
        const base = attr & ~(CEXPR_TARGET | CEXPR_XTARGET);
        if (base !== CEXPR_USER && base !== CEXPR_ROLE && base !== CEXPR_TYPE) {
          c.fail(`bad constraint names attribute ${attr}`, nodeAt);
        }
        if (attr & CEXPR_TARGET && attr & CEXPR_XTARGET) c.fail('bad constraint names attribute', nodeAt);
        if (attr & CEXPR_XTARGET && !validatetrans) c.fail('xtarget outside validatetrans', nodeAt);
        if (op !== CEXPR_EQ && op !== CEXPR_NEQ) c.fail(`bad operator ${op} for a names test`, nodeAt);
        names = c.ebitmap();
        if (version >= 29) {
          const types = c.ebitmap();
          const negset = c.ebitmap();
          const flags = c.u32();
          typeSet = { types, negset, flags };
        }
        if (++depth > CONSTRAINT_STACK_MAX) c.fail('constraint expression too deep', nodeAt);
        break;
      }
      default:
        c.fail(`bad constraint expression type ${exprType}`, nodeAt);
    }
    expr.push({ exprType, attr, op, names, typeSet });
  }
  if (depth !== 1) c.fail('constraint expression does not leave exactly one value', at);
  void CEXPR_DOM;
  return { constraint: { perms, expr, mls: isMls } };
}

function readLevel(c: Cursor): MlsLevel {
  const sens = c.u32();
  const cats = c.ebitmap();
  return { sens, cats };
}

function readRange(c: Cursor): MlsRange {
  const at = c.pos;
  const n = c.u32();
  if (n !== 1 && n !== 2) c.fail(`MLS range with ${n} levels`, at);
  const s0 = c.u32();
  const s1 = n === 2 ? c.u32() : s0;
  const lowCats = c.ebitmap();
  const highCats = n === 2 ? c.ebitmap() : lowCats;
  return { low: { sens: s0, cats: lowCats }, high: { sens: s1, cats: highCats } };
}

function readContext(c: Cursor): void {
  c.skip(12);
  readRange(c);
}

/** Object context list of port contexts (§15). */
const OCON_PORT = 2;
/** Smallest port record: protocol, low, high, then a context (3 values and a one-level range, §2.4-2.5). */
const PORTCON_MIN_BYTES = 12 + 12 + 8 + 12;
const EMPTY_PORTCONS: PortCons = Object.freeze({
  count: 0,
  protocol: new Uint8Array(0),
  low: new Uint16Array(0),
  high: new Uint16Array(0),
  type: new Uint16Array(0),
});

/**
 * `n` port records (§15, list 2): u32 protocol, u32 low, u32 high, context. The kernel and libsepol keep
 * the protocol in 8 bits and the ports in 16; values that do not fit, a range with low > high (libsepol's
 * validator rejects it) and a type value outside the type table are format errors.
 */
function readPortcons(c: Cursor, n: number, ntypes: number): PortCons {
  const protocol = new Uint8Array(n);
  const low = new Uint16Array(n);
  const high = new Uint16Array(n);
  const type = new Uint16Array(n);
  for (let i = 0; i < n; i++) {
    const at = c.pos;
    const proto = c.u32();
    const lo = c.u32();
    const hi = c.u32();
    c.skip(8); // user, role
    const t = c.u32();
    readRange(c);
    if (proto > 0xff) c.fail(`port context protocol ${proto} is out of range`, at);
    if (lo > hi || hi > 0xffff) c.fail(`port context range ${lo}-${hi} is invalid`, at + 4);
    if (t < 1 || t > ntypes) c.fail(`port context names an unknown type ${t}`, at + 20);
    protocol[i] = proto;
    low[i] = lo;
    high[i] = hi;
    type[i] = t;
  }
  return Object.freeze({ count: n, protocol, low, high, type });
}

/** One record of object context list `list`, skipped (list 2, ports, is kept: readPortcons). */
function readOcon(c: Cursor, list: number): void {
  switch (list) {
    case 0: // initial SIDs
      c.u32();
      readContext(c);
      return;
    case 1: // fs
    case 3: {
      // netif
      const len = c.u32();
      c.str(len);
      readContext(c);
      readContext(c);
      return;
    }
    case 4: // node
      c.skip(8);
      readContext(c);
      return;
    case 5: {
      // fs_use
      c.u32();
      const len = c.u32();
      c.str(len);
      readContext(c);
      return;
    }
    case 6: // node6
      c.skip(32);
      readContext(c);
      return;
    case 7: // ibpkey
      c.skip(16);
      readContext(c);
      return;
    case 8: {
      // ibendport: len, port, name
      const at = c.pos;
      const len = c.u32();
      c.u32();
      if (len < 1 || len > 63) c.fail(`ibendport name length ${len}`, at);
      c.str(len);
      readContext(c);
      return;
    }
    default:
      c.fail(`unknown object context list ${list}`);
  }
}

interface AvtabBuilder {
  count: number;
  push(s: number, t: number, cl: number, kind: number, data: number, x: XpermDatum | null): void;
  finish(): AvtabEntries;
}

function newAvtabBuilder(initial: number): AvtabBuilder {
  let cap = Math.max(16, Math.floor(initial));
  let source: Uint16Array<ArrayBuffer> = new Uint16Array(cap);
  let target: Uint16Array<ArrayBuffer> = new Uint16Array(cap);
  let tclass: Uint16Array<ArrayBuffer> = new Uint16Array(cap);
  let kind: Uint16Array<ArrayBuffer> = new Uint16Array(cap);
  let data = new Uint32Array(cap);
  const xperms = new Map<number, XpermDatum>();
  const b: AvtabBuilder = {
    count: 0,
    push(s, t, cl, k, d, x) {
      if (b.count === cap) {
        cap *= 2;
        source = grow16(source, cap);
        target = grow16(target, cap);
        tclass = grow16(tclass, cap);
        kind = grow16(kind, cap);
        const nd = new Uint32Array(cap);
        nd.set(data);
        data = nd;
      }
      const i = b.count++;
      source[i] = s;
      target[i] = t;
      tclass[i] = cl;
      kind[i] = k;
      data[i] = d;
      if (x) xperms.set(i, x);
    },
    finish() {
      const n = b.count;
      return {
        count: n,
        source: source.slice(0, n),
        target: target.slice(0, n),
        tclass: tclass.slice(0, n),
        kind: kind.slice(0, n),
        data: data.slice(0, n),
        xperms,
      };
    },
  };
  return b;
}

function grow16(a: Uint16Array<ArrayBuffer>, cap: number): Uint16Array<ArrayBuffer> {
  const n = new Uint16Array(cap);
  n.set(a);
  return n;
}

function readAvtabEntry(
  c: Cursor,
  b: AvtabBuilder,
  version: number,
  ntypes: number,
  nclasses: number,
  conditional: boolean,
): void {
  const at = c.pos;
  c.need(8);
  const view = c.view;
  const s = view.getUint16(at, true);
  const t = view.getUint16(at + 2, true);
  const cl = view.getUint16(at + 4, true);
  const specified = view.getUint16(at + 6, true);
  c.pos = at + 8;
  if (s < 1 || s > ntypes || t < 1 || t > ntypes) c.fail('avtab entry names an unknown type', at);
  if (cl < 1 || cl > nclasses) c.fail('avtab entry names an unknown class', at);
  if (!conditional && specified & AVTAB_ENABLED)
    c.fail('unconditional avtab entry with the enabled flag', at);
  const k = specified & ~AVTAB_ENABLED;
  if (k === 0 || (k & (k - 1)) !== 0 || (k & (AV_KINDS | TYPE_KINDS | XPERM_KINDS)) === 0) {
    c.fail(`bad avtab entry kind 0x${specified.toString(16)}`, at);
  }
  if (k & XPERM_KINDS) {
    if (version < 30 || conditional) c.fail('extended permission entry not allowed here', at);
    const xs = c.u8();
    const driver = c.u8();
    if (xs < 1 || xs > 3) c.fail(`bad extended permission kind ${xs}`, at);
    c.need(32);
    const perms = new Uint32Array(8);
    for (let w = 0; w < 8; w++) perms[w] = c.u32();
    b.push(s, t, cl, k, 0, { specified: xs, driver, perms });
    return;
  }
  c.need(4);
  const data = view.getUint32(c.pos, true);
  c.pos += 4;
  if (k & TYPE_KINDS && (data < 1 || data > ntypes)) c.fail('type rule names an unknown type', at);
  b.push(s, t, cl, k, data, null);
}

interface DecisionIndexes {
  teIndex: KeyIndex;
  teVectors: Uint32Array;
  condIndex: KeyIndex;
  condLists: Uint32Array;
  scIndex: KeyIndex;
  scRanges: Uint32Array;
  scTargets: Uint16Array;
  scTe: Int32Array;
  scCond: Int32Array;
}

function buildIndexes(av: AvtabEntries, cav: AvtabEntries): DecisionIndexes {
  const { teIndex, teVectors } = buildTeIndex(av);
  const { condIndex, condLists } = buildCondIndex(cav);
  return { teIndex, teVectors, condIndex, condLists, ...buildSourceClassIndex(av, cav, teIndex, condIndex) };
}

/** libsepol rejects two unconditional entries with the same (source, target, class, kind). */
function checkDuplicates(c: Cursor, av: AvtabEntries): void {
  const keys = new Float64Array(av.count);
  for (let i = 0; i < av.count; i++) {
    // (source, target, class) in 48 bits, then the kind's bit index (< 16): exact in a double.
    const k = av.kind[i] as number;
    keys[i] =
      (((av.source[i] as number) * 65536 + (av.target[i] as number)) * 65536 + (av.tclass[i] as number)) *
        16 +
      (31 - Math.clz32(k));
  }
  keys.sort();
  const firstXperm = 31 - Math.clz32(AVTAB_XPERMS_ALLOWED);
  for (let i = 1; i < keys.length; i++) {
    if (keys[i] === keys[i - 1] && (keys[i] as number) % 16 < firstXperm) c.fail('duplicate avtab entry', 0);
  }
}

function buildTeIndex(av: AvtabEntries): { teIndex: KeyIndex; teVectors: Uint32Array } {
  const teIndex = new KeyIndex(av.count);
  const vec = new Uint32Array(av.count * 4);
  let used = 0;
  for (let i = 0; i < av.count; i++) {
    const k = av.kind[i] as number;
    if ((k & AV_KINDS) === 0) continue;
    const s = av.source[i] as number;
    const t = av.target[i] as number;
    const cl = av.tclass[i] as number;
    let o = teIndex.get(s, t, cl);
    if (o < 0) {
      o = used;
      used += 4;
      vec[o + 2] = 0xffffffff;
      teIndex.set(s, t, cl, o);
    }
    vec[o + 3] = (vec[o + 3] as number) | k;
    const d = av.data[i] as number;
    if (k === AVTAB_ALLOWED) vec[o] = ((vec[o] as number) | d) >>> 0;
    else if (k === AVTAB_AUDITALLOW) vec[o + 1] = ((vec[o + 1] as number) | d) >>> 0;
    else vec[o + 2] = ((vec[o + 2] as number) & d) >>> 0;
  }
  return { teIndex, teVectors: vec.slice(0, used) };
}

/** Conditional AV entries grouped by key: index -> [start, end) into the returned entry list. */
function buildCondIndex(av: AvtabEntries): { condIndex: KeyIndex; condLists: Uint32Array } {
  const idx = new KeyIndex(av.count);
  const counts: number[] = [];
  const keyOf = new Int32Array(av.count).fill(-1);
  for (let i = 0; i < av.count; i++) {
    if (((av.kind[i] as number) & AV_KINDS) === 0) continue;
    const s = av.source[i] as number;
    const t = av.target[i] as number;
    const cl = av.tclass[i] as number;
    let g = idx.get(s, t, cl);
    if (g < 0) {
      g = counts.length;
      counts.push(0);
      idx.set(s, t, cl, g);
    }
    counts[g] = (counts[g] as number) + 1;
    keyOf[i] = g;
  }
  // CSR layout: header of (start, end) per group, then entries.
  const ngroups = counts.length;
  const lists = new Uint32Array(ngroups * 2 + av.count);
  let off = ngroups * 2;
  for (let g = 0; g < ngroups; g++) {
    lists[g * 2] = off;
    lists[g * 2 + 1] = off;
    off += counts[g] as number;
  }
  for (let i = 0; i < av.count; i++) {
    const g = keyOf[i] as number;
    if (g < 0) continue;
    const end = lists[g * 2 + 1] as number;
    lists[end] = i;
    lists[g * 2 + 1] = end + 1;
  }
  const condIndex = new KeyIndex(ngroups);
  for (let i = 0; i < av.count; i++) {
    const g = keyOf[i] as number;
    if (g >= 0) condIndex.set(av.source[i] as number, av.target[i] as number, av.tclass[i] as number, g * 2);
  }
  return { condIndex, condLists: lists };
}

/**
 * Per (source, class): the targets that have unconditional or conditional AV rules, ascending, with their
 * `teIndex` offset and `condIndex` group (-1 when absent). Lets a decision visit A(t1) x A(t2) with one
 * lookup per source attribute instead of one per pair.
 */
function buildSourceClassIndex(
  av: AvtabEntries,
  cav: AvtabEntries,
  teIndex: KeyIndex,
  condIndex: KeyIndex,
): {
  scIndex: KeyIndex;
  scRanges: Uint32Array;
  scTargets: Uint16Array;
  scTe: Int32Array;
  scCond: Int32Array;
} {
  // Packed keys (source, class, target), sorted: groups by (source, class), targets ascending.
  const keys = new Float64Array(av.count + cav.count);
  let n = 0;
  for (const table of [av, cav]) {
    for (let i = 0; i < table.count; i++) {
      if (((table.kind[i] as number) & AV_KINDS) === 0) continue;
      keys[n++] =
        ((table.source[i] as number) * 65536 + (table.tclass[i] as number)) * 65536 +
        (table.target[i] as number);
    }
  }
  const sorted = keys.subarray(0, n).sort();
  let distinct = 0;
  let groups = 0;
  for (let i = 0; i < n; i++) {
    if (i === 0 || sorted[i] !== sorted[i - 1]) {
      distinct++;
      if (
        i === 0 ||
        Math.floor((sorted[i] as number) / 65536) !== Math.floor((sorted[i - 1] as number) / 65536)
      )
        groups++;
    }
  }
  const scIndex = new KeyIndex(groups);
  const scRanges = new Uint32Array(groups * 2);
  const scTargets = new Uint16Array(distinct);
  const scTe = new Int32Array(distinct);
  const scCond = new Int32Array(distinct);
  let off = 0;
  let gi = -1;
  let prevGroup = -1;
  for (let i = 0; i < n; i++) {
    const k = sorted[i] as number;
    if (i > 0 && k === sorted[i - 1]) continue;
    const group = Math.floor(k / 65536);
    const t = k - group * 65536;
    const c = group % 65536;
    const src = Math.floor(group / 65536);
    if (group !== prevGroup) {
      if (gi >= 0) scRanges[gi * 2 + 1] = off;
      gi++;
      prevGroup = group;
      scIndex.set(src, 0, c, gi * 2);
      scRanges[gi * 2] = off;
    }
    scTargets[off] = t;
    scTe[off] = teIndex.get(src, t, c);
    scCond[off] = condIndex.get(src, t, c);
    off++;
  }
  if (gi >= 0) scRanges[gi * 2 + 1] = off;
  return { scIndex, scRanges, scTargets, scTe, scCond };
}
