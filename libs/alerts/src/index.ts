export type { Alerter, AlerterOptions, AlerterStats } from './alerter.ts';
export { alertId, createAlerter } from './alerter.ts';
export { compileIgnore } from './ignore.ts';
export type { RateLimiter, RateWindow } from './rate-limit.ts';
export { createRateLimiter } from './rate-limit.ts';
export type {
  CreateIfAbsent,
  FindPending,
  GetDocument,
  PendingDocument,
  StoreLike,
  UpdateDocument,
} from './registry.ts';
export { createEsRegistry, createMemoryRegistry, createStoreRegistry, pendingQuery } from './registry.ts';
export { signaturesOf } from './signature.ts';
export type { AlertLogger, AlertProducer, WebhookSinkOptions } from './sinks.ts';
export {
  ALERT_LOG_MESSAGE,
  ALERTS_TOPIC,
  createConsoleSink,
  createKafkaSink,
  createLogSink,
  createWebhookSink,
  formatAlert,
  REPEAT_LOG_MESSAGE,
  signBody,
  terminalSafe,
  WebhookError,
} from './sinks.ts';
export type {
  Alert,
  AlertKind,
  AlertScope,
  AlertSink,
  AvcLike,
  BooleanSuggestionLike,
  ClaimRequest,
  ClaimResult,
  DenialContext,
  ExplanationLike,
  FixLike,
  RateWindowRecord,
  SignatureInfo,
  SignatureOptions,
  SignatureRegistry,
} from './types.ts';
