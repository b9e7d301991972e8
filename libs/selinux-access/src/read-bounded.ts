// Impure: read a whole file with a byte bound that holds for any kind of file. statSync().size is 0 for
// a FIFO, a pipe, /dev/stdin or /dev/zero, so a size check before readFileSync bounds nothing there.
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';

/** First buffer for a file whose size is unknown (a FIFO, a device); it doubles as the data comes. */
const FIRST_CHUNK = 64 * 1024;

/**
 * The bytes of `path`, or null when it holds more than `maxBytes` (reading stops at `maxBytes + 1`).
 * Works on regular files, FIFOs, pipes and character devices; open and read errors are thrown as is.
 */
export function readFileBounded(path: string, maxBytes: number): Buffer | null {
  const fd = openSync(path, 'r');
  try {
    const st = fstatSync(fd);
    const guess = st.isFile() && st.size > 0 ? st.size + 1 : FIRST_CHUNK;
    let buf = Buffer.allocUnsafe(Math.min(maxBytes + 1, guess));
    let n = 0;
    for (;;) {
      if (n === buf.length) {
        if (n > maxBytes) return null;
        const next = Buffer.allocUnsafe(Math.min(maxBytes + 1, buf.length * 2));
        buf.copy(next, 0, 0, n);
        buf = next;
      }
      const r = readSync(fd, buf, n, buf.length - n, null);
      if (r === 0) break;
      n += r;
    }
    return n > maxBytes ? null : buf.subarray(0, n);
  } finally {
    closeSync(fd);
  }
}
