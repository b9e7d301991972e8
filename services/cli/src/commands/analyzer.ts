import type { CliIo } from '../cli.ts';

export async function analyzer(argv: string[], io: CliIo): Promise<number> {
  const { runAnalyzer } = await import('@avcstream/analyzer');
  return runAnalyzer(argv, { stdout: io.stdout, stderr: io.stderr });
}
