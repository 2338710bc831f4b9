// The bridge's HTTP API as the webapp sees it: every request, response and event body, and every error
// code. The webapp imports this file, so it must stay free of Node and server imports (common/types.ts is
// shared the same way).
import type {ConnectionTestReport, ConnectionTestResult, RehearsalReport} from './connection-tests';
import type {Attribution, Destination, FeatureRef, Plan, PortProtocol, RejectedHost, SuggestionFormat, SuggestionSection, Verdict} from './types';

export type {Plan, SuggestionFormat, SuggestionSection, Verdict} from './types';

/** The plugin's id (plugin.json): its route on Mattermost is /plugins/egress-advisor. */
export const PLUGIN_ID = 'egress-advisor';

/**
 * The webapp's API on Mattermost's origin: the plugin's server half serves it and forwards each call to the
 * bridge at the same path. On a subpath install the webapp puts the Site URL's path in front of it.
 */
export const API_BASE_PATH = '/plugins/egress-advisor/api/v1';

// ---------------------------------------------------------------------------------------------------------
// Findings

export type FindingStatus = 'open' | 'ignored' | 'resolved';

export const FINDING_STATUSES: readonly FindingStatus[] = ['open', 'ignored', 'resolved'];

export type FindingSort = 'urgency' | 'lastSeen' | 'firstSeen' | 'count' | 'key' | 'updatedAt';

export const FINDING_SORTS: readonly FindingSort[] = ['urgency', 'lastSeen', 'firstSeen', 'count', 'key', 'updatedAt'];

export type SortOrder = 'asc' | 'desc';

/** A Mattermost user who decided something about a finding. */
export interface ApiActor {
  userId: string;
  username: string;
}

/** One finding in a list: everything but the raw sample lines, which only the detail carries. */
export interface FindingSummary {
  /** Destination key, e.g. "push.mattermost.com:443" or "[2001:db8::1]:443"; URL-encode it in paths. */
  key: string;
  destination: Destination;
  verdict: Verdict;
  protocol: PortProtocol;
  status: FindingStatus;
  count: number;
  /** ISO-8601 times from the log lines (null when the lines carry none). */
  firstSeen: string | null;
  lastSeen: string | null;
  pods: string[];
  attribution: Attribution;
  features: FeatureRef[];
  rejectedHost: RejectedHost | null;
  /** Set while status is 'ignored'. */
  ignored: {by: ApiActor; reason: string; at: string} | null;
  /** ISO-8601 times of the bridge's store. */
  createdAt: string;
  updatedAt: string;
  statusChangedAt: string | null;
  resolvedAt: string | null;
  /** The alert post that announced the finding, once posted. */
  alertPostId: string | null;
  /** Grows on every change of this finding. */
  revision: number;
}

export interface HistoryPoint {
  /** Start of the hour (ISO-8601, UTC). */
  hour: string;
  count: number;
}

export type DecisionAction = 'ignore' | 'unignore' | 'resolve' | 'reopen';

export interface ApiDecision {
  action: DecisionAction;
  /** Null for the bridge's own changes (resolved by policy, reopened by new traffic). */
  by: ApiActor | null;
  reason: string;
  at: string;
}

/** GET findings/:key */
export interface FindingDetail extends FindingSummary {
  /** A few raw access-log lines, already made printable. */
  samples: string[];
  /** Blocked connections per hour, oldest first. */
  history: HistoryPoint[];
  /** Every status change, oldest first. */
  decisions: ApiDecision[];
  /**
   * What to do, as the alert, /egress show and the CLI say it: built among every open finding in the
   * plugin's suggestion format (common/types.ts Plan). Null when no plan could be made.
   */
  plan: Plan | null;
  /** Mattermost's own connection tests of this destination's integration, or that named it; newest first. */
  tests?: ConnectionTestResult[];
}

/** Query of GET findings; lists may be comma-separated or repeated (`status=open&status=ignored`). */
export interface FindingsQuery {
  status?: FindingStatus | FindingStatus[];
  verdict?: Verdict | Verdict[];
  /** Case-insensitive text in the key, host, address, candidates, features, pods or ignore reason. */
  q?: string;
  sort?: FindingSort;
  order?: SortOrder;
  /** 1..500, default 100. */
  limit?: number;
  offset?: number;
}

