// From findings to ServiceEntry models: which destinations a MESH_EXTERNAL ServiceEntry can fix, how they are
// grouped, and what each entry is called. Everything here is deterministic: the same findings (in any order)
// and the same options give the same entries.
import {checkHost, printable} from '../hostname';
import type {FeatureRef, Finding, PortProtocol, ServiceEntryModel} from '../types';
import {addressKind, isIpAddress, normalizeIp, type AddressKind} from '../address';
import {findAddressAllowance, findAllowance, type AllowedHost} from './allowed';
import {destinationName, portName, uniqueName} from './names';
import {commentText} from './text';
import {checkServiceEntrySpec, toServiceEntrySpec} from './validate';

export interface Skipped {
  /** The host (or address) as it is safe to print. */
  host: string;
  reason: string;
  /** The findings it concerns, when known: their decision says why they have no YAML. */
  keys?: string[];
  /** What already lets it out (a values route, a ServiceEntry), when that is why it has no YAML. */
  allowedBy?: string;
}

export interface BuildOptions {
  /** What the administrator's values already allow (see allowedByValues). */
  allowed?: readonly AllowedHost[];
  /** Names already in use (route names, ServiceEntry names): generated names avoid them. */
  reservedNames?: readonly string[];
  /**
   * Emit an entry for the cloud instance metadata service instead of advice against it. Off by default: it
   * hands the node's credentials to the pod, and Big Bang's egress NetworkPolicy excludes it on purpose.
   */
  allowInstanceMetadata?: boolean;
}

export interface BuildResult {
  entries: ServiceEntryModel[];
  skipped: Skipped[];
}

/** Placeholder host of the instance metadata entry: Istio needs a host, the SDKs connect by address. */
export const INSTANCE_METADATA_HOST = 'instance-metadata.internal';

// Ports on which the protocol is TLS from the first byte (IANA): a connection there that the log shows as TCP
// (no server name was captured) is still TLS, and declaring it TLS lets Istio route it by SNI.
const IMPLICIT_TLS_PORTS = new Set([443, 465, 636, 853, 989, 990, 992, 993, 994, 995]);

// When one host:port was seen as different protocols, the most specific evidence wins.
const PROTOCOL_RANK: Record<PortProtocol, number> = {TLS: 3, HTTP: 2, TCP: 1};

interface Need {
  host: string;
  port: number;
  protocol: PortProtocol;
  finding: Finding;
  /** The log showed TCP, the port implies TLS. */
  upgraded: boolean;
}

interface PortUse {
  protocol: PortProtocol;
  upgraded: boolean;
}

/** One destination (host and port) and the findings that need it. */
interface Group {
  host: string;
  port: number;
  use: PortUse;
  resolution: 'DNS' | 'NONE';
  findings: Finding[];
  ambiguous: boolean;
}

export function buildServiceEntries(findings: readonly Finding[], opts: BuildOptions = {}): BuildResult {
  const allowed = opts.allowed ?? [];
  const skipped: Skipped[] = [];
  const needs: Need[] = [];
  const metadataFindings: Finding[] = [];

  for (const finding of sortFindings(findings)) {
    if (finding.verdict !== 'blocked' && finding.verdict !== 'passthrough') {
      if (finding.verdict === 'external-failed') {
        skipped.push({host: labelOf(finding), reason: ALREADY_REGISTERED, keys: [finding.key]});
      }
      continue;
    }
    const before = skipped.length;
    collectNeeds(finding, allowed, opts, needs, metadataFindings, skipped);
    for (const k of skipped.slice(before)) k.keys = [finding.key];
  }

  const groups = groupNeeds(needs, skipped);
  const taken = new Set(opts.reservedNames ?? []);
  const entries = nameGroups(groups, taken);
  if (metadataFindings.length > 0) {
    entries.push(instanceMetadataEntry(metadataFindings, taken));
  }
  const valid = partitionValid(entries);
  return {entries: valid.entries, skipped: dedupe([...skipped, ...valid.skipped])};
}

/** Keeps the entries Istio would accept; the others become skipped hosts with the validation errors. */
export function partitionValid(entries: readonly ServiceEntryModel[], namespace?: string): BuildResult {
  const ok: ServiceEntryModel[] = [];
  const skipped: Skipped[] = [];
  for (const entry of entries) {
    const errors = checkServiceEntrySpec(toServiceEntrySpec(entry), namespace === undefined ? {} : {namespace});
    if (errors.length === 0) {
      ok.push(entry);
    } else {
      for (const host of entry.hosts) {
        skipped.push({host: printable(host), reason: `the generated entry would be refused by Istio: ${errors.join('; ')}`, keys: entry.covers});
      }
    }
  }
  return {entries: ok, skipped};
}

