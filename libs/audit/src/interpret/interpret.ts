// Per-record interpretation: raw (already unquoted and hex-decoded) fields -> interpreted values.
import { archName, syscallName } from './arch.ts';
import { capabilityName, decodeCapabilities } from './caps.ts';
import { errnoName } from './errno.ts';
import { describeMode } from './mode.ts';
import { decodeSockaddr } from './sockaddr.ts';

export interface InterpretOptions {
  /**
   * Resolves a uid/gid to a name. Only pass this on the host that wrote the log (the origin host); names
   * from any other host are wrong. Return undefined when unknown. Never called for unset ids.
   */
  resolveIds?: (kind: 'uid' | 'gid', id: number) => string | undefined;
}

/** Value given to ids that are not set (4294967295 or -1): auid, uid, ses, ... */
export const UNSET = 'unset';

const K_ARCH = 1;
const K_SYSCALL = 2;
const K_EXIT = 3;
const K_SUCCESS = 4;
const K_PROCTITLE = 5;
const K_UID = 6;
const K_GID = 7;
const K_SES = 8;
const K_MODE = 9;
const K_SADDR = 10;
const K_CAPABILITY = 11;
const K_CAPSET = 12;
/** Short capability-set names used by BPRM_FCAPS and CAPSET records only. */
const K_CAPSET_SHORT = 13;
/** The audit rule key: several keys are joined by 0x01 (AVC's key= is an IPC key instead). */
const K_KEY = 14;

const FIELD_KIND = new Map<string, number>([
  ['arch', K_ARCH],
  ['syscall', K_SYSCALL],
  ['exit', K_EXIT],
  ['success', K_SUCCESS],
  ['proctitle', K_PROCTITLE],
  ['mode', K_MODE],
  ['saddr', K_SADDR],
  ['ses', K_SES],
  ['old-ses', K_SES],
  ['oses', K_SES],
  ['capability', K_CAPABILITY],
  ['key', K_KEY],
]);
for (const f of [
  'cap_pp',
  'cap_pi',
  'cap_pe',
  'cap_pa',
  'cap_fp',
  'cap_fi',
  'old_pp',
  'old_pi',
  'old_pe',
  'old_pa',
]) {
  FIELD_KIND.set(f, K_CAPSET);
}
for (const f of ['new_pp', 'new_pi', 'new_pe', 'new_pa']) FIELD_KIND.set(f, K_CAPSET);
for (const f of ['pp', 'pi', 'pe', 'pa', 'fp', 'fi']) FIELD_KIND.set(f, K_CAPSET_SHORT);
for (const f of ['auid', 'uid', 'euid', 'suid', 'fsuid', 'ouid', 'oauid', 'old-auid', 'iuid', 'inode_uid']) {
  FIELD_KIND.set(f, K_UID);
}
for (const f of ['obj_uid', 'sauid', 'new-auid', 'old_auid', 'new_auid']) FIELD_KIND.set(f, K_UID);
for (const f of ['gid', 'egid', 'sgid', 'fsgid', 'ogid', 'igid', 'inode_gid', 'obj_gid', 'new_gid']) {
  FIELD_KIND.set(f, K_GID);
}

/**
 * The interpretation kind of a field name (0: none). A record whose key sequence is known can look its
 * kinds up once per sequence and pass them to interpretRecord (the fields builder does).
 */
export function fieldKind(key: string): number {
  return FIELD_KIND.get(key) ?? 0;
}

function isUnset(v: string): boolean {
  return v === '4294967295' || v === '-1';
}

/** Decimal id -> number, or -1 when not a plain non-negative decimal. */
function parseId(s: string): number {
  const len = s.length;
  if (len === 0 || len > 10) return -1;
  let n = 0;
  for (let i = 0; i < len; i++) {
    const c = s.charCodeAt(i) - 48;
    if (c < 0 || c > 9) return -1;
    n = n * 10 + c;
  }
  return n;
}

/** Splits a NUL-separated argv (proctitle, cmdline); trailing NULs do not make empty arguments. */
export function splitArgv(s: string): string[] {
  let end = s.length;
  while (end > 0 && s.charCodeAt(end - 1) === 0) end--;
  if (end === 0) return [];
  const body = end === s.length ? s : s.slice(0, end);
  return body.indexOf('\0') < 0 ? [body] : body.split('\0');
}

/** EXECVE a0..a(argc-1) -> argv; stops at the first missing argument. */
export function execveArgv(fields: Record<string, string>): string[] {
  const argc = parseId(fields.argc ?? '');
  const argv: string[] = [];
  const max = argc < 0 ? 0 : Math.min(argc, 1_000_000);
  for (let i = 0; i < max; i++) {
    const a = fields[`a${i}`];
    if (a === undefined) break;
    argv.push(a);
  }
  return argv;
}

