import {readFileSync} from 'node:fs';
import {join} from 'node:path';
import fc from 'fast-check';

import type {InventoryEndpoint} from './types';
import {checkHost} from './hostname';
import {ANY_HOST, buildInventory, featuresFor} from './inventory';
import {normalizeIp} from './address';

const FIXTURES = join(__dirname, '../../test/fixtures/mattermost');
const fixture = (name: string): unknown => JSON.parse(readFileSync(join(FIXTURES, name), 'utf8'));
const MASK = '*'.repeat(32);

type Row = [host: string, port: number | null, featureId: string, configPath: string, enabled: boolean];

function rows(endpoints: InventoryEndpoint[]): Row[] {
  return endpoints.map((e) => [e.host, e.port, e.feature.id, e.feature.configPath, e.enabled]);
}

function find(endpoints: InventoryEndpoint[], host: string, featureId?: string): InventoryEndpoint | undefined {
  return endpoints.find((e) => e.host === host && (featureId === undefined || e.feature.id === featureId));
}

/** What every emitted host must be: a clean name, an IP, or one of the module's own wildcards. */
function hostIsSafe(host: string): boolean {
  if (host === ANY_HOST) return true;
  if (normalizeIp(host) === host) return true;
  const c = checkHost(host);
  return c.ok && c.host === host;
}

