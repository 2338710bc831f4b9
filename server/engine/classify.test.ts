// Layout-by-layout tests. Each line follows the default format string of the Istio release named (quoted in
// istio-egress.md §1 from Istio's source); real published lines are in test/fixtures/access-logs.
import fc from 'fast-check';
import {parseAccessLine} from './accesslog';
import {classifyLine} from './classify';

const classify = (line: string) => classifyLine(parseAccessLine(line));

describe('parseAccessLine layouts', () => {
  const cases: [string, string, Record<string, unknown>][] = [
    [
      'istio-1.9+',
      '[2026-11-28T08:00:00.000Z] "- - -" 0 UH - - "-" 0 0 0 - "-" "-" "-" "-" "-" BlackHoleCluster - 52.217.1.9:443 10.42.1.17:40000 - -',
      {upstreamCluster: 'BlackHoleCluster', downstreamLocalAddress: '52.217.1.9:443', responseFlags: ['UH'], method: null},
    ],
    [
      'istio-1.8',
      '[2020-11-28T08:00:00.000Z] "GET /x HTTP/1.1" 200 - "-" 0 10 5 4 "-" "curl/7.64" "abc" "httpbin.org" "3.1.2.3:80" outbound|80||httpbin.org 10.0.0.1:3434 3.1.2.3:80 10.0.0.1:5555 - default',
      {upstreamCluster: 'outbound|80||httpbin.org', authority: 'httpbin.org', routeName: 'default', userAgent: 'curl/7.64'},
    ],
    [
      'istio-1.3-1.7',
      '[2019-11-28T08:00:00.000Z] "GET / HTTP/1.1" 502 - "-" "-" 0 0 0 - "-" "curl/7.60" "id" "example.com" "-" - - 93.184.216.34:80 10.0.0.1:4444 - block_all',
      {routeName: 'block_all', responseCode: 502, authority: 'example.com', httpProtocol: 'HTTP/1.1'},
    ],
    [
      'istio-1.2',
      '[2019-06-01T08:00:00.000Z] "- - -" 0 UH "-" "-" 0 0 0 - "-" "-" "-" "-" "-" BlackHoleCluster - 1.2.3.4:443 10.0.0.1:4444 -',
      {upstreamCluster: 'BlackHoleCluster', requestedServerName: null, routeName: null},
    ],
    [
      'istio-1.1',
      '[2019-03-01T08:00:00.000Z] "GET / HTTP/1.1" 404 NR "-" 0 0 0 - "-" "curl/7.60" "id" "example.com" "-" - - 93.184.216.34:80 10.0.0.1:4444 -',
      {responseFlags: ['NR'], responseCode: 404},
    ],
    [
      'istio-1.0-http',
      '[2018-09-01T08:00:00.000Z] "GET /statusHTTP/1.1" 200 - 0 10 3 2 "-" "curl/7.60" "id" "httpbin.org" "3.1.2.3:80" outbound|80||httpbin.org - 3.1.2.3:80 10.0.0.1:4444',
      {path: '/status', httpProtocol: 'HTTP/1.1', upstreamCluster: 'outbound|80||httpbin.org'},
    ],
    [
      'istio-1.0-tcp',
      '[2018-09-01T08:00:00.000Z] - 10 20 30 "3.1.2.3:443" outbound|443||www.google.com 10.0.0.1:1 3.1.2.3:443 10.0.0.1:2',
      {upstreamCluster: 'outbound|443||www.google.com', bytesReceived: 10, downstreamLocalAddress: '3.1.2.3:443'},
    ],
  ];
  it.each(cases)('recognises %s', (layout, line, fields) => {
    const p = parseAccessLine(line);
    expect(p.kind).toBe('access');
    if (p.kind !== 'access') return;
    expect(p.record.layout).toBe(layout);
    expect(p.record).toMatchObject(fields);
  });

  it('reads JSON records with random key order, nulls and a trailing ";" on the cluster', () => {
    const p = parseAccessLine(
      JSON.stringify({
        route_name: null,
        upstream_cluster: 'BlackHoleCluster;',
        response_flags: 'UH',
        downstream_local_address: '1.2.3.4:443',
        response_code: 0,
        requested_server_name: 's3.amazonaws.com',
        response_code_details: null,
      }),
    );
    expect(p.kind).toBe('access');
    if (p.kind !== 'access') return;
    expect(p.record).toMatchObject({encoding: 'json', upstreamCluster: 'BlackHoleCluster', requestedServerName: 's3.amazonaws.com', responseCode: 0});
  });

  it('keeps the pod and time from kubectl --prefix and --timestamps, in either order', () => {
    const body = '[2026-11-28T08:00:00.000Z] "- - -" 0 UH - - "-" 0 0 0 - "-" "-" "-" "-" "-" BlackHoleCluster - 1.2.3.4:443 10.0.0.1:1 - -';
    for (const line of [
      `[pod/mattermost-0/istio-proxy] 2026-11-28T08:00:00.1Z ${body}`,
      `2026-11-28T08:00:00.1Z [pod/mattermost-0/istio-proxy] ${body}`,
      `mattermost-0 istio-proxy ${body}`,
    ]) {
      const p = parseAccessLine(line);
      expect(p.kind).toBe('access');
      if (p.kind === 'access') expect(p.record).toMatchObject({pod: 'mattermost-0', container: 'istio-proxy'});
    }
  });

  it('falls back to the cluster anchor for custom formats with extra fields', () => {
    const p = parseAccessLine(
      '[2026-11-28T08:00:00.000Z] "- - -" 0 UH - - "-" 0 0 0 - "-" "-" "-" "-" "-" extra1 BlackHoleCluster - 1.2.3.4:443 10.0.0.1:1 sni.example.com - tail1 tail2',
    );
    expect(p.kind).toBe('access');
    if (p.kind === 'access') expect(p.record).toMatchObject({layout: 'custom', downstreamLocalAddress: '1.2.3.4:443', requestedServerName: 'sni.example.com'});
  });

  it('names what a non-access line is', () => {
    expect(classify('2026-11-28T08:00:00.000000Z\tinfo\txdsproxy\tconnected to upstream XDS server').reason).toMatch(/istio-proxy\/pilot-agent/);
    expect(classify('[2019-01-01 10:00:00.123][12][warning][config] gRPC config stream closed').reason).toMatch(/Envoy native/);
    expect(classify('-FLAG: --concurrency="2"').reason).toMatch(/flag dump/);
    expect(classify('x'.repeat(70_000)).reason).toMatch(/too long/);
  });

  it('never throws and always returns a verdict, whatever the input', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string({maxLength: 400}), fc.constant('['), fc.constant('{"upstream_cluster": 5}')), (s) => {
        const c = classify(s);
        expect(typeof c.verdict).toBe('string');
        expect(typeof c.reason).toBe('string');
      }),
      {numRuns: 2000},
    );
  });
});

