import {readFileSync} from 'node:fs';
import {join} from 'node:path';
import fc from 'fast-check';

import type {AppLogEvent, Attribution, AttributionContext, InventoryEndpoint, Resolver} from './types';
import {parseAppLogLine} from './applog';
import {attribute, buildDnsIndex, type BlockedDestination} from './attribute';
import {buildInventory, featuresFor} from './inventory';

const T0 = Date.parse('2024-10-04T08:21:16.000Z');
const POD = 'mattermost-7d9f8b6c5-x2x7q';

function dest(d: Partial<BlockedDestination>): BlockedDestination {
  return {host: null, hostSource: null, ip: '52.1.2.3', port: 443, timesMs: [T0], pods: [POD], ...d};
}

function event(e: Partial<AppLogEvent>): AppLogEvent {
  return {
    timeMs: T0,
    pod: POD,
    host: 'hooks.example.org',
    ip: null,
    port: 443,
    url: 'https://hooks.example.org/x',
    message: 'Event POST failed.: Post "https://hooks.example.org/x": EOF',
    ...e,
  };
}

function ctx(c: Partial<AttributionContext> = {}): AttributionContext {
  return {dnsIndex: new Map(), appEvents: [], inventory: [], ...c};
}

/** A test resolver built from a table: the injectable resolver the engine is designed around. */
function tableResolver(table: Record<string, string[]>): Resolver & {calls: string[]} {
  const calls: string[] = [];
  const r = async (host: string) => {
    calls.push(host);
    const a = table[host];
    if (a === undefined) throw new Error(`ENOTFOUND ${host}`);
    return a;
  };
  return Object.assign(r, {calls});
}

