// The store on PostgreSQL, for several bridge replicas sharing one state. Same interface and semantics as
// sqlite.ts; merging, sanitising, row mapping and the list query are the shared pure modules.
//
// Concurrency: SQLite has one writer at a time; here several replicas write at once, so
// - applyBatch locks the source's resume point row (SELECT … FOR UPDATE, plus a transaction-level
//   advisory lock on the source id, which also covers a source's very first batch when there is no row to
//   lock yet) and every finding it touches, in key order, before reading them;
// - outbox claims use FOR UPDATE SKIP LOCKED (postgres-outbox.ts);
// - a transaction that loses a race (deadlock, serialization failure, two inserts of the same new key)
//   runs again from the start (postgres-db.ts), which re-reads the resume point and so recognises a replay.
// Strings: see postgres-db.ts for how NUL, which PostgreSQL text cannot hold, is escaped.
import type {Pool} from 'pg';
import type {ConnectionTestResult} from '../../common/connection-tests';
import type {Finding} from '../../common/types';
import type {Reattribution} from '../engine/findings';
import {
  CONNECTION_TEST_ORDER,
  connectionTestOf,
  connectionTestRow,
  keptPerKind,
  listLimit,
  type ConnectionTestQuery,
  type ConnectionTestRow,
} from './connection-tests';
import {FindingNotFoundError} from './errors';
import {addTo, EVICTED_META, OVERFLOW_DESTINATIONS_META, OVERFLOW_LINES_META, ROOM_CANDIDATES, ROOM_CANDIDATES_SQL} from './capacity';
import {createPool, Db, numbered, transaction} from './postgres-db';
import {migratePostgres, PG_MIGRATIONS, type PgMigration} from './postgres-migrations';
import {PostgresOutbox} from './postgres-outbox';
import {findingQuerySql} from './query';
import {
  alertStateOf,
  announcedCount,
  decisionOf,
  findingOf,
  iso,
  resumeOf,
  storedOf,
  type AlertStateRow,
  type DecisionRow,
  type FindingContent,
  type FindingRow,
  type ResumeRow,
} from './rows';
import * as rules from './rules';
import {requireText, text} from './sanitize';
import {
  movedMetaKey,
  DEFAULT_RETENTION,
  DEFAULT_STORE_LIMITS,
  FINDING_STATUSES,
  type Actor,
  type AlertState,
  type ApplyResult,
  type ClaimedItem,
  type ClaimOptions,
  type Decision,
  type EnqueueResult,
  type FindingCounts,
  type FindingPage,
  type FindingQuery,
  type HistoryEntry,
  type ObservationBatch,
  type OutboxInput,
  type OutboxItem,
  type PruneResult,
  type ReattributeResult,
  type ResumePoint,
  type RetentionPolicy,
  type StatusChangeOptions,
  type Store,
  type StoreOverflow,
  type StoredFinding,
  type StoreLimits,
} from './types';

export interface PostgresStoreOptions {
  /** Connections in the pool (default 5). */
  poolSize?: number;
  limits?: Partial<StoreLimits>;
  retention?: Partial<RetentionPolicy>;
  /** Epoch milliseconds; replaceable so tests can control time. */
  clock?: () => number;
  /** As SqliteStoreOptions.autoPruneMs: applyBatch prunes by itself at most this often (0: never). */
  autoPruneMs?: number;
  /** Only for tests of the migration machinery. */
  migrations?: readonly PgMigration[];
}

/** Namespace of the transaction-level advisory locks on source ids (two-int form: namespace, hash). */
const SOURCE_LOCK_NS = 0x45475242;

const CONTENT_SQL_COLUMNS = 'verdict, protocol, host, ip, port, count, first_seen, last_seen, pods, samples, attribution, features, advice, rejected_host';

function contentParams(c: FindingContent): unknown[] {
  return [
    c.verdict,
    c.protocol,
    c.host,
    c.ip,
    c.port,
    c.count,
    c.first_seen,
    c.last_seen,
    c.pods,
    c.samples,
    c.attribution,
    c.features,
    c.advice,
    c.rejected_host,
  ];
}

