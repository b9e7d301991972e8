// The byte fast path of `avcstream parse` (decoder option `recordJson`). A plain record line
// (`[node=H ]type=T msg=audit(S.M:N): k=v k="v" ...` in printable ASCII, with AVC bodies
// `avc:  denied  { perms } for ...` and user-space `msg='...'` bodies) goes from its bytes straight to the
// JSON that `eventToJson` writes for the record, with no string or object per field: keys are matched
// against the last key sequence of the same record type, values are copied (hex ones decoded) into an
// arena buffer, and only the few fields with an interpretation are turned into strings (cached by value).
// Anything else (a control or non-ASCII byte, a repeated key, USER_AVC / USER_TTY records, an ausearch
// stamp, an odd EXECVE, a glued record, over-long names...) returns null and the line takes the full
// parser: the output is the same bytes either way (checked on every corpus file, edge cases and property
// tests, fast-record.test.ts). What it remembers of its input (keys, types, nodes, shapes, values) is
// bounded.
import { isEncodedField } from './fields-builder.ts';
import { decodeHex } from './hex.ts';
import { FIELD_KINDS, fieldKind, interpretField } from './interpret/index.ts';
import { resolveType } from './parse-line.ts';
import type { AuditRecord } from './types.ts';

const SP = 32;
const DQ = 34;
const SQ = 39;
const EQ = 61;
const BSL = 92;
const COMMA = 44;
const K = FIELD_KINDS;

/** Most distinct keys, record types and node names remembered (past them, new ones take the full parser). */
const MAX_KEYS = 4096;
const MAX_TYPES = 256;
const MAX_NODES = 16;
/** Longest key, type and node name the fast path remembers (longer ones take the full parser). */
const MAX_KEY_BYTES = 128;
const MAX_TYPE_BYTES = 64;
const MAX_NODE_BYTES = 255;
/** Most fields of a fast-path record (its key sequence is remembered per type). */
const MAX_FIELDS = 512;
/** Most interpretations cached (arch, syscall, mode... by value). */
const MAX_INTERPS = 8192;
/** EXECVE records with more arguments than this take the full parser. */
const MAX_ARGS = 4096;
/** Arena size: records of one decoder write() share one (a record larger than it gets its own). */
const ARENA_BYTES = 256 * 1024;

interface View {
  fields: Record<string, string>;
  interpreted: Record<string, unknown>;
}

/**
 * A record parsed by the fast path: its header, and its JSON view (`{"type","fields","interpreted"}`) as
 * UTF-8 bytes `buf[from, to)`. `fields` and `interpreted` are parsed from those bytes when first read,
 * so the record is a full AuditRecord to any reader; `avcstream parse` only copies the bytes.
 */
export class JsonRecord implements AuditRecord {
  type: string;
  node: string | null;
  sec: number;
  msec: number;
  serial: number;
  line: number;
  buf: Buffer;
  from: number;
  to: number;
  /** Set once its event was emitted. */
  emitted = false;
  /** The arena its bytes are in, while they are there (counts the records it holds). */
  arena: ArenaUse | null;
  private view: View | null = null;

  constructor(
    type: string,
    node: string | null,
    sec: number,
    msec: number,
    serial: number,
    line: number,
    buf: Buffer,
    from: number,
    to: number,
    arena: ArenaUse | null,
  ) {
    this.arena = arena;
    this.type = type;
    this.node = node;
    this.sec = sec;
    this.msec = msec;
    this.serial = serial;
    this.line = line;
    this.buf = buf;
    this.from = from;
    this.to = to;
  }

  private parsed(): View {
    this.view ??= JSON.parse(this.buf.toString('utf8', this.from, this.to)) as View;
    return this.view;
  }

  get fields(): Record<string, string> {
    return this.parsed().fields;
  }

  get interpreted(): Record<string, unknown> {
    return this.parsed().interpreted;
  }

  /**
   * The same bytes are now at buf[from, to), a region nobody writes again (a writer's output, once
   * copied there): the record reads them there, and the arena no longer holds it.
   */
  rehome(buf: Buffer, from: number, to: number): void {
    this.buf = buf;
    this.from = from;
    this.to = to;
    if (this.arena !== null) {
      this.arena.live--;
      this.arena = null;
    }
  }
}

/** How many records still read their bytes from one arena: at 0, the arena is written over again. */
export interface ArenaUse {
  live: number;
}

interface KeyEntry {
  name: string;
  bytes: Uint8Array;
  /** `"name":` as UTF-8. */
  head: Uint8Array;
  kind: number;
  /** The field dictionary marks it as encoded (hex when unquoted). */
  encoded: boolean;
  /** EXECVE: N for `aN`, -2 for `argc`, -1 otherwise. */
  arg: number;
  /** `type`, `node` (a glued record may follow) or `__proto__`: the full parser handles the line. */
  special: boolean;
  /** `msg` (a user-space record's msg='...' holds fields). */
  msg: boolean;
  /** An AVC's `scontext`, `tcontext`, `tclass` or `permissive`: CTX_* (0 for any other key). */
  ctx: number;
  /** Number of the last record that used it (a repeat within one record takes the full parser). */
  mark: number;
}

