import {
  AVTAB_ALLOWED,
  AVTAB_AUDITALLOW,
  AVTAB_AUDITDENY,
  AVTAB_CHANGE,
  AVTAB_MEMBER,
  AVTAB_TRANSITION,
  AVTAB_XPERMS_ALLOWED,
  AVTAB_XPERMS_AUDITALLOW,
  AVTAB_XPERMS_DONTAUDIT,
  type AvtabEntries,
  type Policy,
} from './model.ts';

/** The statistics `seinfo FILE` prints, with the same meaning. */
export interface PolicyInfo {
  policyVersion: number;
  mls: boolean;
  target: 'selinux';
  handleUnknown: 'deny' | 'reject' | 'allow';
  classes: number;
  permissions: number;
  sensitivities: number;
  categories: number;
  types: number;
  attributes: number;
  users: number;
  roles: number;
  booleans: number;
  condExprs: number;
  allow: number;
  neverallow: number;
  auditallow: number;
  dontaudit: number;
  typeTrans: number;
  typeChange: number;
  typeMember: number;
  rangeTrans: number;
  roleAllow: number;
  roleTrans: number;
  constraints: number;
  validatetrans: number;
  mlsConstrain: number;
  mlsValidatetrans: number;
  permissives: number;
  polcaps: number;
  defaults: number;
  typebounds: number;
  allowxperm: number;
  neverallowxperm: number;
  auditallowxperm: number;
  dontauditxperm: number;
  ibendportcon: number;
  ibpkeycon: number;
  initialSids: number;
  fsUse: number;
  genfscon: number;
  portcon: number;
  netifcon: number;
  nodecon: number;
}

function countKinds(av: AvtabEntries, into: Map<number, number>): void {
  for (let i = 0; i < av.count; i++) {
    const k = av.kind[i] as number;
    into.set(k, (into.get(k) ?? 0) + 1);
  }
}

/** Compute the seinfo statistics of a policy. */
export function policyInfo(policy: Policy): PolicyInfo {
  const kinds = new Map<number, number>();
  countKinds(policy.avtab, kinds);
  countKinds(policy.condAvtab, kinds);
  const k = (x: number): number => kinds.get(x) ?? 0;
  let permissions = 0;
  for (const cm of policy.commons) permissions += cm.perms.size;
  let constraints = 0;
  let mlsConstrain = 0;
  let validatetrans = 0;
  let mlsValidatetrans = 0;
  let defaults = 0;
  for (const cl of policy.classes) {
    permissions += cl.ownPerms.size;
    for (const con of cl.constraints) con.mls ? mlsConstrain++ : constraints++;
    for (const con of cl.validatetrans) con.mls ? mlsValidatetrans++ : validatetrans++;
    for (const d of [cl.defaultUser, cl.defaultRole, cl.defaultType, cl.defaultRange]) if (d !== 0) defaults++;
  }
  let types = 0;
  let attributes = 0;
  let typebounds = 0;
  for (const t of policy.types) {
    if (t.isAttribute) attributes++;
    else {
      types++;
      if (t.bounds !== 0) typebounds++;
    }
  }
  const n = policy.counts;
  return {
    policyVersion: policy.version,
    mls: policy.mls,
    target: policy.target,
    handleUnknown: policy.handleUnknown,
    classes: policy.classes.length,
    permissions,
    sensitivities: named(policy.sensitivities),
    categories: named(policy.categories),
    types,
    attributes,
    users: policy.users.length,
    roles: named(policy.roles),
    booleans: policy.booleans.length,
    condExprs: policy.conds.length,
    allow: k(AVTAB_ALLOWED),
    neverallow: 0,
    auditallow: k(AVTAB_AUDITALLOW),
    dontaudit: k(AVTAB_AUDITDENY),
    typeTrans: k(AVTAB_TRANSITION) + n.filenameTransitions,
    typeChange: k(AVTAB_CHANGE),
    typeMember: k(AVTAB_MEMBER),
    rangeTrans: n.rangeTransitions,
    roleAllow: policy.roleAllowList.length,
    roleTrans: policy.roleTransitions.length,
    constraints,
    validatetrans,
    mlsConstrain,
    mlsValidatetrans,
    permissives: policy.permissiveTypes.length,
    polcaps: policy.polcaps.length,
    defaults,
    typebounds,
    allowxperm: k(AVTAB_XPERMS_ALLOWED),
    neverallowxperm: 0,
    auditallowxperm: k(AVTAB_XPERMS_AUDITALLOW),
    dontauditxperm: k(AVTAB_XPERMS_DONTAUDIT),
    ibendportcon: n.ibendportcon,
    ibpkeycon: n.ibpkeycon,
    initialSids: n.initialSids,
    fsUse: n.fsUse,
    genfscon: n.genfscon,
    portcon: n.portcon,
    netifcon: n.netifcon,
    nodecon: n.nodecon + n.nodecon6,
  };
}

