// The store's rules, once for both dialects: what a batch must look like, when it is a replay, how its lines
// merge into the findings (with the findings limit of capacity.ts), which status changes happen and which
// decisions they record. Pure: sqlite.ts and postgres.ts read the rows these functions need, hand them in,
// and write what comes back, each in its own SQL and its own transaction (SQLite's is synchronous,
// PostgreSQL's is not, which is why the rules return plans instead of calling the database).
import {MAX_REASON_CHARS} from '../../common/api';
import type {Finding} from '../../common/types';
import type {Reattribution} from '../engine/findings';
import {EVICTED_META, mustKeep, OVERFLOW_DESTINATIONS_META, OVERFLOW_LINES_META, pickRoom} from './capacity';
import {ResumeConflictError, StaleDecisionError, StoreInputError} from './errors';
import {mergeFinding, renamedFinding} from './merge';
import {contentOf, findingOf, resumeOf, sameContent, type FindingContent, type FindingRow, type ResumeRow} from './rows';
import {normaliseObservation, requireActor, requireText, text} from './sanitize';
import type {Actor, ApplyResult, BatchChanges, DecisionAction, MetaUpdate, ObservationBatch, StoreLimits} from './types';

export const HOUR_MS = 3_600_000;
export const DAY_MS = 24 * HOUR_MS;
/** Longest texts a caller may hand in; longer is refused (StoreInputError), never cut. */
export const MAX_SOURCE_ID = 512;
export const MAX_POSITION = 4_096;
// UTF-16 units, as the store counts them: every reason the API and /egress accept (MAX_REASON_CHARS code points) fits.
export const MAX_REASON = 2 * MAX_REASON_CHARS;
export const MAX_META_KEY = 256;
export const MAX_META_VALUE = 64 * 1024;

/**
 * Hour the lines are counted in, by their log time. A clock far ahead (or a forged time) counts as now,
 * so that it cannot plant history beyond pruning's reach.
 */
export function hourOf(lastSeen: string | null, now: number): number {
  const t = lastSeen === null ? NaN : Date.parse(lastSeen);
  const ms = Number.isFinite(t) && t <= now + HOUR_MS ? t : now;
  return Math.floor(ms / HOUR_MS) * HOUR_MS;
}

/** Lookups normalise the key as applyBatch stored it, so a finding is found by the key it was given. */
export function findingKey(key: string, limits: StoreLimits): string {
  if (typeof key !== 'string' || key.length === 0) throw new StoreInputError('a finding key must be a non-empty string');
  return text(key, limits.textChars);
}

/** A caller's time, or the store's clock when none is given. */
export function timeOf(d: Date | undefined, clock: () => number): number {
  if (d === undefined) return clock();
  const t = d instanceof Date ? d.getTime() : NaN;
  if (!Number.isFinite(t)) throw new StoreInputError('the time must be a valid Date');
  return t;
}

export interface PreparedBatch {
  sourceId: string;
  from: string | null | undefined;
  position: string;
  deltas: Finding[];
  notify: ObservationBatch['notify'];
  meta: MetaUpdate[];
}

/** Checks and normalises a batch before any transaction starts. */
export function prepareBatch(batch: ObservationBatch, limits: StoreLimits): PreparedBatch {
  const sourceId = requireText('sourceId', batch.sourceId, MAX_SOURCE_ID);
  const position = requireText('position', batch.position, MAX_POSITION, true);
  const from = batch.from === undefined || batch.from === null ? batch.from : requireText('from', batch.from, MAX_POSITION, true);
  if (!Array.isArray(batch.observations)) throw new StoreInputError('observations must be an array');
  const deltas = batch.observations.map((o) => normaliseObservation(o, limits));
  const lines = deltas.reduce((n, d) => n + d.count, 0);
  // Replays are recognised by the position moving; a batch with lines that does not move it could be
  // applied twice without anyone noticing.
  if (from !== undefined && from === position && lines > 0) throw new StoreInputError('a batch with lines must move the resume point');
  const meta = (batch.meta ?? []).map((m) => ({key: requireText('meta key', m.key, MAX_META_KEY), update: m.update}));
  return {sourceId, from, position, deltas, notify: batch.notify, meta};
}

/** A batch's meta update applied to the stored value, checked as setMeta checks what it stores. */
export function metaValue(m: MetaUpdate, current: string | null): string {
  return requireText('meta value', m.update(current), MAX_META_VALUE, true);
}

/**
 * Null when the batch applies on top of the stored resume point; the answer for a replay of the batch that
 * already moved it there (nothing changes); ResumeConflictError when another writer moved it elsewhere.
 */
