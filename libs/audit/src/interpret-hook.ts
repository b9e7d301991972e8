// The one call from the parser into value interpretation (./interpret, owned separately).
import { interpretRecord } from './interpret/index.ts';
import type { ParseOptions } from './parse-line.ts';

export function interpret(
  type: string,
  fields: Record<string, string>,
  opts: ParseOptions | undefined,
  kinds?: ArrayLike<number> | null,
): Record<string, unknown> {
  return interpretRecord(type, fields, opts, kinds);
}
