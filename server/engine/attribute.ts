// Names the host behind a blocked destination. The line's own host (SNI, :authority, cluster) is the
// truth when present; for an IP-only destination the evidence is, in order: a fixed address with a known
// meaning, what Mattermost itself logged at that moment, what the configured hosts resolve to, and the
// address range. When nothing names it, the note says how the administrator can. Nothing here connects to
// anything: addresses read from a log are only compared.
import type {AppLogEvent, Attribution, AttributionContext, InventoryEndpoint, ProbeWindow, Resolver} from './types';
import {addressScope, normalizeIp} from './address';
import {failedBeforeConnecting} from './applog';
import {isInClusterName} from './classify';

export interface BlockedDestination {
  host: string | null;
  hostSource: 'sni' | 'authority' | 'cluster' | null;
  ip: string | null;
  port: number | null;
  timesMs: number[];
  pods: string[];
}

export interface AttributeOptions {
  /** How far from a blocked connection a Mattermost log line may be and still be about it. */
  windowMs?: number;
}

export const DEFAULT_WINDOW_MS = 5000;
/** Envoy's clock and the bridge's may disagree a little; a test's window is widened by this on each side. */
export const PROBE_SLACK_MS = 1000;

// ---- DNS index -----------------------------------------------------------------------------------------

export interface DnsIndexOptions {
  concurrency?: number;
  timeoutMs?: number;
}

/**
 * Resolves every host name of the inventory (IP literals map to themselves, wildcards are skipped) and
 * returns address → sorted host names. Lookups that fail or take longer than timeoutMs are left out.
 */
export async function buildDnsIndex(inventory: readonly InventoryEndpoint[], resolve: Resolver, opts: DnsIndexOptions = {}): Promise<Map<string, string[]>> {
  const concurrency = Math.max(1, Math.min(64, Math.floor(opts.concurrency ?? 8)));
  const timeoutMs = Math.max(1, opts.timeoutMs ?? 3000);
  const byIp = new Map<string, Set<string>>();
  const add = (ip: string, host: string) => {
    const set = byIp.get(ip) ?? new Set<string>();
    set.add(host);
    byIp.set(ip, set);
  };
  const names: string[] = [];
  for (const host of new Set(inventory.map((e) => e.host))) {
    if (host.includes('*')) continue;
    const ip = normalizeIp(host);
    if (ip !== null) add(ip, ip);
    else names.push(host);
  }
  let next = 0;
  const worker = async () => {
    while (next < names.length) {
      const host = names[next++];
      const addrs = await withTimeout(host, resolve, timeoutMs);
      for (const a of addrs) {
        const ip = typeof a === 'string' ? normalizeIp(a) : null;
        if (ip !== null) add(ip, host);
      }
    }
  };
  await Promise.all(Array.from({length: Math.min(concurrency, names.length)}, worker));
  return new Map([...byIp].map(([ip, hosts]) => [ip, [...hosts].sort()]));
}

function withTimeout(host: string, resolve: Resolver, ms: number): Promise<unknown[]> {
  return new Promise((done) => {
    const timer = setTimeout(() => done([]), ms);
    const finish = (v: unknown) => {
      clearTimeout(timer);
      done(Array.isArray(v) ? v : []);
    };
    // A resolver that throws synchronously is treated like one that rejects.
    Promise.resolve()
      .then(() => resolve(host))
      .then(finish, () => finish([]));
  });
}

// ---- Attribution ---------------------------------------------------------------------------------------

const LINE_SOURCES: Readonly<Record<'sni' | 'authority' | 'cluster', string>> = {
  sni: 'the TLS server name (SNI)',
  authority: 'the HTTP Host header (:authority)',
  cluster: 'the outbound cluster name',
};

interface FixedAddress {
  what: string;
  /** What to do, given the address and port. */
  fix: (where: string) => string;
}

const IMDS_FIX = (where: string) =>
  `Give the Mattermost service account an IAM role through IRSA or Pod Identity (then only STS or the pod agent is called), or allow ${where} with a ServiceEntry that lists the address.`;
const AGENT_FIX = (where: string) => `Allow ${where} with a ServiceEntry that lists the address.`;

const FIXED_ADDRESSES: Readonly<Record<string, FixedAddress>> = {
  '169.254.169.254': {what: 'the cloud instance-metadata service', fix: IMDS_FIX},
  'fd00:ec2::254': {what: 'the cloud instance-metadata service (IPv6)', fix: IMDS_FIX},
  '169.254.170.2': {what: 'the ECS task-credentials endpoint', fix: AGENT_FIX},
  '169.254.170.23': {what: 'the EKS Pod Identity agent', fix: AGENT_FIX},
  'fd00:ec2::23': {what: 'the EKS Pod Identity agent (IPv6)', fix: AGENT_FIX},
};

