import {buildFindings, reattribute, type DestinationStats} from './findings';
import {buildInventory} from './inventory';
import type {AttributionContext} from './types';

const S3_ON = {
  FileSettings: {
    DriverName: 'amazons3',
    AmazonS3Endpoint: 's3.amazonaws.com',
    AmazonS3Region: 'us-east-1',
    AmazonS3Bucket: 'files',
    AmazonS3AccessKeyId: 'AKIAEXAMPLE',
  },
};
const BUCKET = 'files.s3.us-east-1.amazonaws.com';
const AT = '2024-05-01T12:00:00.000Z';

function stats(over: Partial<DestinationStats>): DestinationStats {
  return {
    key: 'x',
    verdict: 'blocked',
    host: null,
    hostSource: null,
    ip: null,
    port: 443,
    protocol: 'TLS',
    count: 1,
    firstSeen: AT,
    lastSeen: AT,
    pods: ['mattermost-0'],
    samples: [],
    firstTimesMs: [Date.parse(AT)],
    lastTimesMs: [],
    reason: 'BlackHoleCluster',
    ...over,
  };
}

function ctx(config: unknown, dnsIndex: Record<string, string[]> = {}): AttributionContext {
  return {dnsIndex: new Map(Object.entries(dnsIndex)), appEvents: [], inventory: buildInventory(config).endpoints};
}

describe('reattribute', () => {
  test('a host the line named gets the feature the new configuration gives it, and keeps its name', () => {
    const [f] = buildFindings([stats({key: `${BUCKET}:443`, host: BUCKET, hostSource: 'sni', ip: '52.216.1.2'})], ctx({}));
    expect(f.features).toEqual([]);
    const again = reattribute(f, ctx(S3_ON));
    expect(again.features.map((x) => x.name)).toEqual(['File storage (Amazon S3)']);
    expect(again.attribution).toEqual(f.attribution);
    // The configuration switched S3 off again: the feature goes with it.
    expect(reattribute({...f, ...again}, ctx({})).features).toEqual([]);
  });

  test("a name from Mattermost's log is kept even when the configuration now points elsewhere", () => {
    const [f] = buildFindings([stats({key: '52.216.1.2:443', ip: '52.216.1.2'})], {
      ...ctx(S3_ON),
      appEvents: [
        {timeMs: Date.parse(AT), host: BUCKET, url: `https://${BUCKET}/`, ip: '52.216.1.2', port: 443, pod: 'mattermost-0', message: 'dial tcp failed'},
      ],
    });
    expect(f.attribution.method).toBe('app-log');
    const again = reattribute(f, ctx({}, {'52.216.1.2': ['s3.us-east-1.amazonaws.com']}));
    expect(again.attribution).toEqual(f.attribution);
    expect(again.features).toEqual([]);
  });

  test('an IP-only finding the configuration can now name gets the name and the named key', () => {
    const [f] = buildFindings([stats({key: '52.216.1.2:443', ip: '52.216.1.2'})], ctx({}));
    expect(f.attribution.method).toBe('none');
    const again = reattribute(f, ctx(S3_ON, {'52.216.1.2': [BUCKET]}));
    // What a new line to that address would make now.
    const [fresh] = buildFindings([stats({key: '52.216.1.2:443', ip: '52.216.1.2'})], ctx(S3_ON, {'52.216.1.2': [BUCKET]}));
    expect(again).toEqual({key: fresh.key, host: BUCKET, attribution: fresh.attribution, features: fresh.features});
    expect(again.key).toBe(`${BUCKET}:443`);
  });

  test('a name the configuration gave stays, with its key, when the configuration no longer gives it', () => {
    const [named] = buildFindings([stats({key: '52.216.1.2:443', ip: '52.216.1.2'})], ctx(S3_ON, {'52.216.1.2': [BUCKET]}));
    expect(named.attribution).toMatchObject({method: 'dns', host: BUCKET});
    expect(named.destination.host).toBe(BUCKET);
    // The bucket left the configuration: its features go, its name (the finding's key) stays.
    const gone = reattribute(named, ctx({}, {}));
    expect(gone.features).toEqual([]);
    expect(gone.attribution).toEqual(named.attribution);
  });
});
