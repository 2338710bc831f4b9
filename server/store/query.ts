// The finding list's SQL. Filters become placeholders and sort keys come from a fixed table, so nothing a
// caller passes is ever part of the SQL text.
import {VERDICTS} from '../../common/types';
import type {Verdict} from '../../common/types';
import {StoreInputError} from './errors';
import {FINDING_STATUSES, type FindingQuery, type FindingSort, type FindingStatus} from './types';

// Large enough for the slash command to look through every finding of a busy cluster in one call; callers
// that need more page with offset and total.
export const MAX_PAGE = 5_000;
export const DEFAULT_PAGE = 100;

const URGENCY = "CASE verdict WHEN 'blocked' THEN 0 WHEN 'external-failed' THEN 1 WHEN 'passthrough' THEN 2 ELSE 3 END";

// Each entry: the order for 'asc' and for 'desc'. Missing log times sort last either way; key breaks ties so
// that pages never overlap.
const ORDER: Record<FindingSort, {asc: string; desc: string}> = {
  urgency: {asc: `${URGENCY} ASC, count DESC, key ASC`, desc: `${URGENCY} DESC, count ASC, key DESC`},
  lastSeen: {asc: 'last_seen IS NULL, last_seen ASC, key ASC', desc: 'last_seen IS NULL, last_seen DESC, key ASC'},
  firstSeen: {asc: 'first_seen IS NULL, first_seen ASC, key ASC', desc: 'first_seen IS NULL, first_seen DESC, key ASC'},
  count: {asc: 'count ASC, key ASC', desc: 'count DESC, key ASC'},
  key: {asc: 'key ASC', desc: 'key DESC'},
  updatedAt: {asc: 'updated_at ASC, key ASC', desc: 'updated_at DESC, key ASC'},
};

const DEFAULT_ORDER: Record<FindingSort, 'asc' | 'desc'> = {
  urgency: 'asc',
  lastSeen: 'desc',
  firstSeen: 'desc',
  count: 'desc',
  key: 'asc',
  updatedAt: 'desc',
};

function list<T extends string>(name: string, value: T | T[] | undefined, allowed: readonly T[]): T[] {
  if (value === undefined) return [];
  const values = Array.isArray(value) ? value : [value];
  for (const v of values) if (!allowed.includes(v)) throw new StoreInputError(`unknown ${name}`);
  return [...new Set(values)];
}

export interface FindingQuerySql {
  countSql: string;
  /** Takes params, then limit and offset. */
  pageSql: string;
  params: string[];
  limit: number;
  offset: number;
}

export function findingQuerySql(q: FindingQuery): FindingQuerySql {
  const statuses = list<FindingStatus>('status', q.status, FINDING_STATUSES);
  const verdicts = list<Verdict>('verdict', q.verdict, VERDICTS);
  const where: string[] = [];
  if (statuses.length > 0) where.push(`status IN (${statuses.map(() => '?').join(', ')})`);
  if (verdicts.length > 0) where.push(`verdict IN (${verdicts.map(() => '?').join(', ')})`);
  const sort: FindingSort = q.sort ?? 'urgency';
  if (!Object.hasOwn(ORDER, sort)) throw new StoreInputError('unknown sort');
  const order = q.order ?? DEFAULT_ORDER[sort];
  if (order !== 'asc' && order !== 'desc') throw new StoreInputError('order is asc or desc');
  const limit = q.limit === undefined ? DEFAULT_PAGE : Math.min(MAX_PAGE, Math.max(1, Math.floor(Number(q.limit) || 1)));
  const offset = q.offset === undefined ? 0 : Math.max(0, Math.floor(Number(q.offset) || 0));
  const whereSql = where.length > 0 ? ` WHERE ${where.join(' AND ')}` : '';
  return {
    countSql: `SELECT COUNT(*) AS n FROM findings${whereSql}`,
    pageSql: `SELECT * FROM findings${whereSql} ORDER BY ${ORDER[sort][order]} LIMIT ? OFFSET ?`,
    params: [...statuses, ...verdicts],
    limit,
    offset,
  };
}
