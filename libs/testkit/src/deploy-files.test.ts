import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseEnvFile, pinnedVersions, repoRoot } from './versions.ts';

const read = (p: string) => readFileSync(join(repoRoot, p), 'utf8');

// The versions live in deploy/local/versions.env; the other deploy files must not drift from it.
describe('deploy files agree with deploy/local/versions.env', () => {
  const v = pinnedVersions();
  const compose = read('docker-compose.yml');

  it('docker-compose.yml uses the pinned Kafka, Elasticsearch and Kibana versions', () => {
    expect([...compose.matchAll(/image: apache\/kafka:(\S+)/g)].map((m) => m[1])).toEqual([v.kafka]);
    expect(
      [...compose.matchAll(/image: docker\.elastic\.co\/elasticsearch\/elasticsearch:(\S+)/g)].map(
        (m) => m[1],
      ),
    ).toEqual([v.elasticsearch]);
    expect(
      [...compose.matchAll(/image: docker\.elastic\.co\/kibana\/kibana:(\S+)/g)].map((m) => m[1]),
    ).toEqual([v.elasticsearch]);
  });

  it('pom.xml defaults equal versions.env', () => {
    const pom = read('deploy/local/pom.xml');
    const env = parseEnvFile(read('deploy/local/versions.env'));
    expect(pom).toContain(`<kafka.version>${env.KAFKA_VERSION}</kafka.version>`);
    expect(pom).toContain(`<kafka.scala.version>${env.KAFKA_SCALA_VERSION}</kafka.scala.version>`);
    expect(pom).toContain(`<slf4j.version>${env.SLF4J_VERSION}</slf4j.version>`);
    expect(pom).toContain(`<reload4j.version>${env.RELOAD4J_VERSION}</reload4j.version>`);
    expect(pom).toContain(
      `<dependency.plugin.version>${env.MAVEN_DEPENDENCY_PLUGIN_VERSION}</dependency.plugin.version>`,
    );
  });

  it('the service images run the avcstream CLI on node:24-slim', () => {
    for (const svc of ['ingester', 'analyzer']) {
      const df = read(`deploy/docker/Dockerfile.${svc}`);
      expect(df).toMatch(/^FROM node:24-slim$/m);
      expect(df).toContain('services/cli/bin/avcstream.js');
      expect(df).toContain(`CMD ["${svc}"]`);
    }
  });

  it('the systemd unit keeps the audit log read-only and the file system strict', () => {
    const unit = read('deploy/systemd/avcstream-ingester.service');
    expect(unit).toMatch(/^ProtectSystem=strict$/m);
    expect(unit).toMatch(/^ReadOnlyPaths=.*\/var\/log\/audit/m);
    expect(unit).toMatch(/^NoNewPrivileges=yes$/m);
    expect(unit).toMatch(/^CapabilityBoundingSet=$/m);
    expect(unit).toMatch(/^ExecStart=.* ingester$/m);
  });
});
