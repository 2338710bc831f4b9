/*
 * An in-memory bridge behind a fake fetch, answering the routes of common/api.ts the way the bridge
 * does (filters, ignore/unignore, suggestions and integrations per format, revisions), and Mattermost's post-action
 * route. It records every request so tests can check paths, headers and bodies. It can also play an
 * unrouted path (Mattermost's plain 404), a proxy with the bridge down (502) or a network failure.
 */
import {notRunReport, type ConnectionTestResponse, type RehearsalResponse} from '../../../common/connection-tests';
import type {
  ApiError,
  FindingDetail,
  FindingStatus,
  FindingSummary,
  IntegrationItem,
  IntegrationsResponse,
  StatusReport,
  SuggestionsRequest,
  SuggestionsResponse,
} from '../../../common/api';
import type {Verdict} from '../../../common/types';

export interface RecordedRequest {
  method: string;
  url: string;
  path: string;
  query: URLSearchParams;
  headers: Record<string, string>;
  body: unknown;
  credentials: RequestCredentials | undefined;
}

interface FakeResponseInit {
  status: number;
  contentType?: string;
  body?: unknown;
  text?: string;
}

/** Just what client.ts reads of a Response. */
export function fakeResponse({status, contentType, body, text}: FakeResponseInit): Response {
  const type = contentType ?? (body !== undefined ? 'application/json; charset=utf-8' : 'text/plain; charset=utf-8');
  const raw = body !== undefined ? JSON.stringify(body) : (text ?? '');
  return {
    ok: status >= 200 && status < 300,
    status,
    headers: {get: (name: string) => (name.toLowerCase() === 'content-type' ? type : null)},
    json: async () => JSON.parse(raw) as unknown,
    text: async () => raw,
  } as unknown as Response;
}

let nextId = 1;

export function makeFinding(p: Partial<FindingDetail> & {host?: string | null; ip?: string | null; port?: number} = {}): FindingDetail {
  const host = p.host === undefined ? `host${nextId}.example.com` : p.host;
  const ip = p.ip === undefined ? null : p.ip;
  const port = p.port ?? 443;
  const key = p.key ?? `${host ?? ip}:${port}`;
  nextId++;
  const base: FindingDetail = {
    key,
    destination: {host, ip, port},
    verdict: 'blocked',
    protocol: 'TLS',
    status: 'open',
    count: 10,
    firstSeen: '2026-05-01T10:00:00.000Z',
    lastSeen: '2026-05-01T11:00:00.000Z',
    pods: ['mattermost-0'],
    attribution: {
      host,
      candidates: host ? [host] : [],
      method: host ? 'sni' : 'none',
      confidence: host ? 'certain' : 'unknown',
      note: host ? 'The TLS server name names it.' : 'No host could be named.',
    },
    features: [],
    rejectedHost: null,
    ignored: null,
    createdAt: '2026-05-01T10:00:00.000Z',
    updatedAt: '2026-05-01T11:00:00.000Z',
    statusChangedAt: null,
    resolvedAt: null,
    alertPostId: null,
    revision: 1,
    samples: [
      `[2026-05-01T10:00:00.000Z] "- - -" 0 UH - - - "-" 0 0 0 - "-" "-" "-" "-" "-" BlackHoleCluster - 10.0.0.1:${port} 10.1.0.5:40000 ${host ?? '-'} -`,
    ],
    history: [],
    decisions: [],
    // Plans as the bridge words them (server/engine/suggest/plan.ts).
    plan: host
      ? {
          key,
          action: 'add',
          entries: [`${host.replace(/\./g, '-')}-${port}`],
          allowedBy: null,
          text: `Add the entry \`${host.replace(/\./g, '-')}-${port}\` of the suggested YAML: it allows \`${host}\` on port ${port} (TLS).`,
        }
      : {key, action: 'other-fix', entries: [], allowedBy: null, text: `No ServiceEntry is suggested. No host name is known for ${key}.`},
  };
  const rest: Partial<FindingDetail> & Record<string, unknown> = {...p};
  for (const k of ['host', 'ip', 'port']) delete rest[k];
  return {...base, ...rest, destination: {host, ip, port}};
}

