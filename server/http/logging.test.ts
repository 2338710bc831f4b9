// fastify's inject (light-my-request) requires the ESM-only `cookie` package, which jest's CommonJS runtime
// cannot load on Node 20; inject uses it only for its `cookies` option, which these tests do not use.
jest.mock('cookie', () => ({stringifySetCookie: ({name, value}: {name: string; value: string}) => `${name}=${value}`}));

import {buildHttpApp} from './app';
import {httpLogger, scrubUrl} from './logging';
import {COMMAND_PATH, SETTINGS_PATH} from './mattermost';
import {ADMIN, API, captureLogger, KEYS, PLUGIN_SECRET, seededStore, signed, testDeps} from './testing/fixtures';

const TOKEN = 'adm1n0000000000000000000aa';

test('neither the plugin secret nor a signature reaches the log, whatever the request', async () => {
  const db = await seededStore();
  const deps = testDeps(db.store);
  const app = buildHttpApp(deps);
  try {
    const ignore = signed('POST', `${API}/findings/${encodeURIComponent(KEYS.ip)}/ignore`, {payload: {reason: 'x'}});
    const requests = [
      signed('GET', `${API}/findings`),
      ignore,
      signed('GET', `${API}/findings`, {secret: 'wrong-secret-wrong-secret-wrong-secret-00'}),
      {method: 'GET' as const, url: `${API}/findings?access_token=${TOKEN}`, headers: {authorization: `Bearer ${TOKEN}`, cookie: `MMAUTHTOKEN=${TOKEN}`}},
      signed('POST', COMMAND_PATH, {payload: {command: '/egress list', user_id: ADMIN.userId}}),
      signed('PUT', SETTINGS_PATH, {payload: {suggestionFormat: 'bigbang', showAlertYaml: true}, caller: null}),
    ];
    const statuses = [];
    for (const r of requests) statuses.push((await app.inject(r)).statusCode);
    expect(statuses).toEqual([200, 200, 401, 401, 200, 204]);

    const text = deps.log.text();
    expect(text).not.toContain(PLUGIN_SECRET);
    expect(text).not.toContain(TOKEN);
    for (const r of requests) {
      const sig = (r.headers as Record<string, string>)['x-egress-advisor-signature'];
      if (sig) expect(text).not.toContain(sig);
    }
    // The log is not empty: requests, the audit line and the refusals are all there.
    const entries = deps.log.entries();
    expect(entries.some((e) => e.msg === 'finding ignored' && e.userId === ADMIN.userId)).toBe(true);
    expect(entries.filter((e) => e.msg === 'refused an unsigned or badly signed call')).toHaveLength(2);
    expect(entries.some((e) => e.msg === 'incoming request' && (e.req as {url: string}).url.includes('access_token=[redacted]'))).toBe(true);
  } finally {
    await app.close();
    await db.cleanup();
  }
});

test('credential fields are redacted even when code logs headers or secret fields itself', () => {
  const capture = captureLogger();
  const log = httpLogger(capture.logger);
  log.info({headers: {authorization: `Bearer ${TOKEN}`, cookie: `MMAUTHTOKEN=${TOKEN}`, 'x-egress-advisor-signature': 'f'.repeat(64)}}, 'headers');
  log.info({token: TOKEN, secret: PLUGIN_SECRET, settings: {bridgesecret: PLUGIN_SECRET}}, 'fields');
  log.child({reqId: 'r1'}).info({cookies: {MMAUTHTOKEN: TOKEN}}, 'grandchild');
  const text = capture.text();
  for (const s of [TOKEN, PLUGIN_SECRET, 'f'.repeat(64)]) expect(text).not.toContain(s);
  expect(capture.entries().map((e) => e.msg)).toEqual(['headers', 'fields', 'grandchild']);
});

test('scrubUrl hides credential query values and keeps the rest', () => {
  expect(scrubUrl(`/x?q=push&token=${TOKEN}&MMAUTHTOKEN=${TOKEN}`)).toBe('/x?q=push&token=[redacted]&MMAUTHTOKEN=[redacted]');
});