describe('buildInventory on a Mattermost 11 configuration (fixture)', () => {
  const inv = buildInventory(fixture('config.json'), {
    outgoingWebhooks: fixture('outgoing-webhooks.json') as never,
    commands: fixture('commands.json') as never,
  });
  const r = rows(inv.endpoints);

  test('S3 in us-gov-west-1 through minio-go: configured/regional host and the virtual-hosted bucket', () => {
    expect(r).toContainEqual(['s3.us-gov-west-1.amazonaws.com', 443, 'file-storage', 'FileSettings.AmazonS3Endpoint', true]);
    expect(r).toContainEqual(['mattermost-prod-files.s3.us-gov-west-1.amazonaws.com', 443, 'file-storage', 'FileSettings.AmazonS3Bucket', true]);
    expect(find(inv.endpoints, 's3.us-gov-west-1.amazonaws.com')?.feature.name).toBe('File storage (Amazon S3)');
  });

  test('no S3 keys: IRSA (regional and global STS) and the instance metadata service', () => {
    const cred = inv.endpoints.filter((e) => e.feature.id === 'file-storage-credentials');
    expect(cred.map((e) => [e.host, e.port])).toEqual([
      ['sts.us-gov-west-1.amazonaws.com', 443],
      ['sts.amazonaws.com', 443],
      ['169.254.169.254', 80],
    ]);
    expect(cred.every((e) => e.feature.configPath === 'FileSettings.AmazonS3AccessKeyId')).toBe(true);
  });

  test('SMTP on the configured port, push, GitLab SSO, Elasticsearch', () => {
    expect(r).toContainEqual(['smtp.mail.example.mil', 587, 'email-smtp', 'EmailSettings.SMTPServer', true]);
    expect(r).toContainEqual(['push.mattermost.com', 443, 'push-notifications', 'EmailSettings.PushNotificationServer', true]);
    // One entry for the host: the token endpoint (what the server calls) names it.
    expect(inv.endpoints.filter((e) => e.feature.id === 'gitlab-sso')).toEqual([
      {
        host: 'code.example.mil',
        port: 443,
        feature: {id: 'gitlab-sso', name: 'GitLab single sign-on', configPath: 'GitLabSettings.TokenEndpoint'},
        enabled: true,
      },
    ]);
    expect(r).toContainEqual(['search.example.mil', 9200, 'search-engine', 'ElasticsearchSettings.ConnectionURL', true]);
    expect(find(inv.endpoints, 'search.example.mil')?.feature.name).toBe('Search (Elasticsearch)');
  });

  test('SSO providers never set up are left out, even with their default endpoints present', () => {
    for (const host of ['accounts.google.com', 'www.googleapis.com', 'login.microsoftonline.com', 'graph.microsoft.com']) {
      expect(find(inv.endpoints, host)).toBeUndefined();
    }
    expect(inv.endpoints.some((e) => e.feature.id === 'ldap' || e.feature.id === 'saml-sso')).toBe(false);
  });

  test('plugin settings that hold URLs, enabled as the plugin is', () => {
    expect(r).toContainEqual([
      'code.example.mil',
      443,
      'plugin:com.github.manland.mattermost-plugin-gitlab',
      'PluginSettings.Plugins.com.github.manland.mattermost-plugin-gitlab.gitlaburl',
      true,
    ]);
    expect(find(inv.endpoints, 'code.example.mil', 'plugin:com.github.manland.mattermost-plugin-gitlab')?.feature.name).toBe('GitLab plugin');
    expect(r).toContainEqual(['llm.example.mil', 443, 'plugin:mattermost-ai', 'PluginSettings.Plugins.mattermost-ai.config.services[0].apiURL', false]);
  });

  test("Mattermost's own services while their settings are on", () => {
    expect(r).toContainEqual(['api.integrations.mattermost.com', 443, 'plugin-marketplace', 'PluginSettings.MarketplaceURL', true]);
    expect(r).toContainEqual(['plugins.releases.mattermost.com', 443, 'plugin-marketplace', 'PluginSettings.MarketplaceURL', true]);
    expect(r).toContainEqual(['securityupdatecheck.mattermost.com', 443, 'security-update-check', 'ServiceSettings.EnableSecurityFixAlert', true]);
    expect(r).toContainEqual(['pdat.matterlytics.com', 443, 'telemetry', 'LogSettings.EnableDiagnostics', true]);
    expect(r).toContainEqual(['notices.mattermost.com', 443, 'notices', 'AnnouncementSettings.NoticesURL', true]);
    expect(r).toContainEqual(['customers.mattermost.com', 443, 'customer-portal', 'CloudSettings.CWSURL', true]);
  });

  test('link previews reach any host; the GIF picker reaches Giphy', () => {
    expect(r).toContainEqual([ANY_HOST, null, 'link-previews', 'ServiceSettings.EnableLinkPreviews', true]);
    expect(r).toContainEqual(['*.giphy.com', 443, 'gif-picker', 'ServiceSettings.EnableGifPicker', true]);
  });

  test('outgoing webhooks (deleted ones left out) and custom slash commands', () => {
    const hooks = inv.endpoints.filter((e) => e.feature.id.startsWith('outgoing-webhook:'));
    expect(hooks.map((e) => [e.host, e.port, e.feature.name, e.feature.configPath])).toEqual([
      ['hooks.example.org', 443, 'Outgoing webhook “Release bot”', 'OutgoingWebhook.k7xq3m9pwfrbdc4e8y1n6tgzua.callback_urls[0]'],
      ['ci.internal.example.net', 8080, 'Outgoing webhook “Release bot”', 'OutgoingWebhook.k7xq3m9pwfrbdc4e8y1n6tgzua.callback_urls[1]'],
    ]);
    expect(find(inv.endpoints, 'deleted.example.org')).toBeUndefined();
    expect(r).toContainEqual(['ci.example.net', 443, 'slash-command:d4k9x2m7qwfz1nb8y3tr6pgcea', 'Command.d4k9x2m7qwfz1nb8y3tr6pgcea.url', true]);
    expect(find(inv.endpoints, 'ci.example.net')?.feature.name).toBe('Slash command “/deploy” (Deploy)');
  });

  test('a masked data source is reported, not guessed', () => {
    expect(inv.warnings.some((w) => w.startsWith('SqlSettings.DataSource is hidden by the API'))).toBe(true);
    expect(inv.endpoints.some((e) => e.feature.id === 'database')).toBe(false);
  });

  test('every host is safe to emit', () => {
    expect(inv.endpoints.length).toBeGreaterThan(15);
    for (const e of inv.endpoints) expect(hostIsSafe(e.host)).toBe(true);
  });
});

