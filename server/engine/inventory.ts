// What a Mattermost server is configured to call: every external endpoint that its configuration (the
// document GET /api/v4/config returns, or config.json), its outgoing webhooks and its custom slash commands
// imply, each named by the feature an administrator knows it as. The input is whatever the user handed
// over, so no type is trusted: wrong shapes are skipped, odd values become warnings, nothing throws.
import type {Command, OutgoingWebhook} from '@mattermost/types/integrations';
import type {FeatureRef, InventoryEndpoint} from './types';
import {addressScope, normalizeIp} from './address';
import {hostMatches, printable} from './hostname';
import {hostName, splitHostPort, toPort, urlTarget} from './urltarget';
import {list, notFalse, obj, on, str, type Obj} from './config-values';

export interface InventoryExtras {
  outgoingWebhooks?: OutgoingWebhook[];
  commands?: Command[];
}

export interface Inventory {
  endpoints: InventoryEndpoint[];
  warnings: string[];
}

/** Any host: a feature that fetches whatever URL users post (link previews, a local image proxy). */
export const ANY_HOST = '*';

const MARKETPLACE_DEFAULT = 'https://api.integrations.mattermost.com';
const NOTICES_DEFAULT = 'https://notices.mattermost.com/';
const IMDS = '169.254.169.254';
const MAX_WARNINGS = 50;
/** Bound on plugin-setting values visited, so a hostile document cannot make the walk expensive. */
const MAX_PLUGIN_VALUES = 5000;

/** The API replaces every secret that is set with 32 asterisks (model.FakeSetting). */
function isMasked(s: string): boolean {
  return /^\*{8,}$/.test(s);
}

function feature(id: string, name: string, configPath: string): FeatureRef {
  return {id, name, configPath};
}

/** Display names and triggers go into UI text: keep the words, drop control and bidi-override characters. */
function label(raw: unknown, max = 60): string {
  const s = str(raw)
    .replace(/[\u0000-\u001f\u007f-\u009f\u200e\u200f\u202a-\u202e\u2066-\u2069]/g, '')
    .replace(/\s+/g, ' ');
  return s.length > max ? `${s.slice(0, max)}…` : s;
}

/** Ids of webhooks, commands and plugins end up in feature ids and config paths. */
function safeId(raw: unknown): string | null {
  const s = str(raw);
  return /^[A-Za-z0-9._-]{1,190}$/.test(s) ? s : null;
}

class Collector {
  readonly endpoints: InventoryEndpoint[] = [];
  private readonly allWarnings: string[] = [];
  private readonly index = new Map<string, InventoryEndpoint>();

  get warnings(): string[] {
    const w = this.allWarnings.slice(0, MAX_WARNINGS);
    if (this.allWarnings.length > MAX_WARNINGS) w.push(`…and ${this.allWarnings.length - MAX_WARNINGS} more warnings.`);
    return w;
  }

  warn(message: string): void {
    this.allWarnings.push(message);
  }

  /** A URL-valued setting (http, https, ldap, …): its host and port, the scheme's port when none is given. */
  url(raw: unknown, f: FeatureRef, enabled: boolean): void {
    const s = str(raw);
    if (s === '') return;
    if (isMasked(s)) {
      this.warn(`${f.configPath} is hidden by the API (shown as ********), so its host is not in this inventory; read it from config.json.`);
      return;
    }
    const t = urlTarget(s);
    if (t === null) {
      this.warn(`${f.configPath}: "${printable(s)}" is not a URL with a valid host name; left out.`);
      return;
    }
    if (t.port === null) {
      // No explicit port and a scheme Mattermost does not speak (ftp:, file:, …): nothing it would call.
      this.warn(`${f.configPath}: "${printable(s)}" is not a URL Mattermost can call; left out.`);
      return;
    }
    this.add(t.host ?? (t.ip as string), t.port, f, enabled);
  }

