// The one way the bridge suggests YAML and plans for some findings: among every open finding, so that a
// destination gets the same route name and the same plan in an alert, /egress show|snippet, the API and the
// page as in `/egress snippet all`.
import type {SuggestionsResponse} from '../../common/api';
import type {Finding, SuggestionFormat} from '../../common/types';
import {suggest, type SuggestContext, type SuggestResult} from '../engine/suggest';
import type {Store, StoredFinding} from '../store/types';
import {allFindings} from './pages';

/** What suggesting needs of the store. */
export type SuggestStore = Pick<Store, 'listFindings' | 'getFinding'>;

/**
 * The YAML and plans for some findings (null: every open one) as their part of `snippet all`: built among
 * every open finding (and these, if they are not open), so that names and entries are the same everywhere.
 */
export async function suggestAmongOpen(
  store: SuggestStore,
  only: readonly Finding[] | null,
  format: SuggestionFormat,
  context: SuggestContext,
): Promise<SuggestResult> {
  const open = await allFindings(store, {status: 'open'});
  const extra = (only ?? []).filter((f) => !open.some((o) => o.key === f.key));
  return suggest([...open, ...extra], {format, ...context, ...(only !== null ? {only: only.map((f) => f.key)} : {})});
}

/** The API's answer for `keys` ("all": every open finding); keys of no finding are left out. */
export async function suggestionsFor(
  store: SuggestStore,
  keys: readonly string[] | 'all',
  format: SuggestionFormat,
  context: SuggestContext,
): Promise<SuggestionsResponse> {
  const only = keys === 'all' ? null : (await Promise.all(keys.map((k) => store.getFinding(k)))).filter((f): f is StoredFinding => f !== null);
  const s = await suggestAmongOpen(store, only, format, context);
  return {format, yaml: s.yaml, entries: s.entries, skipped: s.skipped, notes: s.notes, plans: s.plans};
}
