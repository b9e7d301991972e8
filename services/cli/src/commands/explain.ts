// `avcstream explain --policy FILE [--booleans FILE|DIR] [--format text|ndjson|module] [INPUT|-]`:
// replay AVC / USER_AVC denials against a binary policy, audit2why-style, with verified fixes.
import { isUtf8 } from 'node:buffer';
import { createReadStream, statSync } from 'node:fs';
import type { Readable, Writable } from 'node:stream';
import { parseArgs } from 'node:util';
import {
  type AuditRecord,
  avcObjectPath,
  avcPortOf,
  escapeText,
  ioctlCommandOf,
  isoTime,
  type ParseOptions,
  parseLine,
  slashDateOrder,
} from '@avcstream/audit';
import {
  createExplainer,
  defaultLabelOf,
  type Explainer,
  type Explanation,
  type FileContextMatch,
  FILE_CLASSES,
  type FileContexts,
  readBooleans,
} from '@avcstream/selinux-access';
import { readPolicy } from '@avcstream/selinux-policy';
import type { CliIo } from '../cli.ts';
import {
  FileContextsTooLargeError,
  fileContextsFor,
  hostPolicyPath,
  PolicyTooLargeError,
  readFileContexts,
  readPolicyFile,
} from '../policy-file.ts';
import {
  createPolicyModule,
  DEFAULT_MODULE_NAME,
  isModuleIdentifier,
  type PolicyModule,
} from './explain-module.ts';

const USAGE = `Usage: avcstream explain [--policy FILE] [options] [INPUT|-]

Replays every denied AVC and USER_AVC record of an audit log (a file, or standard input for '-' or no
INPUT) against a binary SELinux policy and says why it was denied and how to fix it, like audit2why.
Any log avcstream parse reads works, ausearch output included: ausearch -m avc [-i] | avcstream explain.

Options:
  -p, --policy FILE        binary policy (policy.NN or /sys/fs/selinux/policy); default: the host's,
                           /sys/fs/selinux/policy, else /etc/selinux/TYPE/policy/policy.N named by
                           /etc/selinux/config (as audit2why uses the current policy)
  --booleans FILE|DIR      boolean values: "name value" lines, getsebool -a output, or a directory laid
                           out like /sys/fs/selinux/booleans (default: the policy's own defaults)
  --file-contexts FILE     file_contexts (with its .homedirs, .local, .subs and .subs_dist beside it) to
                           tell a mislabelled file from a policy gap: when the default label of the
                           record's path= (or of the PATH record of its inode, for a record with name=
                           only) allows the access, restorecon is the fix. Default: the one of
                           a host policy (/etc/selinux/TYPE/contexts/files/file_contexts for
                           /etc/selinux/TYPE/policy/policy.N or the host's current policy), if present
  --no-file-contexts       do not read file_contexts
  --format text|ndjson|module
                           text close to audit2why (default), one JSON object per denied record, or
                           one policy module for the whole input (like audit2allow -m), printed at
                           the end
  --module NAME            the module's name with --format module (default ${DEFAULT_MODULE_NAME}); a
                           checkpolicy identifier that is not a reserved word
  --record-fields          with --format ndjson, end each row with the record's own time, comm, exe
                           and path (not the default: the issue's stable keys, and ~0.4 us per row)
  -h, --help               this help

NDJSON keys: line, node, serial, scontext, tcontext, tclass, perms, verdict, booleans, evidence, fixes;
with --record-fields, then the record's own: time (ISO-8601 UTC of its stamp, as parse writes an
event's), comm, exe and path (its path=, else its name=), strings as the parser reads them (hex
decoded) or null when absent.
Module: a require block, then by source domain the verified allow (and allowxperm) rules, merged per
source, target and class. A denial an allow rule does not fix is a comment, not a rule: a boolean
(setsebool), label or port advice (semanage, preferred to the rule), already allowed, or a constraint,
role or type bounds that an allow rule cannot lift. Denials the policy cannot replay (unknown context,
class or permission) and names that are not policy identifiers are left out and counted at the end.
Exit status: 0 on success (malformed lines are skipped and counted on standard error), 1 with --format
module when the module holds no rule (it is still printed: its comments say why; checkmodule would reject
it), 64 on a usage error, 65 when the policy or booleans file is malformed, 66 when a file cannot be
opened, 74 on a read or write error.
`;

/** --format module: the module holds no rule. */
const EX_NO_RULE = 1;
const EX_USAGE = 64;
const EX_DATAERR = 65;
const EX_NOINPUT = 66;
const EX_IOERR = 74;
const MAX_LINE = 1024 * 1024;
const OUT_BYTES = 1024 * 1024;

/** A usage error: one line naming the problem, then the usage, on standard error. */
function usageError(io: CliIo, problem: string): number {
  io.stderr.write(`avcstream explain: ${problem}\n\n${USAGE}`);
  return EX_USAGE;
}

function errorCode(e: unknown): string {
  return typeof e === 'object' && e !== null && 'code' in e ? String((e as { code: unknown }).code) : '';
}

