import { readFileSync, statSync } from 'node:fs';
import type { z } from 'zod';
import { ConfigError, loadConfig } from './config.ts';

const MAX_CONFIG_BYTES = 1024 * 1024;

/** Read a JSON config file (bounded to 1 MiB). `undefined` path gives `{}`. Throws ConfigError. */
export function readConfigFile(path: string | undefined): unknown {
  if (path === undefined || path === '') return {};
  let text: string;
  try {
    const st = statSync(path);
    if (st.size > MAX_CONFIG_BYTES) throw new ConfigError(`config file ${path} is larger than 1 MiB`);
    text = readFileSync(path, 'utf8');
  } catch (err) {
    if (err instanceof ConfigError) throw err;
    throw new ConfigError(`cannot read config file ${path}: ${(err as Error).message}`, { cause: err });
  }
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    throw new ConfigError(`config file ${path} is not valid JSON: ${(err as Error).message}`, { cause: err });
  }
}

/** Split `--config <file>` / `--config=<file>` from the other options. */
export function splitConfigArg(argv: readonly string[]): { configPath: string | undefined; rest: string[] } {
  const rest: string[] = [];
  let configPath: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--config') configPath = argv[++i];
    else if (a.startsWith('--config=')) configPath = a.slice('--config='.length);
    else rest.push(a);
  }
  return { configPath, rest };
}

/**
 * A daemon's whole config: the file named by `--config` (or env `AVCSTREAM_CONFIG`), then env, then the
 * other command-line options, validated by `schema`. Throws ConfigError.
 */
export function loadServiceConfig<S extends z.ZodType>(
  schema: S,
  argv: readonly string[],
  env: Record<string, string | undefined>,
): Readonly<z.output<S>> {
  const { configPath, rest } = splitConfigArg(argv);
  return loadConfig(schema, env, rest, readConfigFile(configPath ?? env.AVCSTREAM_CONFIG));
}
