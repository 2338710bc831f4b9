// The integrations Mattermost is configured to call, held against what lets them out of the mesh: this is
// how an administrator learns what will break before any traffic has failed, and, while the mesh still
// runs ALLOW_ANY, what hardening would break before it is switched on. Pure.
import type {IntegrationItem, IntegrationState} from '../../common/api';
import {INTEGRATION_STATES} from '../../common/api';
import type {Finding, PortProtocol, Verdict} from '../../common/types';
import {addressScope, isIpAddress, unbracket} from './address';
import {isInClusterName} from './classify';
import {coveringAllowance, type AllowedHost} from './suggest/allowed';
import type {InventoryEndpoint} from './types';

export interface IntegrationInput {
  inventory: readonly InventoryEndpoint[];
  /** What the mesh's ServiceEntries allow; null when the mesh is not read (no Kubernetes source) or not yet. */
  mesh: {allowed: readonly AllowedHost[]; mode: 'REGISTRY_ONLY' | 'ALLOW_ANY' | 'unknown'} | null;
  /** What the administrator's values file allows; null without one. */
  values: readonly AllowedHost[] | null;
  /** Open findings: traffic seen to these integrations. */
  findings: readonly Pick<Finding, 'key' | 'verdict' | 'destination' | 'attribution'>[];
}

const RANK = new Map<IntegrationState, number>(INTEGRATION_STATES.map((s, i) => [s, i]));

export function assessIntegrations(input: IntegrationInput): IntegrationItem[] {
  const seen = new Set<string>();
  const items: IntegrationItem[] = [];
  for (const e of input.inventory) {
    const id = `${e.feature.id}\u0000${e.feature.configPath}\u0000${e.host}\u0000${e.port}`;
    if (seen.has(id)) continue;
    seen.add(id);
    items.push(assessOne(e, input));
  }
  return items.sort(
    (a, b) =>
      (RANK.get(a.state) ?? 0) - (RANK.get(b.state) ?? 0) ||
      Number(b.enabled) - Number(a.enabled) ||
      a.feature.name.localeCompare(b.feature.name) ||
      a.host.localeCompare(b.host),
  );
}

function assessOne(e: InventoryEndpoint, input: IntegrationInput): IntegrationItem {
  const findings = input.findings
    .filter(
      (f) =>
        (e.port === null || f.destination.port === e.port) && (f.destination.host === e.host || f.attribution.host === e.host || f.destination.ip === e.host),
    )
    .map((f) => ({key: f.key, verdict: f.verdict}));
  const base = {feature: e.feature, host: e.host, port: e.port, enabled: e.enabled, findings};
  // Blocked connections that name no host but could be this one (several integrations on the port).
  const maybe = input.findings.filter(
    (f) =>
      f.attribution.host === null &&
      f.attribution.candidates.includes(e.host) &&
      (e.port === null || f.destination.port === e.port) &&
      !findings.some((x) => x.key === f.key),
  );
  const maybeText =
    maybe.length > 0
      ? ` It may be behind ${maybe
          .map((f) => f.key)
          .slice(0, 3)
          .join(', ')}${maybe.length > 3 ? ' and more' : ''}, which no line names: one of the integrations on that port.`
      : '';
  const item = (state: IntegrationState, detail: string, allowedBy: string | null = null): IntegrationItem => ({
    ...base,
    state,
    allowedBy,
    detail: `${e.enabled ? detail : `Switched off in the configuration. ${detail}`}${state === 'allowed' || state === 'in-cluster' ? '' : maybeText}`,
  });

  if (isLinkLocal(e.host)) {
    return item(
      findings.some((f) => f.verdict === 'blocked') ? 'blocked' : 'will-be-blocked',
      'The instance metadata service, outside the mesh: REGISTRY_ONLY blocks it. Rather than opening it to every pod, give Mattermost credentials of its own (IRSA, EKS Pod Identity, or access keys).',
    );
  }
  if (isInCluster(e.host)) {
    return item(
      'in-cluster',
      "An in-cluster Service or private address: no MESH_EXTERNAL ServiceEntry is needed; a Sidecar's egress hosts decide whether Mattermost sees it.",
    );
  }
  const inValues = input.values === null ? null : coveringAllowance(input.values, e.host, e.port);
  if (findings.some((f) => f.verdict === 'blocked')) {
    return item(
      'blocked',
      inValues !== null
        ? `Mattermost's calls to it were dropped (BlackHoleCluster), although your values allow it (${inValues.source}): were they deployed after those calls?`
        : "Mattermost's calls to it are being dropped (BlackHoleCluster): add its ServiceEntry.",
    );
  }
  // The log is evidence: traffic that left through PassthroughCluster had no ServiceEntry, whatever else is known.
  const passing = findings.some((f) => f.verdict === 'passthrough');
  const inMesh = input.mesh === null ? null : coveringAllowance(input.mesh.allowed, e.host, e.port);
  if (inMesh !== null) {
    const failing = findings.some((f) => f.verdict === 'external-failed');
    return item(
      'allowed',
      failing ? `${inMesh.source} lets it out, but connections to it fail: a firewall or NetworkPolicy stops them.` : `${inMesh.source} lets it out.`,
      inMesh.source,
    );
  }
  if (input.mesh === null && !passing) {
    if (inValues !== null) return item('allowed', `Your values allow it (${inValues.source}).`, inValues.source);
    if (input.values === null) return item('unknown', 'Nothing says what the mesh allows: read the mesh with a kubernetes source, or give your values file.');
  }
  const notDeployed = inValues !== null ? ` Your values allow it (${inValues.source}), but no ServiceEntry in the mesh does yet: are they deployed?` : '';
  const mode = input.mesh?.mode ?? 'unknown';
  if (passing || mode === 'ALLOW_ANY') {
    return item(
      'will-be-blocked',
      `${passing ? 'Its traffic leaves the mesh unregistered today (PassthroughCluster)' : 'No ServiceEntry covers it; it works today only because the mesh allows any destination'}: switching on REGISTRY_ONLY will block it.${notDeployed}`,
    );
  }
  return item(
    'will-be-blocked',
    `No ServiceEntry covers it: ${mode === 'REGISTRY_ONLY' ? 'the first call Mattermost makes to it will be dropped' : 'under REGISTRY_ONLY its calls will be dropped'}, although none has failed yet.${notDeployed}`,
  );
}

