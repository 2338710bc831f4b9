// Folds classified lines into one entry per destination, in bounded memory whatever the log size, then
// turns those entries into findings: named host and features (what to do is the plan's: suggest/plan.ts).
import type {AccessRecord, Attribution, AttributionContext, Classification, Finding, PortProtocol, Verdict} from './types';
import {attribute} from './attribute';
import {checkHost, checkTrafficHost, printable} from './hostname';
import {featuresFor} from './inventory';

/** Verdicts that make a finding; the rest is counted but not remembered. */
export const FINDING_VERDICTS: ReadonlySet<Verdict> = new Set<Verdict>(['blocked', 'passthrough', 'external-failed']);

export interface FoldLimits {
  samples: number;
  /** Times kept per destination for correlation with Mattermost's log: the first and the latest ones. */
  times: number;
  pods: number;
  /** Distinct destinations remembered; beyond this they are counted as overflow, never stored. */
  destinations: number;
  sampleChars: number;
}

export const DEFAULT_LIMITS: FoldLimits = {samples: 5, times: 64, pods: 20, destinations: 10_000, sampleChars: 2_000};

export interface DestinationStats {
  key: string;
  verdict: Verdict;
  host: string | null;
  hostSource: Classification['hostSource'];
  ip: string | null;
  port: number;
  protocol: PortProtocol;
  count: number;
  firstSeen: string | null;
  lastSeen: string | null;
  pods: string[];
  samples: string[];
  firstTimesMs: number[];
  lastTimesMs: number[];
  reason: string;
}

export function destinationKey(host: string | null, ip: string | null, port: number | null): string {
  const where = host ?? ip ?? 'unknown';
  const bracketed = where.includes(':') ? `[${where}]` : where;
  return `${bracketed}:${port ?? 0}`;
}

function timeMs(iso: string | null): number | null {
  if (iso === null) return null;
  const t = Date.parse(iso);
  return Number.isNaN(t) ? null : t;
}

export class FindingsFolder {
  readonly byKey = new Map<string, DestinationStats>();
  /** Lines that would have made a new destination after the limit was reached. */
  overflow = 0;
  readonly verdictCounts: Record<Verdict, number> = {
    blocked: 0,
    passthrough: 0,
    'external-ok': 0,
    'external-failed': 0,
    internal: 0,
    'not-access-log': 0,
  };

  constructor(private readonly limits: FoldLimits = DEFAULT_LIMITS) {}

  add(c: Classification, rec: AccessRecord, raw: string): void {
    this.verdictCounts[c.verdict] += 1;
    if (!FINDING_VERDICTS.has(c.verdict)) return;
    const key = destinationKey(c.host === null ? null : c.host.toLowerCase(), c.ip, c.port);
    let s = this.byKey.get(key);
    if (s === undefined) {
      if (this.byKey.size >= this.limits.destinations) {
        this.overflow += 1;
        return;
      }
      s = {
        key,
        verdict: c.verdict,
        host: c.host,
        hostSource: c.hostSource,
        ip: c.ip,
        port: c.port ?? 0,
        protocol: c.protocol ?? 'TCP',
        count: 0,
        firstSeen: null,
        lastSeen: null,
        pods: [],
        samples: [],
        firstTimesMs: [],
        lastTimesMs: [],
        reason: c.reason,
      };
      this.byKey.set(key, s);
    }
    this.fold(s, c, rec, raw);
  }

  private fold(s: DestinationStats, c: Classification, rec: AccessRecord, raw: string): void {
    const L = this.limits;
    s.count += 1;
    // The newest line states the current situation (e.g. a ServiceEntry was added and now a NetworkPolicy drops it).
    s.verdict = c.verdict;
    s.reason = c.reason;
    if (c.protocol === 'HTTP' || (c.protocol === 'TLS' && s.protocol === 'TCP')) s.protocol = c.protocol;
    if (s.ip === null && c.ip !== null) s.ip = c.ip;
    const t = rec.startTime;
    if (t !== null) {
      if (s.firstSeen === null || t < s.firstSeen) s.firstSeen = t;
      if (s.lastSeen === null || t > s.lastSeen) s.lastSeen = t;
      const ms = timeMs(t);
      if (ms !== null) {
        if (s.firstTimesMs.length < L.times / 2) s.firstTimesMs.push(ms);
        else {
          s.lastTimesMs.push(ms);
          if (s.lastTimesMs.length > L.times / 2) s.lastTimesMs.shift();
        }
      }
    }
    if (rec.pod !== null && s.pods.length < L.pods && !s.pods.includes(rec.pod)) s.pods.push(rec.pod);
    if (s.samples.length < L.samples) s.samples.push(printable(raw, L.sampleChars));
  }