interface TypeEntry {
  id: number;
  bytes: Uint8Array;
  name: string;
  /** `{"type":"NAME","fields":{` as UTF-8. */
  head: Uint8Array;
  /** False for USER_AVC and USER_TTY, whose bodies the full parser treats apart. */
  ok: boolean;
  execve: boolean;
  /** AVC: `avc:  denied  { perms } for ` and an `avc` object. */
  avc: boolean;
  /** The key sequence of its last record: the next record's keys are predicted from it. */
  shape: KeyEntry[];
}

const encoder = new TextEncoder();
/**
 * UTF-8 bytes in an ArrayBuffer of their own. (Buffer.from would slice Node's shared 8 KiB pool: one
 * long-lived cache entry would keep a whole slab alive.)
 */
const utf8 = (s: string): Uint8Array => encoder.encode(s);
const INTERP_OPEN = utf8('},"interpreted":{');
const ARGV_OPEN = utf8('"argv":[');
const UNSET_JSON = utf8('"unset"');
const TRUE_JSON = utf8('true');
const FALSE_JSON = utf8('false');
const MSG_AUDIT = utf8('msg=audit(');
const DENIED = utf8('denied');
const GRANTED = utf8('granted');
const AVC_OPEN = utf8(',"avc":{"decision":"');
/** Fields of an AVC record read into its `avc` object (CTX_SCONTEXT = 1...). */
const CTX_KEYS = ['scontext', 'tcontext', 'tclass', 'permissive'];

/** Byte classes of a value's bytes: copied as they are (0), escaped (ESC), its end (STOP), not taken (BAD). */
const ESC = 1;
const STOP = 2;
const BAD = 3;
function byteClasses(stop: number, lowest: number): Uint8Array {
  const t = new Uint8Array(256).fill(BAD);
  for (let c = lowest; c <= 0x7e; c++) t[c] = 0;
  t[DQ] = ESC;
  t[BSL] = ESC;
  t[stop] = STOP;
  return t;
}
/** A value as written, up to a space. */
const BARE = byteClasses(SP, 0x21);
/** A quoted value, spaces included, up to the closing quote. */
const QUOTED = byteClasses(DQ, 0x20);

function isHexByte(c: number): boolean {
  return (c >= 48 && c <= 57) || (c >= 65 && c <= 70) || (c >= 97 && c <= 102);
}

function hexVal(c: number): number {
  return c <= 57 ? c - 48 : (c | 32) - 87;
}

