/** Options of an {@link AvcError}. */
export interface AvcErrorOptions {
  /** True when retrying the same operation later may succeed (network, 429, 5xx, broker not available). */
  retriable?: boolean;
  cause?: unknown;
  /** Structured, non-secret detail for logs (never attacker text in `message`). */
  details?: Record<string, unknown>;
}

const CODE_RE = /^AVC_ERR_[A-Z0-9]+(?:_[A-Z0-9]+)+$/;

/**
 * Base class of every avcstream error. `code` is stable (`AVC_ERR_<AREA>_<WHAT>`), `retriable` tells callers
 * whether to retry, `cause` keeps the underlying error.
 */
export class AvcError extends Error {
  readonly code: string;
  readonly retriable: boolean;
  readonly details: Record<string, unknown>;

  constructor(code: string, message: string, options: AvcErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    if (!CODE_RE.test(code)) {
      throw new TypeError(`invalid error code ${JSON.stringify(code)}: expected AVC_ERR_<AREA>_<WHAT>`);
    }
    this.name = new.target.name;
    this.code = code;
    this.retriable = options.retriable ?? false;
    this.details = options.details ?? {};
  }

  toJSON(): Record<string, unknown> {
    return {
      name: this.name,
      code: this.code,
      message: this.message,
      retriable: this.retriable,
      details: this.details,
    };
  }
}

/** True for an {@link AvcError} (or any error carrying a string `code` starting with `AVC_ERR_`). */
export function isAvcError(err: unknown): err is AvcError {
  return (
    err instanceof AvcError ||
    (typeof err === 'object' &&
      err !== null &&
      typeof (err as { code?: unknown }).code === 'string' &&
      (err as { code: string }).code.startsWith('AVC_ERR_'))
  );
}

/** Whether an error is worth retrying: AvcError.retriable, or kafkajs/undici-style `retriable` flags. */
export function isRetriable(err: unknown): boolean {
  if (typeof err === 'object' && err !== null && typeof (err as { retriable?: unknown }).retriable === 'boolean') {
    return (err as { retriable: boolean }).retriable;
  }
  return false;
}
