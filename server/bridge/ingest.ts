// From source batches to stored findings: the engine folds each batch, attribution names what it can with
// what the bridge knows right now, and the store commits the findings together with the stream's resume
// point — so a crash replays a batch or not at all, never half of it.
import type {AppLogEvent, AttributionContext, InventoryEndpoint, ProbeWindow} from '../engine/types';
import type {Verdict} from '../../common/types';
import {AccessStream, AppLogReader, RefusalTally, nameDestinations, type RefusalCount} from '../engine/pipeline';
import {contestedByProbes, sightProbes} from '../engine/attribute';
import {refusalsNotice, refusalsUpdate} from './refusals';
import type {SourceBatch} from '../sources/types';
import type {ApplyResult, OutboxInput, Store} from '../store/types';

/** How long Mattermost's own log lines are kept for naming IP-only destinations. */
const APP_EVENT_WINDOW_MS = 10 * 60 * 1000;
const APP_EVENT_MAX = 10_000;

export const DIGEST_DEDUPE_KEY = 'digest';

export interface IngestListener {
  (result: ApplyResult, verdictLines: Partial<Record<Verdict, number>>): void;
}

/** What the bridge knows about Mattermost that names hosts: its configured endpoints and their addresses. */
export class AttributionState {
  inventory: InventoryEndpoint[] = [];
  dnsIndex: ReadonlyMap<string, readonly string[]> = new Map();
  /** The configured hosts that had an address at given moments (server/bridge/dns-watch.ts). */
  dnsAt?: AttributionContext['dnsAt'];
  private events: AppLogEvent[] = [];
  private snapshot: AppLogEvent[] = [];
  private probes: ProbeWindow[] = [];

  /** A connection test's window (see server/bridge/connection-tests.ts); kept as long as Mattermost's log lines. */
  addProbe(p: ProbeWindow): void {
    // The same test again (its window now closed at the end): what the window has seen so far stays.
    const seen = this.probes.find((x) => x.testId === p.testId)?.seen;
    this.probes = [...this.probes.filter((x) => x.testId !== p.testId && x.toMs >= Date.now() - APP_EVENT_WINDOW_MS), {...p, ...(seen ? {seen} : {})}];
  }

  /**
   * Adds a batch's IP-only destinations to the test windows they fall in; returns the tests whose window
   * named one address for certain and has now seen another on the same port (that name becomes likely).
   */
  sight(dests: Parameters<typeof sightProbes>[1]): string[] {
    const before = new Map(this.probes.map((p) => [p.testId, p.seen?.length ?? 0]));
    this.probes = sightProbes(this.probes, dests);
    return this.probes.filter((p) => before.get(p.testId) === 1 && (p.seen?.length ?? 0) > 1).map((p) => p.testId);
  }

  addAppEvent(e: AppLogEvent): void {
    this.events.push(e);
    if (this.events.length > APP_EVENT_MAX) this.events.splice(0, this.events.length - APP_EVENT_MAX);
  }

  /** What the configuration alone says, for naming stored findings again (server/engine/findings.ts reattribute). */
  configContext(): AttributionContext {
    return {dnsIndex: this.dnsIndex, appEvents: [], inventory: this.inventory, ...(this.dnsAt ? {dnsAt: this.dnsAt} : {})};
  }

  /** A fresh array per batch: attribution caches its sorted view per array identity. */
  context(now: number): AttributionContext {
    const since = now - APP_EVENT_WINDOW_MS;
    // Log times are the pods' clocks, replayed logs are old: keep recent ones, and the newest when replaying.
    const recent = this.events.filter((e) => e.timeMs === null || e.timeMs >= since);
    if (recent.length > 0 || this.events.length < APP_EVENT_MAX) this.events = recent.length > 0 ? recent : this.events;
    this.snapshot = [...this.events];
    return {dnsIndex: this.dnsIndex, appEvents: this.snapshot, inventory: this.inventory, probes: this.probes, ...(this.dnsAt ? {dnsAt: this.dnsAt} : {})};
  }
}

export class Ingest {
  /** One scanner per proxy stream: each keeps its own layout knowledge across batches. */
  private readonly streams = new Map<string, AccessStream>();

  constructor(
    private readonly store: Store,
    private readonly attribution: AttributionState,
    private readonly digestSeconds: () => number,
    private readonly listener: IngestListener,
  ) {}

  /** The SourceSink's batch(): resolves once the batch is durable, which is the source's back-pressure. */
  async batch(b: SourceBatch): Promise<void> {
    if (b.stream.log === 'app') {
      const refusals = this.appLines(b);
      // Mattermost's log names hosts but makes no findings; its position is still remembered, with the calls
      // Mattermost refused itself, and a new refused URL is announced (once, after the digest window).
      const kept = refusals.length > 0 ? refusalsUpdate(refusals) : null;
      const result = await this.store.applyBatch({
        sourceId: b.stream.id,
        from: b.from,
        position: b.position,
        observations: [],
        meta: kept === null ? [] : [kept.update],
        notify: () => (kept !== null && kept.added.length > 0 ? [refusalsNotice(new Date(Date.now() + this.digestSeconds() * 1000))] : []),
      });
      this.listener(result, {});
      return;
    }
    let stream = this.streams.get(b.stream.id);
    if (stream === undefined) {
      stream = new AccessStream();
      this.streams.set(b.stream.id, stream);
    }
    stream.push(b.data);
    stream.end();
    const {stats, verdictLines} = stream.take();
    const contested =
      stats.length > 0
        ? this.attribution.sight(stats.map((x) => ({host: x.host, ip: x.ip, port: x.port, timesMs: [...x.firstTimesMs, ...x.lastTimesMs]})))
        : [];
    const findings = stats.length > 0 ? nameDestinations(stats, this.attribution.context(Date.now())) : [];
    const result = await this.store.applyBatch({
      sourceId: b.stream.id,
      from: b.from,
      position: b.position,
      observations: findings,
      // Enqueued in the same transaction: a new destination is never stored without its alert being due.
      notify: (changes) => (changes.newKeys.length > 0 || changes.reopenedKeys.length > 0 ? [this.digestTrigger()] : []),
    });
    if (contested.length > 0) {
      // Same key and host: only the attribution's confidence and note change.
      const {changedKeys} = await this.store.reattributeOpen((f) => ({
        key: f.key,
        host: f.destination.host,
        attribution: contestedByProbes(f.attribution, contested),
        features: f.features,
      }));
      result.changedKeys.push(...changedKeys.filter((k) => !result.changedKeys.includes(k)));
    }
    this.listener(result, verdictLines);
  }

  digestTrigger(): OutboxInput {
    return {kind: 'alert-new', payload: {}, dedupeKey: DIGEST_DEDUPE_KEY, availableAt: new Date(Date.now() + this.digestSeconds() * 1000)};
  }

  /** Feeds the events to attribution; returns the batch's refusals, folded per URL. */
  private appLines(b: SourceBatch): RefusalCount[] {
    const refusals = new RefusalTally();
    const reader = new AppLogReader({event: (e) => this.attribution.addAppEvent(e), refusal: (r) => refusals.add(r)});
    reader.push(b.data);
    reader.end();
    return refusals.list();
  }
}