export class PostgresStore implements Store {
  readonly kind = 'postgres' as const;
  private readonly outbox: PostgresOutbox;
  private readonly limits: StoreLimits;
  private readonly retention: RetentionPolicy;
  private readonly clock: () => number;
  private readonly autoPruneMs: number;
  private readonly db: Db;
  private lastPrune = -Infinity;
  private closed = false;

  constructor(
    private readonly pool: Pool,
    opts: PostgresStoreOptions = {},
  ) {
    this.limits = {...DEFAULT_STORE_LIMITS, ...opts.limits};
    this.retention = {...DEFAULT_RETENTION, ...opts.retention};
    this.clock = opts.clock ?? Date.now;
    this.autoPruneMs = opts.autoPruneMs ?? rules.HOUR_MS;
    this.db = new Db(pool);
    this.outbox = new PostgresOutbox(pool, this.clock);
  }

  async applyBatch(batch: ObservationBatch): Promise<ApplyResult> {
    const prepared = rules.prepareBatch(batch, this.limits);
    const result = await transaction(this.pool, (db) => this.applyInTx(db, prepared));
    const now = this.clock();
    if (this.autoPruneMs > 0 && now - this.lastPrune >= this.autoPruneMs) await this.prune(new Date(now));
    return result;
  }

  private async applyInTx(db: Db, b: rules.PreparedBatch): Promise<ApplyResult> {
    await db.run('SELECT pg_advisory_xact_lock($1, hashtext($2))', [SOURCE_LOCK_NS, b.sourceId]);
    const replay = rules.replayOf(b, await db.one<ResumeRow>('SELECT * FROM resume_points WHERE source_id = $1 FOR UPDATE', [b.sourceId]));
    if (replay !== null) return replay;
    const now = this.clock();
    // Locks taken in one order by every writer cannot deadlock each other.
    const keys = rules.batchKeys(b.deltas);
    const rows = new Map<string, FindingRow>();
    if (keys.length > 0) {
      for (const r of await db.rows<FindingRow>('SELECT * FROM findings WHERE key = ANY($1::text[]) ORDER BY key FOR UPDATE', [keys])) rows.set(r.key, r);
    }
    const fresh = keys.length - rows.size;
    const stored = fresh > 0 ? ((await db.one<{n: number}>('SELECT COUNT(*) AS n FROM findings'))?.n ?? 0) : 0;
    const room = rules.roomCandidatesNeeded(stored, fresh, this.limits, ROOM_CANDIDATES);
    const candidates = room > 0 ? await db.rows<{key: string; attribution: string}>(numbered(ROOM_CANDIDATES_SQL), [room]) : [];
    const plan = rules.planBatch(b.deltas, rows, stored, candidates, this.limits, now);
    for (const key of plan.evict) {
      await db.run('DELETE FROM findings WHERE key = $1', [key]);
      await db.run('DELETE FROM finding_history WHERE key = $1', [key]);
      await db.run('DELETE FROM alert_state WHERE key = $1', [key]);
    }
    // A concurrent writer inserting the same key makes this a unique violation: the transaction runs again.
    for (const f of plan.insert) {
      await db.run(
        `INSERT INTO findings (key, status, ${CONTENT_SQL_COLUMNS}, created_at, updated_at, revision)
         VALUES ($1, 'open', $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $16, 1)`,
        [f.key, ...contentParams(f.content), now],
      );
    }
    for (const f of plan.update) {
      await db.run(
        `UPDATE findings SET verdict = $2, protocol = $3, host = $4, ip = $5, port = $6, count = $7, first_seen = $8, last_seen = $9,
           pods = $10, samples = $11, attribution = $12, features = $13, advice = $14, rejected_host = $15, updated_at = $16,
           revision = revision + 1
         WHERE key = $1`,
        [f.key, ...contentParams(f.content), now],
      );
    }
    for (const key of plan.reopen) {
      await db.run("UPDATE findings SET status = 'open', status_changed_at = $1, resolved_at = NULL, updated_at = $1, revision = revision + 1 WHERE key = $2", [
        now,
        key,
      ]);
      await this.decide(db, key, 'reopen', null, rules.REOPEN_REASON, now);
    }
    for (const h of plan.history) {
      await db.run(
        'INSERT INTO finding_history (key, hour, count) VALUES ($1, $2, $3) ON CONFLICT (key, hour) DO UPDATE SET count = finding_history.count + EXCLUDED.count',
        [h.key, h.hour, h.count],
      );
    }
    for (const c of plan.counters) {
      const before = await db.one<{value: string}>('SELECT value FROM meta WHERE key = $1 FOR UPDATE', [c.key]);
      await this.setMetaIn(db, c.key, addTo(before?.value, c.add), now);
    }
    for (const m of b.meta) {
      const before = await db.one<{value: string}>('SELECT value FROM meta WHERE key = $1 FOR UPDATE', [m.key]);
      await this.setMetaIn(db, m.key, rules.metaValue(m, before?.value ?? null), now);
    }
    const outboxIds: number[] = [];
    for (const item of b.notify?.(plan.changes) ?? []) outboxIds.push((await this.outbox.enqueueInTx(db, item)).id);
    const resume = await db.one<ResumeRow>(
      `INSERT INTO resume_points (source_id, position, seq, updated_at) VALUES ($1, $2, 1, $3)
       ON CONFLICT (source_id) DO UPDATE SET position = EXCLUDED.position, seq = resume_points.seq + 1, updated_at = EXCLUDED.updated_at
       RETURNING *`,
      [b.sourceId, b.position, now],
    );
    if (resume === undefined) throw new Error('the resume point was not written');
    return {applied: true, resumePoint: resumeOf(resume), ...plan.changes, outboxIds};
  }

