export type { CreateLoggerOptions, Logger } from './logger.ts';
export { createLogger, createLogRateLimiter, flushLogger, SECRET_KEYS } from './logger.ts';
export type { Metrics, MetricsOptions } from './metrics.ts';
export { createMetrics, metricName } from './metrics.ts';
export type { ExtraRoute, HealthServer, HealthServerOptions } from './health.ts';
export { createHealthServer } from './health.ts';
export type { RouteWarningsOptions, WarningEmitter } from './warnings.ts';
export { routeProcessWarnings } from './warnings.ts';
