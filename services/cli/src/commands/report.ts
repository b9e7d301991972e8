import type { CliIo } from '../cli.ts';

export async function report(_argv: string[], io: CliIo): Promise<number> {
  io.stderr.write('avcstream report: not implemented yet\n');
  return 2;
}
