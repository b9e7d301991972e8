import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

// Every error code used in the sources is documented once, in docs/errors.md.
const root = resolve(import.meta.dirname, '..');

function sources(dir: string, out: string[] = []): string[] {
  for (const name of readdirSync(dir)) {
    if (name === 'node_modules' || name.startsWith('.')) continue;
    const path = join(dir, name);
    if (statSync(path).isDirectory()) sources(path, out);
    else if (name.endsWith('.ts') && !name.endsWith('.test.ts')) out.push(path);
  }
  return out;
}

describe('docs/errors.md', () => {
  const doc = readFileSync(join(root, 'docs/errors.md'), 'utf8');
  const used = new Set<string>();
  for (const file of [...sources(join(root, 'libs')), ...sources(join(root, 'services'))]) {
    for (const m of readFileSync(file, 'utf8').matchAll(/AVC_ERR_[A-Z0-9]+(?:_[A-Z0-9]+)+/g)) used.add(m[0]);
  }

  it('finds the codes the sources use', () => {
    expect(used.size).toBeGreaterThan(20);
  });

  it('lists every code used in libs/ and services/', () => {
    const missing = [...used].filter((code) => {
      if (doc.includes(`\`${code}\``)) return false;
      const area = /^AVC_ERR_([A-Z0-9]+)_/.exec(code)?.[1];
      return !doc.includes(`\`AVC_ERR_${area}_*\``);
    });
    expect(missing).toEqual([]);
  });
});
