export { TestkitError } from './errors.ts';
export { uniqueName } from './names.ts';
export type { PinnedVersions } from './versions.ts';
export { parseEnvFile, pinnedVersions, repoRoot } from './versions.ts';
export type { Services, ServicesMode, StartServicesOptions } from './services.ts';
export {
  dockerAvailable,
  elasticsearchOutage,
  getServices,
  restartKafka,
  servicesAvailable,
  startElasticsearch,
  startKafka,
  startServices,
  stopElasticsearch,
  stopKafka,
  stopServices,
  waitForElasticsearch,
  waitForKafka,
} from './services.ts';
