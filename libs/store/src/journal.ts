import { closeSync, fstatSync, fsyncSync, ftruncateSync, openSync, readSync, writeSync } from 'node:fs';
import { crc32 } from 'node:zlib';
import { StoreError } from './errors.ts';

/**
 * Append-only journal: one record per line, `<crc32 hex8> <json>\n`. A torn or corrupt tail (a crash in the
 * middle of a write) is detected by the checksum and cut off when the journal is opened.
 */
export function encodeRecord(record: unknown): string {
  const json = JSON.stringify(record);
  return `${crc32(json).toString(16).padStart(8, '0')} ${json}\n`;
}

/** Default bound of one journal line (a batch record); larger records are neither written nor read. */
export const DEFAULT_MAX_RECORD_BYTES = 256 * 1024 * 1024;

export interface JournalRead {
  /** Records handed to `onRecord`. */
  records: number;
  /** Byte length of the valid prefix. */
  validBytes: number;
  /** Bytes dropped after the valid prefix (torn write). */
  droppedBytes: number;
}

export interface ReadJournalOptions {
  /** A complete line longer than this is an error (`AVC_ERR_STORE_RECORD_TOO_LARGE`). */
  maxRecordBytes?: number;
  /** Bytes per read. Default 1 MiB. */
  chunkBytes?: number;
}

/**
 * Reads the journal in bounded pieces (never the whole file at once) and hands each valid record to
 * `onRecord` in order. Stops at the first torn or corrupt line: that line and everything after it is the
 * dropped tail. A complete line over `maxRecordBytes` throws instead (cutting there would drop good records).
 */
export function readJournal(
  file: string,
  onRecord: (record: unknown) => void,
  options: ReadJournalOptions = {},
): JournalRead {
  const maxRecord = options.maxRecordBytes ?? DEFAULT_MAX_RECORD_BYTES;
  const chunkBytes = Math.max(1, options.chunkBytes ?? 1024 * 1024);
  let fd: number;
  try {
    fd = openSync(file, 'r');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT')
      return { records: 0, validBytes: 0, droppedBytes: 0 };
    throw err;
  }
  try {
    const size = fstatSync(fd).size;
    let records = 0;
    /** File offset of the first byte of `pending` (the start of the line being read). */
    let lineStart = 0;
    let pending: Buffer[] = [];
    let pendingBytes = 0;
    /** Set while skipping an over-long line: we only look for its end. */
    let oversize = false;
    let readAt = 0;
    const buf = Buffer.allocUnsafe(chunkBytes);
    /** Returns false at the first line that is not a valid record. */
    const take = (line: Buffer): boolean => {
      if (line.length < 9 || line[8] !== 0x20) return false;
      const sum = crc32(line.subarray(9)).toString(16).padStart(8, '0');
      if (sum !== line.toString('latin1', 0, 8)) return false;
      let record: unknown;
      try {
        record = JSON.parse(line.toString('utf8', 9));
      } catch {
        return false;
      }
      onRecord(record);
      records++;
      return true;
    };
    for (;;) {
      const n = readSync(fd, buf, 0, chunkBytes, readAt);
      if (n === 0) break;
      readAt += n;
      let from = 0;
      while (from < n) {
        const nl = buf.indexOf(0x0a, from);
        const stop = nl === -1 || nl >= n ? n : nl;
        const piece = stop - from;
        if (!oversize) {
          if (pendingBytes + piece > maxRecord) {
            oversize = true;
            pending = [];
            pendingBytes = 0;
          } else {
            pending.push(Buffer.from(buf.subarray(from, stop)));
            pendingBytes += piece;
          }
        }
        if (stop === n) break; // the line goes on in the next read
        if (oversize) {
          throw new StoreError(
            'AVC_ERR_STORE_RECORD_TOO_LARGE',
            `journal record at byte ${lineStart} of ${file} is larger than the limit (${maxRecord} bytes)`,
          );
        }
        const line = pending.length === 1 ? (pending[0] as Buffer) : Buffer.concat(pending, pendingBytes);
        pending = [];
        pendingBytes = 0;
        if (!take(line)) return { records, validBytes: lineStart, droppedBytes: size - lineStart };
        lineStart = readAt - n + stop + 1;
        from = stop + 1;
      }
    }
    return { records, validBytes: lineStart, droppedBytes: Math.max(0, Math.max(size, readAt) - lineStart) };
  } finally {
    closeSync(fd);
  }
}

export interface JournalWriter {
  append(record: unknown, sync: boolean): void;
  sync(): void;
  size(): number;
  close(): void;
}

export function openJournalWriter(
  file: string,
  validBytes: number,
  maxRecordBytes = DEFAULT_MAX_RECORD_BYTES,
): JournalWriter {
  const fd = openSync(file, 'a+', 0o600);
  ftruncateSync(fd, validBytes);
  let size = validBytes;
  let dirty = false;
  let closed = false;
  /** A failed append could not be cut back: appending after a torn record would hide what follows. */
  let broken = false;
  return {
    append(record, sync) {
      if (broken) throw new StoreError('AVC_ERR_STORE_IO', 'journal is unusable after a failed write');
      const line = Buffer.from(encodeRecord(record), 'utf8');
      if (line.length - 1 > maxRecordBytes) {
        throw new StoreError(
          'AVC_ERR_STORE_RECORD_TOO_LARGE',
          `journal record of ${line.length - 1} bytes is larger than the limit (${maxRecordBytes} bytes)`,
        );
      }
      try {
        let off = 0;
        while (off < line.length) off += writeSync(fd, line, off, line.length - off);
        if (sync) fsyncSync(fd);
      } catch (err) {
        // Cut the partial record so that a retry appends after a clean end, never after a torn line.
        try {
          ftruncateSync(fd, size);
        } catch {
          broken = true;
        }
        throw err;
      }
      size += line.length;
      dirty = !sync;
    },
    sync() {
      if (dirty && !closed) fsyncSync(fd);
      dirty = false;
    },
    size() {
      return size;
    },
    close() {
      if (closed) return;
      if (dirty) fsyncSync(fd);
      closeSync(fd);
      closed = true;
    },
  };
}
