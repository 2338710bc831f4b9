// Which replica leads: the one holding a PostgreSQL session-level advisory lock on a dedicated connection.
// Only the leader delivers alerts and sets Mattermost up (bot, channel, slash command); every replica
// ingests and answers HTTP. PostgreSQL releases the lock when the holder's session ends, however it ends
// (process killed, connection cut), so a follower, retrying every few seconds, takes over within seconds.
// The leader checks its connection on the same rhythm and steps down as soon as it cannot prove it still
// holds the session: it may then briefly think it leads while another does, which the store's outbox
// claims (one claimant per item) and the alert worker's check for an existing digest post make harmless.
import {EventEmitter} from 'node:events';
// `pg` is loaded only when an election runs, so a SQLite-only install needs no PostgreSQL driver.
import type {Client} from 'pg';
import type {Logger} from 'pino';

/** "EGRESSLD" as a 64-bit integer: the one advisory lock key of the bridge. */
export const LEADER_LOCK_KEY = BigInt('0x4547524553534c44').toString();

export interface LeaderElection {
  isLeader(): boolean;
  /** 'elected' when this replica starts leading, 'deposed' when it stops. */
  on(event: 'elected' | 'deposed', listener: () => void): this;
  off(event: 'elected' | 'deposed', listener: () => void): this;
  start(): Promise<void>;
  stop(): Promise<void>;
}

/** A single process (SQLite store): it always leads. */
export class SoleLeader extends EventEmitter implements LeaderElection {
  private leading = false;

  isLeader(): boolean {
    return this.leading;
  }

  async start(): Promise<void> {
    if (this.leading) return;
    this.leading = true;
    this.emit('elected');
  }

  async stop(): Promise<void> {
    if (!this.leading) return;
    this.leading = false;
    this.emit('deposed');
  }
}

export interface PgLeaderOptions {
  /** Followers try to take the lock this often; the leader checks its connection this often. Default 2 s. */
  intervalMs?: number;
  /** A check that takes longer counts as a lost connection. Default 3 s. */
  checkTimeoutMs?: number;
  key?: string;
  log?: Logger;
}

export class PgLeaderElection extends EventEmitter implements LeaderElection {
  private client: Client | null = null;
  private leading = false;
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> | null = null;
  private stopped = false;
  private readonly intervalMs: number;
  private readonly checkTimeoutMs: number;
  private readonly key: string;

  constructor(
    private readonly url: string,
    private readonly opts: PgLeaderOptions = {},
  ) {
    super();
    this.intervalMs = opts.intervalMs ?? 2_000;
    this.checkTimeoutMs = opts.checkTimeoutMs ?? 3_000;
    this.key = opts.key ?? LEADER_LOCK_KEY;
  }

  isLeader(): boolean {
    return this.leading;
  }

  /** Makes the first attempt before it returns, so a replica that can lead does so at once. */
  async start(): Promise<void> {
    this.stopped = false;
    await this.tick();
    this.timer = setInterval(() => void this.tick(), this.intervalMs);
    this.timer.unref();
  }

  /** Ends the session, which releases the lock at once for a follower to take. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.running;
    await this.drop('stopping');
  }

  private tick(): Promise<void> {
    if (this.stopped || this.running !== null) return this.running ?? Promise.resolve();
    this.running = this.attempt().finally(() => {
      this.running = null;
    });
    return this.running;
  }

  private async attempt(): Promise<void> {
    try {
      if (this.client === null) this.client = await this.connect();
      const c = this.client;
      if (this.leading) {
        // The lock lives exactly as long as this session: proving the session alive proves the lock held.
        const r = await this.withTimeout(
          c.query<{held: boolean}>("SELECT EXISTS (SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND pid = pg_backend_pid() AND granted) AS held"),
        );
        if (!r.rows[0]?.held) await this.drop('the advisory lock is no longer held');
        return;
      }
      const r = await this.withTimeout(c.query<{ok: boolean}>('SELECT pg_try_advisory_lock($1::bigint) AS ok', [this.key]));
      if (r.rows[0]?.ok && !this.stopped) {
        this.leading = true;
        this.opts.log?.info('this replica leads: it delivers alerts and sets Mattermost up');
        this.emit('elected');
      }
    } catch (err) {
      await this.drop(`the leader election connection failed: ${(err as Error).message}`);
    }
  }

  private async connect(): Promise<Client> {
    const {Client} = await import('pg');
    const c = new Client({connectionString: this.url, keepAlive: true, application_name: 'egress-advisor-leader'});
    // A connection that breaks between checks shows here first.
    c.on('error', (err) => void this.drop(`the leader election connection broke: ${err.message}`));
    await this.withTimeout(c.connect());
    return c;
  }

  private withTimeout<T>(p: Promise<T>): Promise<T> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no answer within ${this.checkTimeoutMs} ms`)), this.checkTimeoutMs);
    });
    return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
  }

  private async drop(why: string): Promise<void> {
    const c = this.client;
    this.client = null;
    if (this.leading) {
      this.leading = false;
      this.opts.log?.warn({reason: why}, 'this replica no longer leads');
      this.emit('deposed');
    }
    if (c !== null) {
      c.removeAllListeners('error');
      c.on('error', () => undefined);
      await c.end().catch(() => undefined);
    }
  }
}
