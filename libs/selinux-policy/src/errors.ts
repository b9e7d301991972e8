/** A binary policy file that cannot be read: corrupt, truncated, hostile or of an unsupported version. */
export class PolicyFormatError extends Error {
  readonly code = 'AVC_ERR_POLICY_FORMAT';
  readonly retriable = false;
  /** Byte offset in the file where the problem was detected. */
  readonly offset: number;
  /** Section being read (`header`, `classes`, `avtab`, ...). */
  readonly section: string;

  constructor(message: string, offset: number, section: string) {
    super(`${message} (section ${section}, offset ${offset})`);
    this.name = 'PolicyFormatError';
    this.offset = offset;
    this.section = section;
  }
}
