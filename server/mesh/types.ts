// What the mesh already allows Mattermost to reach, as read from the cluster: the ServiceEntries visible in
// its namespace and the Sidecar (or mesh-wide default) that decides whether anything else gets out.

export type OutboundMode = 'REGISTRY_ONLY' | 'ALLOW_ANY' | 'unknown';

/** The parts of a ServiceEntry and a Sidecar that decide what is allowed; objects from the API fit as they are. */
export interface ServiceEntryLike {
  metadata?: {name?: string; namespace?: string; creationTimestamp?: unknown};
  spec?: {
    hosts?: unknown;
    addresses?: unknown;
    ports?: unknown;
    exportTo?: unknown;
    location?: unknown;
  };
}

export interface SidecarLike {
  metadata?: {name?: string; namespace?: string; creationTimestamp?: unknown};
  spec?: {
    workloadSelector?: {labels?: Record<string, string> | null} | null;
    outboundTrafficPolicy?: {mode?: unknown} | null;
    egress?: {hosts?: unknown}[] | null;
  };
}

export interface MeshHost {
  /** Normalised host name or "*.domain" pattern, as in the entry. */
  host: string;
  port: number;
  /** As in the entry, upper-cased; null when it named none. */
  protocol: string | null;
  /** The entry's `addresses` (IPs or CIDRs). */
  addresses: string[];
  /** "ServiceEntry <namespace>/<name>". */
  source: string;
}

export interface SidecarInfo {
  namespace: string;
  name: string;
  mode: 'REGISTRY_ONLY' | 'ALLOW_ANY' | null;
  workloadSelector: Record<string, string> | null;
  /** `egress[].hosts` ("namespace/dnsName"), or null when the Sidecar sets none (everything is visible). */
  egressHosts: string[] | null;
  /** This is the Sidecar Istio applies to the Mattermost pods. */
  selected: boolean;
  /** Why it is, or is not, the one that applies. */
  why: string;
}

export interface IgnoredEntry {
  source: string;
  why: string;
}

export interface MeshAllowances {
  namespace: string;
  hosts: MeshHost[];
  outboundMode: OutboundMode;
  /** Where the mode comes from: a Sidecar, the mesh config, or Istio's default. */
  modeSource: string;
  sidecars: SidecarInfo[];
  /** ServiceEntries that exist but do not let Mattermost out, and why (exportTo, Sidecar egress hosts). */
  ignored: IgnoredEntry[];
  /** ServiceEntry names in the namespace: names of new entries must avoid them. */
  entryNames: string[];
  /** networking.istio.io version read, per resource; null while unknown or when Istio's CRDs are missing. */
  apiVersions: {serviceEntries: string | null; sidecars: string | null};
  /** Every collection has been read at least once. */
  ready: boolean;
  /** What limits this picture: resources that could not be read, and why. */
  notes: string[];
}
