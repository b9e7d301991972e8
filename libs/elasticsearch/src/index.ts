export type {
  BulkDoc,
  BulkFailure,
  BulkOptions,
  BulkResult,
  EsClient,
  EsClientOptions,
  EsLogger,
  EsRetryOptions,
  IndexTemplateDef,
  SearchHit,
  SearchResult,
} from './client.ts';
export { createEsClient, isRetriableEsError, stableId } from './client.ts';
