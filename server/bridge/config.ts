// The bridge's configuration: environment variables, optionally a YAML/JSON file, and defaults that let
// `npm start` run with nothing set (SQLite in ./data, the shipped sample log, no Mattermost).
import {existsSync, readFileSync} from 'node:fs';
import {dirname, join, resolve} from 'node:path';
import {parse} from 'yaml';
import {SUGGESTION_FORMATS, type SuggestionFormat} from '../../common/types';
import {notValuesFile, VALUES_FILE_EXPECTED} from '../engine/suggest/values';

export interface SourceSpec {
  kind: 'file' | 'stdin' | 'kubernetes';
  /** Which log: the istio-proxy access log, or Mattermost's own log (for naming IP-only destinations). */
  log: 'proxy' | 'app';
  path?: string;
  /** kubernetes: the namespace (null: the kubeconfig context's) and the Mattermost pods' label selector. */
  namespace?: string | null;
  selector?: string;
}

export interface BridgeConfig {
  listenHost: string;
  listenPort: number;
  dataDir: string;
  /**
   * postgres://… of a shared store: then the store is PostgreSQL, several replicas may run, and one of them
   * (the holder of an advisory lock) leads. Null: SQLite in dataDir, and this process always leads.
   */
  databaseUrl: string | null;
  sources: SourceSpec[];
  /** True when no source was configured and the shipped sample stands in. */
  sampleSources: boolean;
  mattermost: {
    url: string | null;
    token: string | null;
    team: string | null;
    channel: string;
    channelPrivate: boolean;
  } | null;
  /** The URL Mattermost uses to reach the bridge (slash command, buttons): its in-cluster Service URL. */
  publicUrl: string;
  digestSeconds: number;
  /** At most one thread reply per alert post in this many seconds (more traffic on announced destinations). */
  updateSeconds: number;
  /** A destination a ServiceEntry now covers is resolved once this long has passed without a blocked line. */
  resolveSeconds: number;
  /** No integration's connection test runs more often than this (see connection-tests.ts). */
  testIntervalSeconds: number;
  format: SuggestionFormat;
  valuesFile: string | null;
  hostsFile: string | null;
  /** Without a Mattermost connection: its configuration and outgoing webhooks from files, to name features. */
  mattermostConfigFile: string | null;
  webhooksFile: string | null;
  /** How the Kubernetes source reads what the mesh allows. */
  mesh: {
    /** Istio's root namespace: the mesh-wide Sidecar and the mesh config live there. */
    rootNamespace: string;
    /** The ConfigMap holding the mesh config in rootNamespace; null to not read it. */
    configMap: string | null;
    /** Read ServiceEntries of every namespace (needs a ClusterRole); false: only Mattermost's own. */
    clusterWide: boolean;
  };
  logLevel: string;
}

