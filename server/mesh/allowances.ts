// From the mesh's objects to what they allow Mattermost: the hosts and ports of every ServiceEntry that its
// proxy can see, and the outbound mode that decides what happens to everything else. Pure.
import {checkHost, printable} from '../engine/hostname';
import type {IgnoredEntry, MeshAllowances, MeshHost, OutboundMode, ServiceEntryLike, SidecarInfo, SidecarLike} from './types';
import {describeExportTo, egressAllows, egressHosts, exportedTo, nameOf, selectSidecar, sidecarMode, stringList} from './visibility';

export interface MeshInput {
  namespace: string;
  rootNamespace: string;
  /** Labels of the Mattermost pods, matched against Sidecar workloadSelectors. */
  workloadLabels: Readonly<Record<string, string>>;
  serviceEntries: readonly ServiceEntryLike[];
  sidecars: readonly SidecarLike[];
  /** outboundTrafficPolicy.mode of the mesh config; null when it sets none; undefined when it was not read. */
  meshConfigMode?: 'REGISTRY_ONLY' | 'ALLOW_ANY' | null;
}

export function computeAllowances(input: MeshInput): Omit<MeshAllowances, 'apiVersions' | 'ready' | 'notes'> & {notes: string[]} {
  const notes: string[] = [];
  const {selected, reasons} = selectSidecar(input.sidecars, input.namespace, input.rootNamespace, input.workloadLabels);
  const visibleHosts = egressHosts(selected);
  const sidecarNs = selected?.metadata?.namespace ?? input.namespace;
  const sidecars: SidecarInfo[] = input.sidecars
    .filter((s) => reasons.has(s))
    .map((s) => ({
      namespace: s.metadata?.namespace ?? '',
      name: s.metadata?.name ?? '',
      mode: sidecarMode(s),
      workloadSelector: s.spec?.workloadSelector?.labels ?? null,
      egressHosts: egressHosts(s),
      selected: s === selected,
      why: reasons.get(s) ?? '',
    }));
  const {mode, source} = outboundMode(selected, input.meshConfigMode);
  const hosts: MeshHost[] = [];
  const ignored: IgnoredEntry[] = [];
  const entryNames = new Set<string>();
  for (const entry of input.serviceEntries) {
    const ns = entry.metadata?.namespace ?? '';
    const source = `ServiceEntry ${nameOf(entry)}`;
    if (ns === input.namespace && typeof entry.metadata?.name === 'string') entryNames.add(entry.metadata.name);
    if (!exportedTo(entry, input.namespace)) {
      ignored.push({source, why: `not exported to ${input.namespace} (exportTo: ${describeExportTo(entry)})`});
      continue;
    }
    const ports = portsOf(entry, source, notes);
    const addresses = stringList(entry.spec?.addresses);
    for (const raw of stringList(entry.spec?.hosts)) {
      const check = checkHost(raw);
      if (!check.ok) {
        notes.push(`${source} has a host that is not a valid host name (${check.rejected.printable}): ${check.rejected.reason}`);
        continue;
      }
      if (!egressAllows(visibleHosts, sidecarNs, ns, check.host)) {
        ignored.push({source, why: `${check.host} is hidden by the egress hosts of Sidecar ${nameOf(selected ?? {})} (${(visibleHosts ?? []).join(', ')})`});
        continue;
      }
      for (const p of ports) hosts.push({host: check.host, port: p.number, protocol: p.protocol, addresses, source});
    }
  }
  return {namespace: input.namespace, hosts, outboundMode: mode, modeSource: source, sidecars, ignored, entryNames: [...entryNames].sort(), notes};
}

/** The selected Sidecar's mode; without one, the mesh config's; without that, Istio's default ALLOW_ANY. */
function outboundMode(selected: SidecarLike | null, meshConfigMode: 'REGISTRY_ONLY' | 'ALLOW_ANY' | null | undefined): {mode: OutboundMode; source: string} {
  const own = sidecarMode(selected);
  if (own !== null && selected !== null) return {mode: own, source: `Sidecar ${nameOf(selected)}`};
  if (meshConfigMode === undefined) return {mode: 'unknown', source: 'the mesh config could not be read'};
  if (meshConfigMode !== null) return {mode: meshConfigMode, source: 'the mesh config (outboundTrafficPolicy)'};
  return {mode: 'ALLOW_ANY', source: "Istio's default (no Sidecar or mesh config sets a mode)"};
}

function portsOf(entry: ServiceEntryLike, source: string, notes: string[]): {number: number; protocol: string | null}[] {
  const out: {number: number; protocol: string | null}[] = [];
  const list = Array.isArray(entry.spec?.ports) ? (entry.spec.ports as unknown[]) : [];
  for (const p of list) {
    const r = (typeof p === 'object' && p !== null ? p : {}) as {number?: unknown; protocol?: unknown};
    const n = typeof r.number === 'number' ? r.number : Number(r.number);
    if (!Number.isInteger(n) || n < 1 || n > 65535) {
      notes.push(`${source} has a port whose number cannot be read (${printable(String(r.number), 40)})`);
      continue;
    }
    out.push({number: n, protocol: typeof r.protocol === 'string' ? r.protocol.toUpperCase() : null});
  }
  if (out.length === 0) notes.push(`${source} lists no ports, so it allows nothing`);
  return out;
}
