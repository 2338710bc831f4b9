// The verdict on one access-log record: did REGISTRY_ONLY drop it, would it once hardened, or is it
// something else entirely. Rules and their reasons: istio-egress.md §3–§5.
import type {AccessRecord, Classification, ParsedLine, PortProtocol} from './types';
import {addressScope, parseAddress} from './address';

const OUTBOUND = /^outbound\|(\d*)\|[^|]*\|(.*)$/;
// Connect-level failures on a registered cluster: the ServiceEntry exists but packets do not get through.
const CONNECT_FAILURE_FLAGS = new Set(['UF', 'UH', 'URX']);
const TLS_PORTS = new Set([443, 8443, 9243]);
const HTTP_PORTS = new Set([80]);

/** Service names: FQDNs under cluster.local, and single labels that only the cluster's search path resolves. */
export function isInClusterName(host: string): boolean {
  return !host.includes('.') || /\.(?:svc|svc\.cluster\.local|cluster\.local)$/.test(host);
}

/** Host part of an :authority value ("h:8080", "[::1]:80"); IP literals are not host names. */
function authorityHost(authority: string | null): {host: string | null; port: number | null} {
  if (authority === null) return {host: null, port: null};
  const asAddress = parseAddress(authority);
  if (asAddress) return {host: null, port: asAddress.port};
  const colon = authority.lastIndexOf(':');
  if (colon > 0 && /^\d{1,5}$/.test(authority.slice(colon + 1))) {
    return {host: authority.slice(0, colon), port: Number(authority.slice(colon + 1))};
  }
  return {host: authority, port: null};
}

/**
 * Outbound traffic that a broken capture set-up (VMs, custom iptables) sent through the inbound passthrough
 * chain: the cluster says inbound, the addresses say it left for the internet.
 */
function isMisroutedOutbound(rec: AccessRecord): boolean {
  if (rec.upstreamCluster === null || !rec.upstreamCluster.startsWith('InboundPassthroughCluster')) return false;
  if (rec.upstreamLocalAddress !== null && rec.upstreamLocalAddress.startsWith('127.0.0.6:')) return false;
  const dst = parseAddress(rec.downstreamLocalAddress);
  return dst !== null && addressScope(dst.ip) === 'public';
}

function isInbound(rec: AccessRecord): boolean {
  const c = rec.upstreamCluster;
  if (c !== null && (c.startsWith('inbound|') || c.startsWith('InboundPassthroughCluster'))) return true;
  // Inbound traffic is forwarded to the app from 127.0.0.6; Istio mTLS SNIs are never external names.
  if (rec.upstreamLocalAddress !== null && rec.upstreamLocalAddress.startsWith('127.0.0.6:')) return true;
  return rec.requestedServerName !== null && rec.requestedServerName.startsWith('outbound_.');
}

export function protocolFor(rec: AccessRecord, port: number | null, sni: string | null): PortProtocol {
  if (rec.httpProtocol !== null && rec.httpProtocol.startsWith('HTTP')) return 'HTTP';
  if (sni !== null) return 'TLS';
  if (port !== null && TLS_PORTS.has(port)) return 'TLS';
  if (port !== null && HTTP_PORTS.has(port)) return 'HTTP';
  return 'TCP';
}

interface Target {
  host: string | null;
  hostSource: Classification['hostSource'];
  ip: string | null;
  port: number | null;
}

function target(rec: AccessRecord, clusterHost: string | null, clusterPort: number | null): Target {
  const dst = parseAddress(rec.downstreamLocalAddress);
  // A client that puts an IP literal in SNI has named no host.
  const sni = rec.requestedServerName !== null && parseAddress(rec.requestedServerName) === null ? rec.requestedServerName : null;
  const auth = authorityHost(rec.authority);
  // Plain HTTP with no port anywhere (Istio 1.0's layout logs no addresses) went to the scheme's default.
  const port = dst?.port ?? clusterPort ?? auth.port ?? (rec.httpProtocol !== null ? 80 : null);
  if (sni !== null) return {host: sni, hostSource: 'sni', ip: dst?.ip ?? null, port};
  if (auth.host !== null) return {host: auth.host, hostSource: 'authority', ip: dst?.ip ?? null, port};
  if (clusterHost !== null) return {host: clusterHost, hostSource: 'cluster', ip: dst?.ip ?? null, port};
  return {host: null, hostSource: null, ip: dst?.ip ?? null, port};
}

function result(verdict: Classification['verdict'], t: Target, protocol: PortProtocol | null, reason: string): Classification {
  return {verdict, host: t.host, hostSource: t.hostSource, ip: t.ip, port: t.port, protocol, reason};
}

function describe(t: Target): string {
  const where = t.ip !== null ? `${t.ip}${t.port !== null ? `:${t.port}` : ''}` : t.port !== null ? `port ${t.port}` : 'an unknown address';
  return t.host !== null ? `${t.host} (${where})` : where;
}

function classifyOutsideMesh(t: Target, protocol: PortProtocol, blocked: boolean, how: string): Classification {
  const scope = t.ip !== null ? addressScope(t.ip) : 'public';
  let note = '';
  if (scope === 'private' && t.host === null)
    note = '; the address is in a private range: likely an in-cluster Service hidden by Sidecar egress scoping or exportTo, not an external host';
  if (scope === 'istio-vip')
    note = '; 240.240.x.x is an Istio auto-allocated ServiceEntry address: the host is registered, but not on this port or not exported to this namespace';
  const verdict = blocked ? 'blocked' : 'passthrough';
  const what = blocked ? 'blocked by REGISTRY_ONLY' : 'left the mesh unregistered (ALLOW_ANY); would be blocked once hardened';
  return result(verdict, t, protocol, `${describe(t)} ${what} (${how})${note}`);
}

