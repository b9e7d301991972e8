// Records in, events out. Pure and synchronous: time only comes from the records (event time) and from
// the `nowMs` passed to tick().
import { joinExecveRecords } from './execve.ts';
import { JsonRecord } from './fast-record.ts';
import { isHeaderOnly } from './parse-line.ts';
import { USER_ORIGIN_TYPES } from './tables/message-types.generated.ts';
import type { AuditEvent, AuditRecord } from './types.ts';

export interface ReassemblerOptions {
  /** An event closes once a record more than this much newer (event time) has been seen. Default 2000. */
  horizonMs?: number;
  /** Most events kept open at once; past it the oldest is emitted with `partial: true`. Default 4096. */
  maxInFlightEvents?: number;
  /** Most bytes of open records; past it the oldest event is emitted with `partial: true`. Default 32 MiB. */
  maxInFlightBytes?: number;
}

export interface ReassemblerStats {
  events: number;
  evicted: number;
  partial: number;
  duplicates: number;
}

export interface Reassembler {
  /**
   * Adds one record. `raw` identifies the record's text (for duplicate detection and byte accounting);
   * `offset` is the byte offset of its line (for safeOffset). Closed events are appended to `out`.
   */
  push(record: AuditRecord, out: AuditEvent[], raw?: string, offset?: number): void;
  /** Idle flush: closes events that received no record during the last `horizonMs` of wall time. */
  tick(nowMs: number, out: AuditEvent[]): void;
  /** Closes every open event (end of input). */
  flush(out: AuditEvent[]): void;
  /** Smallest line offset of any open event, or Infinity. */
  oldestOffset(): number;
  inFlight(): number;
  stats(): ReassemblerStats;
}

interface Pending {
  key: string;
  node: string | null;
  sec: number;
  msec: number;
  serial: number;
  timeMs: number;
  records: AuditRecord[];
  raws: string[];
  bytes: number;
  firstOffset: number;
  /** Caller clock at the first tick after the event last received a record (NaN: not ticked since). */
  touchedAt: number;
  partial: boolean;
  openSeq: number;
  hasSyscall: boolean;
  /** EXECVE records with fields (header-only ones are never joined); past 1 they are joined on emit. */
  execveParts: number;
}

const CLOSED_MEMORY = 512;
/**
 * Each record's time is compared with the open events only once this many more records have arrived, so a
 * record written a few lines after a later event (out-of-order writers) still joins its own event.
 */
const REORDER_WINDOW = 16;
const RECORD_OVERHEAD = 64;
/** Nodes whose highest serial is tracked (records of any further node are looked up). */
const MAX_NODES_TRACKED = 4096;

/** Formats `sec.msec` as ISO-8601 UTC with milliseconds. Out-of-range times give the epoch-0 form. */
let lastIsoSec = -1;
let lastIsoPrefix = '';
export function isoTime(sec: number, msec: number): string {
  if (sec !== lastIsoSec) {
    const ms = sec * 1000;
    if (!(ms >= -8.64e15 && ms <= 8.64e15)) return '1970-01-01T00:00:00.000Z';
    lastIsoPrefix = new Date(ms).toISOString().slice(0, -4);
    lastIsoSec = sec;
  }
  const m = msec < 10 ? `00${msec}` : msec < 100 ? `0${msec}` : `${msec}`;
  return `${lastIsoPrefix}${m}Z`;
}

function keyOf(r: AuditRecord, timeMs: number): string {
  return r.node === null ? `${timeMs}:${r.serial}` : `${r.node}\u0000${timeMs}:${r.serial}`;
}