export function replayOf(b: PreparedBatch, current: ResumeRow | undefined): ApplyResult | null {
  if (b.from === undefined || (current?.position ?? null) === b.from) return null;
  if (current === undefined || current.position !== b.position) throw new ResumeConflictError(b.sourceId, b.from, current?.position ?? null);
  return {
    applied: false,
    resumePoint: resumeOf(current),
    newKeys: [],
    changedKeys: [],
    reopenedKeys: [],
    overflowLines: 0,
    overflowDestinations: 0,
    evictedKeys: [],
    outboxIds: [],
  };
}

/** The distinct keys of a batch in one order, the order PostgreSQL writers lock them in (so they cannot deadlock). */
export function batchKeys(deltas: readonly Finding[]): string[] {
  return [...new Set(deltas.map((d) => d.key))].sort();
}

/** How many rows of ROOM_CANDIDATES_SQL to read, or 0 when the batch cannot reach the limit. */
export function roomCandidatesNeeded(stored: number, newKeys: number, limits: StoreLimits, perEviction: number): number {
  return newKeys > 0 && stored + newKeys > limits.maxFindings ? perEviction + newKeys : 0;
}

export interface BatchPlan {
  /** In this order: evictions, inserts, content updates, reopenings (each with its decision), history. */
  evict: string[];
  insert: {key: string; content: FindingContent}[];
  update: {key: string; content: FindingContent}[];
  reopen: string[];
  /** Lines per (key, hour), sorted by hour and key. */
  history: {key: string; hour: number; count: number}[];
  /** Meta counters to add to (capacity.ts), only those that grow. */
  counters: {key: string; add: number}[];
  changes: BatchChanges;
}

export const REOPEN_REASON = 'traffic seen again';

/**
 * How a batch's deltas merge into the stored findings. `rows` are the stored findings of the batch's keys,
 * `stored` how many findings the store holds (needed only when a key is new), `candidates` the rows of
 * ROOM_CANDIDATES_SQL (needed only at the limit, see roomCandidatesNeeded).
 */
export function planBatch(
  deltas: readonly Finding[],
  rows: ReadonlyMap<string, FindingRow>,
  stored: number,
  candidates: readonly {key: string; attribution: string}[],
  limits: StoreLimits,
  now: number,
): BatchPlan {
  const keys = new Set(deltas.map((d) => d.key));
  // What each key holds as the batch goes on: a key may come twice.
  const current = new Map<string, {finding: Finding; status: string}>();
  for (const [key, row] of rows) current.set(key, {finding: findingOf(row), status: row.status});
  const created = new Set<string>();
  const reopened = new Set<string>();
  const evicted: string[] = [];
  const taken = new Set<string>();
  const history = new Map<string, {key: string; hour: number; count: number}>();
  let findings = stored;
  let overflowLines = 0;
  let overflowDestinations = 0;

  for (const delta of deltas) {
    const held = current.get(delta.key);
    if (held === undefined) {
      const fresh = mergeFinding(null, delta, limits);
      if (findings >= limits.maxFindings) {
        if (!mustKeep(fresh)) {
          overflowLines += delta.count;
          overflowDestinations += 1;
          continue;
        }
        const room = pickRoom(
          candidates.filter((c) => !taken.has(c.key)),
          keys,
        );
        if (room !== null) {
          taken.add(room);
          evicted.push(room);
          findings -= 1;
        }
      }
      current.set(delta.key, {finding: fresh, status: 'open'});
      created.add(delta.key);
      findings += 1;
    } else {
      held.finding = mergeFinding(held.finding, delta, limits);
      if (held.status === 'resolved' && delta.count > 0) {
        held.status = 'open';
        reopened.add(delta.key);
      }
    }
    if (delta.count > 0) {
      const hour = hourOf(delta.lastSeen, now);
      const hk = `${hour}\u0000${delta.key}`;
      const h = history.get(hk);
      if (h) h.count += delta.count;
      else history.set(hk, {key: delta.key, hour, count: delta.count});
    }
  }

  const insert: BatchPlan['insert'] = [];
  const update: BatchPlan['update'] = [];
  const changed = new Set<string>();
  for (const key of keys) {
    const held = current.get(key);
    if (held === undefined) continue;
    const content = contentOf(held.finding);
    if (created.has(key)) insert.push({key, content});
    else {
      // The row's JSON columns were written by contentOf, so they compare equal to it when nothing changed.
      const row = rows.get(key) as FindingRow;
      if (!sameContent(row, content)) {
        update.push({key, content});
        changed.add(key);
      }
      if (reopened.has(key)) changed.add(key);
    }
  }
  const counters = [
    {key: OVERFLOW_LINES_META, add: overflowLines},
    {key: OVERFLOW_DESTINATIONS_META, add: overflowDestinations},
    {key: EVICTED_META, add: evicted.length},
  ].filter((c) => c.add > 0);
  return {
    evict: evicted,
    insert,
    update,
    reopen: [...reopened],
    history: [...history.values()].sort((a, b) => a.hour - b.hour || (a.key < b.key ? -1 : a.key > b.key ? 1 : 0)),
    counters,
    changes: {
      newKeys: [...created],
      changedKeys: [...changed],
      reopenedKeys: [...reopened],
      overflowLines,
      overflowDestinations,
      evictedKeys: evicted,
    },
  };
}

