// Configured integrations against what lets them out: each state, written from the rules in the issue
// ("will be blocked" before any traffic fails; ALLOW_ANY passthrough as the rehearsal), not from the code.
import {suggest} from './suggest';
import type {AllowedHost} from './suggest/allowed';
import {finding} from './suggest/testing';
import {assessIntegrations, expectedProtocol, findingsForSuggestion, type IntegrationInput} from './integrations';
import type {InventoryEndpoint} from './types';

const SMTP: InventoryEndpoint = {
  host: 'smtp.example.com',
  port: 587,
  feature: {id: 'email-smtp', name: 'Email (SMTP)', configPath: 'EmailSettings.SMTPServer'},
  enabled: true,
};
const PUSH: InventoryEndpoint = {
  host: 'push.mattermost.com',
  port: 443,
  feature: {id: 'push-notifications', name: 'Push notifications', configPath: 'EmailSettings.PushNotificationServer'},
  enabled: true,
};
const S3: InventoryEndpoint = {
  host: 'files.s3.us-gov-west-1.amazonaws.com',
  port: 443,
  feature: {id: 'file-storage', name: 'File storage (Amazon S3)', configPath: 'FileSettings.AmazonS3Bucket'},
  enabled: true,
};
const ES: InventoryEndpoint = {
  host: 'elasticsearch.logging.svc.cluster.local',
  port: 9200,
  feature: {id: 'elasticsearch', name: 'Elasticsearch', configPath: 'ElasticsearchSettings.ConnectionURL'},
  enabled: true,
};
const GIF: InventoryEndpoint = {
  host: 'api.gfycat.com',
  port: 443,
  feature: {id: 'gif', name: 'GIF picker', configPath: 'ServiceSettings.GfycatAPIKey'},
  enabled: false,
};
const LDAP_IP: InventoryEndpoint = {host: '10.20.0.5', port: 636, feature: {id: 'ldap', name: 'AD/LDAP', configPath: 'LdapSettings.LdapServer'}, enabled: true};

const allow = (host: string, port: number, source: string, addresses: string[] = []): AllowedHost => ({host, port, protocol: 'TLS', addresses, source});

function input(over: Partial<IntegrationInput>): IntegrationInput {
  return {inventory: [SMTP, PUSH, S3, ES, GIF, LDAP_IP], mesh: {allowed: [], mode: 'REGISTRY_ONLY'}, values: null, findings: [], ...over};
}

const stateOf = (items: ReturnType<typeof assessIntegrations>, host: string) => items.find((i) => i.host === host);

describe('assessIntegrations', () => {
  it('under REGISTRY_ONLY: covered is allowed (and by what), uncovered will be blocked, blocked traffic is blocked', () => {
    const items = assessIntegrations(
      input({
        mesh: {allowed: [allow('*.s3.us-gov-west-1.amazonaws.com', 443, 'ServiceEntry mattermost/s3')], mode: 'REGISTRY_ONLY'},
        findings: [finding({host: 'push.mattermost.com', verdict: 'blocked'})],
      }),
    );
    expect(stateOf(items, S3.host)).toMatchObject({state: 'allowed', allowedBy: 'ServiceEntry mattermost/s3'});
    expect(stateOf(items, PUSH.host)).toMatchObject({state: 'blocked', findings: [{key: 'push.mattermost.com:443', verdict: 'blocked'}]});
    expect(stateOf(items, SMTP.host)).toMatchObject({state: 'will-be-blocked', allowedBy: null, findings: []});
    expect(stateOf(items, SMTP.host)?.detail).toMatch(/first call .* will be dropped/);
    // Most urgent first.
    expect(items.map((i) => i.state).slice(0, 2)).toEqual(['blocked', 'will-be-blocked']);
  });

  it('a covering entry on another port does not count', () => {
    const items = assessIntegrations(input({mesh: {allowed: [allow('smtp.example.com', 25, 'ServiceEntry mattermost/smtp')], mode: 'REGISTRY_ONLY'}}));
    expect(stateOf(items, SMTP.host)?.state).toBe('will-be-blocked');
  });

  it('in-cluster names and private addresses need no ServiceEntry', () => {
    const items = assessIntegrations(input({}));
    expect(stateOf(items, ES.host)?.state).toBe('in-cluster');
    expect(stateOf(items, LDAP_IP.host)?.state).toBe('in-cluster');
  });

  it('under ALLOW_ANY: passthrough traffic is the rehearsal of what hardening will block', () => {
    const items = assessIntegrations(
      input({mesh: {allowed: [], mode: 'ALLOW_ANY'}, findings: [finding({host: 'smtp.example.com', port: 587, verdict: 'passthrough', protocol: 'TCP'})]}),
    );
    expect(stateOf(items, SMTP.host)).toMatchObject({state: 'will-be-blocked', findings: [{verdict: 'passthrough'}]});
    expect(stateOf(items, SMTP.host)?.detail).toMatch(/PassthroughCluster.*REGISTRY_ONLY will block it/);
    expect(stateOf(items, PUSH.host)?.detail).toMatch(/works today only because the mesh allows any destination/);
  });

  it('without a mesh reading, the values file decides; with neither, nothing is known', () => {
    const withValues = assessIntegrations(input({mesh: null, values: [allow('push.mattermost.com', 443, 'routes.outbound.push')]}));
    expect(stateOf(withValues, PUSH.host)).toMatchObject({state: 'allowed', allowedBy: 'routes.outbound.push'});
    expect(stateOf(withValues, SMTP.host)?.state).toBe('will-be-blocked');
    const nothing = assessIntegrations(input({mesh: null, values: null}));
    expect(stateOf(nothing, SMTP.host)?.state).toBe('unknown');
    expect(stateOf(nothing, ES.host)?.state).toBe('in-cluster');
  });

  it('values that allow what the mesh does not: will be blocked, and the values are probably not deployed', () => {
    const items = assessIntegrations(input({values: [allow('smtp.example.com', 587, 'routes.outbound.smtp')]}));
    expect(stateOf(items, SMTP.host)?.state).toBe('will-be-blocked');
    expect(stateOf(items, SMTP.host)?.detail).toMatch(/routes\.outbound\.smtp.*are they deployed/);
  });

  it('a switched-off feature is assessed but says so', () => {
    const gif = stateOf(assessIntegrations(input({})), GIF.host);
    expect(gif).toMatchObject({enabled: false, state: 'will-be-blocked'});
    expect(gif?.detail).toMatch(/^Switched off/);
  });

  it('an address-only ServiceEntry covers an endpoint configured by IP', () => {
    const ep: InventoryEndpoint = {...SMTP, host: '198.51.100.25', port: 25};
    const items = assessIntegrations(
      input({inventory: [ep], mesh: {allowed: [allow('smtp-relay.internal', 25, 'ServiceEntry mail/relay', ['198.51.100.0/24'])], mode: 'REGISTRY_ONLY'}}),
    );
    expect(items[0]).toMatchObject({state: 'allowed', allowedBy: 'ServiceEntry mail/relay'});
  });

  it('lists an endpoint once even when the configuration names it twice', () => {
    expect(assessIntegrations(input({inventory: [SMTP, SMTP, PUSH]}))).toHaveLength(2);
  });
});