export function createReassembler(opts: ReassemblerOptions = {}): Reassembler {
  const horizonMs = opts.horizonMs ?? 2000;
  const maxEvents = Math.max(1, opts.maxInFlightEvents ?? 4096);
  const maxBytes = Math.max(1, opts.maxInFlightBytes ?? 32 * 1024 * 1024);

  const pending = new Map<string, Pending>();
  /** Recently closed keys -> raw texts of their records; `standalone` marks user-space singles. */
  const closed = new Map<string, { raws: string[]; standalone: boolean }>();
  /** Times of the last REORDER_WINDOW records, by sequence number modulo the window. */
  const recentTimes = new Float64Array(REORDER_WINDOW);
  let seq = 0;
  let bytes = 0;
  let minTimeLowerBound = Infinity;
  let last: Pending | null = null;
  /**
   * Highest serial seen per node: a record above it has a key no table holds, so the lookups are skipped
   * (most records start a new event). Serials wrap: below the highest, the tables are looked up.
   */
  const maxSerial = new Map<string | null, { max: number }>();
  let maxNode: string | null | undefined;
  let maxHolder: { max: number } | null = null;
  const st: ReassemblerStats = { events: 0, evicted: 0, partial: 0, duplicates: 0 };

  /** Ring of the last CLOSED_MEMORY entries of `closed`, oldest overwritten first. */
  const ring: Array<{ key: string; raws: string[]; standalone: boolean } | undefined> = new Array(
    CLOSED_MEMORY,
  );
  let ringPos = 0;

  /**
   * Keys of the last `maxEvents` evicted events (key -> eviction number; the ring holds the keys in
   * eviction order), so that records arriving after an eviction are flagged partial even once the key
   * has left `closed`. Allocated at the first eviction.
   */
  const evictedKeys = new Map<string, number>();
  let evictedRing: string[] | null = null;
  let evictions = 0;

  function rememberEvicted(key: string): void {
    if (evictedRing === null) evictedRing = new Array<string>(maxEvents);
    const pos = evictions % maxEvents;
    const old = evictedRing[pos];
    // An older entry of a key evicted again later stays until that later entry is overwritten.
    if (old !== undefined && evictedKeys.get(old) === evictions - maxEvents) evictedKeys.delete(old);
    evictedRing[pos] = key;
    evictedKeys.set(key, evictions);
    evictions++;
  }

  function remember(key: string, raws: string[], standalone: boolean): void {
    const old = ring[ringPos];
    if (old !== undefined && closed.get(old.key) === old) closed.delete(old.key);
    const entry = { key, raws, standalone };
    ring[ringPos] = entry;
    ringPos = ringPos + 1 === CLOSED_MEMORY ? 0 : ringPos + 1;
    closed.set(key, entry);
  }

  function emit(p: Pending, out: AuditEvent[], partial: boolean): void {
    out.push({
      node: p.node,
      time: isoTime(p.sec, p.msec),
      epoch: p.timeMs / 1000,
      serial: p.serial,
      records: p.execveParts > 1 ? joinExecveRecords(p.records) : p.records,
      partial,
    });
    st.events++;
    if (partial) st.partial++;
  }

  function close(p: Pending, out: AuditEvent[], partial: boolean): void {
    pending.delete(p.key);
    bytes -= p.bytes;
    if (last === p) last = null;
    remember(p.key, p.raws, false);
    emit(p, out, partial || p.partial);
  }

  /**
   * The horizon: the record that arrived REORDER_WINDOW records ago closes every event opened before it
   * whose time is more than `horizonMs` older than that record's time.
   */
  function expire(out: AuditEvent[], lagTime: number, lagSeq: number): void {
    if (lagSeq < 1) return;
    const limit = lagTime - horizonMs;
    if (!(limit > minTimeLowerBound)) return;
    let min = Infinity;
    for (const p of pending.values()) {
      if (p.timeMs < limit && p.openSeq <= lagSeq) close(p, out, false);
      else if (p.timeMs < min) min = p.timeMs;
    }
    minTimeLowerBound = min;
  }

  function evict(out: AuditEvent[]): void {
    while (pending.size > maxEvents || (bytes > maxBytes && pending.size > 0)) {
      const oldest = pending.values().next().value;
      if (oldest === undefined) break;
      st.evicted++;
      rememberEvicted(oldest.key);
      close(oldest, out, true);
    }
  }

  function push(rec: AuditRecord, out: AuditEvent[], raw?: string, offset = 0): void {
    const text = raw ?? '';
    const size = text.length + RECORD_OVERHEAD;
    const timeMs = rec.sec * 1000 + rec.msec;
    const type = rec.type;
    const n = ++seq;
    const slot = n % REORDER_WINDOW;
    const lagTime = recentTimes[slot]!;
    const lagSeq = n - REORDER_WINDOW;
    recentTimes[slot] = timeMs;

    let p: Pending | undefined;
    if (
      last !== null &&
      last.serial === rec.serial &&
      last.msec === rec.msec &&
      last.sec === rec.sec &&
      last.node === rec.node
    ) {
      p = last;
    }
    let key = '';
    /** No record with this node and serial came before: its key is in none of the tables. */
    let fresh = false;
    if (p === undefined) {
      key = keyOf(rec, timeMs);
      const node = rec.node;
      if (node !== maxNode || maxHolder === null) {
        maxNode = node;
        maxHolder = maxSerial.get(node) ?? null;
        if (maxHolder === null && maxSerial.size < MAX_NODES_TRACKED) {
          maxHolder = { max: -1 };
          maxSerial.set(node, maxHolder);
        }
      }
      if (maxHolder !== null && rec.serial > maxHolder.max) {
        fresh = true;
        maxHolder.max = rec.serial;
      }
      p = fresh ? undefined : pending.get(key);
    }

    if (p === undefined && USER_ORIGIN_TYPES.has(type)) {
      // A user-space message is a whole event by itself.
      const seen = fresh ? undefined : closed.get(key);
      if (seen !== undefined && raw !== undefined && seen.raws.includes(raw)) {
        st.duplicates++;
        return;
      }
      const single: Pending = {
        key,
        node: rec.node,
        sec: rec.sec,
        msec: rec.msec,
        serial: rec.serial,
        timeMs,
        records: [rec],
        raws: [text],
        bytes: 0,
        firstOffset: offset,
        touchedAt: Number.NaN,
        partial: false,
        openSeq: n,
        hasSyscall: false,
        execveParts: 0,
      };
      if (seen !== undefined) seen.raws.push(text);
      else remember(key, single.raws, true);
      emit(single, out, false);
      expire(out, lagTime, lagSeq);
      return;
    }

    if (p !== undefined) {
      // Identical records of one open event are all kept: the kernel writes them (one AVC_PATH per AVC
      // sharing a path, a repeated AVC). Only records of closed events are checked for re-delivery.
      if (type === 'EOE') {
        close(p, out, false);
        expire(out, lagTime, lagSeq);
        return;
      }
      p.records.push(rec);
      p.raws.push(text);
      p.bytes += size;
      bytes += size;
      p.touchedAt = Number.NaN;
    } else {
      const seen = fresh ? undefined : closed.get(key);
      let late = false;
      if (seen !== undefined) {
        if (raw !== undefined && seen.raws.includes(raw)) {
          st.duplicates++;
          return;
        }
        // EOE of an event already closed (by PROCTITLE or the horizon) carries nothing.
        if (type === 'EOE') return;
        // A kernel record sharing the stamp of a user-space message (sent from inside a syscall) starts
        // its own event; any other record of a closed event is late.
        late = !seen.standalone;
      } else if (!fresh && evictedKeys.size !== 0 && evictedKeys.has(key)) {
        // A record of an event evicted earlier (no longer in `closed`): a fragment.
        if (type === 'EOE') return;
        late = true;
      } else if (type === 'EOE') {
        return;
      }
      p = {
        key,
        node: rec.node,
        sec: rec.sec,
        msec: rec.msec,
        serial: rec.serial,
        timeMs,
        records: [rec],
        raws: [text],
        bytes: size,
        firstOffset: offset,
        touchedAt: Number.NaN,
        partial: late,
        openSeq: n,
        hasSyscall: false,
        execveParts: 0,
      };
      pending.set(key, p);
      bytes += size;
      if (timeMs < minTimeLowerBound) minTimeLowerBound = timeMs;
    }
    last = p;
    if (type === 'EXECVE') {
      // (A JsonRecord has its fields, parsed only when read: not a header-only record.)
      if (rec instanceof JsonRecord || !isHeaderOnly(rec)) p.execveParts++;
    } else if (type === 'SYSCALL') p.hasSyscall = true;
    // PROCTITLE is the last record of a syscall event (EOE, when written, follows it).
    else if (type === 'PROCTITLE' && p.hasSyscall) close(p, out, false);
    expire(out, lagTime, lagSeq);
    evict(out);
  }

  function tick(nowMs: number, out: AuditEvent[]): void {
    for (const p of pending.values()) {
      if (Number.isNaN(p.touchedAt)) p.touchedAt = nowMs;
      else if (nowMs - p.touchedAt >= horizonMs) close(p, out, false);
    }
  }

  function flush(out: AuditEvent[]): void {
    for (const p of pending.values()) close(p, out, false);
    minTimeLowerBound = Infinity;
  }

  return {
    push,
    tick,
    flush,
    oldestOffset() {
      const first = pending.values().next().value;
      return first === undefined ? Number.POSITIVE_INFINITY : first.firstOffset;
    },
    inFlight: () => pending.size,
    stats: () => ({ ...st }),
  };
}