export function attribute(dest: BlockedDestination, ctx: AttributionContext, opts: AttributeOptions = {}): Attribution {
  const windowMs = Math.max(0, opts.windowMs ?? DEFAULT_WINDOW_MS);
  const lineHost = dest.host !== null && dest.host !== '' ? dest.host : null;
  const hostIsIp = lineHost !== null ? normalizeIp(lineHost) : null;
  if (lineHost !== null && hostIsIp === null) {
    const source = dest.hostSource ?? 'sni';
    return {
      host: lineHost,
      candidates: [lineHost],
      method: source,
      confidence: 'certain',
      note: `Envoy logged ${LINE_SOURCES[source]} ${lineHost} with the blocked connection.`,
    };
  }

  const ip = (dest.ip !== null ? normalizeIp(dest.ip) : null) ?? hostIsIp;
  const where = ip !== null ? `${ip}${dest.port !== null ? `:${dest.port}` : ''}` : dest.port !== null ? `port ${dest.port}` : 'this destination';
  if (ip === null) return unknown(dest, where, null, windowMs);

  const fixed = FIXED_ADDRESSES[ip];
  if (fixed !== undefined) return wellKnownFixed(ip, dest.port, fixed, ctx.inventory);

  const probed = fromProbes(dest, ip, ctx.probes ?? []);
  if (probed !== null) return probed;

  const scope = addressScope(ip);
  const fromLog = fromAppLog(dest, ip, ctx.appEvents, windowMs);
  const indexed = ctx.dnsIndex.get(ip) ?? [];
  const configured = ctx.dnsAt === undefined ? indexed : [...indexed.filter((h) => h === ip), ...ctx.dnsAt(ip, dest.timesMs)];
  const dnsHosts = configured.filter((h) => normalizeIp(h) === null);
  const inCluster = scopeNote(scope, dest.port);

  if (fromLog.length > 0) {
    const strong = fromLog.filter((c) => c.ipMatch);
    const pool = strong.length > 0 ? strong : fromLog;
    let chosen: Candidate[] = pool;
    if (pool.length > 1) {
      const agreed = pool.filter((c) => dnsHosts.includes(c.host));
      if (agreed.length === 1) chosen = agreed;
    }
    if (chosen.length === 1) {
      const c = chosen[0];
      const agrees = dnsHosts.includes(c.host) ? ` and ${c.host} resolves to ${ip}` : '';
      return {
        host: c.host,
        candidates: pool.map((p) => p.host),
        method: 'app-log',
        confidence: c.ipMatch ? 'certain' : 'likely',
        note: `Mattermost logged a failed call to ${c.url ?? c.host} ${seconds(c.deltaMs)} from this block${c.podMatch ? ' in the same pod' : ''}${agrees}.${inCluster}`,
      };
    }
    return {
      host: null,
      candidates: pool.map((p) => p.host),
      method: 'app-log',
      confidence: 'ambiguous',
      note: `Mattermost logged failed calls to ${listHosts(pool.map((p) => p.host))} within ${seconds(windowMs)} of this block; any of them may be ${where}.${inCluster}`,
    };
  }

  if (dnsHosts.length === 1) {
    const host = dnsHosts[0];
    return {
      host,
      candidates: [host],
      method: 'dns',
      confidence: 'likely',
      note: `${ip} ${ctx.dnsAt !== undefined ? 'was an address of' : 'is an address of'} ${host}${ctx.dnsAt !== undefined ? ' when the connection was blocked' : ''}, which the Mattermost configuration uses for ${featureNames(host, ctx.inventory)}.${inCluster}`,
    };
  }
  if (dnsHosts.length > 1) {
    return {
      host: null,
      candidates: dnsHosts,
      method: 'dns',
      confidence: 'ambiguous',
      note: `${ip} is shared by ${dnsHosts.length} hosts of the Mattermost configuration (a CDN or shared load balancer): ${listHosts(dnsHosts)}; allow the one whose feature is broken, or all of them.`,
    };
  }
  if (configured.includes(ip)) {
    return {
      host: null,
      candidates: [],
      method: 'dns',
      confidence: 'likely',
      note: `Mattermost is configured to reach ${ip} by address, for ${featureNames(ip, ctx.inventory)}; a ServiceEntry for it lists the address under addresses.${inCluster}`,
    };
  }

  if (scope === 'public') {
    const byPort = fromPort(ip, dest.port, ctx);
    if (byPort !== null) return byPort;
  }
  if (scope === 'istio-vip') {
    return {
      host: null,
      candidates: [],
      method: 'well-known',
      confidence: 'unknown',
      note:
        `${ip} is an address Istio allocated to a ServiceEntry: that host is registered, but not on port ${dest.port ?? '(unknown)'} or not exported to this namespace. ` +
        `Find it in the status.addresses of \`kubectl get serviceentries -A -o yaml\` and add the port or fix exportTo.`,
    };
  }
  if (scope === 'private') {
    return {
      host: null,
      candidates: [],
      method: 'well-known',
      confidence: 'unknown',
      note:
        `${ip} is a private address, most likely a Service or pod inside the cluster that the Sidecar's egress hosts or exportTo hide, not an external host. ` +
        `Find it with \`kubectl get svc,pods -A -o wide | grep ${ip}\` and add its namespace to the Sidecar egress hosts rather than a ServiceEntry.`,
    };
  }
  return unknown(dest, where, ip, windowMs);
}