/** Longest `q` accepted. */
export const MAX_SEARCH_CHARS = 200;

export interface FindingsPage {
  items: FindingSummary[];
  /** Matching findings in all pages. */
  total: number;
  limit: number;
  offset: number;
  /** The findings revision this page was read at (see FindingsRevision). */
  revision: number;
  /** Counts over all findings, whatever the filter: for status tabs and badges. */
  counts: FindingCountsReport;
  /**
   * True when a text search stopped before looking at every finding (the store holds more than a search
   * reads): `total` then counts only what was looked at. Narrow the search with status or verdict.
   */
  searchTruncated: boolean;
}

/** GET findings/revision: changes whenever any finding changes; refetch when it differs from what you hold. */
export interface FindingsRevision {
  revision: number;
}

/**
 * Longest ignore/unignore reason accepted (Unicode code points), by the API, the page and `/egress ignore`
 * alike; a reason is shown in full in the alert's thread, so it stays short enough for a phone.
 */
export const MAX_REASON_CHARS = 500;

/** POST findings/:key/ignore. The answer is the finding after the change (FindingSummary). */
export interface IgnoreRequest {
  /** Why this destination needs no ServiceEntry; shown to the other administrators. Optional, as in /egress ignore. */
  reason?: string;
}

/** POST findings/:key/unignore (the body may be left out). */
export interface UnignoreRequest {
  reason?: string;
}

// ---------------------------------------------------------------------------------------------------------
// Suggestions

/** Most keys one suggestion request may name; use "all" for more. */
export const MAX_SUGGESTION_KEYS = 5000;

/**
 * POST suggestions: the one patch of everything to add (server/engine/patch.ts), or a part of it. The page,
 * `/egress snippet all` and `egress-advisor scan` print the same patch.
 */
export interface SuggestionsRequest {
  /**
   * "all": every open finding and every switched-on configured integration that is or will be blocked.
   * Finding keys: only these findings' entries, named as in the whole patch.
   */
  keys: string[] | 'all';
  format: SuggestionFormat;
}

export interface SuggestedServiceEntry {
  name: string;
  hosts: string[];
  ports: {number: number; name: string; protocol: PortProtocol}[];
  resolution: 'DNS' | 'NONE' | 'STATIC';
  /** Addresses of an address-only entry. */
  addresses?: string[];
  /** With resolution STATIC: where the traffic goes. */
  endpoints?: {address: string}[];
  /** Finding keys this entry covers. */
  covers: string[];
  comment?: string;
}

export interface SuggestionsResponse {
  format: SuggestionFormat;
  /** YAML ready to paste; '' when nothing is missing. */
  yaml: string;
  entries: SuggestedServiceEntry[];
  /** Hosts left out, each with why (already allowed, unusable name, in-cluster address…). */
  skipped: {host: string; reason: string}[];
  /** What a person should know about the input. */
  notes?: string[];
  /** What to do about each finding asked for (every open one for "all"), in the order asked. */
  plans: Plan[];
  /** The headed sections of the YAML (configured integrations, then the access log), with their entries. */
  sections: SuggestionSection[];
}

// ---------------------------------------------------------------------------------------------------------
// Integrations: what Mattermost is configured to call, against what the mesh lets out

/**
 * allowed: a ServiceEntry visible to Mattermost (or the values file) covers host and port.
 * blocked: an open finding says traffic to it is being dropped now.
 * will-be-blocked: nothing covers it. Under REGISTRY_ONLY its first call will be dropped; under ALLOW_ANY it
 *   passes today (PassthroughCluster) and hardening will cut it.
 * in-cluster: a Service or private address, which no MESH_EXTERNAL ServiceEntry is for.
 * unknown: what the mesh allows could not be read, and no values file says it.
 */
export type IntegrationState = 'allowed' | 'blocked' | 'will-be-blocked' | 'in-cluster' | 'unknown';

export const INTEGRATION_STATES: readonly IntegrationState[] = ['blocked', 'will-be-blocked', 'unknown', 'allowed', 'in-cluster'];

