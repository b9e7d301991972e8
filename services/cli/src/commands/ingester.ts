import type { CliIo } from '../cli.ts';

export async function ingester(argv: string[], io: CliIo): Promise<number> {
  const { runIngester } = await import('@avcstream/ingester');
  return runIngester(argv, { stdout: io.stdout, stderr: io.stderr });
}