function isKeyStart(c: number): boolean {
  return (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || c === 95;
}

function isKeyChar(c: number): boolean {
  return (
    (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || (c >= 48 && c <= 57) || c === 95 || c === 45 || c === 46
  );
}

function sameBytes(d: Buffer, at: number, b: Uint8Array): boolean {
  for (let i = 0; i < b.length; i++) if (d[at + i] !== b[i]) return false;
  return true;
}

/** `aN` -> N; `argc` -> -2; else -1. */
function argIndex(name: string): number {
  if (name === 'argc') return -2;
  if (!/^a(0|[1-9][0-9]{0,8})$/.test(name)) return -1;
  return Number(name.slice(1));
}

export interface FastRecorder {
  /**
   * The record on the line data[from, to) (no LF), or null when the line is not a plain kernel record:
   * then it must be parsed in full. Never throws.
   */
  record(data: Buffer, from: number, to: number, lineNo: number): JsonRecord | null;
  /**
   * Records made from now on go to an arena of at least `bytes` (and 256 KiB): the current one again when
   * no record reads it any more, else a new one. The decoder calls it before each write and detaches the
   * records still open after it; the NDJSON writer rehomes the records it writes to its output.
   */
  renew(bytes: number): void;
  /** Records made by the fast path so far. */
  count(): number;
}

export function createFastRecorder(): FastRecorder {
  const keys = new Map<string, KeyEntry>();
  const types: TypeEntry[] = [];
  const nodes: string[] = [];
  const nodeBytes: Uint8Array[] = [];
  let nodesNext = 0;
  let lastType: TypeEntry | null = null;
  let made = 0;
  let seq = 0;

  let A = Buffer.allocUnsafeSlow(ARENA_BYTES);
  let use: ArenaUse = { live: 0 };
  let ap = 0;
  /** Start of the record being written in A (positions saved during a record are relative to it). */
  let rs = 0;
  /** Interpreted JSON of the record being written (its fields come first, so it waits here). */
  let I = Buffer.allocUnsafeSlow(16 * 1024);
  // It starts with `},"interpreted":{`, so a record's tail is one copy.
  I.set(INTERP_OPEN, 0);
  const IBASE = INTERP_OPEN.length;
  let il = IBASE;
  const cur: KeyEntry[] = [];
  /** EXECVE: start and end of each argument's value JSON, relative to rs. */
  const argPos = new Int32Array(2 * MAX_ARGS);

  /** Room for n more bytes in A; a record outgrowing the arena moves, whole, to a new one. */
  function ensure(n: number): void {
    if (ap + n <= A.length) return;
    const partial = ap - rs;
    const next = Buffer.allocUnsafeSlow(Math.max(ARENA_BYTES, 2 * (partial + n)));
    A.copy(next, 0, rs, ap);
    A = next;
    use = { live: 0 };
    rs = 0;
    ap = partial;
  }

  function ensureI(n: number): void {
    if (il + n <= I.length) return;
    const next = Buffer.allocUnsafeSlow(Math.max(2 * I.length, il + n));
    I.copy(next, 0, 0, il);
    I = next;
  }

  function put(b: Uint8Array): void {
    A.set(b, ap);
    ap += b.length;
  }

  /** Appends `"key":<json of r>` to the interpreted JSON. */
  /** Starts an interpreted entry: `,` unless first, then `head` (`"key":`), with room for `more` bytes after. */
  function openInterpreted(head: Uint8Array, more: number): void {
    ensureI(head.length + more + 1);
    if (il > IBASE) I[il++] = COMMA;
    for (let i = 0; i < head.length; i++) I[il++] = head[i]!;
  }

  function interpretedJson(e: KeyEntry, r: unknown): void {
    const js = JSON.stringify(r);
    openInterpreted(e.head, js.length * 3);
    il += I.write(js, il);
  }

  function interpretedBytes(e: KeyEntry, v: Uint8Array): void {
    openInterpreted(e.head, v.length);
    for (let i = 0; i < v.length; i++) I[il++] = v[i]!;
  }

  function typeAt(d: Buffer, s: number, e: number): TypeEntry | null {
    const n = e - s;
    if (lastType !== null && lastType.bytes.length === n && sameBytes(d, s, lastType.bytes)) return lastType;
    for (let i = 0; i < types.length; i++) {
      const t = types[i]!;
      if (t.bytes.length === n && sameBytes(d, s, t.bytes)) {
        lastType = t;
        return t;
      }
    }
    if (types.length >= MAX_TYPES) return null;
    const bytes = Uint8Array.from(d.subarray(s, e));
    const name = resolveType(d.toString('latin1', s, e));
    const t: TypeEntry = {
      id: types.length,
      bytes,
      name,
      head: utf8(`{"type":${JSON.stringify(name)},"fields":{`),
      ok: name !== 'USER_AVC' && name !== 'USER_TTY',
      execve: name === 'EXECVE',
      avc: name === 'AVC',
      shape: [],
    };
    types.push(t);
    lastType = t;
    return t;
  }

  function nodeAt(d: Buffer, s: number, e: number): string {
    const n = e - s;
    for (let i = 0; i < nodes.length; i++) {
      const b = nodeBytes[i]!;
      if (b.length === n && sameBytes(d, s, b)) return nodes[i]!;
    }
    const name = d.toString('latin1', s, e);
    nodes[nodesNext] = name;
    nodeBytes[nodesNext] = Uint8Array.from(d.subarray(s, e));
    nodesNext = (nodesNext + 1) % MAX_NODES;
    return name;
  }

  function intern(d: Buffer, s: number, e: number): KeyEntry | null {
    const name = d.toString('latin1', s, e);
    let k = keys.get(name);
    if (k !== undefined) return k;
    if (keys.size >= MAX_KEYS) return null;
    k = {
      name,
      bytes: utf8(name),
      head: utf8(`${JSON.stringify(name)}:`),
      kind: fieldKind(name),
      encoded: isEncodedField(name),
      arg: argIndex(name),
      special: name === 'type' || name === 'node' || name === '__proto__',
      msg: name === 'msg',
      ctx: CTX_KEYS.indexOf(name) + 1,
      mark: 0,
    };
    keys.set(name, k);
    return k;
  }

  /** End of the digits `digits` read last. */
  let digitsEnd = 0;
  /** The value of the digits at d[p] (at most max + 1 of them are read, so a longer run shows). */
  function digits(d: Buffer, p: number, to: number, max: number): number {
    let v = 0;
    let q = p;
    while (q < to && q - p <= max) {
      const c = d[q]! - 48;
      if (c < 0 || c > 9) break;
      v = v * 10 + c;
      q++;
    }
    digitsEnd = q;
    return v;
  }

  /** An interpretation worked out before: for the same kind, type (and arch) and value bytes. */
  interface Interp {
    kind: number;
    type: TypeEntry;
    arch: number;
    bytes: Uint8Array;
    /** `"json"` of the interpreted value, or null when it has none. */
    json: Uint8Array | null;
    /** For `arch`: the value, and an id for the syscall entries made with it. */
    str: string;
    id: number;
  }
  const interps = new Map<number, Interp>();
  let interpIds = 0;

  /** The interpretation of a value as written (not hex-decoded) of at most 64 bytes, cached. */
  function interpOf(
    t: TypeEntry,
    e: KeyEntry,
    d: Buffer,
    vs: number,
    ve: number,
    archId: number,
    arch: string | undefined,
  ): Interp {
    const kind = e.kind;
    let h = Math.imul(kind + 1, 0x9e3779b1) ^ Math.imul(t.id + 7, 0x85ebca6b) ^ archId;
    for (let i = vs; i < ve; i++) h = Math.imul(h ^ d[i]!, 0x01000193);
    const hit = interps.get(h);
    if (
      hit !== undefined &&
      hit.kind === kind &&
      hit.type === t &&
      hit.arch === archId &&
      hit.bytes.length === ve - vs &&
      sameBytes(d, vs, hit.bytes)
    ) {
      return hit;
    }
    const v = d.toString('latin1', vs, ve);
    const r = interpretField(t.name, kind, v, arch, undefined);
    const entry: Interp = {
      kind,
      type: t,
      arch: archId,
      bytes: Uint8Array.from(d.subarray(vs, ve)),
      json: r === undefined ? null : utf8(JSON.stringify(r)),
      str: v,
      id: ++interpIds,
    };
    if (interps.size >= MAX_INTERPS) interps.clear();
    interps.set(h, entry);
    return entry;
  }

  // State of the record being scanned (fields() reads and sets it; scan() resets it).
  let mark = 0;
  /** Keys seen (the record's shape, `msg` of a nested msg='...' included). */
  let n = 0;
  /** Fields written. */
  let nf = 0;
  let miss = false;
  let arch: string | undefined;
  let archId = -1;
  let syscallFirst = false;
  let argc = -1;
  let nargs = 0;
  let rt: TypeEntry = null as unknown as TypeEntry;

  /**
   * Scans the fields of d[p, end) into the arena (`nested`: inside msg='...'); returns the position after
   * them, or -1 when the line must take the full parser.
   */
  function fields(d: Buffer, p: number, end: number, nested: boolean): number {
    const t = rt;
    const shape = t.shape;
    const execve = t.execve;
    let a = A;
    let o = ap;
    let c = 0;
    while (p < end) {
      c = d[p]!;
      if (c === SP) {
        p++;
        continue;
      }
      // Room for the whole field: key and value take at most twice their bytes as JSON.
      const need = 2 * (end - p) + 16;
      if (o + need > a.length) {
        ap = o;
        ensure(need);
        a = A;
        o = ap;
      }
      // The key is written (`,"key":`) as it is matched; kept only once its value is written.
      let w = o;
      if (nf > 0) a[w++] = COMMA;
      a[w++] = DQ;
      const ks = p;
      let e = shape[n];
      let hit = false;
      if (e !== undefined) {
        const kb = e.bytes;
        const kl = kb.length;
        if (d[p + kl] === EQ) {
          let i = 0;
          for (; i < kl; i++) {
            const b = d[p + i]!;
            if (b !== kb[i]) break;
            a[w + i] = b;
          }
          hit = i === kl;
        }
      }
      if (hit) {
        const k = e!;
        p += k.bytes.length;
        w += k.bytes.length;
        // The keys of a shape are distinct: a repeat is possible only once a key was not predicted.
        if (miss) {
          if (k.mark === mark) return -1;
          k.mark = mark;
          cur[n] = k;
        }
        n++;
      } else {
        if (!isKeyStart(c)) return -1;
        a[w++] = c;
        p++;
        while (p < end) {
          c = d[p]!;
          if (c === EQ) break;
          if (!isKeyChar(c)) return -1;
          a[w++] = c;
          p++;
        }
        if (p >= end || p - ks > MAX_KEY_BYTES) return -1;
        const k = intern(d, ks, p);
        if (k === null || k.special || n >= MAX_FIELDS) return -1;
        if (!miss) {
          // From here on the record's keys are its own: the ones so far are the shape's.
          for (let i = 0; i < n; i++) {
            const sk = shape[i]!;
            sk.mark = mark;
            cur[i] = sk;
          }
          miss = true;
        }
        if (k.mark === mark) return -1;
        k.mark = mark;
        cur[n++] = k;
        e = k;
      }
      const key = e!;
      p++; // '='
      c = p < end ? d[p]! : -1;
      if (c === SQ) {
        // msg='...' of a user-space record: its fields join the record's. It ends at the line's last quote.
        if (nested || !key.msg) return -1;
        let q = end - 1;
        while (q > p && d[q] !== SQ) q--;
        if (q <= p) return -1;
        let eq = false;
        for (let i = p + 1; i < q; i++) {
          if (d[i] === EQ) {
            eq = true;
            break;
          }
        }
        if (!eq) return -1;
        ap = o;
        if (fields(d, p + 1, q, true) < 0) return -1;
        a = A;
        o = ap;
        p = q + 1;
        continue;
      }
      a[w++] = DQ;
      a[w++] = 58; /* : */
      o = w;
      nf++;
      const vjs = o - rs;
      const quoted = c === DQ;
      const vs = quoted ? p + 1 : p;
      /** 0: as written; 1: hex decoded, all printable ASCII; 2: hex decoded to `dstr`, written by JSON.stringify. */
      let decoded = 0;
      let dstr = '';
      /** Decoded (decoded 1) with NULs. */
      let nul = false;
      a[o++] = DQ;
      if (quoted) {
        p++;
        for (;;) {
          if (p >= end) return -1;
          c = d[p]!;
          const k = QUOTED[c]!;
          if (k !== 0) {
            if (k === STOP) break;
            if (k === BAD) return -1;
            a[o++] = BSL;
          }
          a[o++] = c;
          p++;
        }
        a[o++] = DQ;
      } else if ((key.encoded && !(t.avc && key.name === 'key')) || (execve && key.arg >= 0)) {
        let hex = true;
        while (p < end) {
          c = d[p]!;
          if (c === SP) break;
          if (c < 0x21 || c > 0x7e) return -1;
          if (!isHexByte(c)) hex = false;
          p++;
        }
        const len = p - vs;
        if (hex && len > 0 && (len & 1) === 0) {
          decoded = 1;
          // A NUL (argv separator) is written \u0000: 6 bytes for 2 hex digits.
          if (o + 3 * len + 8 > a.length) {
            ap = o;
            ensure(3 * len + 8);
            a = A;
            o = ap;
          }
          for (let i = vs; i < p; i += 2) {
            const b = (hexVal(d[i]!) << 4) | hexVal(d[i + 1]!);
            if (b < 0x20 || b > 0x7e) {
              if (b === 0) {
                nul = true;
                a[o++] = BSL;
                a[o++] = 117; /* u */
                a[o++] = 48;
                a[o++] = 48;
                a[o++] = 48;
                a[o++] = 48;
                continue;
              }
              decoded = 2;
              nul = false;
              break;
            }
            if (b === DQ || b === BSL) a[o++] = BSL;
            a[o++] = b;
          }
          if (decoded === 2) {
            // Control bytes, NULs (argv) or non-ASCII: exactly as the full parser decodes and escapes them.
            dstr = decodeHex(d.toString('latin1', vs, p));
            const js = JSON.stringify(dstr);
            ap = rs + vjs;
            ensure(js.length * 3);
            a = A;
            o = ap;
            o += a.write(js, o);
          } else {
            a[o++] = DQ;
          }
        } else {
          for (let i = vs; i < p; i++) {
            const b = d[i]!;
            if (b === DQ || b === BSL) a[o++] = BSL;
            a[o++] = b;
          }
          a[o++] = DQ;
        }
      } else {
        while (p < end) {
          c = d[p]!;
          const k = BARE[c]!;
          if (k !== 0) {
            if (k === STOP) break;
            if (k === BAD) return -1;
            a[o++] = BSL;
          }
          a[o++] = c;
          p++;
        }
        a[o++] = DQ;
      }
      /** End of the value as written (before a closing quote). */
      const ve = p;
      if (quoted) p++;
      if (key.ctx !== 0 && t.avc) {
        // The AVC object reads these values (as written: none of them is hex-encoded).
        if (nested || decoded !== 0) return -1;
        ctxAt[2 * key.ctx] = vs;
        ctxAt[2 * key.ctx + 1] = ve;
      }
      // Old USER_LOGIN: msg='uid=848: ...' (the full parser drops the colon after digits).
      else if (nested && ve > vs && d[ve - 1] === 58 /* : */) return -1;

      if (execve) {
        if (nf === 1) {
          if (key.arg !== -2 || decoded !== 0) return -1;
          argc = parseCount(d, vs, ve);
        } else {
          if (key.arg !== nargs || nargs >= MAX_ARGS) return -1;
          argPos[2 * nargs] = vjs;
          argPos[2 * nargs + 1] = o - rs;
          nargs++;
        }
      }

      const kind = key.kind;
      if (kind === 0) continue;
      ap = o;
      if (decoded === 0) {
        switch (kind) {
          case K.uid:
          case K.gid:
          case K.ses:
            if (isUnsetBytes(d, vs, ve)) interpretedBytes(key, UNSET_JSON);
            continue;
          case K.success:
            if (ve - vs === 3 && d[vs] === 121 && d[vs + 1] === 101 && d[vs + 2] === 115) {
              interpretedBytes(key, TRUE_JSON);
            } else if (ve - vs === 2 && d[vs] === 110 && d[vs + 1] === 111) interpretedBytes(key, FALSE_JSON);
            continue;
          case K.exit:
            if (d[vs] !== 45 /* - */) continue;
            break;
          case K.capset:
          case K.capsetShort:
            if (ve - vs === 1 && d[vs] === 48 /* 0 */) continue;
            break;
          case K.key:
            // Several rule keys are joined by 0x01, which only a hex-decoded value can hold.
            continue;
          case K.syscall:
            if (arch === undefined) {
              // `syscall` is read with the record's `arch`: one written later is left to the full parser.
              syscallFirst = true;
              continue;
            }
            break;
          case K.arch:
            if (syscallFirst) return -1;
            break;
        }
        // (Socket addresses are mostly distinct: not cached.)
        if (
          kind !== K.proctitle &&
          kind !== K.saddr &&
          ve - vs <= 64 &&
          (kind !== K.syscall || archId >= 0)
        ) {
          const it = interpOf(t, key, d, vs, ve, kind === K.syscall ? archId : 0, arch);
          if (kind === K.arch) {
            arch = it.str;
            archId = it.id;
          }
          if (it.json !== null) interpretedBytes(key, it.json);
          continue;
        }
      } else if (kind === K.key && decoded === 1) continue;
      if (kind === K.proctitle && nul) {
        argvJson(key, d, vs, ve);
        continue;
      }
      if (kind === K.proctitle && decoded !== 2) {
        // No NUL in it: the argv is the value itself (none when empty).
        const vl = o - rs - vjs;
        openInterpreted(key.head, vl + 3);
        I[il++] = 91; /* [ */
        if (vl > 2) il += a.copy(I, il, rs + vjs, o);
        I[il++] = 93; /* ] */
        continue;
      }
      const v = valueString(d, vs, ve, decoded, dstr);
      if (kind === K.arch) {
        if (syscallFirst) return -1;
        arch = v;
        archId = -1;
      } else if (kind === K.syscall && arch === undefined) {
        syscallFirst = true;
        continue;
      }
      const r = interpretField(t.name, kind, v, arch, undefined);
      if (r !== undefined) interpretedJson(key, r);
    }
    ap = o;
    return p;
  }

  /**
   * `"key":[args]` for a hex value d[vs, ve) of printable ASCII and NULs (splitArgv: split at each NUL,
   * trailing NULs dropped), to the interpreted JSON.
   */
  function argvJson(key: KeyEntry, d: Buffer, vs: number, ve: number): void {
    let last = ve;
    while (last > vs && d[last - 2] === 48 && d[last - 1] === 48) last -= 2;
    openInterpreted(key.head, 2 * (ve - vs) + 7);
    I[il++] = 91; /* [ */
    if (last > vs) {
      I[il++] = DQ;
      for (let i = vs; i < last; i += 2) {
        const b = (hexVal(d[i]!) << 4) | hexVal(d[i + 1]!);
        if (b === 0) {
          I[il++] = DQ;
          I[il++] = COMMA;
          I[il++] = DQ;
          continue;
        }
        if (b === DQ || b === BSL) I[il++] = BSL;
        I[il++] = b;
      }
      I[il++] = DQ;
    }
    I[il++] = 93; /* ] */
  }

  /** Value ranges in the line of the AVC fields CTX_KEYS (index 2 * ctx; -1 when absent). */
  const ctxAt = new Int32Array(2 * (CTX_KEYS.length + 1));
  /** The AVC's decision (DENIED or GRANTED) and the range of its permission list (inside the braces). */
  let decision: Uint8Array = DENIED;
  let permsFrom = 0;
  let permsTo = 0;
  const seresult = intern(Buffer.from('seresult'), 0, 8)!;
  const seperms = intern(Buffer.from('seperms'), 0, 7)!;

  /**
   * `avc:  denied  { read write } for ` at d[p]: writes the fields `seresult` and `seperms` (as the full
   * parser adds them) and returns the position of the first field, or -1 for any other form.
   */
  function avcHeader(d: Buffer, p: number, to: number): number {
    if (d[p] !== 97 || d[p + 1] !== 118 || d[p + 2] !== 99 || d[p + 3] !== 58 /* avc: */) return -1;
    p += 4;
    while (p < to && d[p] === SP) p++;
    const ws = p;
    while (p < to && d[p] !== SP) p++;
    if (p - ws === 6 && sameBytes(d, ws, DENIED)) decision = DENIED;
    else if (p - ws === 7 && sameBytes(d, ws, GRANTED)) decision = GRANTED;
    else return -1;
    while (p < to && d[p] === SP) p++;
    if (d[p] !== 123 /* { */) return -1;
    permsFrom = p + 1;
    let q = permsFrom;
    for (;;) {
      if (q >= to) return -1;
      const c = d[q]!;
      if (c === 125 /* } */) break;
      if (c < 0x20 || c > 0x7e || c === DQ || c === BSL) return -1;
      q++;
    }
    permsTo = q;
    p = q + 1;
    while (p < to && d[p] === SP) p++;
    if (d[p] === 102 && d[p + 1] === 111 && d[p + 2] === 114 && (p + 3 === to || d[p + 3] === SP)) p += 3;
    // "seresult":"denied","seperms":"read,write"
    put(seresult.head);
    A[ap++] = DQ;
    put(decision);
    A[ap++] = DQ;
    A[ap++] = COMMA;
    put(seperms.head);
    A[ap++] = DQ;
    let first = true;
    for (let i = permsFrom; i < permsTo; ) {
      while (i < permsTo && d[i] === SP) i++;
      if (i >= permsTo) break;
      if (!first) A[ap++] = COMMA;
      first = false;
      while (i < permsTo && d[i] !== SP) A[ap++] = d[i++]!;
    }
    A[ap++] = DQ;
    seresult.mark = mark;
    seperms.mark = mark;
    cur[0] = seresult;
    cur[1] = seperms;
    n = 2;
    nf = 2;
    // Keys are predicted from the type's shape, which starts with these two once an AVC record made it.
    if (rt.shape[0] !== seresult || rt.shape[1] !== seperms) miss = true;
    return p;
  }

  /** Writes a context's JSON (`parseContext`) from d[s, key); false when it has no user, role or type. */
  function contextJson(d: Buffer, s: number, e: number): boolean {
    if (s < 0) return false;
    let a = -1;
    let b = -1;
    let c = -1;
    for (let i = s; i < e; i++) {
      const x = d[i]!;
      if (x === DQ || x === BSL) return false;
      if (x === 58 /* : */) {
        if (a < 0) a = i;
        else if (b < 0) b = i;
        else if (c < 0) c = i;
      }
    }
    if (a <= s || b < 0) return false;
    const te = c < 0 ? e : c;
    if (te === b + 1) return false;
    ensure(e - s + (e - s) + 64);
    putStr('{"user":"');
    copyRange(d, s, a);
    putStr('","role":"');
    copyRange(d, a + 1, b);
    putStr('","type":"');
    copyRange(d, b + 1, te);
    if (c < 0 || c === e - 1) putStr('","level":null,"raw":"');
    else {
      putStr('","level":"');
      copyRange(d, c + 1, e);
      putStr('","raw":"');
    }
    copyRange(d, s, e);
    putStr('"}');
    return true;
  }

  function putStr(s: string): void {
    for (let i = 0; i < s.length; i++) A[ap++] = s.charCodeAt(i);
  }

  function copyRange(d: Buffer, s: number, e: number): void {
    for (let i = s; i < e; i++) A[ap++] = d[i]!;
  }

  /** `,"avc":{...}` after the record's interpreted values; false when the decision is not complete. */
  function avcObject(d: Buffer): boolean {
    const cs = ctxAt[2]!;
    const ts = ctxAt[4]!;
    const ks = ctxAt[6]!;
    if (cs < 0 || ts < 0 || ks < 0) return false;
    for (let i = ks; i < ctxAt[7]!; i++) if (d[i] === DQ || d[i] === BSL) return false;
    ensure(256 + 3 * (permsTo - permsFrom));
    put(AVC_OPEN);
    put(decision);
    putStr('","perms":[');
    let first = true;
    for (let i = permsFrom; i < permsTo; ) {
      while (i < permsTo && d[i] === SP) i++;
      if (i >= permsTo) break;
      if (!first) A[ap++] = COMMA;
      first = false;
      A[ap++] = DQ;
      while (i < permsTo && d[i] !== SP) A[ap++] = d[i++]!;
      A[ap++] = DQ;
    }
    putStr('],"scontext":');
    if (!contextJson(d, cs, ctxAt[3]!)) return false;
    putStr(',"tcontext":');
    if (!contextJson(d, ts, ctxAt[5]!)) return false;
    ensure(64 + ctxAt[7]! - ks);
    putStr(',"tclass":"');
    copyRange(d, ks, ctxAt[7]!);
    const ps = ctxAt[8]!;
    const pe = ctxAt[9]!;
    putStr(
      ps >= 0 && pe - ps === 1 && d[ps] === 49 /* 1 */
        ? '","permissive":true}'
        : ps >= 0 && pe - ps === 1 && d[ps] === 48 /* 0 */
          ? '","permissive":false}'
          : '","permissive":null}',
    );
    return true;
  }

  function scan(d: Buffer, from: number, to: number, lineNo: number): JsonRecord | null {
    // Nothing of this record is written before `rs` is set: a failure rewinds to it.
    rs = ap;
    let p = from;
    let c = d[p]!;
    let node: string | null = null;
    if (c === 110 /* n */) {
      if (d[p + 1] !== 111 || d[p + 2] !== 100 || d[p + 3] !== 101 || d[p + 4] !== EQ) return null;
      p += 5;
      const ns = p;
      while (p < to) {
        c = d[p]!;
        if (c === SP) break;
        if (c < 0x21 || c > 0x7e) return null;
        p++;
      }
      if (p === ns || p - ns > MAX_NODE_BYTES) return null;
      node = nodeAt(d, ns, p);
      while (p < to && d[p] === SP) p++;
    }
    if (d[p] !== 116 || d[p + 1] !== 121 || d[p + 2] !== 112 || d[p + 3] !== 101 || d[p + 4] !== EQ) {
      return null;
    }
    p += 5;
    const ts = p;
    while (p < to) {
      c = d[p]!;
      if (c === SP) break;
      if (c < 0x21 || c > 0x7e) return null;
      p++;
    }
    if (p === ts || p - ts > MAX_TYPE_BYTES) return null;
    const t = typeAt(d, ts, p);
    if (t === null || !t.ok) return null;
    while (p < to && d[p] === SP) p++;
    if (p + 10 > to || !sameBytes(d, p, MSG_AUDIT)) return null;
    p += 10;
    const sec = digits(d, p, to, 12);
    if (digitsEnd === p || digitsEnd - p > 12 || d[digitsEnd] !== 46 /* . */) return null;
    p = digitsEnd + 1;
    const msec = digits(d, p, to, 3);
    if (digitsEnd === p || digitsEnd - p > 3 || d[digitsEnd] !== 58 /* : */) return null;
    p = digitsEnd + 1;
    const serial = digits(d, p, to, 10);
    if (digitsEnd === p || digitsEnd - p > 10 || d[digitsEnd] !== 41 /* ) */) return null;
    p = digitsEnd + 1;
    if (p < to && d[p] === 58 /* : */) p++;

    ensure(t.head.length + 2 * (to - p) + 64);
    put(t.head);
    il = IBASE;
    mark = ++seq;
    rt = t;
    n = 0;
    nf = 0;
    miss = false;
    arch = undefined;
    archId = -1;
    syscallFirst = false;
    argc = -1;
    nargs = 0;
    if (t.avc) {
      ctxAt.fill(-1);
      while (p < to && d[p] === SP) p++;
      p = avcHeader(d, p, to);
      if (p < 0) return null;
    }
    if (fields(d, p, to, false) < 0) return null;
    if (syscallFirst && arch !== undefined) return null;

    if (t.execve) {
      if (nf === 0) return null;
      const argv = argc < 0 ? 0 : Math.min(argc, nargs);
      let need = ARGV_OPEN.length + 2 + argv;
      for (let i = 0; i < argv; i++) need += argPos[2 * i + 1]! - argPos[2 * i]!;
      openInterpreted(ARGV_OPEN, need - ARGV_OPEN.length);
      for (let i = 0; i < argv; i++) {
        if (i > 0) I[il++] = COMMA;
        il += A.copy(I, il, rs + argPos[2 * i]!, rs + argPos[2 * i + 1]!);
      }
      I[il++] = 93; /* ] */
    }
    ensure(il + 3);
    ap += I.copy(A, ap, 0, il);
    A[ap++] = 125; /* } */
    if (t.avc) {
      if (!avcObject(d)) return null;
      ensure(2);
    }
    A[ap++] = 125;
    const end = ap;
    // A comma after each record: the records of an event, mostly back to back, are copied in one go.
    A[ap++] = COMMA;
    if (miss) t.shape = cur.slice(0, n);
    else if (n !== t.shape.length) t.shape = t.shape.slice(0, n);
    use.live++;
    return new JsonRecord(t.name, node, sec, msec, serial, lineNo, A, rs, end, use);
  }
  return {
    record(data, from, to, lineNo) {
      if (to - from < 16) return null;
      const r = scan(data, from, to, lineNo);
      if (r === null) {
        // Drop what was written of it (in the arena it moved to, if it moved).
        ap = rs;
        return null;
      }
      made++;
      return r;
    },
    renew(bytes) {
      const size = Math.max(ARENA_BYTES, Math.min(bytes, 64 * 1024 * 1024));
      if (use.live === 0 && A.length >= size) {
        // No record reads this arena any more (all written out or detached): write over it.
        ap = 0;
        rs = 0;
        return;
      }
      A = Buffer.allocUnsafeSlow(size);
      use = { live: 0 };
      ap = 0;
      rs = 0;
    },
    count: () => made,
  };
}

function valueString(d: Buffer, vs: number, ve: number, decoded: number, dstr: string): string {
  if (decoded === 2) return dstr;
  const s = d.toString('latin1', vs, ve);
  return decoded === 1 ? decodeHex(s) : s;
}

/** `4294967295` or `-1`: an unset id. */
function isUnsetBytes(d: Buffer, vs: number, ve: number): boolean {
  const n = ve - vs;
  if (n === 2) return d[vs] === 45 && d[vs + 1] === 49;
  if (n !== 10) return false;
  for (let i = 0; i < 10; i++) if (d[vs + i] !== UNSET_DIGITS[i]) return false;
  return true;
}
const UNSET_DIGITS = utf8('4294967295');

/** As the interpreter's parseId: a plain decimal of 1 to 10 digits, else -1. */
function parseCount(d: Buffer, vs: number, ve: number): number {
  const n = ve - vs;
  if (n === 0 || n > 10) return -1;
  let v = 0;
  for (let i = vs; i < ve; i++) {
    const c = d[i]! - 48;
    if (c < 0 || c > 9) return -1;
    v = v * 10 + c;
  }
  return v;
}
