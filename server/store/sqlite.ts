// The default store: one SQLite file in WAL mode, so the HTTP API reads while a batch is being written.
// Every write is an IMMEDIATE transaction (the write lock is taken before anything is read), which keeps
// read-modify-write sequences correct even with several connections or processes on the same file.
import Database from 'better-sqlite3';
import {chmodSync, closeSync, existsSync, openSync} from 'node:fs';
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
import {FindingNotFoundError, StoreDamagedError} from './errors';
import {addTo, EVICTED_META, OVERFLOW_DESTINATIONS_META, OVERFLOW_LINES_META, ROOM_CANDIDATES, ROOM_CANDIDATES_SQL} from './capacity';
import {MIGRATIONS, migrate, type Migration} from './migrations';
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
  type FindingRow,
  type ResumeRow,
} from './rows';
import * as rules from './rules';
import {requireText, text} from './sanitize';
import {SqliteOutbox} from './sqlite-outbox';
import {findingQuerySql} from './query';
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

export interface SqliteStoreOptions {
  /** How long a write waits for another connection's lock before failing; default 5 s. */
  busyTimeoutMs?: number;
  /**
   * NORMAL (default) survives any process crash; after a power loss the last transactions may be gone,
   * but always together with their resume point, so their lines are read again, not lost. FULL also keeps
   * them, at the cost of an fsync per batch.
   */
  synchronous?: 'NORMAL' | 'FULL';
  limits?: Partial<StoreLimits>;
  retention?: Partial<RetentionPolicy>;
  /** Epoch milliseconds; replaceable so tests can control time. */
  clock?: () => number;
  /**
   * applyBatch prunes by itself at most this often (default hourly; 0 turns it off), so that history and
   * finished outbox items stay bounded even if nobody schedules prune().
   */
  autoPruneMs?: number;
  /** Only for tests of the migration machinery. */
  migrations?: readonly Migration[];
}

