// Starts and stops a group of log sources as one, and restarts a source whose sink failed. Replicas sharing
// a store read the Kubernetes API's log streams only while they lead: every replica sees the same pods, and
// two readers of one stream would race for its resume point. A source cannot be restarted once stopped, so
// each start makes fresh ones, which resume from the points the store holds, wherever the last reader left
// them. A sink failure (the store refused a write: a lock held past the busy timeout, PostgreSQL restarting)
// stops a source without moving its position; the runner then makes a fresh one that resumes from the
// committed point, after a back-off that grows while the failures go on. Nothing is lost (the position was
// not moved) and nothing is counted twice (a batch that did commit moved the stored point, which the fresh
// source starts from).
import type {Logger} from 'pino';
import {resumePointsOf, type LogSource, type SourceBatch, type SourceSink} from '../sources';
import {backoffDelayMs, type BackoffPolicy} from '../store/backoff';
import type {Store} from '../store/types';
import {storeErrorText} from '../store/errors';

/** Waits (bounded) until a source has read what is there, so the next one can use it. */
async function settled(s: LogSource, maxMs: number): Promise<void> {
  const until = Date.now() + maxMs;
  while (Date.now() < until && s.status().state === 'starting') await new Promise((r) => setTimeout(r, 20));
}

export interface SourceGroup {
  /** Makes the group's sources, not started. */
  make(): LogSource[];
  /** A fresh, not started source reading what `old` read (a stopped source cannot start again). */
  remake(old: LogSource): LogSource;
  /** Mattermost's own log: read first, since what it names attributes IP-only proxy lines. */
  isAppLog(s: LogSource): boolean;
}

/** A source that stopped on a sink failure and waits for its restart. */
export interface SourceRestart {
  sourceId: string;
  /** Restarts tried since the source last committed a batch. */
  attempts: number;
  /** When the next one is due (ISO-8601). */
  nextAt: string;
  lastError: string;
}

export interface SourceRunnerOptions {
  /** Delay before each restart; default 1 s doubling to at most 60 s. */
  backoff?: BackoffPolicy;
  /** Called when a source is restarted (for the restarts counter). */
  onRestart?: (sourceId: string) => void;
  log?: Logger;
}

export const RESTART_BACKOFF: BackoffPolicy = {baseMs: 1_000, factor: 2, maxMs: 60_000, jitter: 0.2};

function messageOf(err: unknown): string {
  return storeErrorText(err);
}

export class SourceRunner {
  private current: LogSource[];
  private started = false;
  private running = false;
  private transition: Promise<void> = Promise.resolve();
  private readonly restarts = new Map<string, SourceRestart & {timer: NodeJS.Timeout}>();
  /** Batches the sink holds, by stream: since when. A batch that never settles means a wedged process. */
  private readonly outstanding = new Map<string, number>();
  /** Restarts tried in a row per source, kept until it commits a batch again. */
  private readonly attempts = new Map<string, number>();
  private readonly backoff: BackoffPolicy;

  constructor(
    private readonly group: SourceGroup,
    private readonly store: Store,
    private readonly sink: SourceSink,
    private readonly opts: SourceRunnerOptions = {},
  ) {
    this.backoff = opts.backoff ?? RESTART_BACKOFF;
    // Made at once, so that the status page lists them (stopped) on a replica that never led.
    this.current = group.make();
  }

  get sources(): readonly LogSource[] {
    return this.current;
  }

  /** Sources stopped by a sink failure, with when they start again. */
  pendingRestarts(): SourceRestart[] {
    return [...this.restarts.values()].map(({timer: _, ...r}) => r);
  }

  /** The oldest batch the sink has held and not yet settled, or null. */
  oldestOutstandingSince(): number | null {
    let oldest: number | null = null;
    for (const t of this.outstanding.values()) if (oldest === null || t < oldest) oldest = t;
    return oldest;
  }

  /** Start and stop calls run one after the other, in the order they were made. */
  start(): Promise<void> {
    return this.serially(async () => {
      if (this.running) return;
      if (this.started) this.current = this.group.make();
      this.started = true;
      this.running = true;
      const resume = resumePointsOf(await this.store.listResumePoints());
      const order = [...this.current].sort((a, b) => Number(this.group.isAppLog(b)) - Number(this.group.isAppLog(a)));
      for (const s of order) {
        await s.start(this.sinkFor(s.id), resume);
        if (this.group.isAppLog(s)) await settled(s, 2_000);
      }
    });
  }

  stop(): Promise<void> {
    return this.serially(async () => {
      for (const r of this.restarts.values()) clearTimeout(r.timer);
      this.restarts.clear();
      if (!this.running) return;
      this.running = false;
      for (const s of this.current) await s.stop();
    });
  }

  /** The sink as one source sees it: a rejection schedules that source's restart. */
  private sinkFor(sourceId: string): SourceSink {
    return {
      batch: async (b: SourceBatch) => {
        this.outstanding.set(b.stream.id, Date.now());
        try {
          await this.sink.batch(b);
        } catch (err) {
          this.scheduleRestart(sourceId, err);
          throw err;
        } finally {
          this.outstanding.delete(b.stream.id);
        }
        // Committed: the source is healthy again, and a later failure starts the back-off afresh.
        if (!this.restarts.has(sourceId)) this.attempts.delete(sourceId);
      },
      notice: (n) => this.sink.notice?.(n),
    };
  }

  private scheduleRestart(sourceId: string, err: unknown): void {
    const source = this.current.find((s) => s.id === sourceId);
    // stdin cannot be read again: what it held is gone with the process's input.
    if (!this.running || source === undefined || !source.resumable || this.restarts.has(sourceId)) return;
    const attempts = (this.attempts.get(sourceId) ?? 0) + 1;
    this.attempts.set(sourceId, attempts);
    const delay = backoffDelayMs(attempts, Math.random(), this.backoff);
    const lastError = messageOf(err);
    const timer = setTimeout(
      () => this.restart(sourceId).catch((e: unknown) => this.opts.log?.error({source: sourceId, err: messageOf(e)}, 'restarting a log source failed')),
      delay,
    );
    timer.unref();
    this.restarts.set(sourceId, {sourceId, attempts, nextAt: new Date(Date.now() + delay).toISOString(), lastError, timer});
    this.opts.log?.warn(
      {source: sourceId, attempt: attempts, inMs: delay, err: lastError},
      'a log source stopped because its batch could not be stored; it restarts from its committed resume point',
    );
  }

  private restart(sourceId: string): Promise<void> {
    return this.serially(async () => {
      const pending = this.restarts.get(sourceId);
      this.restarts.delete(sourceId);
      const index = this.current.findIndex((s) => s.id === sourceId);
      if (!this.running || pending === undefined || index < 0) return;
      const old = this.current[index];
      try {
        await old.stop();
        const resume = resumePointsOf(await this.store.listResumePoints());
        const fresh = this.group.remake(old);
        this.current = this.current.map((s, i) => (i === index ? fresh : s));
        this.opts.onRestart?.(sourceId);
        await fresh.start(this.sinkFor(sourceId), resume);
        this.opts.log?.info({source: sourceId, attempt: pending.attempts}, 'log source restarted from its committed resume point');
      } catch (err) {
        // The store may still be away (the resume points could not be read): try again, later.
        this.scheduleRestart(sourceId, err);
      }
    });
  }

  private serially(step: () => Promise<void>): Promise<void> {
    const next = this.transition.then(step);
    this.transition = next.catch(() => undefined);
    return next;
  }
}
