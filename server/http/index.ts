export {buildHttpApp} from './app';
export {createBridgeLogger, REDACT_PATHS, scrubUrl} from './logging';
export {ACTION_PATH, COMMAND_PATH, SETTINGS_PATH} from './mattermost';
export {createBridgeMetrics, type BridgeMetrics, type BridgeMetricsOptions, type FindingCountRow} from './metrics';
export {HEALTHZ_PATH, METRICS_PATH, READYZ_PATH} from './ops';
export {DEFAULT_SIGNATURE_WINDOW_MS, signatureHeaders} from './signature';
export * from './types';
