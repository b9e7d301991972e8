import { describe, expect, it } from 'vitest';
import { createAckTracker } from './ack-tracker.ts';

describe('createAckTracker', () => {
  it('advances only over the contiguous acked prefix', () => {
    const t = createAckTracker<number | null>();
    const a = t.begin(10, 100);
    const b = t.begin(null, 50);
    const c = t.begin(30, 70);
    expect(t.unackedBytes).toBe(220);
    expect(t.ack(c)).toBeNull();
    expect(t.ack(b)).toBeNull();
    expect(t.ack(a)).toBe(30);
    expect(t.unackedBytes).toBe(0);
    expect(t.pending).toBe(0);
  });
  it('a null-position prefix gives no position; double acks are ignored', () => {
    const t = createAckTracker<number | null>();
    const a = t.begin(null, 1);
    expect(t.ack(a)).toBeNull();
    expect(t.ack(a)).toBeNull();
    const b = t.begin(5, 1);
    expect(t.ack(b)).toBe(5);
  });
});
