// The policy around Mattermost's connection tests, pure: which tests exist and which integration rows they
// speak for, whether the saved configuration uses each, where it points the test, when a test may run
// (once per interval; the email test only when a person asks), and which findings a result speaks for.
// The REST calls are in server/mattermost/connection-tests.ts; naming a blocked line by a test's window is
// in attribute.ts.
import type {ConnectionTestKind, ConnectionTestReport, ConnectionTestResult, ConnectionTestTrigger} from '../../common/connection-tests';
import {CONNECTION_TEST_KINDS} from '../../common/connection-tests';
export {describeConnectionTest as describeResult} from '../../common/connection-tests';
import type {FeatureRef} from '../../common/types';
import type {InventoryEndpoint} from './types';
import {urlTarget} from './urltarget';
import {obj, on, str} from './config-values';
import {formatUtc} from '../../common/time';

export interface ConnectionTestSpec {
  label: string;
  /** Words `/egress test` accepts besides the kind itself. */
  aliases: readonly string[];
  /** Inventory rows this test speaks for: a feature id and the start of its configuration path. */
  features: {id: string; configPathPrefix: string}[];
  /** Sends something a person receives (the email test mails the bridge's user): never run by the bridge on its own. */
  onlyWhenAsked: boolean;
}

export const CONNECTION_TESTS: Readonly<Record<ConnectionTestKind, ConnectionTestSpec>> = {
  s3: {
    label: 'File storage (S3)',
    aliases: ['file-storage', 'file', 'files', 'storage'],
    features: [{id: 'file-storage', configPathPrefix: 'FileSettings.AmazonS3'}],
    onlyWhenAsked: false,
  },
  smtp: {
    label: 'Email (SMTP)',
    aliases: ['email', 'mail', 'email-smtp'],
    features: [{id: 'email-smtp', configPathPrefix: 'EmailSettings.'}],
    onlyWhenAsked: true,
  },
  ldap: {label: 'AD/LDAP', aliases: ['ad'], features: [{id: 'ldap', configPathPrefix: 'LdapSettings.'}], onlyWhenAsked: false},
  elasticsearch: {
    label: 'Search (Elasticsearch/OpenSearch)',
    aliases: ['search', 'search-engine', 'opensearch', 'es'],
    features: [{id: 'search-engine', configPathPrefix: 'ElasticsearchSettings.'}],
    onlyWhenAsked: false,
  },
  'site-url': {label: 'Site URL', aliases: ['siteurl', 'site'], features: [], onlyWhenAsked: false},
};

/** The kind a person typed, or null. */
export function parseTestKind(word: string): ConnectionTestKind | null {
  const w = word.trim().toLowerCase();
  for (const kind of CONNECTION_TEST_KINDS) {
    if (kind === w || CONNECTION_TESTS[kind].aliases.includes(w)) return kind;
  }
  return null;
}

/** Whether the saved configuration (as GET /api/v4/config returns it) uses the integration: set and switched on. */
export function isConfigured(kind: ConnectionTestKind, config: unknown): boolean {
  const cfg = obj(config);
  switch (kind) {
    case 's3':
      return str(obj(cfg.FileSettings).DriverName).toLowerCase() === 'amazons3';
    case 'smtp':
      return str(obj(cfg.EmailSettings).SMTPServer) !== '';
    case 'ldap': {
      const ldap = obj(cfg.LdapSettings);
      return str(ldap.LdapServer) !== '' && (on(ldap.Enable) || on(ldap.EnableSync));
    }
    case 'elasticsearch': {
      // Mattermost ships a ConnectionURL (http://localhost:9200) with search switched off: the URL alone
      // says nothing, as in the inventory (server/engine/inventory.ts).
      const es = obj(cfg.ElasticsearchSettings);
      return str(es.ConnectionURL) !== '' && (on(es.EnableIndexing) || on(es.EnableSearching) || on(es.EnableAutocomplete));
    }
    case 'site-url':
      return str(obj(cfg.ServiceSettings).SiteURL) !== '';
  }
}

/** The saved Site URL, which the site URL test must be given (see server/mattermost/connection-tests.ts). */
export function savedSiteUrl(config: unknown): string | null {
  return str(obj(obj(config).ServiceSettings).SiteURL) || null;
}