  async getResumePoint(sourceId: string): Promise<ResumePoint | null> {
    const row = await this.db.one<ResumeRow>('SELECT * FROM resume_points WHERE source_id = $1', [requireText('sourceId', sourceId, rules.MAX_SOURCE_ID)]);
    return row === undefined ? null : resumeOf(row);
  }

  async listResumePoints(): Promise<ResumePoint[]> {
    return (await this.db.rows<ResumeRow>('SELECT * FROM resume_points ORDER BY source_id')).map(resumeOf);
  }

  async listFindings(query: FindingQuery = {}): Promise<FindingPage> {
    const q = findingQuerySql(query);
    // Both in one snapshot, so total and page agree while replicas write.
    return transaction(this.pool, async (db) => {
      await db.run('SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY');
      const total = (await db.one<{n: number}>(numbered(q.countSql), q.params))?.n ?? 0;
      const rows = await db.rows<FindingRow>(numbered(q.pageSql), [...q.params, q.limit, q.offset]);
      return {items: rows.map(storedOf), total};
    });
  }

  async getFinding(key: string): Promise<StoredFinding | null> {
    const row = await this.db.one<FindingRow>('SELECT * FROM findings WHERE key = $1', [this.keyOf(key)]);
    return row === undefined ? null : storedOf(row);
  }

  async countFindings(): Promise<FindingCounts> {
    const counts: FindingCounts = {byStatus: {open: 0, ignored: 0, resolved: 0}, openByVerdict: {}};
    for (const r of await this.db.rows<{status: string; n: number}>('SELECT status, COUNT(*) AS n FROM findings GROUP BY status')) {
      if ((FINDING_STATUSES as readonly string[]).includes(r.status)) counts.byStatus[r.status as keyof FindingCounts['byStatus']] = r.n;
    }
    for (const r of await this.db.rows<{verdict: string; n: number}>("SELECT verdict, COUNT(*) AS n FROM findings WHERE status = 'open' GROUP BY verdict")) {
      counts.openByVerdict[r.verdict as keyof FindingCounts['openByVerdict']] = r.n;
    }
    return counts;
  }

