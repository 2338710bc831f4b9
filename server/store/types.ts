// The bridge's persistent state behind one interface, so that the SQLite default and a later PostgreSQL
// implementation (two replicas, one leader) are interchangeable. Every method is async because PostgreSQL
// is; the SQLite implementation does its work synchronously inside them.
//
// Text contract, identical for every implementation: strings round-trip unchanged (NUL and any
// well-formed Unicode included) except lone UTF-16 surrogates, which no UTF-8 database can hold and which
// become U+FFFD on the way in. JSON values (outbox payloads) round-trip exactly, lone surrogates included.
import type {ConnectionTestResult} from '../../common/connection-tests';
import type {Attribution, Destination, FeatureRef, Finding, PortProtocol, RejectedHost, Verdict} from '../../common/types';
import type {Reattribution} from '../engine/findings';
import type {ConnectionTestQuery} from './connection-tests';

export type FindingStatus = 'open' | 'ignored' | 'resolved';

export const FINDING_STATUSES: readonly FindingStatus[] = ['open', 'ignored', 'resolved'];

/** A Mattermost user acting through the slash command, a message button or the System Console. */
export interface Actor {
  userId: string;
  username: string;
}

export interface StoredFinding extends Finding {
  status: FindingStatus;
  /** ISO-8601 times of the store (not of the log lines, which are firstSeen/lastSeen). */
  createdAt: string;
  updatedAt: string;
  statusChangedAt: string | null;
  resolvedAt: string | null;
  /** Set while status is 'ignored': the decision that put it there. */
  ignored: {by: Actor; reason: string; at: string} | null;
  /** The post that announced this finding, once the outbox delivered it. */
  alertPostId: string | null;
  /** Grows on every change, so a reader can tell whether what it showed is stale. */
  revision: number;
}

/**
 * One destination's lines from one batch, as the engine folded them: a Finding whose count, pods, samples
 * and times cover this batch only. A Finding from buildFindings() fits as it is; observationFromStats()
 * converts the folder's DestinationStats (which has no attribution yet).
 */
export interface Observation {
  key: string;
  destination: Destination;
  verdict: Verdict;
  protocol: PortProtocol;
  count: number;
  firstSeen: string | null;
  lastSeen: string | null;
  pods: string[];
  samples: string[];
  attribution?: Attribution;
  features?: FeatureRef[];
  rejectedHost?: RejectedHost;
}

export interface ObservationBatch {
  sourceId: string;
  /**
   * The resume point this batch was read from (what getResumePoint returned; null for a fresh source).
   * When given, the batch is applied only if the stored point still equals it, and a replay of an already
   * committed batch is recognised and skipped. Omit it only for sources that cannot be re-read (stdin).
   */
  from?: string | null;
  /** Opaque to the store: where the source resumes after this batch (see ResumePoint.position). */
  position: string;
  observations: Observation[];
  /**
   * Outbox items to enqueue in the same transaction, computed from the batch's effect, so that a crash can
   * never commit a new finding without its alert. Must be synchronous and free of I/O.
   */
  notify?: (changes: BatchChanges) => OutboxInput[];
  /**
   * Meta values that follow from the batch's lines (the calls Mattermost refused itself), rewritten in the
   * same transaction as the resume point, so a replayed batch never counts twice. `update` gets the stored
   * value (null when none), must be synchronous and pure, and runs before `notify`.
   */
  meta?: MetaUpdate[];
}

export interface MetaUpdate {
  key: string;
  update: (current: string | null) => string;
}

export interface ReattributeResult {
  /** Findings whose name, attribution, features or advice changed, under the key they have now. */
  changedKeys: string[];
  /**
   * Findings that moved to a named key: `merged` when a finding already held it; `alertPostId` is the
   * post that announced the moved finding (its card still shows the old key).
   */
  moved: {from: string; to: string; merged: boolean; alertPostId: string | null}[];
}

/** The meta entry that remembers where a finding moved. */
export function movedMetaKey(key: string): string {
  return `moved:${key}`;
}

export interface BatchChanges {
  /** Keys never seen before. */
  newKeys: string[];
  /** Existing findings this batch changed (reopened ones included). */
  changedKeys: string[];
  /** Resolved findings that saw traffic again and are open once more. */
  reopenedKeys: string[];
  /** Lines of new destinations dropped because the store holds its maximum number of findings. */
  overflowLines: number;
  /** New destinations not stored for that reason (IP-only, unexplained ones only; see capacity.ts). */
  overflowDestinations: number;
  /** Junk findings removed to make room for a destination worth keeping. */
  evictedKeys: string[];
}

/** What the findings limit has cost so far (since the store was created). */
export interface StoreOverflow {
  maxFindings: number;
  findings: number;
  lines: number;
  destinations: number;
  evicted: number;
}

export interface ApplyResult extends BatchChanges {
  /** False when the batch had already been committed (a replay after a crash, or a retry): nothing changed. */
  applied: boolean;
  resumePoint: ResumePoint;
  outboxIds: number[];
}