export function specCovers(kind: ConnectionTestKind, feature: Pick<FeatureRef, 'id' | 'configPath'>): boolean {
  return CONNECTION_TESTS[kind].features.some((f) => f.id === feature.id && feature.configPath.startsWith(f.configPathPrefix));
}

/**
 * Where the test makes Mattermost connect: the integration's endpoint as the inventory read it from the
 * same configuration. Null when the inventory left it out (loopback never passes the sidecar).
 */
export function testTarget(kind: ConnectionTestKind, config: unknown, inventory: readonly InventoryEndpoint[]): {host: string; port: number | null} | null {
  if (kind === 'site-url') {
    const site = savedSiteUrl(config);
    const t = site === null ? null : urlTarget(site);
    return t === null ? null : {host: t.host ?? (t.ip as string), port: t.port};
  }
  const e = inventory.find((x) => specCovers(kind, x.feature));
  return e === undefined ? null : {host: e.host, port: e.port};
}

/** When a test of this kind may run next, given the history (newest first); null: now. */
export function nextAllowedAt(history: readonly ConnectionTestResult[], kind: ConnectionTestKind, intervalMs: number, now: number): Date | null {
  // Only tests Mattermost was asked to run count: one it never got (it was away, or not set up) did nothing.
  const last = history.find((r) => r.kind === kind && r.httpStatus !== null);
  if (last === undefined) return null;
  const next = Date.parse(last.startedAt) + intervalMs;
  return next > now ? new Date(next) : null;
}

export type RunDecision = {run: true} | {run: false; reason: string; nextAllowedAt: Date | null};

/** Whether a test may run now: the email test only for a person, and no kind more than once per interval. */
export function mayRun(
  kind: ConnectionTestKind,
  trigger: ConnectionTestTrigger,
  history: readonly ConnectionTestResult[],
  intervalMs: number,
  now: number,
): RunDecision {
  const spec = CONNECTION_TESTS[kind];
  if (spec.onlyWhenAsked && trigger !== 'person') {
    return {
      run: false,
      reason: `The ${spec.label} test sends a real email, so it runs only when a person asks (\`/egress test ${kind}\`).`,
      nextAllowedAt: null,
    };
  }
  const next = nextAllowedAt(history, kind, intervalMs, now);
  if (next !== null) {
    return {
      run: false,
      reason: `${spec.label} was tested less than ${Math.round(intervalMs / 1000)} s ago; the next test may run at ${formatUtc(next.toISOString())}.`,
      nextAllowedAt: next,
    };
  }
  return {run: true};
}

/** Findings a test speaks for: those whose features it covers, or that go to its target. */
export function findingsForTest(
  kind: ConnectionTestKind,
  target: {host: string; port: number | null} | null,
  findings: readonly {key: string; features: readonly FeatureRef[]; destination: {host: string | null; port: number}; attribution: {host: string | null}}[],
): string[] {
  return findings
    .filter(
      (f) =>
        f.features.some((x) => specCovers(kind, x)) ||
        (target !== null && (f.destination.host ?? f.attribution.host) === target.host && (target.port === null || f.destination.port === target.port)),
    )
    .map((f) => f.key);
}

/** The test kinds that can confirm a finding is fixed: those covering its features. */
export function testsForFinding(finding: {features: readonly FeatureRef[]}): ConnectionTestKind[] {
  return CONNECTION_TEST_KINDS.filter((k) => finding.features.some((f) => specCovers(k, f)));
}

/** The results of one finding: those that named it, or ran for it. */
export function resultsForFinding(history: readonly ConnectionTestResult[], finding: {key: string; features: readonly FeatureRef[]}): ConnectionTestResult[] {
  const kinds = new Set(testsForFinding(finding));
  return history.filter((r) => r.findingKeys.includes(finding.key) || kinds.has(r.kind));
}

export function reportTests(history: readonly ConnectionTestResult[], config: unknown, intervalMs: number, now: number, perKind = 10): ConnectionTestReport[] {
  return CONNECTION_TEST_KINDS.map((kind) => {
    const spec = CONNECTION_TESTS[kind];
    const next = nextAllowedAt(history, kind, intervalMs, now);
    return {
      kind,
      label: spec.label,
      features: spec.features,
      onlyWhenAsked: spec.onlyWhenAsked,
      configured: isConfigured(kind, config),
      history: history.filter((r) => r.kind === kind).slice(0, perKind),
      nextAllowedAt: next === null ? null : next.toISOString(),
    };
  });
}
