import {connectionTestResult} from '../../test/support/connection-test-result';
import {attribute, contestedByProbes, sightProbes} from './attribute';
import {describeResult, findingsForTest, isConfigured, mayRun, parseTestKind, reportTests, resultsForFinding, testTarget} from './connection-tests';
import type {InventoryEndpoint} from './types';

const S3_FEATURE = {id: 'file-storage', name: 'File storage (Amazon S3)', configPath: 'FileSettings.AmazonS3Endpoint'};
const inventory: InventoryEndpoint[] = [
  {host: 's3.example.com', port: 443, feature: S3_FEATURE, enabled: true},
  {host: 'smtp.example.com', port: 587, feature: {id: 'email-smtp', name: 'Email (SMTP)', configPath: 'EmailSettings.SMTPServer'}, enabled: true},
];
const config = {
  FileSettings: {DriverName: 'amazons3', AmazonS3Endpoint: 's3.example.com'},
  EmailSettings: {SMTPServer: 'smtp.example.com', SMTPPort: '587'},
  ServiceSettings: {SiteURL: 'https://chat.example.com'},
  LdapSettings: {LdapServer: ''},
};

const result = connectionTestResult;

describe('which test a person means', () => {
  test('kinds and the words people use for them', () => {
    expect(parseTestKind('S3')).toBe('s3');
    expect(parseTestKind('email')).toBe('smtp');
    expect(parseTestKind('search')).toBe('elasticsearch');
    expect(parseTestKind('site-url')).toBe('site-url');
    expect(parseTestKind('push')).toBeNull();
  });
});

describe('the saved configuration', () => {
  test('says which integrations are set up', () => {
    expect(isConfigured('s3', config)).toBe(true);
    expect(isConfigured('s3', {FileSettings: {DriverName: 'local'}})).toBe(false);
    expect(isConfigured('smtp', config)).toBe(true);
    expect(isConfigured('ldap', config)).toBe(false);
    expect(isConfigured('site-url', config)).toBe(true);
    expect(isConfigured('elasticsearch', 'not an object')).toBe(false);
  });

  test('counts search and LDAP only while they are switched on, not for the URL Mattermost ships', () => {
    // Mattermost's defaults: a ConnectionURL with every search switch off.
    const es = (s: Record<string, unknown>): unknown => ({ElasticsearchSettings: {ConnectionURL: 'http://localhost:9200', ...s}});
    expect(isConfigured('elasticsearch', es({EnableIndexing: false, EnableSearching: false, EnableAutocomplete: false}))).toBe(false);
    expect(isConfigured('elasticsearch', es({EnableIndexing: true}))).toBe(true);
    expect(isConfigured('elasticsearch', es({EnableSearching: true}))).toBe(true);
    expect(isConfigured('elasticsearch', {ElasticsearchSettings: {ConnectionURL: '', EnableIndexing: true}})).toBe(false);
    expect(isConfigured('ldap', {LdapSettings: {LdapServer: 'ldap.example.com', Enable: false}})).toBe(false);
    expect(isConfigured('ldap', {LdapSettings: {LdapServer: 'ldap.example.com', Enable: true}})).toBe(true);
    expect(isConfigured('ldap', {LdapSettings: {LdapServer: 'ldap.example.com', EnableSync: true}})).toBe(true);
  });

  test('points each test at the host and port the inventory read from it', () => {
    expect(testTarget('s3', config, inventory)).toEqual({host: 's3.example.com', port: 443});
    expect(testTarget('smtp', config, inventory)).toEqual({host: 'smtp.example.com', port: 587});
    expect(testTarget('site-url', config, inventory)).toEqual({host: 'chat.example.com', port: 443});
    expect(testTarget('ldap', config, inventory)).toBeNull();
  });
});

describe('when a test may run', () => {
  const now = Date.parse('2026-12-07T12:04:00.000Z');
  test('no integration more than once per interval', () => {
    const history = [result({})];
    const d = mayRun('s3', 'person', history, 5 * 60_000, now);
    expect(d).toMatchObject({run: false, nextAllowedAt: new Date('2026-12-07T12:08:00.000Z')});
    // Said in the one time format people read everywhere.
    expect(d).toMatchObject({reason: expect.stringMatching(/the next test may run at 2026-12-07 12:08:00 UTC\.$/)});
    expect(mayRun('s3', 'person', history, 60_000, now)).toEqual({run: true});
    // Another integration is not held back by this one.
    expect(mayRun('site-url', 'person', history, 5 * 60_000, now)).toEqual({run: true});
  });

  test('a test Mattermost never got (it was away) does not count', () => {
    expect(mayRun('s3', 'person', [result({outcome: 'not-available', httpStatus: null})], 5 * 60_000, now)).toEqual({run: true});
  });

  test('the email test only when a person asks', () => {
    expect(mayRun('smtp', 'after-fix', [], 60_000, now)).toMatchObject({run: false, reason: expect.stringContaining('real email')});
    expect(mayRun('smtp', 'rehearsal', [], 60_000, now).run).toBe(false);
    expect(mayRun('smtp', 'person', [], 60_000, now)).toEqual({run: true});
  });
});

