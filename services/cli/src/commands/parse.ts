import type { CliIo } from '../cli.ts';

export async function parse(_argv: string[], io: CliIo): Promise<number> {
  io.stderr.write('avcstream parse: not implemented yet\n');
  return 2;
}
