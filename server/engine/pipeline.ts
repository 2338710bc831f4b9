// The one chain from log bytes to named findings, used by `egress-advisor scan` and by the bridge alike, so
// that what a destination is called can never depend on which of the two read the line:
//   access log bytes → Scan (parse, classify, fold per destination) → buildFindings (attribute with what is
//   known about Mattermost: inventory, DNS, its own log, connection tests);
//   Mattermost's log bytes → the events that name IP-only destinations, and the calls Mattermost refused
//   itself (AllowedUntrustedInternalConnections).
// Pure: the callers own every read (files, sources) and every write (report, store).
import type {Finding, Verdict} from '../../common/types';
import {parseAppLogLine, parseMattermostRefusal, type MattermostRefusal} from './applog';
import {buildFindings, type DestinationStats} from './findings';
import {LineReader} from './lines';
import {Scan, type ScanOptions} from './scan';
import type {AppLogEvent, AttributionContext} from './types';

/** One line of Mattermost's log, as the engine reads it: evidence about a call, a refusal, or nothing. */
export type AppLogItem = {kind: 'event'; event: AppLogEvent} | {kind: 'refusal'; refusal: MattermostRefusal};

export function readAppLogLine(line: string): AppLogItem | null {
  const event = parseAppLogLine(line);
  if (event !== null) return {kind: 'event', event};
  const refusal = parseMattermostRefusal(line);
  return refusal === null ? null : {kind: 'refusal', refusal};
}

/** A refused call, once per URL (or host), with how often Mattermost logged it. */
export interface RefusalCount extends MattermostRefusal {
  count: number;
}

/** Refused calls worth remembering: enough for any real installation, bounded against a flood of URLs. */
export const MAX_REFUSALS = 100;

export function refusalKey(r: MattermostRefusal): string {
  return r.url ?? r.host ?? '';
}

/**
 * Refusals folded per URL. The newest line states the time and pod; beyond MAX_REFUSALS distinct URLs the
 * rest is only counted in `dropped`.
 */
export class RefusalTally {
  private readonly byKey = new Map<string, RefusalCount>();
  dropped = 0;

  constructor(
    initial: readonly RefusalCount[] = [],
    private readonly max = MAX_REFUSALS,
  ) {
    for (const r of initial.slice(0, max)) this.byKey.set(refusalKey(r), {...r});
  }

  /** True when the URL is new to the tally. */
  add(r: MattermostRefusal, count = 1): boolean {
    const key = refusalKey(r);
    const prev = this.byKey.get(key);
    if (prev !== undefined) {
      prev.count += count;
      if (r.timeMs !== null && (prev.timeMs === null || r.timeMs >= prev.timeMs)) Object.assign(prev, {timeMs: r.timeMs, pod: r.pod ?? prev.pod});
      return false;
    }
    if (this.byKey.size >= this.max) {
      this.dropped += count;
      return false;
    }
    this.byKey.set(key, {...r, count});
    return true;
  }

  list(): RefusalCount[] {
    return [...this.byKey.values()];
  }
}

/** Mattermost's log, bytes in: each event and refusal to its sink, in order. */
export class AppLogReader {
  private readonly reader: LineReader;

  constructor(sink: {event(e: AppLogEvent): void; refusal(r: MattermostRefusal): void}) {
    this.reader = new LineReader((line) => {
      const item = readAppLogLine(line);
      if (item?.kind === 'event') sink.event(item.event);
      else if (item?.kind === 'refusal') sink.refusal(item.refusal);
    });
  }

  push(chunk: Buffer): void {
    this.reader.push(chunk);
  }

  end(): void {
    this.reader.end();
  }
}

/** What one access-log stream produced since the last take. */
export interface AccessTake {
  stats: DestinationStats[];
  /** Lines per verdict since the last take (only verdicts that had lines). */
  verdictLines: Partial<Record<Verdict, number>>;
}

/**
 * One access-log stream: a Scan that keeps its layout knowledge across pushes. `take()` hands over what was
 * folded since the last take, which is how the bridge batches a stream it follows for months; the CLI takes
 * once at the end.
 */
export class AccessStream {
  readonly scan: Scan;
  private counted: Record<Verdict, number>;

  constructor(opts: ScanOptions = {}) {
    this.scan = new Scan(opts);
    this.counted = {...this.scan.folder.verdictCounts};
  }

  push(chunk: Buffer): void {
    this.scan.push(chunk);
  }

  /** The input ended, or a batch of whole lines did: a final line without a newline is read too. */
  end(): void {
    this.scan.end();
  }

  take(): AccessTake {
    const now = this.scan.folder.verdictCounts;
    const verdictLines: Partial<Record<Verdict, number>> = {};
    for (const v of Object.keys(now) as Verdict[]) if (now[v] > this.counted[v]) verdictLines[v] = now[v] - this.counted[v];
    this.counted = {...now};
    return {stats: this.scan.drain(), verdictLines};
  }
}

/** The destinations of a take, named with what is known about Mattermost now: the one attribution step. */
export function nameDestinations(stats: readonly DestinationStats[], ctx: AttributionContext): Finding[] {
  return stats.length === 0 ? [] : buildFindings(stats, ctx);
}
