export { parseBooleans, parseBooleanValue, BooleanFileError } from './booleans.ts';
export { AccessInputError, type AccessVectors, computeAv } from './compute-av.ts';
export { type Context, type ContextResult, parseContext } from './context.ts';
export {
  type BoolState,
  type Decision,
  decide,
  makeBoolState,
  REASON_BOUNDS,
  REASON_CONSTRAINT,
  REASON_RBAC,
  REASON_TE,
} from './decide.ts';
export { createExplainer, type Explainer, type ExplainerOptions } from './explain.ts';
export { cautionOfEvidence } from './sensitive.ts';
export type {
  BlastRadius,
  BooleanSuggestion,
  Denial,
  Explanation,
  Fix,
  Verdict,
} from './types.ts';
export { readBooleans } from './booleans-fs.ts';
export {
  defaultLabelAt,
  defaultLabelOf,
  FILE_CLASSES,
  type FileContextMatch,
  type FileContexts,
  type FileContextsError,
  type FileContextsSource,
  parseFileContexts,
} from './file-contexts.ts';
export {
  FileContextsFileTooLarge,
  type FileContextsFiles,
  fileContextsFor,
  fileContextsOf,
  hostPolicyType,
  MAX_FILE_CONTEXTS_BYTES,
  readFileContextsFiles,
} from './file-contexts-fs.ts';
export { readFileBounded } from './read-bounded.ts';