const ALREADY_REGISTERED =
  'already registered: Envoy routed it to its ServiceEntry, but the connection failed further on. ' +
  'An egress NetworkPolicy (or a firewall) usually blocks it; another ServiceEntry would not help.';

function sortFindings(findings: readonly Finding[]): Finding[] {
  // Keys should be unique; the full text only breaks ties so that even duplicate keys sort the same way.
  // The text is made only for a tie: thousands of findings would otherwise each be serialised once.
  const texts = new Map<Finding, string>();
  const text = (f: Finding): string => {
    let t = texts.get(f);
    if (t === undefined) texts.set(f, (t = JSON.stringify(f)));
    return t;
  };
  return [...findings].sort((a, b) => cmp(a.key, b.key) || cmp(text(a), text(b)));
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function labelOf(finding: Finding): string {
  const raw = finding.attribution.host ?? finding.destination.host ?? finding.destination.ip ?? finding.key;
  const check = checkHost(raw);
  return check.ok ? check.host : printable(String(raw));
}

function collectNeeds(
  finding: Finding,
  allowed: readonly AllowedHost[],
  opts: BuildOptions,
  needs: Need[],
  metadataFindings: Finding[],
  skipped: Skipped[],
): void {
  const port = finding.destination.port;
  if (finding.rejectedHost !== undefined) {
    skipped.push({host: finding.rejectedHost.printable, reason: `host name rejected: ${finding.rejectedHost.reason}`});
    return;
  }
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    skipped.push({host: labelOf(finding), reason: `port ${printable(String(port))} is not a valid port number`});
    return;
  }

  let ip = finding.destination.ip !== null && isIpAddress(finding.destination.ip) ? finding.destination.ip : null;
  // An address shared by several configured hosts names no single host; its candidates stand in for it below.
  // Several integrations on the same port are not a shared address, nor are several addresses blocked in one
  // connection test's window: none is chosen (each integration is listed with its ServiceEntry).
  const shared = finding.attribution.confidence === 'ambiguous' && finding.attribution.method !== 'port' && finding.attribution.method !== 'connection-test';
  const firstCandidate = shared ? ([...finding.attribution.candidates].sort()[0] ?? null) : null;
  let raw = finding.attribution.host ?? finding.destination.host ?? firstCandidate;
  if (raw !== null) {
    raw = withoutPort(raw, port);
    if (isIpAddress(raw)) {
      // An address in the host field is an IP-only destination, not a hostile name.
      ip ??= raw;
      raw = null;
    }
  }
  let host: string | null = null;
  if (raw !== null) {
    const check = checkHost(raw);
    if (!check.ok) {
      skipped.push({host: check.rejected.printable, reason: `host name rejected: ${check.rejected.reason}`});
      return;
    }
    host = check.host;
  }

  if (ip !== null) {
    const kind = addressKind(ip);
    if (kind === 'instance-metadata') {
      const allowance = findAddressAllowance(allowed, ip, port);
      if (allowance !== null) {
        skipped.push({host: printable(ip), reason: `port ${port} is already allowed by ${allowance.source}`, allowedBy: allowance.source});
      } else if (opts.allowInstanceMetadata === true) {
        metadataFindings.push(finding);
      } else {
        skipped.push({host: printable(ip), reason: instanceMetadataAdvice(printable(ip), port)});
      }
      return;
    }
    if (kind !== 'public') {
      skipped.push({host: host ?? printable(ip), reason: addressAdvice(kind, printable(ip), port, host)});
      return;
    }
  }

  if (host === null) {
    skipped.push({
      host: ip !== null ? printable(ip) : labelOf(finding),
      reason: ipOnlyAdvice(finding, ip === null ? null : printable(ip), port),
    });
    return;
  }
  if (isInClusterName(host)) {
    skipped.push({host, reason: inClusterAdvice(host)});
    return;
  }

  const hosts = [host];
  if (finding.attribution.confidence === 'ambiguous') {
    // The address is shared by several configured hosts (a CDN): the connection went to one of them, and
    // all of them belong to Mattermost's configuration, so all are allowed rather than a guess.
    for (const candidate of finding.attribution.candidates) {
      const check = checkHost(candidate);
      if (check.ok && !isInClusterName(check.host)) {
        hosts.push(check.host);
      } else if (!check.ok) {
        skipped.push({host: check.rejected.printable, reason: `candidate host name rejected: ${check.rejected.reason}`});
      }
    }
  }

  const upgraded = finding.protocol === 'TCP' && IMPLICIT_TLS_PORTS.has(port);
  const protocol: PortProtocol = upgraded ? 'TLS' : finding.protocol;
  for (const h of [...new Set(hosts)]) {
    const allowance = findAllowance(allowed, h, port);
    if (allowance !== null) {
      const declared = allowance.protocol !== null && !sameFamily(allowance.protocol, protocol) ? ` (declared there as ${allowance.protocol})` : '';
      const pattern = allowance.host === h ? '' : ` (${allowance.host})`;
      skipped.push({host: h, reason: `port ${port} is already allowed by ${allowance.source}${pattern}${declared}`, allowedBy: allowance.source});
      continue;
    }
    if (h.startsWith('*.') && protocol === 'TCP') {
      skipped.push({
        host: h,
        reason: `a wildcard host cannot be allowed on TCP port ${port}: Istio cannot tell TCP hosts apart, so it would open the port to every address. Name the exact host.`,
      });
      continue;
    }
    needs.push({host: h, port, protocol, finding, upgraded});
  }
}

