export type { DeniedGroupRow, SampleDimension, SampleRow } from './aggregate.ts';
export { foldDeniedGroups } from './aggregate.ts';
export type { ReportErrorCode } from './errors.ts';
export { ReportError } from './errors.ts';
export { escapeHtml, escapeText } from './escape.ts';
export type { Matcher } from './glob.ts';
export { compileGlob, compileGlobList } from './glob.ts';
export { REPORT_CSP, renderHtml } from './render-html.ts';
export { parseSummaryJson, renderJson } from './render-json.ts';
export type { RenderOptions } from './render-text.ts';
export { renderText } from './render-text.ts';
export type { DeniedAggregate, MalformedLineLookup, SummaryBuilder } from './summary.ts';
export {
  buildSummary,
  createSummaryBuilder,
  DEFAULT_LIMITS,
  isSelinuxRecordType,
  objectPathOf,
} from './summary.ts';
export type { TimeBoundOptions } from './time.ts';
export { parseTimeBound, TIME_KEYWORDS } from './time.ts';
export type {
  AllowRow,
  AvcLike,
  BooleanChangeRow,
  ConfigChangeRow,
  ContextLike,
  DenialInput,
  EnforcementToggleRow,
  EventLike,
  ExplainLookup,
  ExplanationLike,
  MalformedLineInput,
  MalformedLineRow,
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
  VerdictCount,
  ViewCriteria,
  ViewDefinition,
  ViewResult,
} from './types.ts';
export type { ViewSubject } from './views.ts';
export { compileView, parseViews } from './views.ts';
