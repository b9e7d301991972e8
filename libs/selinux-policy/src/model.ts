// The immutable, indexed model of a binary SELinux kernel policy (see README.md and binary-policy.md).
import type { Ebitmap } from './ebitmap.ts';
import type { KeyIndex } from './key-index.ts';

export type HandleUnknown = 'deny' | 'reject' | 'allow';

export interface MlsLevel {
  readonly sens: number;
  /** Category set, bit = category value - 1. */
  readonly cats: Ebitmap;
}

export interface MlsRange {
  readonly low: MlsLevel;
  readonly high: MlsLevel;
}

export interface CommonDatum {
  readonly name: string;
  readonly value: number;
  readonly nperms: number;
  /** Permission name -> value (bit = value - 1). */
  readonly perms: ReadonlyMap<string, number>;
}

/** Constraint expression node kinds and operators (§8.1). */
export const CEXPR_NOT = 1;
export const CEXPR_AND = 2;
export const CEXPR_OR = 3;
export const CEXPR_ATTR = 4;
export const CEXPR_NAMES = 5;
export const CEXPR_USER = 1;
export const CEXPR_ROLE = 2;
export const CEXPR_TYPE = 4;
export const CEXPR_TARGET = 8;
export const CEXPR_XTARGET = 16;
export const CEXPR_L1L2 = 32;
export const CEXPR_L1H2 = 64;
export const CEXPR_H1L2 = 128;
export const CEXPR_H1H2 = 256;
export const CEXPR_L1H1 = 512;
export const CEXPR_L2H2 = 1024;
export const CEXPR_EQ = 1;
export const CEXPR_NEQ = 2;
export const CEXPR_DOM = 3;
export const CEXPR_DOMBY = 4;
export const CEXPR_INCOMP = 5;

/** Type set as written in the policy source (v >= 29), for display only. */
export interface TypeSet {
  readonly types: Ebitmap;
  readonly negset: Ebitmap;
  readonly flags: number;
}

export interface ConstraintNode {
  readonly exprType: number;
  readonly attr: number;
  readonly op: number;
  /** NAMES nodes: expanded user/role/type set (bit = value - 1); null otherwise. */
  readonly names: Ebitmap | null;
  /** NAMES nodes in v >= 29 files: the source-level type set; null otherwise. */
  readonly typeSet: TypeSet | null;
}

export interface Constraint {
  /** Access vector restricted by this constraint (0 for validatetrans). */
  readonly perms: number;
  /** Postfix program. */
  readonly expr: readonly ConstraintNode[];
  /** True for mlsconstrain / mlsvalidatetrans (some node compares levels). */
  readonly mls: boolean;
}

export interface ClassDatum {
  readonly name: string;
  readonly value: number;
  readonly common: CommonDatum | null;
  /** The class's own permissions: name -> value. */
  readonly ownPerms: ReadonlyMap<string, number>;
  /** Number of permission values including inherited ones (<= 32). */
  readonly nperms: number;
  /** Permission name by bit (value - 1), own permissions first, then the common's; '' for unnamed bits. */
  readonly permNames: readonly string[];
  readonly constraints: readonly Constraint[];
  readonly validatetrans: readonly Constraint[];
  readonly defaultUser: number;
  readonly defaultRole: number;
  readonly defaultType: number;
  readonly defaultRange: number;
}

export interface RoleDatum {
  readonly name: string;
  readonly value: number;
  readonly bounds: number;
  /** Roles dominated by this role (bit = role value - 1); empty for object_r. */
  readonly dominates: Ebitmap;
  /** Types authorised for the role (bit = type value - 1); empty for object_r. */
  readonly types: Ebitmap;
  /** A value the symbol table counts but no entry names (see readPolicy): no name resolves to it. */
  readonly gap?: true;
}

export interface TypeDatum {
  readonly name: string;
  readonly value: number;
  readonly isAttribute: boolean;
  /** Bounding (parent) type value, or 0. */
  readonly bounds: number;
  readonly aliases: readonly string[];
}

export interface UserDatum {
  readonly name: string;
  readonly value: number;
  readonly bounds: number;
  /** Authorised roles (bit = role value - 1). */
  readonly roles: Ebitmap;
  readonly range: MlsRange;
  readonly defaultLevel: MlsLevel;
}