function sameFamily(declared: string, protocol: PortProtocol): boolean {
  const d = declared.toUpperCase();
  if (protocol === 'TLS') {
    return d === 'TLS' || d === 'HTTPS';
  }
  if (protocol === 'HTTP') {
    return d === 'HTTP' || d === 'HTTP2' || d === 'GRPC' || d === 'GRPC-WEB';
  }
  return d === 'TCP';
}

/** "example.com:8080" → "example.com" when 8080 is the destination port (an :authority often carries it). */
function withoutPort(raw: string, port: number): string {
  const m = /^(.*[^:]):([0-9]{1,5})$/.exec(raw);
  return m !== null && Number(m[2]) === port && !m[1].includes(':') ? m[1] : raw;
}

function isInClusterName(host: string): boolean {
  return !host.includes('.') || /(^|\.)cluster\.local$/.test(host) || /\.svc(\.|$)/.test(host);
}

function groupNeeds(needs: readonly Need[], skipped: Skipped[]): Group[] {
  const byDestination = new Map<
    string,
    {host: string; port: number; protocols: Set<PortProtocol>; upgraded: boolean; findings: Finding[]; ambiguous: boolean}
  >();
  for (const need of needs) {
    const id = `${need.host}\u0000${need.port}`;
    const use = byDestination.get(id) ?? {
      host: need.host,
      port: need.port,
      protocols: new Set<PortProtocol>(),
      upgraded: false,
      findings: [],
      ambiguous: false,
    };
    byDestination.set(id, use);
    use.protocols.add(need.protocol);
    use.upgraded ||= need.upgraded;
    use.findings.push(need.finding);
    use.ambiguous ||= need.finding.attribution.confidence === 'ambiguous';
  }
  const groups: Group[] = [];
  for (const use of byDestination.values()) {
    const protocol = [...use.protocols].sort((a, b) => PROTOCOL_RANK[b] - PROTOCOL_RANK[a])[0];
    if (use.protocols.size > 1) {
      const others = [...use.protocols].filter((p) => p !== protocol).sort();
      skipped.push({
        host: use.host,
        reason: `port ${use.port} was also seen as ${others.join(', ')}; one port has one protocol, declared as ${protocol}`,
        keys: [...new Set(use.findings.map((f) => f.key))].sort(),
      });
    }
    groups.push({
      host: use.host,
      port: use.port,
      use: {protocol, upgraded: use.upgraded && protocol === 'TLS'},
      resolution: use.host.startsWith('*.') ? 'NONE' : 'DNS',
      findings: use.findings,
      ambiguous: use.ambiguous,
    });
  }
  return groups.sort((a, b) => cmp(a.host, b.host) || a.port - b.port);
}

/**
 * One entry per destination, named after it alone (destinationName): whichever findings are rendered
 * together, a destination's entry has the same name and the same content, and no other shares the name.
 */