  stats(): DestinationStats[] {
    return [...this.byKey.values()];
  }

  /**
   * Takes in what another folder made of another part of the same log (a parallel scan): `later` says
   * whether that part comes after this folder's lines, which decides the verdict and the kept times.
   */
  absorb(other: {stats: readonly DestinationStats[]; verdictCounts: Record<Verdict, number>; overflow: number}, later: boolean): void {
    for (const v of Object.keys(this.verdictCounts) as Verdict[]) this.verdictCounts[v] += other.verdictCounts[v];
    this.overflow += other.overflow;
    for (const o of other.stats) {
      const mine = this.byKey.get(o.key);
      if (mine === undefined) {
        if (this.byKey.size >= this.limits.destinations) this.overflow += o.count;
        else this.byKey.set(o.key, {...o, pods: [...o.pods], samples: [...o.samples], firstTimesMs: [...o.firstTimesMs], lastTimesMs: [...o.lastTimesMs]});
        continue;
      }
      this.byKey.set(o.key, mergeStats(later ? mine : o, later ? o : mine, this.limits));
    }
  }
}

/** `a` covers earlier lines than `b`. */
function mergeStats(a: DestinationStats, b: DestinationStats, L: FoldLimits): DestinationStats {
  const half = L.times / 2;
  return {
    ...b,
    ip: a.ip ?? b.ip,
    protocol: a.protocol === 'HTTP' || b.protocol === 'HTTP' ? 'HTTP' : a.protocol === 'TLS' || b.protocol === 'TLS' ? 'TLS' : 'TCP',
    count: a.count + b.count,
    firstSeen: minTime(a.firstSeen, b.firstSeen),
    lastSeen: maxTime(a.lastSeen, b.lastSeen),
    pods: [...new Set([...a.pods, ...b.pods])].slice(0, L.pods),
    samples: [...a.samples, ...b.samples].slice(0, L.samples),
    firstTimesMs: [...a.firstTimesMs, ...a.lastTimesMs, ...b.firstTimesMs].slice(0, half),
    lastTimesMs: [...a.lastTimesMs, ...b.firstTimesMs, ...b.lastTimesMs].slice(-half),
  };
}

function maxTime(a: string | null, b: string | null): string | null {
  if (a === null) return b;
  if (b === null) return a;
  return a > b ? a : b;
}

/** A name from the traffic itself may never widen a suggestion; configured names may hold a wildcard. */
function checkName(host: string, a: Attribution): ReturnType<typeof checkHost> {
  return a.method === 'dns' ? checkHost(host) : checkTrafficHost(host);
}

/**
 * Names hosts (attribution), attaches the Mattermost features that use them, and merges IP-only
 * destinations into the named one they turned out to be.
 */
export function buildFindings(stats: readonly DestinationStats[], ctx: AttributionContext): Finding[] {
  const merged = new Map<string, Finding>();
  for (const s of stats) {
    const a = attribute({host: s.host, hostSource: s.hostSource, ip: s.ip, port: s.port, timesMs: [...s.firstTimesMs, ...s.lastTimesMs], pods: s.pods}, ctx);
    let host = a.host;
    let rejectedHost: Finding['rejectedHost'];
    if (host !== null) {
      const checked = checkName(host, a);
      if (checked.ok) host = checked.host;
      else {
        rejectedHost = checked.rejected;
        host = null;
      }
    }
    const sure = host !== null && (a.confidence === 'certain' || a.confidence === 'likely');
    const key = sure ? destinationKey(host, null, s.port) : rejectedHost ? destinationKey(null, s.ip, s.port) : s.key;
    const finding: Finding = {
      key,
      destination: {host: sure ? host : null, ip: s.ip, port: s.port},
      verdict: s.verdict,
      protocol: s.protocol,
      count: s.count,
      firstSeen: s.firstSeen,
      lastSeen: s.lastSeen,
      pods: s.pods,
      samples: s.samples,
      attribution: rejectedHost ? {...a, host: null, candidates: [], confidence: 'unknown'} : a,
      // A bare address can still be a configured one (the instance-metadata service S3 credentials come from).
      features: host !== null ? featuresFor(host, s.port, ctx.inventory) : s.ip !== null && !rejectedHost ? featuresFor(s.ip, s.port, ctx.inventory) : [],
      ...(rejectedHost ? {rejectedHost} : {}),
    };
    const prev = merged.get(key);
    merged.set(key, prev ? mergeFindings(prev, finding) : finding);
  }
  return [...merged.values()].sort(compareFindings);
}