describe('classify', () => {
  it('blocked TLS without SNI keeps only the original destination', () => {
    expect(
      classify('[2026-11-28T08:00:00.000Z] "- - -" 0 UH - - "-" 0 0 0 - "-" "-" "-" "-" "-" BlackHoleCluster - 52.217.1.9:443 10.42.1.17:40000 - -'),
    ).toMatchObject({
      verdict: 'blocked',
      host: null,
      ip: '52.217.1.9',
      port: 443,
      protocol: 'TLS',
    });
  });

  it('blocked TLS on the 0.0.0.0_443 listener names the host by SNI', () => {
    expect(
      classify(
        '[2026-11-28T08:00:00.000Z] "- - -" 0 UH - - "-" 0 0 0 - "-" "-" "-" "-" "-" BlackHoleCluster - 34.231.24.224:443 10.42.1.17:40000 push.mattermost.com -',
      ),
    ).toMatchObject({
      verdict: 'blocked',
      host: 'push.mattermost.com',
      hostSource: 'sni',
      protocol: 'TLS',
    });
  });

  it('plain HTTP refused by block_all is blocked, named by :authority (without its port)', () => {
    expect(
      classify(
        '[2026-11-28T08:00:00.000Z] "POST /hook HTTP/1.1" 502 - direct_response - "-" 12 0 0 - "-" "Mattermost-Bot/1.1" "id" "hooks.example.com:8080" "-" - - 203.0.113.9:8080 10.42.1.17:40000 - block_all',
      ),
    ).toMatchObject({
      verdict: 'blocked',
      host: 'hooks.example.com',
      hostSource: 'authority',
      port: 8080,
      protocol: 'HTTP',
    });
  });

  it('an IP authority is not a host name', () => {
    expect(
      classify(
        '[2026-11-28T08:00:00.000Z] "PUT /latest/api/token HTTP/1.1" 502 - direct_response - "-" 0 0 0 - "-" "aws-sdk-go" "id" "169.254.169.254" "-" - - 169.254.169.254:80 10.42.1.17:40000 - block_all',
      ),
    ).toMatchObject({
      verdict: 'blocked',
      host: null,
      ip: '169.254.169.254',
      port: 80,
    });
  });

  it('Envoy before 1.18 logged BlackHoleCluster as "-" with UH', () => {
    expect(classify('[2021-01-01T08:00:00.000Z] "- - -" 0 UH - - "-" 0 0 0 - "-" "-" "-" "-" "-" - - 1.2.3.4:587 10.0.0.1:1 - -').verdict).toBe('blocked');
  });

  it('PassthroughCluster and allow_any are passthrough', () => {
    expect(
      classify(
        '[2026-11-28T08:00:00.000Z] "- - -" 0 - - - "-" 10 20 30 - "-" "-" "-" "-" "1.2.3.4:443" PassthroughCluster 10.0.0.1:5 1.2.3.4:443 10.0.0.1:6 - -',
      ).verdict,
    ).toBe('passthrough');
    expect(
      classify(
        '[2026-11-28T08:00:00.000Z] "GET / HTTP/1.1" 200 - via_upstream - "-" 0 5 3 2 "-" "curl" "id" "example.com" "93.184.216.34:80" PassthroughCluster 10.0.0.1:5 93.184.216.34:80 10.0.0.1:6 - allow_any',
      ),
    ).toMatchObject({
      verdict: 'passthrough',
      host: 'example.com',
    });
  });

  it('UF,URX on a registered external cluster is external-failed, and says why', () => {
    const c = classify(
      '[2026-11-28T08:00:00.000Z] "- - -" 0 UF,URX - - "-" 0 0 10001 - "-" "-" "-" "-" "140.82.112.6:443" outbound|443||api.github.com - 140.82.112.6:443 10.42.1.17:40000 api.github.com -',
    );
    expect(c).toMatchObject({verdict: 'external-failed', host: 'api.github.com'});
    expect(c.reason).toMatch(/NetworkPolicy/);
  });

  it('registered external traffic that worked is external-ok; in-mesh services and inbound are internal', () => {
    expect(
      classify(
        '[2026-11-28T08:00:00.000Z] "- - -" 0 - - - "-" 10 20 30 - "-" "-" "-" "-" "52.6.1.7:443" outbound|443||notices.mattermost.com 10.0.0.1:5 240.240.0.3:443 10.0.0.1:6 notices.mattermost.com -',
      ).verdict,
    ).toBe('external-ok');
    expect(
      classify(
        '[2026-11-28T08:00:00.000Z] "- - -" 0 - - - "-" 10 20 30 - "-" "-" "-" "-" "10.43.12.5:5432" outbound|5432||mattermost-postgresql.mattermost.svc.cluster.local 10.0.0.1:5 10.43.12.5:5432 10.0.0.1:6 - -',
      ).verdict,
    ).toBe('internal');
    expect(
      classify(
        '[2026-11-28T08:00:00.000Z] "GET /api/v4/users/me HTTP/1.1" 200 - via_upstream - "-" 0 100 3 2 "10.42.0.9" "Mozilla" "id" "chat.example.mil" "10.42.1.17:8065" inbound|8065|| 127.0.0.6:4 10.42.1.17:8065 10.42.0.9:5 outbound_.8065_._.mattermost.mattermost.svc.cluster.local default',
      ).verdict,
    ).toBe('internal');
  });

  it('says a blocked private address is an in-cluster Service, not an external host', () => {
    expect(
      classify('[2026-11-28T08:00:00.000Z] "- - -" 0 UH - - "-" 0 0 0 - "-" "-" "-" "-" "-" BlackHoleCluster - 10.43.0.20:9300 10.42.1.17:40000 - -').reason,
    ).toMatch(/in-cluster Service/);
  });
});

