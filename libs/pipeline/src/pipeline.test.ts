import { describe, expect, it } from 'vitest';
import { AvcError, isAvcError, isRetriable } from './errors.ts';
import { createLifecycle } from './lifecycle.ts';
import { createMemorySink, createMemorySource } from './memory.ts';
import { createBoundedSink } from './ports.ts';
import { backoffDelayMs, retry } from './retry.ts';

describe('AvcError', () => {
  it('carries a stable code, retriable flag and cause', () => {
    const cause = new Error('boom');
    const e = new AvcError('AVC_ERR_KAFKA_SEND', 'send failed', { retriable: true, cause });
    expect(e.code).toBe('AVC_ERR_KAFKA_SEND');
    expect(e.retriable).toBe(true);
    expect(e.cause).toBe(cause);
    expect(e.name).toBe('AvcError');
    expect(isAvcError(e)).toBe(true);
    expect(isRetriable(e)).toBe(true);
    expect(isRetriable(new Error('x'))).toBe(false);
  });
  it('rejects codes not of the AVC_ERR_<AREA>_<WHAT> form', () => {
    expect(() => new AvcError('BAD', 'x')).toThrow(TypeError);
    expect(() => new AvcError('AVC_ERR_KAFKA', 'x')).toThrow(TypeError);
  });
  it('subclasses keep their name', () => {
    class MyError extends AvcError {}
    expect(new MyError('AVC_ERR_X_Y', 'm').name).toBe('MyError');
  });
});

describe('memory adapters', () => {
  it('source records acks and nacks; redelivers nacked values when asked', async () => {
    const src = createMemorySource([1, 2, 3], { redeliverNacked: true });
    const seen: number[] = [];
    let nackedOnce = false;
    for await (const d of src.deliveries()) {
      seen.push(d.value);
      if (d.value === 2 && !nackedOnce) {
        nackedOnce = true;
        d.nack('later');
      } else {
        d.ack();
      }
      if (src.acked.length === 3) await src.stop();
    }
    expect(seen).toEqual([1, 2, 3, 2]);
    expect(src.acked).toEqual([1, 3, 2]);
    expect(src.nacked).toEqual([{ value: 2, reason: 'later' }]);
    expect(src.outstanding).toBe(0);
  });

  it('bounded sink holds at most maxInFlight batches', async () => {
    const inner = createMemorySink<number>();
    inner.hold();
    const sink = createBoundedSink(inner, 2);
    const w1 = sink.write([1]);
    const w2 = sink.write([2]);
    let third = false;
    const w3 = sink.write([3]).then(() => {
      third = true;
    });
    await new Promise((r) => setTimeout(r, 5));
    expect(sink.inFlight).toBe(2);
    expect(third).toBe(false);
    inner.release();
    await Promise.all([w1, w2, w3]);
    expect(inner.items).toEqual([1, 2, 3]);
    await sink.close();
    expect(inner.closed).toBe(true);
  });

  it('sink failures propagate and free the slot', async () => {
    const inner = createMemorySink<number>();
    inner.failNext(1, new AvcError('AVC_ERR_ES_UNAVAILABLE', 'down', { retriable: true }));
    const sink = createBoundedSink(inner, 1);
    await expect(sink.write([1])).rejects.toMatchObject({ code: 'AVC_ERR_ES_UNAVAILABLE' });
    await sink.write([2]);
    expect(inner.items).toEqual([2]);
  });
});