/** Notes are for people: one or two sentences. */
function sentences(note: string): number {
  return note.split(/(?<=[.!?])\s+(?=[A-Z`])/).length;
}

const seen: Attribution[] = [];
function attr(d: BlockedDestination, c: AttributionContext, opts?: {windowMs?: number}): Attribution {
  const a = attribute(d, c, opts);
  seen.push(a);
  return a;
}

afterAll(() => {
  // Every note written in this file stays short enough to act on.
  for (const a of seen) {
    expect(a.note.length).toBeGreaterThan(20);
    expect(sentences(a.note)).toBeLessThanOrEqual(2);
  }
});

describe('the host on the line itself', () => {
  test('SNI wins over every correlation', () => {
    const a = attr(dest({host: 'api.github.com', hostSource: 'sni'}), ctx({appEvents: [event({})], dnsIndex: new Map([['52.1.2.3', ['hooks.example.org']]])}));
    expect(a).toMatchObject({host: 'api.github.com', candidates: ['api.github.com'], method: 'sni', confidence: 'certain'});
    expect(a.note).toMatch(/SNI/);
  });

  test.each([
    ['authority', /Host header/],
    ['cluster', /cluster/],
  ] as const)('%s', (source, words) => {
    const a = attr(dest({host: 'push.mattermost.com', hostSource: source}), ctx());
    expect(a).toMatchObject({host: 'push.mattermost.com', method: source, confidence: 'certain'});
    expect(a.note).toMatch(words);
  });

  test('an IP literal in :authority is not a host name: correlation goes on', () => {
    const a = attr(dest({host: '52.1.2.3', hostSource: 'authority', ip: null, port: 80}), ctx({dnsIndex: new Map([['52.1.2.3', ['plain.example.com']]])}));
    expect(a).toMatchObject({host: 'plain.example.com', method: 'dns'});
  });
});

describe("correlation with Mattermost's own log", () => {
  test('a failed call 3 s after the block, same pod and port: likely', () => {
    const a = attr(dest({}), ctx({appEvents: [event({timeMs: T0 + 3000})]}));
    expect(a).toMatchObject({host: 'hooks.example.org', candidates: ['hooks.example.org'], method: 'app-log', confidence: 'likely'});
    expect(a.note).toBe('Mattermost logged a failed call to https://hooks.example.org/x 3.0 s from this block in the same pod.');
  });

  test('the event named the same dialled address: certain', () => {
    const a = attr(dest({}), ctx({appEvents: [event({ip: '52.1.2.3', timeMs: T0 - 800})]}));
    expect(a).toMatchObject({host: 'hooks.example.org', confidence: 'certain'});
  });

  test('outside the window (6 s) it is not used; a wider window takes it', () => {
    const c = ctx({appEvents: [event({timeMs: T0 + 6000})]});
    expect(attr(dest({}), c).method).toBe('none');
    expect(attr(dest({}), c, {windowMs: 10_000}).host).toBe('hooks.example.org');
  });

  test('any of the blocked times may match', () => {
    const a = attr(dest({timesMs: [T0 - 60_000, T0 + 120_000]}), ctx({appEvents: [event({timeMs: T0 + 121_000})]}));
    expect(a.host).toBe('hooks.example.org');
  });

  test('another pod’s log line is not evidence; a line without a pod is', () => {
    expect(attr(dest({}), ctx({appEvents: [event({pod: 'mattermost-other-pod'})]})).method).toBe('none');
    expect(attr(dest({}), ctx({appEvents: [event({pod: null})]})).host).toBe('hooks.example.org');
    expect(attr(dest({pods: []}), ctx({appEvents: [event({pod: 'mattermost-other-pod'})]})).host).toBe('hooks.example.org');
  });

  test('a different port or a different dialled address rules the event out', () => {
    expect(attr(dest({}), ctx({appEvents: [event({port: 587})]})).method).toBe('none');
    expect(attr(dest({}), ctx({appEvents: [event({ip: '52.9.9.9'})]})).method).toBe('none');
  });

  test('a name-resolution failure never reached the network, so it cannot be this connection', () => {
    const dns = parseAppLogLine(
      '{"timestamp":"2024-10-04 08:21:16.000 Z","level":"error","msg":"x","error":"Post \\"https://hooks.example.org/x\\": dial tcp: lookup hooks.example.org on 10.96.0.10:53: no such host"}',
    );
    expect(dns).not.toBeNull();
    expect(attr(dest({}), ctx({appEvents: [dns as AppLogEvent]})).method).toBe('none');
  });

  test('two hosts failing at the same moment: ambiguous, both listed', () => {
    const a = attr(
      dest({}),
      ctx({appEvents: [event({timeMs: T0 + 1000}), event({host: 'api.github.com', url: 'https://api.github.com/graphql', timeMs: T0 - 2000})]}),
    );
    expect(a).toMatchObject({host: null, method: 'app-log', confidence: 'ambiguous'});
    expect(a.candidates).toEqual(['hooks.example.org', 'api.github.com']);
  });

  test('… unless DNS agrees with exactly one of them', () => {
    const a = attr(
      dest({}),
      ctx({
        appEvents: [event({timeMs: T0 + 1000}), event({host: 'api.github.com', timeMs: T0 - 2000})],
        dnsIndex: new Map([['52.1.2.3', ['api.github.com']]]),
      }),
    );
    expect(a).toMatchObject({host: 'api.github.com', method: 'app-log', confidence: 'likely'});
    expect(a.note).toMatch(/api\.github\.com resolves to 52\.1\.2\.3/);
  });
});

describe('the DNS index of configured hosts', () => {
  const inventory = buildInventory({
    EmailSettings: {SMTPServer: 'smtp.mail.example.mil', SMTPPort: '587'},
    LdapSettings: {Enable: true, LdapServer: '10.20.30.40', LdapPort: 636},
  }).endpoints;

  test('one host: likely, with the feature named', () => {
    const a = attr(dest({ip: '192.0.2.25', port: 587}), ctx({inventory, dnsIndex: new Map([['192.0.2.25', ['smtp.mail.example.mil']]])}));
    expect(a).toMatchObject({host: 'smtp.mail.example.mil', candidates: ['smtp.mail.example.mil'], method: 'dns', confidence: 'likely'});
    expect(a.note).toBe('192.0.2.25 is an address of smtp.mail.example.mil, which the Mattermost configuration uses for Email (SMTP).');
  });

  test('several hosts behind one address (a CDN): ambiguous, all candidates', () => {
    const a = attr(dest({ip: '151.101.1.69'}), ctx({dnsIndex: new Map([['151.101.1.69', ['a.example.com', 'b.example.com', 'c.example.com']]])}));
    expect(a).toMatchObject({host: null, method: 'dns', confidence: 'ambiguous', candidates: ['a.example.com', 'b.example.com', 'c.example.com']});
    expect(a.note).toMatch(/shared by 3 hosts/);
  });

  test('an address the configuration uses directly', () => {
    const a = attr(dest({ip: '10.20.30.40', port: 636}), ctx({inventory, dnsIndex: new Map([['10.20.30.40', ['10.20.30.40']]])}));
    expect(a).toMatchObject({host: null, method: 'dns'});
    expect(a.note).toMatch(/configured to reach 10\.20\.30\.40 by address, for AD\/LDAP/);
  });

  test('a configured host on a private address: named, and flagged as in-cluster', () => {
    const a = attr(dest({ip: '10.96.3.4', port: 9200}), ctx({dnsIndex: new Map([['10.96.3.4', ['elasticsearch.search.svc.cluster.local']]])}));
    expect(a.host).toBe('elasticsearch.search.svc.cluster.local');
    expect(a.note).toMatch(/in-cluster destination hidden by the Sidecar/);
  });
});

describe('well-known addresses', () => {
  const s3Role = buildInventory({
    FileSettings: {DriverName: 'amazons3', AmazonS3Endpoint: 's3.amazonaws.com', AmazonS3Region: 'us-east-1', AmazonS3Bucket: 'b'},
  }).endpoints;

  test('IPv4 instance metadata: the S3 credential lookup, before any log correlation', () => {
    const a = attr(dest({ip: '169.254.169.254', port: 80}), ctx({inventory: s3Role, appEvents: [event({port: 80, host: 'other.example.com'})]}));
    expect(a).toMatchObject({host: null, candidates: [], method: 'well-known', confidence: 'certain'});
    expect(a.note).toMatch(
      /instance-metadata service, where Mattermost's S3 client asks for IAM role credentials because FileSettings\.AmazonS3AccessKeyId is empty/,
    );
    expect(a.note).toMatch(/IRSA/);
  });

  test('IPv6 instance metadata, ECS task credentials, EKS Pod Identity', () => {
    expect(attr(dest({ip: 'fd00:ec2::254', port: 80}), ctx()).note).toMatch(/^fd00:ec2::254 is the cloud instance-metadata service \(IPv6\)/);
    expect(attr(dest({ip: '169.254.170.2', port: 80}), ctx()).note).toMatch(/ECS task-credentials endpoint/);
    expect(attr(dest({ip: '169.254.170.23', port: 80}), ctx()).note).toMatch(/EKS Pod Identity agent/);
  });

  test('an Istio auto-allocated VIP: registered, but not on that port or not exported here', () => {
    const a = attr(dest({ip: '240.240.180.115', port: 81}), ctx());
    expect(a).toMatchObject({host: null, method: 'well-known', confidence: 'unknown'});
    expect(a.note).toMatch(/registered, but not on port 81 or not exported to this namespace/);
    expect(a.note).toMatch(/status\.addresses/);
  });

  test('a private address: an in-cluster Service hidden by the Sidecar, not an external host', () => {
    const a = attr(dest({ip: '10.42.7.19', port: 8080}), ctx());
    expect(a).toMatchObject({host: null, method: 'well-known', confidence: 'unknown'});
    expect(a.note).toMatch(/not an external host/);
    expect(a.note).toMatch(/kubectl get svc,pods -A -o wide \| grep 10\.42\.7\.19/);
  });
});

describe('nothing names it', () => {
  test('the note says exactly how to find the host', () => {
    const a = attr(dest({ip: '52.1.2.3', port: 443}), ctx());
    expect(a).toEqual({
      host: null,
      candidates: [],
      method: 'none',
      confidence: 'unknown',
      note:
        `Nothing names 52.1.2.3:443: compare with Mattermost's own log of that time ` +
        `(\`kubectl logs ${POD} -c mattermost --since-time=2024-10-04T08:21:11.000Z\`, or pass it with \`--app-log\`), ` +
        `check whether SNI can be logged with \`istioctl pc listeners ${POD} --port 443\`, or reverse-resolve it yourself (\`dig -x 52.1.2.3\`).`,
    });
  });

  test('SNI advice only where SNI can exist; no time, no pod, no address', () => {
    const smtp = attr(dest({ip: '52.1.2.3', port: 25}), ctx());
    expect(smtp.note).not.toMatch(/istioctl/);
    const bare = attr(dest({ip: null, port: null, timesMs: [], pods: []}), ctx());
    expect(bare.note).toBe(
      "Nothing names this destination: compare with Mattermost's own log (`kubectl logs <pod> -c mattermost`, or pass it with `--app-log`).",
    );
  });

  test('a pod name from the log that is no valid pod name is not put into a command', () => {
    const a = attr(dest({ip: '52.1.2.3', port: 443, pods: ['Evil`pod; rm -rf /']}), ctx());
    expect(a.note).toContain('`kubectl logs <pod> -c mattermost');
    expect(a.note).toContain('`istioctl pc listeners <pod> --port 443`');
    expect(a.note).not.toContain('Evil');
  });
});

