/** Config: schema, embedded default, loading (DESIGN.md §5 "Config"). */
export { DEFAULT_CONFIG_YAML } from './default.js';
export { describeConfig } from './describe.js';
export { CONFIG_LIMITS, defaultConfig, loadConfig, numberParam, parseConfig, ruleSettings, type ConfigResult } from './load.js';
export type * from './types.js';
export { SIP_WS_DEFAULTS } from './schema.js';
export { PEER_CLASSES, PEER_TRUST, TRANSPORTS } from './types.js';