/** Every setting: environment variable, file key, default, and what it is for. README's table comes from here. */
export const SETTINGS = [
  ['EGRESS_ADVISOR_LISTEN', 'listen', '127.0.0.1:8080', 'host:port the HTTP server listens on (0.0.0.0:8080 in a pod)'],
  ['EGRESS_ADVISOR_DATA_DIR', 'dataDir', './data', 'folder of the SQLite store'],
  [
    'EGRESS_ADVISOR_DATABASE_URL',
    'databaseUrl',
    '(none: SQLite in the data folder)',
    'postgres://user:password@host:5432/db: the store in PostgreSQL, shared by several replicas of which one leads (reads the logs, alerts, sets Mattermost up) — or EGRESS_ADVISOR_DATABASE_URL_FILE',
  ],
  [
    'EGRESS_ADVISOR_SOURCES',
    'sources',
    '(the shipped sample log)',
    "comma-separated log sources: file:/path (istio-proxy access log), app:/path (Mattermost's own log), stdin, kubernetes:<namespace>?selector=app=mattermost (every matching pod's istio-proxy and mattermost logs, in-cluster or kubeconfig credentials; also reads the ServiceEntries and Sidecars that apply)",
  ],
  ['MATTERMOST_URL', 'mattermost.url', '(none: run without Mattermost)', 'Mattermost site URL, e.g. http://mattermost.mattermost.svc.cluster.local:8065'],
  ['MATTERMOST_TOKEN', 'mattermost.token', '(none)', 'personal access token of a system admin (set-up) — or MATTERMOST_TOKEN_FILE'],
  ['EGRESS_ADVISOR_TEAM', 'mattermost.team', '(the first team)', 'team (name) for the admin channel and /egress'],
  ['EGRESS_ADVISOR_CHANNEL', 'mattermost.channel', 'egress-advisor', 'admin channel name'],
  ['EGRESS_ADVISOR_CHANNEL_PRIVATE', 'mattermost.channelPrivate', 'true', 'create the admin channel as private'],
  [
    'EGRESS_ADVISOR_PUBLIC_URL',
    'publicUrl',
    'http://<listen>',
    "the bridge URL as the plugin reaches it from Mattermost's pods (written into the plugin's settings)",
  ],
  ['EGRESS_ADVISOR_DIGEST_SECONDS', 'digestSeconds', '30', 'new blocked destinations are gathered this long into one alert post'],
  [
    'EGRESS_ADVISOR_UPDATE_SECONDS',
    'updateSeconds',
    '600',
    'more traffic on destinations an alert announced becomes at most one reply in its thread per this many seconds',
  ],
  [
    'EGRESS_ADVISOR_RESOLVE_SECONDS',
    'resolveSeconds',
    '60',
    'a finding is marked resolved once a ServiceEntry in the mesh covers it and no connection to it has been blocked for this many seconds after the entry appeared (it reopens if one is)',
  ],
  [
    'EGRESS_ADVISOR_TEST_INTERVAL_SECONDS',
    'testIntervalSeconds',
    '300',
    "no integration is tested with Mattermost's own connection test more often than this (on demand, after a fix, or in the ALLOW_ANY rehearsal)",
  ],
  ['EGRESS_ADVISOR_FORMAT', 'format', 'bigbang', `suggestion format in alerts: ${SUGGESTION_FORMATS.join(', ')}`],
  ['EGRESS_ADVISOR_VALUES_FILE', 'valuesFile', '(none)', 'your Big Bang values: suggestions leave out what it already allows'],
  ['EGRESS_ADVISOR_HOSTS_FILE', 'hostsFile', "(none; the sample's with the sample log)", 'hosts-file addresses for configured hosts, instead of DNS'],
  [
    'EGRESS_ADVISOR_MATTERMOST_CONFIG',
    'mattermostConfigFile',
    "(none; the sample's with the sample log)",
    'a Mattermost config.json, used when MATTERMOST_URL is not set',
  ],
  [
    'EGRESS_ADVISOR_WEBHOOKS_FILE',
    'webhooksFile',
    "(none; the sample's with the sample log)",
    'outgoing webhooks as GET /api/v4/hooks/outgoing returns them, when MATTERMOST_URL is not set',
  ],
  [
    'EGRESS_ADVISOR_ISTIO_NAMESPACE',
    'mesh.rootNamespace',
    'istio-system',
    "Istio's root namespace (mesh-wide Sidecar, mesh config), read with a kubernetes source",
  ],
  [
    'EGRESS_ADVISOR_MESH_CONFIGMAP',
    'mesh.configMap',
    'istio',
    'ConfigMap of the mesh config in the root namespace (istio-<revision> for a revisioned install; "none" to not read it)',
  ],
  [
    'EGRESS_ADVISOR_MESH_CLUSTER_WIDE',
    'mesh.clusterWide',
    'true',
    "read the ServiceEntries of every namespace, since others may export theirs to Mattermost (needs a ClusterRole; falls back to Mattermost's namespace when refused)",
  ],
  ['LOG_LEVEL', 'logLevel', 'info', 'pino log level'],
  ['EGRESS_ADVISOR_CONFIG', '', '(none)', 'a YAML or JSON file with the keys above; environment variables win'],
] as const;

/** A setting the bridge cannot run with: its message is one line naming the setting, the value and an example. */
export class ConfigError extends Error {}

/** Printable on one line, and short: a value can be anything someone pasted. */
function shown(value: string): string {
  const one = JSON.stringify(value.length > 200 ? `${value.slice(0, 200)}…` : value);
  return one;
}

function invalid(name: string, value: string, what: string, example: string): ConfigError {
  return new ConfigError(`${name}=${shown(value)} ${what}; for example ${name}=${example}`);
}

