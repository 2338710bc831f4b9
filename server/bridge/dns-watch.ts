// Follows the DNS answers of the configured hosts for as long as the bridge runs: each host is asked again
// when its answer expires (its TTL, within bounds), and every answer goes into the DNS history, so a blocked
// line is named by the addresses of its own moment. Only host names from Mattermost's configuration are
// ever resolved.
import {Resolver as DnsResolver} from 'node:dns/promises';
import type {Logger} from 'pino';
import {normalizeIp} from '../engine/address';
import {DnsHistory, type DnsAnswer} from '../engine/dnshistory';
import type {InventoryEndpoint} from '../engine/types';

/** Answers with their TTLs. Injected: tests pass a table that changes over time. */
export type TimedResolver = (host: string) => Promise<DnsAnswer[]>;

export const MIN_REFRESH_MS = 5_000;
export const MAX_REFRESH_MS = 300_000;
const RETRY_MS = 60_000;
const FIRST_ANSWER_WAIT_MS = 3_000;

/** node:dns with TTLs (resolve4/resolve6); names it cannot answer (/etc/hosts, search domains) come from `fallback`. */
export function systemTimedResolver(fallback: (host: string) => Promise<string[]>, fallbackTtlSeconds = 60): TimedResolver {
  const dns = new DnsResolver({timeout: 3000, tries: 2});
  return async (host) => {
    const [v4, v6] = await Promise.allSettled([dns.resolve4(host, {ttl: true}), dns.resolve6(host, {ttl: true})]);
    const answers = [...(v4.status === 'fulfilled' ? v4.value : []), ...(v6.status === 'fulfilled' ? v6.value : [])].map((a) => ({
      address: a.address,
      ttlSeconds: a.ttl,
    }));
    if (answers.length > 0) return answers;
    return (await fallback(host)).map((address) => ({address, ttlSeconds: fallbackTtlSeconds}));
  };
}

export class DnsWatch {
  readonly history: DnsHistory;
  private readonly timers = new Map<string, NodeJS.Timeout>();
  private stopped = false;

  constructor(
    private readonly resolve: TimedResolver,
    private readonly log: Logger,
    opts: {history?: DnsHistory; now?: () => number} = {},
  ) {
    this.history = opts.history ?? new DnsHistory();
    this.now = opts.now ?? Date.now;
  }

  private readonly now: () => number;

  /** Follows exactly these hosts from now on (names only: wildcards and addresses need no lookup). */
  async watch(endpoints: readonly InventoryEndpoint[]): Promise<void> {
    const hosts = new Set(endpoints.map((e) => e.host).filter((h) => !h.includes('*') && normalizeIp(h) === null));
    for (const [host, timer] of this.timers) {
      if (!hosts.has(host)) {
        clearTimeout(timer);
        this.timers.delete(host);
      }
    }
    // The first answers are awaited (for a while: a silent DNS server must not hold the bridge up), so that
    // attribution right after a configuration change already has them.
    const first = Promise.all([...hosts].filter((h) => !this.timers.has(h)).map((h) => this.refresh(h)));
    let wait: NodeJS.Timeout | undefined;
    await Promise.race([first, new Promise<void>((done) => (wait = setTimeout(done, FIRST_ANSWER_WAIT_MS)))]);
    clearTimeout(wait);
  }

  stop(): void {
    this.stopped = true;
    for (const t of this.timers.values()) clearTimeout(t);
    this.timers.clear();
  }

  private async refresh(host: string): Promise<void> {
    let next = RETRY_MS;
    try {
      const answers = await this.resolve(host);
      if (answers.length > 0) {
        this.history.record(host, answers, this.now());
        const ttl = Math.min(...answers.map((a) => a.ttlSeconds)) * 1000;
        next = Math.min(MAX_REFRESH_MS, Math.max(MIN_REFRESH_MS, Number.isFinite(ttl) ? ttl : RETRY_MS));
      }
    } catch (err) {
      this.log.debug({host, err: (err as Error).message}, 'a configured host did not resolve; asking again later');
    }
    if (this.stopped) return;
    const timer = setTimeout(() => void this.refresh(host), next);
    timer.unref();
    this.timers.set(host, timer);
  }
}
