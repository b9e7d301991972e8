import { describe, expect, it } from 'vitest';
import { AvcError } from './errors.ts';
import { createQueue } from './queue.ts';

describe('createQueue', () => {
  it('blocks push when full and releases in order when consumed', async () => {
    const q = createQueue<number>({ capacity: 2 });
    await q.push(1);
    await q.push(2);
    let thirdDone = false;
    const third = q.push(3).then(() => {
      thirdDone = true;
    });
    await Promise.resolve();
    expect(thirdDone).toBe(false);
    expect(q.tryPush(4)).toBe(false);
    expect(await q.shift()).toBe(1);
    await third;
    expect(thirdDone).toBe(true);
    expect([q.tryShift(), q.tryShift(), q.tryShift()]).toEqual([2, 3, undefined]);
  });

  it('weights items (byte bound) and admits one oversized item when empty', async () => {
    const q = createQueue<string>({ capacity: 10, weight: (s) => s.length });
    expect(q.tryPush('x'.repeat(25))).toBe(true);
    expect(q.weight).toBe(25);
    expect(q.tryPush('y')).toBe(false);
    q.tryShift();
    expect(q.tryPush('abcdef')).toBe(true);
    expect(q.tryPush('abcd')).toBe(true);
    expect(q.tryPush('z')).toBe(false);
    expect(q.weight).toBe(10);
  });

  it('shift waits for an item, and async iteration ends after close and drain', async () => {
    const q = createQueue<number>({ capacity: 4 });
    const got: number[] = [];
    const consumer = (async () => {
      for await (const v of q) got.push(v);
    })();
    await q.push(1);
    await q.push(2);
    q.close();
    await consumer;
    expect(got).toEqual([1, 2]);
  });

  it('rejects pushes after close, including waiting ones', async () => {
    const q = createQueue<number>({ capacity: 1 });
    await q.push(1);
    const waiting = q.push(2);
    q.close();
    await expect(waiting).rejects.toBeInstanceOf(AvcError);
    await expect(q.push(3)).rejects.toMatchObject({ code: 'AVC_ERR_PIPELINE_QUEUE_CLOSED' });
    expect(await q.shift()).toBe(1);
    expect(await q.shift()).toBeUndefined();
  });

  it('drained() resolves when the queue empties', async () => {
    const q = createQueue<number>({ capacity: 3 });
    await q.push(1);
    let drained = false;
    const d = q.drained().then(() => {
      drained = true;
    });
    await Promise.resolve();
    expect(drained).toBe(false);
    await q.shift();
    await d;
    expect(drained).toBe(true);
  });

  it('keeps FIFO order across many items', async () => {
    const q = createQueue<number>({ capacity: 3 });
    const producer = (async () => {
      for (let i = 0; i < 5000; i++) await q.push(i);
      q.close();
    })();
    const got: number[] = [];
    for await (const v of q) got.push(v);
    await producer;
    expect(got).toEqual(Array.from({ length: 5000 }, (_, i) => i));
  });
});
