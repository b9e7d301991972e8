export type { CheckpointStore } from './checkpoint.ts';
export {
  createFileCheckpointStore,
  createMemoryCheckpointStore,
  isPosition,
  parseCheckpoint,
  writeFileAtomic,
} from './checkpoint.ts';
export type { TailErrorCode } from './errors.ts';
export { TailError } from './errors.ts';
export type { FileIdentity, TailPosition } from './identity.ts';
export { sameIdentity } from './identity.ts';
export type { FileEndInfo, Tail, TailChunk, TailLine, TailOptions, TailStats } from './tail.ts';
export { createTail } from './tail.ts';
