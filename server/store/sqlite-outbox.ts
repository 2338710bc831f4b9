// The notification outbox on SQLite. Every state change runs in an IMMEDIATE transaction: SQLite then has a
// single writer at a time, across connections and processes, which is what makes a claim exclusive.
import {randomUUID} from 'node:crypto';
import type Database from 'better-sqlite3';
import {StoreInputError} from './errors';
import {claimLimit, leaseMs, MAX_ERROR_CHARS, requireKind, serialise, timeOf} from './outbox-input';
import {outboxOf, type OutboxRow} from './rows';
import {requireText, text} from './sanitize';
import type {ClaimedItem, ClaimOptions, EnqueueResult, OutboxInput, OutboxItem} from './types';

function statements(db: Database.Database) {
  return {
    pendingByKey: db.prepare<[string], {id: number}>("SELECT id FROM outbox WHERE state = 'pending' AND dedupe_key = ?"),
    merge: db.prepare('UPDATE outbox SET payload = ?, updated_at = ? WHERE id = ?'),
    insert: db.prepare<[string, string, string | null, number, number, number], {id: number}>(
      "INSERT INTO outbox (kind, payload, dedupe_key, state, created_at, updated_at, attempts, next_attempt_at) VALUES (?, ?, ?, 'pending', ?, ?, 0, ?) RETURNING id",
    ),
    expired: db.prepare<[number], {id: number; dedupe_key: string | null}>("SELECT id, dedupe_key FROM outbox WHERE state = 'claimed' AND claimed_until <= ?"),
    release: db.prepare(
      "UPDATE outbox SET state = 'pending', next_attempt_at = claimed_until, claimed_until = NULL, claim_token = NULL, updated_at = ? WHERE id = ?",
    ),
    supersede: db.prepare("UPDATE outbox SET state = 'superseded', claimed_until = NULL, claim_token = NULL, updated_at = ? WHERE id = ?"),
    due: db.prepare<[number, number], OutboxRow>("SELECT * FROM outbox WHERE state = 'pending' AND next_attempt_at <= ? ORDER BY next_attempt_at, id LIMIT ?"),
    claim: db.prepare<[number, string, number, number], OutboxRow>(
      "UPDATE outbox SET state = 'claimed', attempts = attempts + 1, claimed_until = ?, claim_token = ?, updated_at = ? WHERE id = ? RETURNING *",
    ),
    delivered: db.prepare(
      "UPDATE outbox SET state = 'delivered', delivered_at = ?, result = ?, claimed_until = NULL, claim_token = NULL, updated_at = ? WHERE id = ? AND state <> 'delivered'",
    ),
    get: db.prepare<[number], OutboxRow>('SELECT * FROM outbox WHERE id = ?'),
    retry: db.prepare(
      "UPDATE outbox SET state = 'pending', next_attempt_at = ?, last_error = ?, claimed_until = NULL, claim_token = NULL, updated_at = ? WHERE id = ?",
    ),
    dead: db.prepare("UPDATE outbox SET state = 'dead', last_error = ?, claimed_until = NULL, claim_token = NULL, updated_at = ? WHERE id = ?"),
    failedSuperseded: db.prepare(
      "UPDATE outbox SET state = 'superseded', last_error = ?, claimed_until = NULL, claim_token = NULL, updated_at = ? WHERE id = ?",
    ),
    depth: db.prepare<[], {n: number}>("SELECT COUNT(*) AS n FROM outbox WHERE state IN ('pending', 'claimed')"),
    prune: db.prepare("DELETE FROM outbox WHERE state IN ('delivered', 'dead', 'superseded') AND updated_at < ?"),
  };
}

export class SqliteOutbox {
  private readonly s: ReturnType<typeof statements>;

  constructor(
    private readonly db: Database.Database,
    private readonly clock: () => number,
  ) {
    this.s = statements(db);
  }

  /** Must run inside a write transaction (the caller's, or enqueue's own). */
  enqueueInTx(item: OutboxInput): EnqueueResult {
    if (item === null || typeof item !== 'object') throw new StoreInputError('an outbox item must be an object');
    requireKind(item.kind);
    const payload = serialise(item.payload);
    const dedupeKey = item.dedupeKey === undefined || item.dedupeKey === null ? null : requireText('dedupeKey', item.dedupeKey, 512);
    const now = this.clock();
    if (dedupeKey !== null) {
      const pending = this.s.pendingByKey.get(dedupeKey);
      if (pending !== undefined) {
        // The pending item keeps its kind and due time: a post not yet created must still be created, and
        // a stream of updates must not postpone delivery for ever.
        this.s.merge.run(payload, now, pending.id);
        return {id: pending.id, merged: true};
      }
    }
    const due = item.availableAt === undefined ? now : timeOf('availableAt', item.availableAt);
    const row = this.s.insert.get(item.kind, payload, dedupeKey, now, now, due);
    if (row === undefined) throw new Error('the outbox insert returned no id');
    return {id: row.id, merged: false};
  }

  enqueue(item: OutboxInput): EnqueueResult {
    return this.db.transaction(() => this.enqueueInTx(item)).immediate();
  }

  private hasPendingSibling(id: number, dedupeKey: string | null): boolean {
    if (dedupeKey === null) return false;
    const p = this.s.pendingByKey.get(dedupeKey);
    return p !== undefined && p.id !== id;
  }

  claimDue(nowDate: Date, limit: number, opts: ClaimOptions = {}): ClaimedItem[] {
    const now = timeOf('now', nowDate);
    const n = claimLimit(limit);
    const lease = leaseMs(opts);
    return this.db
      .transaction(() => {
        const stamp = this.clock();
        // A worker that died mid-delivery never answers; its items become due again when the lease ends.
        for (const x of this.s.expired.all(now)) {
          if (this.hasPendingSibling(x.id, x.dedupe_key)) this.s.supersede.run(stamp, x.id);
          else this.s.release.run(stamp, x.id);
        }
        const token = randomUUID();
        const claimed: ClaimedItem[] = [];
        for (const row of this.s.due.all(now, n)) {
          const updated = this.s.claim.get(now + lease, token, stamp, row.id);
          if (updated !== undefined) claimed.push({...outboxOf(updated), claimToken: token});
        }
        return claimed;
      })
      .immediate();
  }

  markDelivered(id: number, result: string | null = null): boolean {
    const now = this.clock();
    const r = result === null ? null : text(String(result), MAX_ERROR_CHARS);
    return this.s.delivered.run(now, r, now, id).changes === 1;
  }

  markFailed(id: number, error: string, retryAt: Date | null, claimToken?: string): boolean {
    const message = text(String(error), MAX_ERROR_CHARS);
    const retry = retryAt === null ? null : timeOf('retryAt', retryAt);
    return this.db
      .transaction(() => {
        const row = this.s.get.get(id);
        if (row === undefined || row.state !== 'claimed') return false;
        if (claimToken !== undefined && claimToken !== row.claim_token) return false;
        const now = this.clock();
        if (retry === null) this.s.dead.run(message, now, id);
        // A newer pending item with the same key carries the current state; retrying this one would post
        // an outdated version first.
        else if (this.hasPendingSibling(id, row.dedupe_key)) this.s.failedSuperseded.run(message, now, id);
        else this.s.retry.run(retry, message, now, id);
        return true;
      })
      .immediate();
  }

  get(id: number): OutboxItem | null {
    const row = this.s.get.get(id);
    return row === undefined ? null : outboxOf(row);
  }

  depth(): number {
    return this.s.depth.get()?.n ?? 0;
  }

  prune(before: number): number {
    return this.s.prune.run(before).changes;
  }
}