/** An http(s) URL with a host: what Mattermost's site URL and the bridge's public URL must be. */
function httpUrl(name: string, value: string, example: string): string {
  let u: URL | null;
  try {
    u = new URL(value);
  } catch {
    u = null;
  }
  if (u === null || (u.protocol !== 'http:' && u.protocol !== 'https:') || u.hostname === '') {
    throw invalid(name, value, 'is not an http:// or https:// URL', example);
  }
  if (u.username !== '' || u.password !== '') throw invalid(name, '(a URL with credentials)', 'must not carry a user or password', example);
  if (u.search !== '' || u.hash !== '') throw invalid(name, value, 'must not have a query or fragment', example);
  return value.replace(/\/+$/, '');
}

/** Kubernetes object and namespace names (RFC 1123 labels). */
const DNS_LABEL = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;
/** Mattermost team and channel names. */
const MATTERMOST_NAME = /^[a-z0-9]([a-z0-9_-]{0,62}[a-z0-9])?$/;
const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

/** The checkout or package folder: the one holding server/sample, whether running from source or from lib/. */
function projectRoot(): string {
  let dir = __dirname;
  for (let i = 0; i < 5; i++) {
    if (existsSync(join(dir, 'server', 'sample'))) return dir;
    dir = dirname(dir);
  }
  return resolve(__dirname, '..', '..');
}

const ROOT = projectRoot();
export const SAMPLE_PROXY_LOG = join(ROOT, 'server', 'sample', 'istio-proxy.log');
export const SAMPLE_APP_LOG = join(ROOT, 'server', 'sample', 'mattermost.log');
const SAMPLE = (name: string): string => join(ROOT, 'server', 'sample', name);

type Env = Record<string, string | undefined>;

function fileSettings(env: Env): Record<string, unknown> {
  const path = env.EGRESS_ADVISOR_CONFIG;
  if (!path) return {};
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw invalid(
      'EGRESS_ADVISOR_CONFIG',
      path,
      `cannot be read (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`,
      '/etc/egress-advisor/config.yaml',
    );
  }
  let doc: unknown;
  try {
    doc = parse(text);
  } catch (err) {
    throw invalid('EGRESS_ADVISOR_CONFIG', path, `is not valid YAML or JSON (${(err as Error).message.split('\n')[0]})`, '/etc/egress-advisor/config.yaml');
  }
  if (doc === null || typeof doc !== 'object' || Array.isArray(doc))
    throw invalid('EGRESS_ADVISOR_CONFIG', path, 'does not hold a mapping of settings', '/etc/egress-advisor/config.yaml');
  return doc as Record<string, unknown>;
}

function pick(env: Env, file: Record<string, unknown>, envName: string, fileKey: string): string | undefined {
  const fromEnv = env[envName];
  if (fromEnv !== undefined && fromEnv !== '') return fromEnv;
  let v: unknown = file;
  for (const part of fileKey.split('.')) v = v !== null && typeof v === 'object' ? (v as Record<string, unknown>)[part] : undefined;
  if (v === undefined || v === null) return undefined;
  return Array.isArray(v) ? v.join(',') : String(v);
}

/** The Kubernetes source follows every Mattermost pod's istio-proxy and mattermost containers. */
function kubernetesSpec(rest: string): SourceSpec {
  const [ns, query = ''] = rest.split('?', 2);
  const params = new URLSearchParams(query);
  const unknown = [...params.keys()].filter((k) => k !== 'selector');
  if (unknown.length > 0) {
    throw invalid(
      'EGRESS_ADVISOR_SOURCES',
      `kubernetes:${rest}`,
      `has unknown option(s) ${unknown.join(', ')} (only selector=…)`,
      'kubernetes:mattermost?selector=app=mattermost',
    );
  }
  if (ns !== '' && !DNS_LABEL.test(ns))
    throw invalid(
      'EGRESS_ADVISOR_SOURCES',
      `kubernetes:${rest}`,
      `names "${ns}", which is not a namespace name`,
      'kubernetes:mattermost?selector=app=mattermost',
    );
  return {kind: 'kubernetes', log: 'proxy', namespace: ns === '' ? null : ns, selector: params.get('selector') ?? 'app=mattermost'};
}

