/*
 * The real session verifier against a real Mattermost server (test/mattermost/harness.ts), and the webapp
 * API wired to it. Needs the server binary from test/mattermost/build.sh and a running PostgreSQL; fails,
 * never skips, without them.
 */
import type {FastifyInstance} from 'fastify';

import {startMattermost, type MattermostServer} from '../../test/mattermost/harness';
import {buildHttpApp} from './app';
import {createMattermostSessionVerifier} from './mattermost-session';
import {API, cookieHeader, CSRF, KEYS, seededStore, testDeps, type TestStore} from './testing/fixtures';
import type {SessionVerifier} from './types';

jest.setTimeout(240_000);

let mm: MattermostServer;
let verify: SessionVerifier;
const problems: string[] = [];

beforeAll(async () => {
  mm = await startMattermost();
  verify = createMattermostSessionVerifier({url: mm.url, timeoutMs: 5_000, onProblem: (m) => problems.push(m)});
}, 240_000);

afterAll(async () => {
  await mm?.stop();
}, 60_000);

test('an admin session token gives the admin identity', async () => {
  const answer = await verify(mm.adminToken);
  expect(answer).toEqual({userId: mm.admin.id, username: mm.admin.username, roles: expect.arrayContaining(['system_user', 'system_admin'])});
});

test('an ordinary user token gives a non-admin identity', async () => {
  const answer = await verify(mm.userToken);
  expect(answer).toEqual({userId: mm.user.id, username: mm.user.username, roles: ['system_user']});
});

test('a bogus token is "invalid"', async () => {
  expect(await verify('zzzzzzzzzzzzzzzzzzzzzzzzzz')).toBe('invalid');
  expect(problems).toEqual([]);
});

test('a revoked session is "invalid"', async () => {
  const client = mm.client('');
  await client.login(mm.user.username, mm.password);
  const token = client.getToken();
  expect(await verify(token)).toMatchObject({userId: mm.user.id});
  await client.logout();
  expect(await verify(token)).toBe('invalid');
});

describe('the webapp API with the real verifier', () => {
  let db: TestStore;
  let app: FastifyInstance;
  let base: string;

  beforeAll(async () => {
    db = await seededStore();
    app = buildHttpApp(testDeps(db.store, {sessions: verify}));
    base = await app.listen({host: '127.0.0.1', port: 0});
  });

  afterAll(async () => {
    await app.close();
    await db.cleanup();
  });

  const findings = (headers: Record<string, string>) => fetch(`${base}${API}/findings`, {headers});

  test('admin cookie: 200; user cookie: 403; bogus cookie: 401; admin Bearer: 200', async () => {
    expect((await findings({cookie: cookieHeader(mm.adminToken)})).status).toBe(200);
    expect((await findings({cookie: cookieHeader(mm.userToken)})).status).toBe(403);
    expect((await findings({cookie: cookieHeader('zzzzzzzzzzzzzzzzzzzzzzzzzz')})).status).toBe(401);
    expect((await findings({authorization: `Bearer ${mm.adminToken}`})).status).toBe(200);
  });

  test('an ignore by the real admin is recorded under their Mattermost identity', async () => {
    const res = await fetch(`${base}${API}/findings/${encodeURIComponent(KEYS.s3)}/ignore`, {
      method: 'POST',
      headers: {cookie: cookieHeader(mm.adminToken, CSRF), 'x-csrf-token': CSRF, 'content-type': 'application/json'},
      body: JSON.stringify({reason: 'S3 goes through the VPC endpoint'}),
    });
    expect(res.status).toBe(200);
    expect(((await res.json()) as {ignored: {by: unknown}}).ignored.by).toEqual({userId: mm.admin.id, username: mm.admin.username});
  });
});

// Last: it stops the server.
test('a stopped server is "unreachable"', async () => {
  await mm.stopProcess();
  expect(await verify(mm.adminToken)).toBe('unreachable');
  expect(problems.at(-1)).toMatch(/connection failed \(ECONNREFUSED\)/);
  expect(problems.join('\n')).not.toContain(mm.adminToken);
});