  /** A "host" or "host:port" setting; an explicit port setting wins over one written after the host. */
  hostPort(raw: unknown, explicitPort: number | null, defaultPort: number | null, f: FeatureRef, enabled: boolean): void {
    const s = str(raw);
    if (s === '') return;
    if (isMasked(s)) {
      this.warn(`${f.configPath} is hidden by the API (shown as ********), so its host is not in this inventory; read it from config.json.`);
      return;
    }
    const hp = splitHostPort(s);
    const host = hp === null ? null : (normalizeIp(hp.host) ?? hostName(hp.host));
    if (hp === null || host === null) {
      this.warn(`${f.configPath}: "${printable(s)}" is not a valid host name; left out.`);
      return;
    }
    this.add(host, explicitPort ?? hp.port ?? defaultPort, f, enabled);
  }

  /** host is already validated (or one of this module's own constants). */
  add(host: string, port: number | null, f: FeatureRef, enabled: boolean): void {
    // Loopback and unspecified addresses never leave the pod through the sidecar.
    if (host === 'localhost' || host.endsWith('.localhost') || host === '0.0.0.0' || host === '::') return;
    if (normalizeIp(host) !== null && addressScope(host) === 'loopback') return;
    const key = `${host}|${port ?? ''}|${f.id}`;
    const seen = this.index.get(key);
    if (seen) {
      seen.enabled = seen.enabled || enabled;
      return;
    }
    const e: InventoryEndpoint = {host, port, feature: f, enabled};
    this.index.set(key, e);
    this.endpoints.push(e);
  }
}

// ---- File storage ---------------------------------------------------------------------------------------
//
// Mattermost talks to S3 through minio-go with the default (automatic) bucket lookup. For an Amazon
// endpoint minio-go does not call the configured host: it calls the regional endpoint of the bucket's
// region, and addresses the bucket as a virtual host ("<bucket>.s3.<region>.amazonaws.com") unless the
// bucket name has a dot and TLS is on. FIPS and PrivateLink endpoints keep the configured host. Other
// S3-compatible servers (MinIO, Ceph, …) get path-style requests on the configured host only. With no
// access keys Mattermost asks minio-go's IAM provider for credentials: IRSA (STS AssumeRoleWithWebIdentity
// on sts.<AWS_REGION>.amazonaws.com, sts.amazonaws.com when AWS_REGION is unset) or the instance
// metadata service.

type S3Kind = 'amazon' | 'amazon-fixed-host' | 'virtual-host' | 'path-style';

const AWS_REGION = /^[a-z]{2}(?:-[a-z]+)+-\d{1,2}$/;

function s3Kind(hostKey: string): S3Kind {
  if (/\.vpce\.amazonaws\.com$/.test(hostKey) || /^s3-fips[.-]/.test(hostKey)) return 'amazon-fixed-host';
  if (hostKey === 's3.amazonaws.com' || hostKey === 's3-external-1.amazonaws.com') return 'amazon';
  if (/^s3[.-][a-z0-9.-]+\.amazonaws\.com(?:\.cn)?$/.test(hostKey)) return 'amazon';
  if (hostKey === 'storage.googleapis.com' || hostKey.endsWith('aliyuncs.com')) return 'virtual-host';
  return 'path-style';
}

function regionOfHost(host: string): string {
  const m = /^s3[.-](?:fips[.-])?(?:dualstack\.)?([a-z]{2}(?:-[a-z]+)+-\d{1,2})\.amazonaws\.com(?:\.cn)?$/.exec(host);
  return m ? m[1] : '';
}

function amazonHost(service: string, region: string): string {
  if (region.startsWith('cn-')) return `${service}.${region}.amazonaws.com.cn`;
  // minio-go maps the isolated partitions under c2s.ic.gov.
  if (/^us-isob?-/.test(region)) return `${service}.${region}.c2s.ic.gov`;
  return `${service}.${region}.amazonaws.com`;
}