  async getHistory(key: string, since?: Date): Promise<HistoryEntry[]> {
    const from = since === undefined ? 0 : since.getTime();
    const rows = await this.db.rows<{hour: number; count: number}>('SELECT hour, count FROM finding_history WHERE key = $1 AND hour >= $2 ORDER BY hour', [
      this.keyOf(key),
      Number.isFinite(from) ? from : 0,
    ]);
    return rows.map((r) => ({hour: iso(r.hour), count: r.count}));
  }

  async reattributeOpen(derive: (finding: Finding) => Reattribution): Promise<ReattributeResult> {
    return transaction(this.pool, async (db) => {
      // A move touches a second finding that may not be open: writers are held off for the (rare) pass instead
      // of locking rows in an order applyBatch does not share.
      await db.run('LOCK TABLE findings IN SHARE ROW EXCLUSIVE MODE');
      const changed = new Set<string>();
      const moved: ReattributeResult['moved'] = [];
      const now = this.clock();
      for (const row of await db.rows<FindingRow>("SELECT * FROM findings WHERE status = 'open' ORDER BY key")) {
        const next = derive(findingOf(row));
        const to = rules.findingKey(next.key, this.limits);
        const target = to === row.key ? undefined : await db.one<FindingRow>('SELECT * FROM findings WHERE key = $1', [to]);
        const plan = rules.reattribution(row, next, target, this.limits);
        if (plan === null) continue;
        if (plan.kind === 'update') {
          await db.run('UPDATE findings SET attribution = $1, features = $2, updated_at = $3, revision = revision + 1 WHERE key = $4', [
            plan.attribution,
            plan.features,
            now,
            row.key,
          ]);
          changed.add(row.key);
          continue;
        }
        await this.moveInTx(db, row, plan, target !== undefined, now);
        moved.push({from: row.key, to: plan.to, merged: target !== undefined, alertPostId: row.alert_post_id});
        changed.delete(row.key);
        changed.add(plan.to);
      }
      return {changedKeys: [...changed], moved};
    });
  }

  /** Moves an open finding to the key its new name gives it, merging it into the finding there if any. */
  private async moveInTx(db: Db, row: FindingRow, plan: Extract<rules.ReattributionPlan, {kind: 'move'}>, merge: boolean, now: number): Promise<void> {
    const c = plan.content;
    if (!merge) {
      await db.run('UPDATE findings SET key = $2, host = $3, attribution = $4, features = $5, updated_at = $6, revision = revision + 1 WHERE key = $1', [
        row.key,
        plan.to,
        c.host,
        c.attribution,
        c.features,
        now,
      ]);
    } else {
      await db.run(
        `UPDATE findings SET verdict = $2, protocol = $3, host = $4, ip = $5, port = $6, count = $7, first_seen = $8, last_seen = $9,
           pods = $10, samples = $11, attribution = $12, features = $13, advice = $14, rejected_host = $15, updated_at = $16,
           revision = revision + 1
         WHERE key = $1`,
        [plan.to, ...contentParams(c), now],
      );
      if (plan.reopen !== null) {
        await db.run(
          "UPDATE findings SET status = 'open', status_changed_at = $1, resolved_at = NULL, updated_at = $1, revision = revision + 1 WHERE key = $2",
          [now, plan.to],
        );
        await this.decide(db, plan.to, 'reopen', null, plan.reopen, now);
      }
      if (row.alert_post_id !== null)
        await db.run('UPDATE findings SET alert_post_id = $2 WHERE key = $1 AND alert_post_id IS NULL', [plan.to, row.alert_post_id]);
      await db.run('DELETE FROM findings WHERE key = $1', [row.key]);
    }
    await db.run(
      `INSERT INTO finding_history (key, hour, count) SELECT $2, hour, count FROM finding_history WHERE key = $1
       ON CONFLICT (key, hour) DO UPDATE SET count = finding_history.count + EXCLUDED.count`,
      [row.key, plan.to],
    );
    await db.run('DELETE FROM finding_history WHERE key = $1', [row.key]);
    await db.run('UPDATE decisions SET key = $2 WHERE key = $1', [row.key, plan.to]);
    await db.run('UPDATE alert_state SET key = $2 WHERE key = $1 AND NOT EXISTS (SELECT 1 FROM alert_state WHERE key = $2)', [row.key, plan.to]);
    await db.run('DELETE FROM alert_state WHERE key = $1', [row.key]);
    await this.setMetaIn(db, movedMetaKey(row.key), plan.to, now);
  }

