export type TailErrorCode =
  | 'AVC_ERR_TAIL_CHECKPOINT_CORRUPT'
  | 'AVC_ERR_TAIL_READ'
  | 'AVC_ERR_TAIL_STATE'
  | 'AVC_ERR_TAIL_CHECKPOINT_WRITE';

/** Error raised by @avcstream/tail; `code` is stable. */
export class TailError extends Error {
  readonly code: TailErrorCode;
  readonly retriable: boolean;
  constructor(code: TailErrorCode, message: string, options: { cause?: unknown; retriable?: boolean } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'TailError';
    this.code = code;
    this.retriable = options.retriable ?? false;
  }
}
