// The bridge follows the configured hosts' DNS answers over time and names a blocked line by the addresses
// of its own moment. The resolver is a table that changes as a rotating S3 name does; the timers are jest's.
import pino from 'pino';
import {buildFindings} from '../engine/findings';
import type {DestinationStats} from '../engine/findings';
import type {InventoryEndpoint} from '../engine/types';
import {DnsWatch, MIN_REFRESH_MS, type TimedResolver} from './dns-watch';
import {AttributionState} from './ingest';

const S3 = 'bucket.s3.us-gov-west-1.amazonaws.com';
const inventory: InventoryEndpoint[] = [
  {host: S3, port: 443, feature: {id: 'file-storage', name: 'File storage (Amazon S3)', configPath: 'FileSettings.AmazonS3Bucket'}, enabled: true},
  {host: '*.example.com', port: 443, feature: {id: 'x', name: 'x', configPath: 'x'}, enabled: true},
];

function stats(ip: string, atMs: number): DestinationStats {
  const iso = new Date(atMs).toISOString();
  return {
    key: `${ip}:443`,
    verdict: 'blocked',
    host: null,
    hostSource: null,
    ip,
    port: 443,
    protocol: 'TLS',
    count: 1,
    firstSeen: iso,
    lastSeen: iso,
    pods: [],
    samples: [],
    firstTimesMs: [atMs],
    lastTimesMs: [atMs],
    reason: 'BlackHoleCluster',
  };
}

describe('DnsWatch', () => {
  beforeEach(() => jest.useFakeTimers({now: Date.parse('2026-11-28T08:00:00Z')}));
  afterEach(() => jest.useRealTimers());

  test('asks again when the answer expires, and names each address only at its own moment', async () => {
    let answer = '52.1.1.1';
    const asked: string[] = [];
    const resolve: TimedResolver = async (host) => {
      asked.push(host);
      return [{address: answer, ttlSeconds: 30}];
    };
    const watch = new DnsWatch(resolve, pino({level: 'silent'}));
    const state = new AttributionState();
    state.inventory = inventory;
    state.dnsAt = (ip, t) => watch.history.hostsAt(ip, t);
    try {
      const t0 = Date.now();
      await watch.watch(inventory);
      // Wildcards are never resolved.
      expect(asked).toEqual([S3]);

      answer = '52.2.2.2';
      await jest.advanceTimersByTimeAsync(30_000);
      expect(asked).toEqual([S3, S3]);
      const t1 = Date.now();

      const one = (ip: string, at: number) => buildFindings([stats(ip, at)], state.context(t1))[0];
      const early = one('52.1.1.1', t0 + 1_000);
      const late = one('52.2.2.2', t1 + 1_000);
      const wrong = one('52.2.2.2', t0 - 10 * 60_000);
      expect(early.attribution).toMatchObject({host: S3, method: 'dns', confidence: 'likely'});
      expect(early.attribution.note).toContain('when the connection was blocked');
      expect(early.features.map((f) => f.id)).toEqual(['file-storage']);
      expect(late.destination.host).toBe(S3);
      // Ten minutes before the name had that address, DNS does not name it (only the port still points at S3).
      expect(wrong.attribution.method).toBe('port');
      expect(late.attribution.method).toBe('dns');
    } finally {
      watch.stop();
    }
  });

  test('a failing lookup is retried later, never faster than the minimum', async () => {
    let calls = 0;
    const watch = new DnsWatch(
      async () => {
        calls += 1;
        if (calls === 1) throw new Error('SERVFAIL');
        return [{address: '52.9.9.9', ttlSeconds: 0}];
      },
      pino({level: 'silent'}),
    );
    try {
      await watch.watch(inventory);
      expect(calls).toBe(1);
      await jest.advanceTimersByTimeAsync(60_000);
      expect(calls).toBe(2);
      expect(watch.history.hostsAt('52.9.9.9', [])).toEqual([S3]);
      // A zero TTL is asked again after the minimum, not in a loop.
      await jest.advanceTimersByTimeAsync(MIN_REFRESH_MS - 1);
      expect(calls).toBe(2);
      await jest.advanceTimersByTimeAsync(1);
      expect(calls).toBe(3);
    } finally {
      watch.stop();
    }
  });
});
