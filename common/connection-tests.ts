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
