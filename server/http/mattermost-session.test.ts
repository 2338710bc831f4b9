// How the verifier reads answers that a real Mattermost does not easily produce (proxies, redirects,
// timeouts). The real server is in session.integration.test.ts.
import {createServer, type IncomingMessage, type Server, type ServerResponse} from 'node:http';
import type {AddressInfo} from 'node:net';

import {createMattermostSessionVerifier} from './mattermost-session';

type Handler = (req: IncomingMessage, res: ServerResponse) => void;

let server: Server;
let url: string;
let handler: Handler;
const seen: IncomingMessage[] = [];

beforeAll(async () => {
  server = createServer((req, res) => {
    seen.push(req);
    handler(req, res);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

beforeEach(() => {
  seen.length = 0;
});

function json(status: number, body: unknown): Handler {
  return (_req, res) => {
    res.writeHead(status, {'content-type': 'application/json'});
    res.end(JSON.stringify(body));
  };
}

const TOKEN = 'abcdefghijklmnopqrstuvwxyz';

test('200 with a user: the identity, roles split', async () => {
  handler = json(200, {id: 'u1', username: 'alice', roles: 'system_user  system_admin', delete_at: 0});
  const verify = createMattermostSessionVerifier({url: `${url}/`});
  expect(await verify(TOKEN)).toEqual({userId: 'u1', username: 'alice', roles: ['system_user', 'system_admin']});
  expect(seen[0].url).toBe('/api/v4/users/me');
  expect(seen[0].headers.authorization).toBe(`Bearer ${TOKEN}`);
  expect(seen[0].headers.cookie).toBeUndefined();
});

test('a Mattermost 401 is "invalid"; a deactivated user too', async () => {
  handler = json(401, {id: 'api.context.session_expired.app_error', message: 'Invalid or expired session', status_code: 401});
  expect(await createMattermostSessionVerifier({url})(TOKEN)).toBe('invalid');
  handler = json(200, {id: 'u1', username: 'gone', roles: 'system_admin', delete_at: 1700000000000});
  expect(await createMattermostSessionVerifier({url})(TOKEN)).toBe('invalid');
});

test('answers that are not Mattermost\'s say nothing about the token: "unreachable", with the reason reported', async () => {
  const problems: string[] = [];
  const verify = createMattermostSessionVerifier({url, onProblem: (m) => problems.push(m)});
  const cases: Handler[] = [
    (_req, res) => res.writeHead(401, {'content-type': 'text/html'}).end('<html>login</html>'),
    json(502, {message: 'bad gateway'}),
    json(503, {id: 'api.server.unavailable', message: 'down'}),
    json(200, {hello: 'not a user'}),
    (_req, res) => res.writeHead(302, {location: 'http://elsewhere.example/'}).end(),
  ];
  for (const h of cases) {
    handler = h;
    expect(await verify(TOKEN)).toBe('unreachable');
  }
  expect(problems).toHaveLength(cases.length);
  expect(problems.join('\n')).not.toContain(TOKEN);
  // The redirect was not followed.
  expect(seen.filter((r) => r.url !== '/api/v4/users/me')).toHaveLength(0);
});

async function closedPort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const {port} = probe.address() as AddressInfo;
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  return port;
}

test('no answer within the timeout, or no server: "unreachable"', async () => {
  handler = () => undefined;
  const problems: string[] = [];
  expect(await createMattermostSessionVerifier({url, timeoutMs: 100, onProblem: (m) => problems.push(m)})(TOKEN)).toBe('unreachable');
  expect(problems[0]).toMatch(/no answer within 100 ms/);
  expect(await createMattermostSessionVerifier({url: `http://127.0.0.1:${await closedPort()}`, onProblem: (m) => problems.push(m)})(TOKEN)).toBe('unreachable');
  expect(problems[1]).toMatch(/connection failed \(ECONNREFUSED\)/);
});

test('refuses URLs it must not call', () => {
  expect(() => createMattermostSessionVerifier({url: 'ftp://mm'})).toThrow(/http/);
  expect(() => createMattermostSessionVerifier({url: 'http://user:pw@mm'})).toThrow(/user or password/);
  expect(() => createMattermostSessionVerifier({url: 'not a url'})).toThrow(/not a URL/);
});