describe('file storage as minio-go addresses it', () => {
  const s3 = (fs: Record<string, unknown>) =>
    buildInventory({FileSettings: {DriverName: 'amazons3', AmazonS3AccessKeyId: 'AKIAEXAMPLE', AmazonS3SecretAccessKey: MASK, ...fs}});
  const hosts = (fs: Record<string, unknown>) => s3(fs).endpoints.map((e) => `${e.host}:${e.port}`);

  test('global endpoint with a region: the regional host, the bucket as a virtual host, no credential endpoints', () => {
    expect(hosts({AmazonS3Endpoint: 's3.amazonaws.com', AmazonS3Region: 'us-east-1', AmazonS3Bucket: 'files'})).toEqual([
      's3.amazonaws.com:443',
      's3.us-east-1.amazonaws.com:443',
      'files.s3.us-east-1.amazonaws.com:443',
    ]);
  });

  test('a dotted bucket over TLS is addressed path-style; without TLS it is still a virtual host', () => {
    expect(hosts({AmazonS3Endpoint: 's3.amazonaws.com', AmazonS3Region: 'us-east-1', AmazonS3Bucket: 'files.example.com'})).toEqual([
      's3.amazonaws.com:443',
      's3.us-east-1.amazonaws.com:443',
    ]);
    expect(hosts({AmazonS3Endpoint: 's3.amazonaws.com', AmazonS3Region: 'us-east-1', AmazonS3Bucket: 'files.example.com', AmazonS3SSL: false})).toContain(
      'files.example.com.s3.us-east-1.amazonaws.com:80',
    );
  });

  test('the region comes from the endpoint host when the setting is empty', () => {
    const inv = buildInventory({FileSettings: {DriverName: 'amazons3', AmazonS3Endpoint: 's3.eu-west-1.amazonaws.com', AmazonS3Bucket: 'b1'}});
    expect(inv.endpoints.map((e) => e.host)).toEqual([
      's3.eu-west-1.amazonaws.com',
      'b1.s3.eu-west-1.amazonaws.com',
      'sts.eu-west-1.amazonaws.com',
      'sts.amazonaws.com',
      '169.254.169.254',
    ]);
    expect(inv.warnings).toEqual([]);
  });

  test('no region anywhere: us-east-1 assumed, and the administrator is told why', () => {
    const inv = s3({AmazonS3Endpoint: 's3.amazonaws.com', AmazonS3Bucket: 'b1'});
    expect(inv.endpoints.map((e) => e.host)).toContain('b1.s3.us-east-1.amazonaws.com');
    expect(inv.warnings.join('\n')).toMatch(/AmazonS3Region is empty.*assumed us-east-1/);
  });

  test('China regions use amazonaws.com.cn', () => {
    expect(hosts({AmazonS3Endpoint: 's3.amazonaws.com', AmazonS3Region: 'cn-north-1', AmazonS3Bucket: 'b1'})).toContain(
      'b1.s3.cn-north-1.amazonaws.com.cn:443',
    );
  });

  test('FIPS endpoints keep the configured host', () => {
    expect(hosts({AmazonS3Endpoint: 's3-fips.us-gov-west-1.amazonaws.com', AmazonS3Region: 'us-gov-west-1', AmazonS3Bucket: 'b1'})).toEqual([
      's3-fips.us-gov-west-1.amazonaws.com:443',
      'b1.s3-fips.us-gov-west-1.amazonaws.com:443',
    ]);
  });

  test('MinIO and other S3-compatible servers: the endpoint only, path-style, never credential endpoints', () => {
    const inv = buildInventory({
      FileSettings: {DriverName: 'amazons3', AmazonS3Endpoint: 'minio.minio.svc:9000', AmazonS3SSL: false, AmazonS3Bucket: 'mattermost'},
    });
    expect(rows(inv.endpoints)).toEqual([['minio.minio.svc', 9000, 'file-storage', 'FileSettings.AmazonS3Endpoint', true]]);
    expect(inv.endpoints[0].feature.name).toBe('File storage (S3-compatible)');
  });

  test('an endpoint written as a URL is read, with a warning that Mattermost rejects it', () => {
    const inv = s3({AmazonS3Endpoint: 'https://s3.us-east-1.amazonaws.com/', AmazonS3Region: 'us-east-1'});
    expect(inv.endpoints[0].host).toBe('s3.us-east-1.amazonaws.com');
    expect(inv.warnings.join('\n')).toMatch(/without "http\(s\):\/\/"/);
  });

  test('a dedicated export store is its own feature', () => {
    const inv = buildInventory({
      FileSettings: {
        DriverName: 'local',
        DedicatedExportStore: true,
        ExportDriverName: 'amazons3',
        ExportAmazonS3Endpoint: 's3.us-west-2.amazonaws.com',
        ExportAmazonS3Bucket: 'exports',
        ExportAmazonS3AccessKeyId: 'AKIA',
        ExportAmazonS3SecretAccessKey: MASK,
      },
    });
    expect(rows(inv.endpoints)).toEqual([
      ['s3.us-west-2.amazonaws.com', 443, 'export-storage', 'FileSettings.ExportAmazonS3Endpoint', true],
      ['exports.s3.us-west-2.amazonaws.com', 443, 'export-storage', 'FileSettings.ExportAmazonS3Bucket', true],
    ]);
    expect(inv.endpoints[0].feature.name).toBe('Export storage (Amazon S3)');
  });

  test('local storage calls nothing', () => {
    expect(buildInventory({FileSettings: {DriverName: 'local', AmazonS3Endpoint: 's3.amazonaws.com', AmazonS3Bucket: 'b'}}).endpoints).toEqual([]);
  });
});

