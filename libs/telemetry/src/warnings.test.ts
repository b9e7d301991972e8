import { spawnSync } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { createLogger } from './logger.ts';
import { routeProcessWarnings } from './warnings.ts';

function capture() {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk, _enc, cb) {
      lines.push(...chunk.toString().split('\n').filter(Boolean));
      cb();
    },
  });
  return { lines, stream };
}

describe('routeProcessWarnings', () => {
  it('replaces the existing warning listeners with one that logs a constant message and the warning as fields', () => {
    const proc = new EventEmitter();
    const printed: string[] = [];
    proc.on('warning', (w: Error) => printed.push(w.message));
    const { lines, stream } = capture();
    const logger = createLogger({ component: 'ingester', destination: stream });
    const restore = routeProcessWarnings(logger, proc);
    const w = new Error('-1795 is a negative number.\nTimeout duration was set to 1.');
    w.name = 'TimeoutNegativeWarning';
    proc.emit('warning', w);
    expect(printed).toEqual([]);
    expect(lines).toHaveLength(1);
    const rec = JSON.parse(lines[0]!);
    expect(rec.msg).toBe('process warning');
    expect(rec.level).toBe('warn');
    expect(rec.warning.name).toBe('TimeoutNegativeWarning');
    expect(rec.warning.message).toContain('negative number');
    restore();
    proc.emit('warning', w);
    expect(printed).toHaveLength(1);
    expect(lines).toHaveLength(1);
  });

  it('rate-limits a warning storm and reports how many were suppressed', () => {
    const proc = new EventEmitter();
    const { lines, stream } = capture();
    let t = 0;
    routeProcessWarnings(createLogger({ component: 'x', destination: stream }), proc, {
      perInterval: 2,
      intervalMs: 1000,
      now: () => t,
    });
    for (let i = 0; i < 5; i++) proc.emit('warning', new Error(`w${i}`));
    expect(lines).toHaveLength(2);
    t = 1000;
    proc.emit('warning', new Error('later'));
    expect(lines).toHaveLength(3);
    expect(JSON.parse(lines[2]!).suppressed).toBe(3);
  });

  it('in a daemon process, a real Node warning (negative timeout) becomes a JSON log line and stderr stays empty', () => {
    const logger = fileURLToPath(new URL('./logger.ts', import.meta.url));
    const warnings = fileURLToPath(new URL('./warnings.ts', import.meta.url));
    const script = `
      const { createLogger } = await import(${JSON.stringify(logger)});
      const { routeProcessWarnings } = await import(${JSON.stringify(warnings)});
      const log = createLogger({ component: 'ingester' });
      routeProcessWarnings(log);
      setTimeout(() => {}, -1795);
      process.emitWarning('something odd', 'ExperimentalWarning');
      setTimeout(() => log.info('done'), 50);
    `;
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' });
    expect(r.status).toBe(0);
    expect(r.stderr).toBe('');
    const recs = r.stdout
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l));
    const names = recs.filter((x) => x.msg === 'process warning').map((x) => x.warning.name);
    expect(names).toEqual(['TimeoutNegativeWarning', 'ExperimentalWarning']);
    expect(recs.at(-1).msg).toBe('done');
  });
});
