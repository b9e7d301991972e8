import { errors } from '@elastic/elasticsearch';
import { describe, expect, it } from 'vitest';
import { isRetriableEsError, stableId } from './client.ts';

const responseError = (statusCode: number) =>
  new errors.ResponseError({ body: {}, statusCode, headers: {}, warnings: null, meta: {} as never });

describe('stableId', () => {
  it('is deterministic, bounded and separates parts unambiguously', () => {
    const a = stableId(['host', 1700000000.123, 42, 0]);
    expect(a).toBe(stableId(['host', 1700000000.123, 42, 0]));
    expect(a).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(stableId(['ab', 'c'])).not.toBe(stableId(['a', 'bc']));
    expect(stableId(['x'.repeat(10000)])).toHaveLength(43);
  });
});

describe('isRetriableEsError', () => {
  it('retries 429 and 5xx, not other 4xx', () => {
    expect(isRetriableEsError(responseError(429))).toBe(true);
    expect(isRetriableEsError(responseError(503))).toBe(true);
    expect(isRetriableEsError(responseError(400))).toBe(false);
    expect(isRetriableEsError(responseError(409))).toBe(false);
  });
  it('retries transport failures, not programmer errors', () => {
    expect(isRetriableEsError(new errors.ConnectionError('refused'))).toBe(true);
    expect(isRetriableEsError(new errors.TimeoutError('slow'))).toBe(true);
    expect(isRetriableEsError(new TypeError('bug'))).toBe(false);
  });
});
