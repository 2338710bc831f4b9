// fastify's inject (light-my-request) requires the ESM-only `cookie` package, which jest's CommonJS runtime
// cannot load on Node 20; inject uses it only for its `cookies` option, which these tests do not use.
jest.mock('cookie', () => ({stringifySetCookie: ({name, value}: {name: string; value: string}) => `${name}=${value}`}));

import {buildHttpApp} from './app';
import {httpLogger, scrubUrl} from './logging';
import {COMMAND_PATH} from './mattermost';
import {
  ADMIN_TOKEN,
  adminBrowser,
  API,
  BAD_TOKEN,
  BOT_ADMIN_TOKEN,
  captureLogger,
  cookieHeader,
  CSRF,
  DOWN_TOKEN,
  KEYS,
  seededStore,
  SLASH_TOKEN,
  testDeps,
  USER_TOKEN,
} from './testing/fixtures';

const SECRETS = [ADMIN_TOKEN, USER_TOKEN, BAD_TOKEN, BOT_ADMIN_TOKEN, DOWN_TOKEN, CSRF, SLASH_TOKEN];

function expectNoSecret(text: string): void {
  for (const secret of SECRETS) expect(text).not.toContain(secret);
}

test('no session token, CSRF token or command token reaches the log, whatever the request', async () => {
  const db = await seededStore();
  const deps = testDeps(db.store);
  deps.onSlashCommand = async () => {
    // A handler that quotes what it was sent, as careless error messages do.
    throw new Error(`upstream refused Authorization: Token ${SLASH_TOKEN} (cookie MMAUTHTOKEN=${ADMIN_TOKEN})`);
  };
  const app = buildHttpApp(deps);
  try {
    const form = (token: string) => `token=${token}&command=%2Fegress&user_id=u&channel_id=c&team_id=t&text=list`;
    const requests = [
      app.inject({method: 'GET', url: `${API}/findings`, headers: adminBrowser()}),
      app.inject({method: 'GET', url: `${API}/findings`, headers: {authorization: `Bearer ${BOT_ADMIN_TOKEN}`}}),
      app.inject({method: 'GET', url: `${API}/findings`, headers: {cookie: cookieHeader(USER_TOKEN, CSRF)}}),
      app.inject({method: 'GET', url: `${API}/findings`, headers: {cookie: cookieHeader(BAD_TOKEN)}}),
      app.inject({method: 'GET', url: `${API}/findings`, headers: {cookie: cookieHeader(DOWN_TOKEN)}}),
      app.inject({method: 'POST', url: `${API}/findings/${encodeURIComponent(KEYS.ip)}/ignore`, headers: adminBrowser(), payload: {reason: 'x'}}),
      app.inject({method: 'POST', url: `${API}/findings/${encodeURIComponent(KEYS.ip)}/ignore`, headers: {cookie: cookieHeader(ADMIN_TOKEN, CSRF)}, payload: {reason: 'x'}}),
      app.inject({
        method: 'POST',
        url: `${COMMAND_PATH}?token=${SLASH_TOKEN}&access_token=${ADMIN_TOKEN}`,
        headers: {'content-type': 'application/x-www-form-urlencoded', authorization: `Token ${SLASH_TOKEN}`},
        payload: form(SLASH_TOKEN),
      }),
      app.inject({method: 'POST', url: COMMAND_PATH, headers: {'content-type': 'application/x-www-form-urlencoded'}, payload: form('wrong')}),
    ];
    const statuses = (await Promise.all(requests)).map((r) => r.statusCode);
    expect(statuses).toEqual([200, 200, 403, 401, 503, 200, 403, 200, 401]);

    const text = deps.log.text();
    expectNoSecret(text);
    // The log is not empty: requests, the audit line and the handler failure are all there.
    const entries = deps.log.entries();
    expect(entries.some((e) => e.msg === 'incoming request' && (e.req as {url: string}).url.includes('/mattermost/command?token=[redacted]'))).toBe(true);
    expect(entries.some((e) => e.msg === 'finding ignored' && e.userId === 'u-admin')).toBe(true);
    expect(entries.some((e) => e.msg === 'slash command handler failed' && String((e.err as {message: string}).message).includes('[redacted]'))).toBe(true);
    expect(entries.some((e) => e.msg === 'authenticated' && e.via === 'bearer')).toBe(true);
  } finally {
    await app.close();
    await db.cleanup();
  }
});

test('credential fields are redacted even when code logs headers or token fields itself', () => {
  const capture = captureLogger();
  const log = httpLogger(capture.logger);
  log.info({headers: {authorization: `Bearer ${ADMIN_TOKEN}`, cookie: `MMAUTHTOKEN=${ADMIN_TOKEN}`, 'x-csrf-token': CSRF}}, 'headers');
  log.info({req: {headers: {authorization: `Token ${SLASH_TOKEN}`}}}, 'nested');
  log.info({token: SLASH_TOKEN, body: {token: SLASH_TOKEN}, session: {user: {token: USER_TOKEN}}}, 'fields');
  log.child({reqId: 'r1'}).info({cookies: {MMAUTHTOKEN: ADMIN_TOKEN}}, 'grandchild');
  expectNoSecret(capture.text());
  expect(capture.entries().map((e) => e.msg)).toEqual(['headers', 'nested', 'fields', 'grandchild']);
});

test('scrubUrl hides credential query values and keeps the rest', () => {
  expect(scrubUrl(`/x?q=push&token=${SLASH_TOKEN}&MMAUTHTOKEN=${ADMIN_TOKEN}`)).toBe('/x?q=push&token=[redacted]&MMAUTHTOKEN=[redacted]');
});
