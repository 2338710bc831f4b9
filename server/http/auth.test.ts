// fastify's inject (light-my-request) requires the ESM-only `cookie` package, which jest's CommonJS runtime
// cannot load on Node 20; inject uses it only for its `cookies` option, which these tests do not use.
jest.mock('cookie', () => ({stringifySetCookie: ({name, value}: {name: string; value: string}) => `${name}=${value}`}));

import type {FastifyInstance} from 'fastify';

import {buildHttpApp} from './app';
import {SessionCache, SessionChecker, tokenDigest} from './session-cache';
import {
  ADMIN,
  ADMIN_TOKEN,
  adminBrowser,
  API,
  BAD_TOKEN,
  BOT_ADMIN_TOKEN,
  cookieHeader,
  CSRF,
  DOWN_TOKEN,
  KEYS,
  seededStore,
  testDeps,
  USER_TOKEN,
  type TestDeps,
  type TestStore,
} from './testing/fixtures';

let db: TestStore;
let deps: TestDeps;
let app: FastifyInstance;
let now: number;

beforeEach(async () => {
  db = await seededStore();
  now = 1_700_000_000_000;
  deps = testDeps(db.store, {options: {clock: () => now, sessionTtlMs: 30_000}});
  app = buildHttpApp(deps);
  await app.ready();
});

afterEach(async () => {
  await app.close();
  await db.cleanup();
});

const ignorePath = `${API}/findings/${encodeURIComponent(KEYS.push)}/ignore`;

describe('who may use the webapp API', () => {
  test('no session at all: 401 that says to log in', async () => {
    const res = await app.inject({method: 'GET', url: `${API}/findings`});
    expect(res.statusCode).toBe(401);
    expect(res.json()).toMatchObject({code: 'unauthenticated', error: expect.stringMatching(/Log in to Mattermost/)});
    expect(deps.verifier.calls).toHaveLength(0);
  });

  test('a session Mattermost does not accept: 401', async () => {
    const res = await app.inject({method: 'GET', url: `${API}/findings`, headers: {cookie: cookieHeader(BAD_TOKEN)}});
    expect(res.statusCode).toBe(401);
    expect(res.json().code).toBe('session_invalid');
  });

  test('a token of a shape Mattermost never issues is refused without asking it', async () => {
    const res = await app.inject({method: 'GET', url: `${API}/findings`, headers: {authorization: 'Bearer a\u00e9b'}});
    expect(res.statusCode).toBe(401);
    expect(deps.verifier.calls).toHaveLength(0);
  });

  test('a user without system_admin: 403 with a clear message', async () => {
    const res = await app.inject({method: 'GET', url: `${API}/findings`, headers: {cookie: cookieHeader(USER_TOKEN)}});
    expect(res.statusCode).toBe(403);
    expect(res.json()).toEqual({
      code: 'not_system_admin',
      error: 'Egress Advisor is for system administrators: the Mattermost account @bob does not have the system_admin role.',
      requestId: expect.any(String),
    });
  });

  test('a system admin with the session cookie: 200', async () => {
    const res = await app.inject({method: 'GET', url: `${API}/findings`, headers: {cookie: cookieHeader(ADMIN_TOKEN)}});
    expect(res.statusCode).toBe(200);
    expect(res.json().total).toBe(4);
    expect(res.headers['cache-control']).toBe('no-store');
  });

  test('Mattermost unreachable: 503 with Retry-After, and nothing cached', async () => {
    for (let i = 0; i < 2; i++) {
      const res = await app.inject({method: 'GET', url: `${API}/findings`, headers: {cookie: cookieHeader(DOWN_TOKEN)}});
      expect(res.statusCode).toBe(503);
      expect(res.headers['retry-after']).toBe('5');
      expect(res.json().code).toBe('mattermost_unreachable');
    }
    expect(deps.verifier.calls).toEqual([DOWN_TOKEN, DOWN_TOKEN]);
  });

  test('a verifier that throws counts as unreachable', async () => {
    const failing = testDeps(db.store, {sessions: async () => Promise.reject(new Error('boom'))});
    const other = buildHttpApp(failing);
    try {
      const res = await other.inject({method: 'GET', url: `${API}/findings`, headers: {cookie: cookieHeader(ADMIN_TOKEN)}});
      expect(res.statusCode).toBe(503);
    } finally {
      await other.close();
    }
  });
});

describe('Bearer tokens', () => {
  test('authenticate like the cookie', async () => {
    const res = await app.inject({method: 'GET', url: `${API}/findings/revision`, headers: {authorization: `Bearer ${BOT_ADMIN_TOKEN}`}});
    expect(res.statusCode).toBe(200);
    expect(deps.verifier.calls).toEqual([BOT_ADMIN_TOKEN]);
  });

  test('win over the cookie when both are sent', async () => {
    const res = await app.inject({
      method: 'GET',
      url: `${API}/findings/revision`,
      headers: {authorization: `bearer ${USER_TOKEN}`, cookie: cookieHeader(ADMIN_TOKEN)},
    });
    expect(res.statusCode).toBe(403);
  });

  test('need no CSRF token on changes: a browser cannot attach the header cross-site', async () => {
    const res = await app.inject({
      method: 'POST',
      url: ignorePath,
      headers: {authorization: `Bearer ${ADMIN_TOKEN}`},
      payload: {reason: 'scripted'},
    });
    expect(res.statusCode).toBe(200);
    expect(res.json().status).toBe('ignored');
  });

  test('another Authorization scheme falls back to the cookie', async () => {
    const res = await app.inject({
      method: 'GET',
      url: `${API}/findings/revision`,
      headers: {authorization: 'Basic dXNlcjpwYXNz', cookie: cookieHeader(ADMIN_TOKEN)},
    });
    expect(res.statusCode).toBe(200);
  });

  test('an empty Bearer token is no session', async () => {
    const res = await app.inject({method: 'GET', url: `${API}/findings`, headers: {authorization: 'Bearer '}});
    expect(res.statusCode).toBe(401);
    expect(res.json().code).toBe('unauthenticated');
  });
});