export interface IntegrationItem {
  feature: FeatureRef;
  host: string;
  /** Null when the configuration implies no port (nothing can be checked or suggested). */
  port: number | null;
  /** False when the feature is configured but switched off. */
  enabled: boolean;
  state: IntegrationState;
  /** What lets it out: "ServiceEntry mattermost/s3" or a values path; null unless allowed. */
  allowedBy: string | null;
  /** Open findings for this host and port: blocked now, or passing unregistered under ALLOW_ANY. */
  findings: {key: string; verdict: Verdict}[];
  /** One sentence for a person: why this state, and what to do. */
  detail: string;
}

export interface MeshReport {
  /** Mattermost's namespace. */
  namespace: string;
  /** Every collection (ServiceEntries, Sidecars) has been read at least once. */
  ready: boolean;
  outboundMode: 'REGISTRY_ONLY' | 'ALLOW_ANY' | 'unknown';
  /** Where the mode comes from: a Sidecar, the mesh config, or Istio's default. */
  modeSource: string;
  /** Host and port pairs the visible ServiceEntries allow. */
  allowedHosts: number;
  /** What limits this picture (resources that could not be read), and entries that do not apply, with why. */
  notes: string[];
}

/** GET integrations (their YAML is part of the one patch: POST suggestions). */
export interface IntegrationsResponse {
  generatedAt: string;
  /** The mesh as read from Kubernetes; null when no Kubernetes source runs (only the values file says what is allowed). */
  mesh: MeshReport | null;
  /** A values file was given, and what it allows counts as allowed. */
  valuesFile: boolean;
  /** Most urgent first (INTEGRATION_STATES order), then by feature name. */
  items: IntegrationItem[];
  /** Mattermost's own connection tests, with their history; match rows by `features` (see connection-tests.ts). */
  tests?: ConnectionTestReport[];
  /** The latest rehearsal of REGISTRY_ONLY, always present: state `not-run` until one has run. */
  rehearsal: RehearsalReport;
}

// ---------------------------------------------------------------------------------------------------------
// Status

export type SourceState = 'starting' | 'following' | 'waiting' | 'error' | 'ended' | 'stopped';

export interface SourceStreamReport {
  id: string;
  /** A path, "stdin", or "namespace/pod/container". */
  origin: string;
  state: SourceState;
  lines: number;
  /** When the bridge last took in a line of this stream (ISO-8601), not the time inside the log. */
  lastLineAt: string | null;
}

export interface SourceReport {
  id: string;
  kind: 'file' | 'stdin' | 'kubernetes';
  state: SourceState;
  /** When the source entered its current state. */
  since: string;
  lastLineAt: string | null;
  lines: number;
  lastError: string | null;
  lastErrorAt: string | null;
  streams: SourceStreamReport[];
  /** Recent events worth knowing (rotations, waiting for a file, errors), oldest first. */
  notices: {at: string; code: string; message: string}[];
}

/** Bridge → Mattermost: the REST API with the bridge's token. */
export interface MattermostOutboundStatus {
  state: 'up' | 'down' | 'unknown';
  /** The URL the bridge calls (usually the in-cluster Service). */
  url: string | null;
  checkedAt: string | null;
  serverVersion: string | null;
  identity: {userId: string; username: string; isBot: boolean} | null;
  /** Why it is down or degraded, for a person. */
  error: string | null;
  /** Missing permissions or settings found by the bridge's checks. */
  problems: {code: string; severity: 'error' | 'warning'; message: string}[];
}

/**
 * Mattermost → bridge: slash command and button callbacks. Mattermost refuses private addresses unless the
 * bridge host is listed in ServiceSettings.AllowedUntrustedInternalConnections; `setting` says exactly what
 * to add.
 */
/** The plugin's side: whether the plugin inside Mattermost calls this bridge (it carries every call in). */
export interface MattermostInboundStatus {
  /** connected: a signed call arrived; waiting: none yet (the plugin is not enabled, or has not got the settings). */
  state: 'connected' | 'waiting' | 'not-configured';
  /** The bridge URL written into the plugin's settings. */
  bridgeUrl: string | null;
  /** One or two sentences: what works, or what to do. */
  reason: string;
  /** When the plugin last made a signed call. */
  lastCallAt: string | null;
}

export interface HardeningStatus {
  /**
   * registry-only: BlackHoleCluster lines seen, the Sidecar blocks unregistered hosts.
   * allow-any: unregistered traffic passes (PassthroughCluster): findings say what hardening would block.
   */
  state: 'registry-only' | 'allow-any' | 'unknown';
  /** What the state was concluded from. */
  evidence: string;
}