  async movedTo(key: string): Promise<string | null> {
    return this.getMeta(movedMetaKey(this.keyOf(key)));
  }

  /** Runs a status change (rules.ts decides whether it happens) and its notifications in one transaction, the finding's row locked throughout. */
  private async change(rawKey: string, req: rules.StatusRequest, notify?: StatusChangeOptions['notify']): Promise<StoredFinding> {
    const key = this.keyOf(rawKey);
    return transaction(this.pool, async (db) => {
      const row = await db.one<FindingRow>('SELECT * FROM findings WHERE key = $1 FOR UPDATE', [key]);
      if (row === undefined) throw new FindingNotFoundError(key);
      const latest = req.action === 'resolve' ? undefined : await db.one<DecisionRow>(numbered(rules.LAST_PERSON_DECISION_SQL), [key]);
      const plan = rules.planStatusChange(row, req, latest);
      if (plan === null) return storedOf(row);
      const {decision: d} = plan;
      if (plan.status === 'ignored') {
        await db.run(
          `UPDATE findings SET status = 'ignored', status_changed_at = $2, ignored_by_id = $3, ignored_by_name = $4, ignored_reason = $5,
             ignored_at = $2, updated_at = $2, revision = revision + 1 WHERE key = $1`,
          [key, d.at, d.by?.userId, d.by?.username, d.reason],
        );
      } else if (plan.status === 'open') {
        await db.run(
          `UPDATE findings SET status = 'open', status_changed_at = $2, ignored_by_id = NULL, ignored_by_name = NULL, ignored_reason = NULL,
             ignored_at = NULL, updated_at = $2, revision = revision + 1 WHERE key = $1`,
          [key, d.at],
        );
      } else {
        await db.run(
          "UPDATE findings SET status = 'resolved', status_changed_at = $2, resolved_at = $2, updated_at = $3, revision = revision + 1 WHERE key = $1",
          [key, d.at, this.clock()],
        );
      }
      await this.decide(db, key, d.action, d.by, d.reason, d.at);
      const after = await db.one<FindingRow>('SELECT * FROM findings WHERE key = $1', [key]);
      if (after === undefined) throw new FindingNotFoundError(key);
      const stored = storedOf(after);
      for (const item of notify?.(stored) ?? []) await this.outbox.enqueueInTx(db, item);
      return stored;
    });
  }

  private keyOf(key: string): string {
    return rules.findingKey(key, this.limits);
  }

  private async decide(db: Db, key: string, action: Decision['action'], by: Actor | null, reason: string, at: number): Promise<void> {
    await db.run('INSERT INTO decisions (key, action, by_user_id, by_username, reason, at) VALUES ($1, $2, $3, $4, $5, $6)', [
      key,
      action,
      by?.userId ?? null,
      by?.username ?? null,
      reason,
      at,
    ]);
  }

  private atOf(d: Date | undefined): number {
    return rules.timeOf(d, this.clock);
  }

  async ignore(key: string, by: Actor, reason: string, opts: StatusChangeOptions = {}): Promise<StoredFinding> {
    return this.change(key, rules.statusRequest('ignore', by, reason, this.atOf(opts.at), opts.decidedUpTo), opts.notify);
  }

  async unignore(key: string, by: Actor, reason = '', opts: StatusChangeOptions = {}): Promise<StoredFinding> {
    return this.change(key, rules.statusRequest('unignore', by, reason, this.atOf(opts.at), opts.decidedUpTo), opts.notify);
  }

  async markResolved(key: string, at: Date, reason = '', opts: Omit<StatusChangeOptions, 'at'> = {}): Promise<StoredFinding> {
    return this.change(key, {action: 'resolve', reason: requireText('reason', reason, rules.MAX_REASON, true), at: this.atOf(at)}, opts.notify);
  }