function statements(db: Database.Database) {
  return {
    finding: db.prepare<[string], FindingRow>('SELECT * FROM findings WHERE key = ?'),
    findingCount: db.prepare<[], {n: number}>('SELECT COUNT(*) AS n FROM findings'),
    insertFinding: db.prepare(
      `INSERT INTO findings (key, status, verdict, protocol, host, ip, port, count, first_seen, last_seen, pods, samples,
         attribution, features, advice, rejected_host, created_at, updated_at, revision)
       VALUES (@key, 'open', @verdict, @protocol, @host, @ip, @port, @count, @first_seen, @last_seen, @pods, @samples,
         @attribution, @features, @advice, @rejected_host, @now, @now, 1)`,
    ),
    updateContent: db.prepare(
      `UPDATE findings SET verdict = @verdict, protocol = @protocol, host = @host, ip = @ip, port = @port, count = @count,
         first_seen = @first_seen, last_seen = @last_seen, pods = @pods, samples = @samples, attribution = @attribution,
         features = @features, advice = @advice, rejected_host = @rejected_host, updated_at = @now, revision = revision + 1
       WHERE key = @key`,
    ),
    reopen: db.prepare("UPDATE findings SET status = 'open', status_changed_at = ?, resolved_at = NULL, updated_at = ?, revision = revision + 1 WHERE key = ?"),
    ignore: db.prepare(
      `UPDATE findings SET status = 'ignored', status_changed_at = @now, ignored_by_id = @userId, ignored_by_name = @username,
         ignored_reason = @reason, ignored_at = @now, updated_at = @now, revision = revision + 1 WHERE key = @key`,
    ),
    unignore: db.prepare(
      `UPDATE findings SET status = 'open', status_changed_at = ?, ignored_by_id = NULL, ignored_by_name = NULL,
         ignored_reason = NULL, ignored_at = NULL, updated_at = ?, revision = revision + 1 WHERE key = ?`,
    ),
    resolve: db.prepare(
      "UPDATE findings SET status = 'resolved', status_changed_at = ?, resolved_at = ?, updated_at = ?, revision = revision + 1 WHERE key = ?",
    ),
    alertPost: db.prepare('UPDATE findings SET alert_post_id = ?, updated_at = ? WHERE key = ?'),
    addHistory: db.prepare(
      'INSERT INTO finding_history (key, hour, count) VALUES (?, ?, ?) ON CONFLICT (key, hour) DO UPDATE SET count = count + excluded.count',
    ),
    history: db.prepare<[string, number], HistoryEntryRow>('SELECT hour, count FROM finding_history WHERE key = ? AND hour >= ? ORDER BY hour'),
    pruneHistory: db.prepare('DELETE FROM finding_history WHERE hour < ?'),
    decide: db.prepare('INSERT INTO decisions (key, action, by_user_id, by_username, reason, at) VALUES (?, ?, ?, ?, ?, ?)'),
    decisions: db.prepare<[string], DecisionRow>('SELECT * FROM decisions WHERE key = ? ORDER BY id'),
    lastPersonDecision: db.prepare<[string], DecisionRow>(rules.LAST_PERSON_DECISION_SQL),
    resume: db.prepare<[string], ResumeRow>('SELECT * FROM resume_points WHERE source_id = ?'),
    resumeAll: db.prepare<[], ResumeRow>('SELECT * FROM resume_points ORDER BY source_id'),
    setResume: db.prepare<[string, string, number], ResumeRow>(
      `INSERT INTO resume_points (source_id, position, seq, updated_at) VALUES (?, ?, 1, ?)
       ON CONFLICT (source_id) DO UPDATE SET position = excluded.position, seq = seq + 1, updated_at = excluded.updated_at
       RETURNING *`,
    ),
    openFindings: db.prepare<[], FindingRow>("SELECT * FROM findings WHERE status = 'open' ORDER BY key"),
    setAttribution: db.prepare(
      'UPDATE findings SET attribution = @attribution, features = @features, updated_at = @now, revision = revision + 1 WHERE key = @key',
    ),
    renameFinding: db.prepare(
      `UPDATE findings SET key = @to, host = @host, attribution = @attribution, features = @features, updated_at = @now,
         revision = revision + 1 WHERE key = @key`,
    ),
    moveHistory: db.prepare(
      `INSERT INTO finding_history (key, hour, count) SELECT @to, hour, count FROM finding_history WHERE key = @key
       ON CONFLICT (key, hour) DO UPDATE SET count = count + excluded.count`,
    ),
    moveDecisions: db.prepare('UPDATE decisions SET key = @to WHERE key = @key'),
    moveAlertState: db.prepare('UPDATE alert_state SET key = @to WHERE key = @key AND NOT EXISTS (SELECT 1 FROM alert_state WHERE key = @to)'),
    adoptAlertPost: db.prepare('UPDATE findings SET alert_post_id = @postId WHERE key = @to AND alert_post_id IS NULL'),
    byStatus: db.prepare<[], {status: string; n: number}>('SELECT status, COUNT(*) AS n FROM findings GROUP BY status'),
    openByVerdict: db.prepare<[], {verdict: string; n: number}>("SELECT verdict, COUNT(*) AS n FROM findings WHERE status = 'open' GROUP BY verdict"),
    getMeta: db.prepare<[string], {value: string}>('SELECT value FROM meta WHERE key = ?'),
    setMeta: db.prepare(
      'INSERT INTO meta (key, value, updated_at) VALUES (?, ?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at',
    ),
    deleteMeta: db.prepare('DELETE FROM meta WHERE key = ?'),
    addTest: db.prepare('INSERT INTO connection_tests (id, kind, started_at, result) VALUES (?, ?, ?, ?) ON CONFLICT (id) DO NOTHING'),
    trimTests: db.prepare(
      `DELETE FROM connection_tests WHERE kind = ? AND seq NOT IN (SELECT seq FROM connection_tests WHERE kind = ? ${CONNECTION_TEST_ORDER} LIMIT ?)`,
    ),
    tests: db.prepare<[number], ConnectionTestRow>(`SELECT result FROM connection_tests ${CONNECTION_TEST_ORDER} LIMIT ?`),
    testsOfKind: db.prepare<[string, number], ConnectionTestRow>(`SELECT result FROM connection_tests WHERE kind = ? ${CONNECTION_TEST_ORDER} LIMIT ?`),
    roomCandidates: db.prepare<[number], {key: string; attribution: string}>(ROOM_CANDIDATES_SQL),
    evictFinding: db.prepare('DELETE FROM findings WHERE key = ?'),
    evictHistory: db.prepare('DELETE FROM finding_history WHERE key = ?'),
    evictAlertState: db.prepare('DELETE FROM alert_state WHERE key = ?'),
    alertState: db.prepare<[string], AlertStateRow>('SELECT * FROM alert_state WHERE key = ?'),
    setAnnounced: db.prepare(
      `INSERT INTO alert_state (key, announced_count, announced_pods, updated_at) VALUES (?, ?, ?, ?)
       ON CONFLICT (key) DO UPDATE SET announced_count = excluded.announced_count, announced_pods = excluded.announced_pods, updated_at = excluded.updated_at`,
    ),
    setResolutionAnnounced: db.prepare(
      `INSERT INTO alert_state (key, resolved_announced_at, updated_at) VALUES (?, ?, ?)
       ON CONFLICT (key) DO UPDATE SET resolved_announced_at = excluded.resolved_announced_at, updated_at = excluded.updated_at`,
    ),
  };
}

