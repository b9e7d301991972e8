import { describe, expect, it } from 'vitest';
import { uniqueName } from './names.ts';
import { parseEnvFile, pinnedVersions } from './versions.ts';
import { dockerAvailable } from './services.ts';

describe('uniqueName', () => {
  it('gives distinct names valid for Kafka topics and ES indices', () => {
    const names = new Set(Array.from({ length: 1000 }, () => uniqueName('Denials Test/')));
    expect(names.size).toBe(1000);
    for (const n of names) {
      expect(n).toMatch(/^[a-z0-9][a-z0-9._-]*$/);
      expect(n.startsWith('denials-test-')).toBe(true);
    }
    expect(uniqueName('x'.repeat(500)).length).toBeLessThanOrEqual(200);
    expect(uniqueName('__')).toMatch(/^t-/);
  });
});

describe('versions', () => {
  it('parses KEY=VALUE lines without shell expansion', () => {
    expect(parseEnvFile('# c\nA=1\n\nB="two"\nC=$HOME\nbad line\n')).toEqual({
      A: '1',
      B: 'two',
      C: '$HOME',
    });
  });
  it('reads the pinned Kafka 3.x and Elasticsearch 8.x', () => {
    const v = pinnedVersions();
    expect(v.kafka).toMatch(/^3\.\d+\.\d+$/);
    expect(v.elasticsearch).toMatch(/^8\.\d+\.\d+$/);
  });
});

describe('dockerAvailable', () => {
  it('answers false when told there is no Docker', async () => {
    process.env.AVCSTREAM_TESTKIT_NO_DOCKER = '1';
    try {
      expect(await dockerAvailable(200)).toBe(false);
    } finally {
      delete process.env.AVCSTREAM_TESTKIT_NO_DOCKER;
    }
  });
});