export interface ResumePoint {
  sourceId: string;
  /**
   * Opaque to the store, compared only for equality; each source defines and encodes it, always the same
   * string for the same point (server/sources/position.ts). Files: device, inode, byte offset and a hash of
   * the file's first bytes (inodes are reused after rotation). Kubernetes log streams: the sinceTime to ask
   * for and the hash and count of the lines already read at that time, to skip the overlap the API repeats.
   */
  position: string;
  /** Batches committed for this source; lets a reader tell two equal positions apart. */
  seq: number;
  updatedAt: string;
}

/**
 * What the admin channel was last told about a finding, so a thread reply names only what is new and a
 * resolution is announced once.
 */
export interface AlertState {
  key: string;
  /** Count and pods as the alert (or the last thread reply) stated them; 0 and [] before any. */
  announcedCount: number;
  announcedPods: string[];
  /** The finding's resolvedAt the thread was told about, if any. */
  resolvedAnnouncedAt: string | null;
}

export type FindingSort = 'urgency' | 'lastSeen' | 'firstSeen' | 'count' | 'key' | 'updatedAt';

export interface FindingQuery {
  status?: FindingStatus | FindingStatus[];
  verdict?: Verdict | Verdict[];
  /** 1..5000 (larger is cut to 5000), default 100. */
  limit?: number;
  offset?: number;
  /** 'urgency' (the CLI's order: verdict, then count, then key) unless told. */
  sort?: FindingSort;
  order?: 'asc' | 'desc';
}

export interface FindingPage {
  items: StoredFinding[];
  /** Matching findings in all pages. */
  total: number;
}

export interface FindingCounts {
  byStatus: Record<FindingStatus, number>;
  /** Open findings only: what still needs an administrator. */
  openByVerdict: Partial<Record<Verdict, number>>;
}

export interface HistoryEntry {
  /** Start of the hour (ISO-8601, UTC) the lines fell in, by their log time. */
  hour: string;
  count: number;
}

export type DecisionAction = 'ignore' | 'unignore' | 'resolve' | 'reopen';

/** Every status change, kept after the finding moves on: who decided what, why and when. */
export interface Decision {
  id: number;
  key: string;
  action: DecisionAction;
  /** Null for the bridge's own changes (resolved by policy, reopened by new traffic). */
  by: Actor | null;
  reason: string;
  at: string;
}

/** Alias for the decisions an administrator makes about a finding. */
export type IgnoreDecision = Decision;

export type OutboxKind = 'alert-new' | 'alert-update' | 'digest-update' | 'finding-status' | 'notice' | 'test-reply';

export type OutboxState =
  | 'pending' // waiting for its time
  | 'claimed' // a worker holds it until claimedUntil
  | 'delivered'
  | 'dead' // gave up (a permanent error)
  | 'superseded'; // a newer pending item with the same dedupeKey carries its content

export interface OutboxInput {
  kind: OutboxKind;
  /** Any JSON value, at most 256 KiB serialised. */
  payload: unknown;
  /**
   * Items that describe the same thing (e.g. "digest:2024-05-01"): while one is undelivered and not being
   * delivered, enqueueing another replaces its payload instead of adding an item. The payload must
   * therefore carry the whole current state, not an increment.
   */
  dedupeKey?: string | null;
  /** Not before this time (debounce); default now. A merge keeps the pending item's time. */
  availableAt?: Date;
}

export interface OutboxItem {
  id: number;
  kind: OutboxKind;
  payload: unknown;
  dedupeKey: string | null;
  state: OutboxState;
  createdAt: string;
  updatedAt: string;
  /** Claims so far, i.e. delivery attempts started. */
  attempts: number;
  nextAttemptAt: string;
  claimedUntil: string | null;
  lastError: string | null;
  deliveredAt: string | null;
  /** What delivery produced, e.g. the post id. */
  result: string | null;
}

export interface ClaimedItem extends OutboxItem {
  /** Proves a later markFailed comes from this claim, not from one whose lease already expired. */
  claimToken: string;
}

export interface EnqueueResult {
  id: number;
  /** True when an undelivered item with the same dedupeKey took the payload. */
  merged: boolean;
}

export interface ClaimOptions {
  /** How long the claim holds before another worker may take the item again; default 60 s. */
  leaseMs?: number;
}

export interface PruneResult {
  historyRows: number;
  outboxItems: number;
}

export interface StatusChangeOptions {
  /** Outbox items to enqueue in the same transaction as the change (e.g. update the alert post). */
  notify?: (finding: StoredFinding) => OutboxInput[];
  at?: Date;
  /**
   * For ignore and un-ignore: the id of the finding's latest ignore or un-ignore decision the caller knew of
   * (0 for none), as an alert button carries it from when the alert was drawn. When a newer one exists the
   * change is refused with StaleDecisionError. Left out, the change applies whatever was decided before.
   */
  decidedUpTo?: number;
}

export interface Store {
  readonly kind: 'sqlite' | 'postgres';

