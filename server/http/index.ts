export {buildHttpApp} from './app';
export {ADMIN_ROLE, CSRF_COOKIE, CSRF_HEADER, SESSION_COOKIE} from './auth';
export {createBridgeLogger, REDACT_PATHS, scrubUrl} from './logging';
export {ACTION_PATH, COMMAND_PATH} from './mattermost';
export {createMattermostSessionVerifier, type MattermostSessionOptions} from './mattermost-session';
export {createBridgeMetrics, type BridgeMetrics, type BridgeMetricsOptions, type FindingCountRow} from './metrics';
export {HEALTHZ_PATH, METRICS_PATH, READYZ_PATH} from './ops';
export {DEFAULT_SESSION_CACHE_SIZE, DEFAULT_SESSION_TTL_MS} from './session-cache';
export * from './types';
