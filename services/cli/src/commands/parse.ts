// `avcstream parse [FILE|-]`: audit.log to NDJSON events, streamed with bounded memory.
import { closeSync, openSync, readSync, statSync } from 'node:fs';
import type { Writable } from 'node:stream';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import {
  createAuditDecoder,
  createNdjsonWriter,
  type DecodeResult,
  escapeText,
  isSelinuxEvent,
  slashDateOrder,
} from '@avcstream/audit';
import type { CliIo } from '../cli.ts';

const USAGE = `Usage: avcstream parse [options] [FILE|-]

Reads an audit log (a file, or standard input for '-' or no FILE) and writes one JSON object per
event to standard output (NDJSON). Totals go to standard error as one JSON line (with --count, to
standard output instead: avcstream parse --count FILE | jq). On standard input,
an event that gets no record for 2 seconds is written without waiting for the end of input (idle flush).
Input: raw audit.log lines (with node=, ENRICHED or not), syslog-wrapped kernel lines, and ausearch
output (raw, or -i with local-time stamps, read in this process's TZ).

Options:
  --selinux-only   keep only events with AVC, USER_AVC, SELINUX_ERR, USER_SELINUX_ERR or MAC_* records
                   (AppArmor's AVC / USER_AVC records, apparmor="DENIED" ..., do not count)
  --count          print only the totals, on standard output
  --no-progress    no progress bar (it is shown only when standard error is a terminal)
  -h, --help       this help

Totals: {"lines","records","events","malformed","malformedRecords","evicted","partial"[,"selected"]}.
'malformed' counts what avcstream report and run count as malformed: lines that are not audit
records (skipped), plus AVC / USER_AVC records whose decision did not parse (cut off, no tcontext...).
Those records ('malformedRecords', also counted in 'records') are still written, without "avc".

Exit status: 0 on success (malformed lines are counted, not fatal), 64 on a usage error,
66 when FILE cannot be opened, 74 on a read or write error.
`;

const EX_USAGE = 64;
const EX_NOINPUT = 66;
const EX_IOERR = 74;
/**
 * Read size. Every event a chunk closes stays alive until the chunk's output is written, so larger
 * chunks keep more records alive across scavenges: 256 KiB took ~19% more instructions than 64 KiB
 * (32 KiB was the same as 64 KiB).
 */
const CHUNK_BYTES = 64 * 1024;
/** Output is encoded straight into buffers of this size (no joined batch string, no extra copy). */
const OUT_BYTES = 128 * 1024;
/**
 * Idle flush period on standard input (the ingester's default `decoder.idleFlushMs`): the decoder's
 * tick closes events that received nothing for its horizon (2 s) of wall time, so an event with no EOE
 * or PROCTITLE (an AVC-only denial) is written on a quiet stream (`tail -F audit.log | avcstream parse -`)
 * instead of when standard input closes.
 */
const IDLE_FLUSH_MS = 500;

interface Progress {
  update(done: number): void;
  stop(): void;
}

async function makeProgress(stderr: Writable, total: number): Promise<Progress | null> {
  const tty = stderr as Writable & { isTTY?: boolean };
  if (tty.isTTY !== true || total <= 0) return null;
  const { default: cliProgress } = await import('cli-progress');
  const bar = new cliProgress.SingleBar(
    {
      stream: stderr as unknown as NodeJS.WritableStream,
      format: 'parse [{bar}] {percentage}% | {value}/{total} bytes | {eta}s',
      hideCursor: true,
      clearOnComplete: true,
      etaBuffer: 50,
      fps: 5,
    },
    cliProgress.Presets.shades_classic,
  );
  bar.start(total, 0);
  return { update: (done) => bar.update(done), stop: () => bar.stop() };
}

function waitDrain(out: Writable): Promise<void> {
  return new Promise((resolve, reject) => {
    const onDrain = () => {
      out.off('error', onError);
      resolve();
    };
    const onError = (e: Error) => {
      out.off('drain', onDrain);
      reject(e);
    };
    out.once('drain', onDrain);
    out.once('error', onError);
  });
}