export function parseSources(spec: string): SourceSpec[] {
  // Sources are comma-separated, but a label selector may itself hold commas: split only before a scheme.
  return spec
    .split(/,(?=\s*(?:file:|app:|kubernetes:|stdin\b|-\s*(?:,|$)))/)
    .map((s) => s.trim())
    .filter(Boolean)
    .map((s): SourceSpec => {
      if (s === 'stdin' || s === '-') return {kind: 'stdin', log: 'proxy'};
      if (s.startsWith('kubernetes:')) return kubernetesSpec(s.slice('kubernetes:'.length));
      const m = /^(file|app):(.+)$/.exec(s);
      if (!m) throw invalid('EGRESS_ADVISOR_SOURCES', s, 'is not file:/path, app:/path, stdin or kubernetes:<namespace>', 'file:/var/log/istio-proxy.log');
      return {kind: 'file', log: m[1] === 'app' ? 'app' : 'proxy', path: m[2]};
    });
}

/** A secret mounted as a file (the chart never puts secrets in the environment); null when not set. */
function secretFile(env: Env, name: string): string | null {
  const path = env[name];
  if (!path) return null;
  try {
    return readFileSync(path, 'utf8').trim();
  } catch (err) {
    throw invalid(name, path, `cannot be read (${(err as Error).message})`, '/var/run/secrets/egress-advisor/token');
  }
}

/** A file the bridge reads at start: a path that cannot be read is a mistake, not an empty file. */
function readableFile(name: string, path: string | undefined, example: string): string | null {
  if (path === undefined) return null;
  try {
    readFileSync(path);
  } catch (err) {
    throw invalid(name, path, `cannot be read (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`, example);
  }
  return path;
}

/** A values file that is not one (a passwd file, Mattermost's config.json) is a wrong setting, as for --values. */
function valuesFile(path: string | null): string | null {
  if (path === null) return null;
  const problem = notValuesFile(readFileSync(path, 'utf8'));
  if (problem !== null)
    throw invalid('EGRESS_ADVISOR_VALUES_FILE', path, `is not a values file: ${problem}. Expected ${VALUES_FILE_EXPECTED}`, '/etc/egress-advisor/values.yaml');
  return path;
}

function bool(v: string | undefined, name: string, dflt: boolean): boolean {
  if (v === undefined) return dflt;
  if (/^(1|true|yes|on)$/i.test(v)) return true;
  if (/^(0|false|no|off)$/i.test(v)) return false;
  throw invalid(name, v, 'is not true or false', 'true');
}

