import {readFileSync} from 'node:fs';
import {join} from 'node:path';
import fc from 'fast-check';

import type {AppLogEvent} from './types';
import {failedBeforeConnecting, parseAppLogLine, parseMattermostRefusal, parseTime} from './applog';
import {checkHost} from './hostname';

const DIR = join(__dirname, '../../test/fixtures/mattermost/app-log');
const lines = (file: string): string[] =>
  readFileSync(join(DIR, file), 'utf8')
    .split('\n')
    .filter((l) => l !== '');
const at = (iso: string) => Date.parse(iso);

type Expected = Partial<AppLogEvent> & {time?: string};

function check(line: string, want: Expected): void {
  const e = parseAppLogLine(line);
  expect(e).not.toBeNull();
  const {time, ...fields} = want;
  expect(e).toMatchObject(fields);
  if (time !== undefined) expect(e?.timeMs).toBe(at(time));
}

describe('4.x plain text (log4go)', () => {
  const [s3, push, sso] = lines('4x-plain.log');

  test('API error: the target from [details: …], not the client ip=', () => {
    check(s3, {host: 'mattermost-files.s3.amazonaws.com', ip: '52.216.100.61', port: 443, time: '2018-05-03T17:04:41Z'});
    expect(parseAppLogLine(s3)?.url).toMatch(/^https:\/\/mattermost-files\.s3\.amazonaws\.com\/20180503\//);
  });

  test('push error with the unquoted Go URL and the remote end of "read tcp a->b"', () => {
    check(push, {host: 'push.mattermost.com', ip: '35.172.94.8', port: 443, url: 'https://push.mattermost.com/api/v1/send_push'});
  });

  test('zone abbreviations are read (CEST = UTC+2); the caller ip= is never the target', () => {
    check(sso, {host: 'code.example.mil', ip: null, port: 443, time: '2018-05-03T17:05:10Z'});
  });
});

describe('5.x JSON (zap)', () => {
  const [oauth, s3, webhook, smtp, preview, segment] = lines('5x-zap-json.log');

  test('ts in float seconds; the target inside msg', () => {
    check(oauth, {host: 'code.example.mil', port: 443, url: 'https://code.example.mil/oauth/token', time: '2020-03-31T11:48:24.190Z'});
  });

  test('err_details with a quoted URL and the dialled address; ip_addr ignored', () => {
    check(s3, {host: 'mattermost-files.s3.us-east-1.amazonaws.com', ip: '52.217.12.34', port: 443});
  });

  test('error field of an outgoing webhook', () => {
    check(webhook, {host: 'hooks.example.org', ip: null, port: 443, url: 'https://hooks.example.org/mattermost/outgoing'});
  });

  test('a dial error alone gives the address', () => {
    check(smtp, {host: null, ip: '10.0.12.5', port: 587, url: null});
  });

  test('link preview url= form and telemetry', () => {
    check(preview, {host: 'news.example.com', url: 'https://news.example.com/article/42'});
    check(segment, {host: 'api.segment.io', url: 'https://api.segment.io/v1/batch'});
  });
});

describe('5.x console (zap)', () => {
  const [jira, action, trailing] = lines('5x-zap-console.log');

  test('tab-separated with the fields as JSON at the end', () => {
    check(jira, {host: 'jira.example.com', ip: '104.192.141.1', port: 443, time: '2019-02-05T10:23:01.324Z'});
  });

  test('a name-resolution failure names the host, not the resolver at :53', () => {
    check(action, {host: 'integrations.example.net', ip: null, port: 8080});
    expect(failedBeforeConnecting(parseAppLogLine(action) as AppLogEvent)).toBe(true);
  });

  test('space-separated console line with trailing JSON fields', () => {
    check(trailing, {host: 'minio.example.net', port: 9000, timeMs: null});
  });
});

describe('6.x–11.x JSON (logr)', () => {
  const [imds, resetOffset, webhook, push, ldap, es, smtp, marketplace, command, plugin, rudder, dbPing] = lines('logr-json.log');

  test('"timestamp" with Z and with an offset', () => {
    check(imds, {time: '2024-10-04T08:21:16.133Z'});
    check(resetOffset, {host: 'objects.example.net', ip: '203.0.113.40', port: 443, time: '2022-02-17T05:46:49.882Z'});
  });

  test('the instance metadata URL the S3 credential chain calls', () => {
    check(imds, {host: null, ip: '169.254.169.254', port: 80, url: 'http://169.254.169.254/latest/api/token'});
  });

  test('one failed call per integration', () => {
    check(webhook, {host: 'hooks.example.org', port: 443});
    check(push, {host: 'push.mattermost.com', ip: '34.200.10.20', time: '2025-03-02T08:15:42.310Z'});
    check(ldap, {host: null, ip: '10.20.30.40', port: 636});
    check(es, {host: 'search.example.mil', ip: '198.51.100.7', port: 9200});
    check(smtp, {ip: '192.0.2.25', port: 587});
    check(marketplace, {host: 'api.integrations.mattermost.com', port: 443});
    check(command, {host: 'ci.example.net', port: 443});
    check(plugin, {host: 'code.example.mil', url: 'https://code.example.mil/api/v4/user'});
    check(rudder, {host: 'pdat.matterlytics.com'});
  });

  test('a database ping names the database from dataSource, never Docker’s resolver 127.0.0.11:53', () => {
    check(dbPing, {host: 'postgres', ip: null, port: 5432});
    expect(failedBeforeConnecting(parseAppLogLine(dbPing) as AppLogEvent)).toBe(true);
  });

  test('the message keeps the words and the error', () => {
    expect(parseAppLogLine(webhook)?.message).toBe('Event POST failed.: Post "https://hooks.example.org/mattermost/outgoing": EOF');
  });
});

describe('logr plain text', () => {
  const [webhook, push, action] = lines('logr-plain.log');

  test('quoted error= value', () => {
    check(webhook, {host: 'hooks.example.org', ip: '198.51.100.20', port: 443, time: '2022-07-07T11:50:42.602Z'});
    check(push, {host: 'push.mattermost.com', ip: null, port: 443});
  });

  test('unquoted err= value with spaces', () => {
    check(action, {host: 'actions.example.net', port: 8080, url: 'http://actions.example.net:8080/approve'});
    expect(parseAppLogLine(action)?.message).toContain('err=Post http://actions.example.net:8080/approve: EOF');
  });
});

describe('wrappers', () => {
  const [timestamps, prefixed, both, syslog, syslogIso, compose, swarm] = lines('wrapped.log');

  test('kubectl --timestamps: the record’s own time wins', () => {
    check(timestamps, {ip: '169.254.169.254', pod: null, time: '2024-10-04T08:21:16.133Z'});
  });

  test('kubectl --prefix names the pod', () => {
    check(prefixed, {host: 'hooks.example.org', pod: 'mattermost-7d9f8b6c5-x2x7q'});
    check(both, {host: 'push.mattermost.com', pod: 'mattermost-7d9f8b6c5-x2x7q', time: '2024-10-04T08:22:01.007Z'});
  });

  test('the kubectl time is used when the line has none', () => {
    check('2024-10-04T08:21:16.5Z Post "https://api.github.com/graphql": EOF', {host: 'api.github.com', time: '2024-10-04T08:21:16.500Z'});
  });

  test('syslog (BSD and ISO) and docker compose / swarm prefixes', () => {
    check(syslog, {host: 'files.example.net', ip: '203.0.113.9', time: '2023-02-14T18:24:11.401Z'});
    check(syslogIso, {host: 'hooks.example.org', url: 'https://hooks.example.org/legacy', time: '2024-02-06T19:28:50.120Z'});
    check(compose, {ip: '169.254.169.254', time: '2023-03-03T20:52:06.876Z'});
    check(swarm, {host: 'push-proxy.example.net', ip: '10.0.5.12', port: 8066, time: '2018-03-21T08:11:35Z'});
  });
});

describe('lines that are not failed outbound calls', () => {
  test.each(lines('not-outbound.log').map((l, i) => [i + 1, l]))('not-outbound.log line %i → null', (_n, line) => {
    expect(parseAppLogLine(line as string)).toBeNull();
  });

  test('empty, whitespace and non-strings', () => {
    for (const v of ['', '   ', '\r', '{}', '[]', 'null', null, undefined, 42]) expect(parseAppLogLine(v as string)).toBeNull();
  });
});

describe('Go error shapes', () => {
  test('IPv6 dial and read addresses', () => {
    check('{"level":"error","msg":"x","error":"Post \\"https://h.example.com/\\": dial tcp [2600:1F18:0:0::1]:443: connect: connection refused"}', {
      host: 'h.example.com',
      ip: '2600:1f18::1',
      port: 443,
    });
    check('read tcp [fd00::5]:41000->[2600:1f18::9]:8443: read: connection reset by peer', {ip: '2600:1f18::9', port: 8443});
  });

  test('old Go "getsockopt:" and a TLS handshake timeout', () => {
    check('Post https://push.example.com/api/v1/send_push: dial tcp 203.0.113.5:443: getsockopt: connection refused', {
      host: 'push.example.com',
      ip: '203.0.113.5',
    });
    check('Get "https://gitlab.example.com/api/v4/user": net/http: TLS handshake timeout', {host: 'gitlab.example.com', ip: null, port: 443});
  });

  test('a dial error naming a host rather than an address', () => {
    check('LDAP Result Code 200 "Network Error": dial tcp ldap.example.com:389: i/o timeout', {host: 'ldap.example.com', ip: null, port: 389});
  });

  test('lookup forms', () => {
    const e = parseAppLogLine('unable to connect to the SMTP server: dial tcp: lookup smtp.example.com on 10.96.0.10:53: no such host') as AppLogEvent;
    expect(e).toMatchObject({host: 'smtp.example.com', ip: null, port: null});
    expect(failedBeforeConnecting(e)).toBe(true);
    expect(parseAppLogLine('lookup minio: Temporary failure in name resolution')).toMatchObject({host: 'minio'});
    // DNS over TCP: the resolver's address appears in a dial error of its own.
    expect(
      parseAppLogLine('Get "https://api.github.com/": dial tcp: lookup api.github.com on 10.96.0.10:53: dial tcp 10.96.0.10:53: i/o timeout'),
    ).toMatchObject({
      host: 'api.github.com',
      ip: null,
      port: 443,
    });
  });

  test('a refusal by Mattermost itself (address forbidden) and loopback targets are not outbound calls', () => {
    expect(
      parseAppLogLine(
        'Post "http://10.0.0.8/hook": address forbidden, you may need to set AllowedUntrustedInternalConnections to allow an integration access to your internal network',
      ),
    ).toBeNull();
    expect(parseAppLogLine('Post "http://localhost:8065/api/v4/posts": dial tcp 127.0.0.1:8065: connect: connection refused')).toBeNull();
  });

  test("Go's dial error with a local address names the remote end after the arrow", () => {
    const e = parseAppLogLine(
      '{"timestamp":"2024-10-04 08:21:16.133 Z","level":"error","msg":"Failed to open a connection to SMTP server","error":"dial tcp 10.42.1.17:41234->52.94.8.12:587: i/o timeout"}',
    );
    expect(e).toMatchObject({ip: '52.94.8.12', port: 587});
    const v6 = parseAppLogLine('Unable to connect to AD/LDAP server. dial tcp [fd00::5]:40001->[2600:1f18::9]:636: connect: connection refused');
    expect(v6).toMatchObject({ip: '2600:1f18::9', port: 636});
  });

  test("Mattermost's own refusal of an internal address is explained with the setting to change", () => {
    const line =
      '{"timestamp":"2024-10-04 08:32:00.000 Z","level":"error","msg":"Action integration error","error":"DoActionRequest: Action integration error., Post \\"http://hooks.corp.internal:8080/actions\\": address forbidden, you may need to set AllowedUntrustedInternalConnections to allow an integration access to your internal network"}';
    expect(parseAppLogLine(line)).toBeNull();
    const r = parseMattermostRefusal(line);
    expect(r).toMatchObject({url: 'http://hooks.corp.internal:8080/actions', host: 'hooks.corp.internal', timeMs: at('2024-10-04T08:32:00.000Z')});
    expect(r?.advice).toContain('ServiceSettings.AllowedUntrustedInternalConnections');
    expect(r?.advice).toContain('"hooks.corp.internal"');
    expect(r?.advice).toContain('not the mesh');
    expect(parseMattermostRefusal('Post "https://s3.amazonaws.com/x": dial tcp 52.1.2.3:443: i/o timeout')).toBeNull();
  });

  test('hostile host names in a URL are not taken', () => {
    expect(parseAppLogLine('Post "https://evil_host.example/x": EOF')).toBeNull();
    expect(parseAppLogLine('Post "https://a\u202eb.example/x": EOF')).toBeNull();
    expect(parseAppLogLine('Post "https://*.example.com/x": EOF')).toBeNull();
  });

  test('an unrelated "url" field of a request line is not a target', () => {
    expect(parseAppLogLine('{"level":"debug","msg":"Received HTTP request","method":"GET","url":"https://chat.example.mil/api/v4/users/me"}')).toBeNull();
  });
});

describe('parseTime', () => {
  test.each([
    ['2024-10-04 08:21:16.133 Z', '2024-10-04T08:21:16.133Z'],
    ['2024-10-04 08:21:16.133 +03:00', '2024-10-04T05:21:16.133Z'],
    ['2022-02-16 21:46:49.882 -08:00', '2022-02-17T05:46:49.882Z'],
    ['2024-10-04T08:21:16.140512345Z', '2024-10-04T08:21:16.140Z'],
    ['2024-10-04T08:21:16+0530', '2024-10-04T02:51:16Z'],
    ['2024-10-04 08:21:16', '2024-10-04T08:21:16Z'],
  ])('%s', (s, iso) => {
    expect(parseTime(s)).toBe(Date.parse(iso));
  });

  test.each(['', 'yesterday', '2024-13-01 00:00:00 Z', '2024-10-04 25:00:00 Z', '2024-10-04'])('%p → null', (s) => {
    expect(parseTime(s)).toBeNull();
  });
});

describe('properties', () => {
  const fixtureLines = ['4x-plain.log', '5x-zap-json.log', '5x-zap-console.log', 'logr-json.log', 'logr-plain.log', 'wrapped.log'].flatMap(lines);

  function valid(e: AppLogEvent | null): boolean {
    if (e === null) return true;
    if (e.host !== null) {
      const c = checkHost(e.host);
      if (!c.ok || c.host !== e.host) return false;
    }
    if (e.port !== null && !(Number.isInteger(e.port) && e.port > 0 && e.port < 65536)) return false;
    if (e.timeMs !== null && !Number.isFinite(e.timeMs)) return false;
    return (e.host !== null || e.ip !== null) && typeof e.message === 'string' && e.message.length <= 1001;
  }

  test('arbitrary text never throws and never yields an invalid event', () => {
    fc.assert(
      fc.property(fc.string({unit: 'binary', maxLength: 400}), (s) => valid(parseAppLogLine(s))),
      {numRuns: 1000},
    );
  });

  test('arbitrary JSON lines never throw', () => {
    fc.assert(
      fc.property(fc.json(), (s) => valid(parseAppLogLine(s))),
      {numRuns: 500},
    );
  });

  test('fixture lines with random damage never throw', () => {
    fc.assert(
      fc.property(fc.constantFrom(...fixtureLines), fc.nat(), fc.string({maxLength: 20}), fc.nat({max: 40}), (line, pos, insert, drop) => {
        const p = pos % (line.length + 1);
        return valid(parseAppLogLine(line.slice(0, p) + insert + line.slice(p + drop)));
      }),
      {numRuns: 1000},
    );
  });

  test('a very long line is cut before parsing: the URL loses its closing quote', () => {
    expect(parseAppLogLine(`Post "https://big.example.com/${'a'.repeat(2_000_000)}": EOF`)).toBeNull();
    expect(parseAppLogLine(`Post "https://big.example.com/${'a'.repeat(1000)}": EOF`)).toMatchObject({host: 'big.example.com'});
  });
});
