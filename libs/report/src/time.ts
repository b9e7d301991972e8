import { ReportError } from './errors.ts';

/** YYYY-MM-DD, optionally `T` or a space, hh:mm, optional :ss and fraction, optional Z or ±hh[:]mm. */
const ISO =
  /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?(Z|[+-]\d{2}:?\d{2})?)?$/i;

/** Epoch seconds of an ISO-8601 date/time; a value without an offset is UTC. Null when invalid. */
function isoSeconds(v: string): number | null {
  const m = ISO.exec(v);
  if (m === null) return null;
  const n = (x: string | undefined) => (x === undefined ? 0 : Number(x));
  const [y, mo, d, h, mi, sec] = [n(m[1]), n(m[2]), n(m[3]), n(m[4]), n(m[5]), n(m[6])];
  if (mo < 1 || mo > 12 || d < 1 || h > 23 || mi > 59 || sec > 59) return null;
  const ms = Date.UTC(y, mo - 1, d, h, mi, sec);
  // Date.UTC rolls 2025-02-30 over into March: reject days the month does not have.
  if (new Date(ms).getUTCDate() !== d) return null;
  let offsetMin = 0;
  const off = m[8];
  if (off !== undefined && off.toUpperCase() !== 'Z') {
    const digits = off.slice(1).replace(':', '');
    const oh = Number(digits.slice(0, 2));
    const om = Number(digits.slice(2));
    if (oh > 23 || om > 59) return null;
    offsetMin = (off[0] === '-' ? -1 : 1) * (oh * 60 + om);
  }
  const frac = m[7] === undefined ? 0 : Number(`0.${m[7]}`);
  return ms / 1000 + frac - offsetMin * 60;
}

/** How `parseTimeBound` reads ausearch's keywords. */
export interface TimeBoundOptions {
  /** The clock (epoch milliseconds or a Date): keywords are refused without it (a views file has none). */
  now?: number | Date;
  /** `until` reads `today` as now, as `ausearch --end today` does; `since` (default) as local midnight. */
  bound?: 'since' | 'until';
}

/** The keywords of `ausearch --start/--end` that we read (not `boot` or `checkpoint`). */
export const TIME_KEYWORDS = [
  'now',
  'recent',
  'this-hour',
  'today',
  'yesterday',
  'this-week',
  'week-ago',
  'this-month',
  'this-year',
] as const;

const DAY_MS = 86_400_000;

/** Local midnight (00:00:00) of the local date at `ms`, in epoch milliseconds. */
function localMidnight(ms: number): number {
  const d = new Date(ms);
  return new Date(d.getFullYear(), d.getMonth(), d.getDate()).getTime();
}

/**
 * Epoch seconds of an ausearch keyword at `nowMs`, in the local time zone, as ausearch-time.c computes it:
 * `now` (whole seconds), `recent` 10 minutes ago, `this-hour` the start of the local hour, `today` and
 * `yesterday` local midnight of today / of the date 24 h ago, `this-week` local midnight of the last Sunday
 * (tm_wday 0), `week-ago` local midnight of the date 7 × 24 h ago, `this-month` / `this-year` local midnight
 * of the 1st of the month / of January 1st. As an upper bound, `today` is now (`ausearch --end today`).
 * Null for another word.
 */
function keywordSeconds(word: string, nowMs: number, bound: 'since' | 'until'): number | null {
  const now = Math.floor(nowMs / 1000) * 1000;
  const d = new Date(now);
  let ms: number;
  switch (word) {
    case 'now':
      ms = now;
      break;
    case 'recent':
      ms = now - 10 * 60_000;
      break;
    case 'this-hour':
      ms = new Date(d.getFullYear(), d.getMonth(), d.getDate(), d.getHours()).getTime();
      break;
    case 'today':
      ms = bound === 'until' ? now : localMidnight(now);
      break;
    case 'yesterday':
      ms = localMidnight(now - DAY_MS);
      break;
    case 'this-week':
      ms = localMidnight(now - d.getDay() * DAY_MS);
      break;
    case 'week-ago':
      ms = localMidnight(now - 7 * DAY_MS);
      break;
    case 'this-month':
      ms = new Date(d.getFullYear(), d.getMonth(), 1).getTime();
      break;
    case 'this-year':
      ms = new Date(d.getFullYear(), 0, 1).getTime();
      break;
    default:
      return null;
  }
  return ms / 1000;
}

/**
 * Reads a time bound: epoch seconds (`1700000000`, `1700000000.5`) or an ISO-8601 date/time
 * (`2023-11-14`, `2023-11-14T22:13:21`, `2023-11-14T22:13:21.5+02:00`). A date or time without an offset is
 * UTC, as every time the report prints (so a time copied from a report selects the same instant on any host,
 * whatever its local zone). With a clock (`options.now`), also ausearch's keywords (`TIME_KEYWORDS`: now,
 * recent, this-hour, today, yesterday, this-week, week-ago, this-month, this-year), in local time as ausearch
 * reads them. Returns epoch seconds; throws AVC_ERR_REPORT_TIME otherwise.
 */
export function parseTimeBound(value: string | number, options: TimeBoundOptions = {}): number {
  if (typeof value === 'number') {
    if (Number.isFinite(value)) return value;
  } else {
    const v = value.trim();
    if (/^\d+(\.\d+)?$/.test(v)) return Number(v);
    const s = isoSeconds(v);
    if (s !== null && Number.isFinite(s)) return s;
    if (options.now !== undefined && /^[a-z-]{3,10}$/.test(v)) {
      const nowMs = typeof options.now === 'number' ? options.now : options.now.getTime();
      const k = Number.isFinite(nowMs) ? keywordSeconds(v, nowMs, options.bound ?? 'since') : null;
      if (k !== null && Number.isFinite(k)) return k;
    }
  }
  throw new ReportError(
    'AVC_ERR_REPORT_TIME',
    options.now === undefined
      ? 'time bound is neither epoch seconds nor ISO-8601'
      : `time bound is neither epoch seconds, ISO-8601 nor one of ${TIME_KEYWORDS.join(', ')}`,
    { cause: { value: String(value).slice(0, 64) } },
  );
}
