export { ReportError } from './errors.ts';
export type { ReportErrorCode } from './errors.ts';
export { escapeHtml, escapeText } from './escape.ts';
export { compileGlob, compileGlobList } from './glob.ts';
export type { Matcher } from './glob.ts';
export { parseTimeBound } from './time.ts';
export { compileView, parseViews } from './views.ts';
export type { ViewSubject } from './views.ts';
export { buildSummary, createSummaryBuilder, DEFAULT_LIMITS, isSelinuxRecordType } from './summary.ts';
export type { SummaryBuilder } from './summary.ts';
export { renderText } from './render-text.ts';
export type { RenderOptions } from './render-text.ts';
export { REPORT_CSP, renderHtml } from './render-html.ts';
export { parseSummaryJson, renderJson } from './render-json.ts';
export type {
  AllowRow,
  AvcLike,
  BooleanChangeRow,
  ContextLike,
  DenialInput,
  EnforcementToggleRow,
  EventLike,
  ExplainLookup,
  ExplanationLike,
  GroupExplanation,
  PolicyLoadRow,
  RankedCount,
  RecordLike,
  Signature,
  SignatureGroup,
  Statistics,
  Summary,
  SummaryLimits,
  SummaryOptions,
  Timeline,
  TimelineBucket,
  Truncation,
  ViewCriteria,
  ViewDefinition,
  ViewResult,
} from './types.ts';