/** The address an IP-only destination was reached at (its host may be written as an address), or null. */
function ipOnly(d: Pick<BlockedDestination, 'host' | 'ip'>): string | null {
  if (d.host !== null && d.host !== '' && normalizeIp(d.host) === null) return null;
  const ip = (d.ip !== null ? normalizeIp(d.ip) : null) ?? (d.host ? normalizeIp(d.host) : null);
  return ip !== null && FIXED_ADDRESSES[ip] === undefined ? ip : null;
}

const inWindow = (p: ProbeWindow, timesMs: readonly number[]): number | undefined =>
  timesMs.find((t) => Number.isFinite(t) && t >= p.fromMs - PROBE_SLACK_MS && t <= p.toMs + PROBE_SLACK_MS);

/**
 * Each test window's IP-only addresses on its port (`seen`), with a batch's destinations added, first seen
 * first. Pure: the bridge keeps the windows between batches and hands this batch's view to attribute().
 */
export function sightProbes(probes: readonly ProbeWindow[], dests: readonly Pick<BlockedDestination, 'host' | 'ip' | 'port' | 'timesMs'>[]): ProbeWindow[] {
  return probes.map((p) => {
    const fresh = dests
      .map((d) => ({ip: ipOnly(d), at: d.port === p.port ? inWindow(p, d.timesMs) : undefined}))
      .filter((x): x is {ip: string; at: number} => x.ip !== null && x.at !== undefined && !(p.seen ?? []).includes(x.ip))
      .sort((a, b) => a.at - b.at);
    if (fresh.length === 0) return p;
    return {...p, seen: [...new Set([...(p.seen ?? []), ...fresh.map((x) => x.ip)])]};
  });
}

/**
 * Active attribution: the bridge had Mattermost connect to one integration at a known moment, and a
 * connection on that integration's port was blocked within that moment. Only one test runs at a time, so
 * one window names one host; two overlapping tests on the same port name nothing here. Certain only while
 * the window has seen this one IP-only address on the port: with several, any could be another connection
 * of Mattermost's, so none is named (the candidates say which host they may be).
 */
function fromProbes(dest: BlockedDestination, ip: string, probes: readonly ProbeWindow[]): Attribution | null {
  if (probes.length === 0 || dest.port === null) return null;
  const hits = new Map<string, {probe: ProbeWindow; at: number}>();
  for (const p of probes) {
    if (p.port !== dest.port || normalizeIp(p.host) !== null) continue;
    const at = inWindow(p, dest.timesMs);
    if (at !== undefined && !hits.has(p.host)) hits.set(p.host, {probe: p, at});
  }
  if (hits.size !== 1) return null;
  const [{probe, at}] = hits.values();
  const others = (probe.seen ?? []).filter((x) => x !== ip);
  if (others.length > 0) {
    return {
      host: null,
      candidates: [probe.host],
      method: 'connection-test',
      confidence: 'ambiguous',
      note: `Blocked at ${new Date(at).toISOString()} on port ${dest.port} during Mattermost's own connection test of ${probe.label} (test ${probe.testId}) to ${probe.host}:${probe.port}, but ${others.length === 1 ? 'another address was' : `${others.length} other addresses were`} blocked on that port in the same window (${others.slice(0, 3).join(', ')}): any of them may be the test's connection, so none is named.`,
    };
  }
  return {
    host: probe.host,
    candidates: [probe.host],
    method: 'connection-test',
    confidence: 'certain',
    note: `Blocked at ${new Date(at).toISOString()} on port ${dest.port}, while Mattermost's own connection test of ${probe.label} (test ${probe.testId}) was connecting to ${probe.host}:${probe.port}: ${ip} is ${probe.host}, the only address blocked on that port in the test's window.`,
  };
}

