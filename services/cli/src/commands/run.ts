import type { CliIo } from '../cli.ts';

export async function run(_argv: string[], io: CliIo): Promise<number> {
  io.stderr.write('avcstream run: not implemented yet\n');
  return 2;
}
