// Test helpers of @avcstream/report (`@avcstream/report/testing`): not for production code.
export type { GenerateOptions, Generated, GeneratedTruth } from './generate.ts';
export { generateAuditLog } from './generate.ts';
