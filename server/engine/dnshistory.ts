// Which address belonged to which configured host, and when. S3 and CDN names rotate their addresses
// within minutes: a blocked line is matched against the answers of its own moment, not against one lookup
// made at start. Pure: the bridge feeds it answers (server/bridge/dns-watch.ts).
import {normalizeIp} from './address';

export interface DnsAnswer {
  address: string;
  /** Seconds the answer may be used, as DNS said. */
  ttlSeconds: number;
}

interface Span {
  host: string;
  fromMs: number;
  untilMs: number;
}

export interface DnsHistoryOptions {
  /** How far outside an answer's lifetime a connection may still have used it (caches, clocks). */
  slackMs?: number;
  /** Spans older than this are forgotten. */
  keepMs?: number;
  /** Most addresses remembered; the oldest go first. */
  maxAddresses?: number;
}

export class DnsHistory {
  private readonly byIp = new Map<string, Span[]>();
  private readonly slackMs: number;
  private readonly keepMs: number;
  private readonly maxAddresses: number;

  constructor(opts: DnsHistoryOptions = {}) {
    this.slackMs = opts.slackMs ?? 60_000;
    this.keepMs = opts.keepMs ?? 24 * 3600_000;
    this.maxAddresses = opts.maxAddresses ?? 50_000;
  }

  /** `host` resolved to `answers` at `atMs`. An answer seen again while still valid extends its span. */
  record(host: string, answers: readonly DnsAnswer[], atMs: number): void {
    for (const a of answers) {
      const ip = normalizeIp(a.address);
      if (ip === null) continue;
      const until = atMs + Math.max(0, Number.isFinite(a.ttlSeconds) ? a.ttlSeconds : 0) * 1000;
      const spans = this.byIp.get(ip) ?? [];
      const open = spans.find((s) => s.host === host && atMs <= s.untilMs + this.slackMs);
      if (open !== undefined) open.untilMs = Math.max(open.untilMs, until);
      else spans.push({host, fromMs: atMs, untilMs: until});
      this.byIp.delete(ip);
      this.byIp.set(ip, spans);
    }
    this.prune(atMs);
  }

  /**
   * Configured hosts that had `ip` at one of `timesMs`. Times that are unknown (a log without timestamps)
   * match any moment.
   */
  hostsAt(ip: string, timesMs: readonly number[]): string[] {
    const spans = this.byIp.get(normalizeIp(ip) ?? ip);
    if (spans === undefined) return [];
    const times = timesMs.filter((t) => Number.isFinite(t));
    const hosts = new Set<string>();
    for (const s of spans) {
      if (times.length === 0 || times.some((t) => t >= s.fromMs - this.slackMs && t <= s.untilMs + this.slackMs)) hosts.add(s.host);
    }
    return [...hosts].sort();
  }

  /** Every address ever recorded, with its hosts: the one-lookup view. */
  index(): Map<string, string[]> {
    return new Map([...this.byIp].map(([ip, spans]) => [ip, [...new Set(spans.map((s) => s.host))].sort()]));
  }

  private prune(nowMs: number): void {
    const horizon = nowMs - this.keepMs;
    for (const [ip, spans] of this.byIp) {
      const kept = spans.filter((s) => s.untilMs >= horizon);
      if (kept.length === 0) this.byIp.delete(ip);
      else if (kept.length !== spans.length) this.byIp.set(ip, kept);
    }
    // Map order is insertion order and record() re-inserts what it touches: the first are the stalest.
    for (const ip of this.byIp.keys()) {
      if (this.byIp.size <= this.maxAddresses) break;
      this.byIp.delete(ip);
    }
  }
}
