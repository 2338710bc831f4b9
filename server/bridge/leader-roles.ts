// What only the leading replica does, started when it is elected and stopped when it is deposed: reading
// the Kubernetes API's log streams, resolving findings the mesh now allows, setting Mattermost up and
// delivering alerts. With the SQLite store the one process always leads.
import type {Logger} from 'pino';
import type {Gauge} from 'prom-client';
import type {OutboxInput, Store} from '../store/types';
import type {AlertWorker} from './alerts';
import type {LeaderElection} from './leader';
import type {MattermostLink} from './mattermost-link';
import type {MeshLink} from './mesh-link';
import {allFindings} from './pages';
import type {SourceRunner} from './source-runner';

export interface LeaderRolesDeps {
  election: LeaderElection;
  store: Store;
  /** The log streams every replica would see the same of (Kubernetes); read by the leader only. */
  leaderSources: SourceRunner;
  meshLink: MeshLink;
  link: MattermostLink | null;
  alerts: AlertWorker;
  /** The digest that announces findings not announced yet. */
  digestTrigger: () => OutboxInput;
  leaderGauge: Pick<Gauge, 'set'>;
  log: Logger;
}

export class LeaderRoles {
  private readonly onElected = (): void => this.takeOver();
  private readonly onDeposed = (): void => this.stepDown();

  constructor(private readonly d: LeaderRolesDeps) {}

  /** Listens to the election; call before it starts, so the first election is not missed. */
  attach(): void {
    this.d.election.on('elected', this.onElected);
    this.d.election.on('deposed', this.onDeposed);
  }

  detach(): void {
    this.d.election.off('elected', this.onElected);
    this.d.election.off('deposed', this.onDeposed);
  }

  /**
   * Whoever leads (again) takes over what the previous leader left: a crash inside the digest window left
   * findings that were never announced, so their alert is made due again; the set-up runs as the leader.
   */
  private takeOver(): void {
    const {d} = this;
    d.leaderGauge.set(1);
    d.leaderSources.start().catch((err: Error) => d.log.warn({err: err.message}, 'cannot start reading the Kubernetes log streams'));
    d.meshLink.start();
    this.announceLeftovers().catch((err: Error) => d.log.warn({err: err.message}, 'cannot take over as the leader'));
  }

  private async announceLeftovers(): Promise<void> {
    const {d} = this;
    if ((await allFindings(d.store, {status: 'open'})).some((f) => f.alertPostId === null)) await d.store.enqueue(d.digestTrigger());
    if (d.link !== null) {
      await d.link.connect();
      // A connection made as a follower just before the election did no set-up: once more, as the leader.
      if (d.link.channel === null && d.election.isLeader()) await d.link.connect();
    }
    if (d.election.isLeader()) {
      d.alerts.start();
      await d.meshLink.warnIfNew();
    }
  }

  private stepDown(): void {
    const {d} = this;
    d.leaderGauge.set(0);
    const quietly = (what: string) => (err: Error) => d.log.warn({err: err.message}, `cannot stop ${what}`);
    d.leaderSources.stop().catch(quietly('the Kubernetes log streams'));
    d.meshLink.stop().catch(quietly('the mesh pass'));
    d.link?.demote();
    d.alerts.stop().catch(quietly('alert delivery'));
  }
}
