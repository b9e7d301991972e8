import type { CliIo } from '../cli.ts';

export async function ingester(_argv: string[], io: CliIo): Promise<number> {
  io.stderr.write('avcstream ingester: not implemented yet\n');
  return 2;
}
