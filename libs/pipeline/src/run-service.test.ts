import { EventEmitter } from 'node:events';
import { describe, expect, it } from 'vitest';
import { runService } from './run-service.ts';

const quiet = { info() {}, warn() {}, error() {} };

describe('runService', () => {
  it('starts health then the app (retrying), and shuts down in order on SIGTERM', async () => {
    const order: string[] = [];
    const signals = new EventEmitter();
    let attempts = 0;
    const exits: number[] = [];
    const done = runService({
      logger: quiet,
      budgetMs: 5_000,
      health: {
        start: async () => {
          order.push('health');
          return { port: 1 };
        },
        close: () => order.push('close http'),
      },
      start: async () => {
        attempts++;
        if (attempts === 1) throw new Error('broker not up yet');
        order.push('app');
      },
      steps: [
        ['commit', 'offsets', () => order.push('commit')],
        ['unready', 'readyz', () => order.push('unready')],
        ['drain', 'batches', () => order.push('drain')],
      ],
      flushLogs: () => order.push('flush logs'),
      exit: (code) => exits.push(code),
      signals: signals as unknown as Pick<NodeJS.Process, 'on' | 'off'>,
    });
    while (!order.includes('app')) await new Promise((r) => setTimeout(r, 20));
    signals.emit('SIGTERM', 'SIGTERM');
    expect(await done).toBe(0);
    expect(attempts).toBe(2);
    expect(order).toEqual(['health', 'app', 'unready', 'drain', 'commit', 'close http', 'flush logs']);
  });

  it('exits 1 without starting the app when the health server cannot listen', async () => {
    let started = false;
    const code = await runService({
      logger: quiet,
      budgetMs: 5_000,
      health: {
        start: async () => {
          throw new Error('EADDRINUSE');
        },
        close: () => undefined,
      },
      start: async () => {
        started = true;
      },
      steps: [],
      flushLogs: () => undefined,
      exit: () => undefined,
      signals: new EventEmitter() as unknown as Pick<NodeJS.Process, 'on' | 'off'>,
    });
    expect(code).toBe(1);
    expect(started).toBe(false);
  });
});
