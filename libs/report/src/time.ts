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

/**
 * Reads a time bound: epoch seconds (`1700000000`, `1700000000.5`) or an ISO-8601 date/time
 * (`2023-11-14`, `2023-11-14T22:13:21`, `2023-11-14T22:13:21.5+02:00`). A date or time without an offset is
 * UTC, as every time the report prints (so a time copied from a report selects the same instant on any host,
 * whatever its local zone). Returns epoch seconds; throws AVC_ERR_REPORT_TIME otherwise.
 */
export function parseTimeBound(value: string | number): number {
  if (typeof value === 'number') {
    if (Number.isFinite(value)) return value;
  } else {
    const v = value.trim();
    if (/^\d+(\.\d+)?$/.test(v)) return Number(v);
    const s = isoSeconds(v);
    if (s !== null && Number.isFinite(s)) return s;
  }
  throw new ReportError('AVC_ERR_REPORT_TIME', 'time bound is neither epoch seconds nor ISO-8601', {
    cause: { value: String(value).slice(0, 64) },
  });
}