/** An in-cluster name or a private, loopback or link-local address: never a MESH_EXTERNAL destination. */
export function isInCluster(host: string): boolean {
  return isIpAddress(host) ? addressScope(unbracket(host)) !== 'public' : isInClusterName(host);
}

function isLinkLocal(host: string): boolean {
  return isIpAddress(host) && addressScope(unbracket(host)) === 'link-local';
}

/** The protocol a ServiceEntry port should declare for a configured endpoint no traffic has shown yet. */
export function expectedProtocol(port: number): PortProtocol {
  if (port === 80) return 'HTTP';
  // HTTPS and implicit-TLS SMTP/LDAP: TLS lets Envoy route by server name, which shared ports need.
  if (port === 443 || port === 465 || port === 636 || port === 8443) return 'TLS';
  return 'TCP';
}

/** The key of the finding that stands in for an integration no traffic has shown: host:port, as findings are keyed. */
export function integrationKey(it: Pick<IntegrationItem, 'host' | 'port'>): string {
  return `${it.host.includes(':') && !it.host.startsWith('[') ? `[${it.host}]` : it.host}:${it.port ?? ''}`;
}

/**
 * Findings to build ServiceEntries from, for the enabled integrations that are or will be blocked: the
 * open findings themselves where traffic was seen (they know the protocol), a stand-in made from the
 * configuration otherwise.
 */
export function findingsForSuggestion(items: readonly IntegrationItem[], open: readonly Finding[], mode: 'REGISTRY_ONLY' | 'ALLOW_ANY' | 'unknown'): Finding[] {
  const byKey = new Map(open.map((f) => [f.key, f]));
  const out = new Map<string, Finding>();
  for (const it of items) {
    if (!it.enabled || (it.state !== 'blocked' && it.state !== 'will-be-blocked') || it.port === null) continue;
    const seen = it.findings
      .map((f) => byKey.get(f.key))
      .filter((f): f is Finding => f !== undefined && (f.verdict === 'blocked' || f.verdict === 'passthrough'));
    if (seen.length > 0) {
      for (const f of seen) out.set(f.key, f);
      continue;
    }
    const key = integrationKey(it);
    const prev = out.get(key);
    if (prev !== undefined) {
      if (!prev.features.some((x) => x.id === it.feature.id)) prev.features.push(it.feature);
      continue;
    }
    const ip = isIpAddress(it.host) ? unbracket(it.host) : null;
    const verdict: Verdict = mode === 'ALLOW_ANY' ? 'passthrough' : 'blocked';
    out.set(key, {
      key,
      destination: {host: ip === null ? it.host : null, ip, port: it.port},
      verdict,
      protocol: expectedProtocol(it.port),
      count: 0,
      firstSeen: null,
      lastSeen: null,
      pods: [],
      samples: [],
      attribution: {
        host: ip === null ? it.host : null,
        candidates: [],
        method: 'none',
        confidence: ip === null ? 'certain' : 'unknown',
        note: `configured at ${it.feature.configPath}`,
      },
      features: [it.feature],
    });
  }
  return [...out.values()];
}