export interface FindingCountsReport {
  byStatus: Record<FindingStatus, number>;
  /** Open findings only. */
  openByVerdict: Partial<Record<Verdict, number>>;
}

/** GET status */
export interface StatusReport {
  generatedAt: string;
  bridgeVersion: string;
  /**
   * ready: the bridge can serve the plugin (every source reads). reasons: why not. degraded: what works badly
   * without keeping the bridge from serving, such as a broken link to Mattermost: the plugin, the only client,
   * must still reach the bridge to show the reason, so it never makes the bridge unready.
   */
  ready: {ready: boolean; reasons: string[]; degraded: string[]};
  sources: SourceReport[];
  mattermost: {outbound: MattermostOutboundStatus; inbound: MattermostInboundStatus};
  hardening: HardeningStatus;
  /** What the mesh allows, when a Kubernetes source reads it. */
  mesh: MeshReport | null;
  /** Integrations by state (see GET integrations). */
  integrations: Partial<Record<IntegrationState, number>>;
  /**
   * leader: this replica reads the logs, alerts and sets Mattermost up. follower: another replica does;
   * this one answers from the shared store and takes over if the leader goes. sole: the only replica (SQLite).
   */
  replica: 'leader' | 'follower' | 'sole';
  counts: FindingCountsReport;
  /** Alerts waiting to be posted; null when unknown. */
  outboxDepth: number | null;
  /** The findings limit and what it has cost: IP-only destinations not kept, junk removed to make room. */
  store?: StoreOverflowReport;
  /**
   * Calls Mattermost refused itself, read from an `app:` source: the address is internal and
   * ServiceSettings.AllowedUntrustedInternalConnections does not list it. Not the mesh: nothing was dialled.
   */
  mattermostRefusals?: MattermostRefusalReport[];
}

export interface MattermostRefusalReport {
  url: string | null;
  /** The host to list in the setting, when the line names one. */
  host: string | null;
  /** Lines that logged this refusal. */
  count: number;
  /** ISO-8601 time of the latest such line, when it carried one. */
  lastAt: string | null;
  /** What to change, in words. */
  advice: string;
}

export interface StoreOverflowReport {
  findings: number;
  maxFindings: number;
  /** Lines of destinations that were not kept because the store was full. */
  overflowLines: number;
  overflowDestinations: number;
  /** Unexplained IP-only findings removed to make room for a named or explained destination. */
  evictedFindings: number;
}

// ---------------------------------------------------------------------------------------------------------
// Live updates

/** Server-Sent Events at GET events. */
export const SSE_EVENT_REVISION = 'revision';
export const SSE_EVENT_FINDINGS_CHANGED = 'findings-changed';

/**
 * `revision` is sent once on connect (the current revision: refetch if it differs from what you show);
 * `findings-changed` on every change after that. `keys` names the findings that changed when they are few,
 * null means "any". Comments (": heartbeat") keep proxies from closing an idle stream.
 */
export interface FindingsChangedEvent {
  revision: number;
  keys: string[] | null;
}

// ---------------------------------------------------------------------------------------------------------
// Errors

export type ApiErrorCode =
  | 'unauthenticated' // (from the plugin) no Mattermost session (log in)
  | 'not_system_admin' // (from the plugin) the user lacks manage_system
  | 'invalid_request'
  | 'invalid_json'
  | 'unsupported_media_type'
  | 'body_too_large'
  | 'not_found'
  | 'finding_not_found'
  | 'too_many_streams'
  | 'not_ready'
  | 'not_alive' // wedged: only a restart helps (/healthz)
  | 'signature_invalid' // the call did not come from the plugin (unsigned, badly signed or stale)
  | 'bridge_unreachable' // (from the plugin) the bridge did not answer
  | 'bridge_not_configured' // (from the plugin) the bridge has not written its URL and secret yet
  | 'internal';

/** Every error answer of the bridge. */
export interface ApiError {
  /** What happened and what to do, for a person. */
  error: string;
  code: ApiErrorCode;
  /** For validation errors: the values that would have been accepted. */
  allowed?: string[];
  /** The bridge's request id, to find the matching log lines. */
  requestId?: string;
}
