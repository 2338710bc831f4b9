export * from './types';
export * from './errors';
export {backoffDelayMs, nextAttemptAt, DEFAULT_BACKOFF, type BackoffPolicy} from './backoff';
export {MIGRATIONS, SCHEMA_VERSION, migrate, type Migration, type MigrationReport} from './migrations';
export {mergeFinding} from './merge';
export {observationFromStats} from './observations';
export {openSqliteStore, SqliteStore, type SqliteStoreOptions} from './sqlite';