export interface BooleanDatum {
  readonly name: string;
  readonly value: number;
  /** State stored in the file (the default for files under /etc/selinux). */
  readonly state: boolean;
}

export interface SensitivityDatum {
  readonly name: string;
  readonly value: number;
  /** Categories allowed with this sensitivity (bit = category value - 1). */
  readonly cats: Ebitmap;
  readonly aliases: readonly string[];
  /** A value the symbol table counts but no entry names (see readPolicy): no name resolves to it. */
  readonly gap?: true;
}

export interface CategoryDatum {
  readonly name: string;
  readonly value: number;
  readonly aliases: readonly string[];
  /** A value the symbol table counts but no entry names (see readPolicy): no name resolves to it. */
  readonly gap?: true;
}

/** avtab kinds (§12.2). */
export const AVTAB_ALLOWED = 0x0001;
export const AVTAB_AUDITALLOW = 0x0002;
export const AVTAB_AUDITDENY = 0x0004;
export const AVTAB_TRANSITION = 0x0010;
export const AVTAB_MEMBER = 0x0020;
export const AVTAB_CHANGE = 0x0040;
export const AVTAB_XPERMS_ALLOWED = 0x0100;
export const AVTAB_XPERMS_AUDITALLOW = 0x0200;
export const AVTAB_XPERMS_DONTAUDIT = 0x0400;
export const AVTAB_ENABLED = 0x8000;

export interface XpermDatum {
  /** 1 ioctl functions, 2 ioctl drivers, 3 netlink message types. */
  readonly specified: number;
  readonly driver: number;
  /** 256-bit set as 8 words. */
  readonly perms: Uint32Array;
}

/**
 * A table of avtab entries in columnar form. Entry i is (source[i], target[i], tclass[i], kind[i], data[i]);
 * `kind` has the ENABLED bit masked off. Extended-permission data sits in `xperms` by entry index.
 */
export interface AvtabEntries {
  readonly count: number;
  readonly source: Uint16Array;
  readonly target: Uint16Array;
  readonly tclass: Uint16Array;
  readonly kind: Uint16Array;
  readonly data: Uint32Array;
  readonly xperms: ReadonlyMap<number, XpermDatum>;
}

/** Conditional expression node types (§13). */
export const COND_BOOL = 1;
export const COND_NOT = 2;
export const COND_OR = 3;
export const COND_AND = 4;
export const COND_XOR = 5;
export const COND_EQ = 6;
export const COND_NEQ = 7;

export interface CondNode {
  readonly index: number;
  /** Expression value stored in the file (a cache; recompute from booleans). */
  readonly curState: number;
  /** Postfix program: pairs (exprType, boolValue). */
  readonly expr: Uint32Array;
  /** Distinct boolean values referenced, ascending. */
  readonly booleans: readonly number[];
  /** Entry indexes in `Policy.condAvtab` of the true list: [trueStart, trueEnd). */
  readonly trueStart: number;
  readonly trueEnd: number;
  /** Entry indexes of the false list: [falseStart, falseEnd). */
  readonly falseStart: number;
  readonly falseEnd: number;
}

export interface RoleTransition {
  readonly role: number;
  readonly type: number;
  readonly newRole: number;
  readonly tclass: number;
}

/** IP protocol numbers of port contexts (§15, list 2), as `portcon tcp|udp|dccp|sctp` writes them. */
export const PORT_PROTO_TCP = 6;
export const PORT_PROTO_UDP = 17;
export const PORT_PROTO_DCCP = 33;
export const PORT_PROTO_SCTP = 132;

/**
 * The policy's port contexts (`portcon` statements, the binary's object context list 2) in file order,
 * columnar: record i labels ports `low[i]..high[i]` (inclusive; equal for a single port) of IP protocol
 * `protocol[i]` with a context whose type value is `type[i]`. The kernel labels a port with the first
 * record covering it; checkpolicy writes narrower ranges first.
 */
export interface PortCons {
  readonly count: number;
  readonly protocol: Uint8Array;
  readonly low: Uint16Array;
  readonly high: Uint16Array;
  readonly type: Uint16Array;
}

export interface PolicyCounts {
  /** Filename transition rules (sum of source-type populations in v33 files). */
  readonly filenameTransitions: number;
  readonly rangeTransitions: number;
  readonly initialSids: number;
  readonly fs: number;
  readonly portcon: number;
  readonly netifcon: number;
  readonly nodecon: number;
  readonly fsUse: number;
  readonly nodecon6: number;
  readonly ibpkeycon: number;
  readonly ibendportcon: number;
  /** genfscon statements (one per (fstype, path, class) entry). */
  readonly genfscon: number;
}

