// `docker compose config` on the repo's docker-compose.yml, with Compose v2 (deploy/local/compose.sh uses the
// installed plugin, else fetches Debian's docker-compose package). `config` needs no Docker engine.
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';

const run = promisify(execFile);
const COMPOSE = fileURLToPath(new URL('../deploy/local/compose.sh', import.meta.url));
const VERSIONS = fileURLToPath(new URL('../deploy/local/versions.env', import.meta.url));
const work = mkdtempSync(join(tmpdir(), 'avc-compose-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

function versions(): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of readFileSync(VERSIONS, 'utf8').split('\n')) {
    const m = /^([A-Z0-9_]+)=(.*)$/.exec(line.trim());
    if (m?.[1] !== undefined && m[2] !== undefined) out[m[1]] = m[2];
  }
  return out;
}

interface Service {
  image?: string;
  build?: { context: string; dockerfile: string };
  volumes?: Array<{ type: string; source?: string; target: string; read_only?: boolean }>;
  depends_on?: Record<string, { condition: string }>;
  cap_drop?: string[];
  read_only?: boolean;
  ports?: Array<{ host_ip?: string }>;
}

describe('docker-compose.yml', () => {
  it('validates with Compose v2 (`config -q`)', async () => {
    const r = await run(COMPOSE, ['config', '-q'], { timeout: 120_000 });
    expect(r.stdout).toBe('');
  });

  it('describes the full stack: Kafka, Elasticsearch, ingester (audit.log read-only), analyzer, Kibana', async () => {
    const r = await run(COMPOSE, ['--profile', 'kibana', 'config', '--format', 'json'], {
      timeout: 120_000,
      maxBuffer: 8 << 20,
    });
    const cfg = JSON.parse(r.stdout) as { services: Record<string, Service> };
    const v = versions();
    expect(Object.keys(cfg.services).sort()).toEqual([
      'analyzer',
      'elasticsearch',
      'ingester',
      'kafka',
      'kibana',
    ]);
    const s = cfg.services;
    expect(s.kafka?.image).toBe(`apache/kafka:${v.KAFKA_VERSION}`);
    expect(s.elasticsearch?.image).toBe(`docker.elastic.co/elasticsearch/elasticsearch:${v.ES_VERSION}`);
    expect(s.kibana?.image).toBe(`docker.elastic.co/kibana/kibana:${v.ES_VERSION}`);
    expect(s.ingester?.build?.dockerfile).toBe('deploy/docker/Dockerfile.ingester');
    expect(s.analyzer?.build?.dockerfile).toBe('deploy/docker/Dockerfile.analyzer');
    const auditMount = s.ingester?.volumes?.find((m) => m.target === '/host/var/log/audit');
    expect(auditMount?.read_only).toBe(true);
    expect(s.ingester?.depends_on?.kafka?.condition).toBe('service_healthy');
    expect(s.analyzer?.depends_on?.elasticsearch?.condition).toBe('service_healthy');
    for (const name of ['ingester', 'analyzer']) {
      expect(s[name]?.cap_drop).toEqual(['ALL']);
      expect(s[name]?.read_only).toBe(true);
    }
    for (const svc of Object.values(s)) for (const p of svc.ports ?? []) expect(p.host_ip).toBe('127.0.0.1');
  });

  it('rejects an invalid file (the check can fail)', async () => {
    const bad = join(work, 'bad-compose.yml');
    // One error only: Compose reports the first it meets, and its order is not fixed.
    writeFileSync(bad, 'services:\n  x:\n    image: busybox\n    bogus_key: true\n');
    await expect(
      run(COMPOSE, ['config', '-q'], {
        timeout: 120_000,
        env: { ...process.env, AVCSTREAM_COMPOSE_FILE: bad },
      }),
    ).rejects.toMatchObject({ stderr: expect.stringMatching(/bogus_key/) });
  });
});
