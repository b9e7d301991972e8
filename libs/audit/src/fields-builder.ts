// Builds a record's `fields` object from the keys and values the scanner collected.
//
// Objects grown key by key with dynamic names turn into slow dictionary-mode objects in V8 past a dozen
// properties, which makes every later read, `for...in` and JSON.stringify slow. Audit records of one
// kind almost always carry the same keys in the same order, so each key sequence seen often enough gets a
// small compiled factory returning an object literal: a fast object with a shared hidden class. Rare or
// odd sequences (repeated keys, too many keys, a full cache) take the plain path.

import { fieldKind } from './interpret/index.ts';
import { ENCODED_FIELDS } from './tables/fields.generated.ts';

const MAX_SHAPES = 2048;
const MAX_SHAPE_KEYS = 96;
/** A key sequence is compiled once it has been seen this many times. */
const COMPILE_AFTER = 3;

type Factory = (v: string[]) => Record<string, string>;

interface Shape {
  keys: string[];
  hits: number;
  factory: Factory | null;
  /** The sequence repeats a key: always built by the plain path. */
  plain: boolean;
  /** Per key: the field dictionary marks it as encoded (hex when unquoted). */
  encoded: boolean[];
  /**
   * Per key: its interpretation kind (`fieldKind`), in the order `for...in` visits the built object; null
   * when a key is an array index (those are visited first, out of sequence).
   */
  kinds: Uint8Array | null;
}

const shapes = new Map<number, Shape>();

/** Last shape built for each record type: the scanner predicts the next record's keys from it. */
const byType = new Map<string, Shape>();

const KEYS: string[] = [];
const VALS: string[] = [];
let count = 0;
let pred: Shape | null = null;
let predKeys: string[] = [];
let predEncoded: boolean[] = [];
let predOk = false;
let curType = '';
/** Kinds of the object buildFields returned last (null: built by the plain path). */
let lastKinds: Uint8Array | null = null;

/** Interpretation kinds of the keys of the object buildFields just returned, or null. */
export function builtKinds(): Uint8Array | null {
  return lastKinds;
}

/** True for an array-index key, which `for...in` visits before every other key. */
function isIndexKey(k: string): boolean {
  return /^(?:0|[1-9]\d{0,9})$/.test(k) && Number(k) < 4294967295;
}

function kindsOf(keys: string[]): Uint8Array | null {
  if (keys.some(isIndexKey)) return null;
  return Uint8Array.from(keys, fieldKind);
}

export function resetFields(type: string): void {
  count = 0;
  curType = type;
  pred = byType.get(type) ?? null;
  predOk = pred !== null;
  predKeys = pred === null ? [] : pred.keys;
  predEncoded = pred === null ? [] : pred.encoded;
}

/** Fields whose unquoted all-hex values are decoded (`saddr` stays hex: it is a binary struct). */
export function isEncodedField(key: string): boolean {
  return key !== 'saddr' && ENCODED_FIELDS.has(key);
}

/**
 * Whether an unquoted value of `key` in a `type` record is hex-encoded text, given what the field dictionary
 * says of the key (`dictionary`), adjusted per record type as auparse does: an AVC's `key=` is the IPC key,
 * a decimal (security/lsm_audit.c), not the rule key; USER_TTY carries its keystrokes in `msg=`.
 */
export function isEncodedIn(type: string, key: string, dictionary: boolean): boolean {
  if (type === 'AVC') return dictionary && key !== 'key';
  if (type === 'USER_TTY') return dictionary || key === 'msg';
  return dictionary;
}

/** Whether the key predictKeyAt just returned is an encoded field (call before addField). */
export function predictedEncoded(): boolean {
  return predEncoded[count] === true;
}

/** The key the current shape predicts next when the text at `pos` is that key followed by '='; else null. */
export function predictKeyAt(line: string, pos: number): string | null {
  if (!predOk) return null;
  const k = predKeys[count];
  if (k === undefined) return null;
  const n = k.length;
  if (line.charCodeAt(pos + n) !== 61) return null;
  for (let i = 0; i < n; i++) if (line.charCodeAt(pos + i) !== k.charCodeAt(i)) return null;
  return k;
}

