// Mattermost's own connection tests as the bridge runs them: the server calls its S3 bucket, its SMTP
// server… from its own pod, through its own istio-proxy, on the very path the mesh may block. Shared by the
// bridge, the /egress replies and the webapp; free of Node imports.
import type {ApiActor} from './api';
import {formatUtc} from './time';

export type ConnectionTestKind = 'smtp' | 's3' | 'ldap' | 'elasticsearch' | 'site-url';

export const CONNECTION_TEST_KINDS: readonly ConnectionTestKind[] = ['s3', 'smtp', 'ldap', 'elasticsearch', 'site-url'];

/** Who or what started a test: a person (`/egress test`, "Test now"), a resolved finding, or the ALLOW_ANY rehearsal. */
export type ConnectionTestTrigger = 'person' | 'after-fix' | 'rehearsal';

/**
 * passed: Mattermost reached the integration. failed: it answered with an error (unreachable, refused,
 * wrong credentials…; `message` says which). not-configured: the saved configuration does not use it, so
 * nothing was called. not-available: this Mattermost cannot run the test (an Enterprise feature without a
 * licence) or the bridge could not ask (Mattermost away).
 */
export type ConnectionTestOutcome = 'passed' | 'failed' | 'not-configured' | 'not-available';

export interface ConnectionTestResult {
  /** Unique id, also in the bridge's log line for the test. */
  id: string;
  kind: ConnectionTestKind;
  /** "File storage (S3)", "Email (SMTP)"… */
  label: string;
  /** Host and port Mattermost's saved configuration points the test at; null when none leaves the pod. */
  target: {host: string; port: number | null} | null;
  trigger: ConnectionTestTrigger;
  /** The person who asked; null for the bridge's own runs. */
  requestedBy: ApiActor | null;
  startedAt: string;
  finishedAt: string;
  outcome: ConnectionTestOutcome;
  /** Mattermost's answer (or why nothing was asked), for a person. */
  message: string;
  /** HTTP status of Mattermost's answer; null when it was not asked or did not answer. */
  httpStatus: number | null;
  /** Findings this result speaks for: those of the integration when it ran, and blocked lines it named. */
  findingKeys: string[];
}

/** One kind of test with its latest results, as the page, the status and `/egress status` show it. */
export interface ConnectionTestReport {
  kind: ConnectionTestKind;
  label: string;
  /** The integration rows (inventory features) this test speaks for. */
  features: {id: string; configPathPrefix: string}[];
  /** The email test sends a real email: it runs only when a person asks. */
  onlyWhenAsked: boolean;
  /** The saved configuration uses this integration. */
  configured: boolean;
  /** Newest first. */
  history: ConnectionTestResult[];
  /** While tests of this kind are rate-limited: when the next one may run. */
  nextAllowedAt: string | null;
}

/** POST integrations/test: "Test now" on an integration row. */
export interface ConnectionTestRequest {
  kind: ConnectionTestKind;
}

/** The answer: the result, or why no test ran (tested too recently). */
export type ConnectionTestResponse =
  {ran: true; result: ConnectionTestResult} | {ran: false; reason: string; nextAllowedAt: string; latest: ConnectionTestResult | null};

/**
 * "Mattermost reached File storage (S3) (s3.example.com:443) at 2026-11-28 12:03:09 UTC.", or that it still fails and
 * why: the same words in the thread, the bridge's log and the page. Plain text (the replies escape it).
 */
export function describeConnectionTest(r: ConnectionTestResult): string {
  const at = formatUtc(r.finishedAt) ?? r.finishedAt;
  const where = r.target ? ` (${r.target.host}${r.target.port !== null ? `:${r.target.port}` : ''})` : '';
  switch (r.outcome) {
    case 'passed':
      return `Mattermost reached ${r.label}${where} at ${at}.`;
    case 'failed':
      return `Mattermost could not reach ${r.label}${where} at ${at}: ${r.message}`;
    case 'not-configured':
      return `${r.label} is not configured in Mattermost; nothing was tested.`;
    case 'not-available':
      return `${r.label} could not be tested at ${at}: ${r.message}`;
  }
}

// ---- the rehearsal before hardening ----

/**
 * What switching on REGISTRY_ONLY would do to one integration, as the rehearsal found it.
 * will-break: its test connection left through PassthroughCluster (no ServiceEntry lets it out).
 * keeps-working: the test passed and a ServiceEntry already lets it out, or it never leaves the cluster.
 * already-failing: the test fails today, before any hardening; REGISTRY_ONLY is not what stops it.
 * unconfirmed: the test passed but no PassthroughCluster line of its own was read in its window.
 * not-tested: not run now (rate limit, Mattermost away, or the email test, which runs only when a person asks).
 * not-configured: the saved configuration does not use it.
 */
export type RehearsalVerdict = 'will-break' | 'keeps-working' | 'already-failing' | 'unconfirmed' | 'not-tested' | 'not-configured';

export interface RehearsalLine {
  /** The finding the PassthroughCluster line belongs to. */
  key: string;
  /** Host (or address) and port, as a person reads it. */
  destination: string;
  /** True when it is this test's connection for certain (its host, or the address the test's window named). */
  named: boolean;
}

export interface RehearsalEntry {
  kind: ConnectionTestKind;
  label: string;
  verdict: RehearsalVerdict;
  /** One or two sentences for a person: why this verdict, what to do. */
  detail: string;
  /** The test the rehearsal ran; null when it ran none for this integration. */
  test: ConnectionTestResult | null;
  /** PassthroughCluster lines read on the test's port within its window. */
  lines: RehearsalLine[];
  /** The ServiceEntry to add before switching on REGISTRY_ONLY, in the plugin's format; '' when none is needed or known. */
  yaml: string;
}

export interface RehearsalReport {
  /** not-run: no rehearsal yet; done: the latest one, below. */
  state: 'not-run' | 'done';
  /** The outbound mode when it ran (when not run: now), and what says so. */
  mode: 'REGISTRY_ONLY' | 'ALLOW_ANY' | 'unknown';
  modeSource: string;
  startedAt: string | null;
  finishedAt: string | null;
  requestedBy: ApiActor | null;
  /** One per integration with a test, the email test included (it is listed, never run by a rehearsal). */
  entries: RehearsalEntry[];
  /** One line for a person: what REGISTRY_ONLY would break, or how to run a rehearsal. */
  summary: string;
  /** While a new rehearsal may not start yet (one per test interval): when it may. */
  nextAllowedAt: string | null;
}

/** POST integrations/rehearse, and `/egress rehearse`. */
export type RehearsalResponse = {ran: true; report: RehearsalReport} | {ran: false; reason: string; report: RehearsalReport};

/** The rehearsal entry before any rehearsal has run: GET integrations always has one. */
export const NOT_RUN_SUMMARY =
  'No rehearsal has run yet. Under ALLOW_ANY, `/egress rehearse` (or "Rehearse REGISTRY_ONLY" on the System Console page) runs Mattermost\'s connection tests and lists what REGISTRY_ONLY would break.';

export function notRunReport(mode: RehearsalReport['mode'], modeSource: string): RehearsalReport {
  return {state: 'not-run', mode, modeSource, startedAt: null, finishedAt: null, requestedBy: null, entries: [], summary: NOT_RUN_SUMMARY, nextAllowedAt: null};
}