describe('property', () => {
  test('attribute never throws on odd input', () => {
    const ip = fc.oneof(fc.ipV4(), fc.ipV6(), fc.constant('not-an-ip'), fc.constant(''), fc.constantFrom('169.254.169.254', '240.240.1.1', '10.0.0.1'));
    const ev = fc.record({
      timeMs: fc.oneof(fc.constant(null), fc.integer({min: T0 - 20_000, max: T0 + 20_000}), fc.constant(Number.NaN)),
      pod: fc.oneof(fc.constant(null), fc.constant(POD), fc.string()),
      host: fc.oneof(fc.constant(null), fc.domain(), fc.string()),
      ip: fc.oneof(fc.constant(null), ip),
      port: fc.oneof(fc.constant(null), fc.integer({min: 1, max: 65535})),
      url: fc.oneof(fc.constant(null), fc.webUrl()),
      message: fc.string(),
    });
    fc.assert(
      fc.property(
        fc.record({
          host: fc.oneof(fc.constant(null), fc.domain(), fc.string(), ip),
          hostSource: fc.constantFrom(null, 'sni', 'authority', 'cluster'),
          ip: fc.oneof(fc.constant(null), ip),
          port: fc.oneof(fc.constant(null), fc.integer({min: 1, max: 65535})),
          timesMs: fc.array(fc.oneof(fc.integer({min: T0 - 20_000, max: T0 + 20_000}), fc.constant(Number.POSITIVE_INFINITY)), {maxLength: 5}),
          pods: fc.array(fc.oneof(fc.constant(POD), fc.string()), {maxLength: 2}),
        }),
        fc.array(ev, {maxLength: 8}),
        fc.array(fc.tuple(ip, fc.array(fc.oneof(fc.domain(), ip), {maxLength: 3})), {maxLength: 4}),
        (d, events, dns) => {
          const a = attribute(d as BlockedDestination, ctx({appEvents: events, dnsIndex: new Map(dns)}));
          return typeof a.note === 'string' && Array.isArray(a.candidates) && (a.host === null || a.candidates.includes(a.host));
        },
      ),
      {numRuns: 500},
    );
  });
});

