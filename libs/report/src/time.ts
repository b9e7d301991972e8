import { ReportError } from './errors.ts';

/**
 * Reads a time bound: epoch seconds (`1700000000`, `1700000000.5`) or an ISO-8601 date/time
 * (`2023-11-14`, `2023-11-14T22:13:21Z`). Returns epoch seconds; throws AVC_ERR_REPORT_TIME otherwise.
 */
export function parseTimeBound(value: string | number): number {
  if (typeof value === 'number') {
    if (Number.isFinite(value)) return value;
  } else {
    const v = value.trim();
    if (/^\d+(\.\d+)?$/.test(v)) return Number(v);
    if (/^\d{4}-\d{2}-\d{2}([T ][\d:.]+(Z|[+-]\d{2}:?\d{2})?)?$/.test(v)) {
      const ms = Date.parse(v);
      if (Number.isFinite(ms)) return ms / 1000;
    }
  }
  throw new ReportError('AVC_ERR_REPORT_TIME', 'time bound is neither epoch seconds nor ISO-8601', {
    cause: { value: String(value).slice(0, 64) },
  });
}