/**
 * A test window named an address for certain, then saw another on the same port: that name is now only
 * likely. The finding keeps its host (its key); its attribution says why it is no longer certain.
 */
export function contestedByProbes(attribution: Attribution, testIds: readonly string[]): Attribution {
  if (attribution.method !== 'connection-test' || attribution.confidence !== 'certain') return attribution;
  if (!testIds.some((id) => attribution.note.includes(`(test ${id})`))) return attribution;
  return {
    ...attribution,
    confidence: 'likely',
    note: `${attribution.note.replace(/, the only address blocked on that port in the test's window\.$/, '.')} Later another address was blocked on the same port in the same window, so this is likely, not certain.`,
  };
}

/**
 * An IP-only destination on a port that switched-on configured integrations use: the host behind it is
 * likely the one integration on that port, or one of several. SNI names blocked 443 traffic on Big Bang;
 * what stays IP-only is SMTP, LDAP, search, databases and webhooks on their own ports, which is where this
 * matters. Host names are the configuration's, never the log's.
 */
function fromPort(ip: string, port: number | null, ctx: AttributionContext): Attribution | null {
  if (port === null) return null;
  const byHost = new Map<string, string[]>();
  for (const e of ctx.inventory) {
    if (!e.enabled || e.port !== port || e.host.includes('*') || normalizeIp(e.host) !== null || isInClusterName(e.host)) continue;
    const names = byHost.get(e.host) ?? [];
    if (!names.includes(e.feature.name)) names.push(e.feature.name);
    byHost.set(e.host, names);
  }
  if (byHost.size === 0) return null;
  const hosts = [...byHost.keys()].sort();
  const elsewhere = resolvedElsewhere(hosts, ctx.dnsIndex);
  if (hosts.length === 1) {
    const host = hosts[0];
    return {
      host,
      candidates: [host],
      method: 'port',
      confidence: 'likely',
      note:
        `No log line names the host behind port ${port}, but ${host} (${byHost.get(host)!.join(', ')}) is the only switched-on integration in the Mattermost configuration on port ${port}` +
        `${elsewhere.has(host) ? `; its addresses when it was looked up did not include ${ip} (they rotate)` : ''}.`,
    };
  }
  return {
    host: null,
    candidates: hosts,
    method: 'port',
    confidence: 'ambiguous',
    note: `No log line names the host of ${ip}:${port}; the switched-on integrations on port ${port} are ${listHosts(hosts.map((h) => `${h} (${byHost.get(h)!.join(', ')})`))}: it is one of them.`,
  };
}

/** Hosts the DNS index knows addresses of (so the blocked address was not among them at lookup time). */
function resolvedElsewhere(hosts: readonly string[], index: ReadonlyMap<string, readonly string[]>): Set<string> {
  const want = new Set(hosts);
  const found = new Set<string>();
  for (const names of index.values()) for (const n of names) if (want.has(n)) found.add(n);
  return found;
}

interface Candidate {
  host: string;
  url: string | null;
  deltaMs: number;
  ipMatch: boolean;
  podMatch: boolean;
}

/** Events with a time, sorted by it; built once per event list (callers hand over a finished list). */
const sortedCache = new WeakMap<readonly AppLogEvent[], AppLogEvent[]>();

function sortedEvents(events: readonly AppLogEvent[]): AppLogEvent[] {
  let sorted = sortedCache.get(events);
  if (!sorted) {
    sorted = events.filter((e) => e !== null && typeof e === 'object' && typeof e.timeMs === 'number' && Number.isFinite(e.timeMs));
    sorted.sort((a, b) => (a.timeMs as number) - (b.timeMs as number));
    sortedCache.set(events, sorted);
  }
  return sorted;
}

function firstAtOrAfter(sorted: AppLogEvent[], t: number): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((sorted[mid].timeMs as number) < t) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * Host names from Mattermost's own failed calls near the blocked times: same pod when both sides know it,
 * same port and address when the event names them, and only calls that got as far as connecting.
 * Best first: an exact address match, then the closest in time.
 */
