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
    const v = fields[key]!;
    switch (kind) {
      case K_ARCH: {
        const a = archName(v);
        if (a !== undefined) out.arch = a;
        break;
      }
      case K_SYSCALL: {
        const arch = fields.arch;
        if (arch !== undefined) {
          const s = syscallName(arch, v);
          if (s !== undefined) out.syscall = s;
        }
        break;
      }
      case K_EXIT:
        if (v.charCodeAt(0) === 45 /* - */) {
          const e = errnoName(v);
          if (e !== undefined) out.exit = e;
        }
        break;
      case K_SUCCESS:
        if (v === 'yes') out.success = true;
        else if (v === 'no') out.success = false;
        break;
      case K_PROCTITLE:
        out.proctitle = splitArgv(v);
        break;
      case K_UID: {
        const r = idValue('uid', v, opts);
        if (r !== undefined) out[key] = r;
        break;
      }
      case K_GID: {
        const r = idValue('gid', v, opts);
        if (r !== undefined) out[key] = r;
        break;
      }
      case K_SES:
        if (isUnset(v)) out[key] = UNSET;
        break;
      case K_MODE: {
        const m = describeMode(v);
        if (m !== undefined) out.mode = m;
        break;
      }
      case K_CAPABILITY: {
        const c = capabilityName(v);
        if (c !== undefined) out.capability = c;
        break;
      }
      case K_CAPSET_SHORT:
      case K_CAPSET:
        // `0` is by far the most common value (every PATH record has cap_fp=0 cap_fi=0): nothing to say.
        if (v !== '0' && (kind === K_CAPSET || type === 'BPRM_FCAPS' || type === 'CAPSET')) {
          const caps = decodeCapabilities(v);
          if (caps !== undefined) out[key] = caps;
        }
        break;
      case K_KEY:
        if (type !== 'AVC' && v.indexOf('\u0001') >= 0) out.key = v.split('\u0001');
        break;
      case K_SADDR:
        // Only SOCKADDR carries a struct sockaddr; AVC records use saddr= for a plain IP address.
        if (type === 'SOCKADDR') {
          // Hex as written in the log; a parser that already decoded it hands over the bytes as latin1.
          let s = decodeSockaddr(v);
          if (s === undefined && v.length > 0) s = decodeSockaddr(Buffer.from(v, 'latin1'));
          if (s !== undefined) out.saddr = s;
        }
        break;
    }
  }
  if (type === 'EXECVE') out.argv = execveArgv(fields);
  return out;
}
