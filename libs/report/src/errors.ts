/** Errors of @avcstream/report. Only configuration input (view files, time bounds) throws. */
export type ReportErrorCode = 'AVC_ERR_REPORT_VIEWS' | 'AVC_ERR_REPORT_TIME' | 'AVC_ERR_REPORT_SUMMARY';

export class ReportError extends Error {
  readonly code: ReportErrorCode;
  readonly retriable = false;

  constructor(code: ReportErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'ReportError';
    this.code = code;
  }
}