export function loadConfig(env: Env = process.env): BridgeConfig {
  const file = fileSettings(env);
  const get = (envName: string, key: string): string | undefined => pick(env, file, envName, key);

  const listen = get('EGRESS_ADVISOR_LISTEN', 'listen') ?? '127.0.0.1:8080';
  const colon = listen.lastIndexOf(':');
  const listenPort = Number(listen.slice(colon + 1));
  if (colon <= 0 || !/^\d+$/.test(listen.slice(colon + 1)) || listenPort > 65535) {
    throw invalid('EGRESS_ADVISOR_LISTEN', listen, 'is not host:port', '0.0.0.0:8080');
  }
  const listenHost = listen.slice(0, colon);

  const sourcesSpec = get('EGRESS_ADVISOR_SOURCES', 'sources');
  const sources = sourcesSpec
    ? parseSources(sourcesSpec)
    : [
        {kind: 'file' as const, log: 'proxy' as const, path: SAMPLE_PROXY_LOG},
        {kind: 'file' as const, log: 'app' as const, path: SAMPLE_APP_LOG},
      ];

  const rawUrl = get('MATTERMOST_URL', 'mattermost.url');
  const url = rawUrl === undefined ? null : httpUrl('MATTERMOST_URL', rawUrl, 'http://mattermost.mattermost.svc.cluster.local:8065');
  const token = get('MATTERMOST_TOKEN', 'mattermost.token') ?? secretFile(env, 'MATTERMOST_TOKEN_FILE');
  if (url !== null && token === null)
    throw new ConfigError(
      'MATTERMOST_URL is set but MATTERMOST_TOKEN (or MATTERMOST_TOKEN_FILE) is not; for example MATTERMOST_TOKEN_FILE=/var/run/secrets/egress-advisor/token',
    );
  // Never shown: it is a secret.
  if (token !== null && !/^[A-Za-z0-9_-]{8,128}$/.test(token)) {
    throw new ConfigError(
      `MATTERMOST_TOKEN (${token.length} characters, not shown) is not a Mattermost access token, which is letters and digits only; for example MATTERMOST_TOKEN=8xk3q7n5ytgwzbhqk1mhdn8r3e`,
    );
  }

  const databaseUrl = get('EGRESS_ADVISOR_DATABASE_URL', 'databaseUrl') ?? secretFile(env, 'EGRESS_ADVISOR_DATABASE_URL_FILE');
  if (databaseUrl !== null) {
    let ok = /^postgres(ql)?:\/\//.test(databaseUrl);
    try {
      ok &&= new URL(databaseUrl).hostname !== '';
    } catch {
      ok = false;
    }
    // The URL may carry a password: show only where it points.
    if (!ok)
      throw invalid(
        'EGRESS_ADVISOR_DATABASE_URL',
        safeDatabaseUrl(databaseUrl),
        'is not a postgres:// or postgresql:// URL',
        'postgres://egress:secret@postgres.db.svc:5432/egress',
      );
  }

  const seconds = (envName: string, key: string, dflt: number): number => {
    const raw = get(envName, key);
    const n = Number(raw ?? dflt);
    if (raw !== undefined && (!/^\d+(\.\d+)?$/.test(raw.trim()) || !Number.isFinite(n)))
      throw invalid(envName, raw, 'is not a number of seconds, 0 or more', String(dflt));
    return n;
  };
  const digestSeconds = seconds('EGRESS_ADVISOR_DIGEST_SECONDS', 'digestSeconds', 30);
  const updateSeconds = seconds('EGRESS_ADVISOR_UPDATE_SECONDS', 'updateSeconds', 600);
  const resolveSeconds = seconds('EGRESS_ADVISOR_RESOLVE_SECONDS', 'resolveSeconds', 60);
  const testIntervalSeconds = seconds('EGRESS_ADVISOR_TEST_INTERVAL_SECONDS', 'testIntervalSeconds', 300);
  const format = (get('EGRESS_ADVISOR_FORMAT', 'format') ?? 'bigbang') as SuggestionFormat;
  if (!SUGGESTION_FORMATS.includes(format)) throw invalid('EGRESS_ADVISOR_FORMAT', format, `is not one of ${SUGGESTION_FORMATS.join(', ')}`, 'bigbang');
  const name = (envName: string, key: string, pattern: RegExp, what: string, example: string): string | undefined => {
    const v = get(envName, key);
    if (v !== undefined && !pattern.test(v)) throw invalid(envName, v, `is not ${what}`, example);
    return v;
  };
  const team = name('EGRESS_ADVISOR_TEAM', 'mattermost.team', MATTERMOST_NAME, 'a Mattermost team name (lower-case letters, digits, - and _)', 'platform');
  const channel = name(
    'EGRESS_ADVISOR_CHANNEL',
    'mattermost.channel',
    MATTERMOST_NAME,
    'a Mattermost channel name (lower-case letters, digits, - and _)',
    'egress-advisor',
  );
  const rootNamespace = name('EGRESS_ADVISOR_ISTIO_NAMESPACE', 'mesh.rootNamespace', DNS_LABEL, 'a namespace name', 'istio-system');
  const configMapName = get('EGRESS_ADVISOR_MESH_CONFIGMAP', 'mesh.configMap');
  if (configMapName !== undefined && !/^(none|-)$/i.test(configMapName) && !/^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$/.test(configMapName)) {
    throw invalid('EGRESS_ADVISOR_MESH_CONFIGMAP', configMapName, 'is not a ConfigMap name (or none)', 'istio-1-24');
  }
  const logLevel = get('LOG_LEVEL', 'logLevel') ?? 'info';
  if (!LOG_LEVELS.includes(logLevel)) throw invalid('LOG_LEVEL', logLevel, `is not one of ${LOG_LEVELS.join(', ')}`, 'info');
  const rawPublicUrl = get('EGRESS_ADVISOR_PUBLIC_URL', 'publicUrl');
  const publicUrl =
    rawPublicUrl === undefined
      ? `http://${listenHost === '0.0.0.0' ? '127.0.0.1' : listenHost}:${listenPort}`
      : httpUrl('EGRESS_ADVISOR_PUBLIC_URL', rawPublicUrl, 'http://egress-advisor.mattermost.svc.cluster.local:8080');
  const readable = (envName: string, key: string, example: string): string | null => readableFile(envName, get(envName, key), example);

  return {
    listenHost,
    listenPort,
    dataDir: get('EGRESS_ADVISOR_DATA_DIR', 'dataDir') ?? './data',
    databaseUrl,
    sources,
    sampleSources: !sourcesSpec,
    mattermost:
      url === null
        ? null
        : {
            url,
            token,
            team: team ?? null,
            channel: channel ?? 'egress-advisor',
            channelPrivate: bool(get('EGRESS_ADVISOR_CHANNEL_PRIVATE', 'mattermost.channelPrivate'), 'EGRESS_ADVISOR_CHANNEL_PRIVATE', true),
          },
    publicUrl,
    digestSeconds,
    updateSeconds,
    resolveSeconds,
    testIntervalSeconds,
    format,
    valuesFile:
      valuesFile(readable('EGRESS_ADVISOR_VALUES_FILE', 'valuesFile', '/etc/egress-advisor/values.yaml')) ?? (sourcesSpec ? null : SAMPLE('values.yaml')),
    hostsFile: readable('EGRESS_ADVISOR_HOSTS_FILE', 'hostsFile', '/etc/hosts') ?? (sourcesSpec ? null : SAMPLE('hosts')),
    mattermostConfigFile:
      readable('EGRESS_ADVISOR_MATTERMOST_CONFIG', 'mattermostConfigFile', '/opt/mattermost/config/config.json') ??
      (sourcesSpec ? null : SAMPLE('mattermost-config.json')),
    webhooksFile:
      readable('EGRESS_ADVISOR_WEBHOOKS_FILE', 'webhooksFile', './outgoing-webhooks.json') ?? (sourcesSpec ? null : SAMPLE('outgoing-webhooks.json')),
    mesh: {
      rootNamespace: rootNamespace ?? 'istio-system',
      configMap: meshConfigMap(configMapName),
      clusterWide: bool(get('EGRESS_ADVISOR_MESH_CLUSTER_WIDE', 'mesh.clusterWide'), 'EGRESS_ADVISOR_MESH_CLUSTER_WIDE', true),
    },
    logLevel,
  };
}