interface HistoryEntryRow {
  hour: number;
  count: number;
}

export class SqliteStore implements Store {
  readonly kind = 'sqlite' as const;
  private readonly s: ReturnType<typeof statements>;
  private readonly outbox: SqliteOutbox;
  private readonly limits: StoreLimits;
  private readonly retention: RetentionPolicy;
  private readonly clock: () => number;
  private readonly autoPruneMs: number;
  private lastPrune = -Infinity;

  constructor(
    private readonly db: Database.Database,
    opts: SqliteStoreOptions = {},
  ) {
    this.limits = {...DEFAULT_STORE_LIMITS, ...opts.limits};
    this.retention = {...DEFAULT_RETENTION, ...opts.retention};
    this.clock = opts.clock ?? Date.now;
    this.autoPruneMs = opts.autoPruneMs ?? rules.HOUR_MS;
    this.s = statements(db);
    this.outbox = new SqliteOutbox(db, this.clock);
  }

  get path(): string {
    return this.db.name;
  }

  async applyBatch(batch: ObservationBatch): Promise<ApplyResult> {
    return this.applyBatchSync(batch);
  }

  /** The synchronous core, for callers (the bench, tests of crash safety) that want no event-loop turns. */
  applyBatchSync(batch: ObservationBatch): ApplyResult {
    const prepared = rules.prepareBatch(batch, this.limits);
    const result = this.db.transaction(() => this.applyInTx(prepared)).immediate();
    const now = this.clock();
    if (this.autoPruneMs > 0 && now - this.lastPrune >= this.autoPruneMs) this.pruneSync(now);
    return result;
  }

  private applyInTx(b: rules.PreparedBatch): ApplyResult {
    const replay = rules.replayOf(b, this.s.resume.get(b.sourceId));
    if (replay !== null) return replay;
    const now = this.clock();
    const rows = new Map<string, FindingRow>();
    for (const key of rules.batchKeys(b.deltas)) {
      const row = this.s.finding.get(key);
      if (row !== undefined) rows.set(key, row);
    }
    const fresh = rules.batchKeys(b.deltas).length - rows.size;
    const stored = fresh > 0 ? (this.s.findingCount.get()?.n ?? 0) : 0;
    const room = rules.roomCandidatesNeeded(stored, fresh, this.limits, ROOM_CANDIDATES);
    const plan = rules.planBatch(b.deltas, rows, stored, room > 0 ? this.s.roomCandidates.all(room) : [], this.limits, now);
    for (const key of plan.evict) {
      this.s.evictFinding.run(key);
      this.s.evictHistory.run(key);
      this.s.evictAlertState.run(key);
    }
    for (const f of plan.insert) this.s.insertFinding.run({key: f.key, now, ...f.content});
    for (const f of plan.update) this.s.updateContent.run({key: f.key, now, ...f.content});
    for (const key of plan.reopen) {
      this.s.reopen.run(now, now, key);
      this.s.decide.run(key, 'reopen', null, null, rules.REOPEN_REASON, now);
    }
    for (const h of plan.history) this.s.addHistory.run(h.key, h.hour, h.count);
    for (const c of plan.counters) this.s.setMeta.run(c.key, addTo(this.s.getMeta.get(c.key)?.value, c.add), now);
    for (const m of b.meta) this.s.setMeta.run(m.key, rules.metaValue(m, this.s.getMeta.get(m.key)?.value ?? null), now);
    const outboxIds = (b.notify?.(plan.changes) ?? []).map((item) => this.outbox.enqueueInTx(item).id);
    // Written last, so that anything failing above leaves the resume point where it was.
    const resume = this.s.setResume.get(b.sourceId, b.position, now);
    if (resume === undefined) throw new Error('the resume point was not written');
    return {applied: true, resumePoint: resumeOf(resume), ...plan.changes, outboxIds};
  }