function message(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

function waitDrain(out: Writable): Promise<void> {
  return new Promise((resolve, reject) => {
    const onDrain = () => {
      out.off('error', onError);
      resolve();
    };
    const onError = (e: Error) => {
      out.off('drain', onDrain);
      reject(e);
    };
    out.once('drain', onDrain);
    out.once('error', onError);
  });
}

/** audit2why-like text for one explanation (without the record line). */
export function explanationText(e: Explanation): string {
  let s = '\n\tWas caused by:\n';
  // Every line but the fixed headings holds policy or audit text: escaped, so it stays one line.
  const ev = (line: string) => {
    s += `\t${escapeText(line)}\n`;
  };
  switch (e.verdict) {
    case 'ALLOWED':
      ev('Unknown - would be allowed by active policy');
      break;
    case 'DONTAUDIT':
      ev('Unknown - a dontaudit rule hides this denial; it would need an allow rule.');
      break;
    case 'TE_MISSING':
      ev('Missing type enforcement (TE) allow rule.');
      break;
    case 'BOOLEAN':
      ev(
        e.booleans.length === 1
          ? `The boolean ${e.booleans[0]?.name} was set incorrectly.`
          : 'One of the following booleans was set incorrectly.',
      );
      break;
    case 'CONSTRAINT':
      ev('Constraint rule:');
      break;
    case 'RBAC':
      ev('Missing role allow rule.');
      break;
    case 'BOUNDS':
      ev('Typebounds violation.');
      break;
    case 'INVALID_CONTEXT':
      ev('Invalid context for this policy.');
      break;
    case 'UNKNOWN_CLASS':
      ev('Unknown class for this policy.');
      break;
    case 'UNKNOWN_PERM':
      ev('Unknown permission for this policy.');
      break;
  }
  for (const line of e.evidence) ev(line);
  const runnable = e.fixes.filter((f) => f.kind !== 'note');
  const notes = e.fixes.filter((f) => f.kind === 'note');
  if (runnable.length > 0) {
    s += '\n';
    const first = runnable[0]?.kind;
    ev(
      e.verdict === 'BOOLEAN'
        ? first === 'semanage'
          ? `Label the port with one of the semanage commands (narrower), or set ${e.booleans.length === 1 ? 'the boolean' : 'one of the booleans'}:`
          : first === 'restorecon'
            ? `Restore the object's default label (narrower), or set ${e.booleans.length === 1 ? 'the boolean' : 'one of the booleans'}:`
            : 'Allow access by executing:'
        : first === 'restorecon'
          ? "Restore the object's default label, or as a last resort load a module (avcstream explain --format module):"
          : first === 'semanage'
            ? 'Label the object or port with one of the semanage commands, or as a last resort load a module (avcstream explain --format module):'
            : 'Allow access with a loadable module (avcstream explain --format module builds one):',
    );
    for (const f of runnable) {
      const relabel = f.kind === 'semanage' || f.kind === 'restorecon';
      const unverified = relabel ? '   (unverified)' : '   (not sufficient alone)';
      // Commands carry the root prompt audit2why writes before setsebool; allow rules are policy text.
      ev(`${f.kind === 'allow' ? '' : '# '}${f.text}${f.verified ? '' : unverified}`);
    }
  }
  for (const n of notes) {
    s += '\n';
    ev(n.text);
  }
  return `${s}\n`;
}

const NO_BOOLEANS: never[] = [];

/**
 * The cached part of an NDJSON record, between its `{"line":…,"node":…,"serial":…` head and the record's
 * own fields (`,"time":…,"comm":…,"exe":…,"path":…}`, written per record): the JSON object
 * `{"scontext":…,"fixes":[…]}`, whose opening brace the writer replaces by a comma (`COMMA`) and whose
 * closing brace it drops. One JSON.stringify of the whole object.
 */
function bodyJson(
  a: { scontext: string; tcontext: string; tclass: string; perms: string[] },
  e: Explanation,
): string {
  return JSON.stringify({
    scontext: a.scontext,
    tcontext: a.tcontext,
    tclass: a.tclass,
    perms: a.perms,
    verdict: e.verdict,
    booleans:
      e.booleans.length === 0
        ? NO_BOOLEANS
        : e.booleans.map((b) => ({ name: b.name, current: b.current, blastRadius: b.blastRadius })),
    evidence: e.evidence,
    fixes: e.fixes,
  });
}

const COMMA = 0x2c;

/** The fields of one AVC / USER_AVC record that `explain` needs. */
export interface FastAvc {
  node: string | null;
  serial: number;
  denied: boolean;
  perms: string[];
  scontext: string;
  tcontext: string;
  tclass: string;
  permissive: boolean | null;
  /** The port of a name_bind (src=) or name_connect (dest=) socket denial, as avcPortOf reads it. */
  port: number | null;
}

const MAX_FAST_PERMS = 64;

const K_OTHER = 0;
const K_RECORD = 1;
const K_SCONTEXT = 2;
const K_TCONTEXT = 3;
const K_TCLASS = 4;
const K_PERMISSIVE = 5;
/** A field the fast path leaves to the full parser: `ioctlcmd` (its explanation depends on the command). */
const K_SLOW = 6;
const K_SRC = 7;
const K_DEST = 8;
// The record's own fields of an NDJSON row (never part of the cache key).
const K_COMM = 9;
const K_EXE = 10;
const K_PATH = 11;
const K_NAME = 12;

// Offsets that `scanAvcBytes` fills in: where each field of the record lies in the line.
const O_NODE = 0; // end of the node name (it starts at 5), or -1 without "node="
const O_SERIAL = 1; // serial digits [O_SERIAL, O_SERIAL_END)
const O_SERIAL_END = 2;
const O_DENIED = 3; // 1 denied, 0 granted
const O_PERMS = 4; // inside of the braces [O_PERMS, O_PERMS_END)
const O_PERMS_END = 5;
const O_S = 6; // scontext value
const O_S_END = 7;
const O_T = 8; // tcontext value
const O_T_END = 9;
const O_C = 10; // tclass value
const O_C_END = 11;
const O_PERMISSIVE = 12; // -1 absent, 0, 1
const O_LINE = 13; // start of the line
const O_SRC = 14; // src= value [O_SRC, O_SRC_END), -1 absent
const O_SRC_END = 15;
const O_DEST = 16; // dest= value
const O_DEST_END = 17;
const O_PORT = 18; // the port of a name_bind / name_connect socket denial, or -1
/** Permissive and port in one value for the cache key: (permissive + 1) + 3 * (port + 1). */
const O_KEYX = 19;
const O_STAMP = 20; // seconds of the stamp [O_STAMP, O_DOT), milliseconds [O_DOT + 1, O_SERIAL - 1)
const O_DOT = 21;
// The first comm=, exe=, path= and name= values [start, end), start -1 when absent (as the parser's fields
// keep the first of repeated keys), and which of them were quoted (O_QUOTED bits: Q_COMM ...).
const O_COMM = 22;
const O_COMM_END = 23;
const O_EXE = 24;
const O_EXE_END = 25;
const O_PATH = 26;
const O_PATH_END = 27;
const O_NAME = 28;
const O_NAME_END = 29;
const O_QUOTED = 30;
const O_COUNT = 31;
const Q_COMM = 1;
const Q_EXE = 2;
const Q_PATH = 4;
const Q_NAME = 8;

const A_NODE = Buffer.from('node=');
const A_AVC = Buffer.from('type=AVC msg=audit(');
const A_USER_AVC = Buffer.from('type=USER_AVC msg=audit(');
const A_USER_MSG = Buffer.from("msg='avc:");
const A_AVC_BODY = Buffer.from('avc:');
const A_DENIED = Buffer.from('denied');
const A_GRANTED = Buffer.from('granted');
const A_SCONTEXT = Buffer.from('scontext');
const A_TCONTEXT = Buffer.from('tcontext');
const A_TCLASS = Buffer.from('tclass');
const A_PERMISSIVE = Buffer.from('permissive');
const A_IOCTLCMD = Buffer.from('ioctlcmd');
const A_TYPE = Buffer.from('type');
const A_NODE_KEY = Buffer.from('node');
const A_MSG = Buffer.from('msg');
const A_SRC = Buffer.from('src');
const A_DEST = Buffer.from('dest');
const A_COMM = Buffer.from('comm');
const A_EXE = Buffer.from('exe');
const A_PATH = Buffer.from('path');
const A_NAME = Buffer.from('name');

/** Whether bytes [at, at + w.length) of `b` are `w`, all within [.., end). */
function bytesAt(b: Uint8Array, at: number, end: number, w: Uint8Array): boolean {
  const n = w.length;
  if (at + n > end) return false;
  for (let i = 0; i < n; i++) if (b[at + i] !== w[i]) return false;
  return true;
}

/** First index of byte `c` in [from, to), or -1. */
function byteIn(b: Uint8Array, c: number, from: number, to: number): number {
  for (let i = from; i < to; i++) if (b[i] === c) return i;
  return -1;
}

/** First index of the word `w` starting in [from, to - w.length], or -1. */
function wordIn(b: Uint8Array, w: Uint8Array, from: number, to: number): number {
  const first = w[0] as number;
  for (let i = from; i + w.length <= to; i++) if (b[i] === first && bytesAt(b, i, to, w)) return i;
  return -1;
}

function digitBytes(b: Uint8Array, from: number, to: number): boolean {
  if (to <= from) return false;
  for (let i = from; i < to; i++) {
    const c = b[i] as number;
    if (c < 48 || c > 57) return false;
  }
  return true;
}

function keyAtBytes(b: Uint8Array, at: number, len: number): number {
  const end = at + len;
  switch (len) {
    case 8:
      if (bytesAt(b, at, end, A_SCONTEXT)) return K_SCONTEXT;
      if (bytesAt(b, at, end, A_TCONTEXT)) return K_TCONTEXT;
      if (bytesAt(b, at, end, A_IOCTLCMD)) return K_SLOW;
      return K_OTHER;
    case 6:
      return bytesAt(b, at, end, A_TCLASS) ? K_TCLASS : K_OTHER;
    case 10:
      return bytesAt(b, at, end, A_PERMISSIVE) ? K_PERMISSIVE : K_OTHER;
    case 4:
      switch (b[at]) {
        case 99: // c
          return bytesAt(b, at, end, A_COMM) ? K_COMM : K_OTHER;
        case 110: // n
          if (bytesAt(b, at, end, A_NAME)) return K_NAME;
          return bytesAt(b, at, end, A_NODE_KEY) ? K_RECORD : K_OTHER;
        case 112: // p
          return bytesAt(b, at, end, A_PATH) ? K_PATH : K_OTHER;
        case 116: // t
          return bytesAt(b, at, end, A_TYPE) ? K_RECORD : K_OTHER;
        case 100: // d
          return bytesAt(b, at, end, A_DEST) ? K_DEST : K_OTHER;
        default:
          return K_OTHER;
      }
    case 3:
      switch (b[at]) {
        case 101: // e
          return bytesAt(b, at, end, A_EXE) ? K_EXE : K_OTHER;
        case 109: // m
          return bytesAt(b, at, end, A_MSG) ? K_RECORD : K_OTHER;
        case 115: // s
          return bytesAt(b, at, end, A_SRC) ? K_SRC : K_OTHER;
        default:
          return K_OTHER;
      }
    default:
      return K_OTHER;
  }
}

/**
 * A narrow fast path for the common raw forms `[node=N ]type=AVC msg=audit(S.M:N): avc:  denied  { .. } ..`
 * and `type=USER_AVC msg=audit(..): .. msg='avc: ..'`, on the UTF-8 bytes [s, e) of one line (without its
 * newline): fills `o` with the field offsets (absolute in `b`) and decodes nothing. Every decision depends
 * only on ASCII bytes, which UTF-8 never uses inside a multi-byte character. Anything else, or anything
 * ambiguous (several records on a line, duplicate keys, quotes before the AVC body), returns false and the
 * line goes through `@avcstream/audit`'s full parser, which stays the reference (a test checks both agree
 * on the corpus).
 */
function scanAvcBytes(b: Buffer, s: number, e: number, o: Int32Array): boolean {
  let p = s;
  o[O_LINE] = s;
  o[O_NODE] = -1;
  if (bytesAt(b, s, e, A_NODE)) {
    const sp = byteIn(b, 32, s, e);
    if (sp < 0) return false;
    o[O_NODE] = sp;
    p = sp + 1;
  }
  let user = false;
  if (bytesAt(b, p, e, A_AVC)) p += 19;
  else if (bytesAt(b, p, e, A_USER_AVC)) {
    p += 24;
    user = true;
  } else return false;
  let close = -1;
  for (let i = p; i + 1 < e; i++) {
    if (b[i] === 41 && b[i + 1] === 58) {
      close = i;
      break;
    }
  }
  if (close < 0 || close - p > 40) return false;
  const colon = byteIn(b, 58, p, e);
  if (colon < 0 || colon > close) return false;
  // The parser's limits: up to 12 digits of seconds, 3 of milliseconds and 10 of serial (else it reads
  // the stamp as ausearch -i's local time, or not at all).
  if (!digitBytes(b, colon + 1, close) || close - colon > 11) return false;
  const dot = byteIn(b, 46, p, e);
  if (dot < 0 || dot > colon || !digitBytes(b, p, dot) || !digitBytes(b, dot + 1, colon)) return false;
  if (dot - p > 12 || colon - dot > 4) return false;
  o[O_STAMP] = p;
  o[O_DOT] = dot;
  o[O_SERIAL] = colon + 1;
  o[O_SERIAL_END] = close;
  p = close + 2;
  let end = e;
  while (end > p && (b[end - 1] === 13 || b[end - 1] === 10)) end--;
  if (user) {
    const m = wordIn(b, A_USER_MSG, p, e);
    if (m < 0 || (m > p && b[m - 1] !== 32)) return false;
    for (let i = p; i < m; i++) {
      const ch = b[i];
      if (ch === 34 || ch === 39 || ch === 0x1d || ch === 9) return false;
    }
    if (!plainOuterFields(b, p, m)) return false;
    p = m + 9;
  } else {
    while (p < end && b[p] === 32) p++;
    if (!bytesAt(b, p, e, A_AVC_BODY)) return false;
    p += 4;
  }
  while (p < end && b[p] === 32) p++;
  if (bytesAt(b, p, e, A_DENIED)) {
    o[O_DENIED] = 1;
    p += 6;
  } else if (bytesAt(b, p, e, A_GRANTED)) {
    o[O_DENIED] = 0;
    p += 7;
  } else return false;
  while (p < end && b[p] === 32) p++;
  if (p >= e || b[p] !== 123 /* { */) return false;
  const rbrace = byteIn(b, 125, p, e);
  if (rbrace < 0 || rbrace > end) return false;
  let nperms = 0;
  for (let i = p + 1; i < rbrace; ) {
    let ch = b[i];
    if (ch === 32) {
      i++;
      continue;
    }
    while (i < rbrace) {
      ch = b[i] as number;
      // Every byte the loop looks for is below 62 ('>'): one test for the usual letters.
      if (ch > 61) {
        i++;
        continue;
      }
      if (ch === 32) break;
      if (ch === 34 || ch === 39 || ch === 61) return false;
      i++;
    }
    nperms++;
  }
  if (nperms === 0 || nperms > MAX_FAST_PERMS) return false;
  o[O_PERMS] = p + 1;
  o[O_PERMS_END] = rbrace;
  p = rbrace + 1;
  o[O_S] = -1;
  o[O_T] = -1;
  o[O_C] = -1;
  o[O_PERMISSIVE] = -1;
  o[O_SRC] = -1;
  o[O_DEST] = -1;
  o[O_COMM] = -1;
  o[O_EXE] = -1;
  o[O_PATH] = -1;
  o[O_NAME] = -1;
  let quoted = 0;
  while (p < end) {
    let ch = b[p] as number;
    // The parser skips spaces and tabs between fields.
    if (ch === 32 || ch === 9) {
      p++;
      continue;
    }
    if (ch === 0x1d) {
      // ENRICHED part (GS, then an uppercase key): the parser reads the rest as its interpretations. It
      // skips a stray GS and reads on, and in a USER_AVC's msg='...' a GS ends it early: the parser decides.
      const u = p + 1 < end ? (b[p + 1] as number) : 0;
      if (user || u < 65 || u > 90) return false;
      break;
    }
    if (user && ch === 39 /* closing quote of msg='...' */) {
      // Only the trailing fields of the USER_AVC record may follow (tested on the decoded text), none the
      // NDJSON row reads (the parser would take them when the msg='...' has none).
      const rest = b.toString('utf8', p + 1, end);
      if (rest.includes("'") || /(^|\s)(type|msg)=/.test(rest) || /(comm|exe|path|name)=/.test(rest))
        return false;
      break;
    }
    if (ch === 34 || ch === 39) return false;
    const keyStart = p;
    while (p < end) {
      ch = b[p] as number;
      // Every byte that ends a key is below 62 ('>'): one test for the usual letters.
      if (ch > 61) {
        p++;
        continue;
      }
      if (ch === 61 || ch === 32 || ch === 0x1d || (user && ch === 39)) break;
      p++;
    }
    if (ch !== 61) {
      // A bare word such as "for"; "old" makes the parser name the next key old-KEY.
      if (p - keyStart === 3 && b[keyStart] === 111 && b[keyStart + 1] === 108 && b[keyStart + 2] === 100)
        return false;
      continue;
    }
    // "=value" (the parser skips it up to a space, quotes or not) and "(key=" (the old USER_AVC tail, whose
    // values the parser trims): the parser decides.
    if (p === keyStart || b[keyStart] === 40) return false;
    const key = keyAtBytes(b, keyStart, p - keyStart);
    p++;
    let vs: number;
    let ve: number;
    let q = false;
    if (p < e && b[p] === 34) {
      // A GS inside quotes leaves the parser's end of later values behind; a quote of msg='...' inside
      // them ends that msg for the parser.
      let at = p + 1;
      for (; at < end; at++) {
        const c = b[at] as number;
        if (c > 39) continue;
        if (c === 34) break;
        if (c === 0x1d || (user && c === 39)) return false;
      }
      if (at >= end) return false;
      vs = p + 1;
      ve = at;
      p = at + 1;
      q = true;
    } else {
      vs = p;
      while (p < end) {
        ch = b[p] as number;
        // Every byte that ends or rejects a value is below 40 ('('): one test for most bytes.
        if (ch > 39) {
          p++;
          continue;
        }
        if (ch === 32 || ch === 0x1d || (user && ch === 39)) break;
        if (ch === 34 || (!user && ch === 39)) return false;
        p++;
      }
      ve = p;
      // In msg='...' the parser drops the colon of a number ending with one (old USER_LOGIN "uid=848:").
      if (user && ve - vs > 1 && b[ve - 1] === 58 && digitBytes(b, vs, ve - 1)) return false;
    }
    if (key === K_OTHER) continue;
    switch (key) {
      case K_RECORD:
        return false; // another record on the same line
      case K_SLOW:
        return false;
      case K_SCONTEXT:
        if (o[O_S] !== -1) return false;
        o[O_S] = vs;
        o[O_S_END] = ve;
        break;
      case K_TCONTEXT:
        if (o[O_T] !== -1) return false;
        o[O_T] = vs;
        o[O_T_END] = ve;
        break;
      case K_TCLASS:
        if (o[O_C] !== -1) return false;
        o[O_C] = vs;
        o[O_C_END] = ve;
        break;
      case K_SRC:
        // A repeated key keeps its first value, as the full parser's fields do.
        if (o[O_SRC] === -1) {
          o[O_SRC] = vs;
          o[O_SRC_END] = ve;
        }
        break;
      case K_DEST:
        if (o[O_DEST] === -1) {
          o[O_DEST] = vs;
          o[O_DEST_END] = ve;
        }
        break;
      case K_COMM:
        if (o[O_COMM] === -1) {
          o[O_COMM] = vs;
          o[O_COMM_END] = ve;
          if (q) quoted |= Q_COMM;
        }
        break;
      case K_EXE:
        if (o[O_EXE] === -1) {
          o[O_EXE] = vs;
          o[O_EXE_END] = ve;
          if (q) quoted |= Q_EXE;
        }
        break;
      case K_PATH:
        if (o[O_PATH] === -1) {
          o[O_PATH] = vs;
          o[O_PATH_END] = ve;
          if (q) quoted |= Q_PATH;
        }
        break;
      case K_NAME:
        if (o[O_NAME] === -1) {
          o[O_NAME] = vs;
          o[O_NAME_END] = ve;
          if (q) quoted |= Q_NAME;
        }
        break;
      case K_PERMISSIVE: {
        if (o[O_PERMISSIVE] !== -1 || ve - vs !== 1) return false;
        const c = b[vs] as number;
        if (c !== 48 && c !== 49) return false;
        o[O_PERMISSIVE] = c - 48;
        break;
      }
    }
  }
  o[O_QUOTED] = quoted;
  if (o[O_S] === -1 || o[O_T] === -1 || o[O_C] === -1) return false;
  if (o[O_S] === o[O_S_END] || o[O_T] === o[O_T_END] || o[O_C] === o[O_C_END]) return false;
  // One length test for ordinary lines: a socket class name is 10 or 11 bytes long.
  const cl = (o[O_C_END] as number) - (o[O_C] as number);
  o[O_PORT] = cl === 10 || cl === 11 ? portOf(b, o) : -1;
  o[O_KEYX] = (o[O_PERMISSIVE] as number) + 1 + 3 * ((o[O_PORT] as number) + 1);
  return true;
}

/**
 * Whether the fields of a USER_AVC record before its msg='avc: ...' (kernel-written: pid=, uid=, auid=,
 * ses=, subj=) are plain `key=value` words the fast path may skip: none it reads (the parser's fields keep
 * the first of a repeated key, and these come first), no "old" (the parser's old-KEY), no "=value" or
 * "(key=". Quotes, tabs and GS were refused before.
 */
function plainOuterFields(b: Uint8Array, from: number, to: number): boolean {
  let i = from;
  while (i < to) {
    if (b[i] === 32) {
      i++;
      continue;
    }
    const ks = i;
    while (i < to && b[i] !== 32 && b[i] !== 61) i++;
    if (i === ks || b[ks] === 40) return false;
    if (i >= to || b[i] !== 61) {
      if (i - ks === 3 && b[ks] === 111 && b[ks + 1] === 108 && b[ks + 2] === 100) return false;
      continue;
    }
    if (keyAtBytes(b, ks, i - ks) !== K_OTHER) return false;
    while (i < to && b[i] !== 32) i++;
  }
  return true;
}

const A_SOCKET_CLASSES = ['tcp_socket', 'udp_socket', 'sctp_socket', 'dccp_socket'].map((c) =>
  Buffer.from(c),
);
const A_SOCKET_SUFFIX = Buffer.from('_socket');
const A_NAME_BIND = Buffer.from('name_bind');
const A_NAME_CONNECT = Buffer.from('name_connect');

/**
 * The port of the record whose offsets are in `o` when it is a name_bind / name_connect denial on a socket
 * class with ports (its fixes hold the port, so it is part of the cache key), read as avcPortOf reads it:
 * `src=` for name_bind, else `dest=`, in decimal 0..65535 without a leading zero; else -1.
 */
function portOf(b: Uint8Array, o: Int32Array): number {
  const c0 = o[O_C] as number;
  const c1 = o[O_C_END] as number;
  // The suffix first: most classes of 10 or 11 bytes (capability, filesystem, association) fail here.
  if (!bytesAt(b, c1 - 7, c1, A_SOCKET_SUFFIX)) return -1;
  let socket = false;
  for (let i = 0; i < A_SOCKET_CLASSES.length; i++) {
    const w = A_SOCKET_CLASSES[i] as Buffer;
    if (w.length === c1 - c0 && bytesAt(b, c0, c1, w)) {
      socket = true;
      break;
    }
  }
  if (!socket) return -1;
  const p0 = o[O_PERMS] as number;
  const p1 = o[O_PERMS_END] as number;
  let vs: number;
  let ve: number;
  if (permWordIn(b, A_NAME_BIND, p0, p1)) {
    vs = o[O_SRC] as number;
    ve = o[O_SRC_END] as number;
  } else if (permWordIn(b, A_NAME_CONNECT, p0, p1)) {
    // dest=; kernels before 2.6.19 or so wrote a name_connect's port as src= (no dest= field).
    const dest = (o[O_DEST] as number) >= 0;
    vs = o[dest ? O_DEST : O_SRC] as number;
    ve = o[dest ? O_DEST_END : O_SRC_END] as number;
  } else return -1;
  if (vs < 0 || ve <= vs || ve - vs > 5 || (b[vs] === 48 && ve - vs > 1)) return -1;
  let n = 0;
  for (let i = vs; i < ve; i++) {
    const c = b[i] as number;
    if (c < 48 || c > 57) return -1;
    n = n * 10 + c - 48;
  }
  return n <= 65535 ? n : -1;
}

/** Whether the permission `w` is one of the space-separated words of b[p0, p1). */
function permWordIn(b: Uint8Array, w: Uint8Array, p0: number, p1: number): boolean {
  for (let at = wordIn(b, w, p0, p1); at >= 0; at = wordIn(b, w, at + 1, p1)) {
    const end = at + w.length;
    if ((at === p0 || b[at - 1] === 32) && (end === p1 || b[end] === 32)) return true;
  }
  return false;
}

const NAME_SLOTS = 256;
const NAME_BYTES = 32;

/**
 * Class and permission names decoded once per distinct bytes: a direct-mapped table (a slot per hash of
 * the bytes, the last name decoded there) over a few hundred names that recur on every new denial. The
 * same bytes always decode to the same string, so a hit returns the string decoded before; a name is
 * also a Map key in the explainer, whose hash its string then keeps.
 */
class ShortNames {
  private readonly bytes = new Uint8Array(NAME_SLOTS * NAME_BYTES);
  private readonly lengths = new Int32Array(NAME_SLOTS).fill(-1);
  private readonly names = new Array<string>(NAME_SLOTS).fill('');
  /** b[from, to) decoded as UTF-8. */
  get(b: Buffer, from: number, to: number): string {
    const n = to - from;
    if (n > NAME_BYTES) return b.toString('utf8', from, to);
    let h = n;
    for (let i = from; i < to; i++) h = Math.imul(h ^ (b[i] as number), 0x01000193);
    const slot = (h ^ (h >>> 15)) & (NAME_SLOTS - 1);
    const at = slot * NAME_BYTES;
    const bytes = this.bytes;
    if (this.lengths[slot] === n) {
      let k = 0;
      while (k < n && bytes[at + k] === b[from + k]) k++;
      if (k === n) return this.names[slot] as string;
    }
    const name = b.toString('utf8', from, to);
    for (let k = 0; k < n; k++) bytes[at + k] = b[from + k] as number;
    this.lengths[slot] = n;
    this.names[slot] = name;
    return name;
  }
}

const shortNames = new ShortNames();

/** The permission names between the braces (validated by scanAvcBytes). */
function permsAtBytes(b: Buffer, from: number, to: number): string[] {
  const perms: string[] = [];
  for (let i = from; i < to; ) {
    if (b[i] === 32) {
      i++;
      continue;
    }
    const st = i;
    while (i < to && b[i] !== 32) i++;
    perms.push(shortNames.get(b, st, i));
  }
  return perms;
}

/** The fields of the record whose offsets are in `o` that its explanation depends on (see `render`). */
function denialFromBytes(
  b: Buffer,
  o: Int32Array,
): {
  scontext: string;
  tcontext: string;
  tclass: string;
  perms: string[];
  permissive: boolean | null;
  port: number | null;
  defaultLabel?: { type: string; spec: string; customizable: boolean } | null;
} {
  const permissive = o[O_PERMISSIVE] as number;
  const port = o[O_PORT] as number;
  return {
    scontext: b.toString('utf8', o[O_S], o[O_S_END]),
    tcontext: b.toString('utf8', o[O_T], o[O_T_END]),
    tclass: shortNames.get(b, o[O_C] as number, o[O_C_END] as number),
    perms: permsAtBytes(b, o[O_PERMS] as number, o[O_PERMS_END] as number),
    permissive: permissive < 0 ? null : permissive === 1,
    port: port < 0 ? null : port,
  };
}

function fastFromBytes(b: Buffer, o: Int32Array): FastAvc {
  const node = o[O_NODE] as number;
  const permissive = o[O_PERMISSIVE] as number;
  return {
    node: node < 0 ? null : b.toString('utf8', (o[O_LINE] as number) + 5, node),
    serial: Number(b.toString('latin1', o[O_SERIAL], o[O_SERIAL_END])),
    denied: o[O_DENIED] === 1,
    perms: permsAtBytes(b, o[O_PERMS] as number, o[O_PERMS_END] as number),
    scontext: b.toString('utf8', o[O_S], o[O_S_END]),
    tcontext: b.toString('utf8', o[O_T], o[O_T_END]),
    tclass: b.toString('utf8', o[O_C], o[O_C_END]),
    permissive: permissive < 0 ? null : permissive === 1,
    port: (o[O_PORT] as number) < 0 ? null : (o[O_PORT] as number),
  };
}

/** The field offsets `scanAvcBytes` finds in the UTF-8 bytes `b` of one line, or null (for tests). */
export function avcOffsets(b: Buffer): Int32Array | null {
  const o = new Int32Array(O_COUNT);
  return scanAvcBytes(b, 0, b.length, o) ? o : null;
}

/** The fields of one raw AVC / USER_AVC line by the fast path, or null when it does not apply. */
export function fastAvc(line: string): FastAvc | null {
  const o = new Int32Array(O_COUNT);
  const b = Buffer.from(line, 'utf8');
  return scanAvcBytes(b, 0, b.length, o) ? fastFromBytes(b, o) : null;
}

/**
 * Text output goes to terminals: an attacker-controlled value (the raw line, evidence, fixes, names) goes
 * through `escapeText`, so control, C1, bidi and zero-width characters show as `\xNN` / `\uNNNN` escapes.
 */
const printable = escapeText;

interface Totals {
  lines: number;
  denials: number;
  malformed: number;
  longLines: number;
}

/** Output encoded straight into buffers: no long string ropes to flatten, little garbage. */
/** Byte counts up to which a JS loop copies faster than a native call (its fixed cost). */
const SMALL_COPY = 32;

class Out {
  buf: Buffer = Buffer.allocUnsafe(OUT_BYTES);
  used = 0;
  /** Filled buffers waiting to be written. */
  readonly chunks: Buffer[] = [];
  /** Written buffers of OUT_BYTES ready for reuse (bounded): fresh memory costs page faults. */
  private readonly free: Buffer[] = [];
  /** Makes room for at least `n` more bytes. */
  room(n: number): void {
    if (n > this.buf.length - this.used) {
      if (this.used > 0) this.chunks.push(this.buf.subarray(0, this.used));
      this.buf = (n <= OUT_BYTES ? this.free.pop() : undefined) ?? Buffer.allocUnsafe(Math.max(OUT_BYTES, n));
      this.used = 0;
    }
  }
  /** Takes back a chunk once the writer no longer holds it (see `explain`'s flush). */
  recycle(chunk: Buffer): void {
    if (chunk.byteOffset === 0 && chunk.buffer.byteLength === OUT_BYTES && this.free.length < 4) {
      this.free.push(Buffer.from(chunk.buffer, 0, OUT_BYTES));
    }
  }
  str(s: string): void {
    this.room(s.length * 3);
    this.used += this.buf.write(s, this.used);
  }
  /** Call `room` first. */
  bytes(b: Uint8Array): void {
    const n = b.length;
    if (n <= SMALL_COPY) {
      // A byte loop: TypedArray.prototype.set costs more than the copy itself for a record's few head bytes.
      const buf = this.buf;
      const at = this.used;
      for (let i = 0; i < n; i++) buf[at + i] = b[i] as number;
    } else this.buf.set(b, this.used);
    this.used += n;
  }
  /** A non-negative safe integer in decimal; call `room` first. */
  uint(n: number): void {
    const buf = this.buf;
    let digits = 1;
    for (let x = n; x >= 10; x = Math.floor(x / 10)) digits++;
    let at = this.used + digits;
    this.used = at;
    let x = n;
    do {
      const q = Math.floor(x / 10);
      buf[--at] = 48 + x - q * 10;
      x = q;
    } while (x > 0);
  }
  /** Characters [from, to) of `s`, all ASCII; call `room` first. */
  ascii(s: string, from: number, to: number): void {
    const buf = this.buf;
    let at = this.used;
    for (let i = from; i < to; i++) buf[at++] = s.charCodeAt(i);
    this.used = at;
  }
  /** Moves the current buffer to `chunks`. */
  seal(): void {
    if (this.used > 0) {
      this.chunks.push(this.buf.subarray(0, this.used));
      this.buf = Buffer.allocUnsafe(OUT_BYTES);
      this.used = 0;
    }
  }
}

const B_LINE = Buffer.from('{"line":');
const B_NODE = Buffer.from(',"node":');
const B_SERIAL = Buffer.from(',"serial":');
const B_NULL = Buffer.from('null');
const B_NODE_NULL_SERIAL = Buffer.from(',"node":null,"serial":');
const B_NL = Buffer.from('\n');
/** Longest fixed part of an NDJSON record head, besides the node. */
const HEAD_BYTES = 64;
const B_COMM = Buffer.from('Z","comm":');
const B_EXE = Buffer.from(',"exe":');
const B_PATH = Buffer.from(',"path":');
const B_END = Buffer.from('}\n');
/** `,"time":"`, an ISO-8601 time without its milliseconds, three digits and B_COMM, at most. */
const TIME_BYTES = 48;

/** JSON of a record's field: its value as a string, or null when the record has none. */
function fieldJson(v: string | undefined): string {
  return v === undefined ? 'null' : JSON.stringify(v);
}

/**
 * The record's own fields of an NDJSON row, after the cached body: `,"time":…,"comm":…,"exe":…,"path":…}`
 * and the newline; `path` is the record's path=, else its name=. From the full parser's record.
 */
function recordTailJson(r: AuditRecord): string {
  const f = r.fields;
  return `,"time":"${isoTime(r.sec, r.msec)}","comm":${fieldJson(f.comm)},"exe":${fieldJson(f.exe)},"path":${fieldJson(f.path ?? f.name)}}\n`;
}

/** The value of a hex digit (an ASCII byte), or -1. */
function hexValue(c: number): number {
  if (c >= 48 && c <= 57) return c - 48;
  if (c >= 65 && c <= 70) return c - 55;
  if (c >= 97 && c <= 102) return c - 87;
  return -1;
}

/**
 * An unquoted value b[vs, ve) of hex digits decoded into `out` (room for (ve - vs) / 2 bytes, the caller's
 * to give) when its bytes are UTF-8, as the parser decodes encoded fields: the decoded length, or -1 when
 * the value is not such (it is then read as written). No allocation: writeField calls it per record.
 */
function decodeHexField(b: Buffer, vs: number, ve: number, out: Buffer): number {
  const n = ve - vs;
  if (n === 0 || (n & 1) !== 0) return -1;
  const half = n >> 1;
  for (let k = 0; k < half; k++) {
    const hi = hexValue(b[vs + 2 * k] as number);
    const lo = hexValue(b[vs + 2 * k + 1] as number);
    if (hi < 0 || lo < 0) return -1;
    out[k] = (hi << 4) | lo;
  }
  return isUtf8(out.subarray(0, half)) ? half : -1;
}

/**
 * The value b[vs, ve) as the parser reads it: unquoted hex digits decoded when they are UTF-8, anything
 * else as written (invalid UTF-8 as U+FFFD).
 */
function fieldText(b: Buffer, vs: number, ve: number, quoted: boolean): string {
  if (!quoted) {
    const out = Buffer.allocUnsafe((ve - vs) >> 1);
    const n = decodeHexField(b, vs, ve, out);
    if (n >= 0) return out.toString('utf8', 0, n);
  }
  return b.toString('utf8', vs, ve);
}

/** FNV-1a over the bytes taken two at a time (half the multiply chain); finish with `fmix`. */
function hashBytes(h: number, b: Uint8Array, from: number, to: number): number {
  let i = from;
  for (; i + 1 < to; i += 2) h = Math.imul(h ^ ((b[i] as number) | ((b[i + 1] as number) << 8)), 0x01000193);
  if (i < to) h = Math.imul(h ^ (b[i] as number), 0x01000193);
  return Math.imul(h ^ 0xff, 0x01000193);
}

/** Murmur3's finalizer: every input bit reaches the low bits the table indexes by. */
function fmix(h: number): number {
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return h ^ (h >>> 16);
}

/** Copies b[from, to) to out[at, ..). */
function copyBytes(b: Uint8Array, from: number, to: number, out: Uint8Array, at: number): void {
  for (let i = from, j = at; i < to; i++, j++) out[j] = b[i] as number;
}

/** Whether b[from, to) equals key[at, at + to - from). */
function sameBytes(b: Uint8Array, from: number, to: number, key: Uint8Array, at: number): boolean {
  for (let i = from, j = at; i < to; i++, j++) if (b[i] !== key[j]) return false;
  return true;
}

// Fields of one slot of RenderedBytes's table (stride M_STRIDE Int32s, 32 bytes: a lookup reads one cache
// line of the table, then the entry's bytes in the arena).
const M_HASH = 0; // hash + 1; 0 marks an empty slot
const M_AT = 1; // chunk << CHUNK_BITS | offset of the key bytes (perms, scontext, tcontext, tclass), then the body
const M_LP = 2;
const M_LS = 3;
const M_LT = 4;
const M_LC = 5;
const M_PX = 6; // permissive and port (O_KEYX): (permissive + 1) + 3 * (port + 1)
const M_BODY = 7; // body length in bytes
const M_STRIDE = 8;
/** Arena chunks of 4 MiB (an entry larger than that gets a chunk of its own, at offset 0). */
const CHUNK_BITS = 22;
const CHUNK_BYTES = 1 << CHUNK_BITS;
const OFFSET_MASK = CHUNK_BYTES - 1;

/**
 * The rendered body of each distinct denial of the byte path, keyed by the raw bytes of its fields (perms,
 * scontext, tcontext, tclass, permissive): an open-addressing table whose slots hold each entry's fields in
 * an Int32Array, the key bytes and the body of each entry back to back in an arena of large chunks (never
 * copied; reused after a clear). No object per entry (nothing for the GC to trace); a hit reads one slot
 * and the entry's bytes. Bounded: cleared when it holds `maxEntries` entries or its entries would take
 * more than `maxBytes`.
 */
export class RenderedBytes {
  private readonly maxEntries: number;
  private readonly maxBytes: number;
  private table = new Int32Array(1024 * M_STRIDE);
  private count = 0;
  /**
   * The arena chunks, and Buffers over the same memory to encode strings straight into them (the chunks
   * themselves are plain Uint8Arrays: their subarrays are cheap views, not Buffers).
   */
  private chunks: Uint8Array[] = [];
  private texts: Buffer[] = [];
  /** The chunk being filled (-1 before the first entry), its used length, and the bytes of all entries. */
  private cur = -1;
  private used = CHUNK_BYTES;
  private bytes = 0;
  constructor(maxEntries: number, maxBytes: number) {
    this.maxEntries = maxEntries;
    this.maxBytes = maxBytes;
  }
  /**
   * The slot of the record whose offsets are in `o` (see scanAvcBytes) with hash `h` (30 bits), or -1. Its
   * body is copied out by `copyBody(slot, ..)`.
   */
  find(b: Uint8Array, o: Int32Array, h: number): number {
    const ps = o[O_PERMS] as number;
    const pe = o[O_PERMS_END] as number;
    const ss = o[O_S] as number;
    const se = o[O_S_END] as number;
    const ts = o[O_T] as number;
    const te = o[O_T_END] as number;
    const cs = o[O_C] as number;
    const ce = o[O_C_END] as number;
    const px = o[O_KEYX] as number;
    const t = this.table;
    const mask = t.length / M_STRIDE - 1;
    for (let i = h & mask; ; i = (i + 1) & mask) {
      const m = i * M_STRIDE;
      const stored = t[m + M_HASH] as number;
      if (stored === 0) return -1;
      if (stored !== h + 1) continue;
      const lp = pe - ps;
      const ls = se - ss;
      const lt = te - ts;
      const where = t[m + M_AT] as number;
      const arena = this.chunks[where >>> CHUNK_BITS] as Uint8Array;
      const at = where & OFFSET_MASK;
      if (
        t[m + M_LP] === lp &&
        t[m + M_LS] === ls &&
        t[m + M_LT] === lt &&
        t[m + M_LC] === ce - cs &&
        t[m + M_PX] === px &&
        sameBytes(b, ss, se, arena, at + lp) &&
        sameBytes(b, ts, te, arena, at + lp + ls) &&
        sameBytes(b, cs, ce, arena, at + lp + ls + lt) &&
        sameBytes(b, ps, pe, arena, at)
      ) {
        return i;
      }
    }
  }
  /** The first byte of a slot's body (-1 when it is empty). */
  firstBodyByte(slot: number): number {
    const m = slot * M_STRIDE;
    if ((this.table[m + M_BODY] as number) === 0) return -1;
    const where = this.table[m + M_AT] as number;
    return (this.chunks[where >>> CHUNK_BITS] as Uint8Array)[this.bodyStart(m)] as number;
  }
  /** The length in bytes of a slot's body. */
  bodyLength(slot: number): number {
    return this.table[slot * M_STRIDE + M_BODY] as number;
  }
  /**
   * Copies a slot's body into `target` at `at` (room for `bodyLength(slot)` bytes) and returns the end: a
   * native copy that, unlike a view of the body, allocates nothing on each repeated line.
   */
  copyBody(slot: number, target: Uint8Array, at: number): number {
    const m = slot * M_STRIDE;
    const where = this.table[m + M_AT] as number;
    const start = this.bodyStart(m);
    const n = this.table[m + M_BODY] as number;
    (this.texts[where >>> CHUNK_BITS] as Buffer).copy(target, at, start, start + n);
    return at + n;
  }
  /** Offset of the body of the slot at table index `m` in its chunk. */
  private bodyStart(m: number): number {
    const t = this.table;
    return (
      ((t[m + M_AT] as number) & OFFSET_MASK) +
      (t[m + M_LP] as number) +
      (t[m + M_LS] as number) +
      (t[m + M_LT] as number) +
      (t[m + M_LC] as number)
    );
  }
  /**
   * Adds the record whose offsets are in `o` with hash `h` (not present) and its body: `body` encoded as
   * UTF-8, its first byte replaced by `first` when `first` >= 0, then `last` when `last` >= 0. Returns
   * the new entry's slot.
   */
  add(b: Uint8Array, o: Int32Array, h: number, body: string, first: number, last: number): number {
    const ps = o[O_PERMS] as number;
    const pe = o[O_PERMS_END] as number;
    const ss = o[O_S] as number;
    const se = o[O_S_END] as number;
    const ts = o[O_T] as number;
    const te = o[O_T_END] as number;
    const cs = o[O_C] as number;
    const ce = o[O_C_END] as number;
    const lp = pe - ps;
    const ls = se - ss;
    const lt = te - ts;
    const lc = ce - cs;
    const need = lp + ls + lt + lc + body.length * 3 + 1;
    if (this.count >= this.maxEntries || this.bytes + need > this.maxBytes) this.clear();
    this.reserve(need);
    if ((this.count + 1) * 2 * M_STRIDE > this.table.length) this.grow();
    const arena = this.chunks[this.cur] as Uint8Array;
    const at = this.used;
    // Byte loops: the fields are short, and a subarray of a Buffer is a new Buffer (its species).
    copyBytes(b, ps, pe, arena, at);
    copyBytes(b, ss, se, arena, at + lp);
    copyBytes(b, ts, te, arena, at + lp + ls);
    copyBytes(b, cs, ce, arena, at + lp + ls + lt);
    const bodyAt = at + lp + ls + lt + lc;
    let n = (this.texts[this.cur] as Buffer).write(body, bodyAt);
    if (first >= 0 && n > 0) arena[bodyAt] = first;
    if (last >= 0) arena[bodyAt + n++] = last;
    this.used = bodyAt + n;
    this.bytes += this.used - at;
    this.count++;
    const slot = this.free(h);
    const m = slot * M_STRIDE;
    const t = this.table;
    t[m + M_HASH] = h + 1;
    t[m + M_AT] = (this.cur << CHUNK_BITS) | at;
    t[m + M_LP] = lp;
    t[m + M_LS] = ls;
    t[m + M_LT] = lt;
    t[m + M_LC] = lc;
    t[m + M_PX] = o[O_KEYX] as number;
    t[m + M_BODY] = n;
    return slot;
  }
  /** The first empty slot of hash `h`'s probe sequence. */
  private free(h: number): number {
    const t = this.table;
    const mask = t.length / M_STRIDE - 1;
    let i = h & mask;
    while (t[i * M_STRIDE + M_HASH] !== 0) i = (i + 1) & mask;
    return i;
  }
  /** Makes the current chunk hold `n` more bytes: the next chunk (reused, or new) when it cannot. */
  private reserve(n: number): void {
    // Entries start below CHUNK_BYTES (the offset bits), even in a larger chunk made for one big entry.
    const chunk = this.chunks[this.cur];
    if (chunk !== undefined && this.used < CHUNK_BYTES && this.used + n <= chunk.length) return;
    this.cur++;
    this.used = 0;
    const reused = this.chunks[this.cur];
    if (reused !== undefined && reused.length >= n) return;
    const fresh = new Uint8Array(Math.max(CHUNK_BYTES, n));
    this.chunks[this.cur] = fresh;
    this.texts[this.cur] = Buffer.from(fresh.buffer);
  }
  private grow(): void {
    const old = this.table;
    this.table = new Int32Array(old.length * 2);
    const t = this.table;
    for (let m = 0; m < old.length; m += M_STRIDE) {
      const stored = old[m + M_HASH] as number;
      if (stored === 0) continue;
      const to = this.free(stored - 1) * M_STRIDE;
      for (let k = 0; k < M_STRIDE; k++) t[to + k] = old[m + k] as number;
    }
  }
  private clear(): void {
    this.table.fill(0);
    this.count = 0;
    this.cur = -1;
    this.used = CHUNK_BYTES;
    this.bytes = 0;
  }
}

/**
 * The per-line processor. With a `module` (--format module) nothing is written per record: each distinct
 * denial is added to the module once (its cached body is the outcome as one digit) and every record is
 * counted by that outcome.
 */
function makeProcessor(
  explainer: Explainer,
  format: 'text' | 'ndjson' | 'module',
  out: Out,
  totals: Totals,
  module: PolicyModule | null,
  parseOpts?: ParseOptions,
  fastPath = true,
  recordFields = false,
  fileContexts: FileContexts | null = null,
) {
  const MAX_RENDERED = 100_000;
  /** Arena bytes (keys and bodies) of the byte path's cache, at most. */
  const MAX_RENDERED_BYTES = 64 * 1024 * 1024;
  // Other forms (full parser): keyed scontext -> tcontext -> "class perms permissive".
  let rendered = new Map<string, Map<string, Map<string, Buffer>>>();
  let renderedCount = 0;
  const nodes = new Map<string | null, Buffer>();
  const o = new Int32Array(O_COUNT);

  const render = (a: {
    scontext: string;
    tcontext: string;
    tclass: string;
    perms: string[];
    permissive: boolean | null;
    ioctlcmd?: number | null;
    port?: number | null;
    defaultLabel?: { type: string; spec: string; customizable?: boolean } | null;
  }): string => {
    const e = explainer.explain({
      scontext: a.scontext,
      tcontext: a.tcontext,
      tclass: a.tclass,
      perms: a.perms,
      permissive: a.permissive,
      ioctlcmd: a.ioctlcmd ?? null,
      port: a.port ?? null,
      defaultLabel: a.defaultLabel ?? null,
    });
    if (module !== null) return String.fromCharCode(48 + module.add(a, e));
    // NDJSON: without its closing brace, which follows the record's own fields.
    return format === 'ndjson' ? bodyJson(a, e).slice(0, -1) : explanationText(e);
  };
  /** A rendered body's first byte as written (a comma in place of the NDJSON brace). */
  const firstByte = format === 'ndjson' ? COMMA : -1;

  const nodeJson = (nodeName: string | null): Buffer => {
    let node = nodes.get(nodeName);
    if (node === undefined) {
      node = Buffer.from(JSON.stringify(nodeName));
      if (nodes.size < 10_000) nodes.set(nodeName, node);
    }
    return node;
  };

  /** Writes the record head, the rendered body of one denial and (NDJSON) the record's own fields. */
  const emitSlow = (r: AuditRecord, raw: string, body: Buffer) => {
    if (format === 'ndjson') {
      const node = nodeJson(r.node);
      out.room(HEAD_BYTES + node.length + body.length);
      out.bytes(B_LINE);
      out.uint(r.line);
      out.bytes(B_NODE);
      out.bytes(node);
      out.bytes(B_SERIAL);
      out.str(String(r.serial));
      out.room(body.length);
      out.bytes(body);
      if (recordFields) out.str(recordTailJson(r));
      else {
        out.room(B_END.length);
        out.bytes(B_END);
      }
    } else {
      out.str(printable(raw));
      out.room(1 + body.length);
      out.bytes(B_NL);
      out.bytes(body);
    }
  };

  const onAvc = (
    r: AuditRecord,
    a: {
      scontext: string;
      tcontext: string;
      tclass: string;
      perms: string[];
      permissive: boolean | null;
      ioctlcmd: number | null;
      port: number | null;
      defaultLabel: FileContextMatch | null;
    },
    raw: string,
  ) => {
    totals.denials++;
    const rest = `${a.tclass} ${a.perms.length === 1 ? a.perms[0] : a.perms.join(' ')}${a.permissive === true ? ' 1' : ''}${a.ioctlcmd === null ? '' : ` ioctlcmd=${a.ioctlcmd}`}${a.port === null ? '' : ` port=${a.port}`}${a.defaultLabel === null ? '' : ` fc=${a.defaultLabel.index}`}`;
    let byTarget = rendered.get(a.scontext);
    let byRest = byTarget?.get(a.tcontext);
    let body = byRest?.get(rest);
    if (body === undefined) {
      body = Buffer.from(
        render(
          a.defaultLabel === null || fileContexts === null
            ? a
            : { ...a, defaultLabel: defaultLabelOf(a.defaultLabel, a.tcontext, fileContexts) },
        ),
      );
      if (firstByte >= 0) body[0] = firstByte;
      if (renderedCount >= MAX_RENDERED) {
        rendered = new Map();
        renderedCount = 0;
        byTarget = undefined;
        byRest = undefined;
      }
      if (byTarget === undefined) {
        byTarget = new Map();
        rendered.set(a.scontext, byTarget);
      }
      if (byRest === undefined) {
        byRest = new Map();
        byTarget.set(a.tcontext, byRest);
      }
      byRest.set(rest, body);
      renderedCount++;
    }
    if (module !== null) {
      module.count((body[0] ?? 0) - 48);
      return;
    }
    emitSlow(r, raw, body);
  };

  /** `objectPath`: the object's path found in the record's event (see `feed`), else null. */
  const onRecord = (r: AuditRecord, raw: string, objectPath: string | null) => {
    const avc = r.avc;
    if (avc?.decision !== 'denied' || (r.type !== 'AVC' && r.type !== 'USER_AVC')) return;
    onAvc(
      r,
      {
        scontext: avc.scontext.raw,
        tcontext: avc.tcontext.raw,
        tclass: avc.tclass,
        perms: avc.perms,
        permissive: avc.permissive,
        ioctlcmd: ioctlCommandOf(r),
        port: avcPortOf(r),
        defaultLabel: defaultLabelFor(avc.tclass, objectPath ?? r.fields.path),
      },
      raw,
    );
  };
  /** The file_contexts spec of a file denial's object, by its (absolute) path, or null. */
  function defaultLabelFor(tclass: string, path: string | undefined): FileContextMatch | null {
    if (fileContexts === null || path === undefined || !FILE_CLASSES.has(tclass)) return null;
    return fileContexts.lookup(path, tclass);
  }
  const byteRendered = new RenderedBytes(MAX_RENDERED, MAX_RENDERED_BYTES);
  let lastNodeBytes: Uint8Array = new Uint8Array(0);
  let lastNodeBytesJson: Buffer | undefined;

  /** A line `scanAvcBytes` accepted (offsets in `o`, into `b`); `s`..`e` is the line without its newline. */
  const onFastBytes = (b: Buffer, s: number, e: number, objectPath: string | null) => {
    if (o[O_DENIED] !== 1) return;
    totals.denials++;
    let h = hashBytes(0x811c9dc5, b, o[O_PERMS] as number, o[O_PERMS_END] as number);
    h = hashBytes(h, b, o[O_S] as number, o[O_S_END] as number);
    h = hashBytes(h, b, o[O_T] as number, o[O_T_END] as number);
    h = hashBytes(h, b, o[O_C] as number, o[O_C_END] as number);
    // A file denial's default label (file_contexts) is part of its key: port is -1 for file classes, so
    // O_KEYX adds the spec's index in the place of the port's.
    let dl: FileContextMatch | null = null;
    if (fileContexts !== null && (objectPath !== null || (o[O_PATH] as number) >= 0)) {
      dl = defaultLabelFor(
        shortNames.get(b, o[O_C] as number, o[O_C_END] as number),
        objectPath ??
          fieldText(
            b,
            o[O_PATH] as number,
            o[O_PATH_END] as number,
            ((o[O_QUOTED] as number) & Q_PATH) !== 0,
          ),
      );
      if (dl !== null) o[O_KEYX] = (o[O_KEYX] as number) + 3 * (dl.index + 1);
    }
    h = fmix(h ^ ((o[O_KEYX] as number) + 2)) & 0x3fffffff;
    let r = byteRendered.find(b, o, h);
    if (r < 0) {
      const a = denialFromBytes(b, o);
      if (dl !== null && fileContexts !== null) a.defaultLabel = defaultLabelOf(dl, a.tcontext, fileContexts);
      r = byteRendered.add(b, o, h, render(a), firstByte, -1);
    }
    if (module !== null) {
      module.count(byteRendered.firstBodyByte(r) - 48);
      return;
    }
    const bodyLength = byteRendered.bodyLength(r);
    if (format !== 'ndjson') {
      const rawEnd = e > s && b[e - 1] === 13 ? e - 1 : e;
      out.str(printable(b.toString('utf8', s, rawEnd)));
      out.room(1 + bodyLength);
      out.bytes(B_NL);
      out.used = byteRendered.copyBody(r, out.buf, out.used);
      return;
    }
    const nodeEnd = o[O_NODE] as number;
    let node: Buffer = B_NULL;
    if (nodeEnd >= 0) {
      const n0 = s + 5;
      if (
        lastNodeBytesJson !== undefined &&
        nodeEnd - n0 === lastNodeBytes.length &&
        sameBytes(b, n0, nodeEnd, lastNodeBytes, 0)
      ) {
        node = lastNodeBytesJson;
      } else {
        lastNodeBytes = Uint8Array.prototype.slice.call(b, n0, nodeEnd);
        node = lastNodeBytesJson = nodeJson(b.toString('utf8', n0, nodeEnd));
      }
    }
    out.room(HEAD_BYTES + node.length + bodyLength);
    out.bytes(B_LINE);
    out.uint(totals.lines);
    if (node === B_NULL) out.bytes(B_NODE_NULL_SERIAL);
    else {
      out.bytes(B_NODE);
      out.bytes(node);
      out.bytes(B_SERIAL);
    }
    const d0 = o[O_SERIAL] as number;
    const d1 = o[O_SERIAL_END] as number;
    if (d1 - d0 <= 15 && (d1 - d0 === 1 || b[d0] !== 48)) {
      const ob = out.buf;
      let at = out.used;
      for (let i = d0; i < d1; i++) ob[at++] = b[i] as number;
      out.used = at;
    } else {
      const serial = String(Number(b.toString('latin1', d0, d1)));
      out.ascii(serial, 0, serial.length);
    }
    out.used = byteRendered.copyBody(r, out.buf, out.used);
    if (!recordFields) {
      out.room(B_END.length);
      out.bytes(B_END);
      return;
    }
    writeTime(b);
    const qs = o[O_QUOTED] as number;
    writeField(b, o[O_COMM] as number, o[O_COMM_END] as number, (qs & Q_COMM) !== 0);
    out.room(B_EXE.length);
    out.bytes(B_EXE);
    writeField(b, o[O_EXE] as number, o[O_EXE_END] as number, (qs & Q_EXE) !== 0);
    out.room(B_PATH.length);
    out.bytes(B_PATH);
    if ((o[O_PATH] as number) >= 0)
      writeField(b, o[O_PATH] as number, o[O_PATH_END] as number, (qs & Q_PATH) !== 0);
    else writeField(b, o[O_NAME] as number, o[O_NAME_END] as number, (qs & Q_NAME) !== 0);
    out.room(B_END.length);
    out.bytes(B_END);
  };

  // The time of the last stamp's seconds: `,"time":"YYYY-MM-DDTHH:MM:SS.` as bytes, for the seconds' digits.
  let timeSecBytes = Buffer.alloc(0);
  let timeHead = Buffer.alloc(0);
  /** `,"time":"….mmmZ","comm":` of the record whose offsets are in `o`, as isoTime writes the time. */
  const writeTime = (b: Buffer) => {
    const s0 = o[O_STAMP] as number;
    const dot = o[O_DOT] as number;
    if (dot - s0 !== timeSecBytes.length || !sameBytes(b, s0, dot, timeSecBytes, 0)) {
      // Up to 12 digits (scanAvcBytes): an exact integer, and a time Date can represent.
      const iso = isoTime(Number(b.toString('latin1', s0, dot)), 0);
      timeSecBytes = Buffer.from(b.subarray(s0, dot));
      timeHead = Buffer.from(`,"time":"${iso.slice(0, -4)}`);
    }
    let ms = 0;
    const m1 = (o[O_SERIAL] as number) - 1;
    for (let i = dot + 1; i < m1; i++) ms = ms * 10 + (b[i] as number) - 48;
    out.room(TIME_BYTES);
    out.bytes(timeHead);
    const ob = out.buf;
    let at = out.used;
    ob[at++] = 48 + Math.floor(ms / 100);
    ob[at++] = 48 + (Math.floor(ms / 10) % 10);
    ob[at++] = 48 + (ms % 10);
    out.used = at;
    out.bytes(B_COMM);
  };

  let hexBytes = Buffer.alloc(256);
  /**
   * The JSON of the value b[vs, ve) (`null` when vs < 0) as the parser reads it: an unquoted value of hex
   * digits decoded when the bytes are UTF-8 (else kept as written), other bytes decoded as UTF-8 (U+FFFD
   * for invalid ones). Printable ASCII is copied between quotes; anything else goes through JSON.stringify.
   */
  const writeField = (b: Buffer, vs: number, ve: number, isQuoted: boolean) => {
    if (vs < 0) {
      out.room(B_NULL.length);
      out.bytes(B_NULL);
      return;
    }
    let src: Buffer = b;
    let from = vs;
    let to = ve;
    if (!isQuoted) {
      const half = (ve - vs) >> 1;
      if (half > hexBytes.length) hexBytes = Buffer.alloc(Math.max(half, 2 * hexBytes.length));
      const n = decodeHexField(b, vs, ve, hexBytes);
      if (n >= 0) {
        src = hexBytes;
        from = 0;
        to = n;
      }
    }
    // Printable ASCII but '"' and '\\' is its own JSON string: copied (one pass), else JSON.stringify.
    out.room(to - from + 2);
    const ob = out.buf;
    let at = out.used;
    ob[at++] = 34;
    for (let i = from; i < to; i++) {
      const c = src[i] as number;
      if (c < 32 || c > 126 || c === 34 || c === 92) {
        out.str(JSON.stringify(src.toString('utf8', from, to)));
        return;
      }
      ob[at++] = c;
    }
    ob[at++] = 34;
    out.used = at;
  };

  /**
   * A counted line the byte fast path did not take: the full parser decides. With `mayHold`, a line that
   * `holds` (see `feed`) is held instead (false: not counted, nothing written).
   */
  const processText = (
    line: string,
    objectPath: string | null,
    mayHold: boolean,
    b: Buffer,
    s: number,
    e: number,
  ): boolean => {
    if (line.length > MAX_LINE) {
      totals.longLines++;
      return true;
    }
    // Only lines holding an AVC record matter here; skip the others without parsing them.
    if (!line.includes('avc:')) return true;
    const raw = line.endsWith('\r') ? line.slice(0, -1) : line;
    const r = parseLine(line, totals.lines, parseOpts);
    if (r === null) return true;
    if (!Array.isArray(r)) {
      totals.malformed++;
      return true;
    }
    if (mayHold && fileContexts !== null && r.some(namesObjectOnly) && hold(b, s, e, false)) return false;
    for (const rec of r) onRecord(rec, raw, objectPath);
    return true;
  };
  /**
   * One line as UTF-8 bytes [s, e) of `b` (without its newline): the fast path needs no decoding.
   * `objectPath`: the path of the object of the line's AVC, found in its event; `mayHold`: see `feed`.
   */
  const processBytes = (b: Buffer, s: number, e: number, objectPath: string | null, mayHold: boolean) => {
    totals.lines++;
    // Longer than MAX_LINE bytes may still be MAX_LINE characters or fewer: the text path decides.
    if (e - s <= MAX_LINE) {
      // A line the fast path takes holds "avc:"; any other line without it is skipped, as processText
      // would after decoding it.
      if (fastPath && scanAvcBytes(b, s, e, o)) {
        if (
          mayHold &&
          fileContexts !== null &&
          o[O_DENIED] === 1 &&
          (o[O_PATH] as number) < 0 &&
          (o[O_NAME] as number) >= 0 &&
          FILE_CLASSES.has(shortNames.get(b, o[O_C] as number, o[O_C_END] as number)) &&
          hold(b, s, e, true)
        ) {
          totals.lines--;
          return;
        }
        onFastBytes(b, s, e, objectPath);
        return;
      }
      if (!hasAvcMark(b, s, e)) return;
    }
    if (!processText(b.toString('utf8', s, e), objectPath, mayHold, b, s, e)) totals.lines--;
  };

  // ---- with file_contexts: the events of denials that name their object by name= only ----
  // A file denial without path= (most read, write and open denials: name= and ino=) has its object's full
  // name in the PATH record of the same inode, which follows the AVC in its event. Such an AVC line is held
  // with the lines of its event that follow it (same node and stamp), until its PROCTITLE or EOE, a line of
  // another event, MAX_HELD lines or the end of input; then every held line is processed in order, the
  // AVCs with the paths avcObjectPath finds. Only while the input holds PATH records (one within the last
  // HOLD_WINDOW lines, or the input is in its first HOLD_WINDOW lines): an extract of AVC lines alone
  // (`ausearch -m AVC`) is never held. Input buffers are referenced, not copied: streams hand out fresh
  // buffers, and the ones joined here for a line cut by a chunk are never reused.
  const MAX_HELD = 64;
  const HOLD_WINDOW = 4096;
  /** The last line counted that was a PATH record. */
  let lastPathLine = 0;
  /** The held lines: the AVC line, then the lines of its event that follow it. */
  const held = new LineList();
  /** A PATH line is among the held ones or their context (else no path can be found: replayed as they are). */
  let heldPath = false;
  /** Offsets `scanAvcBytes` gave the first held line, when the fast path took it (replayed without a rescan). */
  const heldO = new Int32Array(O_COUNT);
  let heldFast = false;
  /** Node name and stamp of the held event, in held.b[0] (`stampOf`). */
  const heldSt = new Int32Array(4);
  const st = new Int32Array(4);
  // The lines just before, of one event (same node and stamp), already processed: `ausearch` prints an
  // event's records last to first, so its PATH records come before its AVC. A hold takes them as its
  // context (parsed for paths, never written again).
  let run = new LineList();
  let runPath = false;
  /** Node name and stamp of the run's event, in run.b[0]. */
  const runSt = new Int32Array(4);
  let ctx = new LineList();

  const mayHoldNow = () => fileContexts !== null && totals.lines - lastPathLine <= HOLD_WINDOW;

  /** Starts holding the event of the AVC line [s, e) of `b`; false when the line has no audit stamp. */
  function hold(b: Buffer, s: number, e: number, fast: boolean): boolean {
    if (!stampOf(b, s, e, heldSt)) return false;
    held.push(b, s, e);
    heldFast = fast;
    if (fast) heldO.set(o);
    // The run of the same event becomes the context; the run starts over.
    const r0 = run.b[0];
    const same = run.n > 0 && r0 !== undefined && sameStamp(b, heldSt, r0, runSt);
    heldPath = same && runPath;
    if (same) [ctx, run] = [run, ctx];
    run.clear();
    runPath = false;
    return true;
  }

  /** Adds the processed line [s, e) to the run of its event's lines, or starts a new run with it. */
  function track(b: Buffer, s: number, e: number): void {
    if (!stampOf(b, s, e, st)) {
      run.clear();
      runPath = false;
      return;
    }
    const r0 = run.b[0];
    if (run.n === 0 || run.n >= MAX_HELD || r0 === undefined || !sameStamp(b, st, r0, runSt)) {
      run.clear();
      runPath = false;
      runSt.set(st);
    }
    run.push(b, s, e);
    if (typeAt(b, s, e, st) === T_PATH) runPath = true;
  }

  /** Processes the held lines, in order. */
  function release(): void {
    const paths = heldPath ? objectPathsOf() : null;
    heldPath = false;
    ctx.clear();
    // processBytes is told not to hold: `held` stays as it is until cleared.
    for (let i = 0; i < held.n; i++) {
      const b = held.b[i] as Buffer;
      const s = held.s[i] as number;
      const e = held.e[i] as number;
      if (i === 0 && heldFast && paths === null) {
        // Nothing of the event tells the path: the AVC line as the fast path read it.
        totals.lines++;
        o.set(heldO);
        onFastBytes(b, s, e, null);
      } else processBytes(b, s, e, paths?.[i] ?? null, false);
    }
    held.clear();
  }

  /** The records of line i of `lines` (none when it does not parse). */
  const recordsAt = (lines: LineList, i: number): AuditRecord[] => {
    const b = lines.b[i] as Buffer;
    const s = lines.s[i] as number;
    const e = lines.e[i] as number;
    const r = e - s > MAX_LINE ? null : parseLine(b.toString('utf8', s, e), 0, parseOpts);
    return Array.isArray(r) ? r : [];
  };

  /**
   * Per held line, the object path of its first denied AVC record, found among the event's records (those
   * of its context too).
   */
  function objectPathsOf(): Array<string | null> {
    const records: AuditRecord[] = [];
    for (let i = 0; i < ctx.n; i++) for (const rec of recordsAt(ctx, i)) records.push(rec);
    const perLine: Array<AuditRecord | null> = [];
    for (let i = 0; i < held.n; i++) {
      const recs = recordsAt(held, i);
      for (const rec of recs) records.push(rec);
      perLine.push(recs.find((x) => x.avc?.decision === 'denied') ?? null);
    }
    const event = { records };
    return perLine.map((a) => (a === null ? null : avcObjectPath(a, event)));
  }

  /**
   * The line-by-line entry: holds the event of a file denial that names its object by name= only, when
   * file_contexts is read (see above); every other line goes straight to processBytes.
   */
  const feed = (b: Buffer, s: number, e: number) => {
    if (held.n > 0) {
      const h0 = held.b[0] as Buffer;
      if (held.n < MAX_HELD && stampOf(b, s, e, st) && sameStamp(b, st, h0, heldSt)) {
        held.push(b, s, e);
        const t = typeAt(b, s, e, st);
        if (t === T_PATH) {
          heldPath = true;
          // Its line number once counted: the held lines are counted when released.
          lastPathLine = totals.lines + held.n;
        } else if (t === T_END) release();
        return;
      }
      release();
    }
    if (fileContexts === null) {
      processBytes(b, s, e, null, false);
      return;
    }
    if (isPathLine(b, s, e)) lastPathLine = totals.lines + 1;
    const holding = mayHoldNow();
    processBytes(b, s, e, null, holding);
    // A line that started a hold took the run as its context; any other joins it.
    if (held.n === 0 && holding) track(b, s, e);
    else if (!holding) run.clear();
  };
  /** End of input: the lines still held are processed. */
  const finish = () => {
    if (held.n > 0) release();
  };
  return { processBytes: feed, finish };
}

/** A record of the line names its object by name= only: a denied file AVC without path=. */
function namesObjectOnly(r: AuditRecord): boolean {
  return (
    r.avc?.decision === 'denied' &&
    (r.type === 'AVC' || r.type === 'USER_AVC') &&
    FILE_CLASSES.has(r.avc.tclass) &&
    r.fields.path === undefined &&
    r.fields.name !== undefined
  );
}

const A_MSG_AUDIT = Buffer.from('msg=audit(');
/** How far into a line its stamp is looked for. */
const STAMP_WITHIN = 512;

/**
 * The node and stamp of the line [s, e) of `b`: out[0..1] the node name (empty without `node=`), out[2..3]
 * the text between `msg=audit(` and `)`; false when the line has none.
 */
function stampOf(b: Uint8Array, s: number, e: number, out: Int32Array): boolean {
  const m = wordIn(b, A_MSG_AUDIT, s, Math.min(e, s + STAMP_WITHIN));
  if (m < 0) return false;
  const t0 = m + A_MSG_AUDIT.length;
  const t1 = byteIn(b, 41, t0, Math.min(e, t0 + 64));
  if (t1 < 0) return false;
  let n0 = s;
  let n1 = s;
  if (bytesAt(b, s, e, A_NODE)) {
    n0 = s + A_NODE.length;
    n1 = byteIn(b, 32, n0, m);
    if (n1 < 0) return false;
  }
  out[0] = n0;
  out[1] = n1;
  out[2] = t0;
  out[3] = t1;
  return true;
}

/** Whether a[af, at) and b[bf, bt) hold the same bytes. */
function sameRange(a: Uint8Array, af: number, at: number, b: Uint8Array, bf: number, bt: number): boolean {
  if (at - af !== bt - bf) return false;
  for (let i = 0; i < at - af; i++) if (a[af + i] !== b[bf + i]) return false;
  return true;
}

/** Whether the node and stamp `sa` found in `a` (stampOf) are those `sb` found in `b`. */
function sameStamp(a: Uint8Array, sa: Int32Array, b: Uint8Array, sb: Int32Array): boolean {
  return (
    sameRange(a, sa[0] as number, sa[1] as number, b, sb[0] as number, sb[1] as number) &&
    sameRange(a, sa[2] as number, sa[3] as number, b, sb[2] as number, sb[3] as number)
  );
}

const EMPTY = Buffer.alloc(0);

/** Lines [s, e) of their buffers, in order: references (see makeProcessor's holding of events). */
class LineList {
  readonly b: Buffer[] = [];
  readonly s: number[] = [];
  readonly e: number[] = [];
  n = 0;
  push(b: Buffer, s: number, e: number): void {
    this.b[this.n] = b;
    this.s[this.n] = s;
    this.e[this.n] = e;
    this.n++;
  }
  /** Empties the list, dropping its references. */
  clear(): void {
    // A loop, not Array.prototype.fill: the list usually holds a line or two, and fill is a runtime call.
    for (let i = 0; i < this.n; i++) this.b[i] = EMPTY;
    this.n = 0;
  }
}

/** Whether the line [s, e) is a PATH record (`type=PATH `, after a `node=` name or not). */
function isPathLine(b: Uint8Array, s: number, e: number): boolean {
  if (bytesAt(b, s, e, A_TYPE_PATH)) return true;
  if (!bytesAt(b, s, e, A_NODE)) return false;
  const sp = byteIn(b, 32, s + A_NODE.length, Math.min(e, s + 300));
  return sp >= 0 && bytesAt(b, sp + 1, e, A_TYPE_PATH);
}

const T_OTHER = 0;
const T_PATH = 1;
/** PROCTITLE or EOE: the end of a syscall event. */
const T_END = 2;
const A_TYPE_PATH = Buffer.from('type=PATH ');
const A_TYPE_PROCTITLE = Buffer.from('type=PROCTITLE ');
const A_TYPE_EOE = Buffer.from('type=EOE ');

/**
 * The kind of record of the line [s, e), whose node and stamp `stampOf` put in `st`: `type=` follows the
 * node name and its space, or starts the line.
 */
function typeAt(b: Uint8Array, s: number, e: number, st: Int32Array): number {
  const at = st[0] === st[1] ? s : (st[1] as number) + 1;
  if (bytesAt(b, at, e, A_TYPE_PATH)) return T_PATH;
  if (bytesAt(b, at, e, A_TYPE_PROCTITLE) || bytesAt(b, at, e, A_TYPE_EOE)) return T_END;
  return T_OTHER;
}

const AVC_MARK = Buffer.from('avc:');
/** Whether the line holds "avc:" at all. */
function hasAvcMark(b: Uint8Array, s: number, e: number): boolean {
  return wordIn(b, AVC_MARK, s, e) >= 0;
}

/**
 * For tests: what explain writes for the lines of `input` in `format`, with the byte fast path or with the
 * full parser only (`fastPath: false`), which must give the same bytes.
 */
export function explainBytes(
  explainer: Explainer,
  format: 'text' | 'ndjson' | 'module',
  input: Buffer,
  opts: { fastPath: boolean; parseOpts?: ParseOptions; recordFields?: boolean; fileContexts?: FileContexts },
): string {
  const out = new Out();
  const totals: Totals = { lines: 0, denials: 0, malformed: 0, longLines: 0 };
  const module = format === 'module' ? createPolicyModule(explainer.policy) : null;
  const { processBytes, finish } = makeProcessor(
    explainer,
    format,
    out,
    totals,
    module,
    opts.parseOpts,
    opts.fastPath,
    opts.recordFields === true,
    opts.fileContexts ?? null,
  );
  let pos = 0;
  for (let nl = input.indexOf(10, pos); nl >= 0; nl = input.indexOf(10, pos)) {
    processBytes(input, pos, nl);
    pos = nl + 1;
  }
  if (pos < input.length) processBytes(input, pos, input.length);
  finish();
  if (module !== null) out.str(module.render(DEFAULT_MODULE_NAME));
  out.seal();
  return Buffer.concat(out.chunks).toString('utf8');
}

export async function explain(argv: string[], io: CliIo): Promise<number> {
  let values: {
    policy?: string;
    booleans?: string;
    format?: string;
    module?: string;
    'record-fields'?: boolean;
    'file-contexts'?: string;
    'no-file-contexts'?: boolean;
    help?: boolean;
  };
  let positionals: string[];
  try {
    ({ values, positionals } = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        policy: { type: 'string', short: 'p' },
        booleans: { type: 'string' },
        format: { type: 'string' },
        module: { type: 'string' },
        'record-fields': { type: 'boolean' },
        'file-contexts': { type: 'string' },
        'no-file-contexts': { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
    }));
  } catch (e) {
    // The message quotes the user's own text: escaped, so it stays one visible line.
    return usageError(io, escapeText(message(e)));
  }
  if (values.help) {
    io.stdout.write(USAGE);
    return 0;
  }
  const format = values.format ?? 'text';
  if (format !== 'text' && format !== 'ndjson' && format !== 'module') {
    return usageError(io, '--format must be text, ndjson or module');
  }
  if (positionals.length > 1) {
    return usageError(io, `expected at most one INPUT, got ${positionals.length}`);
  }
  const moduleName = values.module ?? DEFAULT_MODULE_NAME;
  if (values.module !== undefined && format !== 'module') {
    return usageError(io, '--module needs --format module');
  }
  if (!isModuleIdentifier(moduleName)) {
    return usageError(
      io,
      `module name "${escapeText(moduleName)}" is not a checkpolicy identifier (a letter, then letters, digits, _, - and single dots; not a reserved word)`,
    );
  }
  if (values['file-contexts'] !== undefined && values['no-file-contexts'] === true) {
    return usageError(io, '--file-contexts and --no-file-contexts exclude each other');
  }
  let policyPath = values.policy;
  if (policyPath === undefined) {
    const found = hostPolicyPath(io.hostRoot);
    if (found === null) {
      return usageError(
        io,
        'no --policy given, and this host has no policy (/sys/fs/selinux/policy, or one named by /etc/selinux/config)',
      );
    }
    io.stderr.write(`avcstream explain: no --policy: using ${found}\n`);
    policyPath = found;
  }

  let explainer: Explainer;
  try {
    const policy = readPolicy(readPolicyFile(policyPath));
    const booleans = values.booleans === undefined ? undefined : readBooleans(values.booleans);
    const unknown = booleans ? Object.keys(booleans).filter((n) => !policy.boolByName.has(n)).length : 0;
    if (unknown > 0)
      io.stderr.write(`avcstream explain: ${unknown} booleans not defined by the policy were ignored\n`);
    // The command caches its rendering of each distinct denial, so the explainer need not memoize.
    explainer = createExplainer(policy, booleans ? { booleans, memoize: false } : { memoize: false });
  } catch (e) {
    if (e instanceof PolicyTooLargeError) {
      io.stderr.write('avcstream explain: policy file too large\n');
      return EX_DATAERR;
    }
    const code = errorCode(e);
    if (code === 'ENOENT' || code === 'EACCES' || code === 'EISDIR') {
      io.stderr.write(`avcstream explain: cannot open: ${message(e)}\n`);
      return EX_NOINPUT;
    }
    if (code.startsWith('AVC_ERR_')) {
      io.stderr.write(`avcstream explain: ${code}: ${message(e)}\n`);
      return EX_DATAERR;
    }
    throw e;
  }

  // file_contexts: named, else the one of a host policy (when there is one), unless turned off.
  let fileContexts: ReturnType<typeof readFileContexts> | null = null;
  const fcPath =
    values['no-file-contexts'] === true
      ? null
      : (values['file-contexts'] ?? fileContextsFor(policyPath, io.hostRoot));
  if (fcPath !== null) {
    try {
      fileContexts = readFileContexts(fcPath);
    } catch (e) {
      if (e instanceof FileContextsTooLargeError) {
        io.stderr.write('avcstream explain: file_contexts too large\n');
        return EX_DATAERR;
      }
      io.stderr.write(`avcstream explain: cannot open file_contexts: ${escapeText(message(e))}\n`);
      return EX_NOINPUT;
    }
  }

  const input = positionals[0];
  let stream: Readable;
  try {
    if (input === undefined || input === '-') stream = io.stdin;
    else {
      statSync(input);
      stream = createReadStream(input, { highWaterMark: 256 * 1024 });
    }
  } catch (e) {
    io.stderr.write(`avcstream explain: cannot open input: ${message(e)}\n`);
    return EX_NOINPUT;
  }

  const totals: Totals = { lines: 0, denials: 0, malformed: 0, longLines: 0 };
  const out = new Out();
  const module = format === 'module' ? createPolicyModule(explainer.policy) : null;
  // ausearch -i output piped in: its DD/MM or MM/DD dates follow the locale of this shell.
  const { processBytes, finish } = makeProcessor(
    explainer,
    format,
    out,
    totals,
    module,
    { slashDates: slashDateOrder(process.env) },
    true,
    values['record-fields'] === true,
    fileContexts,
  );
  // A stream writing to a file descriptor (file, pipe, terminal) is done with a chunk once its write
  // callback has run, so the buffer can be filled again; any other stream may keep it (a PassThrough
  // queues it for its reader), so its chunks are never reused.
  const fdBacked = typeof (io.stdout as { fd?: unknown }).fd === 'number';
  const flush = async (all: boolean) => {
    if (all) out.seal();
    const chunks = out.chunks;
    while (chunks.length > 0) {
      const c = chunks.shift() as Buffer;
      const ok = fdBacked ? io.stdout.write(c, (e) => e || out.recycle(c)) : io.stdout.write(c);
      if (!ok) await waitDrain(io.stdout);
    }
  };
  try {
    {
      // Input is split into lines as bytes: the fast path never decodes a repeated denial. A stream that
      // delivers text (an encoding was set on it) is encoded back to UTF-8 first.
      // A line longer than this many bytes is longer than MAX_LINE characters whatever its encoding.
      const MAX_LINE_BYTES = 3 * MAX_LINE + 3;
      let carry: Buffer[] = [];
      let carried = 0;
      let skipping = false;
      for await (const piece of stream as AsyncIterable<Buffer | string>) {
        const chunk = typeof piece === 'string' ? Buffer.from(piece, 'utf8') : piece;
        let pos = 0;
        if (skipping) {
          // Rest of an over-long line: drop up to its newline.
          const nl = chunk.indexOf(10);
          if (nl < 0) continue;
          skipping = false;
          pos = nl + 1;
        }
        if (carried > 0) {
          const nl = chunk.indexOf(10, pos);
          if (nl >= 0) {
            carry.push(chunk.subarray(pos, nl));
            const line = Buffer.concat(carry);
            carry = [];
            carried = 0;
            processBytes(line, 0, line.length);
            pos = nl + 1;
          }
        }
        if (carried === 0) {
          for (;;) {
            const nl = chunk.indexOf(10, pos);
            if (nl < 0) break;
            processBytes(chunk, pos, nl);
            pos = nl + 1;
          }
        }
        if (pos < chunk.length) {
          carry.push(chunk.subarray(pos));
          carried += chunk.length - pos;
          if (carried > MAX_LINE_BYTES) {
            totals.lines++;
            totals.longLines++;
            carry = [];
            carried = 0;
            skipping = true;
          }
        }
        if (out.chunks.length > 0) await flush(false);
      }
      if (carried > 0 && !skipping) {
        const line = Buffer.concat(carry);
        processBytes(line, 0, line.length);
      }
      finish();
    }
    if (module !== null) out.str(module.render(moduleName));
    await flush(true);
  } catch (e) {
    io.stderr.write(`avcstream explain: read or write error: ${message(e)}\n`);
    return EX_IOERR;
  }
  // file_contexts is parsed at the first path looked up: its bad lines are known by now.
  const bad = fileContexts?.parsed() === true ? fileContexts.errors : [];
  if (bad.length > 0) {
    const first = bad[0] as { source: string; line: number; message: string };
    io.stderr.write(
      `avcstream explain: ${bad.length}${bad.length >= 100 ? '+' : ''} file_contexts lines skipped; first: ${escapeText(first.source)}:${first.line}: ${first.message}\n`,
    );
  }
  if (totals.malformed > 0 || totals.longLines > 0) {
    io.stderr.write(
      `avcstream explain: ${totals.denials} denials explained; ${totals.malformed} malformed and ${totals.longLines} over-long lines skipped\n`,
    );
  }
  // A module without a rule is no module checkmodule accepts: like grep's "no match", so that
  // `explain --format module ... > x.te && checkmodule ...` stops here. Its comments say why.
  if (module !== null && module.ruleCount() === 0) {
    io.stderr.write('avcstream explain: the module holds no rule (see its comments)\n');
    return EX_NO_RULE;
  }
  return 0;
}