export function makeStatus(p: Partial<StatusReport> = {}): StatusReport {
  return {
    generatedAt: '2026-05-01T12:00:00.000Z',
    bridgeVersion: '0.1.0',
    ready: {ready: true, reasons: [], degraded: []},
    sources: [
      {
        id: 'kubernetes',
        kind: 'kubernetes',
        state: 'following',
        since: '2026-05-01T09:00:00.000Z',
        lastLineAt: '2026-05-01T11:59:00.000Z',
        lines: 1234,
        lastError: null,
        lastErrorAt: null,
        streams: [],
        notices: [],
      },
    ],
    mattermost: {
      outbound: {
        state: 'up',
        url: 'http://mattermost.mattermost.svc.cluster.local:8065',
        checkedAt: '2026-05-01T11:58:00.000Z',
        serverVersion: '11.5.0',
        identity: {userId: 'u1', username: 'egress-advisor', isBot: true},
        error: null,
        problems: [],
      },
      inbound: {
        state: 'connected',
        bridgeUrl: 'http://egress-advisor.mattermost.svc.cluster.local:8080',
        reason: 'The plugin carries every call in, signed with the secret the bridge wrote into its settings.',
        lastCallAt: '2026-05-01T11:59:00.000Z',
      },
    },
    hardening: {state: 'registry-only', evidence: 'BlackHoleCluster lines seen.'},
    mesh: null,
    integrations: {},
    replica: 'sole',
    counts: {byStatus: {open: 0, ignored: 0, resolved: 0}, openByVerdict: {}},
    outboxDepth: 0,
    ...p,
  };
}

export function makeIntegration(p: Partial<IntegrationItem> = {}): IntegrationItem {
  return {
    feature: {id: 'file-storage', name: 'File storage (Amazon S3)', configPath: 'FileSettings.AmazonS3Endpoint'},
    host: 's3.amazonaws.com',
    port: 443,
    enabled: true,
    state: 'will-be-blocked',
    allowedBy: null,
    findings: [],
    detail: 'No ServiceEntry covers it: the first call Mattermost makes to it will be dropped, although none has failed yet.',
    ...p,
  };
}

/** An integrations answer; the suggestions route puts the switched-on ones at risk at the head of its patch. */
export function makeIntegrations(p: Partial<IntegrationsResponse> = {}): IntegrationsResponse {
  return {
    generatedAt: '2026-05-01T12:00:00.000Z',
    mesh: null,
    valuesFile: false,
    items: [],
    rehearsal: notRunReport('ALLOW_ANY', "Istio's default (no Sidecar or mesh config sets a mode)"),
    ...p,
  };
}

function summaryOf(d: FindingDetail): FindingSummary {
  const summary: Partial<FindingDetail> = {...d};
  delete summary.samples;
  delete summary.history;
  delete summary.decisions;
  return summary as FindingSummary;
}

function matches(f: FindingDetail, q: string): boolean {
  const needle = q.toLowerCase();
  const hay = [
    f.key,
    f.destination.host ?? '',
    f.destination.ip ?? '',
    ...f.attribution.candidates,
    ...f.features.map((x) => x.name),
    ...f.pods,
    f.ignored?.reason ?? '',
  ];
  return hay.some((h) => h.toLowerCase().includes(needle));
}

export type BridgeMode = 'ok' | 'not-routed' | 'bridge-down' | 'network';

export class FakeBridge {
  findings: FindingDetail[] = [];
  revision = 1;
  statusReport: StatusReport = makeStatus();
  integrationsReport: IntegrationsResponse = makeIntegrations();
  /** What POST suggestions says it left out, and its notes. */
  leftOut: Pick<SuggestionsResponse, 'skipped' | 'notes'> = {skipped: []};
  /** What POST integrations/test answers; the result is also put first in that kind's history. */
  testAnswer: ConnectionTestResponse | null = null;
  /** What POST integrations/rehearse answers; a rehearsal that ran becomes the report's `rehearsal`. */
  rehearsalAnswer: RehearsalResponse | null = null;
  mode: BridgeMode = 'ok';
  /** Answers a path (without query) with this error instead of the normal answer. */
  failures = new Map<string, {status: number; body: ApiError}>();
  requests: RecordedRequest[] = [];
  readonly apiRoot: string;