/**
 * The key the current shape predicts at this position when the text at [start, end) spells it, so the
 * scanner need not slice a new string; else null.
 */
export function predictedKey(line: string, start: number, end: number): string | null {
  if (!predOk) return null;
  const k = predKeys[count];
  if (k === undefined || k.length !== end - start || !line.startsWith(k, start)) return null;
  return k;
}

export function fieldCount(): number {
  return count;
}

export function addField(key: string, value: string): void {
  if (predOk && predKeys[count] !== key) predOk = false;
  KEYS[count] = key;
  VALS[count] = value;
  count++;
}

/** Sets a value collected earlier (EXECVE pieces are joined at the end). */
export function setValueAt(i: number, value: string): void {
  VALS[i] = value;
}

export function valueAt(i: number): string {
  return VALS[i] ?? '';
}

/** Index of `key` among the collected keys, or -1. */
export function indexOfKey(key: string): number {
  for (let i = 0; i < count; i++) if (KEYS[i] === key) return i;
  return -1;
}

function putPlain(fields: Record<string, string>, key: string, value: string): void {
  const prev = fields[key];
  if (typeof prev !== 'string') {
    if (key === '__proto__') {
      Object.defineProperty(fields, key, { value, enumerable: true, writable: true, configurable: true });
    } else {
      fields[key] = value;
    }
    return;
  }
  // A repeated key keeps the first value (the kernel-attested one in USER_* records); later ones are kept
  // as key#2, key#3, ... so nothing is lost.
  for (let i = 2; i < 10000; i++) {
    const k = `${key}#${i}`;
    if (typeof fields[k] !== 'string') {
      fields[k] = value;
      return;
    }
  }
}

function buildPlain(): Record<string, string> {
  lastKinds = null;
  const fields: Record<string, string> = {};
  for (let i = 0; i < count; i++) putPlain(fields, KEYS[i]!, VALS[i]!);
  return fields;
}

function compile(keys: string[]): Factory {
  let body = 'return {';
  for (let i = 0; i < keys.length; i++) {
    const k = keys[i]!;
    // A computed key defines an own property even for "__proto__".
    body += (k === '__proto__' ? '["__proto__"]' : JSON.stringify(k)) + ':v[' + i + '],';
  }
  body += '};';
  return new Function('v', body) as Factory;
}

function hashKeys(n: number): number {
  let hash = n;
  for (let j = 0; j < n; j++) {
    const key = KEYS[j]!;
    let h = hash ^ key.length;
    for (let i = 0; i < key.length; i++) h = Math.imul(h ^ key.charCodeAt(i), 0x01000193);
    hash = Math.imul(h, 0x9e3779b1) ^ (h >>> 15);
  }
  return hash >>> 0;
}

/** The collected keys and values as a `fields` object (first value wins for a repeated key). */
export function buildFields(): Record<string, string> {
  const n = count;
  if (n === 0) {
    lastKinds = null;
    return {};
  }
  if (predOk && n === predKeys.length && pred!.factory !== null) {
    lastKinds = pred!.kinds;
    return pred!.factory(VALS);
  }
  if (n > MAX_SHAPE_KEYS) return buildPlain();
  const h = hashKeys(n);
  const shape = shapes.get(h);
  if (shape !== undefined) {
    const keys = shape.keys;
    if (keys.length === n) {
      let same = true;
      for (let i = 0; i < n; i++) {
        if (keys[i] !== KEYS[i]) {
          same = false;
          break;
        }
      }
      if (same) {
        if (shape.factory !== null) {
          byType.set(curType, shape);
          lastKinds = shape.kinds;
          return shape.factory(VALS);
        }
        if (!shape.plain && ++shape.hits >= COMPILE_AFTER) shape.factory = compile(keys);
      }
    }
    return buildPlain();
  }
  if (shapes.size < MAX_SHAPES) {
    const keys = KEYS.slice(0, n);
    const plain = new Set(keys).size !== n;
    shapes.set(h, {
      keys,
      hits: 1,
      factory: null,
      plain,
      encoded: keys.map(isEncodedField),
      kinds: kindsOf(keys),
    });
  }
  return buildPlain();
}
