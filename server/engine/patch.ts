// The one patch an administrator applies: every ServiceEntry still missing, for the configured integrations
// that are or will be blocked and for the destinations the access log shows, built in one pass so that a
// host found both ways is written once, under one name. The page, `/egress snippet all` and `scan` all
// print this. Pure.
import type {IntegrationItem} from '../../common/api';
import {findingsForSuggestion} from './integrations';
import {suggest, type SectionSpec, type SuggestOptions, type SuggestResult} from './suggest';
import type {Finding} from './types';

export const PATCH_SECTION_TITLES = {
  integrations: 'Configured integrations that are or will be blocked',
  log: 'Destinations found in the access log',
} as const;

export interface PatchInput {
  /** The findings whose entries the patch holds: the open ones (and any a person picked besides). */
  findings: readonly Finding[];
  /** The configured integrations as assessed against the same findings; null when Mattermost's configuration is not known. */
  integrations: {items: readonly IntegrationItem[]; mode: 'REGISTRY_ONLY' | 'ALLOW_ANY' | 'unknown'} | null;
}

export type PatchOptions = Omit<SuggestOptions, 'sections'>;

export function suggestPatch(input: PatchInput, opts: PatchOptions): SuggestResult {
  const configured = input.integrations === null ? [] : findingsForSuggestion(input.integrations.items, input.findings, input.integrations.mode);
  const logKeys = new Set(input.findings.map((f) => f.key));
  // An integration the traffic has shown is that same finding: it is taken once, under the integrations.
  const all = [...input.findings, ...configured.filter((f) => !logKeys.has(f.key))];
  const sections: SectionSpec[] = [
    {id: 'integrations', title: PATCH_SECTION_TITLES.integrations, keys: configured.map((f) => f.key)},
    {id: 'log', title: PATCH_SECTION_TITLES.log, keys: [...logKeys]},
  ];
  return suggest(all, {...opts, sections});
}