export function classifyRecord(rec: AccessRecord): Classification {
  const cluster = rec.upstreamCluster;
  const route = rec.routeName;
  const m = cluster !== null ? OUTBOUND.exec(cluster) : null;
  const clusterHost = m && m[2] !== '' ? m[2] : null;
  const clusterPort = m && m[1] !== '' ? Number(m[1]) : null;
  const t = target(rec, clusterHost, clusterPort);
  const protocol = protocolFor(rec, t.port, t.hostSource === 'sni' ? t.host : null);

  if (rec.layout === 'ztunnel') return classifyZtunnel(rec, t, protocol, clusterHost);
  if (isMisroutedOutbound(rec)) {
    return classifyOutsideMesh(
      t,
      protocol,
      false,
      `${cluster} although the destination is outside the cluster: outbound traffic captured as inbound, no ServiceEntry applied`,
    );
  }
  if (isInbound(rec)) return result('internal', t, null, 'inbound traffic to the pod');

  if (cluster === 'BlackHoleCluster') return classifyOutsideMesh(t, protocol, true, 'BlackHoleCluster');
  if (route === 'block_all') return classifyOutsideMesh(t, protocol, true, 'block_all route answered 502');
  if (cluster === 'PassthroughCluster' || cluster === 'AllowAnyDynamicDNSCluster') {
    return classifyOutsideMesh(t, protocol, false, cluster);
  }
  if (route === 'allow_any' || route === 'allow_any_dynamic_dns') return classifyOutsideMesh(t, protocol, false, `${route} route`);

  if (cluster === null && rec.responseFlags.includes('UH') && rec.method === null && rec.layout !== 'envoy-default') {
    // Envoy before 1.18 printed "-" instead of BlackHoleCluster when no upstream host was selected.
    return classifyOutsideMesh(t, protocol, true, 'no healthy upstream and no cluster: BlackHoleCluster as Envoy before 1.18 logged it');
  }
  if (
    cluster === null &&
    rec.responseCode === 502 &&
    rec.responseFlags.length === 0 &&
    rec.httpProtocol !== null &&
    rec.layout === 'istio-1.3-1.7' &&
    route === null
  ) {
    // The fall-through block route had no name before Istio 1.6.
    return classifyOutsideMesh(t, protocol, true, 'unnamed block route answered 502 (Istio before 1.6)');
  }
  if (cluster === null && rec.responseFlags.includes('NR') && rec.httpProtocol !== null && t.host !== null && !isInClusterName(t.host)) {
    // Before 1.2 this is how an unknown host on an HTTP port was refused; later it is what a request the
    // catch-all routes do not match (CONNECT to a proxy, say) gets.
    const why = /^(istio-1\.[01]|envoy-default)/.test(rec.layout)
      ? '404 NR: Istio before 1.2 had no route for hosts outside the registry'
      : '404 NR: no route for this host on the outbound HTTP listener (not the usual block_all answer)';
    return classifyOutsideMesh(t, protocol, true, why);
  }

  if (clusterHost !== null) {
    if (isInClusterName(clusterHost)) return result('internal', t, null, `in-mesh service ${clusterHost}`);
    const failed = rec.responseFlags.filter((f) => CONNECT_FAILURE_FLAGS.has(f));
    if (failed.length > 0) {
      return result(
        'external-failed',
        t,
        protocol,
        `${describe(t)} is registered (${cluster}) but the connection failed (${rec.responseFlags.join(',')}): ` +
          'a ServiceEntry exists, so something else drops it, usually an egress NetworkPolicy or a firewall',
      );
    }
    return result('external-ok', t, protocol, `${describe(t)} is registered and was reached`);
  }

  if (cluster === null && rec.responseCodeDetails === 'direct_response') return result('internal', t, null, 'direct response from a route (not egress)');
  return result('internal', t, null, cluster !== null ? `cluster ${cluster} is not an egress cluster` : 'no upstream cluster: not egress traffic');
}

/** Ambient mode: ztunnel ignores REGISTRY_ONLY (istio#54281), so unregistered egress leaves, and says so. */
function classifyZtunnel(rec: AccessRecord, t: Target, protocol: PortProtocol, service: string | null): Classification {
  const failed = rec.upstreamTransportFailureReason;
  if (rec.upstreamCluster?.startsWith('inbound|')) return result('internal', t, null, 'ztunnel (ambient mode) inbound connection');
  if (service !== null && isInClusterName(service)) {
    return result('internal', t, null, `ztunnel (ambient mode) connection to in-mesh service ${service}${failed !== null ? ` failed: ${failed}` : ''}`);
  }
  if (service !== null) {
    if (failed !== null) return result('external-failed', t, protocol, `${describe(t)} is registered but ztunnel (ambient mode) could not connect: ${failed}`);
    return result('external-ok', t, protocol, `${describe(t)} is registered and was reached through ztunnel (ambient mode)`);
  }
  if (t.ip === null || addressScope(t.ip) !== 'public') return result('internal', t, null, 'ztunnel (ambient mode) connection to an in-cluster address');
  return result(
    'passthrough',
    t,
    protocol,
    `${describe(t)} left the mesh through ztunnel (ambient mode) with no ServiceEntry: REGISTRY_ONLY does not apply to ambient traffic, ` +
      'only an egress waypoint with a ServiceEntry (labelled istio.io/use-waypoint) controls it',
  );
}

export function classifyLine(parsed: ParsedLine): Classification {
  if (parsed.kind === 'other') {
    return {verdict: 'not-access-log', host: null, hostSource: null, ip: null, port: null, protocol: null, reason: parsed.reason};
  }
  return classifyRecord(parsed.record);
}