/** What becomes of an open finding named again: nothing, new columns under its key, or a move to a named key. */
export type ReattributionPlan =
  | {kind: 'update'; attribution: string; features: string}
  | {
      kind: 'move';
      to: string;
      /** The moved finding's content, merged with the target's when there is one. */
      content: FindingContent;
      /** The target finding was resolved: it opens again, since the moved finding's lines are open. */
      reopen: string | null;
    };

/**
 * What `next` (server/engine/findings.ts reattribute) makes of an open finding, as stored; null when nothing
 * changes. `target` is the row under findingKey(next.key) when that is another key than the row's.
 */
export function reattribution(row: FindingRow, next: Reattribution, target: FindingRow | undefined, limits: StoreLimits): ReattributionPlan | null {
  const to = findingKey(next.key, limits);
  if (to !== row.key) {
    const content = contentOf(renamedFinding(findingOf(row), {...next, key: to}, target === undefined ? null : findingOf(target), limits));
    return {kind: 'move', to, content, reopen: target?.status === 'resolved' ? `open traffic to ${row.key} turned out to be this destination` : null};
  }
  const attribution = JSON.stringify(next.attribution);
  const features = JSON.stringify(next.features.slice(0, limits.features));
  return attribution === row.attribution && features === row.features ? null : {kind: 'update', attribution, features};
}

/** An administrator's decision about a finding, or the bridge's own resolution. */
export type StatusRequest =
  | {
      action: 'ignore';
      by: Actor;
      reason: string;
      at: number;
      /** The id of the last ignore or un-ignore the caller knew of (0: none); see StatusChangeOptions.decidedUpTo. */
      decidedUpTo?: number;
    }
  | {action: 'unignore'; by: Actor; reason: string; at: number; decidedUpTo?: number}
  | {action: 'resolve'; reason: string; at: number};

/** Checks what a person handed in, before the transaction. */
export function statusRequest(
  action: 'ignore' | 'unignore',
  by: Actor,
  reason: string,
  at: number,
  decidedUpTo: number | undefined,
): Extract<StatusRequest, {action: 'ignore' | 'unignore'}> {
  if (decidedUpTo !== undefined && !(Number.isSafeInteger(decidedUpTo) && decidedUpTo >= 0)) {
    throw new StoreInputError('decidedUpTo must be a whole number of 0 or more');
  }
  return {action, by: requireActor(by), reason: requireText('reason', reason, MAX_REASON, true), at, ...(decidedUpTo === undefined ? {} : {decidedUpTo})};
}

/** The latest ignore or un-ignore of a key; the same SQL for both dialects (`?` placeholders). */
export const LAST_PERSON_DECISION_SQL = "SELECT * FROM decisions WHERE key = ? AND action IN ('ignore', 'unignore') ORDER BY id DESC LIMIT 1";

export interface StatusPlan {
  /** The status the finding moves to, and the decision that records why. */
  status: 'ignored' | 'open' | 'resolved';
  decision: {action: DecisionAction; by: Actor | null; reason: string; at: number};
}

/**
 * Whether a status change happens: ignoring always does (again records the new reason); un-ignoring only an
 * ignored finding; resolving only an open one (an ignored finding keeps the administrator's decision). An
 * ignore or un-ignore made on an older view of the finding than its latest such decision (`decidedUpTo`
 * below the latest id) is refused with StaleDecisionError: an older decision never overrides a newer one.
 */
export function planStatusChange(
  row: Pick<FindingRow, 'key' | 'status'>,
  req: StatusRequest,
  latest: {id: number; action: string; by_username: string | null; at: number} | undefined,
): StatusPlan | null {
  if (req.action !== 'resolve' && req.decidedUpTo !== undefined && latest !== undefined && latest.id > req.decidedUpTo) {
    throw new StaleDecisionError(row.key, latest.action === 'ignore' ? 'ignore' : 'unignore', latest.by_username ?? '', new Date(latest.at).toISOString());
  }
  switch (req.action) {
    case 'ignore':
      return {status: 'ignored', decision: {action: 'ignore', by: req.by, reason: req.reason, at: req.at}};
    case 'unignore':
      return row.status === 'ignored' ? {status: 'open', decision: {action: 'unignore', by: req.by, reason: req.reason, at: req.at}} : null;
    case 'resolve':
      return row.status === 'open' ? {status: 'resolved', decision: {action: 'resolve', by: null, reason: req.reason, at: req.at}} : null;
  }
}