  /** Merges a batch into the findings and moves the source's resume point, all in one transaction. */
  applyBatch(batch: ObservationBatch): Promise<ApplyResult>;
  getResumePoint(sourceId: string): Promise<ResumePoint | null>;
  listResumePoints(): Promise<ResumePoint[]>;

  listFindings(query?: FindingQuery): Promise<FindingPage>;
  getFinding(key: string): Promise<StoredFinding | null>;
  countFindings(): Promise<FindingCounts>;
  getHistory(key: string, since?: Date): Promise<HistoryEntry[]>;
  /**
   * Gives every open finding the name, attribution, features and advice `derive` makes of it (Mattermost's
   * configuration changed), in one transaction. A finding whose key changes (an address now named) moves to
   * the new key with its history, decisions, alert post and thread state; when a finding already holds that
   * key the two are merged (counts added, each line counted once; the existing finding's status stands,
   * except that a resolved one is reopened, since the moved one's lines are open) and `movedTo` answers
   * where the old key went.
   */
  reattributeOpen(derive: (finding: Finding) => Reattribution): Promise<ReattributeResult>;
  /** Where a finding moved when it was named (reattributeOpen), or null. */
  movedTo(key: string): Promise<string | null>;
  /** Throws FindingNotFoundError for an unknown key. Ignoring again records the new reason. */
  ignore(key: string, by: Actor, reason: string, opts?: StatusChangeOptions): Promise<StoredFinding>;
  /** Back to 'open'; a no-op (nothing recorded) when the finding is not ignored. */
  unignore(key: string, by: Actor, reason?: string, opts?: StatusChangeOptions): Promise<StoredFinding>;
  /** Resolves an open finding; an ignored one keeps the administrator's decision and is returned as it is. */
  markResolved(key: string, at: Date, reason?: string, opts?: Omit<StatusChangeOptions, 'at'>): Promise<StoredFinding>;
  setAlertPostId(key: string, postId: string | null): Promise<void>;
  listDecisions(key: string): Promise<Decision[]>;

  enqueue(item: OutboxInput): Promise<EnqueueResult>;
  /** Due items, each handed to exactly one caller until its lease expires; counts the attempt. */
  claimDue(now: Date, limit: number, opts?: ClaimOptions): Promise<ClaimedItem[]>;
  /** False when the item was already delivered. */
  markDelivered(id: number, result?: string | null): Promise<boolean>;
  /**
   * Schedules a retry at retryAt (see backoff.ts), or gives up when retryAt is null. False when the item is
   * not claimed, or claimToken belongs to an older claim.
   */
  markFailed(id: number, error: string, retryAt: Date | null, claimToken?: string): Promise<boolean>;
  getOutboxItem(id: number): Promise<OutboxItem | null>;
  /** Items not yet delivered (pending or claimed). */
  outboxDepth(): Promise<number>;

  getOverflow(): Promise<StoreOverflow>;

  /** Null before anything was announced about the finding. */
  getAlertState(key: string): Promise<AlertState | null>;
  /** The alert or a thread reply stated this count and these pods. */
  recordAnnounced(key: string, count: number, pods: readonly string[]): Promise<void>;
  /** The thread was told about the resolution made at resolvedAt (ISO-8601). */
  recordResolutionAnnounced(key: string, resolvedAt: string): Promise<void>;

  /**
   * Keeps one of Mattermost's connection test results as a row of its own (a result with a known id is not
   * added twice); then only the newest `keepPerKind` (default CONNECTION_TESTS_KEPT) of its integration stay.
   */
  addConnectionTest(result: ConnectionTestResult, keepPerKind?: number): Promise<void>;
  /** Newest first. */
  listConnectionTests(query?: ConnectionTestQuery): Promise<ConnectionTestResult[]>;

  getMeta(key: string): Promise<string | null>;
  setMeta(key: string, value: string): Promise<void>;
  deleteMeta(key: string): Promise<void>;

  /** Drops history older than the retention and delivered/dead/superseded outbox items past theirs. */
  prune(now: Date): Promise<PruneResult>;
  close(): Promise<void>;
}

/** Bounds on what traffic can make the store hold. */
export interface StoreLimits {
  samples: number;
  sampleChars: number;
  pods: number;
  podChars: number;
  features: number;
  candidates: number;
  /** Distinct findings; lines of further new destinations are counted, never stored. */
  maxFindings: number;
  /** Longest text from traffic (key, host, advice, attribution note…) kept; longer is cut. */
  textChars: number;
}

export const DEFAULT_STORE_LIMITS: StoreLimits = {
  samples: 5,
  sampleChars: 2_000,
  pods: 20,
  podChars: 253,
  features: 50,
  candidates: 20,
  maxFindings: 50_000,
  textChars: 1_000,
};

export interface RetentionPolicy {
  historyDays: number;
  /** For delivered, dead and superseded outbox items. */
  outboxDays: number;
}

export const DEFAULT_RETENTION: RetentionPolicy = {historyDays: 30, outboxDays: 7};