describe('double-submit CSRF on cookie sessions', () => {
  test('a POST without X-CSRF-Token: 403, and Mattermost is not even asked', async () => {
    const res = await app.inject({method: 'POST', url: ignorePath, headers: {cookie: cookieHeader(ADMIN_TOKEN, CSRF)}, payload: {reason: 'x'}});
    expect(res.statusCode).toBe(403);
    expect(res.json().code).toBe('csrf_missing');
    expect(deps.verifier.calls).toHaveLength(0);
    expect((await db.store.getFinding(KEYS.push))?.status).toBe('open');
  });

  test('a header that does not match the MMCSRF cookie: 403', async () => {
    const res = await app.inject({
      method: 'POST',
      url: ignorePath,
      headers: {cookie: cookieHeader(ADMIN_TOKEN, CSRF), 'x-csrf-token': `${CSRF}x`},
      payload: {reason: 'x'},
    });
    expect(res.statusCode).toBe(403);
    expect(res.json().code).toBe('csrf_mismatch');
  });

  test('a header without the MMCSRF cookie: 403', async () => {
    const res = await app.inject({
      method: 'POST',
      url: ignorePath,
      headers: {cookie: cookieHeader(ADMIN_TOKEN), 'x-csrf-token': CSRF},
      payload: {reason: 'x'},
    });
    expect(res.statusCode).toBe(403);
    expect(res.json().code).toBe('csrf_missing');
  });

  test('the matching header: 200', async () => {
    const res = await app.inject({method: 'POST', url: ignorePath, headers: adminBrowser(), payload: {reason: 'we use the proxy'}});
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({key: KEYS.push, status: 'ignored', ignored: {by: {userId: ADMIN.userId, username: 'alice'}, reason: 'we use the proxy'}});
  });

  test('GET needs none', async () => {
    const res = await app.inject({method: 'GET', url: `${API}/findings`, headers: {cookie: cookieHeader(ADMIN_TOKEN)}});
    expect(res.statusCode).toBe(200);
  });

  test('the right CSRF token does not make a non-admin an admin', async () => {
    const res = await app.inject({
      method: 'POST',
      url: ignorePath,
      headers: {cookie: cookieHeader(USER_TOKEN, CSRF), 'x-csrf-token': CSRF},
      payload: {reason: 'x'},
    });
    expect(res.statusCode).toBe(403);
    expect(res.json().code).toBe('not_system_admin');
  });
});

describe('session cache', () => {
  test('does not ask Mattermost twice within the TTL, and asks again after it', async () => {
    const get = () => app.inject({method: 'GET', url: `${API}/findings/revision`, headers: {cookie: cookieHeader(ADMIN_TOKEN)}});
    expect((await get()).statusCode).toBe(200);
    now += 29_000;
    expect((await get()).statusCode).toBe(200);
    expect(deps.verifier.calls).toHaveLength(1);
    now += 2_000;
    expect((await get()).statusCode).toBe(200);
    expect(deps.verifier.calls).toHaveLength(2);
  });

  test('remembers refusals too, and a role change shows after the TTL', async () => {
    const get = () => app.inject({method: 'GET', url: `${API}/findings/revision`, headers: {cookie: cookieHeader(USER_TOKEN)}});
    expect((await get()).statusCode).toBe(403);
    deps.verifier.table[USER_TOKEN] = {...ADMIN, username: 'bob'};
    expect((await get()).statusCode).toBe(403);
    now += 30_001;
    expect((await get()).statusCode).toBe(200);
  });

  test('concurrent requests with one token share one verification', async () => {
    const results = await Promise.all(
      Array.from({length: 8}, () => app.inject({method: 'GET', url: `${API}/findings/revision`, headers: {cookie: cookieHeader(ADMIN_TOKEN)}})),
    );
    expect(results.map((r) => r.statusCode)).toEqual(Array(8).fill(200));
    expect(deps.verifier.calls).toHaveLength(1);
  });

  test('is keyed by digests and bounded', async () => {
    let t = 0;
    const cache = new SessionCache({ttlMs: 1000, maxEntries: 3, clock: () => t});
    const verify = jestFn();
    const checker = new SessionChecker(verify.fn, cache);
    for (const token of ['t1', 't2', 't3', 't4']) await checker.check(token);
    expect(cache.size).toBe(3);
    expect(cache.get(tokenDigest('t1'))).toBeUndefined();
    expect(cache.get(tokenDigest('t4'))).toEqual(ADMIN);
    expect(cache.get('t4')).toBeUndefined();
    t = 1000;
    expect(cache.get(tokenDigest('t4'))).toBeUndefined();
  });
});

function jestFn() {
  const calls: string[] = [];
  return {calls, fn: async (token: string) => (calls.push(token), ADMIN)};
}
