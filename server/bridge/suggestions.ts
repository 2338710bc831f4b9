// The one way the bridge suggests YAML and plans for some findings: as their part of the one patch
// (server/engine/patch.ts: the configured integrations at risk and every open finding), so that a
// destination gets the same route name and the same plan in /egress show|snippet, the API and the page as in
// `/egress snippet all`.
import type {SuggestionsResponse} from '../../common/api';
import type {Finding, SuggestionFormat} from '../../common/types';
import {suggestPatch, type PatchInput} from '../engine/patch';
import type {SuggestContext, SuggestResult} from '../engine/suggest';
import type {Store, StoredFinding} from '../store/types';
import {allFindings} from './pages';

/** What suggesting needs of the store. */
export type SuggestStore = Pick<Store, 'listFindings' | 'getFinding'>;

/** The configured integrations held against the open findings (MeshLink.configured); null when not known. */
export type Configured = (open: readonly Finding[]) => PatchInput['integrations'];

/**
 * The one patch (null: all of it), or some findings' part of it: built among every open finding (and these,
 * if they are not open) and the configured integrations, so that names and entries are the same everywhere.
 */
export async function suggestAmongOpen(
  store: SuggestStore,
  only: readonly Finding[] | null,
  format: SuggestionFormat,
  context: SuggestContext,
  configured: Configured = () => null,
): Promise<SuggestResult> {
  const open = await allFindings(store, {status: 'open'});
  const openKeys = new Set(open.map((f) => f.key));
  const extra = (only ?? []).filter((f) => !openKeys.has(f.key));
  return suggestPatch(
    {findings: [...open, ...extra], integrations: configured(open)},
    {format, ...context, ...(only !== null ? {only: only.map((f) => f.key)} : {})},
  );
}

/** The API's answer for `keys` ("all": the whole patch); keys of no finding are left out. */
export async function suggestionsFor(
  store: SuggestStore,
  keys: readonly string[] | 'all',
  format: SuggestionFormat,
  context: SuggestContext,
  configured?: Configured,
): Promise<SuggestionsResponse> {
  const only = keys === 'all' ? null : (await Promise.all(keys.map((k) => store.getFinding(k)))).filter((f): f is StoredFinding => f !== null);
  const s = await suggestAmongOpen(store, only, format, context, configured);
  return {format, yaml: s.yaml, entries: s.entries, skipped: s.skipped, notes: s.notes, plans: s.plans, sections: s.sections};
}
