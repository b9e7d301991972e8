export type { StoreErrorCode } from './errors.ts';
export { StoreError } from './errors.ts';
export type {
  BatchInput,
  ClaimInput,
  ClaimResult,
  SignatureRecord,
  Store,
  StoreOptions,
  StoreStats,
  StoredAlert,
  WindowChanges,
  WindowRecord,
} from './store.ts';
export { openStore } from './store.ts';
