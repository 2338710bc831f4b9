// Shared by the HTTP layer's tests: a real SQLite store with a few findings, calls signed the way the
// plugin signs them, handlers that record their calls, and a logger whose output the test can read.
import {EventEmitter} from 'node:events';
import {mkdtempSync, rmSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {Writable} from 'node:stream';

import pino, {type Logger} from 'pino';
import {Registry} from 'prom-client';

import type {IntegrationsResponse, StatusReport, SuggestionsResponse} from '../../../common/api';
import {openSqliteStore, type Observation, type SqliteStore} from '../../store';
import {signatureHeaders, type Caller} from '../signature';
import type {ActionRequest, HttpDeps, PluginSettings, SlashCommandRequest} from '../types';
import {suggestionsFor} from '../../bridge/suggestions';

/** The secret plugin and bridge share in these tests (the bridge makes a random one). */
export const PLUGIN_SECRET = 'dGVzdC1wbHVnaW4tc2VjcmV0LTAxMjM0NTY3ODlhYmNkZWY';

/** The system admin the plugin forwards calls for (the plugin checked manage_system). */
export const ADMIN: Caller = {userId: 'uadmin00000000000000000000', username: 'alice'};

export interface SignedOptions {
  payload?: unknown;
  /** Default ADMIN; null for the plugin's own calls. */
  caller?: Caller | null;
  /** Unix seconds of the signature. Default now. */
  at?: number;
  secret?: string;
  headers?: Record<string, string>;
}

/** inject() options of a call as the plugin makes it: JSON body as bytes, signed over all of it. */
export function signed(method: 'GET' | 'POST' | 'PUT' | 'DELETE', url: string, opts: SignedOptions = {}) {
  const body = opts.payload === undefined ? '' : typeof opts.payload === 'string' ? opts.payload : JSON.stringify(opts.payload);
  const caller = opts.caller === undefined ? ADMIN : (opts.caller ?? {userId: '', username: ''});
  const headers: Record<string, string> = {
    ...signatureHeaders(opts.secret ?? PLUGIN_SECRET, {method, target: url, ...caller, body: Buffer.from(body), unixSeconds: opts.at}),
    ...(body === '' ? {} : {'content-type': 'application/json'}),
    ...opts.headers,
  };
  return {method, url, headers, ...(body === '' ? {} : {payload: body})};
}

export const KEYS = {
  push: 'push.mattermost.com:443',
  ip: '52.1.2.3:443',
  v6: '[2001:db8::1]:443',
  s3: 's3.amazonaws.com:443',
};

/** An hour inside the store's history retention (history older than 30 days is pruned). */
export const RECENT_HOUR = new Date(Math.floor(Date.now() / 3_600_000) * 3_600_000 - 3_600_000).toISOString();
const RECENT_LAST = new Date(Date.parse(RECENT_HOUR) + 5_000).toISOString();

function observation(key: string, extra: Partial<Observation>): Observation {
  const port = Number(/:(\d+)$/.exec(key)?.[1] ?? 443);
  const addr = key.replace(/:\d+$/, '').replace(/^\[|\]$/g, '');
  const isName = /[a-z]/i.test(addr) && !addr.includes(':');
  return {
    key,
    destination: {host: isName ? addr : null, ip: isName ? null : addr, port},
    verdict: 'blocked',
    protocol: 'TLS',
    count: 3,
    firstSeen: RECENT_HOUR,
    lastSeen: RECENT_LAST,
    pods: ['mattermost-0'],
    samples: [`[${RECENT_LAST}] "- - -" 0 UH - BlackHoleCluster ${key}`],
    ...extra,
  };
}

export interface TestStore {
  store: SqliteStore;
  cleanup(): Promise<void>;
}

export async function seededStore(): Promise<TestStore> {
  const dir = mkdtempSync(join(tmpdir(), 'egress-http-'));
  const store = openSqliteStore(join(dir, 'store.db'));
  await store.applyBatch({
    sourceId: 'test',
    position: 'p1',
    observations: [
      observation(KEYS.push, {
        count: 40,
        features: [{id: 'push', name: 'Push notifications', configPath: 'EmailSettings.PushNotificationServer'}],
      }),
      observation(KEYS.ip, {count: 7, pods: ['mattermost-1']}),
      observation(KEYS.v6, {count: 2}),
      observation(KEYS.s3, {verdict: 'passthrough', count: 12}),
    ],
  });
  return {
    store,
    async cleanup() {
      await store.close();
      rmSync(dir, {recursive: true, force: true});
    },
  };
}

export interface CapturedLog {
  logger: Logger;
  /** Everything written so far, one JSON line per entry. */
  text(): string;
  entries(): Record<string, unknown>[];
}

export function captureLogger(level = 'trace'): CapturedLog {
  const chunks: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, cb) {
      chunks.push(chunk.toString('utf8'));
      cb();
    },
  });
  // A plain parent without redaction: the HTTP layer must bring its own.
  const logger = pino({level}, sink);
  return {
    logger,
    text: () => chunks.join(''),
    entries: () =>
      chunks
        .join('')
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l) as Record<string, unknown>),
  };
}

