// fastify's inject (light-my-request) requires the ESM-only `cookie` package, which jest's CommonJS runtime
// cannot load on Node 20; inject uses it only for its `cookies` option, which these tests do not use.
jest.mock('cookie', () => ({stringifySetCookie: ({name, value}: {name: string; value: string}) => `${name}=${value}`}));

import type {FastifyInstance} from 'fastify';
import {Registry} from 'prom-client';

import {buildHttpApp} from './app';
import {createBridgeMetrics} from './metrics';
import {API, KEYS, signed, seededStore, testDeps, type TestDeps, type TestStore} from './testing/fixtures';

let db: TestStore;
let deps: TestDeps;
let app: FastifyInstance;

beforeEach(async () => {
  db = await seededStore();
  deps = testDeps(db.store);
  app = buildHttpApp(deps);
  await app.ready();
});

afterEach(async () => {
  await app.close();
  await db.cleanup();
});

describe('probes', () => {
  test('healthz answers while the process lives, whatever readiness says', async () => {
    deps.readiness.ready = false;
    const res = await app.inject({method: 'GET', url: '/healthz'});
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({status: 'ok'});
  });

  test('readyz is 200 when ready and 503 with the reasons when not', async () => {
    expect((await app.inject({method: 'GET', url: '/readyz'})).json()).toEqual({ready: true, reasons: [], degraded: []});
    deps.readiness.ready = false;
    deps.readiness.reasons = ['store not open', 'no source started'];
    const res = await app.inject({method: 'GET', url: '/readyz'});
    expect(res.statusCode).toBe(503);
    expect(res.json()).toEqual({
      ready: false,
      reasons: ['store not open', 'no source started'],
      degraded: [],
      code: 'not_ready',
      error: 'Not ready: store not open; no source started',
    });
  });

  test('a degraded bridge (a broken Mattermost link) stays ready and says what is wrong in the body', async () => {
    deps.readiness.degraded = ['mattermost: the token was rejected (HTTP 401).'];
    const res = await app.inject({method: 'GET', url: '/readyz'});
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ready: true, reasons: [], degraded: ['mattermost: the token was rejected (HTTP 401).']});
  });

  test('a throwing readiness check is "not ready", not a crash', async () => {
    deps.ready = () => {
      throw new Error('x');
    };
    const res = await app.inject({method: 'GET', url: '/readyz'});
    expect(res.statusCode).toBe(503);
  });

  test('probes need no session', async () => {
    for (const url of ['/healthz', '/readyz', '/metrics']) {
      expect((await app.inject({method: 'GET', url})).statusCode).toBe(200);
    }
  });
});

describe('metrics', () => {
  test('GET /metrics serves the bridge metrics in the Prometheus text format, with request durations by route', async () => {
    const m = createBridgeMetrics(deps.metrics);
    m.linesTotal.inc({verdict: 'blocked'}, 3);
    m.sourceUp.set({source: 'file'}, 1);
    m.sourceLastLineTimestamp.set({source: 'file'}, 1_714_557_600);
    m.mattermostUp.set(1);
    m.outboxDepth.set(2);
    m.alertsSentTotal.inc();
    m.setFindings([
      {status: 'open', verdict: 'blocked', count: 3},
      {status: 'open', verdict: 'passthrough', count: 1},
    ]);
    await app.inject(signed('GET', `${API}/findings/${encodeURIComponent(KEYS.v6)}`));

    const res = await app.inject({method: 'GET', url: '/metrics'});
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toBe(deps.metrics.contentType);
    const text = res.body;
    for (const line of [
      'egress_advisor_lines_total{verdict="blocked"} 3',
      'egress_advisor_findings{status="open",verdict="blocked"} 3',
      'egress_advisor_findings{status="open",verdict="passthrough"} 1',
      'egress_advisor_alerts_sent_total 1',
      'egress_advisor_outbox_depth 2',
      'egress_advisor_mattermost_up 1',
      'egress_advisor_source_up{source="file"} 1',
      'egress_advisor_source_last_line_timestamp_seconds{source="file"} 1714557600',
    ]) {
      expect(text).toContain(line);
    }
    expect(text).toMatch(
      /egress_advisor_http_request_duration_seconds_count\{method="GET",route="\/plugins\/egress-advisor\/api\/v1\/findings\/:key",status_code="200"\} 1/,
    );
    // Keys never become label values.
    expect(text).not.toContain('2001:db8');
  });

  test('setFindings replaces what was there', async () => {
    const m = createBridgeMetrics(deps.metrics);
    m.setFindings([{status: 'open', verdict: 'blocked', count: 3}]);
    m.setFindings([{status: 'ignored', verdict: 'blocked', count: 1}]);
    const text = await deps.metrics.getSingleMetricAsString('egress_advisor_findings');
    expect(text).toContain('egress_advisor_findings{status="ignored",verdict="blocked"} 1');
    expect(text).not.toContain('status="open"');
  });

  test('creating the metrics again on one registry hands out the same handles', () => {
    const registry = new Registry();
    const a = createBridgeMetrics(registry);
    const b = createBridgeMetrics(registry, {defaultMetrics: true});
    expect(b).toBe(a);
    expect(registry.getSingleMetric('process_cpu_user_seconds_total')).toBeDefined();
    expect(() => createBridgeMetrics(registry, {defaultMetrics: true})).not.toThrow();
  });

  test('an app built on a registry that already has the metrics reuses them', async () => {
    const registry = new Registry();
    const m = createBridgeMetrics(registry);
    const other = buildHttpApp(testDeps(db.store, {metrics: registry}));
    try {
      await other.inject({method: 'GET', url: '/healthz'});
      expect(registry.getSingleMetric('egress_advisor_http_request_duration_seconds')).toBe(m.httpRequestDuration);
    } finally {
      await other.close();
    }
  });
});
