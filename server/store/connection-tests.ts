// Mattermost's connection test results as rows, one per test, shared by both stores: two replicas testing at
// once each insert their own row, so neither can overwrite the other's (as one JSON value in `meta` could).
// The history stays bounded: after each insert only the newest rows of that integration are kept.
import type {ConnectionTestResult} from '../../common/connection-tests';
import {StoreInputError} from './errors';
import {requireText} from './sanitize';

/** Results kept per integration; the page shows 10, a finding 20. */
export const CONNECTION_TESTS_KEPT = 50;
/** A result is a few hundred bytes; Mattermost's message in it is what could grow. */
export const MAX_TEST_RESULT_BYTES = 16 * 1024;
const MAX_LIST = 1_000;

export interface ConnectionTestRow {
  id: string;
  kind: string;
  started_at: number;
  result: string;
}

export interface ConnectionTestQuery {
  /** Only this integration's results. */
  kind?: string;
  /** 1..1000, default 100. */
  limit?: number;
}

/** Checks what goes in: an id and kind of reasonable size, a valid start time, JSON within bounds. */
export function connectionTestRow(r: ConnectionTestResult): ConnectionTestRow {
  if (r === null || typeof r !== 'object') throw new StoreInputError('a connection test result must be an object');
  const id = requireText('test id', r.id, 64);
  const kind = requireText('test kind', r.kind, 64);
  const started = typeof r.startedAt === 'string' ? Date.parse(r.startedAt) : NaN;
  if (!Number.isFinite(started)) throw new StoreInputError('a connection test result needs a valid startedAt');
  const result = JSON.stringify(r);
  if (Buffer.byteLength(result, 'utf8') > MAX_TEST_RESULT_BYTES)
    throw new StoreInputError(`a connection test result is larger than ${MAX_TEST_RESULT_BYTES} bytes`);
  return {id, kind, started_at: started, result};
}

export function connectionTestOf(row: Pick<ConnectionTestRow, 'result'>): ConnectionTestResult {
  return JSON.parse(row.result) as ConnectionTestResult;
}

export function listLimit(q: ConnectionTestQuery): number {
  const n = q.limit ?? 100;
  return Math.min(MAX_LIST, Math.max(1, Math.floor(Number.isFinite(n) ? n : 100)));
}

export function keptPerKind(keep: number | undefined): number {
  const n = keep ?? CONNECTION_TESTS_KEPT;
  return Math.max(1, Math.floor(Number.isFinite(n) ? n : CONNECTION_TESTS_KEPT));
}

/** Newest first: by start time, then by insertion for tests that started in the same millisecond. */
export const CONNECTION_TEST_ORDER = 'ORDER BY started_at DESC, seq DESC';

/** The meta key the history was kept under, as one JSON array, before it had a table. */
export const LEGACY_HISTORY_META = 'connection-tests';