  async setAlertPostId(key: string, postId: string | null): Promise<void> {
    const id = postId === null ? null : requireText('postId', postId, 128);
    const n = await this.db.run('UPDATE findings SET alert_post_id = $1, updated_at = $2 WHERE key = $3', [id, this.clock(), this.keyOf(key)]);
    if (n === 0) throw new FindingNotFoundError(key);
  }

  async listDecisions(key: string): Promise<Decision[]> {
    return (await this.db.rows<DecisionRow>('SELECT * FROM decisions WHERE key = $1 ORDER BY id', [this.keyOf(key)])).map(decisionOf);
  }

  enqueue(item: OutboxInput): Promise<EnqueueResult> {
    return this.outbox.enqueue(item);
  }

  claimDue(now: Date, limit: number, opts?: ClaimOptions): Promise<ClaimedItem[]> {
    return this.outbox.claimDue(now, limit, opts);
  }

  markDelivered(id: number, result?: string | null): Promise<boolean> {
    return this.outbox.markDelivered(this.db, id, result ?? null);
  }

  markFailed(id: number, error: string, retryAt: Date | null, claimToken?: string): Promise<boolean> {
    return this.outbox.markFailed(id, error, retryAt, claimToken);
  }

  getOutboxItem(id: number): Promise<OutboxItem | null> {
    return this.outbox.get(this.db, id);
  }

  outboxDepth(): Promise<number> {
    return this.outbox.depth(this.db);
  }

  async getOverflow(): Promise<StoreOverflow> {
    const meta = new Map(
      (
        await this.db.rows<{key: string; value: string}>('SELECT key, value FROM meta WHERE key = ANY($1::text[])', [
          [OVERFLOW_LINES_META, OVERFLOW_DESTINATIONS_META, EVICTED_META],
        ])
      ).map((r) => [r.key, r.value]),
    );
    const n = (key: string): number => Number(addTo(meta.get(key), 0));
    return {
      maxFindings: this.limits.maxFindings,
      findings: (await this.db.one<{n: number}>('SELECT COUNT(*) AS n FROM findings'))?.n ?? 0,
      lines: n(OVERFLOW_LINES_META),
      destinations: n(OVERFLOW_DESTINATIONS_META),
      evicted: n(EVICTED_META),
    };
  }

  async getAlertState(key: string): Promise<AlertState | null> {
    const row = await this.db.one<AlertStateRow>('SELECT * FROM alert_state WHERE key = $1', [this.keyOf(key)]);
    return row === undefined ? null : alertStateOf(row);
  }

  async recordAnnounced(key: string, count: number, pods: readonly string[]): Promise<void> {
    await this.db.run(
      `INSERT INTO alert_state (key, announced_count, announced_pods, updated_at) VALUES ($1, $2, $3, $4)
       ON CONFLICT (key) DO UPDATE SET announced_count = EXCLUDED.announced_count, announced_pods = EXCLUDED.announced_pods, updated_at = EXCLUDED.updated_at`,
      [this.keyOf(key), announcedCount(count), JSON.stringify(pods.map((p) => text(p, this.limits.podChars))), this.clock()],
    );
  }

  async recordResolutionAnnounced(key: string, resolvedAt: string): Promise<void> {
    await this.db.run(
      `INSERT INTO alert_state (key, resolved_announced_at, updated_at) VALUES ($1, $2, $3)
       ON CONFLICT (key) DO UPDATE SET resolved_announced_at = EXCLUDED.resolved_announced_at, updated_at = EXCLUDED.updated_at`,
      [this.keyOf(key), this.atOf(new Date(resolvedAt)), this.clock()],
    );
  }