describe('lines as people paste them and shippers flatten them', () => {
  const blocked = (line: string) => {
    const c = classify(line);
    expect(c).toMatchObject({verdict: 'blocked', ip: '52.94.8.12', port: 587});
  };
  test('without the leading bracket', () =>
    blocked('2026-11-28T08:00:00.000Z] "- - -" 0 UH - - "-" 0 0 0 - "-" "-" "-" "-" "-" BlackHoleCluster - 52.94.8.12:587 10.42.1.17:40000 - -'));
  test('without the time', () => blocked('"- - -" 0 UH - - "-" 0 0 0 - "-" "-" "-" "-" "-" BlackHoleCluster - 52.94.8.12:587 10.42.1.17:40000 - -'));
  test('kubectl prefix, no time', () =>
    blocked('[pod/mattermost-0/istio-proxy] "- - -" 0 UH - - "-" 0 0 0 - "-" "-" "-" "-" "-" BlackHoleCluster - 52.94.8.12:587 10.42.1.17:40000 - -'));
  test('JSON flattened to key:value by a shipper', () =>
    blocked(
      'start_time:2026-11-28T08:00:00.000Z method:null response_flags:UH upstream_cluster:BlackHoleCluster downstream_local_address:52.94.8.12:587 requested_server_name:null',
    ));
  test('JSON with its quotes lost', () =>
    blocked(
      '{start_time: 2026-11-28T08:00:00.000Z, response_flags: UH, upstream_cluster: BlackHoleCluster;, downstream_local_address: 52.94.8.12:587, authority: null}',
    ));
  test('a sentence is still not a record', () => {
    expect(classify('"hello" 200 is what the server said').verdict).toBe('not-access-log');
    expect(classify('upstream_cluster is a field name').verdict).toBe('not-access-log');
  });
});