describe('other sections', () => {
  test('SMTP default ports follow the connection security', () => {
    const port = (ConnectionSecurity: string) =>
      buildInventory({EmailSettings: {SMTPServer: 'mail.example.com', SMTPPort: '', ConnectionSecurity}}).endpoints[0].port;
    expect([port('TLS'), port('STARTTLS'), port('')]).toEqual([465, 587, 25]);
  });

  test('LDAP host and port; LDAPS default port', () => {
    expect(rows(buildInventory({LdapSettings: {Enable: true, LdapServer: 'ad.example.com', LdapPort: 3269}}).endpoints)).toEqual([
      ['ad.example.com', 3269, 'ldap', 'LdapSettings.LdapServer', true],
    ]);
    expect(buildInventory({LdapSettings: {EnableSync: true, LdapServer: 'AD.Example.com', ConnectionSecurity: 'TLS'}}).endpoints[0]).toMatchObject({
      host: 'ad.example.com',
      port: 636,
      enabled: true,
    });
  });

  test('SAML metadata and IdP URLs; OpenID discovery; Office 365 set up but off', () => {
    const inv = buildInventory({
      SamlSettings: {
        Enable: true,
        IdpURL: 'https://idp.example.com/sso/saml',
        IdpMetadataURL: 'https://idp.example.com/metadata',
        IdpDescriptorURL: 'https://issuer.example.com/',
      },
      OpenIdSettings: {Enable: true, DiscoveryEndpoint: 'https://keycloak.example.com/realms/mm/.well-known/openid-configuration'},
      Office365Settings: {
        Enable: false,
        Id: 'app-id',
        TokenEndpoint: 'https://login.microsoftonline.us/tenant/oauth2/v2.0/token',
        UserAPIEndpoint: 'https://graph.microsoft.us/v1.0/me',
      },
    });
    expect(rows(inv.endpoints)).toEqual([
      ['login.microsoftonline.us', 443, 'office365-sso', 'Office365Settings.TokenEndpoint', false],
      ['graph.microsoft.us', 443, 'office365-sso', 'Office365Settings.UserAPIEndpoint', false],
      ['keycloak.example.com', 443, 'openid-sso', 'OpenIdSettings.DiscoveryEndpoint', true],
      ['idp.example.com', 443, 'saml-sso', 'SamlSettings.IdpMetadataURL', true],
    ]);
  });

  test('image proxy: local fetches any host, a remote proxy is one host', () => {
    expect(rows(buildInventory({ImageProxySettings: {Enable: true, ImageProxyType: 'local'}}).endpoints)).toEqual([
      [ANY_HOST, null, 'image-proxy', 'ImageProxySettings.ImageProxyType', true],
    ]);
    expect(
      rows(buildInventory({ImageProxySettings: {Enable: true, ImageProxyType: 'atmos/camo', RemoteImageProxyURL: 'https://camo.example.com:8443'}}).endpoints),
    ).toEqual([['camo.example.com', 8443, 'image-proxy', 'ImageProxySettings.RemoteImageProxyURL', true]]);
  });

  test('OpenSearch is named as such', () => {
    expect(
      buildInventory({ElasticsearchSettings: {Backend: 'opensearch', ConnectionURL: 'https://os.example.com', EnableSearching: true}}).endpoints[0].feature
        .name,
    ).toBe('Search (OpenSearch)');
  });

  test('database data sources in each driver syntax; loopback left out', () => {
    const db = (SqlSettings: Record<string, unknown>) => buildInventory({SqlSettings}).endpoints.map((e) => `${e.host}:${e.port} ${e.feature.configPath}`);
    expect(db({DriverName: 'postgres', DataSource: 'postgres://mm:pw@mm-db.abc123.us-gov-west-1.rds.amazonaws.com:5432/mattermost?sslmode=require'})).toEqual([
      'mm-db.abc123.us-gov-west-1.rds.amazonaws.com:5432 SqlSettings.DataSource',
    ]);
    expect(
      db({
        DriverName: 'postgres',
        DataSource: 'host=db.example.com port=6432 user=mm dbname=mattermost',
        DataSourceReplicas: ['postgres://mm@replica.example.com/mm'],
      }),
    ).toEqual(['db.example.com:6432 SqlSettings.DataSource', 'replica.example.com:5432 SqlSettings.DataSourceReplicas[0]']);
    expect(db({DriverName: 'mysql', DataSource: 'mmuser:pw@tcp(mysql.example.com:3306)/mattermost?charset=utf8mb4'})).toEqual([
      'mysql.example.com:3306 SqlSettings.DataSource',
    ]);
    expect(db({DriverName: 'postgres', DataSource: 'postgres://mm@localhost:5432/mm'})).toEqual([]);
  });

  test('Redis cache, Global Relay custom SMTP, LibreTranslate, Chimera', () => {
    const inv = buildInventory({
      CacheSettings: {CacheType: 'redis', RedisAddress: 'redis.example.com:6380'},
      MessageExportSettings: {
        EnableExport: true,
        ExportFormat: 'globalrelay',
        GlobalRelaySettings: {CustomerType: 'CUSTOM', CustomSMTPServerName: 'relay.example.net', CustomSMTPPort: '2525'},
      },
      AutoTranslationSettings: {Enable: true, Provider: 'libretranslate', LibreTranslate: {URL: 'http://libretranslate.example.net:5000'}},
      PluginSettings: {ChimeraOAuthProxyURL: 'https://chimera.example.com'},
    });
    expect(inv.endpoints.map((e) => `${e.host}:${e.port} ${e.feature.id}`)).toEqual([
      'chimera.example.com:443 oauth-proxy',
      'redis.example.com:6380 cache-redis',
      'relay.example.net:2525 compliance-export',
      'libretranslate.example.net:5000 auto-translation',
    ]);
  });

  test('outgoing webhooks and commands are disabled with their ServiceSettings switch', () => {
    const inv = buildInventory(
      {ServiceSettings: {EnableOutgoingWebhooks: false, EnableCommands: false}},
      {
        outgoingWebhooks: [{id: 'h1', callback_urls: ['https://a.example.com/x'], trigger_words: ['go']}] as never,
        commands: [{id: 'c1', trigger: 'go', url: 'https://b.example.com/'}] as never,
      },
    );
    expect(inv.endpoints.map((e) => [e.host, e.feature.name, e.enabled])).toEqual([
      ['a.example.com', 'Outgoing webhook “go”', false],
      ['b.example.com', 'Slash command “/go”', false],
    ]);
  });
});

