import type { CliIo } from '../cli.ts';

export async function analyzer(_argv: string[], io: CliIo): Promise<number> {
  io.stderr.write('avcstream analyzer: not implemented yet\n');
  return 2;
}