  constructor(apiRoot = '/plugins/egress-advisor/api/v1', findings: FindingDetail[] = []) {
    this.apiRoot = apiRoot;
    this.findings = findings;
  }

  /** A change on the bridge's side: bumps the revision. */
  change(key: string, patch: Partial<FindingDetail>): void {
    this.revision++;
    this.findings = this.findings.map((f) => (f.key === key ? {...f, ...patch, revision: this.revision} : f));
  }

  add(f: FindingDetail): void {
    this.revision++;
    this.findings = [...this.findings, {...f, revision: this.revision}];
  }

  requestsTo(path: string, method?: string): RecordedRequest[] {
    return this.requests.filter((r) => r.path === path && (method === undefined || r.method === method));
  }

  private counts(): StatusReport['counts'] {
    const byStatus: Record<FindingStatus, number> = {open: 0, ignored: 0, resolved: 0};
    const openByVerdict: Partial<Record<Verdict, number>> = {};
    for (const f of this.findings) {
      byStatus[f.status]++;
      if (f.status === 'open') openByVerdict[f.verdict] = (openByVerdict[f.verdict] ?? 0) + 1;
    }
    return {byStatus, openByVerdict};
  }

  fetch = async (input: string, init: RequestInit = {}): Promise<Response> => {
    const url = new URL(input, 'http://mm.example.com');
    const method = (init.method ?? 'GET').toUpperCase();
    const headers = {...((init.headers ?? {}) as Record<string, string>)};
    const body = typeof init.body === 'string' ? (JSON.parse(init.body) as unknown) : undefined;
    const rec: RecordedRequest = {method, url: input, path: url.pathname, query: url.searchParams, headers, body, credentials: init.credentials};
    this.requests.push(rec);

    if (this.mode === 'network') throw new TypeError('Failed to fetch');
    if (url.pathname.includes('/api/v4/posts/')) return fakeResponse({status: 200, body: {}});
    if (this.mode === 'not-routed') return fakeResponse({status: 404, text: '404 page not found'});
    if (this.mode === 'bridge-down') return fakeResponse({status: 502, contentType: 'text/html', text: '<html>Bad Gateway</html>'});
    if (!url.pathname.startsWith(`${this.apiRoot}/`)) return fakeResponse({status: 404, text: '404 page not found'});
    const path = url.pathname.slice(this.apiRoot.length + 1);
    const failure = this.failures.get(path);
    if (failure) return fakeResponse({status: failure.status, body: failure.body});
    return this.route(method, path, url.searchParams, body);
  };

