import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** Repository root (libs/testkit/src/../../..). */
export const repoRoot: string = fileURLToPath(new URL('../../../', import.meta.url));

/** Parses KEY=VALUE lines (comments and blanks ignored, no shell expansion). */
export function parseEnvFile(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const m = /^([A-Z0-9_]+)=(.*)$/.exec(line);
    if (m) out[m[1]!] = m[2]!.replace(/^"(.*)"$/, '$1');
  }
  return out;
}

export interface PinnedVersions {
  kafka: string;
  elasticsearch: string;
}

/** The versions pinned in deploy/local/versions.env (also used for container image tags). */
export function pinnedVersions(): PinnedVersions {
  const env = parseEnvFile(
    readFileSync(new URL('../../../deploy/local/versions.env', import.meta.url), 'utf8'),
  );
  const kafka = env.KAFKA_VERSION;
  const elasticsearch = env.ES_VERSION;
  if (!kafka || !elasticsearch)
    throw new Error('deploy/local/versions.env lacks KAFKA_VERSION or ES_VERSION');
  return { kafka, elasticsearch };
}