describe('garbage never throws and never leaks a bad host', () => {
  test.each([null, undefined, 'config', 42, true, [], [{FileSettings: {}}], {FileSettings: null}, {PluginSettings: {Plugins: 'x'}}])('%p', (input) => {
    const inv = buildInventory(input);
    expect(inv.endpoints).toEqual([]);
  });

  test('a non-object configuration says so', () => {
    expect(buildInventory('nope').warnings).toEqual(['The Mattermost configuration is not a JSON object; no endpoints could be read from it.']);
  });

  test('the garbage fixture: wrong types, masked values, hostile host names', () => {
    const inv = buildInventory(fixture('config-garbage.json'), {outgoingWebhooks: 'x' as never, commands: [null, 3, {url: 42}] as never});
    for (const e of inv.endpoints) expect(hostIsSafe(e.host)).toBe(true);
    const hosts = inv.endpoints.map((e) => e.host);
    // Clean values still count; broken ones are reported.
    expect(hosts).toEqual(expect.arrayContaining(['ok.example', 'arr.example', 'xn--bcher-kva.example', 'relay.example.net', 'db-search.example.net']));
    expect(find(inv.endpoints, 'ok.example')?.port).toBe(8443);
    expect(hosts.some((h) => h.includes('evil') || h.includes('script') || h.includes('a_b') || h.includes('ldap.example.com'))).toBe(false);
    const w = inv.warnings.join('\n');
    expect(w).toMatch(/LdapSettings\.LdapServer: ".*" is not a valid host name/);
    expect(w).toMatch(/FileSettings\.ExportAmazonS3Endpoint is hidden by the API/);
    expect(w).toMatch(/ImageProxySettings\.RemoteImageProxyURL is hidden by the API/);
    expect(w).toMatch(/plugin id ".*" is not a valid id/);
    expect(w).toMatch(/PluginSettings\.MarketplaceURL: "ftp:.*" is not a URL Mattermost can call/);
    expect(hosts).not.toContain('market.example');
    // Warnings quote what they reject without its control characters.
    expect(w.replace(/\n/g, '')).not.toMatch(/[\u0000-\u001f\u007f\u202e]/);
  });

  const settingValue = fc.oneof(
    fc.string(),
    fc.webUrl(),
    fc.constantFrom(
      MASK,
      'amazons3',
      'TLS',
      'redis',
      'libretranslate',
      'local',
      's3.amazonaws.com',
      'us-east-1',
      'host:99',
      '[::1]:80',
      'http://[fe80::1%eth0]/',
    ),
    fc.boolean(),
    fc.integer(),
    fc.constant(null),
    fc.array(fc.oneof(fc.webUrl(), fc.string()), {maxLength: 3}),
  );
  const section = fc.dictionary(
    fc.constantFrom(
      'Enable',
      'DriverName',
      'AmazonS3Endpoint',
      'AmazonS3Region',
      'AmazonS3Bucket',
      'AmazonS3SSL',
      'SMTPServer',
      'SMTPPort',
      'PushNotificationServer',
      'TokenEndpoint',
      'LdapServer',
      'LdapPort',
      'ConnectionURL',
      'DataSource',
      'RedisAddress',
      'CacheType',
      'ImageProxyType',
      'RemoteImageProxyURL',
      'Plugins',
      'MarketplaceURL',
      'EnableMarketplace',
      'EnableRemoteMarketplace',
      'IdpMetadataURL',
    ),
    settingValue,
  );
  const config = fc.dictionary(
    fc.constantFrom(
      'FileSettings',
      'EmailSettings',
      'GitLabSettings',
      'LdapSettings',
      'ElasticsearchSettings',
      'SqlSettings',
      'CacheSettings',
      'ImageProxySettings',
      'PluginSettings',
      'SamlSettings',
      'ServiceSettings',
    ),
    fc.oneof(section, settingValue),
  );

  test('property: arbitrary JSON never throws', () => {
    fc.assert(
      fc.property(fc.anything(), fc.anything(), (cfg, hooks) => {
        const inv = buildInventory(cfg, {outgoingWebhooks: hooks as never, commands: hooks as never});
        return Array.isArray(inv.endpoints) && Array.isArray(inv.warnings);
      }),
      {numRuns: 300},
    );
  });

  test('property: configuration-shaped input only ever yields safe hosts and valid ports', () => {
    fc.assert(
      fc.property(config, (cfg) => {
        const inv = buildInventory(cfg);
        for (const e of inv.endpoints) {
          if (!hostIsSafe(e.host)) return false;
          if (e.port !== null && !(Number.isInteger(e.port) && e.port > 0 && e.port < 65536)) return false;
          featuresFor(e.host, e.port, inv.endpoints);
        }
        return inv.warnings.length <= 51;
      }),
      {numRuns: 500},
    );
  });
});

