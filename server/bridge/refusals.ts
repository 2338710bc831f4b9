// The calls Mattermost refused itself (ServiceSettings.AllowedUntrustedInternalConnections), as the bridge
// keeps them from an `app:` source: folded per URL into one meta value, written with the batch that read the
// lines (a replay never counts twice), shown in the status report, `/egress status` and the page, and
// announced once per URL in the admin channel. `scan --app-log` reads the same lines with the same reader
// (server/engine/pipeline.ts).
import type {MattermostRefusalReport} from '../../common/api';
import {refusalAdvice} from '../engine/applog';
import {RefusalTally, refusalKey, type RefusalCount} from '../engine/pipeline';
import {metaJsonArray} from '../store/meta-json';
import type {MetaUpdate, OutboxInput} from '../store/types';

export const REFUSALS_META = 'mattermost.refusals';
/** The URLs the admin channel was told about (JSON array of refusalKey). */
export const REFUSALS_TOLD_META = 'mattermost.refusals-told';
/** The one outbox item of the refusals notice: a new one while it waits replaces it. */
export const REFUSALS_DEDUPE_KEY = 'refused-by-mattermost';
/** Distinct URLs kept: enough for any real installation, and the meta value stays small. */
export const MAX_STORED_REFUSALS = 20;
const MAX_URL_CHARS = 1000;

/** What is stored per URL: the advice is derived when shown, so it follows the product's wording. */
interface StoredRefusal {
  url: string | null;
  host: string | null;
  count: number;
  timeMs: number | null;
  pod: string | null;
}

function stored(value: string | null): StoredRefusal[] {
  return metaJsonArray(value).filter(
    (r): r is StoredRefusal =>
      typeof r === 'object' && r !== null && typeof (r as StoredRefusal).count === 'number' && ['string', 'object'].includes(typeof (r as StoredRefusal).url),
  );
}

/** The stored refusals, advice included. */
export function readRefusals(value: string | null): RefusalCount[] {
  return stored(value).map((r) => ({...r, advice: refusalAdvice(r.url, r.host)}));
}

/**
 * The meta update for a batch's refusals; `added` (filled when the store runs the update, inside its
 * transaction) lists the URLs that were new.
 */
export function refusalsUpdate(batch: readonly RefusalCount[]): {update: MetaUpdate; added: string[]} {
  const added: string[] = [];
  const update: MetaUpdate = {
    key: REFUSALS_META,
    update: (current) => {
      // A transaction the store runs again runs this again: only the last run's answer counts.
      added.length = 0;
      const tally = new RefusalTally(readRefusals(current), MAX_STORED_REFUSALS);
      for (const r of batch) {
        const url = r.url !== null && r.url.length > MAX_URL_CHARS ? r.url.slice(0, MAX_URL_CHARS) : r.url;
        if (tally.add({...r, url}, r.count)) added.push(refusalKey({...r, url}));
      }
      const kept: StoredRefusal[] = tally.list().map((r) => ({url: r.url, host: r.host, count: r.count, timeMs: r.timeMs, pod: r.pod}));
      return JSON.stringify(kept);
    },
  };
  return {update, added};
}

export function refusalsNotice(availableAt: Date): OutboxInput {
  return {kind: 'notice', payload: {type: REFUSALS_DEDUPE_KEY}, dedupeKey: REFUSALS_DEDUPE_KEY, availableAt};
}

export function refusalReports(value: string | null): MattermostRefusalReport[] {
  return readRefusals(value).map((r) => ({
    url: r.url,
    host: r.host,
    count: r.count,
    lastAt: r.timeMs === null ? null : new Date(r.timeMs).toISOString(),
    advice: r.advice,
  }));
}

/** The refusals the admin channel has not been told about, and the updated list of those it has. */
export function untold(value: string | null, toldValue: string | null): {fresh: RefusalCount[]; told: string[]} {
  const told = metaJsonArray(toldValue).filter((x): x is string => typeof x === 'string');
  const fresh = readRefusals(value).filter((r) => !told.includes(refusalKey(r)));
  return {fresh, told: [...told, ...fresh.map(refusalKey)]};
}
