// Contracts between the engine's stages. The engine is pure: no I/O happens behind these types.
import type {Attribution, FeatureRef, Finding, Plan, PortProtocol, RejectedHost, SuggestionFormat, Verdict} from '../../common/types';

export type {Attribution, FeatureRef, Finding, Plan, PortProtocol, RejectedHost, SuggestionFormat, Verdict};

/** An Envoy access-log entry, whatever format it came in. Absent values ("-", null) are null. */
export interface AccessRecord {
  encoding: 'text' | 'json';
  /** Which default layout matched, e.g. "istio-1.11+", "istio-1.3-1.7", "envoy-default". */
  layout: string;
  /** From `kubectl logs --prefix` ("[pod/<pod>/<container>]") or a shipper prefix. */
  pod: string | null;
  container: string | null;
  /** ISO-8601 START_TIME (or the kubectl --timestamps time when the line has none). */
  startTime: string | null;
  method: string | null;
  path: string | null;
  /** HTTP protocol as logged ("HTTP/1.1", "HTTP/2"); null for TCP connections. */
  httpProtocol: string | null;
  responseCode: number | null;
  /** Envoy response flags, split on ",", e.g. ["UF", "URX"]; empty when "-". */
  responseFlags: string[];
  responseCodeDetails: string | null;
  connectionTerminationDetails: string | null;
  upstreamTransportFailureReason: string | null;
  bytesReceived: number | null;
  bytesSent: number | null;
  durationMs: number | null;
  userAgent: string | null;
  authority: string | null;
  upstreamHost: string | null;
  /** With any trailing ";" (alt-stat name) removed. */
  upstreamCluster: string | null;
  upstreamLocalAddress: string | null;
  /** For sidecar outbound traffic: the application's original destination ip:port. */
  downstreamLocalAddress: string | null;
  downstreamRemoteAddress: string | null;
  requestedServerName: string | null;
  routeName: string | null;
}

export type ParsedLine = {kind: 'access'; record: AccessRecord} | {kind: 'other'; reason: string; pod: string | null; time: string | null};

/** The line-level verdict, before any correlation. */
export interface Classification {
  verdict: Verdict;
  /** Host named by the line itself: SNI, :authority, or the outbound cluster's host. */
  host: string | null;
  hostSource: 'sni' | 'authority' | 'cluster' | null;
  /** Original destination address and port. */
  ip: string | null;
  port: number | null;
  protocol: PortProtocol | null;
  reason: string;
}

/** One external endpoint Mattermost is configured to reach. */
export interface InventoryEndpoint {
  host: string;
  /** Null when the configuration implies no specific port. */
  port: number | null;
  feature: FeatureRef;
  /** False when the feature is configured but switched off (still worth knowing, less likely the cause). */
  enabled: boolean;
}

/** A failed outbound call that Mattermost itself logged. */
export interface AppLogEvent {
  /** Epoch milliseconds, when the line carries a time. */
  timeMs: number | null;
  pod: string | null;
  /** Host name the call targeted, when the error names one. */
  host: string | null;
  /** IP the call dialled, when the error names one ("dial tcp 52.1.2.3:443"). */
  ip: string | null;
  port: number | null;
  url: string | null;
  message: string;
}

/** Resolves a host name to addresses. Injected: the CLI passes a real DNS resolver, tests a table. */
export type Resolver = (host: string) => Promise<string[]>;

/**
 * A connection Mattermost made at a known moment to a known host and port: one of its own connection
 * tests, run by the bridge (server/bridge/connection-tests.ts). Times are epoch milliseconds.
 */
export interface ProbeWindow {
  testId: string;
  /** The integration, for a person: "File storage (S3)". */
  label: string;
  host: string;
  port: number;
  fromMs: number;
  toMs: number;
  /** IP-only addresses blocked on `port` within the window so far, first seen first (attribute.ts sightProbes). */
  seen?: readonly string[];
}

/** Everything the attribution stage may use to name an IP-only destination. */
export interface AttributionContext {
  /** Host names from the Mattermost configuration, by the addresses they resolve to. */
  dnsIndex: ReadonlyMap<string, readonly string[]>;
  appEvents: readonly AppLogEvent[];
  inventory: readonly InventoryEndpoint[];
  /** Connection tests in progress or recently done (active attribution). */
  probes?: readonly ProbeWindow[];
  /**
   * The configured hosts that had this address at those moments (the bridge's DNS history). When given, a
   * host name is matched only at the moment of the blocked connection; dnsIndex then only serves
   * addresses written in the configuration itself.
   */
  dnsAt?: (ip: string, timesMs: readonly number[]) => readonly string[];
}

/** One ServiceEntry as the engine models it, before any output format is applied. */
export interface ServiceEntryModel {
  /** RFC 1123 name, deterministic for the same hosts. */
  name: string;
  hosts: string[];
  ports: {number: number; name: string; protocol: PortProtocol}[];
  resolution: 'DNS' | 'NONE' | 'STATIC';
  location: 'MESH_EXTERNAL';
  addresses?: string[];
  /** Only with resolution STATIC: where the traffic goes (IP addresses). */
  endpoints?: {address: string}[];
  /** Findings keys this entry covers, for the webapp's selection. */
  covers: string[];
  /** Words for a person, one line each: the features this entry restores (rendered as YAML comments). */
  comment?: string;
}

export interface SuggestionResult {
  format: SuggestionFormat;
  /** YAML ready to paste (empty string when nothing is missing). */
  yaml: string;
  entries: ServiceEntryModel[];
  /** Hosts left out, each with why (already allowed, hostile name, internal address, …). */
  skipped: {host: string; reason: string}[];
  /** What to do about each finding: the one text every view shows. */
  plans: Plan[];
}
