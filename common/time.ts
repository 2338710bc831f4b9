// The one way a time is written for a person, in every view: posts, /egress replies, the CLI and the page.

/**
 * "2026-11-28 08:01:02 UTC": UTC (the log's and the cluster's clock, the same for every reader), to the
 * second, sortable, and plain characters only, so a time copied from a post or the page pastes as it reads
 * (kubectl's --since-time takes the ISO form, which views quote as it is). Null for no time or one that
 * cannot be read.
 */
export function formatUtc(iso: string | null | undefined): string | null {
  if (iso === null || iso === undefined || iso.trim() === '') return null;
  const t = Date.parse(iso);
  if (Number.isNaN(t)) return null;
  return `${new Date(t).toISOString().slice(0, 19).replace('T', ' ')} UTC`;
}