function mergeFindings(a: Finding, b: Finding): Finding {
  const newer = (b.lastSeen ?? '') >= (a.lastSeen ?? '') ? b : a;
  return {
    ...newer,
    count: a.count + b.count,
    firstSeen: minTime(a.firstSeen, b.firstSeen),
    lastSeen: newer.lastSeen ?? a.lastSeen ?? b.lastSeen,
    pods: [...new Set([...a.pods, ...b.pods])],
    samples: [...a.samples, ...b.samples].slice(0, Math.max(a.samples.length, b.samples.length, DEFAULT_LIMITS.samples)),
    protocol: a.protocol === 'HTTP' || b.protocol === 'HTTP' ? 'HTTP' : a.protocol === 'TLS' || b.protocol === 'TLS' ? 'TLS' : 'TCP',
    destination: {...newer.destination, ip: a.destination.ip ?? b.destination.ip},
    features: uniqueBy([...a.features, ...b.features], (f) => `${f.id}|${f.configPath}`),
  };
}

function minTime(a: string | null, b: string | null): string | null {
  if (a === null) return b;
  if (b === null) return a;
  return a < b ? a : b;
}

function uniqueBy<T>(items: T[], key: (t: T) => string): T[] {
  const seen = new Set<string>();
  return items.filter((t) => (seen.has(key(t)) ? false : (seen.add(key(t)), true)));
}

const VERDICT_ORDER: Record<Verdict, number> = {
  blocked: 0,
  'external-failed': 1,
  passthrough: 2,
  'external-ok': 3,
  internal: 4,
  'not-access-log': 5,
};

/** Most urgent first, then most attempts, then by key so output is deterministic. */
export function compareFindings(a: Finding, b: Finding): number {
  return VERDICT_ORDER[a.verdict] - VERDICT_ORDER[b.verdict] || b.count - a.count || (a.key < b.key ? -1 : a.key > b.key ? 1 : 0);
}

/** Names that only the configuration gave: they are derived again when the configuration changes. */
const CONFIG_METHODS: ReadonlySet<Attribution['method']> = new Set<Attribution['method']>(['dns', 'well-known', 'port', 'none']);

/** A stored finding as the configuration of now names it. */
export interface Reattribution extends Pick<Finding, 'key' | 'attribution' | 'features'> {
  host: string | null;
}

/**
 * A stored finding named again with what the configuration says now (after Mattermost's configuration
 * changed): its features always, its attribution only when the configuration gave it. A name
 * the log or a connection test proved is kept as it is. An IP-only finding the configuration (or the DNS
 * history) can now name gets that name and the named key, as a new line to that address would: the store
 * moves it there, merging it with a finding already under that key (server/store: reattributeOpen). A
 * finding already named keeps its name and key even when the configuration no longer gives it: its lines
 * may come from several addresses, which cannot be told apart any more.
 */
export function reattribute(f: Finding, ctx: AttributionContext): Reattribution {
  const port = f.destination.port;
  let attribution = f.attribution;
  let host = f.rejectedHost ? null : f.destination.host;
  let key = f.key;
  if (CONFIG_METHODS.has(f.attribution.method) && f.destination.ip !== null && !f.rejectedHost) {
    const timesMs = [f.firstSeen, f.lastSeen].map(timeMs).filter((t): t is number => t !== null);
    // Only the configuration is read again: Mattermost's log and connection tests were evidence at their moment.
    const again = attribute({host: null, hostSource: null, ip: f.destination.ip, port, timesMs, pods: f.pods}, {...ctx, appEvents: [], probes: []});
    const checked = again.host !== null && (again.confidence === 'certain' || again.confidence === 'likely') ? checkName(again.host, again) : null;
    const sure = checked?.ok ? checked.host : null;
    if (host === null && sure !== null) {
      host = sure;
      key = destinationKey(sure, null, port);
      attribution = again;
    } else if (host === null || sure?.toLowerCase() === host.toLowerCase()) {
      attribution = again;
    }
  }
  const named = host ?? attribution.host;
  const features =
    named !== null && !f.rejectedHost
      ? featuresFor(named, port, ctx.inventory)
      : f.destination.ip !== null && !f.rejectedHost
        ? featuresFor(f.destination.ip, port, ctx.inventory)
        : [];
  return {key, host, attribution, features};
}