describe('featuresFor', () => {
  const inv = buildInventory(fixture('config.json')).endpoints;
  const ids = (host: string, port: number | null) => featuresFor(host, port, inv).map((f) => f.id);

  test('exact host and port', () => {
    expect(featuresFor('smtp.mail.example.mil', 587, inv)).toEqual([{id: 'email-smtp', name: 'Email (SMTP)', configPath: 'EmailSettings.SMTPServer'}]);
  });

  test('a configured host on another port is still that feature', () => {
    expect(ids('smtp.mail.example.mil', 465)).toEqual(['email-smtp']);
  });

  test('case and the trailing dot do not matter', () => {
    expect(ids('SMTP.Mail.Example.MIL.', 587)).toEqual(['email-smtp']);
  });

  test('any bucket under the regional S3 endpoint is file storage', () => {
    expect(ids('another-bucket.s3.us-gov-west-1.amazonaws.com', 443)).toEqual(['file-storage']);
    expect(ids('s3.us-east-1.amazonaws.com', 443)).toEqual(['link-previews']);
  });

  test('one host used by two features: both, each once, enabled first', () => {
    const extra: InventoryEndpoint[] = [
      ...inv,
      {
        host: 'code.example.mil',
        port: 443,
        feature: {id: 'gitlab-sso', name: 'GitLab single sign-on', configPath: 'GitLabSettings.UserAPIEndpoint'},
        enabled: true,
      },
      {host: 'code.example.mil', port: 443, feature: {id: 'plugin:off', name: 'Plugin “off”', configPath: 'PluginSettings.Plugins.off.url'}, enabled: false},
    ];
    expect(featuresFor('code.example.mil', 443, extra).map((f) => f.id)).toEqual([
      'gitlab-sso',
      'plugin:com.github.manland.mattermost-plugin-gitlab',
      'plugin:off',
    ]);
  });

  test('wildcards match subdomains, not the apex', () => {
    expect(ids('media2.giphy.com', 443)).toEqual(['gif-picker']);
    expect(ids('giphy.com', 443)).toEqual(['link-previews']);
  });

  test('features that fetch any host are named only when nothing specific matches, and never for bare IPs', () => {
    expect(ids('news.example.com', 443)).toEqual(['link-previews']);
    expect(ids('52.1.2.3', 443)).toEqual([]);
    expect(featuresFor('news.example.com', 443, [])).toEqual([]);
  });

  test('the instance metadata address is the S3 credential lookup', () => {
    expect(ids('169.254.169.254', 80)).toEqual(['file-storage-credentials']);
  });
});