/**
 * A regular file read synchronously, chunk by chunk, into one reused buffer (the decoder copies what it
 * keeps): no thread-pool round trip and no fresh buffer per chunk. Open and read errors surface when
 * iterated, like a stream's.
 */
function* fileChunks(file: string): Generator<Buffer> {
  const fd = openSync(file, 'r');
  try {
    const buf = Buffer.allocUnsafe(CHUNK_BYTES);
    for (;;) {
      const n = readSync(fd, buf, 0, CHUNK_BYTES, null);
      if (n === 0) return;
      yield buf.subarray(0, n);
    }
  } finally {
    closeSync(fd);
  }
}

function errorCode(e: unknown): string {
  return typeof e === 'object' && e !== null && 'code' in e ? String((e as { code: unknown }).code) : '';
}

export async function parse(argv: string[], io: CliIo): Promise<number> {
  let values: { 'selinux-only'?: boolean; count?: boolean; help?: boolean; 'no-progress'?: boolean };
  let positionals: string[];
  try {
    ({ values, positionals } = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        'selinux-only': { type: 'boolean' },
        count: { type: 'boolean' },
        'no-progress': { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
    }));
  } catch (e) {
    // The message quotes the user's own text: escaped, so it stays one visible line.
    io.stderr.write(`avcstream parse: ${escapeText((e as Error).message)}\n\n${USAGE}`);
    return EX_USAGE;
  }
  if (values.help === true) {
    io.stdout.write(USAGE);
    return 0;
  }
  if (positionals.length > 1) {
    io.stderr.write(`avcstream parse: expected at most one FILE, got ${positionals.length}\n\n${USAGE}`);
    return EX_USAGE;
  }
  const file = positionals[0] ?? '-';
  const selinuxOnly = values['selinux-only'] === true;
  const countOnly = values.count === true;

  let input: Iterable<Buffer> | AsyncIterable<Buffer | string>;
  let size = 0;
  if (file === '-') {
    input = io.stdin;
  } else {
    try {
      const st = statSync(file);
      if (st.isDirectory()) {
        io.stderr.write(`avcstream parse: ${JSON.stringify(file)} is a directory\n`);
        return EX_NOINPUT;
      }
      size = st.size;
    } catch (e) {
      io.stderr.write(`avcstream parse: cannot open ${JSON.stringify(file)}: ${errorCode(e) || 'error'}\n`);
      return EX_NOINPUT;
    }
    input = fileChunks(file);
  }

  const out = io.stdout;
  let outError: unknown = null;
  const onOutError = (e: unknown) => {
    outError = e;
  };
  out.on('error', onOutError);

  // Counting needs groups and types only: parse record headers, not bodies. --selinux-only parses headers
  // first and bodies only for the selected events. Open events are capped well below the library default
  // so peak memory stays small even on pathological logs (evictions are counted).
  const decoder = createAuditDecoder({
    headersOnly: countOnly || selinuxOnly,
    select: selinuxOnly && !countOnly ? isSelinuxEvent : undefined,
    interpret: !countOnly,
    maxInFlightBytes: 8 * 1024 * 1024,
    // Plain kernel records go from bytes to their JSON with no object per field (the byte fast path);
    // the writer below copies those bytes.
    recordJson: !countOnly && !selinuxOnly,
    // ausearch -i output piped in: its DD/MM or MM/DD dates follow the locale of this shell.
    slashDates: slashDateOrder(process.env),
  });
  let selected = 0;
  let needDrain = false;
  // Events are written as bytes into the writer's buffers, handed to `out` after each chunk; fast-path
  // records are copied as they are. A stream writing to a file descriptor (file, pipe, terminal) with
  // nothing left queued has written every chunk through and holds none of them: the full buffer is then
  // filled again. Otherwise (a write still pending, or a stream that may keep its chunks, as a PassThrough
  // queues them for its reader) the writer takes a fresh buffer and never touches the one handed over.
  const fdBacked = typeof (out as { fd?: unknown }).fd === 'number';
  const writer = createNdjsonWriter(
    (bytes) => {
      if (!out.write(bytes)) needDrain = true;
    },
    OUT_BYTES,
    () => fdBacked && out.writableLength === 0,
  );
  const progress =
    file !== '-' && values['no-progress'] !== true ? await makeProgress(io.stderr, size) : null;
  let done = 0;
  let chunks = 0;

  async function emit(r: DecodeResult): Promise<void> {
    const events = r.events;
    if (countOnly) {
      if (!selinuxOnly) selected += events.length;
      else for (let i = 0; i < events.length; i++) if (isSelinuxEvent(events[i]!)) selected++;
      return;
    }
    if (events.length === 0) return;
    for (let i = 0; i < events.length; i++) {
      const ev = events[i]!;
      if (selinuxOnly && !isSelinuxEvent(ev)) continue;
      selected++;
      if (outError === null) writer.event(ev);
    }
    if (outError !== null) return;
    writer.flush();
    if (needDrain) {
      needDrain = false;
      await waitDrain(out);
    }
  }

  // Standard input may go quiet: tick the decoder with the wall clock between chunks. A tick that
  // closed events writes them while the loop waits for input; the loop waits for that write first.
  let ticking: Promise<void> | null = null;
  let busy = false;
  const idleTimer =
    file === '-'
      ? setInterval(() => {
          if (busy || ticking !== null || outError !== null) return;
          const r = decoder.tick(Date.now());
          if (r.events.length === 0) return;
          ticking = emit(r)
            .catch(() => {})
            .finally(() => {
              ticking = null;
            });
        }, IDLE_FLUSH_MS)
      : null;
  idleTimer?.unref();

  let code = 0;
  try {
    for await (const chunk of input) {
      busy = true;
      if (ticking !== null) await ticking;
      await emit(decoder.write(chunk as Buffer | string));
      busy = false;
      if (outError !== null) break;
      if (progress !== null) {
        done += (chunk as Buffer).length;
        progress.update(done);
        // Synchronous file reads never yield to the event loop: let the bar's timer run now and then.
        if ((++chunks & 15) === 0) await nextTurn();
      }
    }
    busy = true;
    if (idleTimer !== null) clearInterval(idleTimer);
    if (ticking !== null) await ticking;
    if (outError === null) await emit(decoder.end());
  } catch (e) {
    if (outError === null) {
      progress?.stop();
      io.stderr.write(`avcstream parse: read error on ${JSON.stringify(file)}: ${errorCode(e) || 'error'}\n`);
      code = EX_IOERR;
    }
  }
  if (idleTimer !== null) clearInterval(idleTimer);
  progress?.stop();
  const s = decoder.stats();
  const totals: Record<string, number> = {
    lines: s.lines,
    records: s.records,
    events: s.events,
    // As avcstream report and run count them: lines that are not audit records, plus AVC / USER_AVC
    // records whose decision did not parse (written without "avc", and also counted in `records`).
    malformed: s.malformed + s.malformedRecords,
    malformedRecords: s.malformedRecords,
    evicted: s.evicted,
    partial: s.partial,
  };
  if (selinuxOnly) totals.selected = selected;
  const line = `${JSON.stringify(totals)}\n`;
  // --count: the totals are the output (`avcstream parse --count FILE | jq`), on standard output only.
  if (countOnly && outError === null) {
    await new Promise<void>((done) => {
      out.write(line, (e) => {
        if (e && outError === null) outError = e;
        done();
      });
    });
  }
  out.off('error', onOutError);
  if (outError !== null && errorCode(outError) !== 'EPIPE') {
    io.stderr.write(`avcstream parse: write error: ${errorCode(outError) || 'error'}\n`);
    code = EX_IOERR;
  }
  if (!countOnly) io.stderr.write(line);
  return code;
}