function fileStore(c: Collector, fs: Obj, prefix: '' | 'Export', enabled: boolean): void {
  const path = (k: string) => `FileSettings.${prefix}AmazonS3${k}`;
  const what = prefix === '' ? 'File storage' : 'Export storage';
  const idBase = prefix === '' ? 'file-storage' : 'export-storage';
  let endpoint = str(fs[`${prefix}AmazonS3Endpoint`]);
  if (endpoint === '') {
    if (enabled) c.warn(`${path('Endpoint')} is empty; Mattermost cannot reach S3 without it.`);
    return;
  }
  if (isMasked(endpoint)) {
    c.warn(`${path('Endpoint')} is hidden by the API; read it from config.json.`);
    return;
  }
  if (/^https?:\/\//i.test(endpoint)) {
    c.warn(
      `${path('Endpoint')} should be a host name without "http(s)://" (Mattermost rejects it as written); read as ${printable(endpoint.replace(/^https?:\/\//i, ''))}.`,
    );
    endpoint = endpoint.replace(/^https?:\/\//i, '');
  }
  endpoint = endpoint.replace(/\/.*$/, '');
  const hp = splitHostPort(endpoint);
  const host = hp === null ? null : (normalizeIp(hp.host) ?? hostName(hp.host));
  if (hp === null || host === null) {
    c.warn(`${path('Endpoint')}: "${printable(endpoint)}" is not a valid host name; left out.`);
    return;
  }
  const secure = notFalse(fs[`${prefix}AmazonS3SSL`]);
  const port = hp.port ?? (secure ? 443 : 80);
  // minio-go compares the endpoint as written, port included, when it decides whether it is Amazon's.
  const kind = s3Kind(hp.port === null ? host : `${host}:${hp.port}`);
  const amazon = kind === 'amazon' || kind === 'amazon-fixed-host';
  const name = amazon ? `${what} (Amazon S3)` : kind === 'virtual-host' ? `${what} (S3 API)` : `${what} (S3-compatible)`;
  const f = feature(idBase, name, path('Endpoint'));
  c.add(host, port, f, enabled);

  const configuredRegion = str(fs[`${prefix}AmazonS3Region`]).toLowerCase();
  let region = configuredRegion !== '' ? configuredRegion : regionOfHost(host);
  if (region !== '' && !AWS_REGION.test(region)) {
    c.warn(`${path('Region')}: "${printable(region)}" is not an AWS region name; the regional S3 host could not be derived.`);
    region = '';
  }
  let serviceHost = host;
  if (kind === 'amazon') {
    if (region === '') {
      c.warn(
        `${path('Region')} is empty: Mattermost first asks ${host} for the bucket's region, then calls that region's endpoint. Set the region so the exact host is known (assumed us-east-1 here).`,
      );
    }
    serviceHost = amazonHost('s3', region === '' ? 'us-east-1' : region);
    c.add(serviceHost, port, feature(idBase, name, configuredRegion !== '' ? path('Region') : path('Endpoint')), enabled);
  }

  const bucket = str(fs[`${prefix}AmazonS3Bucket`]).toLowerCase();
  if (bucket !== '' && kind !== 'path-style' && !(secure && bucket.includes('.'))) {
    const bucketHost = hostName(`${bucket}.${serviceHost}`);
    if (bucketHost === null) c.warn(`${path('Bucket')}: "${printable(bucket)}" cannot be part of a host name; left out.`);
    else c.add(bucketHost, port, feature(idBase, name, path('Bucket')), enabled);
  }

  const noKeys = str(fs[`${prefix}AmazonS3AccessKeyId`]) === '' && str(fs[`${prefix}AmazonS3SecretAccessKey`]) === '';
  if (amazon && noKeys) {
    const cred = feature(`${idBase}-credentials`, `${what} (Amazon S3): IAM role credentials`, path('AccessKeyId'));
    if (region !== '') c.add(amazonHost('sts', region), 443, cred, enabled);
    c.add('sts.amazonaws.com', 443, cred, enabled);
    c.add(IMDS, 80, cred, enabled);
  }
}

function azureStore(c: Collector, fs: Obj): void {
  // Only when such keys are present: Azure Blob settings are not part of every Mattermost release.
  const enabled = str(fs.DriverName).toLowerCase() === 'azure';
  const f = (k: string) => feature('file-storage', 'File storage (Azure Blob Storage)', `FileSettings.${k}`);
  const account = str(fs.AzureStorageAccount).toLowerCase();
  if (account !== '') {
    if (/^[a-z0-9]{3,24}$/.test(account)) c.add(`${account}.blob.core.windows.net`, 443, f('AzureStorageAccount'), enabled);
    else c.warn(`FileSettings.AzureStorageAccount: "${printable(account)}" is not a storage account name; left out.`);
  }
  const endpoint = str(fs.AzureEndpoint);
  if (endpoint !== '') {
    if (/^[a-z]+:\/\//i.test(endpoint)) c.url(endpoint, f('AzureEndpoint'), enabled);
    else c.hostPort(endpoint, null, 443, f('AzureEndpoint'), enabled);
  }
}

// ---- Database ------------------------------------------------------------------------------------------

function database(c: Collector, ss: Obj): void {
  const mysql = str(ss.DriverName).toLowerCase() === 'mysql';
  const name = mysql ? 'Database (MySQL)' : 'Database (PostgreSQL)';
  const defaultPort = mysql ? 3306 : 5432;
  const sources: [unknown, string][] = [[ss.DataSource, 'SqlSettings.DataSource']];
  list(ss.DataSourceReplicas).forEach((d, i) => sources.push([d, `SqlSettings.DataSourceReplicas[${i}]`]));
  list(ss.DataSourceSearchReplicas).forEach((d, i) => sources.push([d, `SqlSettings.DataSourceSearchReplicas[${i}]`]));
  for (const [raw, configPath] of sources) {
    const dsn = str(raw);
    if (dsn === '') continue;
    const f = feature('database', name, configPath);
    if (isMasked(dsn)) {
      c.warn(`${configPath} is hidden by the API, so the database host is not in this inventory; read it from config.json or MM_SQLSETTINGS_DATASOURCE.`);
      continue;
    }
    if (/^[a-z][a-z0-9+.-]*:\/\//i.test(dsn)) {
      c.url(dsn, f, true);
      continue;
    }
    const tcp = /@tcp\(([^)]*)\)/.exec(dsn); // go-sql-driver/mysql: user:pass@tcp(host:port)/db
    const kvHost = /(?:^|\s)host=([^\s]+)/.exec(dsn); // lib/pq key=value form
    if (tcp) c.hostPort(tcp[1], null, defaultPort, f, true);
    else if (kvHost && !kvHost[1].startsWith('/')) c.hostPort(kvHost[1], toPort(/(?:^|\s)port=(\d+)/.exec(dsn)?.[1]), defaultPort, f, true);
    else if (!/@unix\(/.test(dsn)) c.warn(`${configPath}: the database host could not be read from this data source; left out.`);
  }
}

// ---- Plugins -------------------------------------------------------------------------------------------

const PLUGIN_NAMES: Readonly<Record<string, string>> = {
  'com.github.manland.mattermost-plugin-gitlab': 'GitLab plugin',
  github: 'GitHub plugin',
  jira: 'Jira plugin',
  'com.mattermost.confluence': 'Confluence plugin',
  'mattermost-ai': 'Agents (AI) plugin',
  'com.mattermost.calls': 'Calls plugin',
  zoom: 'Zoom plugin',
  jitsi: 'Jitsi plugin',
  'com.mattermost.servicenow': 'ServiceNow plugin',
  'com.mattermost.msteams-sync': 'Microsoft Teams plugin',
  'com.mattermost.plugin-incident-management': 'Playbooks',
  playbooks: 'Playbooks',
  focalboard: 'Boards',
};

/**
 * The public APIs an AI service of the Agents plugin calls when its API URL is left empty: the provider's
 * own (mattermost-plugin-ai, llm/ providers; services[] in older releases, bots[].service in newer).
 */
const AI_PROVIDER_DEFAULTS: Readonly<Record<string, string>> = {
  openai: 'api.openai.com',
  anthropic: 'api.anthropic.com',
  asksage: 'api.asksage.ai',
  cohere: 'api.cohere.com',
  mistral: 'api.mistral.ai',
};

/** An AI service object with a provider type and no API URL: the call goes to the provider's default host. */
function aiDefaultHost(o: Obj): {host: string; typeKey: string; provider: string} | null {
  const typeKey = typeof o.type === 'string' ? 'type' : typeof o.serviceName === 'string' ? 'serviceName' : null;
  if (typeKey === null) return null;
  const provider = str(o[typeKey]).toLowerCase();
  const host = AI_PROVIDER_DEFAULTS[provider];
  if (host === undefined) return null;
  const url = str(o.apiURL) || str(o.apiUrl) || str(o.url);
  return url.trim() === '' ? {host, typeKey, provider} : null;
}

function pluginSettings(c: Collector, ps: Obj): void {
  const pluginsOn = notFalse(ps.Enable);
  const states = obj(ps.PluginStates);
  let budget = MAX_PLUGIN_VALUES;
  for (const [rawId, settings] of Object.entries(obj(ps.Plugins))) {
    const id = safeId(rawId);
    if (id === null) {
      c.warn(`PluginSettings.Plugins: plugin id "${printable(rawId)}" is not a valid id; its settings were skipped.`);
      continue;
    }
    const f = (configPath: string) => feature(`plugin:${id}`, PLUGIN_NAMES[id] ?? `Plugin “${id}”`, configPath);
    const enabled = pluginsOn && on(obj(states[rawId]).Enable);
    const walk = (v: unknown, path: string, depth: number): void => {
      if (budget-- <= 0 || depth > 8) return;
      if (typeof v === 'string') {
        if (/^\s*https?:\/\//i.test(v)) c.url(v, f(path), enabled);
      } else if (Array.isArray(v)) {
        v.forEach((x, i) => walk(x, `${path}[${i}]`, depth + 1));
      } else if (v !== null && typeof v === 'object') {
        const ai = aiDefaultHost(v as Obj);
        if (ai !== null) {
          const name = `${PLUGIN_NAMES[id] ?? `Plugin “${id}”`}: ${ai.provider} (its default API, as the API URL is empty)`;
          c.add(ai.host, 443, feature(`plugin:${id}`, name, `${path}.${ai.typeKey}`), enabled);
        }
        for (const [k, x] of Object.entries(v as Obj)) walk(x, `${path}.${safeId(k) ?? printable(k, 40)}`, depth + 1);
      }
    };
    walk(settings, `PluginSettings.Plugins.${id}`, 0);
  }
}

// ---- Integrations --------------------------------------------------------------------------------------

function integrations(c: Collector, service: Obj, extras: InventoryExtras): void {
  const hooksOn = notFalse(service.EnableOutgoingWebhooks);
  for (const raw of list(extras.outgoingWebhooks)) {
    const h = obj(raw);
    if (typeof h.delete_at === 'number' && h.delete_at > 0) continue;
    const id = safeId(h.id) ?? 'unknown';
    const words = list(h.trigger_words)
      .map((w) => label(w, 30))
      .filter((w) => w !== '');
    const name = label(h.display_name) || (words.length > 0 ? words.join(', ') : id);
    list(h.callback_urls).forEach((u, i) => {
      c.url(u, feature(`outgoing-webhook:${id}`, `Outgoing webhook “${name}”`, `OutgoingWebhook.${id}.callback_urls[${i}]`), hooksOn);
    });
  }
  const commandsOn = notFalse(service.EnableCommands);
  for (const raw of list(extras.commands)) {
    const cmd = obj(raw);
    if (typeof cmd.delete_at === 'number' && cmd.delete_at > 0) continue;
    const id = safeId(cmd.id) ?? 'unknown';
    const trigger = label(cmd.trigger, 40);
    const display = label(cmd.display_name);
    const name = trigger !== '' ? `Slash command “/${trigger}”${display !== '' ? ` (${display})` : ''}` : `Slash command “${display || id}”`;
    c.url(cmd.url, feature(`slash-command:${id}`, name, `Command.${id}.url`), commandsOn);
  }
}

// ---- The whole configuration ---------------------------------------------------------------------------

const SSO_SECTIONS: readonly [section: string, id: string, name: string][] = [
  ['GitLabSettings', 'gitlab-sso', 'GitLab single sign-on'],
  ['GoogleSettings', 'google-sso', 'Google single sign-on'],
  ['Office365Settings', 'office365-sso', 'Office 365 (Entra ID) single sign-on'],
  ['OpenIdSettings', 'openid-sso', 'OpenID Connect single sign-on'],
];
// The token, user and discovery endpoints are what the server calls; the authorization endpoint is where
// browsers are sent, listed last because it is usually the same host.
const SSO_KEYS = ['TokenEndpoint', 'UserAPIEndpoint', 'DiscoveryEndpoint', 'AuthEndpoint'];

export function buildInventory(config: unknown, extras: InventoryExtras = {}): Inventory {
  const c = new Collector();
  try {
    collect(c, config, obj(extras));
  } catch (err) {
    // The walk only reads plain data; this guards against exotic objects (getters, proxies) passed in.
    c.warn(`The configuration could not be read completely: ${printable(String(err))}`);
  }
  return {endpoints: c.endpoints, warnings: c.warnings};
}

function collect(c: Collector, config: unknown, extras: InventoryExtras): void {
  if (config === null || typeof config !== 'object' || Array.isArray(config)) {
    c.warn('The Mattermost configuration is not a JSON object; no endpoints could be read from it.');
  }
  const cfg = obj(config);
  const service = obj(cfg.ServiceSettings);

  const fs = obj(cfg.FileSettings);
  const driver = str(fs.DriverName).toLowerCase();
  if (driver === 'amazons3') fileStore(c, fs, '', true);
  if (on(fs.DedicatedExportStore) && str(fs.ExportDriverName).toLowerCase() === 'amazons3') fileStore(c, fs, 'Export', true);
  azureStore(c, fs);

  const email = obj(cfg.EmailSettings);
  const security = str(email.ConnectionSecurity).toUpperCase();
  // Password resets, invitations and verification mail use SMTP whatever SendEmailNotifications says.
  c.hostPort(
    email.SMTPServer,
    toPort(email.SMTPPort),
    security === 'TLS' ? 465 : security === 'STARTTLS' ? 587 : 25,
    feature('email-smtp', 'Email (SMTP)', 'EmailSettings.SMTPServer'),
    true,
  );
  c.url(
    email.PushNotificationServer,
    feature('push-notifications', 'Push notifications', 'EmailSettings.PushNotificationServer'),
    on(email.SendPushNotifications),
  );

  for (const [section, id, name] of SSO_SECTIONS) {
    const s = obj(cfg[section]);
    // Google and Office 365 carry default endpoints even when never set up: list a provider once it is
    // switched on or has an application id.
    if (!on(s.Enable) && str(s.Id) === '') continue;
    for (const key of SSO_KEYS) c.url(s[key], feature(id, name, `${section}.${key}`), on(s.Enable));
  }

  const saml = obj(cfg.SamlSettings);
  for (const key of ['IdpMetadataURL', 'IdpURL']) {
    c.url(saml[key], feature('saml-sso', 'SAML single sign-on', `SamlSettings.${key}`), on(saml.Enable));
  }

  const ldap = obj(cfg.LdapSettings);
  c.hostPort(
    ldap.LdapServer,
    toPort(ldap.LdapPort),
    str(ldap.ConnectionSecurity).toUpperCase() === 'TLS' ? 636 : 389,
    feature('ldap', 'AD/LDAP', 'LdapSettings.LdapServer'),
    on(ldap.Enable) || on(ldap.EnableSync),
  );

  const es = obj(cfg.ElasticsearchSettings);
  const backend = str(es.Backend).toLowerCase() === 'opensearch' ? 'OpenSearch' : 'Elasticsearch';
  c.url(
    es.ConnectionURL,
    feature('search-engine', `Search (${backend})`, 'ElasticsearchSettings.ConnectionURL'),
    on(es.EnableIndexing) || on(es.EnableSearching) || on(es.EnableAutocomplete),
  );

  const proxy = obj(cfg.ImageProxySettings);
  if (on(proxy.Enable)) {
    if (str(proxy.ImageProxyType).toLowerCase() === 'local') {
      c.add(ANY_HOST, null, feature('image-proxy', 'Image proxy (fetches images from any site)', 'ImageProxySettings.ImageProxyType'), true);
    } else {
      c.url(proxy.RemoteImageProxyURL, feature('image-proxy', 'Image proxy', 'ImageProxySettings.RemoteImageProxyURL'), true);
    }
  }

  const ps = obj(cfg.PluginSettings);
  if (notFalse(ps.Enable) && on(ps.EnableMarketplace) && on(ps.EnableRemoteMarketplace)) {
    const marketplace = str(ps.MarketplaceURL) || MARKETPLACE_DEFAULT;
    const f = feature('plugin-marketplace', 'Plugin Marketplace', 'PluginSettings.MarketplaceURL');
    c.url(marketplace, f, true);
    // Mattermost's own marketplace lists bundles hosted on its release bucket.
    if (urlTarget(marketplace)?.host === 'api.integrations.mattermost.com') c.add('plugins.releases.mattermost.com', 443, f, true);
  }
  c.url(ps.ChimeraOAuthProxyURL, feature('oauth-proxy', 'OAuth proxy for plugins (Chimera)', 'PluginSettings.ChimeraOAuthProxyURL'), notFalse(ps.Enable));
  pluginSettings(c, ps);

  // Mattermost's own services, only while the setting that makes the server call them is on.
  if (on(service.EnableSecurityFixAlert)) {
    c.add(
      'securityupdatecheck.mattermost.com',
      443,
      feature('security-update-check', 'Security update alerts', 'ServiceSettings.EnableSecurityFixAlert'),
      true,
    );
  }
  if (on(obj(cfg.LogSettings).EnableDiagnostics)) {
    c.add('pdat.matterlytics.com', 443, feature('telemetry', 'Usage statistics (telemetry)', 'LogSettings.EnableDiagnostics'), true);
  }
  const announcements = obj(cfg.AnnouncementSettings);
  if (on(announcements.AdminNoticesEnabled) || on(announcements.UserNoticesEnabled)) {
    c.url(str(announcements.NoticesURL) || NOTICES_DEFAULT, feature('notices', 'In-product notices', 'AnnouncementSettings.NoticesURL'), true);
  }
  const cloud = obj(cfg.CloudSettings);
  for (const key of ['CWSURL', 'CWSAPIURL']) {
    c.url(cloud[key], feature('customer-portal', 'Customer portal (licence renewal)', `CloudSettings.${key}`), !on(cloud.Disable));
  }

  if (on(service.EnableLinkPreviews)) {
    c.add(ANY_HOST, null, feature('link-previews', 'Link previews (any site users link to)', 'ServiceSettings.EnableLinkPreviews'), true);
  }
  if (on(service.EnableGifPicker)) {
    // GIFs chosen in the picker are posted as links to Giphy's media hosts, which the server then fetches
    // for the post's preview.
    c.add('*.giphy.com', 443, feature('gif-picker', 'GIF picker (Giphy)', 'ServiceSettings.EnableGifPicker'), true);
  }

  database(c, obj(cfg.SqlSettings));
  const cache = obj(cfg.CacheSettings);
  if (str(cache.CacheType).toLowerCase() === 'redis') {
    c.hostPort(cache.RedisAddress, null, 6379, feature('cache-redis', 'Cache (Redis)', 'CacheSettings.RedisAddress'), true);
  }

  const exportSettings = obj(cfg.MessageExportSettings);
  if (on(exportSettings.EnableExport) && str(exportSettings.ExportFormat).toLowerCase() === 'globalrelay') {
    const gr = obj(exportSettings.GlobalRelaySettings);
    const path = 'MessageExportSettings.GlobalRelaySettings.CustomSMTPServerName';
    if (str(gr.CustomerType).toUpperCase() === 'CUSTOM') {
      c.hostPort(gr.CustomSMTPServerName, toPort(gr.CustomSMTPPort), 25, feature('compliance-export', 'Compliance export (Global Relay)', path), true);
    } else {
      c.warn('Compliance export to Global Relay uses Global Relay’s own SMTP host for this customer type; it is not listed here.');
    }
  }

  const translation = obj(cfg.AutoTranslationSettings);
  if (str(translation.Provider).toLowerCase() === 'libretranslate') {
    c.url(
      obj(translation.LibreTranslate).URL,
      feature('auto-translation', 'Auto-translation (LibreTranslate)', 'AutoTranslationSettings.LibreTranslate.URL'),
      on(translation.Enable),
    );
  }

  integrations(c, service, extras);
}

// ---- Which features use a host -------------------------------------------------------------------------

const S3_FEATURES = new Set(['file-storage', 'export-storage']);

/** A regional Amazon S3 endpoint stands for every virtual-hosted bucket under it. */
function impliesSubdomains(e: InventoryEndpoint): boolean {
  return S3_FEATURES.has(e.feature.id) && /^s3[.-]/.test(e.host) && /\.amazonaws\.com(?:\.cn)?$|\.c2s\.ic\.gov$/.test(e.host);
}

function covers(e: InventoryEndpoint, host: string): boolean {
  return hostMatches(e.host, host) || (impliesSubdomains(e) && host.endsWith(`.${e.host}`));
}

/**
 * The Mattermost features that use host[:port]: exact and wildcard matches on the same port (or on any port
 * when none matches that port: a feature set up on the wrong port is still the feature). Features that may
 * fetch any host (link previews) are named only when nothing specific matches a host name. Enabled
 * features first; each feature once.
 */
export function featuresFor(host: string, port: number | null, inventory: readonly InventoryEndpoint[]): FeatureRef[] {
  const h = typeof host === 'string' ? host.trim().toLowerCase().replace(/\.$/, '') : '';
  if (h === '') return [];
  const samePort: InventoryEndpoint[] = [];
  const otherPort: InventoryEndpoint[] = [];
  const anyHost: InventoryEndpoint[] = [];
  for (const e of inventory) {
    const portOk = port === null || e.port === null || e.port === port;
    if (e.host === ANY_HOST) {
      if (portOk) anyHost.push(e);
    } else if (covers(e, h)) {
      (portOk ? samePort : otherPort).push(e);
    }
  }
  const isName = normalizeIp(h) === null;
  const chosen = samePort.length > 0 ? samePort : otherPort.length > 0 ? otherPort : isName ? anyHost : [];
  const ordered = [...chosen.filter((e) => e.enabled), ...chosen.filter((e) => !e.enabled)];
  const seen = new Set<string>();
  const out: FeatureRef[] = [];
  for (const e of ordered) {
    if (seen.has(e.feature.id)) continue;
    seen.add(e.feature.id);
    out.push(e.feature);
  }
  return out;
}
