// The notification outbox on PostgreSQL, with the semantics of sqlite-outbox.ts. Several replicas claim
// at once: due rows are taken with FOR UPDATE SKIP LOCKED, so each goes to exactly one of them, and the
// merge of a new payload into the pending item with the same dedupe key is one upsert on the partial
// unique index, so two concurrent enqueues can never both add an item.
import {randomUUID} from 'node:crypto';
import type {Pool} from 'pg';
import {StoreInputError} from './errors';
import {Db, transaction} from './postgres-db';
import {claimLimit, leaseMs, MAX_ERROR_CHARS, requireKind, serialise, timeOf} from './outbox-input';
import {outboxOf, type OutboxRow} from './rows';
import {requireText, text} from './sanitize';
import type {ClaimedItem, ClaimOptions, EnqueueResult, OutboxInput, OutboxItem} from './types';

const CLEAR_CLAIM = 'claimed_until = NULL, claim_token = NULL';

export class PostgresOutbox {
  constructor(
    private readonly pool: Pool,
    private readonly clock: () => number,
  ) {}

  /** Inside the caller's transaction. */
  async enqueueInTx(db: Db, item: OutboxInput): Promise<EnqueueResult> {
    if (item === null || typeof item !== 'object') throw new StoreInputError('an outbox item must be an object');
    requireKind(item.kind);
    const payload = serialise(item.payload);
    const dedupeKey = item.dedupeKey === undefined || item.dedupeKey === null ? null : requireText('dedupeKey', item.dedupeKey, 512);
    const now = this.clock();
    const due = item.availableAt === undefined ? now : timeOf('availableAt', item.availableAt);
    // The pending item keeps its kind and due time (see sqlite-outbox.ts); xmax is non-zero for a row the
    // statement updated rather than inserted.
    const row = await db.one<{id: number; merged: boolean}>(
      `INSERT INTO outbox (kind, payload, dedupe_key, state, created_at, updated_at, attempts, next_attempt_at)
       VALUES ($1, $2, $3, 'pending', $4, $4, 0, $5)
       ON CONFLICT (dedupe_key) WHERE state = 'pending' AND dedupe_key IS NOT NULL
       DO UPDATE SET payload = EXCLUDED.payload, updated_at = EXCLUDED.updated_at
       RETURNING id, (xmax <> 0) AS merged`,
      [item.kind, payload, dedupeKey, now, due],
    );
    if (row === undefined) throw new Error('the outbox insert returned no id');
    return {id: row.id, merged: row.merged};
  }

  /** One statement, atomic by itself: no explicit transaction (and its two extra round trips) needed. */
  enqueue(item: OutboxInput): Promise<EnqueueResult> {
    return this.enqueueInTx(new Db(this.pool), item);
  }

  private async hasPendingSibling(db: Db, id: number, dedupeKey: string | null): Promise<boolean> {
    if (dedupeKey === null) return false;
    const p = await db.one<{id: number}>("SELECT id FROM outbox WHERE state = 'pending' AND dedupe_key = $1", [dedupeKey]);
    return p !== undefined && p.id !== id;
  }

  claimDue(nowDate: Date, limit: number, opts: ClaimOptions = {}): Promise<ClaimedItem[]> {
    const now = timeOf('now', nowDate);
    const n = claimLimit(limit);
    const lease = leaseMs(opts);
    return transaction(this.pool, async (db) => {
      const stamp = this.clock();
      const expired = await db.rows<{id: number; dedupe_key: string | null}>(
        "SELECT id, dedupe_key FROM outbox WHERE state = 'claimed' AND claimed_until <= $1 ORDER BY id FOR UPDATE SKIP LOCKED",
        [now],
      );
      for (const x of expired) {
        if (await this.hasPendingSibling(db, x.id, x.dedupe_key)) {
          await db.run(`UPDATE outbox SET state = 'superseded', ${CLEAR_CLAIM}, updated_at = $1 WHERE id = $2`, [stamp, x.id]);
        } else {
          await db.run(`UPDATE outbox SET state = 'pending', next_attempt_at = claimed_until, ${CLEAR_CLAIM}, updated_at = $1 WHERE id = $2`, [stamp, x.id]);
        }
      }
      const due = await db.rows<{id: number}>(
        "SELECT id FROM outbox WHERE state = 'pending' AND next_attempt_at <= $1 ORDER BY next_attempt_at, id LIMIT $2 FOR UPDATE SKIP LOCKED",
        [now, n],
      );
      if (due.length === 0) return [];
      const token = randomUUID();
      const rows = await db.rows<OutboxRow>(
        "UPDATE outbox SET state = 'claimed', attempts = attempts + 1, claimed_until = $1, claim_token = $2, updated_at = $3 WHERE id = ANY($4::bigint[]) RETURNING *",
        [now + lease, token, stamp, due.map((d) => d.id)],
      );
      const byId = new Map(rows.map((r) => [r.id, r]));
      return due.flatMap((d) => {
        const r = byId.get(d.id);
        return r === undefined ? [] : [{...outboxOf(r), claimToken: token}];
      });
    });
  }

  async markDelivered(db: Db, id: number, result: string | null = null): Promise<boolean> {
    const now = this.clock();
    const r = result === null ? null : text(String(result), MAX_ERROR_CHARS);
    return (
      (await db.run(
        `UPDATE outbox SET state = 'delivered', delivered_at = $1, result = $2, ${CLEAR_CLAIM}, updated_at = $1 WHERE id = $3 AND state <> 'delivered'`,
        [now, r, id],
      )) === 1
    );
  }

  markFailed(id: number, error: string, retryAt: Date | null, claimToken?: string): Promise<boolean> {
    const message = text(String(error), MAX_ERROR_CHARS);
    const retry = retryAt === null ? null : timeOf('retryAt', retryAt);
    return transaction(this.pool, async (db) => {
      const row = await db.one<OutboxRow>('SELECT * FROM outbox WHERE id = $1 FOR UPDATE', [id]);
      if (row === undefined || row.state !== 'claimed') return false;
      if (claimToken !== undefined && claimToken !== row.claim_token) return false;
      const now = this.clock();
      if (retry === null) {
        await db.run(`UPDATE outbox SET state = 'dead', last_error = $1, ${CLEAR_CLAIM}, updated_at = $2 WHERE id = $3`, [message, now, id]);
      } else if (await this.hasPendingSibling(db, id, row.dedupe_key)) {
        await db.run(`UPDATE outbox SET state = 'superseded', last_error = $1, ${CLEAR_CLAIM}, updated_at = $2 WHERE id = $3`, [message, now, id]);
      } else {
        await db.run(`UPDATE outbox SET state = 'pending', next_attempt_at = $1, last_error = $2, ${CLEAR_CLAIM}, updated_at = $3 WHERE id = $4`, [
          retry,
          message,
          now,
          id,
        ]);
      }
      return true;
    });
  }

  async get(db: Db, id: number): Promise<OutboxItem | null> {
    if (!Number.isSafeInteger(id)) return null;
    const row = await db.one<OutboxRow>('SELECT * FROM outbox WHERE id = $1', [id]);
    return row === undefined ? null : outboxOf(row);
  }

  async depth(db: Db): Promise<number> {
    return (await db.one<{n: number}>("SELECT COUNT(*) AS n FROM outbox WHERE state IN ('pending', 'claimed')"))?.n ?? 0;
  }

  async prune(db: Db, before: number): Promise<number> {
    return db.run("DELETE FROM outbox WHERE state IN ('delivered', 'dead', 'superseded') AND updated_at < $1", [before]);
  }
}