export interface Policy {
  readonly version: number;
  readonly mls: boolean;
  readonly handleUnknown: HandleUnknown;
  readonly target: 'selinux';
  /** Enabled policy capability numbers, ascending. */
  readonly polcaps: readonly number[];
  /** Permissive type values, ascending. */
  readonly permissiveTypes: readonly number[];
  /** Index = type value; 1 when the type is permissive. */
  readonly permissive: Uint8Array;

  /** Symbol arrays indexed by value - 1. */
  readonly commons: readonly CommonDatum[];
  readonly classes: readonly ClassDatum[];
  readonly roles: readonly RoleDatum[];
  readonly types: readonly TypeDatum[];
  readonly users: readonly UserDatum[];
  readonly booleans: readonly BooleanDatum[];
  readonly sensitivities: readonly SensitivityDatum[];
  readonly categories: readonly CategoryDatum[];

  /** Name -> value maps (types, sensitivities and categories include aliases). */
  readonly commonByName: ReadonlyMap<string, number>;
  readonly classByName: ReadonlyMap<string, number>;
  readonly roleByName: ReadonlyMap<string, number>;
  readonly typeByName: ReadonlyMap<string, number>;
  readonly userByName: ReadonlyMap<string, number>;
  readonly boolByName: ReadonlyMap<string, number>;
  readonly sensByName: ReadonlyMap<string, number>;
  readonly catByName: ReadonlyMap<string, number>;

  /** Unconditional avtab. */
  readonly avtab: AvtabEntries;
  /** Every entry of every conditional list, in file order; each node owns a true and a false range. */
  readonly condAvtab: AvtabEntries;
  /** Owning conditional node of each `condAvtab` entry. */
  readonly condEntryNode: Uint32Array;
  /** 1 when the `condAvtab` entry is in its node's true list, 0 for the false list. */
  readonly condEntryBranch: Uint8Array;
  readonly conds: readonly CondNode[];

  /**
   * TE index over the unconditional allow/auditallow/dontaudit entries, merged per (source, target,
   * class): the value is an offset o into `teVectors` where [o] = allowed, [o+1] = auditallow,
   * [o+2] = auditdeny (complemented dontaudit, AND-merged), [o+3] = kinds present.
   */
  readonly teIndex: KeyIndex;
  readonly teVectors: Uint32Array;
  /**
   * Conditional allow/auditallow/dontaudit entries by (source, target, class): the value is an offset o
   * into `condLists`; `condLists[o]..condLists[o+1]` (exclusive) is the range of `condLists` holding the
   * `condAvtab` indexes of those entries.
   */
  readonly condIndex: KeyIndex;
  readonly condLists: Uint32Array;
  /**
   * Per (source, class) — key (source, 0, class) in `scIndex` — an offset o into `scRanges`; entries
   * `scRanges[o]..scRanges[o+1]` of `scTargets` (ascending target values), `scTe` (teIndex offset or -1)
   * and `scCond` (condIndex offset or -1) list every target with AV rules for that source and class.
   */
  readonly scIndex: KeyIndex;
  readonly scRanges: Uint32Array;
  readonly scTargets: Uint16Array;
  readonly scTe: Int32Array;
  readonly scCond: Int32Array;

  /** A(t): for each type value (index), the type itself and every attribute containing it, ascending. */
  readonly typeAttrs: readonly Uint16Array[];
  /** For each attribute value (index): its member types, ascending; empty for types. */
  readonly attrMembers: readonly Uint16Array[];

  readonly roleTransitions: readonly RoleTransition[];
  /** Role allow pairs, keyed by `roleAllowKey(r1, r2)`. */
  readonly roleAllows: ReadonlySet<number>;
  readonly roleAllowList: ReadonlyArray<readonly [number, number]>;
  /** Port contexts (portcon), in file order; see `portconsCovering` / `portconIndex`. */
  readonly portcons: PortCons;
  readonly counts: PolicyCounts;
  /** Size of the file in bytes. */
  readonly size: number;
}

export function roleAllowKey(r1: number, r2: number): number {
  return r1 * 4294967296 + r2;
}
