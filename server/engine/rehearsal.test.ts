import type {IntegrationItem} from '../../common/api';
import type {ConnectionTestResult} from '../../common/connection-tests';
import {connectionTestResult} from '../../test/support/connection-test-result';
import {linesOfTest, notRunReport, planEntry, sortEntries, summarize, type RehearsalFinding} from './rehearsal';

const S3 = {id: 'file-storage', name: 'File storage (Amazon S3)', configPath: 'FileSettings.AmazonS3Endpoint'};

const result = (over: Partial<ConnectionTestResult> = {}): ConnectionTestResult => connectionTestResult({id: 'test-1', trigger: 'rehearsal', ...over});

function finding(key: string, over: Partial<RehearsalFinding> = {}): RehearsalFinding {
  return {
    key,
    verdict: 'passthrough',
    destination: {host: null, ip: '52.1.2.3', port: 443},
    attribution: {host: null, candidates: [], method: 'none', confidence: 'unknown', note: ''},
    lastSeen: '2026-12-07T12:03:01.000Z',
    ...over,
  };
}

const namedByTest = finding('s3.example.com:443', {
  destination: {host: 's3.example.com', ip: '52.1.2.3', port: 443},
  attribution: {host: 's3.example.com', candidates: ['s3.example.com'], method: 'connection-test', confidence: 'certain', note: '… (test test-1) …'},
});

function item(over: Partial<IntegrationItem> = {}): IntegrationItem {
  return {feature: S3, host: 's3.example.com', port: 443, enabled: true, state: 'will-be-blocked', allowedBy: null, findings: [], detail: '', ...over};
}

const ran = (result: ConnectionTestResult) => ({asked: true as const, answer: {ran: true as const, result}});

describe('the PassthroughCluster lines of a test', () => {
  test('its host or the address its window named are its own; another address in the window is listed, not named', () => {
    const other = finding('52.9.9.9:443', {destination: {host: null, ip: '52.9.9.9', port: 443}});
    const late = finding('52.8.8.8:443', {destination: {host: null, ip: '52.8.8.8', port: 443}, lastSeen: '2026-12-07T12:10:00.000Z'});
    const otherPort = finding('52.7.7.7:8443', {destination: {host: null, ip: '52.7.7.7', port: 8443}});
    const blocked = finding('52.6.6.6:443', {verdict: 'blocked', destination: {host: null, ip: '52.6.6.6', port: 443}});
    expect(linesOfTest(result(), [other, late, otherPort, blocked, namedByTest])).toEqual([
      {key: 's3.example.com:443', destination: 's3.example.com:443', named: true},
      {key: '52.9.9.9:443', destination: '52.9.9.9:443', named: false},
    ]);
  });

  test('a line of its host from before the test is not the test', () => {
    const old = finding('s3.example.com:443', {destination: {host: 's3.example.com', ip: null, port: 443}, lastSeen: '2026-12-07T11:00:00.000Z'});
    expect(linesOfTest(result(), [old])).toEqual([]);
  });
});

describe('what REGISTRY_ONLY would do to an integration', () => {
  const input = {kind: 's3' as const, configured: true, findings: [] as RehearsalFinding[], items: [item()]};

  test('its test connection left through PassthroughCluster: it will break, and its YAML comes from that line', () => {
    const plan = planEntry({...input, run: ran(result()), findings: [namedByTest]});
    expect(plan.entry).toMatchObject({verdict: 'will-break', lines: [{key: 's3.example.com:443', named: true}]});
    expect(plan.entry.detail).toContain('REGISTRY_ONLY will block it');
    expect(plan.yamlFrom).toEqual({findings: ['s3.example.com:443']});
  });

  test('the test passed and a ServiceEntry lets it out: it keeps working, no YAML', () => {
    const plan = planEntry({...input, run: ran(result()), items: [item({state: 'allowed', allowedBy: 'ServiceEntry mattermost/s3'})]});
    expect(plan.entry).toMatchObject({verdict: 'keeps-working'});
    expect(plan.entry.detail).toContain('ServiceEntry mattermost/s3 lets it out');
    expect(plan.yamlFrom).toBeNull();
  });

  test('a target inside the cluster keeps working', () => {
    const plan = planEntry({...input, kind: 'site-url', run: ran(result({kind: 'site-url', target: {host: 'localhost', port: 8065}})), items: []});
    expect(plan.entry.verdict).toBe('keeps-working');
  });

  test('the test fails today: already failing, not a hardening problem', () => {
    const plan = planEntry({...input, run: ran(result({outcome: 'failed', message: 'Unable to connect to S3'}))});
    expect(plan.entry).toMatchObject({verdict: 'already-failing'});
    expect(plan.entry.detail).toContain('Unable to connect to S3');
  });

  test('passed, no line read: unconfirmed, with the YAML the configuration calls for', () => {
    const plan = planEntry({...input, run: ran(result())});
    expect(plan.entry.verdict).toBe('unconfirmed');
    expect(plan.yamlFrom).toEqual({items: [item()]});
  });

  test('passed, no line in the window, but earlier PassthroughCluster lines of it: it will break', () => {
    const seen = item({findings: [{key: 's3.example.com:443', verdict: 'passthrough'}]});
    expect(planEntry({...input, run: ran(result()), items: [seen]}).entry.verdict).toBe('will-break');
  });

  test('held back by the rate limit, Mattermost away, the email test, not configured', () => {
    const limited = planEntry({...input, run: {asked: true, answer: {ran: false, reason: 'tested less than 300 s ago', nextAllowedAt: '', latest: null}}});
    expect(limited.entry).toMatchObject({verdict: 'not-tested', detail: 'Not tested now: tested less than 300 s ago'});
    const away = planEntry({...input, run: ran(result({outcome: 'not-available', httpStatus: null, message: 'Mattermost is not reachable'}))});
    expect(away.entry.verdict).toBe('not-tested');
    expect(planEntry({...input, kind: 'smtp', run: {asked: false, reason: 'sends a real email'}}).entry).toMatchObject({verdict: 'not-tested', test: null});
    expect(planEntry({...input, configured: false, run: {asked: false, reason: ''}}).entry.verdict).toBe('not-configured');
  });
});

describe('the report', () => {
  test('most urgent first, and one sentence that names what would break', () => {
    const keep = planEntry({
      kind: 'site-url',
      configured: true,
      run: ran(result({kind: 'site-url', target: {host: 'localhost', port: 80}})),
      findings: [],
      items: [],
    });
    const breaks = planEntry({kind: 's3', configured: true, run: ran(result()), findings: [namedByTest], items: []});
    const entries = sortEntries([
      {...keep.entry, yaml: ''},
      {...breaks.entry, yaml: 'x'},
    ]);
    expect(entries.map((e) => e.verdict)).toEqual(['will-break', 'keeps-working']);
    expect(summarize(entries)).toBe('REGISTRY_ONLY would break File storage (S3): each needs a ServiceEntry before REGISTRY_ONLY is switched on.');
    expect(summarize([{...keep.entry, yaml: ''}])).toBe('Nothing the rehearsal could confirm would break under REGISTRY_ONLY.');
  });

  test('before any rehearsal: "not run yet", with how to run one', () => {
    expect(notRunReport('ALLOW_ANY', 'Sidecar mattermost/default')).toMatchObject({state: 'not-run', mode: 'ALLOW_ANY', entries: [], startedAt: null});
    expect(notRunReport('ALLOW_ANY', '').summary).toContain('/egress rehearse');
  });
});
