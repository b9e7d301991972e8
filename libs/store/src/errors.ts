export type StoreErrorCode =
  | 'AVC_ERR_STORE_LOCKED'
  | 'AVC_ERR_STORE_SNAPSHOT_CORRUPT'
  | 'AVC_ERR_STORE_IO'
  | 'AVC_ERR_STORE_RECORD_TOO_LARGE'
  | 'AVC_ERR_STORE_CLOSED';

/** Error raised by @avcstream/store; `code` is stable. */
export class StoreError extends Error {
  readonly code: StoreErrorCode;
  readonly retriable: boolean;
  constructor(code: StoreErrorCode, message: string, options: { cause?: unknown; retriable?: boolean } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'StoreError';
    this.code = code;
    this.retriable = options.retriable ?? false;
  }
}
