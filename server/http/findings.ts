// From the store's findings to the API's, and the text search the store does not offer. Fields are copied
// one by one so that nothing the store adds later reaches the browser unnoticed.
import type {ApiDecision, FindingDetail, FindingSummary, Plan} from '../../common/api';
import type {Decision, FindingQuery, HistoryEntry, StoredFinding} from '../store/types';
import type {FindingsStore} from './types';

export function toSummary(f: StoredFinding): FindingSummary {
  return {
    key: f.key,
    destination: {host: f.destination.host, ip: f.destination.ip, port: f.destination.port},
    verdict: f.verdict,
    protocol: f.protocol,
    status: f.status,
    count: f.count,
    firstSeen: f.firstSeen,
    lastSeen: f.lastSeen,
    pods: [...f.pods],
    attribution: {
      host: f.attribution.host,
      candidates: [...f.attribution.candidates],
      method: f.attribution.method,
      confidence: f.attribution.confidence,
      note: f.attribution.note,
    },
    features: f.features.map((x) => ({id: x.id, name: x.name, configPath: x.configPath})),
    rejectedHost: f.rejectedHost ? {printable: f.rejectedHost.printable, reason: f.rejectedHost.reason} : null,
    ignored: f.ignored ? {by: {userId: f.ignored.by.userId, username: f.ignored.by.username}, reason: f.ignored.reason, at: f.ignored.at} : null,
    createdAt: f.createdAt,
    updatedAt: f.updatedAt,
    statusChangedAt: f.statusChangedAt,
    resolvedAt: f.resolvedAt,
    alertPostId: f.alertPostId,
    revision: f.revision,
  };
}

function toDecision(d: Decision): ApiDecision {
  return {action: d.action, by: d.by ? {userId: d.by.userId, username: d.by.username} : null, reason: d.reason, at: d.at};
}

export function toDetail(f: StoredFinding, history: readonly HistoryEntry[], decisions: readonly Decision[], plan: Plan | null): FindingDetail {
  return {
    ...toSummary(f),
    samples: [...f.samples],
    history: history.map((h) => ({hour: h.hour, count: h.count})),
    decisions: decisions.map(toDecision),
    plan: plan === null ? null : copyPlan(plan),
  };
}

/** Only the documented fields of a plan. */
export function copyPlan(p: Plan): Plan {
  return {key: p.key, action: p.action, entries: [...p.entries], allowedBy: p.allowedBy, text: p.text};
}

/** Whether a finding mentions the (lowercased) text anywhere an administrator would look for it. */
export function matches(f: StoredFinding, needle: string): boolean {
  const fields = [
    f.key,
    f.destination.host,
    f.destination.ip,
    f.attribution.host,
    ...f.attribution.candidates,
    ...f.features.flatMap((x) => [x.id, x.name, x.configPath]),
    ...f.pods,
    f.ignored?.reason,
    f.ignored?.by.username,
  ];
  return fields.some((s) => typeof s === 'string' && s.toLowerCase().includes(needle));
}

/** A search looks at no more findings than the store can hold. */
export const MAX_SEARCH_SCAN = 50_000;
const SCAN_PAGE = 500;

export interface SearchResult {
  items: StoredFinding[];
  total: number;
  truncated: boolean;
}

/**
 * Pages through the filtered findings in the requested order and keeps the matches in the requested window.
 * Concurrent writes can shift a finding between pages; a search is a snapshot of a moving list either way.
 */
export async function searchFindings(
  store: FindingsStore,
  filter: FindingQuery,
  q: string,
  window: {limit: number; offset: number},
  maxScan: number = MAX_SEARCH_SCAN,
): Promise<SearchResult> {
  const needle = q.toLowerCase();
  const items: StoredFinding[] = [];
  let total = 0;
  let scanned = 0;
  for (;;) {
    const page = await store.listFindings({...filter, limit: SCAN_PAGE, offset: scanned});
    for (const f of page.items) {
      if (!matches(f, needle)) continue;
      if (total >= window.offset && items.length < window.limit) items.push(f);
      total++;
    }
    scanned += page.items.length;
    if (page.items.length < SCAN_PAGE || scanned >= page.total) return {items, total, truncated: false};
    if (scanned >= maxScan) return {items, total, truncated: true};
  }
}