describe('buildDnsIndex', () => {
  const ep = (host: string, port: number | null = 443): InventoryEndpoint => ({host, port, feature: {id: 'x', name: 'X', configPath: 'X.Y'}, enabled: true});

  test('address → sorted unique configured hosts; IP literals map to themselves; wildcards are never looked up', async () => {
    const resolve = tableResolver({
      'b.example.com': ['151.101.1.69', '2A04:4E42::0:1'],
      'a.example.com': ['151.101.1.69'],
      'mapped.example.com': ['::ffff:192.0.2.7'],
    });
    const index = await buildDnsIndex(
      [ep('b.example.com'), ep('a.example.com'), ep('a.example.com', 80), ep('mapped.example.com'), ep('10.20.30.40'), ep('*'), ep('*.giphy.com')],
      resolve,
    );
    expect(Object.fromEntries(index)).toEqual({
      '151.101.1.69': ['a.example.com', 'b.example.com'],
      '2a04:4e42::1': ['b.example.com'],
      '192.0.2.7': ['mapped.example.com'],
      '10.20.30.40': ['10.20.30.40'],
    });
    expect(resolve.calls.sort()).toEqual(['a.example.com', 'b.example.com', 'mapped.example.com']);
  });

  test('failures, synchronous throws, junk answers and timeouts are left out', async () => {
    const resolve: Resolver = (host) => {
      if (host === 'throws.example.com') throw new Error('boom');
      if (host === 'junk.example.com') return Promise.resolve(['not an ip', 42 as unknown as string, '198.51.100.1']);
      if (host === 'slow.example.com') return new Promise(() => undefined);
      if (host === 'weird.example.com') return Promise.resolve('198.51.100.9' as unknown as string[]);
      return Promise.reject(new Error('ENOTFOUND'));
    };
    // A lookup that never settles must not hold the index up (jest's own timeout would fail this test).
    const index = await buildDnsIndex(
      ['throws', 'junk', 'slow', 'weird', 'missing'].map((h) => ep(`${h}.example.com`)),
      resolve,
      {timeoutMs: 50},
    );
    expect(Object.fromEntries(index)).toEqual({'198.51.100.1': ['junk.example.com']});
  });

  test('lookups run with bounded concurrency', async () => {
    let inFlight = 0;
    let most = 0;
    const resolve: Resolver = async (host) => {
      inFlight++;
      most = Math.max(most, inFlight);
      await new Promise((r) => setTimeout(r, 5));
      inFlight--;
      return [`192.0.2.${host.length}`];
    };
    const hosts = Array.from({length: 12}, (_, i) => ep(`h${'x'.repeat(i)}.example.com`));
    const index = await buildDnsIndex(hosts, resolve, {concurrency: 3});
    expect(most).toBe(3);
    expect(index.size).toBe(12);
  });
});