  async addConnectionTest(result: ConnectionTestResult, keepPerKind?: number): Promise<void> {
    const r = connectionTestRow(result);
    const keep = keptPerKind(keepPerKind);
    // Two replicas adding at once each insert their own row; a trim sees at worst a few rows more than it keeps.
    await transaction(this.pool, async (db) => {
      await db.run('INSERT INTO connection_tests (id, kind, started_at, result) VALUES ($1, $2, $3, $4) ON CONFLICT (id) DO NOTHING', [
        r.id,
        r.kind,
        r.started_at,
        r.result,
      ]);
      await db.run(
        `DELETE FROM connection_tests WHERE kind = $1 AND seq NOT IN (SELECT seq FROM connection_tests WHERE kind = $1 ${CONNECTION_TEST_ORDER} LIMIT $2)`,
        [r.kind, keep],
      );
    });
  }

  async listConnectionTests(query: ConnectionTestQuery = {}): Promise<ConnectionTestResult[]> {
    const limit = listLimit(query);
    const rows =
      query.kind === undefined
        ? await this.db.rows<ConnectionTestRow>(`SELECT result FROM connection_tests ${CONNECTION_TEST_ORDER} LIMIT $1`, [limit])
        : await this.db.rows<ConnectionTestRow>(`SELECT result FROM connection_tests WHERE kind = $1 ${CONNECTION_TEST_ORDER} LIMIT $2`, [
            requireText('test kind', query.kind, 64),
            limit,
          ]);
    return rows.map(connectionTestOf);
  }

  async getMeta(key: string): Promise<string | null> {
    return (await this.db.one<{value: string}>('SELECT value FROM meta WHERE key = $1', [requireText('meta key', key, rules.MAX_META_KEY)]))?.value ?? null;
  }

  private async setMetaIn(db: Db, key: string, value: string, now: number): Promise<void> {
    await db.run(
      'INSERT INTO meta (key, value, updated_at) VALUES ($1, $2, $3) ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value, updated_at = EXCLUDED.updated_at',
      [key, value, now],
    );
  }

  async setMeta(key: string, value: string): Promise<void> {
    await this.setMetaIn(this.db, requireText('meta key', key, rules.MAX_META_KEY), requireText('meta value', value, rules.MAX_META_VALUE, true), this.clock());
  }

  /** Sets the value only when none is stored; returns the value that is stored afterwards (first writer wins). */
  async setMetaIfAbsent(key: string, value: string): Promise<string> {
    const k = requireText('meta key', key, rules.MAX_META_KEY);
    const v = requireText('meta value', value, rules.MAX_META_VALUE, true);
    await this.db.run('INSERT INTO meta (key, value, updated_at) VALUES ($1, $2, $3) ON CONFLICT (key) DO NOTHING', [k, v, this.clock()]);
    return (await this.getMeta(k)) ?? v;
  }

  async deleteMeta(key: string): Promise<void> {
    await this.db.run('DELETE FROM meta WHERE key = $1', [requireText('meta key', key, rules.MAX_META_KEY)]);
  }

  async prune(now: Date): Promise<PruneResult> {
    const t = this.atOf(now);
    this.lastPrune = t;
    return transaction(this.pool, async (db) => ({
      historyRows: await db.run('DELETE FROM finding_history WHERE hour < $1', [t - this.retention.historyDays * rules.DAY_MS]),
      outboxItems: await this.outbox.prune(db, t - this.retention.outboxDays * rules.DAY_MS),
    }));
  }

  /** Idempotent, so shutdown paths need not know whether someone closed it already. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.pool.end();
  }
}

/** Connects to `url` (postgres://…), creates or migrates the schema, and returns the store. */
export async function openPostgresStore(url: string, opts: PostgresStoreOptions = {}): Promise<PostgresStore> {
  const pool = createPool(url, opts.poolSize ?? 5);
  // An idle connection that breaks (database restart) must not become an unhandled 'error' event.
  pool.on('error', () => undefined);
  try {
    const client = await pool.connect();
    const ignore = (): void => undefined;
    client.on('error', ignore);
    try {
      await migratePostgres(client, opts.migrations ?? PG_MIGRATIONS, opts.clock ?? Date.now);
    } finally {
      client.off('error', ignore);
      client.release();
    }
    return new PostgresStore(pool, opts);
  } catch (e) {
    await pool.end();
    throw e;
  }
}
