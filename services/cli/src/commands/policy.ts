import type { CliIo } from '../cli.ts';

export async function policy(_argv: string[], io: CliIo): Promise<number> {
  io.stderr.write('avcstream policy: not implemented yet\n');
  return 2;
}
