// Between the SQLite rows and the records of types.ts.
import type {Finding, PortProtocol, Verdict} from '../../common/types';
import type {AlertState, Decision, DecisionAction, FindingStatus, OutboxItem, OutboxKind, OutboxState, ResumePoint, StoredFinding} from './types';

export function iso(ms: number): string {
  return new Date(ms).toISOString();
}

export function isoOrNull(ms: number | null): string | null {
  return ms === null ? null : iso(ms);
}

/** The columns that hold a finding's content; a change to any of them is a change worth a new revision. */
export interface FindingContent {
  verdict: string;
  protocol: string;
  host: string | null;
  ip: string | null;
  port: number;
  count: number;
  first_seen: string | null;
  last_seen: string | null;
  pods: string;
  samples: string;
  attribution: string;
  features: string;
  advice: string;
  rejected_host: string | null;
}

export interface FindingRow extends FindingContent {
  key: string;
  status: FindingStatus;
  created_at: number;
  updated_at: number;
  status_changed_at: number | null;
  resolved_at: number | null;
  ignored_by_id: string | null;
  ignored_by_name: string | null;
  ignored_reason: string | null;
  ignored_at: number | null;
  alert_post_id: string | null;
  revision: number;
}

export const CONTENT_COLUMNS: readonly (keyof FindingContent)[] = [
  'verdict',
  'protocol',
  'host',
  'ip',
  'port',
  'count',
  'first_seen',
  'last_seen',
  'pods',
  'samples',
  'attribution',
  'features',
  'advice',
  'rejected_host',
];

export function contentOf(f: Finding): FindingContent {
  return {
    verdict: f.verdict,
    protocol: f.protocol,
    host: f.destination.host,
    ip: f.destination.ip,
    port: f.destination.port,
    count: f.count,
    first_seen: f.firstSeen,
    last_seen: f.lastSeen,
    pods: JSON.stringify(f.pods),
    samples: JSON.stringify(f.samples),
    attribution: JSON.stringify(f.attribution),
    features: JSON.stringify(f.features),
    // A column of older releases' advice; what to do is now the plan's (engine/suggest/plan.ts), made when shown.
    advice: '',
    rejected_host: f.rejectedHost === undefined ? null : JSON.stringify(f.rejectedHost),
  };
}

export function sameContent(a: FindingContent, b: FindingContent): boolean {
  return CONTENT_COLUMNS.every((c) => a[c] === b[c]);
}

export function findingOf(row: FindingRow): Finding {
  const f: Finding = {
    key: row.key,
    destination: {host: row.host, ip: row.ip, port: row.port},
    verdict: row.verdict as Verdict,
    protocol: row.protocol as PortProtocol,
    count: row.count,
    firstSeen: row.first_seen,
    lastSeen: row.last_seen,
    pods: JSON.parse(row.pods) as string[],
    samples: JSON.parse(row.samples) as string[],
    attribution: JSON.parse(row.attribution) as Finding['attribution'],
    features: JSON.parse(row.features) as Finding['features'],
  };
  if (row.rejected_host !== null) f.rejectedHost = JSON.parse(row.rejected_host) as NonNullable<Finding['rejectedHost']>;
  return f;
}

export function storedOf(row: FindingRow): StoredFinding {
  const ignored =
    row.status === 'ignored' && row.ignored_at !== null
      ? {by: {userId: row.ignored_by_id ?? '', username: row.ignored_by_name ?? ''}, reason: row.ignored_reason ?? '', at: iso(row.ignored_at)}
      : null;
  return {
    ...findingOf(row),
    status: row.status,
    createdAt: iso(row.created_at),
    updatedAt: iso(row.updated_at),
    statusChangedAt: isoOrNull(row.status_changed_at),
    resolvedAt: isoOrNull(row.resolved_at),
    ignored,
    alertPostId: row.alert_post_id,
    revision: row.revision,
  };
}

export interface DecisionRow {
  id: number;
  key: string;
  action: DecisionAction;
  by_user_id: string | null;
  by_username: string | null;
  reason: string;
  at: number;
}

export function decisionOf(r: DecisionRow): Decision {
  return {
    id: r.id,
    key: r.key,
    action: r.action,
    by: r.by_user_id === null ? null : {userId: r.by_user_id, username: r.by_username ?? ''},
    reason: r.reason,
    at: iso(r.at),
  };
}

export interface ResumeRow {
  source_id: string;
  position: string;
  seq: number;
  updated_at: number;
}

export function resumeOf(r: ResumeRow): ResumePoint {
  return {sourceId: r.source_id, position: r.position, seq: r.seq, updatedAt: iso(r.updated_at)};
}

export interface AlertStateRow {
  key: string;
  announced_count: number;
  announced_pods: string;
  resolved_announced_at: number | null;
  updated_at: number;
}

export function alertStateOf(r: AlertStateRow): AlertState {
  let pods: unknown;
  try {
    pods = JSON.parse(r.announced_pods);
  } catch {
    pods = [];
  }
  return {
    key: r.key,
    announcedCount: r.announced_count,
    announcedPods: Array.isArray(pods) ? pods.filter((p): p is string => typeof p === 'string') : [],
    resolvedAnnouncedAt: isoOrNull(r.resolved_announced_at),
  };
}

/** A count as the alert state keeps it: a whole number from 0 to the largest safe integer. */
export function announcedCount(n: number): number {
  return Number.isFinite(n) ? Math.min(Number.MAX_SAFE_INTEGER, Math.max(0, Math.floor(n))) : 0;
}

export interface OutboxRow {
  id: number;
  kind: string;
  payload: string;
  dedupe_key: string | null;
  state: OutboxState;
  created_at: number;
  updated_at: number;
  attempts: number;
  next_attempt_at: number;
  claimed_until: number | null;
  claim_token: string | null;
  last_error: string | null;
  delivered_at: number | null;
  result: string | null;
}

export function outboxOf(r: OutboxRow): OutboxItem {
  return {
    id: r.id,
    kind: r.kind as OutboxKind,
    payload: JSON.parse(r.payload) as unknown,
    dedupeKey: r.dedupe_key,
    state: r.state,
    createdAt: iso(r.created_at),
    updatedAt: iso(r.updated_at),
    attempts: r.attempts,
    nextAttemptAt: iso(r.next_attempt_at),
    claimedUntil: isoOrNull(r.claimed_until),
    lastError: r.last_error,
    deliveredAt: isoOrNull(r.delivered_at),
    result: r.result,
  };
}
