// The mesh's allowances in the form the suggestion engine takes (`buildServiceEntries(findings, {allowed})`),
// so that what the cluster already allows is not suggested again, alongside what the values file allows.
import type {AllowedHost} from '../engine/suggest/allowed';
import type {MeshAllowances} from './types';

/**
 * One AllowedHost per host and port. The outbound mode plays no part: under ALLOW_ANY a registered host is
 * still registered, and an unregistered one still needs its entry before the namespace is hardened.
 */
export function allowedHostsFromMesh(m: Pick<MeshAllowances, 'hosts'>): AllowedHost[] {
  const seen = new Set<string>();
  const out: AllowedHost[] = [];
  for (const h of m.hosts) {
    const key = `${h.host}\u0000${h.port}\u0000${h.source}`;
    if (seen.has(key)) continue;
    seen.add(key);
    out.push({host: h.host, port: h.port, protocol: h.protocol, addresses: [...h.addresses], source: h.source});
  }
  return out;
}

/** ServiceEntry names already taken in Mattermost's namespace (BuildOptions.reservedNames). */
export function reservedNamesFromMesh(m: Pick<MeshAllowances, 'entryNames'>): string[] {
  return [...m.entryNames];
}
