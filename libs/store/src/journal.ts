import { closeSync, fsyncSync, ftruncateSync, openSync, writeSync } from 'node:fs';
import { crc32 } from 'node:zlib';
import { readIfExists } from './fsutil.ts';

/**
 * Append-only journal: one record per line, `<crc32 hex8> <json>\n`. A torn or corrupt tail (a crash in the
 * middle of a write) is detected by the checksum and cut off when the journal is opened.
 */
export function encodeRecord(record: unknown): string {
  const json = JSON.stringify(record);
  return `${crc32(json).toString(16).padStart(8, '0')} ${json}\n`;
}

export interface JournalRead {
  records: unknown[];
  /** Byte length of the valid prefix. */
  validBytes: number;
  /** Bytes dropped after the valid prefix (torn write). */
  droppedBytes: number;
}

export function readJournal(file: string): JournalRead {
  const buf = readIfExists(file);
  if (buf === null) return { records: [], validBytes: 0, droppedBytes: 0 };
  const records: unknown[] = [];
  let pos = 0;
  while (pos < buf.length) {
    const nl = buf.indexOf(0x0a, pos);
    if (nl === -1) break;
    const line = buf.toString('utf8', pos, nl);
    const sp = line.indexOf(' ');
    if (sp !== 8) break;
    const json = line.slice(9);
    if (crc32(json).toString(16).padStart(8, '0') !== line.slice(0, 8)) break;
    try {
      records.push(JSON.parse(json));
    } catch {
      break;
    }
    pos = nl + 1;
  }
  return { records, validBytes: pos, droppedBytes: buf.length - pos };
}

export interface JournalWriter {
  append(record: unknown, sync: boolean): void;
  sync(): void;
  size(): number;
  close(): void;
}

export function openJournalWriter(file: string, validBytes: number): JournalWriter {
  const fd = openSync(file, 'a+', 0o600);
  ftruncateSync(fd, validBytes);
  let size = validBytes;
  let dirty = false;
  let closed = false;
  return {
    append(record, sync) {
      const line = Buffer.from(encodeRecord(record), 'utf8');
      let off = 0;
      while (off < line.length) off += writeSync(fd, line, off, line.length - off);
      size += line.length;
      dirty = true;
      if (sync) {
        fsyncSync(fd);
        dirty = false;
      }
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