describe('ztunnel (ambient mode) access lines', () => {
  const line = (rest: string) =>
    `2025-01-06T10:00:01.123456Z\tinfo\taccess\tconnection complete\tsrc.addr=10.42.1.17:51234 src.workload="mattermost-0" ${rest}`;
  test('unregistered egress is recognised as leaving the mesh, with why REGISTRY_ONLY did not stop it', () => {
    const c = classify(line('dst.addr=52.94.8.12:587 dst.hbone_addr=52.94.8.12:587 direction="outbound" bytes_sent=120 bytes_recv=3300 duration="250ms"'));
    expect(c).toMatchObject({verdict: 'passthrough', ip: '52.94.8.12', port: 587});
    expect(c.reason).toMatch(/ztunnel \(ambient mode\).*REGISTRY_ONLY does not apply/);
  });
  test('in-mesh and inbound connections are internal, not "not an access log"', () => {
    expect(
      classify(
        line(
          'dst.addr=10.42.2.10:15008 dst.hbone_addr=10.42.2.10:3200 dst.service="tempo.tempo.svc.cluster.local" direction="outbound" error="connection timed out"',
        ),
      ),
    ).toMatchObject({verdict: 'internal'});
    expect(classify(line('dst.addr=10.42.1.17:15008 dst.hbone_addr=10.42.1.17:8065 direction="inbound"')).reason).toContain('ztunnel');
  });
  test('a registered external service that ztunnel could not reach is failing egress', () => {
    const c = classify(
      line(
        'dst.addr=52.94.8.12:587 dst.hbone_addr=52.94.8.12:587 dst.service="email-smtp.us-east-1.amazonaws.com" direction="outbound" error="io error: Connection refused (os error 111)"',
      ),
    );
    expect(c).toMatchObject({verdict: 'external-failed', host: 'email-smtp.us-east-1.amazonaws.com'});
  });
});
