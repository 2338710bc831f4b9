// Istio's rules for what a workload's proxy knows about, as far as egress is concerned: which ServiceEntries
// are exported to a namespace, which Sidecar resource applies to a workload, and which hosts that Sidecar's
// egress section keeps visible. Pure; the inputs are the objects as the API returns them.
import {hostMatches} from '../engine/hostname';
import type {ServiceEntryLike, SidecarLike} from './types';

/**
 * exportTo: missing or empty means every namespace (Istio's default), "*" every namespace, "." the entry's
 * own, "~" none, anything else a namespace name.
 */
export function exportedTo(entry: ServiceEntryLike, namespace: string): boolean {
  const list = stringList(entry.spec?.exportTo);
  if (list.length === 0) return true;
  const own = entry.metadata?.namespace;
  return list.some((e) => e === '*' || e === namespace || (e === '.' && own === namespace));
}

export function describeExportTo(entry: ServiceEntryLike): string {
  const list = stringList(entry.spec?.exportTo);
  return list.length === 0 ? 'all namespaces' : list.join(', ');
}

export interface Selection {
  selected: SidecarLike | null;
  reasons: Map<SidecarLike, string>;
}

/**
 * Istio's order: a Sidecar in the workload's namespace whose workloadSelector matches its labels, then one
 * there without a selector, then one without a selector in the root namespace. Where several qualify, the
 * oldest wins.
 */
export function selectSidecar(sidecars: readonly SidecarLike[], namespace: string, rootNamespace: string, labels: Readonly<Record<string, string>>): Selection {
  const reasons = new Map<SidecarLike, string>();
  const inNs = oldestFirst(sidecars.filter((s) => s.metadata?.namespace === namespace));
  const selecting = inNs.filter((s) => hasSelector(s));
  const matching = selecting.filter((s) => selects(s, labels));
  for (const s of selecting) if (!matching.includes(s)) reasons.set(s, `its workloadSelector does not match the Mattermost pods (${labelText(labels)})`);
  const plain = inNs.filter((s) => !hasSelector(s));
  const root = namespace === rootNamespace ? [] : oldestFirst(sidecars.filter((s) => s.metadata?.namespace === rootNamespace && !hasSelector(s)));
  const order: [SidecarLike[], string][] = [
    [matching, 'its workloadSelector matches the Mattermost pods'],
    [plain, `it applies to the whole ${namespace} namespace`],
    [root, `it is the mesh-wide default in the root namespace ${rootNamespace}`],
  ];
  let selected: SidecarLike | null = null;
  for (const [group, why] of order) {
    for (const s of group) {
      if (selected === null) {
        selected = s;
        reasons.set(s, why);
      } else if (!reasons.has(s)) {
        reasons.set(s, `${nameOf(selected)} takes precedence`);
      }
    }
  }
  return {selected, reasons};
}

export function sidecarMode(s: SidecarLike | null): 'REGISTRY_ONLY' | 'ALLOW_ANY' | null {
  const mode = s?.spec?.outboundTrafficPolicy?.mode;
  return mode === 'REGISTRY_ONLY' || mode === 'ALLOW_ANY' ? mode : null;
}

/** `egress[].hosts` of the Sidecar, or null when it has no egress section (then every namespace is visible). */
export function egressHosts(s: SidecarLike | null): string[] | null {
  const egress = s?.spec?.egress;
  if (!Array.isArray(egress) || egress.length === 0) return null;
  return egress.flatMap((l) => stringList(l?.hosts));
}

/**
 * Whether a Sidecar's egress hosts ("namespace/dnsName") keep a host of a ServiceEntry in entryNamespace
 * visible to workloads in sidecarNamespace. "*" is any namespace, "." the Sidecar's own, "~" none.
 */
export function egressAllows(hosts: readonly string[] | null, sidecarNamespace: string, entryNamespace: string, host: string): boolean {
  if (hosts === null) return true;
  return hosts.some((h) => {
    const slash = h.indexOf('/');
    const ns = slash < 0 ? '*' : h.slice(0, slash);
    const dns = (slash < 0 ? h : h.slice(slash + 1)).toLowerCase();
    const nsOk = ns === '*' || ns === entryNamespace || (ns === '.' && entryNamespace === sidecarNamespace);
    return nsOk && (dns === '*' || hostMatches(dns, host));
  });
}

export function nameOf(o: {metadata?: {name?: string; namespace?: string}}): string {
  return `${o.metadata?.namespace ?? '?'}/${o.metadata?.name ?? '?'}`;
}

export function stringList(v: unknown): string[] {
  return Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : [];
}

function hasSelector(s: SidecarLike): boolean {
  const labels = s.spec?.workloadSelector?.labels;
  return labels !== undefined && labels !== null && Object.keys(labels).length > 0;
}

function selects(s: SidecarLike, labels: Readonly<Record<string, string>>): boolean {
  return Object.entries(s.spec?.workloadSelector?.labels ?? {}).every(([k, v]) => labels[k] === v);
}

function oldestFirst(list: SidecarLike[]): SidecarLike[] {
  const time = (s: SidecarLike): number => {
    const t = s.metadata?.creationTimestamp;
    const ms = t instanceof Date ? t.getTime() : typeof t === 'string' ? Date.parse(t) : NaN;
    return Number.isFinite(ms) ? ms : Number.MAX_SAFE_INTEGER;
  };
  // Istio breaks ties by name, so the same objects always give the same choice.
  return [...list].sort((a, b) => time(a) - time(b) || nameOf(a).localeCompare(nameOf(b)));
}

function labelText(labels: Readonly<Record<string, string>>): string {
  const parts = Object.entries(labels).map(([k, v]) => `${k}=${v}`);
  return parts.length === 0 ? 'no labels known' : parts.join(',');
}
