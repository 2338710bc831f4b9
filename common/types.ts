// Types shared by the bridge, the CLI and the webapp. Everything that crosses a process or a wire
// boundary (classify JSON lines, the HTTP API, post props) is described here and only here.

/** What one access-log line says about an outbound connection (see DESIGN.md, "CLI, machine-readable"). */
export type Verdict =
  | 'blocked' // REGISTRY_ONLY dropped it (BlackHoleCluster, or the block_all route for plain HTTP)
  | 'passthrough' // left the mesh unregistered under ALLOW_ANY: would be blocked once hardened
  | 'external-ok' // a registered external host, reached
  | 'external-failed' // a registered external host that could not be reached (firewall, NetworkPolicy)
  | 'internal' // in-mesh or inbound traffic
  | 'not-access-log'; // anything istio-proxy writes that is not an access-log line

export const VERDICTS: readonly Verdict[] = ['blocked', 'passthrough', 'external-ok', 'external-failed', 'internal', 'not-access-log'];

/** ServiceEntry port protocols we emit; the traffic seen decides which. */
export type PortProtocol = 'HTTP' | 'TLS' | 'TCP';

/** The classify contract: one JSON object per input line. */
export interface ClassifiedLine {
  line: number;
  verdict: Verdict;
  host: string | null;
  ip: string | null;
  port: number | null;
  protocol: PortProtocol | null;
  reason: string;
}

export type SuggestionFormat =
  | 'bigbang' // addons.mattermost.values.routes.outbound.<name>
  | 'bigbang-legacy' // addons.mattermost.values.istio.hardened.customServiceEntries
  | 'package' // routes.outbound.<name> in the Mattermost package chart's own values
  | 'package-legacy' // istio.hardened.customServiceEntries in the package chart's own values
  | 'serviceentry'; // plain networking.istio.io/v1 ServiceEntry manifests

export const SUGGESTION_FORMATS: readonly SuggestionFormat[] = ['bigbang', 'bigbang-legacy', 'package', 'package-legacy', 'serviceentry'];

/** How a blocked destination got its host name, most trustworthy first. */
export type AttributionMethod =
  | 'sni' // the TLS server name Envoy logged
  | 'authority' // the HTTP :authority / Host header
  | 'cluster' // the host inside an outbound|port||host cluster name
  | 'connection-test' // blocked on the integration's port while the bridge had Mattermost test that integration
  | 'app-log' // Mattermost logged the URL it failed to reach, same pod, same moment
  | 'dns' // the IP is what a host from the Mattermost configuration resolves to
  | 'well-known' // a fixed address with a known meaning (cloud instance metadata, …)
  | 'port' // the only switched-on configured integration on the blocked port (likely; several: candidates)
  | 'none';

/**
 * How sure the name is: certain (the line or Mattermost's log at the same moment names it), likely (one
 * configured host fits: by its addresses or as the only integration on the port), ambiguous (several fit:
 * see candidates), unknown (nothing names it).
 */
export type Confidence = 'certain' | 'likely' | 'ambiguous' | 'unknown';

export interface Attribution {
  /** The chosen host name, or null when none could be named. */
  host: string | null;
  /** Every host that could be behind the destination (more than one: a shared address, or several integrations on the port). */
  candidates: string[];
  method: AttributionMethod;
  confidence: Confidence;
  /** One sentence for a person, the reason for the confidence: why this host, or how to find it. */
  note: string;
}

/** A Mattermost feature that calls out, as found in its configuration. */
export interface FeatureRef {
  /** Stable id, e.g. "file-storage". */
  id: string;
  /** Words an administrator knows, e.g. "File storage (Amazon S3)". */
  name: string;
  /** Where in the Mattermost configuration the endpoint is set, e.g. "FileSettings.AmazonS3Endpoint". */
  configPath: string;
}

/** A host name that came from traffic and failed validation: reported, never emitted as YAML. */
export interface RejectedHost {
  /** The name, escaped so that it is safe to print anywhere (control characters as \xNN). */
  printable: string;
  reason: string;
}

export interface Destination {
  /** The host name when one is known (from the line or by attribution). */
  host: string | null;
  /** The original destination address, when logged. */
  ip: string | null;
  port: number;
}

export interface Finding {
  /** Stable key: verdict-independent identity of the destination, e.g. "s3.amazonaws.com:443" or "52.1.2.3:443". */
  key: string;
  destination: Destination;
  verdict: Verdict;
  protocol: PortProtocol;
  count: number;
  /** ISO-8601 times from the log lines (null when the lines carry none). */
  firstSeen: string | null;
  lastSeen: string | null;
  pods: string[];
  /** A few raw lines as read (already made printable). */
  samples: string[];
  attribution: Attribution;
  features: FeatureRef[];
  /** Set when the host name is unusable in a ServiceEntry. */
  rejectedHost?: RejectedHost;
}

/**
 * One part of the suggested YAML, headed by a comment with its title: the configured integrations that are
 * or will be blocked, then the other destinations found in the access log. An entry is in one section only.
 */
export interface SuggestionSection {
  id: 'integrations' | 'log';
  title: string;
  /** Names of the routes or ServiceEntries under this heading, in the order of the YAML. */
  entries: string[];
}

/**
 * What to do about one destination, decided once (server/engine/suggest/plan.ts) from the findings and from
 * what is already allowed, and shown as it is by every view: alert, thread, /egress, API, page and CLI.
 */
export interface Plan {
  /** The finding's key. */
  key: string;
  /**
   * add: the suggested YAML holds the entries that allow it (`entries`);
   * allowed: something already allows it (`allowedBy`), nothing to add;
   * other-fix: a ServiceEntry is not the fix, or cannot be written yet (`text` says why and what is);
   * none: nothing to do (reached, or traffic inside the mesh).
   */
  action: 'add' | 'allowed' | 'other-fix' | 'none';
  /** Names of the routes or ServiceEntries of the suggested YAML that allow it; empty unless action is add. */
  entries: string[];
  /** What already lets it out (a values route, a ServiceEntry in the mesh), for action allowed. */
  allowedBy: string | null;
  /** What to do, in sentences for a person; commands and names it quotes are in backticks, as they run. */
  text: string;
}