describe('retry', () => {
  it('retries retriable errors with bounded backoff, then succeeds', async () => {
    const delays: number[] = [];
    let calls = 0;
    const out = await retry(
      async () => {
        calls++;
        if (calls < 4) throw new AvcError('AVC_ERR_ES_BULK_REJECTED', 'x', { retriable: true });
        return 'ok';
      },
      { attempts: 10, initialDelayMs: 100, maxDelayMs: 300, random: () => 1, sleep: async (ms) => void delays.push(ms) },
    );
    expect(out).toBe('ok');
    expect(delays).toEqual([100, 200, 300]);
  });
  it('does not retry non-retriable errors', async () => {
    let calls = 0;
    await expect(
      retry(
        async () => {
          calls++;
          throw new AvcError('AVC_ERR_ES_MAPPING', 'x');
        },
        { attempts: 5, initialDelayMs: 1, maxDelayMs: 1 },
      ),
    ).rejects.toMatchObject({ code: 'AVC_ERR_ES_MAPPING' });
    expect(calls).toBe(1);
  });
  it('backoff is at least half the ceiling', () => {
    expect(backoffDelayMs(1, 100, 1000, () => 0)).toBe(50);
    expect(backoffDelayMs(10, 100, 1000, () => 0.999)).toBeLessThanOrEqual(1000);
  });
});

describe('lifecycle', () => {
  it('runs steps in phase order regardless of registration order', async () => {
    const order: string[] = [];
    const lc = createLifecycle({ budgetMs: 1000, exit: () => {} });
    lc.onShutdown('disconnect', 'kafka', () => order.push('disconnect'));
    lc.onShutdown('commit', 'offsets', () => order.push('commit'));
    lc.onShutdown('unready', 'readyz', () => order.push('unready'));
    lc.onShutdown('drain', 'queue', async () => order.push('drain'));
    lc.onShutdown('stopIntake', 'tail', () => order.push('stopIntake'));
    lc.onShutdown('flushLogs', 'pino', () => order.push('flushLogs'));
    lc.onShutdown('flush', 'sink', () => order.push('flush'));
    expect(await lc.shutdown('test')).toBe(0);
    expect(order).toEqual(['unready', 'stopIntake', 'drain', 'flush', 'commit', 'disconnect', 'flushLogs']);
    expect(lc.state).toBe('stopped');
    expect(await lc.shutdown('again')).toBe(0);
    expect(order).toHaveLength(7);
  });

  it('a failing step gives exit code 1 but later steps still run', async () => {
    const order: string[] = [];
    const lc = createLifecycle({ budgetMs: 1000, exit: () => {} });
    lc.onShutdown('flush', 'sink', () => {
      throw new Error('x');
    });
    lc.onShutdown('disconnect', 'kafka', () => order.push('disconnect'));
    expect(await lc.shutdown('test')).toBe(1);
    expect(order).toEqual(['disconnect']);
  });

  it('gives up with code 1 when the budget runs out', async () => {
    const lc = createLifecycle({ budgetMs: 20, exit: () => {} });
    let after = false;
    lc.onShutdown('drain', 'stuck', () => new Promise(() => {}));
    lc.onShutdown('disconnect', 'after', () => {
      after = true;
    });
    expect(await lc.shutdown('test')).toBe(1);
    expect(after).toBe(false);
  });

  it('first signal shuts down then exits; a second forces exit 130', async () => {
    const handlers = new Map<string, (s: NodeJS.Signals) => void>();
    const proc = {
      on: (ev: string, h: (s: NodeJS.Signals) => void) => handlers.set(ev, h),
      off: (ev: string) => handlers.delete(ev),
    } as unknown as Pick<NodeJS.Process, 'on' | 'off'>;
    const exits: number[] = [];
    let release: () => void = () => {};
    const lc = createLifecycle({ budgetMs: 1000, exit: (c) => exits.push(c) });
    lc.onShutdown('drain', 'slow', () => new Promise<void>((r) => (release = r)));
    const uninstall = lc.installSignalHandlers(proc);
    handlers.get('SIGTERM')!('SIGTERM');
    await Promise.resolve();
    handlers.get('SIGINT')!('SIGINT');
    expect(exits).toEqual([130]);
    release();
    await lc.shutdown('x');
    await Promise.resolve();
    expect(exits).toEqual([130, 0]);
    uninstall();
    expect(handlers.size).toBe(0);
  });
});
