// The query of GET findings, checked by hand rather than by a JSON schema: lists come comma-separated or
// repeated, and a refusal should name the values that would have worked.
import {FINDING_SORTS, FINDING_STATUSES, MAX_SEARCH_CHARS, type FindingSort, type FindingStatus, type SortOrder} from '../../common/api';
import {VERDICTS, type Verdict} from '../../common/types';
import type {FindingQuery} from '../store/types';
import {HttpError} from './errors';

export const MAX_LIMIT = 500;
export const DEFAULT_LIMIT = 100;
const MAX_OFFSET = 1_000_000;
const KNOWN = ['status', 'verdict', 'q', 'sort', 'order', 'limit', 'offset'];

export interface ParsedFindingsQuery {
  filter: Pick<FindingQuery, 'status' | 'verdict' | 'sort' | 'order'>;
  q: string | null;
  limit: number;
  offset: number;
}

function values(raw: unknown): string[] {
  const items = Array.isArray(raw) ? raw : [raw];
  return items
    .filter((v): v is string => typeof v === 'string')
    .flatMap((v) => v.split(','))
    .map((v) => v.trim())
    .filter((v) => v !== '');
}

function single(name: string, raw: unknown): string | undefined {
  if (raw === undefined) return undefined;
  if (Array.isArray(raw)) throw new HttpError(400, 'invalid_request', `query parameter ${name} is given more than once`);
  return typeof raw === 'string' ? raw : undefined;
}

function oneOf<T extends string>(name: string, value: string, allowed: readonly T[]): T {
  if (!(allowed as readonly string[]).includes(value)) {
    throw new HttpError(400, 'invalid_request', `${name} must be one of: ${allowed.join(', ')}`, {allowed: [...allowed]});
  }
  return value as T;
}

function integer(name: string, raw: string | undefined, min: number, max: number, fallback: number): number {
  if (raw === undefined || raw === '') return fallback;
  const n = /^\d{1,9}$/.test(raw) ? Number(raw) : NaN;
  if (!Number.isInteger(n) || n < min || n > max) {
    throw new HttpError(400, 'invalid_request', `${name} must be a whole number from ${min} to ${max}`);
  }
  return n;
}

export function parseFindingsQuery(raw: Record<string, unknown>): ParsedFindingsQuery {
  for (const name of Object.keys(raw)) {
    if (!KNOWN.includes(name)) {
      throw new HttpError(400, 'invalid_request', `unknown query parameter ${JSON.stringify(name.slice(0, 50))}; known: ${KNOWN.join(', ')}`, {
        allowed: KNOWN,
      });
    }
  }
  const filter: ParsedFindingsQuery['filter'] = {};
  const statuses = values(raw.status).map((v) => oneOf<FindingStatus>('status', v, FINDING_STATUSES));
  if (statuses.length > 0) filter.status = [...new Set(statuses)];
  const verdicts = values(raw.verdict).map((v) => oneOf<Verdict>('verdict', v, VERDICTS));
  if (verdicts.length > 0) filter.verdict = [...new Set(verdicts)];
  const sort = single('sort', raw.sort);
  if (sort) filter.sort = oneOf<FindingSort>('sort', sort, FINDING_SORTS);
  const order = single('order', raw.order);
  if (order) filter.order = oneOf<SortOrder>('order', order, ['asc', 'desc']);

  const q = (single('q', raw.q) ?? '').trim();
  if (q.length > MAX_SEARCH_CHARS) throw new HttpError(400, 'invalid_request', `q must be at most ${MAX_SEARCH_CHARS} characters`);

  return {
    filter,
    q: q === '' ? null : q,
    limit: integer('limit', single('limit', raw.limit), 1, MAX_LIMIT, DEFAULT_LIMIT),
    offset: integer('offset', single('offset', raw.offset), 0, MAX_OFFSET, 0),
  };
}
