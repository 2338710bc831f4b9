// The bridge's Prometheus metrics, created once per Registry and handed out as typed handles. Creating
// them again on the same Registry returns the same handles, so the HTTP layer and the bridge's start-up
// code can both call this without a "metric already registered" error.
import {collectDefaultMetrics, Counter, Gauge, Histogram, type Metric, type Registry} from 'prom-client';

import type {FindingStatus} from '../../common/api';
import type {Verdict} from '../../common/types';

export interface FindingCountRow {
  status: FindingStatus;
  verdict: Verdict;
  count: number;
}

export interface BridgeMetrics {
  readonly registry: Registry;
  /** Access-log lines read, by the verdict the engine gave them. */
  readonly linesTotal: Counter<'verdict'>;
  /** Findings held, by status and verdict; set them all at once with setFindings. */
  readonly findings: Gauge<'status' | 'verdict'>;
  readonly alertsSentTotal: Counter;
  /** Outbox items not yet delivered. */
  readonly outboxDepth: Gauge;
  /** What the findings limit has cost: lines and destinations not kept, findings removed to make room. */
  readonly storeOverflow: Gauge<'what'>;
  /** 1 when the last call to Mattermost's API succeeded. */
  readonly mattermostUp: Gauge;
  /** 1 while this replica leads (reads the Kubernetes logs, alerts); always 1 with the SQLite store. */
  readonly leader: Gauge;
  /** 1 while a source is following its log. */
  readonly sourceUp: Gauge<'source'>;
  /** Restarts of a source after its batch could not be stored. */
  readonly sourceRestartsTotal: Counter<'source'>;
  /** When a source last delivered a line (seconds since the epoch). */
  readonly sourceLastLineTimestamp: Gauge<'source'>;
  readonly httpRequestDuration: Histogram<'method' | 'route' | 'status_code'>;
  /** Calls the plugin made for Mattermost (slash command, buttons), by outcome. */
  readonly mattermostCallbacksTotal: Counter<'kind' | 'outcome'>;
  readonly eventStreams: Gauge;
  /** Mattermost's own connection tests the bridge ran, by integration, outcome and what started them. */
  readonly connectionTestsTotal: Counter<'integration' | 'outcome' | 'trigger'>;
  /** 1 when the latest connection test of an integration passed, 0 when it failed. */
  readonly connectionTestPassed: Gauge<'integration'>;
  /** When an integration's latest connection test finished (seconds since the epoch). */
  readonly connectionTestTimestamp: Gauge<'integration'>;
  /** Replaces every findings{status,verdict} series, so that a combination no longer held disappears. */
  setFindings(rows: readonly FindingCountRow[]): void;
}

export interface BridgeMetricsOptions {
  /** Also register prom-client's process metrics (CPU, memory, event loop lag). Default false. */
  defaultMetrics?: boolean;
}

function getOrCreate<T extends Metric>(registry: Registry, name: string, create: () => T): T {
  return (registry.getSingleMetric(name) as T | undefined) ?? create();
}

const created = new WeakMap<Registry, BridgeMetrics>();

