// `avcstream run`: the embedded single-host mode. Wiring lives in ../embedded/; this file handles arguments,
// signals and the exit status.
import type { CliIo } from '../cli.ts';
import { createEmbeddedApp } from '../embedded/app.ts';
import { parseRunArgs, RUN_HELP, UsageError } from '../embedded/options.ts';

export async function run(argv: string[], io: CliIo): Promise<number> {
  let opts: ReturnType<typeof parseRunArgs>;
  try {
    opts = parseRunArgs(argv);
  } catch (err) {
    if (err instanceof UsageError) {
      io.stderr.write(`avcstream run: ${err.message}\n\n${RUN_HELP}`);
      return err.exitCode;
    }
    throw err;
  }
  if (opts === null) {
    io.stdout.write(RUN_HELP);
    return 0;
  }
  // A reader that went away (`run --once | head -1`) or a failing stdout stops the human-readable output only:
  // the run goes on, stores its state, writes the report and releases the lock. EPIPE is not an error (as in
  // `parse`); any other write error is said once on stderr.
  let outClosed = false;
  const onOutError = (err: NodeJS.ErrnoException) => {
    if (outClosed) return;
    outClosed = true;
    if (err.code !== 'EPIPE')
      io.stderr.write(`avcstream run: stdout write error: ${err.code ?? err.message}\n`);
  };
  io.stdout.on('error', onOutError);
  const out = (s: string) => {
    if (!outClosed) io.stdout.write(s);
  };
  try {
    return await runWith(opts, io, out);
  } finally {
    // Late errors of writes still in flight must not become unhandled ones.
    outClosed = true;
  }
}

async function runWith(
  opts: NonNullable<ReturnType<typeof parseRunArgs>>,
  io: CliIo,
  out: (s: string) => void,
): Promise<number> {
  let app: Awaited<ReturnType<typeof createEmbeddedApp>>;
  try {
    app = await createEmbeddedApp(opts, { out, logStream: io.stderr });
  } catch (err) {
    if (err instanceof UsageError) {
      io.stderr.write(`avcstream run: ${err.message}\n`);
      return err.exitCode;
    }
    throw err;
  }

  if (opts.once) {
    try {
      await app.start();
      await app.runOnce();
    } catch (err) {
      io.stderr.write(`avcstream run: ${(err as Error).message}\n`);
      await app.shutdown('error');
      return 1;
    }
    return app.shutdown('done');
  }

  return new Promise<number>((resolve) => {
    let signals = 0;
    const onStop = (sig: NodeJS.Signals) => {
      signals++;
      if (signals > 1) {
        io.stderr.write(`avcstream run: second ${sig}, exiting now\n`);
        process.exit(130);
      }
      app.shutdown(sig).then(finish, () => finish(1));
    };
    const onHup = () => {
      app
        .writeReport()
        .catch((err) => io.stderr.write(`avcstream run: report failed: ${(err as Error).message}\n`));
    };
    const finish = (code: number) => {
      process.off('SIGTERM', onStop);
      process.off('SIGINT', onStop);
      process.off('SIGHUP', onHup);
      resolve(code);
    };
    process.on('SIGTERM', onStop);
    process.on('SIGINT', onStop);
    process.on('SIGHUP', onHup);
    app.start().catch(async (err) => {
      io.stderr.write(`avcstream run: ${(err as Error).message}\n`);
      await app.shutdown('error');
      finish(1);
    });
  });
}