describe('end to end over the fixtures', () => {
  test('an IP-only block is named from the configuration and tied to its feature', async () => {
    const cfg = JSON.parse(readFileSync(join(__dirname, '../../test/fixtures/mattermost/config.json'), 'utf8'));
    const inventory = buildInventory(cfg).endpoints;
    const resolve = tableResolver({
      'smtp.mail.example.mil': ['192.0.2.25'],
      'push.mattermost.com': ['34.200.10.20'],
      'mattermost-prod-files.s3.us-gov-west-1.amazonaws.com': ['52.61.1.10'],
    });
    const dnsIndex = await buildDnsIndex(inventory, resolve, {timeoutMs: 100});
    const appLog = readFileSync(join(__dirname, '../../test/fixtures/mattermost/app-log/logr-json.log'), 'utf8').split('\n');
    const appEvents = appLog.map(parseAppLogLine).filter((e): e is AppLogEvent => e !== null);
    const c = ctx({inventory, dnsIndex, appEvents});

    const s3 = attribute(dest({ip: '52.61.1.10', port: 443, timesMs: [Date.parse('2024-10-04T09:00:00Z')]}), c);
    expect(s3.host).toBe('mattermost-prod-files.s3.us-gov-west-1.amazonaws.com');
    expect(featuresFor(s3.host as string, 443, inventory).map((f) => f.name)).toEqual(['File storage (Amazon S3)']);

    // The SMTP failure in the fixture log dialled 192.0.2.25:587 at 08:23:00.004.
    const smtp = attribute(dest({ip: '192.0.2.25', port: 587, timesMs: [Date.parse('2024-10-04T08:23:01Z')], pods: []}), c);
    expect(smtp).toMatchObject({host: 'smtp.mail.example.mil', method: 'dns'});
    expect(featuresFor('smtp.mail.example.mil', 587, inventory).map((f) => f.id)).toEqual(['email-smtp']);

    // The webhook failure at 08:21:18.902 names its host; nothing in the DNS index does.
    const hook = attribute(dest({ip: '198.51.100.50', port: 443, timesMs: [Date.parse('2024-10-04T08:21:19Z')], pods: []}), c);
    expect(hook).toMatchObject({host: 'hooks.example.org', method: 'app-log', confidence: 'likely'});
  });
});
