import { open, readFile, rename, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { TailError } from './errors.ts';
import type { TailPosition } from './identity.ts';

/** Where a tail keeps its checkpoint. The embedded mode plugs its durable store in here. */
export interface CheckpointStore {
  load(): Promise<TailPosition | null>;
  save(position: TailPosition): Promise<void>;
}

const MAX_CHECKPOINT_BYTES = 64 * 1024;

/**
 * Write `data` to `file` atomically and durably: temp file in the same directory, fsync, rename over the
 * target, fsync the directory. A crash at any point leaves either the old or the new content.
 */
export async function writeFileAtomic(file: string, data: string | Uint8Array): Promise<void> {
  const dir = dirname(file);
  const tmp = join(dir, `.${basename(file)}.${process.pid}.${Date.now()}.tmp`);
  const fh = await open(tmp, 'w', 0o600);
  try {
    await fh.writeFile(data);
    await fh.sync();
  } finally {
    await fh.close();
  }
  try {
    await rename(tmp, file);
  } catch (err) {
    await unlink(tmp).catch(() => {});
    throw err;
  }
  const dh = await open(dir, 'r');
  try {
    await dh.sync();
  } finally {
    await dh.close();
  }
}

export function parseCheckpoint(text: string): TailPosition {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (err) {
    throw new TailError('AVC_ERR_TAIL_CHECKPOINT_CORRUPT', 'checkpoint is not valid JSON', { cause: err });
  }
  if (!isPosition(v)) {
    throw new TailError('AVC_ERR_TAIL_CHECKPOINT_CORRUPT', 'checkpoint does not have the expected shape');
  }
  return { identity: { ...v.identity }, offset: v.offset };
}

export function isPosition(v: unknown): v is TailPosition {
  if (typeof v !== 'object' || v === null) return false;
  const p = v as { identity?: unknown; offset?: unknown };
  if (!Number.isSafeInteger(p.offset) || (p.offset as number) < 0) return false;
  const id = p.identity as { dev?: unknown; ino?: unknown; fpLen?: unknown; fp?: unknown } | null;
  return (
    typeof id === 'object' &&
    id !== null &&
    typeof id.dev === 'number' &&
    typeof id.ino === 'number' &&
    Number.isSafeInteger(id.fpLen) &&
    typeof id.fp === 'string' &&
    /^[0-9a-f]{64}$/.test(id.fp)
  );
}

/** A checkpoint kept in its own JSON file, replaced atomically on every save. */
export function createFileCheckpointStore(file: string): CheckpointStore {
  return {
    async load() {
      let text: string;
      try {
        const fh = await open(file, 'r');
        try {
          const st = await fh.stat();
          if (st.size > MAX_CHECKPOINT_BYTES) {
            throw new TailError('AVC_ERR_TAIL_CHECKPOINT_CORRUPT', 'checkpoint file is too large');
          }
        } finally {
          await fh.close();
        }
        text = await readFile(file, 'utf8');
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
        throw err;
      }
      return parseCheckpoint(text);
    },
    async save(position) {
      try {
        await writeFileAtomic(file, `${JSON.stringify(position)}\n`);
      } catch (err) {
        throw new TailError('AVC_ERR_TAIL_CHECKPOINT_WRITE', 'could not write the checkpoint', {
          cause: err,
          retriable: true,
        });
      }
    },
  };
}

/** An in-memory checkpoint store, for tests and for `--no-checkpoint` runs. */
export function createMemoryCheckpointStore(initial: TailPosition | null = null): CheckpointStore & {
  readonly saved: TailPosition[];
} {
  let current = initial;
  const saved: TailPosition[] = [];
  return {
    saved,
    async load() {
      return current;
    },
    async save(position) {
      current = position;
      saved.push(position);
    },
  };
}