function meshConfigMap(v: string | undefined): string | null {
  if (v === undefined) return 'istio';
  return /^(none|-)$/i.test(v) ? null : v;
}

/** The configuration as it may be logged: never the token. */
export function describeConfig(c: BridgeConfig): Record<string, unknown> {
  return {
    listen: `${c.listenHost}:${c.listenPort}`,
    dataDir: c.dataDir,
    // The URL may carry a password: only where, never who.
    store: c.databaseUrl === null ? 'sqlite' : `postgres (${safeDatabaseUrl(c.databaseUrl)})`,
    sources: c.sources.map((s) =>
      s.kind === 'stdin' ? 'stdin' : s.kind === 'kubernetes' ? `kubernetes:${s.namespace ?? '(context)'}?selector=${s.selector}` : `${s.log}:${s.path}`,
    ),
    sampleSources: c.sampleSources,
    mattermost: c.mattermost
      ? {url: c.mattermost.url, team: c.mattermost.team, channel: c.mattermost.channel, token: c.mattermost.token ? '(set)' : '(missing)'}
      : null,
    publicUrl: c.publicUrl,
    digestSeconds: c.digestSeconds,
    updateSeconds: c.updateSeconds,
    resolveSeconds: c.resolveSeconds,
    testIntervalSeconds: c.testIntervalSeconds,
    format: c.format,
    valuesFile: c.valuesFile,
    mesh: c.mesh,
  };
}

/** host:port/database of a PostgreSQL URL, without user or password. */
export function safeDatabaseUrl(url: string): string {
  try {
    const u = new URL(url);
    return `${u.host}${u.pathname}`;
  } catch {
    return '(unparsable URL)';
  }
}
