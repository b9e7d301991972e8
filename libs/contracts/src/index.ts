export { BOUNDS, TOPICS } from './bounds.ts';
export type {
  DeadLetterMessage,
  DeadLetterSource,
  EventMessage,
  FileContextsBundle,
  FileSource,
  PolicyChunkMessage,
  PolicyMessage,
  PolicyRef,
  PolicyStateMessage,
} from './kafka.ts';
export {
  auditEventSchema,
  auditRecordSchema,
  avcInfoSchema,
  deadLetterMessageSchema,
  eventEnvelopeSchema,
  eventMessageSchema,
  fileContextsBundleSchema,
  policyChunkMessageSchema,
  policyMessageSchema,
  policyStateMessageSchema,
  securityContextSchema,
} from './kafka.ts';
export type { ContractViolation, Decoded } from './codec.ts';
export {
  assemblePolicy,
  chunkPolicy,
  decodeDeadLetterMessage,
  decodeEventMessage,
  decodeFileContextsBundle,
  decodePolicyMessage,
  encodeDeadLetterMessage,
  encodeEventMessage,
  encodeFileContextsBundle,
  encodePolicyMessage,
  eventBoundsViolation,
  makeDeadLetter,
  policyChunkKey,
  policyStateId,
  policyStateKey,
  sha256Hex,
} from './codec.ts';
export type { DecisionDoc, DenialDoc, SelinuxEventDoc, SignatureDoc } from './es.ts';
export {
  AUDITD_BOUNDS,
  AUDITD_PATH_KEYS,
  decisionSchema,
  denialDocSchema,
  docId,
  indexNames,
  selinuxEventDocSchema,
  signatureDocSchema,
  VERDICTS,
} from './es.ts';
export { ES_MAPPINGS } from './mappings.ts';