  async getResumePoint(sourceId: string): Promise<ResumePoint | null> {
    return this.getResumePointSync(sourceId);
  }

  getResumePointSync(sourceId: string): ResumePoint | null {
    const row = this.s.resume.get(requireText('sourceId', sourceId, rules.MAX_SOURCE_ID));
    return row === undefined ? null : resumeOf(row);
  }

  async listResumePoints(): Promise<ResumePoint[]> {
    return this.s.resumeAll.all().map(resumeOf);
  }

  async listFindings(query: FindingQuery = {}): Promise<FindingPage> {
    const q = findingQuerySql(query);
    const total = (this.db.prepare(q.countSql).get(...q.params) as {n: number}).n;
    const rows = this.db.prepare(q.pageSql).all(...q.params, q.limit, q.offset) as FindingRow[];
    return {items: rows.map(storedOf), total};
  }

  async getFinding(key: string): Promise<StoredFinding | null> {
    const row = this.s.finding.get(this.keyOf(key));
    return row === undefined ? null : storedOf(row);
  }

  async countFindings(): Promise<FindingCounts> {
    const counts: FindingCounts = {byStatus: {open: 0, ignored: 0, resolved: 0}, openByVerdict: {}};
    for (const r of this.s.byStatus.all()) {
      if ((FINDING_STATUSES as readonly string[]).includes(r.status)) counts.byStatus[r.status as keyof FindingCounts['byStatus']] = r.n;
    }
    for (const r of this.s.openByVerdict.all()) counts.openByVerdict[r.verdict as keyof FindingCounts['openByVerdict']] = r.n;
    return counts;
  }

  async getHistory(key: string, since?: Date): Promise<HistoryEntry[]> {
    const from = since === undefined ? 0 : since.getTime();
    return this.s.history.all(this.keyOf(key), Number.isFinite(from) ? from : 0).map((r) => ({hour: iso(r.hour), count: r.count}));
  }

  async reattributeOpen(derive: (finding: Finding) => Reattribution): Promise<ReattributeResult> {
    return this.db
      .transaction(() => {
        const changed = new Set<string>();
        const moved: ReattributeResult['moved'] = [];
        const now = this.clock();
        for (const row of this.s.openFindings.all()) {
          const next = derive(findingOf(row));
          const to = rules.findingKey(next.key, this.limits);
          const target = to === row.key ? undefined : this.s.finding.get(to);
          const plan = rules.reattribution(row, next, target, this.limits);
          if (plan === null) continue;
          if (plan.kind === 'update') {
            this.s.setAttribution.run({key: row.key, attribution: plan.attribution, features: plan.features, now});
            changed.add(row.key);
            continue;
          }
          this.moveInTx(row, plan, target !== undefined, now);
          moved.push({from: row.key, to: plan.to, merged: target !== undefined, alertPostId: row.alert_post_id});
          changed.delete(row.key);
          changed.add(plan.to);
        }
        return {changedKeys: [...changed], moved};
      })
      .immediate();
  }

  /** Moves an open finding to the key its new name gives it, merging it into the finding there if any. */
  private moveInTx(row: FindingRow, plan: Extract<rules.ReattributionPlan, {kind: 'move'}>, merge: boolean, now: number): void {
    const keys = {key: row.key, to: plan.to};
    const c = plan.content;
    if (!merge) {
      this.s.renameFinding.run({...keys, now, host: c.host, attribution: c.attribution, features: c.features});
    } else {
      this.s.updateContent.run({key: plan.to, now, ...c});
      if (plan.reopen !== null) {
        this.s.reopen.run(now, now, plan.to);
        this.s.decide.run(plan.to, 'reopen', null, null, plan.reopen, now);
      }
      if (row.alert_post_id !== null) this.s.adoptAlertPost.run({to: plan.to, postId: row.alert_post_id});
      this.s.evictFinding.run(row.key);
    }
    this.s.moveHistory.run(keys);
    this.s.evictHistory.run(row.key);
    this.s.moveDecisions.run(keys);
    this.s.moveAlertState.run(keys);
    this.s.evictAlertState.run(row.key);
    this.s.setMeta.run(movedMetaKey(row.key), plan.to, now);
  }

