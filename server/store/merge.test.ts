import type {Attribution, Finding} from '../../common/types';
import {mergeFinding} from './merge';
import {DEFAULT_STORE_LIMITS} from './types';

function finding(over: Partial<Finding> = {}): Finding {
  return {
    key: 's3.example.test:443',
    destination: {host: 's3.example.test', ip: '203.0.113.5', port: 443},
    verdict: 'blocked',
    protocol: 'TCP',
    count: 1,
    firstSeen: '2024-05-01T10:00:00.000Z',
    lastSeen: '2024-05-01T10:00:00.000Z',
    pods: ['mattermost-0'],
    samples: ['a'],
    attribution: {host: 's3.example.test', candidates: ['s3.example.test'], method: 'sni', confidence: 'certain', note: 'SNI'},
    features: [{id: 'file-storage', name: 'File storage', configPath: 'FileSettings.AmazonS3Endpoint'}],
    ...over,
  };
}

const weak: Attribution = {host: null, candidates: [], method: 'none', confidence: 'unknown', note: ''};

describe('mergeFinding', () => {
  it('adds counts and widens the time window', () => {
    const m = mergeFinding(
      finding({count: 3}),
      finding({count: 4, firstSeen: '2024-05-01T09:00:00.000Z', lastSeen: '2024-05-01T11:00:00.000Z'}),
      DEFAULT_STORE_LIMITS,
    );
    expect(m).toMatchObject({count: 7, firstSeen: '2024-05-01T09:00:00.000Z', lastSeen: '2024-05-01T11:00:00.000Z'});
  });

  it('upgrades the protocol and never downgrades it', () => {
    expect(mergeFinding(finding({protocol: 'TLS'}), finding({protocol: 'TCP'}), DEFAULT_STORE_LIMITS).protocol).toBe('TLS');
    expect(mergeFinding(finding({protocol: 'TLS'}), finding({protocol: 'HTTP'}), DEFAULT_STORE_LIMITS).protocol).toBe('HTTP');
  });

  it('keeps a more certain attribution over a weaker later one', () => {
    expect(mergeFinding(finding(), finding({attribution: weak}), DEFAULT_STORE_LIMITS).attribution.confidence).toBe('certain');
    expect(mergeFinding(finding({attribution: weak}), finding(), DEFAULT_STORE_LIMITS).attribution.method).toBe('sni');
  });

  it('takes the verdict from the newer lines, and keeps them when older lines arrive late', () => {
    const newer = finding({verdict: 'external-failed', lastSeen: '2024-05-01T12:00:00.000Z', samples: ['b']});
    const m = mergeFinding(finding(), newer, DEFAULT_STORE_LIMITS);
    expect(m).toMatchObject({verdict: 'external-failed', samples: ['b']});
    const late = mergeFinding(m, finding({lastSeen: '2024-05-01T08:00:00.000Z', firstSeen: '2024-05-01T08:00:00.000Z'}), DEFAULT_STORE_LIMITS);
    expect(late).toMatchObject({verdict: 'external-failed', samples: ['b'], firstSeen: '2024-05-01T08:00:00.000Z'});
  });

  it('unions pods and features within their limits', () => {
    const L = {...DEFAULT_STORE_LIMITS, pods: 2};
    const m = mergeFinding(
      finding({pods: ['a', 'b']}),
      finding({
        pods: ['b', 'c'],
        features: [
          {id: 'file-storage', name: 'x', configPath: 'FileSettings.AmazonS3Endpoint'},
          {id: 'sso', name: 'SSO', configPath: 'GitLabSettings'},
        ],
      }),
      L,
    );
    expect(m.pods).toEqual(['a', 'b']);
    expect(m.features.map((f) => f.id)).toEqual(['file-storage', 'sso']);
  });

  it('treats lines without times as the newest', () => {
    const m = mergeFinding(finding(), finding({verdict: 'passthrough', firstSeen: null, lastSeen: null}), DEFAULT_STORE_LIMITS);
    expect(m).toMatchObject({verdict: 'passthrough', lastSeen: '2024-05-01T10:00:00.000Z'});
  });
});