function nameGroups(groups: readonly Group[], taken: Set<string>): ServiceEntryModel[] {
  // Ports that more than one TCP entry claims: Istio then routes that port by address only.
  const tcpPortUse = new Map<number, number>();
  for (const g of groups) {
    if (g.use.protocol === 'TCP') {
      tcpPortUse.set(g.port, (tcpPortUse.get(g.port) ?? 0) + 1);
    }
  }
  const entries = groups.map((g): ServiceEntryModel => {
    const sharedTcp = g.use.protocol === 'TCP' && (tcpPortUse.get(g.port) ?? 0) > 1;
    return {
      name: uniqueName(destinationName(g.host, g.port), taken),
      hosts: [g.host],
      ports: [{number: g.port, name: portName(g.port, g.use.protocol), protocol: g.use.protocol}],
      resolution: g.resolution,
      location: 'MESH_EXTERNAL',
      covers: [...new Set(g.findings.map((f) => f.key))].sort(),
      comment: groupComment(g, sharedTcp),
    };
  });
  return entries.sort((a, b) => cmp(a.name, b.name));
}

function featureLines(findings: readonly Finding[]): string[] {
  const byId = new Map<string, FeatureRef>();
  for (const f of findings) {
    for (const feature of f.features) {
      byId.set(`${feature.id}\u0000${feature.configPath}`, feature);
    }
  }
  return [...byId.values()]
    .map((f) => `Restores: ${commentText(f.name)} [${commentText(f.configPath)}]`)
    .sort()
    .filter((line, i, all) => all.indexOf(line) === i);
}

function groupComment(g: Group, sharedTcp: boolean): string {
  const lines = featureLines(g.findings);
  if (lines.length === 0) {
    lines.push('Restores: connections Mattermost made that no configured feature explains');
  }
  if (g.findings.every((f) => f.verdict === 'passthrough')) {
    lines.push('Seen leaving the mesh under ALLOW_ANY: needed once REGISTRY_ONLY is enforced');
  }
  if (g.resolution === 'NONE') {
    lines.push('Wildcard hosts need resolution NONE: traffic goes to the address the application resolved');
  }
  if (g.use.upgraded) {
    lines.push(`Port ${g.port} declared as TLS: the log showed no server name, but the port is TLS from the first byte`);
  }
  if (g.ambiguous) {
    lines.push('The address is shared by several configured hosts; each of them gets its own entry');
  }
  // Named by its port alone: included now, since it is what Mattermost is configured to call there; the
  // comment says so, and the one line that confirms it.
  const byPort = g.findings.filter((f) => f.attribution.method === 'port' && f.attribution.confidence === 'likely');
  if (byPort.length > 0) {
    lines.push(`Likely, not certain: no log line names the host; it is the only integration configured on port ${g.port}, where connections were blocked`);
  }
  if (sharedTcp) {
    lines.push(`Another entry also uses TCP port ${g.port}: Istio routes TCP by address, so add the server's IP addresses to tell them apart`);
  }
  return lines.join('\n');
}

function instanceMetadataEntry(findings: readonly Finding[], taken: Set<string>): ServiceEntryModel {
  // IPv4-mapped IPv6 ("::ffff:169.254.169.254") is the IPv4 address; the CIDR must be written as such.
  const ips = [...new Set(findings.map((f) => normalizeIp(f.destination.ip ?? '169.254.169.254') ?? '169.254.169.254'))].sort();
  // TCP with the address: Istio then matches the connection by address alone, whatever Host header or host
  // name the cloud SDK uses, while an HTTP port would be matched by Host against the placeholder.
  const ports = [...new Set(findings.map((f) => f.destination.port))].sort((a, b) => a - b);
  const lines = featureLines(findings);
  lines.push(
    'Cloud instance metadata service, reached by address; the host name is a placeholder',
    "It hands the node's credentials to Mattermost: prefer credentials for the pod (IRSA, Pod Identity)",
    "Big Bang's egress NetworkPolicy excludes this address: it must be opened there too",
  );
  return {
    name: uniqueName('instance-metadata', taken),
    hosts: [INSTANCE_METADATA_HOST],
    ports: ports.map((number) => ({number, name: portName(number, 'TCP'), protocol: 'TCP' as const})),
    resolution: 'STATIC',
    location: 'MESH_EXTERNAL',
    addresses: ips.map((ip) => `${ip}/${ip.includes(':') ? 128 : 32}`),
    endpoints: ips.map((address) => ({address})),
    covers: [...new Set(findings.map((f) => f.key))].sort(),
    comment: lines.join('\n'),
  };
}