  private route(method: string, path: string, query: URLSearchParams, body: unknown): Response {
    if (method === 'GET' && path === 'status') return fakeResponse({status: 200, body: {...this.statusReport, counts: this.counts()}});
    if (method === 'GET' && path === 'integrations') return fakeResponse({status: 200, body: this.integrationsReport});
    if (method === 'POST' && path === 'integrations/test' && this.testAnswer !== null) {
      const answer = this.testAnswer;
      if (answer.ran) {
        const tests = this.integrationsReport.tests ?? [];
        this.integrationsReport = {
          ...this.integrationsReport,
          tests: tests.map((t) => (t.kind === answer.result.kind ? {...t, history: [answer.result, ...t.history]} : t)),
        };
      }
      return fakeResponse({status: 200, body: answer});
    }
    if (method === 'POST' && path === 'integrations/rehearse' && this.rehearsalAnswer !== null) {
      const answer = this.rehearsalAnswer;
      if (answer.ran) this.integrationsReport = {...this.integrationsReport, rehearsal: answer.report};
      return fakeResponse({status: 200, body: answer});
    }
    if (method === 'GET' && path === 'findings/revision') return fakeResponse({status: 200, body: {revision: this.revision}});
    if (method === 'GET' && path === 'findings') {
      const statuses = (query.get('status') ?? '').split(',').filter(Boolean);
      const verdicts = (query.get('verdict') ?? '').split(',').filter(Boolean);
      const q = query.get('q') ?? '';
      const items = this.findings.filter(
        (f) => (statuses.length === 0 || statuses.includes(f.status)) && (verdicts.length === 0 || verdicts.includes(f.verdict)) && (q === '' || matches(f, q)),
      );
      const limit = Number(query.get('limit') ?? 100);
      return fakeResponse({
        status: 200,
        body: {
          items: items.slice(0, limit).map(summaryOf),
          total: items.length,
          limit,
          offset: 0,
          revision: this.revision,
          counts: this.counts(),
          searchTruncated: false,
        },
      });
    }
    if (method === 'POST' && path === 'suggestions') {
      // As the bridge's patch, in a shape easy to assert: "all" heads the switched-on integrations at risk
      // ("- host:port"), then the open findings no integration already holds ("- host"), each under a heading.
      const req = body as SuggestionsRequest;
      const all = req.keys === 'all';
      const keys = req.keys === 'all' ? this.findings.filter((f) => f.status === 'open').map((f) => f.key) : req.keys;
      const atRisk = all
        ? this.integrationsReport.items.filter((i) => i.enabled && i.port !== null && (i.state === 'blocked' || i.state === 'will-be-blocked'))
        : [];
      const held = new Set(atRisk.flatMap((i) => [`${i.host}:${i.port}`, ...i.findings.map((f) => f.key)]));
      const configured = atRisk.map((i) => `${i.host}:${i.port}`);
      const logged = this.findings
        .filter((f) => keys.includes(f.key) && !held.has(f.key) && f.destination.host !== null)
        .map((f) => f.destination.host as string);
      const sections = [
        {id: 'integrations' as const, title: 'Configured integrations that are or will be blocked', entries: configured},
        {id: 'log' as const, title: 'Destinations found in the access log', entries: logged},
      ].filter((sec) => sec.entries.length > 0);
      const yaml =
        sections.length === 0
          ? ''
          : `# format: ${req.format}\n${sections.map((sec) => `# ${sec.title}\n${sec.entries.map((e) => `- ${e}\n`).join('')}`).join('')}`;
      const plans = keys.flatMap((k) => this.findings.find((f) => f.key === k)?.plan ?? []);
      const res: SuggestionsResponse = {format: req.format, yaml, entries: [], ...this.leftOut, plans, sections};
      return fakeResponse({status: 200, body: res});
    }
    const m = /^findings\/([^/]+)(?:\/(ignore|unignore))?$/.exec(path);
    if (m) {
      const key = decodeURIComponent(m[1]);
      const f = this.findings.find((x) => x.key === key);
      if (!f) return fakeResponse({status: 404, body: {error: `No finding with key "${key}".`, code: 'finding_not_found'}});
      if (method === 'GET' && m[2] === undefined) return fakeResponse({status: 200, body: f});
      if (method === 'POST' && m[2] === 'ignore') {
        const reason = (body as {reason?: string} | undefined)?.reason ?? '';
        this.change(key, {status: 'ignored', ignored: {by: {userId: 'u1', username: 'admin'}, reason, at: '2026-05-01T12:00:00.000Z'}});
        return fakeResponse({status: 200, body: summaryOf(this.findings.find((x) => x.key === key)!)});
      }
      if (method === 'POST' && m[2] === 'unignore') {
        this.change(key, {status: 'open', ignored: null});
        return fakeResponse({status: 200, body: summaryOf(this.findings.find((x) => x.key === key)!)});
      }
    }
    return fakeResponse({status: 404, body: {error: 'No such route.', code: 'not_found'}});
  }
}