  async movedTo(key: string): Promise<string | null> {
    return this.s.getMeta.get(movedMetaKey(this.keyOf(key)))?.value ?? null;
  }

  /** Runs a status change (rules.ts decides whether it happens) and its notifications in one transaction. */
  private change(rawKey: string, req: rules.StatusRequest, notify?: StatusChangeOptions['notify']): StoredFinding {
    const key = this.keyOf(rawKey);
    return this.db
      .transaction(() => {
        const row = this.s.finding.get(key);
        if (row === undefined) throw new FindingNotFoundError(key);
        const plan = rules.planStatusChange(row, req, req.action === 'resolve' ? undefined : this.s.lastPersonDecision.get(key));
        if (plan === null) return storedOf(row);
        const {decision: d} = plan;
        if (plan.status === 'ignored') this.s.ignore.run({key, now: d.at, userId: d.by?.userId, username: d.by?.username, reason: d.reason});
        else if (plan.status === 'open') this.s.unignore.run(d.at, d.at, key);
        else this.s.resolve.run(d.at, d.at, this.clock(), key);
        this.s.decide.run(key, d.action, d.by?.userId ?? null, d.by?.username ?? null, d.reason, d.at);
        const after = this.s.finding.get(key);
        if (after === undefined) throw new FindingNotFoundError(key);
        const stored = storedOf(after);
        for (const item of notify?.(stored) ?? []) this.outbox.enqueueInTx(item);
        return stored;
      })
      .immediate();
  }

  private keyOf(key: string): string {
    return rules.findingKey(key, this.limits);
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
    if (this.s.alertPost.run(id, this.clock(), this.keyOf(key)).changes === 0) throw new FindingNotFoundError(key);
  }

  async listDecisions(key: string): Promise<Decision[]> {
    return this.s.decisions.all(this.keyOf(key)).map(decisionOf);
  }

  async enqueue(item: OutboxInput): Promise<EnqueueResult> {
    return this.outbox.enqueue(item);
  }

  async claimDue(now: Date, limit: number, opts?: ClaimOptions): Promise<ClaimedItem[]> {
    return this.outbox.claimDue(now, limit, opts);
  }

  async markDelivered(id: number, result?: string | null): Promise<boolean> {
    return this.outbox.markDelivered(id, result ?? null);
  }

  async markFailed(id: number, error: string, retryAt: Date | null, claimToken?: string): Promise<boolean> {
    return this.outbox.markFailed(id, error, retryAt, claimToken);
  }

  async getOutboxItem(id: number): Promise<OutboxItem | null> {
    return this.outbox.get(id);
  }

  async outboxDepth(): Promise<number> {
    return this.outbox.depth();
  }

  async getOverflow(): Promise<StoreOverflow> {
    const n = (key: string): number => Number(addTo(this.s.getMeta.get(key)?.value, 0));
    return {
      maxFindings: this.limits.maxFindings,
      findings: this.s.findingCount.get()?.n ?? 0,
      lines: n(OVERFLOW_LINES_META),
      destinations: n(OVERFLOW_DESTINATIONS_META),
      evicted: n(EVICTED_META),
    };
  }

  async getAlertState(key: string): Promise<AlertState | null> {
    const row = this.s.alertState.get(this.keyOf(key));
    return row === undefined ? null : alertStateOf(row);
  }

  async recordAnnounced(key: string, count: number, pods: readonly string[]): Promise<void> {
    this.s.setAnnounced.run(this.keyOf(key), announcedCount(count), JSON.stringify(pods.map((p) => text(p, this.limits.podChars))), this.clock());
  }

  async recordResolutionAnnounced(key: string, resolvedAt: string): Promise<void> {
    this.s.setResolutionAnnounced.run(this.keyOf(key), this.atOf(new Date(resolvedAt)), this.clock());
  }

