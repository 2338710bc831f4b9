// Starts and stops a group of log sources as one. Replicas sharing a store read the Kubernetes API's log
// streams only while they lead: every replica sees the same pods, and two readers of one stream would race
// for its resume point. A source cannot be restarted once stopped, so each start makes fresh ones, which
// resume from the points the store holds, wherever the last reader left them.
import {resumePointsOf, type LogSource, type SourceSink} from '../sources';
import type {Store} from '../store/types';

/** Waits (bounded) until a source has read what is there, so the next one can use it. */
async function settled(s: LogSource, maxMs: number): Promise<void> {
  const until = Date.now() + maxMs;
  while (Date.now() < until && s.status().state === 'starting') await new Promise((r) => setTimeout(r, 20));
}

export interface SourceGroup {
  /** Makes the group's sources, not started. */
  make(): LogSource[];
  /** Mattermost's own log: read first, since what it names attributes IP-only proxy lines. */
  isAppLog(s: LogSource): boolean;
}

export class SourceRunner {
  private current: LogSource[];
  private started = false;
  private running = false;
  private transition: Promise<void> = Promise.resolve();

  constructor(
    private readonly group: SourceGroup,
    private readonly store: Store,
    private readonly sink: SourceSink,
  ) {
    // Made at once, so that the status page lists them (stopped) on a replica that never led.
    this.current = group.make();
  }

  get sources(): readonly LogSource[] {
    return this.current;
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
        await s.start(this.sink, resume);
        if (this.group.isAppLog(s)) await settled(s, 2_000);
      }
    });
  }

  stop(): Promise<void> {
    return this.serially(async () => {
      if (!this.running) return;
      this.running = false;
      for (const s of this.current) await s.stop();
    });
  }

  private serially(step: () => Promise<void>): Promise<void> {
    const next = this.transition.then(step);
    this.transition = next.catch(() => undefined);
    return next;
  }
}
