// When the store holds its maximum number of findings, which destination gives way. Shared by both stores,
// so that SQLite and PostgreSQL decide alike: a destination a configured integration explains, or one with
// a host name (from the log or named by attribution), is never dropped for room; junk goes first — IP-only
// and unexplained, never alerted before alerted, oldest first. A new junk destination at the limit is not
// stored; its lines and the destination are counted, so that overflow is never silent.
import type {Finding} from '../../common/types';

export const OVERFLOW_LINES_META = 'store.overflow-lines';
export const OVERFLOW_DESTINATIONS_META = 'store.overflow-destinations';
export const EVICTED_META = 'store.evicted-findings';

/** Candidates to make room, best first; `?` is the most rows to look at. Same SQL for both dialects. */
export const ROOM_CANDIDATES_SQL =
  "SELECT key, attribution FROM findings WHERE host IS NULL AND features = '[]' ORDER BY (alert_post_id IS NULL) DESC, updated_at ASC, key ASC LIMIT ?";
export const ROOM_CANDIDATES = 64;

export function mustKeep(f: Finding): boolean {
  return f.destination.host !== null || f.features.length > 0 || f.attribution.host !== null;
}

/** The first candidate that attribution did not name either; null when every one is worth keeping. */
export function pickRoom(rows: readonly {key: string; attribution: string}[], exclude: ReadonlySet<string>): string | null {
  for (const r of rows) {
    if (exclude.has(r.key)) continue;
    try {
      if ((JSON.parse(r.attribution) as {host?: unknown}).host) continue;
    } catch {
      // An unreadable attribution names nothing.
    }
    return r.key;
  }
  return null;
}

/** A counter kept in the meta table, as text. */
export function addTo(before: string | null | undefined, n: number): string {
  const v = Number(before ?? '0');
  return String((Number.isSafeInteger(v) ? v : 0) + n);
}