function idValue(kind: 'uid' | 'gid', v: string, opts: InterpretOptions | undefined): string | undefined {
  if (isUnset(v)) return UNSET;
  const resolve = opts?.resolveIds;
  if (resolve === undefined) return undefined;
  const id = parseId(v);
  return id < 0 ? undefined : resolve(kind, id);
}

/** Interpretation kinds of `fieldKind` that `interpretField` handles with no lookup (a fast path may too). */
export const FIELD_KINDS = {
  arch: K_ARCH,
  syscall: K_SYSCALL,
  exit: K_EXIT,
  success: K_SUCCESS,
  proctitle: K_PROCTITLE,
  uid: K_UID,
  gid: K_GID,
  ses: K_SES,
  capset: K_CAPSET,
  capsetShort: K_CAPSET_SHORT,
  key: K_KEY,
  saddr: K_SADDR,
} as const;

/**
 * The interpreted value of one field (`kind` = fieldKind(key), not 0) of a `type` record whose value is
 * `v`, or undefined when it has none. `arch` is the record's `arch` field (read for `syscall` only). The
 * result goes under the field's own name.
 */
export function interpretField(
  type: string,
  kind: number,
  v: string,
  arch: string | undefined,
  opts: InterpretOptions | undefined,
): unknown {
  switch (kind) {
    case K_ARCH:
      return archName(v);
    case K_SYSCALL:
      return arch === undefined ? undefined : syscallName(arch, v);
    case K_EXIT:
      return v.charCodeAt(0) === 45 /* - */ ? errnoName(v) : undefined;
    case K_SUCCESS:
      return v === 'yes' ? true : v === 'no' ? false : undefined;
    case K_PROCTITLE:
      return splitArgv(v);
    case K_UID:
      return idValue('uid', v, opts);
    case K_GID:
      return idValue('gid', v, opts);
    case K_SES:
      return isUnset(v) ? UNSET : undefined;
    case K_MODE:
      return describeMode(v);
    case K_CAPABILITY:
      return capabilityName(v);
    case K_CAPSET_SHORT:
    case K_CAPSET:
      // `0` is by far the most common value (every PATH record has cap_fp=0 cap_fi=0): nothing to say.
      return v !== '0' && (kind === K_CAPSET || type === 'BPRM_FCAPS' || type === 'CAPSET')
        ? decodeCapabilities(v)
        : undefined;
    case K_KEY:
      return type !== 'AVC' && v.indexOf('\u0001') >= 0 ? v.split('\u0001') : undefined;
    case K_SADDR: {
      // Only SOCKADDR carries a struct sockaddr; AVC records use saddr= for a plain IP address.
      if (type !== 'SOCKADDR') return undefined;
      // Hex as written in the log; a parser that already decoded it hands over the bytes as latin1.
      const s = decodeSockaddr(v);
      return s === undefined && v.length > 0 ? decodeSockaddr(Buffer.from(v, 'latin1')) : s;
    }
    default:
      return undefined;
  }
}

/**
 * Interprets one record's fields. Pure and synchronous. Keys of the result are the field names; only
 * fields with an interpretation appear:
 * - `arch`: name (`x86_64`); `syscall`: name for the record's arch; `exit`: errno name when negative;
 * - `success`: boolean; `proctitle`: argv array (NUL-split); EXECVE `argv`: a0..a(argc-1);
 * - SOCKADDR `saddr`: `{family, address, port}` / unix path / netlink / `{family, familyNumber, hex}`;
 * - `mode`: `{type, perms}`; ids equal to 4294967295 or -1 (auid, uid, ses, ...): `unset`;
 * - uid/gid fields: names, only when `opts.resolveIds` is given and knows the id;
 * - `capability` (AVC tclass capability): name (`sys_admin`); capability sets (cap_pe, old_pp, BPRM_FCAPS
 *   pp/pi/pe/fp/fi, ...) other than `0`: list of names;
 * - `key`: the rule keys, when the record's key holds several (joined by 0x01); not for AVC (an IPC key).
 *
 * `kinds`, when given, holds `fieldKind` of each key of `fields` in `for...in` order.
 */
export function interpretRecord(
  type: string,
  fields: Record<string, string>,
  opts?: InterpretOptions,
  kinds?: ArrayLike<number> | null,
): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  let i = 0;
  for (const key in fields) {
    const kind = kinds != null ? kinds[i++]! : (FIELD_KIND.get(key) ?? 0);
    if (kind === 0) continue;
    const r = interpretField(type, kind, fields[key]!, kind === K_SYSCALL ? fields.arch : undefined, opts);
    if (r !== undefined) out[key] = r;
  }
  if (type === 'EXECVE') out.argv = execveArgv(fields);
  return out;
}
