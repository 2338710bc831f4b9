// Times as an administrator reads them: "3 minutes ago" on screen, the exact time (in UTC) on hover.
import {formatUtc} from '../../../common/time';

const UNITS: Array<[Intl.RelativeTimeFormatUnit, number]> = [
  ['year', 365 * 24 * 3600],
  ['month', 30 * 24 * 3600],
  ['week', 7 * 24 * 3600],
  ['day', 24 * 3600],
  ['hour', 3600],
  ['minute', 60],
  ['second', 1],
];

let formatter: Intl.RelativeTimeFormat | null = null;

function rtf(): Intl.RelativeTimeFormat {
  formatter ??= new Intl.RelativeTimeFormat('en', {numeric: 'auto'});
  return formatter;
}

export function parseTime(iso: string | null | undefined): Date | null {
  if (!iso) return null;
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? null : d;
}

/** "just now", "5 minutes ago", "in 2 hours" (clock skew), "yesterday"; '' for no time. */
export function relativeTime(iso: string | null | undefined, now: number = Date.now()): string {
  const d = parseTime(iso);
  if (d === null) return '';
  const seconds = Math.round((d.getTime() - now) / 1000);
  if (Math.abs(seconds) < 45) return 'just now';
  for (const [unit, size] of UNITS) {
    if (Math.abs(seconds) >= size) return rtf().format(Math.round(seconds / size), unit);
  }
  return 'just now';
}

/** The exact time for a tooltip, written as every view writes it (common/time.ts); '' for no time. */
export function absoluteTime(iso: string | null | undefined): string {
  return formatUtc(iso) ?? '';
}