describe('what a result speaks for', () => {
  const findings = [
    {key: 's3.example.com:443', features: [S3_FEATURE], destination: {host: 's3.example.com', port: 443}, attribution: {host: 's3.example.com'}},
    {key: '52.1.2.3:443', features: [], destination: {host: null, port: 443}, attribution: {host: null}},
  ];
  test('the findings of its integration', () => {
    expect(findingsForTest('s3', {host: 's3.example.com', port: 443}, findings)).toEqual(['s3.example.com:443']);
    expect(findingsForTest('smtp', {host: 'smtp.example.com', port: 587}, findings)).toEqual([]);
  });

  test("a finding's history: results that named it or test its feature", () => {
    const history = [result({id: 'a'}), result({id: 'b', kind: 'smtp'}), result({id: 'c', kind: 'site-url', findingKeys: ['52.1.2.3:443']})];
    expect(resultsForFinding(history, findings[0]).map((r) => r.id)).toEqual(['a']);
    expect(resultsForFinding(history, findings[1]).map((r) => r.id)).toEqual(['c']);
  });

  test('the report per kind: latest first, and the rate limit', () => {
    const r = reportTests(
      [result({id: 'new'}), result({id: 'old', startedAt: '2026-12-07T11:00:00.000Z'})],
      config,
      5 * 60_000,
      Date.parse('2026-12-07T12:04:00.000Z'),
    );
    const s3 = r.find((x) => x.kind === 's3');
    expect(s3?.history.map((x) => x.id)).toEqual(['new', 'old']);
    expect(s3?.nextAllowedAt).toBe('2026-12-07T12:08:00.000Z');
    expect(r.find((x) => x.kind === 'smtp')).toMatchObject({onlyWhenAsked: true, configured: true, history: []});
  });

  test('said as a person reads it', () => {
    expect(describeResult(result({}))).toBe('Mattermost reached File storage (S3) (s3.example.com:443) at 2026-12-07 12:03:02 UTC.');
    expect(describeResult(result({outcome: 'failed', message: 'connection refused'}))).toBe(
      'Mattermost could not reach File storage (S3) (s3.example.com:443) at 2026-12-07 12:03:02 UTC: connection refused',
    );
  });
});

describe('active attribution: a blocked line inside a test window', () => {
  const t = Date.parse('2026-12-07T12:03:01.000Z');
  const probe = {testId: 'test-42', label: 'File storage (S3)', host: 's3.example.com', port: 443, fromMs: t - 500, toMs: t + 500};
  const base = {dnsIndex: new Map<string, string[]>(), appEvents: [], inventory};
  const dest = (over: Partial<Parameters<typeof attribute>[0]> = {}): Parameters<typeof attribute>[0] => ({
    host: null,
    hostSource: null,
    ip: '52.1.2.3',
    port: 443,
    timesMs: [t],
    pods: [],
    ...over,
  });

  test("on the integration's port, inside the window: named with certainty, and says how", () => {
    const a = attribute(dest(), {...base, probes: [probe]});
    expect(a).toMatchObject({host: 's3.example.com', method: 'connection-test', confidence: 'certain'});
    expect(a.note).toContain('test-42');
  });

  test('another port, or outside the window, is not named by the test', () => {
    expect(attribute(dest({port: 8443}), {...base, probes: [probe]}).method).not.toBe('connection-test');
    expect(attribute(dest({timesMs: [t + 60_000]}), {...base, probes: [probe]}).method).not.toBe('connection-test');
  });

  test('two tests to different hosts on the same port at once name nothing by test', () => {
    const other = {...probe, testId: 'test-43', host: 'other.example.com'};
    expect(attribute(dest(), {...base, probes: [probe, other]}).method).not.toBe('connection-test');
  });

  test("the line's own host name still wins", () => {
    expect(attribute(dest({host: 'cdn.example.net', hostSource: 'sni'}), {...base, probes: [probe]})).toMatchObject({host: 'cdn.example.net', method: 'sni'});
  });

  describe('another address blocked on the same port in the same window', () => {
    const second = dest({ip: '52.9.9.9', timesMs: [t + 200]});

    test('the window records the IP-only addresses on its port, first seen first; named hosts, other ports and other times are not counted', () => {
      const [p] = sightProbes(
        [probe],
        [
          second,
          dest(),
          dest({host: 'cdn.example.net', hostSource: 'sni', ip: '52.7.7.7'}),
          dest({ip: '52.8.8.8', port: 8443}),
          dest({ip: '52.6.6.6', timesMs: [t + 60_000]}),
          dest({ip: '169.254.169.254', port: 443}),
        ],
      );
      expect(p.seen).toEqual(['52.1.2.3', '52.9.9.9']);
      // A later batch adds only what is new.
      expect(sightProbes([p], [dest(), dest({ip: '52.5.5.5'})])[0].seen).toEqual(['52.1.2.3', '52.9.9.9', '52.5.5.5']);
    });

    test('exactly one address in the window: named with certainty', () => {
      const [p] = sightProbes([probe], [dest()]);
      expect(attribute(dest(), {...base, probes: [p]})).toMatchObject({host: 's3.example.com', confidence: 'certain'});
    });

    test('two addresses in one batch: neither is named; both are ambiguous with the test host as the candidate', () => {
      const [p] = sightProbes([probe], [dest(), second]);
      for (const d of [dest(), second]) {
        const a = attribute(d, {...base, probes: [p]});
        expect(a).toMatchObject({host: null, candidates: ['s3.example.com'], method: 'connection-test', confidence: 'ambiguous'});
        expect(a.note).toContain('none is named');
      }
    });

    test('a second address in a later batch is not named, and the first name becomes likely', () => {
      const [first] = sightProbes([probe], [dest()]);
      const named = attribute(dest(), {...base, probes: [first]});
      const [later] = sightProbes([first], [second]);
      expect(attribute(second, {...base, probes: [later]})).toMatchObject({host: null, confidence: 'ambiguous'});
      const downgraded = contestedByProbes(named, ['test-42']);
      expect(downgraded).toMatchObject({host: 's3.example.com', method: 'connection-test', confidence: 'likely'});
      expect(downgraded.note).toContain('likely, not certain');
      expect(downgraded.note).not.toContain('the only address');
      // Another test's names are left as they are.
      expect(contestedByProbes(named, ['test-7'])).toBe(named);
    });
  });
});
