export {
  argvToObject,
  CONFIG_EXIT_CODE,
  ConfigError,
  deepFreeze,
  deepMerge,
  ENV_PREFIX,
  envSegmentToKey,
  envToObject,
  loadConfig,
  redactConfig,
  zBool,
  zBrokers,
  zHttpUrl,
  zInt,
  zList,
} from './config.ts';
export { loadServiceConfig, readConfigFile, splitConfigArg } from './file.ts';
