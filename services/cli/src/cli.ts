import type { Readable, Writable } from 'node:stream';
import { escapeText } from '@avcstream/audit';

export interface CliIo {
  stdout: Writable;
  stderr: Writable;
  stdin: Readable;
  /** Where host files (/sys/fs/selinux, /etc/selinux) are looked up: '/' unless a test says otherwise. */
  hostRoot?: string;
}

export type Command = (argv: string[], io: CliIo) => Promise<number>;

const HELP = `avcstream — SELinux audit pipeline

Usage: avcstream <command> [options]

Commands:
  run       embedded single-host mode: tail, parse, replay, store, alert, report
  parse     audit.log to NDJSON events
  explain   replay AVC denials against a binary policy (audit2why)
  policy    info | query over a binary policy (seinfo / sesearch)
  report    seaudit-report style summary (text, html, json)
  ingester  run the ingester daemon (Kafka)
  analyzer  run the analyzer daemon (Kafka -> Elasticsearch)

Options:
  -V, --version   the version of avcstream
  -h, --help      this help

Run 'avcstream <command> --help' for the options of a command.
`;

/** The version in this package's package.json, read when asked (a small JSON import, no file scan). */
async function version(): Promise<string> {
  const pkg = (await import('../package.json', { with: { type: 'json' } })) as {
    default: { version: string };
  };
  return pkg.default.version;
}

// Each command lives in its own module and is loaded only when used, so `parse` never pays for `report`.
const commands: Record<string, () => Promise<Command>> = {
  run: async () => (await import('./commands/run.ts')).run,
  parse: async () => (await import('./commands/parse.ts')).parse,
  explain: async () => (await import('./commands/explain.ts')).explain,
  policy: async () => (await import('./commands/policy.ts')).policy,
  report: async () => (await import('./commands/report.ts')).report,
  ingester: async () => (await import('./commands/ingester.ts')).ingester,
  analyzer: async () => (await import('./commands/analyzer.ts')).analyzer,
};

export async function runCli(argv: string[], io: CliIo): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    io.stdout.write(HELP);
    return 0;
  }
  if (name === '--version' || name === '-V') {
    io.stdout.write(`avcstream ${await version()}\n`);
    return 0;
  }
  const load = Object.hasOwn(commands, name) ? commands[name] : undefined;
  if (load === undefined) {
    // The name is the user's own text: escaped, so the line stays one visible line.
    io.stderr.write(`avcstream: unknown command '${escapeText(name)}'\n\n${HELP}`);
    return 64;
  }
  const command = await load();
  return command(rest, io);
}