function instanceMetadataAdvice(ip: string, port: number): string {
  return (
    `${ip}:${port} is the cloud instance metadata service: Mattermost (usually the AWS SDK for S3 without access keys) ` +
    "is asking for the node's credentials. Give the pod its own credentials instead (IAM Roles for Service Accounts or " +
    "EKS Pod Identity, which need sts.<region>.amazonaws.com on 443) or set S3 access keys. Big Bang's egress " +
    'NetworkPolicy excludes this address on purpose, so a ServiceEntry alone would not open it; an instance-metadata ' +
    'entry is generated only when asked for explicitly.'
  );
}

function addressAdvice(kind: AddressKind, ip: string, port: number, host: string | null): string {
  const named = host !== null ? `${host} (${ip}:${port})` : `${ip}:${port}`;
  switch (kind) {
    case 'istio-vip':
      return (
        `${named} is an address Istio allocated to a ServiceEntry (240.240.0.0/16): the host is registered, but not on ` +
        `port ${port} or not exported to this namespace. Find the entry by its status.addresses (or ` +
        '`istioctl proxy-config listeners <pod>`) and add the port or fix its exportTo.'
      );
    case 'loopback':
      return `${named} is the pod's own loopback address: no egress is involved and no ServiceEntry applies.`;
    case 'link-local':
      return `${named} is a link-local address served by the node, not an external service: a ServiceEntry is the wrong fix.`;
    case 'unspecified':
    case 'invalid':
      return `${named} is not a usable destination address.`;
    case 'private':
    case 'shared':
    default: {
      const range = kind === 'shared' ? 'the shared range 100.64.0.0/10, often the Pod or Service range' : 'a private range';
      if (host === null || isInClusterName(host)) {
        return (
          `${named} is in ${range}: an in-cluster Service or Pod that the Sidecar's egress hosts or the Service's ` +
          'exportTo hide from Mattermost. Allow its namespace in the Sidecar instead; a MESH_EXTERNAL ServiceEntry is the wrong fix.'
        );
      }
      return (
        `${named} is in ${range}. If it is a Kubernetes Service or Pod, the Sidecar's egress hosts or an exportTo hide it: ` +
        'fix those, not with a MESH_EXTERNAL ServiceEntry. If it is a server outside the cluster on a private network, ' +
        'write its ServiceEntry by hand after checking that the address is outside the Pod and Service ranges.'
      );
    }
  }
}

function inClusterAdvice(host: string): string {
  const what = host.includes('.')
    ? 'an in-cluster name'
    : 'a single-label name, which the pod resolves through its DNS search path (an in-cluster Service, or localhost)';
  return (
    `${host} is ${what}. When it is blocked, the Sidecar's egress hosts or the Service's exportTo hide it from ` +
    'Mattermost: allow its namespace in the Sidecar rather than adding a MESH_EXTERNAL ServiceEntry. If it really is ' +
    'a server outside the cluster, configure Mattermost with its fully qualified name.'
  );
}

function ipOnlyAdvice(finding: Finding, ip: string | null, port: number): string {
  const where = ip === null ? `port ${port}` : `${ip}:${port}`;
  const candidates = finding.attribution.candidates
    .map((c) => checkHost(c))
    .filter((c): c is {ok: true; host: string} => c.ok)
    .map((c) => c.host);
  const could = candidates.length > 0 ? ` It could be ${[...new Set(candidates)].sort().join(', ')}.` : '';
  // The note is prose with commands in backticks; views render it, so it is only made one line here.
  const note = finding.attribution.note.trim() === '' ? '' : ` ${oneLine(finding.attribution.note, 600)}`;
  return (
    `no host name is known for ${where}, and a ServiceEntry needs the name Mattermost connects to.${note}${could} ` +
    'Find the Mattermost setting that points at this address (or give the advisor the Mattermost configuration so it ' +
    'can match addresses to configured hosts), then allow that host.'
  );
}

/** One item per host and reason, holding the keys of every finding it concerns. */
function oneLine(s: string, max: number): string {
  const t = s.replace(/\s+/g, ' ').trim();
  return t.length > max ? `${t.slice(0, max - 3)}...` : t;
}

function dedupe(skipped: readonly Skipped[]): Skipped[] {
  const seen = new Map<string, Skipped>();
  for (const s of skipped) {
    const id = `${s.host}\u0000${s.reason}`;
    const first = seen.get(id);
    if (first === undefined) {
      seen.set(id, {...s, ...(s.keys !== undefined ? {keys: [...s.keys]} : {})});
    } else if (s.keys !== undefined) {
      first.keys = [...new Set([...(first.keys ?? []), ...s.keys])].sort();
    }
  }
  return [...seen.values()];
}