export function sampleStatus(): StatusReport {
  return {
    generatedAt: '2024-05-01T10:00:00.000Z',
    bridgeVersion: '0.1.0',
    ready: {ready: true, reasons: [], degraded: []},
    sources: [
      {
        id: 'file:/var/log/istio-proxy.log',
        kind: 'file',
        state: 'following',
        since: '2024-05-01T09:00:00.000Z',
        lastLineAt: '2024-05-01T09:59:58.000Z',
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
        url: 'http://mattermost:8065',
        checkedAt: '2024-05-01T09:59:00.000Z',
        serverVersion: '11.5.0',
        identity: {userId: 'u-bot', username: 'egress-advisor', isBot: true},
        error: null,
        problems: [],
      },
      inbound: {
        state: 'connected',
        bridgeUrl: 'http://egress-advisor.mattermost.svc.cluster.local:8080',
        reason: 'The plugin carries every call in.',
        lastCallAt: '2024-05-01T09:59:30.000Z',
      },
    },
    hardening: {state: 'registry-only', evidence: 'BlackHoleCluster lines seen'},
    mesh: {
      namespace: 'mattermost',
      ready: true,
      outboundMode: 'REGISTRY_ONLY',
      modeSource: 'Sidecar mattermost/default',
      allowedHosts: 2,
      notes: [],
    },
    integrations: {'will-be-blocked': 1, allowed: 2},
    replica: 'sole',
    counts: {byStatus: {open: 4, ignored: 0, resolved: 0}, openByVerdict: {blocked: 3, passthrough: 1}},
    outboxDepth: 0,
  };
}

export function sampleIntegrations(): Omit<IntegrationsResponse, 'tests' | 'rehearsal'> {
  const smtp = {id: 'email', name: 'Email (SMTP)', configPath: 'EmailSettings.SMTPServer'};
  return {
    generatedAt: '2024-05-01T10:00:00.000Z',
    mesh: sampleStatus().mesh,
    valuesFile: false,
    items: [
      {
        feature: smtp,
        host: 'smtp.example.com',
        port: 587,
        enabled: true,
        state: 'will-be-blocked',
        allowedBy: null,
        findings: [],
        detail: 'No ServiceEntry covers it.',
      },
      {
        feature: {id: 'push', name: 'Push notifications', configPath: 'EmailSettings.PushNotificationServer'},
        host: 'push.mattermost.com',
        port: 443,
        enabled: true,
        state: 'allowed',
        allowedBy: 'ServiceEntry mattermost/push',
        findings: [],
        detail: 'ServiceEntry mattermost/push lets it out.',
      },
    ],
  };
}

export interface TestDeps extends HttpDeps {
  settings: PluginSettings[];
  commands: SlashCommandRequest[];
  actions: ActionRequest[];
  suggestCalls: Array<{keys: string[] | 'all'; format: string}>;
  /** How often the integrations were read. */
  integrationsCalls: number;
  emitter: EventEmitter;
  log: CapturedLog;
  readiness: {ready: boolean; reasons: string[]; degraded: string[]};
}

export function testDeps(store: HttpDeps['store'], overrides: Partial<HttpDeps> = {}): TestDeps {
  const settings: PluginSettings[] = [];
  const commands: SlashCommandRequest[] = [];
  const actions: ActionRequest[] = [];
  const suggestCalls: TestDeps['suggestCalls'] = [];
  const emitter = new EventEmitter();
  const log = captureLogger();
  const readiness = {ready: true, reasons: [] as string[], degraded: [] as string[]};
  const deps: TestDeps = {
    store,
    pluginSecret: () => PLUGIN_SECRET,
    settings,
    commands,
    actions,
    suggestCalls,
    integrationsCalls: 0,
    emitter,
    log,
    readiness,
    status: async () => sampleStatus(),
    integrations: async () => {
      deps.integrationsCalls += 1;
      return sampleIntegrations();
    },
    // The real suggestion stage over the test's store, as the bridge wires it (no values, no mesh).
    suggest: async (keys, format): Promise<SuggestionsResponse> => {
      suggestCalls.push({keys, format});
      return suggestionsFor(store, keys, format, {});
    },
    suggestionFormat: () => 'bigbang',
    onSlashCommand: async (req) => {
      commands.push(req);
      return {response_type: 'ephemeral', text: `you said ${req.text}`};
    },
    onAction: async (req) => {
      actions.push(req);
      return {ephemeral_text: 'done'};
    },
    onPluginSettings: (raw) => {
      settings.push(raw);
    },
    metrics: new Registry(),
    ready: () => ({...readiness, reasons: [...readiness.reasons], degraded: [...readiness.degraded]}),
    events: emitter,
    logger: log.logger,
    ...overrides,
  };
  return deps;
}

export const API = '/plugins/egress-advisor/api/v1';
