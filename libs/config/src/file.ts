import { readFileSync, statSync } from 'node:fs';
import { ConfigError } from './config.ts';

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