function pair(l1: string, v1: number, l2: string, v2: number): string {
  const left = `  ${(l1 + ':').padEnd(16)}${String(v1).padStart(8)}`;
  const right = `${(l2 + ':').padEnd(16)}${String(v2).padStart(8)}`;
  return `${left}    ${right}\n`;
}

/** Render the statistics the way `seinfo FILE` prints them. */
export function formatPolicyInfo(info: PolicyInfo, path: string): string {
  let s = `Statistics for policy file: ${path}\n`;
  s += `Policy Version:             ${info.policyVersion} (MLS ${info.mls ? 'enabled' : 'disabled'})\n`;
  s += `Target Policy:              ${info.target}\n`;
  s += `Handle unknown classes:     ${info.handleUnknown}\n`;
  s += pair('Classes', info.classes, 'Permissions', info.permissions);
  s += pair('Sensitivities', info.sensitivities, 'Categories', info.categories);
  s += pair('Types', info.types, 'Attributes', info.attributes);
  s += pair('Users', info.users, 'Roles', info.roles);
  s += pair('Booleans', info.booleans, 'Cond. Expr.', info.condExprs);
  s += pair('Allow', info.allow, 'Neverallow', info.neverallow);
  s += pair('Auditallow', info.auditallow, 'Dontaudit', info.dontaudit);
  s += pair('Type_trans', info.typeTrans, 'Type_change', info.typeChange);
  s += pair('Type_member', info.typeMember, 'Range_trans', info.rangeTrans);
  s += pair('Role allow', info.roleAllow, 'Role_trans', info.roleTrans);
  s += pair('Constraints', info.constraints, 'Validatetrans', info.validatetrans);
  s += pair('MLS Constrain', info.mlsConstrain, 'MLS Val. Tran', info.mlsValidatetrans);
  s += pair('Permissives', info.permissives, 'Polcap', info.polcaps);
  s += pair('Defaults', info.defaults, 'Typebounds', info.typebounds);
  s += pair('Allowxperm', info.allowxperm, 'Neverallowxperm', info.neverallowxperm);
  s += pair('Auditallowxperm', info.auditallowxperm, 'Dontauditxperm', info.dontauditxperm);
  s += pair('Ibendportcon', info.ibendportcon, 'Ibpkeycon', info.ibpkeycon);
  s += pair('Initial SIDs', info.initialSids, 'Fs_use', info.fsUse);
  s += pair('Genfscon', info.genfscon, 'Portcon', info.portcon);
  s += pair('Netifcon', info.netifcon, 'Nodecon', info.nodecon);
  return s;
}

/** Entries with a name: value gaps (see readPolicy) are not symbols, and seinfo does not count them. */
function named(list: readonly { gap?: true }[]): number {
  let n = 0;
  for (const x of list) if (x.gap !== true) n++;
  return n;
}