function fromAppLog(dest: BlockedDestination, ip: string, events: readonly AppLogEvent[], windowMs: number): Candidate[] {
  if (events.length === 0 || dest.timesMs.length === 0) return [];
  const sorted = sortedEvents(events);
  const pods = new Set(dest.pods);
  const best = new Map<string, Candidate>();
  for (const t of dest.timesMs) {
    if (!Number.isFinite(t)) continue;
    for (let i = firstAtOrAfter(sorted, t - windowMs); i < sorted.length && (sorted[i].timeMs as number) <= t + windowMs; i++) {
      const e = sorted[i];
      if (e.host === null || normalizeIp(e.host) !== null) continue;
      if (e.pod !== null && pods.size > 0 && !pods.has(e.pod)) continue;
      if (e.port !== null && dest.port !== null && e.port !== dest.port) continue;
      const eventIp = e.ip !== null ? normalizeIp(e.ip) : null;
      if (eventIp !== null && eventIp !== ip) continue;
      if (failedBeforeConnecting(e)) continue;
      const c: Candidate = {
        host: e.host,
        url: e.url,
        deltaMs: Math.abs((e.timeMs as number) - t),
        ipMatch: eventIp === ip,
        podMatch: e.pod !== null && pods.has(e.pod),
      };
      const prev = best.get(c.host);
      if (!prev || rank(c) < rank(prev)) best.set(c.host, c);
    }
  }
  return [...best.values()].sort((a, b) => rank(a) - rank(b) || a.host.localeCompare(b.host));
}

function rank(c: Candidate): number {
  return (c.ipMatch ? 0 : 1e12) + (c.podMatch ? 0 : 1e11) + c.deltaMs;
}

function wellKnownFixed(ip: string, port: number | null, fixed: FixedAddress, inventory: readonly InventoryEndpoint[]): Attribution {
  const where = `${ip.includes(':') ? `[${ip}]` : ip}:${port ?? 80}`;
  const credentials = inventory.find((e) => e.feature.id.endsWith('-credentials'));
  const who = credentials
    ? `, where Mattermost's S3 client asks for IAM role credentials because ${credentials.feature.configPath} is empty`
    : ', where cloud SDKs fetch role credentials';
  return {
    host: null,
    candidates: [],
    method: 'well-known',
    confidence: 'certain',
    note: `${ip} is ${fixed.what}${who}. ${fixed.fix(where)}`,
  };
}

const SNI_PORTS = new Set([443, 8443]);

/** A pod name as Kubernetes allows it (DNS-1123 subdomain), so that it can stand in a command as it is. */
function isDns1123Subdomain(s: string): boolean {
  return s.length <= 253 && /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/.test(s);
}

function unknown(dest: BlockedDestination, where: string, ip: string | null, windowMs: number): Attribution {
  // The pod goes into commands to copy: a name from the log that is no valid pod name is left for the reader to fill.
  const pod = dest.pods.length > 0 && isDns1123Subdomain(dest.pods[0]) ? dest.pods[0] : '<pod>';
  let first = Infinity;
  for (const t of dest.timesMs) if (Number.isFinite(t) && t < first) first = t;
  const since = Number.isFinite(first) ? new Date(first - windowMs).toISOString() : null;
  const logs = `compare with Mattermost's own log${since ? ' of that time' : ''} (\`kubectl logs ${pod} -c mattermost${since ? ` --since-time=${since}` : ''}\`, or pass it with \`--app-log\`)`;
  const sni =
    dest.port !== null && SNI_PORTS.has(dest.port) ? `, check whether SNI can be logged with \`istioctl pc listeners ${pod} --port ${dest.port}\`` : '';
  const reverse = ip !== null ? `, or reverse-resolve it yourself (\`dig -x ${ip}\`)` : '';
  return {
    host: null,
    candidates: [],
    method: 'none',
    confidence: 'unknown',
    note: `Nothing names ${where}: ${logs}${sni}${reverse}.`,
  };
}

function scopeNote(scope: ReturnType<typeof addressScope>, port: number | null): string {
  if (scope === 'private')
    return ' The address is private: this is an in-cluster destination hidden by the Sidecar egress hosts or exportTo, not an external host.';
  if (scope === 'istio-vip')
    return ` The address is an Istio ServiceEntry VIP: the host is registered, but not on port ${port ?? '(unknown)'} or not exported to this namespace.`;
  return '';
}

function featureNames(host: string, inventory: readonly InventoryEndpoint[]): string {
  const names = [...new Set(inventory.filter((e) => e.host === host).map((e) => e.feature.name))];
  return names.length > 0 ? names.join(', ') : 'a configured integration';
}

function listHosts(hosts: readonly string[]): string {
  return hosts.length > 5 ? `${hosts.slice(0, 5).join(', ')} and ${hosts.length - 5} more` : hosts.join(', ');
}

function seconds(ms: number): string {
  return ms < 1000 ? `${Math.round(ms)} ms` : `${(ms / 1000).toFixed(1)} s`;
}