  async addConnectionTest(result: ConnectionTestResult, keepPerKind?: number): Promise<void> {
    const r = connectionTestRow(result);
    const keep = keptPerKind(keepPerKind);
    this.db
      .transaction(() => {
        this.s.addTest.run(r.id, r.kind, r.started_at, r.result);
        this.s.trimTests.run(r.kind, r.kind, keep);
      })
      .immediate();
  }

  async listConnectionTests(query: ConnectionTestQuery = {}): Promise<ConnectionTestResult[]> {
    const limit = listLimit(query);
    const rows = query.kind === undefined ? this.s.tests.all(limit) : this.s.testsOfKind.all(requireText('test kind', query.kind, 64), limit);
    return rows.map(connectionTestOf);
  }

  async getMeta(key: string): Promise<string | null> {
    return this.s.getMeta.get(requireText('meta key', key, rules.MAX_META_KEY))?.value ?? null;
  }

  async setMeta(key: string, value: string): Promise<void> {
    this.s.setMeta.run(requireText('meta key', key, rules.MAX_META_KEY), requireText('meta value', value, rules.MAX_META_VALUE, true), this.clock());
  }

  async deleteMeta(key: string): Promise<void> {
    this.s.deleteMeta.run(requireText('meta key', key, rules.MAX_META_KEY));
  }

  async prune(now: Date): Promise<PruneResult> {
    return this.pruneSync(this.atOf(now));
  }

  private pruneSync(t: number): PruneResult {
    this.lastPrune = t;
    return this.db
      .transaction(() => ({
        historyRows: this.s.pruneHistory.run(t - this.retention.historyDays * rules.DAY_MS).changes,
        outboxItems: this.outbox.prune(t - this.retention.outboxDays * rules.DAY_MS),
      }))
      .immediate();
  }

  async close(): Promise<void> {
    this.closeSync();
  }

  /** Idempotent, so shutdown paths need not know whether someone closed it already. */
  closeSync(): void {
    if (this.db.open) this.db.close();
  }
}

/** SQLite's own words for a file that is not (or no longer) a database it can use. */
const DAMAGE_CODES = new Set(['SQLITE_CORRUPT', 'SQLITE_NOTADB', 'SQLITE_CORRUPT_VTAB', 'SQLITE_CORRUPT_SEQUENCE', 'SQLITE_CORRUPT_INDEX']);

/** The store holds the HMAC key and Mattermost tokens: only the bridge's user may read it (0600). */
function ownerOnly(path: string): void {
  for (const p of [path, `${path}-wal`, `${path}-shm`]) if (existsSync(p)) chmodSync(p, 0o600);
}

/**
 * Opens (creating if needed), checks and migrates the store at `path`. A file that fails SQLite's
 * quick_check (or is not a database) is refused with StoreDamagedError before anything is written to it.
 */
export function openSqliteStore(path: string, opts: SqliteStoreOptions = {}): SqliteStore {
  const memory = path === ':memory:' || path === '';
  // Created 0600 before SQLite opens it; SQLite gives its -wal and -shm files the same mode.
  if (!memory && !existsSync(path)) closeSync(openSync(path, 'a', 0o600));
  if (!memory) ownerOnly(path);
  let db: Database.Database;
  try {
    db = new Database(path, {timeout: opts.busyTimeoutMs ?? 5_000});
  } catch (e) {
    throw damaged(path, e) ?? e;
  }
  try {
    const mode = db.pragma('journal_mode = WAL', {simple: true});
    if (mode !== 'wal' && mode !== 'memory') throw new Error(`SQLite refused WAL mode for ${path} (journal mode is ${String(mode)})`);
    db.pragma(`synchronous = ${opts.synchronous === 'FULL' ? 'FULL' : 'NORMAL'}`);
    const check = db.pragma('quick_check', {simple: true});
    if (check !== 'ok') throw new StoreDamagedError(path, `quick_check: ${String(check)}`);
    migrate(db, opts.migrations ?? MIGRATIONS, opts.clock ?? Date.now);
    if (!memory) ownerOnly(path);
    return new SqliteStore(db, opts);
  } catch (e) {
    db.close();
    throw damaged(path, e) ?? e;
  }
}

function damaged(path: string, e: unknown): StoreDamagedError | null {
  if (e instanceof StoreDamagedError) return e;
  const code = (e as {code?: unknown}).code;
  return typeof code === 'string' && DAMAGE_CODES.has(code) ? new StoreDamagedError(path, (e as Error).message) : null;
}
