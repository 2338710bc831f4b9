import {DnsHistory} from './dnshistory';

describe('DnsHistory', () => {
  const t0 = Date.parse('2026-11-28T08:00:00Z');
  const min = 60_000;

  test('matches an address against the host that had it at that moment, not at another', () => {
    const h = new DnsHistory({slackMs: 5_000});
    // The bucket's name rotates: 52.1.1.1 at 08:00, 52.2.2.2 from 08:10.
    h.record('bucket.s3.amazonaws.com', [{address: '52.1.1.1', ttlSeconds: 60}], t0);
    h.record('bucket.s3.amazonaws.com', [{address: '52.1.1.1', ttlSeconds: 60}], t0 + min);
    h.record('bucket.s3.amazonaws.com', [{address: '52.2.2.2', ttlSeconds: 60}], t0 + 10 * min);
    // Later the first address belongs to another configured host.
    h.record('other.example.com', [{address: '52.1.1.1', ttlSeconds: 60}], t0 + 30 * min);

    expect(h.hostsAt('52.1.1.1', [t0 + 90_000])).toEqual(['bucket.s3.amazonaws.com']);
    expect(h.hostsAt('52.2.2.2', [t0 + 10 * min + 1_000])).toEqual(['bucket.s3.amazonaws.com']);
    expect(h.hostsAt('52.2.2.2', [t0 + 1_000])).toEqual([]);
    expect(h.hostsAt('52.1.1.1', [t0 + 30 * min + 10_000])).toEqual(['other.example.com']);
    // Between the two lifetimes nobody had it.
    expect(h.hostsAt('52.1.1.1', [t0 + 20 * min])).toEqual([]);
    // Without a time, any moment counts.
    expect(h.hostsAt('52.1.1.1', [])).toEqual(['bucket.s3.amazonaws.com', 'other.example.com']);
    expect(h.index().get('52.2.2.2')).toEqual(['bucket.s3.amazonaws.com']);
  });

  test('reads addresses in any spelling and forgets the stalest first', () => {
    const h = new DnsHistory({maxAddresses: 2});
    h.record(
      'a.example.com',
      [
        {address: '::ffff:52.1.1.1', ttlSeconds: 30},
        {address: 'not an address', ttlSeconds: 30},
      ],
      t0,
    );
    expect(h.hostsAt('52.1.1.1', [t0])).toEqual(['a.example.com']);
    h.record('b.example.com', [{address: '52.2.2.2', ttlSeconds: 30}], t0 + 1);
    h.record('c.example.com', [{address: '52.3.3.3', ttlSeconds: 30}], t0 + 2);
    expect([...h.index().keys()]).toEqual(['52.2.2.2', '52.3.3.3']);
  });
});
