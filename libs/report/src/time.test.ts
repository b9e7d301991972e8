import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { parseTimeBound } from './time.ts';

const utc = (...a: [number, number, number, number?, number?, number?, number?]) =>
  Date.UTC(a[0], a[1] - 1, a[2], a[3] ?? 0, a[4] ?? 0, a[5] ?? 0, a[6] ?? 0) / 1000;

describe('parseTimeBound', () => {
  it('reads epoch seconds', () => {
    expect(parseTimeBound('1700000000')).toBe(1_700_000_000);
    expect(parseTimeBound('1700000000.5')).toBe(1_700_000_000.5);
    expect(parseTimeBound(1_700_000_000)).toBe(1_700_000_000);
  });

  it('reads a date or a time without an offset as UTC, as the report prints its times', () => {
    expect(parseTimeBound('2025-11-22')).toBe(utc(2025, 11, 22));
    expect(parseTimeBound('2025-11-22T00:00')).toBe(utc(2025, 11, 22));
    expect(parseTimeBound('2025-11-22T09:05:00')).toBe(utc(2025, 11, 22, 9, 5));
    expect(parseTimeBound('2025-11-22 09:05:07')).toBe(utc(2025, 11, 22, 9, 5, 7));
    expect(parseTimeBound('2025-11-22T09:05:07.25')).toBe(utc(2025, 11, 22, 9, 5, 7, 250));
    // a time copied from the report, without its Z, selects the same instant
    expect(parseTimeBound('2025-11-22T09:05:07.250')).toBe(parseTimeBound('2025-11-22T09:05:07.250Z'));
  });

  it('applies an explicit offset', () => {
    expect(parseTimeBound('2025-11-22T09:05:00Z')).toBe(utc(2025, 11, 22, 9, 5));
    expect(parseTimeBound('2025-11-22T09:05:00+02:00')).toBe(utc(2025, 11, 22, 7, 5));
    expect(parseTimeBound('2025-11-22T09:05:00-0530')).toBe(utc(2025, 11, 22, 14, 35));
  });

  it('rejects what is not a valid date or time', () => {
    for (const bad of [
      'yesterday',
      '2025-13-01',
      '2025-02-30',
      '2025-11-22T25:00',
      '2025-11-22T09',
      '2025-11-22T09:60',
    ]) {
      expect(() => parseTimeBound(bad), bad).toThrow(
        expect.objectContaining({ code: 'AVC_ERR_REPORT_TIME' }),
      );
    }
  });

  it('gives the same instant whatever the local time zone (child processes with TZ set)', () => {
    const src = new URL('./time.ts', import.meta.url).href;
    const script = `import(${JSON.stringify(src)}).then((m) => console.log(JSON.stringify(['2025-11-22T09:05:00', '2025-11-22', '2025-11-22T00:00'].map(m.parseTimeBound))))`;
    for (const tz of ['America/New_York', 'Asia/Kolkata', 'UTC']) {
      const out = execFileSync(process.execPath, ['--input-type=module', '-e', script], {
        env: { ...process.env, TZ: tz },
        encoding: 'utf8',
      });
      expect(JSON.parse(out), tz).toEqual([utc(2025, 11, 22, 9, 5), utc(2025, 11, 22), utc(2025, 11, 22)]);
    }
  });
});
