// Every finding a query matches. The store answers at most MAX_PAGE findings per call, and a busy cluster
// holds more (up to the store's maxFindings), so whatever must see all of them (the digest, thread updates,
// /egress) pages through them here instead of trusting one call with a large limit.
import type {FindingQuery, Store, StoredFinding} from '../store/types';

const PAGE = 1000;

const RANK: Record<string, number> = {blocked: 0, 'external-failed': 1, passthrough: 2};

/** The store's 'urgency' order: verdict, then count (most first), then key. */
export function byUrgency(a: StoredFinding, b: StoredFinding): number {
  return (RANK[a.verdict] ?? 3) - (RANK[b.verdict] ?? 3) || b.count - a.count || (a.key < b.key ? -1 : a.key > b.key ? 1 : 0);
}

/**
 * All matching findings, most urgent first. Pages go by key, which never changes, so traffic arriving
 * meanwhile (which reorders by count) cannot make a finding fall between two pages; a finding inserted
 * meanwhile can at most repeat one, and repeats are dropped.
 */
export async function allFindings(store: Pick<Store, 'listFindings'>, query: Pick<FindingQuery, 'status' | 'verdict'> = {}): Promise<StoredFinding[]> {
  const seen = new Map<string, StoredFinding>();
  // Advances by what came back, in case a store caps pages below PAGE.
  for (let offset = 0; ;) {
    const page = await store.listFindings({...query, sort: 'key', order: 'asc', limit: PAGE, offset});
    for (const f of page.items) if (!seen.has(f.key)) seen.set(f.key, f);
    offset += page.items.length;
    if (page.items.length === 0 || offset >= page.total) break;
  }
  return [...seen.values()].sort(byUrgency);
}