export function createBridgeMetrics(registry: Registry, opts: BridgeMetricsOptions = {}): BridgeMetrics {
  if (opts.defaultMetrics && registry.getSingleMetric('process_cpu_user_seconds_total') === undefined) {
    collectDefaultMetrics({register: registry});
  }
  const existing = created.get(registry);
  if (existing) return existing;
  const registers = [registry];

  const findings = getOrCreate(
    registry,
    'egress_advisor_findings',
    () =>
      new Gauge({
        name: 'egress_advisor_findings',
        help: 'Findings held by the bridge, by status and verdict.',
        labelNames: ['status', 'verdict'] as const,
        registers,
      }),
  );

  const metrics: BridgeMetrics = {
    registry,
    linesTotal: getOrCreate(
      registry,
      'egress_advisor_lines_total',
      () => new Counter({name: 'egress_advisor_lines_total', help: 'Access-log lines read, by verdict.', labelNames: ['verdict'] as const, registers}),
    ),
    findings,
    alertsSentTotal: getOrCreate(
      registry,
      'egress_advisor_alerts_sent_total',
      () => new Counter({name: 'egress_advisor_alerts_sent_total', help: 'Alert posts created or updated in Mattermost.', registers}),
    ),
    outboxDepth: getOrCreate(
      registry,
      'egress_advisor_outbox_depth',
      () => new Gauge({name: 'egress_advisor_outbox_depth', help: 'Notifications waiting to be delivered to Mattermost.', registers}),
    ),
    storeOverflow: getOrCreate(
      registry,
      'egress_advisor_store_overflow',
      () =>
        new Gauge({
          name: 'egress_advisor_store_overflow',
          help: 'Since the store was created, at its findings limit: lines and destinations of IP-only destinations not kept (what="lines", "destinations") and junk findings removed to make room (what="evicted").',
          labelNames: ['what'] as const,
          registers,
        }),
    ),
    mattermostUp: getOrCreate(
      registry,
      'egress_advisor_mattermost_up',
      () => new Gauge({name: 'egress_advisor_mattermost_up', help: '1 when the last call to the Mattermost API succeeded, else 0.', registers}),
    ),
    leader: getOrCreate(
      registry,
      'egress_advisor_leader',
      () =>
        new Gauge({
          name: 'egress_advisor_leader',
          help: '1 while this replica leads (reads the Kubernetes log streams, alerts, sets Mattermost up), else 0.',
          registers,
        }),
    ),
    sourceRestartsTotal: getOrCreate(
      registry,
      'egress_advisor_source_restarts_total',
      () =>
        new Counter({
          name: 'egress_advisor_source_restarts_total',
          help: 'Restarts of a log source from its committed resume point after its batch could not be stored.',
          labelNames: ['source'] as const,
          registers,
        }),
    ),
    sourceUp: getOrCreate(
      registry,
      'egress_advisor_source_up',
      () =>
        new Gauge({name: 'egress_advisor_source_up', help: '1 while a log source is following its log, else 0.', labelNames: ['source'] as const, registers}),
    ),
    sourceLastLineTimestamp: getOrCreate(
      registry,
      'egress_advisor_source_last_line_timestamp_seconds',
      () =>
        new Gauge({
          name: 'egress_advisor_source_last_line_timestamp_seconds',
          help: 'When a log source last delivered a line, in seconds since the epoch.',
          labelNames: ['source'] as const,
          registers,
        }),
    ),
    httpRequestDuration: getOrCreate(
      registry,
      'egress_advisor_http_request_duration_seconds',
      () =>
        new Histogram({
          name: 'egress_advisor_http_request_duration_seconds',
          help: 'Time to answer HTTP requests, by route template (never the raw path, which holds keys).',
          labelNames: ['method', 'route', 'status_code'] as const,
          buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
          registers,
        }),
    ),
    mattermostCallbacksTotal: getOrCreate(
      registry,
      'egress_advisor_mattermost_callbacks_total',
      () =>
        new Counter({
          name: 'egress_advisor_mattermost_callbacks_total',
          help: 'Calls the plugin made for Mattermost (slash command, message buttons), by outcome.',
          labelNames: ['kind', 'outcome'] as const,
          registers,
        }),
    ),
    eventStreams: getOrCreate(
      registry,
      'egress_advisor_event_streams',
      () => new Gauge({name: 'egress_advisor_event_streams', help: 'Open Server-Sent Events streams of the webapp.', registers}),
    ),
    connectionTestsTotal: getOrCreate(
      registry,
      'egress_advisor_connection_tests_total',
      () =>
        new Counter({
          name: 'egress_advisor_connection_tests_total',
          help: "Mattermost's own connection tests run by the bridge, by integration, outcome (passed, failed, not-configured, not-available) and trigger (person, after-fix, rehearsal).",
          labelNames: ['integration', 'outcome', 'trigger'] as const,
          registers,
        }),
    ),
    connectionTestPassed: getOrCreate(
      registry,
      'egress_advisor_connection_test_passed',
      () =>
        new Gauge({
          name: 'egress_advisor_connection_test_passed',
          help: '1 when the latest connection test of an integration passed, 0 when it failed.',
          labelNames: ['integration'] as const,
          registers,
        }),
    ),
    connectionTestTimestamp: getOrCreate(
      registry,
      'egress_advisor_connection_test_timestamp_seconds',
      () =>
        new Gauge({
          name: 'egress_advisor_connection_test_timestamp_seconds',
          help: "When an integration's latest connection test finished, in seconds since the epoch.",
          labelNames: ['integration'] as const,
          registers,
        }),
    ),
    setFindings(rows) {
      findings.reset();
      for (const row of rows) findings.inc({status: row.status, verdict: row.verdict}, row.count);
    },
  };
  created.set(registry, metrics);
  return metrics;
}
