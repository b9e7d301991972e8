/** Errors of the test kit carry a stable code like every avcstream error. */
export class TestkitError extends Error {
  readonly code: string;
  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'TestkitError';
    this.code = code;
  }
}