describe('findingsForSuggestion', () => {
  it('builds ServiceEntries for what is or will be blocked, from traffic where seen and from the configuration otherwise', () => {
    const blocked = finding({host: 'push.mattermost.com', verdict: 'blocked', protocol: 'TLS'});
    const items = assessIntegrations(input({findings: [blocked]}));
    const findings = findingsForSuggestion(items, [blocked], 'REGISTRY_ONLY');
    expect(findings.map((f) => f.key).sort()).toEqual(['files.s3.us-gov-west-1.amazonaws.com:443', 'push.mattermost.com:443', 'smtp.example.com:587']);
    expect(findings.find((f) => f.key === 'push.mattermost.com:443')).toBe(blocked);
    expect(findings.find((f) => f.key === 'smtp.example.com:587')).toMatchObject({protocol: 'TCP', verdict: 'blocked', features: [SMTP.feature]});
    const s = suggest(findings, {format: 'serviceentry'});
    expect(s.yaml).toContain('smtp.example.com');
    expect(s.yaml).toContain('push.mattermost.com');
    // The switched-off GIF picker is not suggested.
    expect(s.yaml).not.toContain('gfycat');
  });

  it('under ALLOW_ANY the stand-ins are passthrough, so the YAML says it is needed once hardened', () => {
    const items = assessIntegrations(input({inventory: [SMTP], mesh: {allowed: [], mode: 'ALLOW_ANY'}}));
    const s = suggest(findingsForSuggestion(items, [], 'ALLOW_ANY'), {format: 'serviceentry'});
    expect(s.yaml).toMatch(/needed once REGISTRY_ONLY is enforced/);
  });

  it('picks the protocol a port implies', () => {
    expect([80, 443, 465, 587, 25, 5432].map(expectedProtocol)).toEqual(['HTTP', 'TLS', 'TLS', 'TCP', 'TCP', 'TCP']);
  });
});

describe('instance metadata', () => {
  it('is outside the mesh: will be blocked, with the advice to give Mattermost credentials of its own, and no ServiceEntry', () => {
    const imds: InventoryEndpoint = {
      host: '169.254.169.254',
      port: 80,
      feature: {id: 'file-storage-credentials', name: 'File storage (Amazon S3): IAM role credentials', configPath: 'FileSettings.AmazonS3AccessKeyId'},
      enabled: true,
    };
    const items = assessIntegrations(input({inventory: [imds]}));
    expect(items[0]).toMatchObject({state: 'will-be-blocked'});
    expect(items[0].detail).toMatch(/IRSA/);
    const s = suggest(findingsForSuggestion(items, [], 'REGISTRY_ONLY'), {format: 'serviceentry'});
    expect(s.yaml).not.toContain('169.254.169.254');
    expect(s.skipped.map((x) => x.host)).toContain('169.254.169.254');
    const seen = assessIntegrations(input({inventory: [imds], findings: [finding({ip: '169.254.169.254', port: 80, protocol: 'HTTP'})]}));
    expect(seen[0]).toMatchObject({state: 'blocked', findings: [{key: '169.254.169.254:80', verdict: 'blocked'}]});
    expect(seen[0].detail).toMatch(/IRSA/);
  });
});
