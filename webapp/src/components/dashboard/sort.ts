// Sorting the findings table on the page: every column, stable, missing values last whichever the
// direction. With no column chosen the bridge's order (most urgent first) stays.
import {FINDING_STATUSES, type FindingSummary} from '../../../../common/api';
import {VERDICTS} from '../../../../common/types';
import type {SortColumn, SortState} from '../../reducer';

type Key = string | number | null;

function time(iso: string | null): number | null {
  if (iso === null) return null;
  const t = Date.parse(iso);
  return Number.isNaN(t) ? null : t;
}

export function destinationLabel(f: FindingSummary): string {
  return f.destination.host ?? f.destination.ip ?? f.key;
}

function sortKey(f: FindingSummary, column: SortColumn): Key {
  switch (column) {
    case 'destination':
      return destinationLabel(f).toLowerCase();
    case 'port':
      return f.destination.port;
    case 'verdict':
      return VERDICTS.indexOf(f.verdict);
    case 'feature':
      return f.features.length === 0 ? null : f.features[0].name.toLowerCase();
    case 'count':
      return f.count;
    case 'firstSeen':
      return time(f.firstSeen);
    case 'lastSeen':
      return time(f.lastSeen);
    case 'pods':
      return f.pods.length;
    case 'status':
      return FINDING_STATUSES.indexOf(f.status);
  }
}

export function sortFindings(items: readonly FindingSummary[], sort: SortState): FindingSummary[] {
  const {column} = sort;
  if (column === null) return [...items];
  const sign = sort.direction === 'ascending' ? 1 : -1;
  return items
    .map((f, index) => ({f, index, key: sortKey(f, column)}))
    .sort((a, b) => {
      if (a.key === null || b.key === null) {
        if (a.key === b.key) return a.index - b.index;
        return a.key === null ? 1 : -1;
      }
      const c = typeof a.key === 'number' && typeof b.key === 'number' ? a.key - b.key : String(a.key).localeCompare(String(b.key));
      return c !== 0 ? sign * c : a.index - b.index;
    })
    .map((x) => x.f);
}

/** The sort after a click on a column header: a new column starts in its natural direction, the same one flips. */
export function nextSort(current: SortState, column: SortColumn): SortState {
  if (current.column === column) return {column, direction: current.direction === 'ascending' ? 'descending' : 'ascending'};
  const descendingFirst: SortColumn[] = ['count', 'firstSeen', 'lastSeen', 'pods'];
  return {column, direction: descendingFirst.includes(column) ? 'descending' : 'ascending'};
}
