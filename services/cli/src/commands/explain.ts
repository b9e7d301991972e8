import type { CliIo } from '../cli.ts';

export async function explain(_argv: string[], io: CliIo): Promise<number> {
  io.stderr.write('avcstream explain: not implemented yet\n');
  return 2;
}
