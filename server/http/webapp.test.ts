// fastify's inject (light-my-request) requires the ESM-only `cookie` package, which jest's CommonJS runtime
// cannot load on Node 20; inject uses it only for its `cookies` option, which these tests do not use.
jest.mock('cookie', () => ({stringifySetCookie: ({name, value}: {name: string; value: string}) => `${name}=${value}`}));

import type {FastifyInstance} from 'fastify';

import {MAX_REASON_CHARS, type FindingDetail, type FindingsPage, type SuggestionsResponse} from '../../common/api';
import {parseCommand} from '../present/command';
import {buildHttpApp} from './app';
import {ADMIN, API, PLUGIN_SECRET, signed, KEYS, RECENT_HOUR, sampleStatus, seededStore, testDeps, type TestDeps, type TestStore} from './testing/fixtures';
import {FINDINGS_CHANGED} from './types';

let db: TestStore;
let deps: TestDeps;
let app: FastifyInstance;

beforeEach(async () => {
  db = await seededStore();
  deps = testDeps(db.store, {options: {eventCoalesceMs: 0}});
  app = buildHttpApp(deps);
  await app.ready();
});

afterEach(async () => {
  await app.close();
  await db.cleanup();
});

const get = (url: string) => app.inject(signed('GET', `${API}${url}`));
const post = (url: string, payload?: unknown, headers: Record<string, string> = {}) => app.inject(signed('POST', `${API}${url}`, {payload, headers}));
const keyPath = (key: string) => `/findings/${encodeURIComponent(key)}`;

describe('GET findings', () => {
  test('lists every finding, most urgent first, without the sample lines', async () => {
    const res = await get('/findings');
    expect(res.statusCode).toBe(200);
    const page = res.json() as FindingsPage;
    expect(page).toMatchObject({total: 4, limit: 100, offset: 0, searchTruncated: false, revision: expect.any(Number)});
    expect(page.counts).toEqual({byStatus: {open: 4, ignored: 0, resolved: 0}, openByVerdict: {blocked: 3, passthrough: 1}});
    expect(page.items.map((f) => f.key)).toEqual([KEYS.push, KEYS.ip, KEYS.v6, KEYS.s3]);
    expect(page.items[0]).toMatchObject({status: 'open', verdict: 'blocked', count: 40, features: [{id: 'push'}]});
    expect(page.items[0]).not.toHaveProperty('samples');
  });

  test('filters by status and verdict (comma-separated or repeated), sorts and pages', async () => {
    const passthrough = (await get('/findings?verdict=passthrough')).json() as FindingsPage;
    expect(passthrough.items.map((f) => f.key)).toEqual([KEYS.s3]);
    const both = (await get('/findings?verdict=passthrough&verdict=blocked&status=open,ignored')).json() as FindingsPage;
    expect(both.total).toBe(4);
    const byCount = (await get('/findings?sort=count&order=asc&limit=2&offset=1')).json() as FindingsPage;
    expect(byCount.items.map((f) => f.count)).toEqual([7, 12]);
    expect(byCount).toMatchObject({total: 4, limit: 2, offset: 1});
  });

  test('searches text in keys, hosts, features and pods', async () => {
    const byFeature = (await get('/findings?q=PUSH%20notif')).json() as FindingsPage;
    expect(byFeature.items.map((f) => f.key)).toEqual([KEYS.push]);
    const byPod = (await get('/findings?q=mattermost-1')).json() as FindingsPage;
    expect(byPod.items.map((f) => f.key)).toEqual([KEYS.ip]);
    const byAddress = (await get(`/findings?q=${encodeURIComponent('2001:db8')}`)).json() as FindingsPage;
    expect(byAddress).toMatchObject({total: 1, items: [{key: KEYS.v6}]});
    const paged = (await get('/findings?q=443&limit=1&offset=2')).json() as FindingsPage;
    expect(paged.total).toBe(4);
    expect(paged.items).toHaveLength(1);
  });

  test.each([
    ['status=closed', 'status must be one of: open, ignored, resolved', ['open', 'ignored', 'resolved']],
    ['verdict=bad', 'verdict must be one of: blocked, passthrough', undefined],
    ['sort=size', 'sort must be one of: urgency, lastSeen', undefined],
    ['order=up', 'order must be one of: asc, desc', ['asc', 'desc']],
    ['limit=0', 'limit must be a whole number from 1 to 500', undefined],
    ['limit=501', 'limit must be a whole number from 1 to 500', undefined],
    ['offset=-1', 'offset must be a whole number', undefined],
    ['limit=1&limit=2', 'limit is given more than once', undefined],
    ['colour=red', 'unknown query parameter "colour"', undefined],
    ['q=<201 characters>', 'q must be at most 200 characters', undefined],
  ])('refuses %s with a message that names what works', async (query, message, allowed) => {
    const res = await get(`/findings?${query.replace('<201 characters>', 'x'.repeat(201))}`);
    expect(res.statusCode).toBe(400);
    const body = res.json();
    expect(body.code).toBe('invalid_request');
    expect(body.error).toContain(message);
    if (allowed) expect(body.allowed).toEqual(allowed);
  });
});

describe('GET findings/:key', () => {
  test('has samples, attribution, history and decisions', async () => {
    await post(`${keyPath(KEYS.push)}/ignore`, {reason: 'push relay is elsewhere'});
    const res = await get(keyPath(KEYS.push));
    expect(res.statusCode).toBe(200);
    const detail = res.json() as FindingDetail;
    expect(detail.samples).toEqual([expect.stringContaining('BlackHoleCluster push.mattermost.com:443')]);
    expect(detail.attribution).toMatchObject({method: expect.any(String), confidence: expect.any(String)});
    expect(detail.history).toEqual([{hour: RECENT_HOUR, count: 40}]);
    expect(detail.decisions).toEqual([
      {action: 'ignore', by: {userId: ADMIN.userId, username: 'alice'}, reason: 'push relay is elsewhere', at: expect.any(String)},
    ]);
  });

  test('says what to do with the plan that the suggestions give the same key, and carries no other advice', async () => {
    for (const key of [KEYS.push, KEYS.ip]) {
      const detail = (await get(keyPath(key))).json() as FindingDetail;
      const asked = (await post('/suggestions', {keys: [key], format: 'bigbang'})).json() as SuggestionsResponse;
      expect(detail.plan).toEqual(asked.plans[0]);
      expect(detail.plan?.key).toBe(key);
      expect(detail).not.toHaveProperty('advice');
    }
    expect(deps.suggestCalls.filter((c) => c.format === 'bigbang')).toHaveLength(4);
    const list = (await get('/findings')).json() as FindingsPage;
    for (const item of list.items) expect(item).not.toHaveProperty('advice');
  });

  test('takes URL-encoded IPv6 keys', async () => {
    const res = await get(keyPath(KEYS.v6));
    expect(res.statusCode).toBe(200);
    expect(res.json().key).toBe('[2001:db8::1]:443');
  });

  test('answers 404 for an unknown key', async () => {
    const res = await get(keyPath('nowhere.example:443'));
    expect(res.statusCode).toBe(404);
    expect(res.json()).toMatchObject({code: 'finding_not_found', error: expect.stringContaining('"nowhere.example:443"')});
  });

  test('takes keys as long as the store keeps', async () => {
    const res = await get(keyPath(`${'a'.repeat(250)}.example:443`));
    expect(res.statusCode).toBe(404);
    expect(res.json().code).toBe('finding_not_found');
  });
});

describe('ignore and unignore', () => {
  test('ignore records who and why, publishes the change, and 404s for unknown keys', async () => {
    const seen: unknown[] = [];
    deps.emitter.on(FINDINGS_CHANGED, (p) => seen.push(p));
    const res = await post(`${keyPath(KEYS.ip)}/ignore`, {reason: '  metadata probe  '});
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({key: KEYS.ip, status: 'ignored', ignored: {reason: 'metadata probe', by: {username: 'alice'}}});
    expect(seen).toEqual([{keys: [KEYS.ip]}]);
    expect((await post(`${keyPath('nowhere:1')}/ignore`, {reason: 'x'})).statusCode).toBe(404);
  });

  test('ignore takes an optional reason, as /egress ignore and the button do; a bad one is refused', async () => {
    for (const body of [{reason: 5}, {reason: 'x'.repeat(MAX_REASON_CHARS + 1)}, {reason: 'ok', extra: 1}]) {
      const res = await post(`${keyPath(KEYS.ip)}/ignore`, body);
      expect(res.statusCode).toBe(400);
      expect(res.json().code).toBe('invalid_request');
    }
    expect((await db.store.getFinding(KEYS.ip))?.status).toBe('open');
    const res = await post(`${keyPath(KEYS.ip)}/ignore`, {});
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({status: 'ignored', ignored: {reason: ''}});
  });

  test('the longest reason is the one /egress ignore takes, counted in characters, not UTF-16 units', async () => {
    const longest = '\u{1F512}'.repeat(MAX_REASON_CHARS);
    expect(parseCommand(`ignore ${KEYS.ip} ${longest}`)).toMatchObject({ok: true, command: {reason: longest}});
    expect(parseCommand(`ignore ${KEYS.ip} ${longest}x`).ok).toBe(false);
    expect((await post(`${keyPath(KEYS.ip)}/ignore`, {reason: `${longest}x`})).statusCode).toBe(400);
    const res = await post(`${keyPath(KEYS.ip)}/ignore`, {reason: longest});
    expect(res.statusCode).toBe(200);
    expect((await db.store.getFinding(KEYS.ip))?.ignored?.reason).toBe(longest);
  });

  test('hands the change to notifyStatusChange in the same transaction', async () => {
    await app.close();
    const notified: string[] = [];
    deps = testDeps(db.store, {
      notifyStatusChange: (f, action) => {
        notified.push(`${action}:${f.key}:${f.status}`);
        return [{kind: 'finding-status', payload: {key: f.key}}];
      },
    });
    app = buildHttpApp(deps);
    await post(`${keyPath(KEYS.ip)}/ignore`, {reason: 'x'});
    await post(`${keyPath(KEYS.ip)}/unignore`);
    expect(notified).toEqual([`ignore:${KEYS.ip}:ignored`, `unignore:${KEYS.ip}:open`]);
  });

  test('unignore reopens, takes an optional reason, and is a quiet no-op on an open finding', async () => {
    await post(`${keyPath(KEYS.ip)}/ignore`, {reason: 'x'});
    const seen: unknown[] = [];
    deps.emitter.on(FINDINGS_CHANGED, (p) => seen.push(p));
    const res = await post(`${keyPath(KEYS.ip)}/unignore`, {reason: 'needed after all'});
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({status: 'open', ignored: null});
    const again = await post(`${keyPath(KEYS.ip)}/unignore`);
    expect(again.statusCode).toBe(200);
    expect(seen).toHaveLength(1);
    const decisions = (await get(keyPath(KEYS.ip))).json().decisions;
    expect(decisions.map((d: {action: string; reason: string}) => [d.action, d.reason])).toEqual([
      ['ignore', 'x'],
      ['unignore', 'needed after all'],
    ]);
    expect((await post(`${keyPath('nowhere:1')}/unignore`)).statusCode).toBe(404);
  });
});

describe('POST suggestions', () => {
  test('passes keys and format to the suggestion stage and returns its YAML with a plan per key, in the order asked', async () => {
    const res = await post('/suggestions', {keys: [KEYS.push, KEYS.push, KEYS.ip], format: 'bigbang'});
    expect(res.statusCode).toBe(200);
    expect(deps.suggestCalls).toEqual([{keys: [KEYS.push, KEYS.ip], format: 'bigbang'}]);
    const body = res.json() as SuggestionsResponse;
    expect(body.entries.map((e) => ({name: e.name, covers: e.covers}))).toEqual([{name: 'push-mattermost-com-443', covers: [KEYS.push]}]);
    expect(body.yaml).toContain('push-mattermost-com-443:');
    expect(body.sections).toEqual([{id: 'log', title: 'Destinations found in the access log', entries: ['push-mattermost-com-443']}]);
    expect(body.yaml).toContain('# ==== Destinations found in the access log ====');
    expect(body.plans).toEqual([
      {
        key: KEYS.push,
        action: 'add',
        entries: ['push-mattermost-com-443'],
        allowedBy: null,
        text: 'Add the entry `push-mattermost-com-443` of the suggested YAML: it allows `push.mattermost.com` on port 443 (TLS).',
      },
      {
        key: KEYS.ip,
        action: 'other-fix',
        entries: [],
        allowedBy: null,
        text: expect.stringMatching(/^No ServiceEntry is suggested\. No host name is known for 52\.1\.2\.3:443/),
      },
    ]);
    expect((await post('/suggestions', {keys: 'all', format: 'serviceentry'})).statusCode).toBe(200);
    expect(deps.suggestCalls[1]).toEqual({keys: 'all', format: 'serviceentry'});
  });

  test('refuses an unknown format with the list of valid ones', async () => {
    const res = await post('/suggestions', {keys: 'all', format: 'helm'});
    expect(res.statusCode).toBe(400);
    expect(res.json()).toMatchObject({
      code: 'invalid_request',
      error: 'body.format must be one of: bigbang, bigbang-legacy, package, package-legacy, serviceentry',
      allowed: ['bigbang', 'bigbang-legacy', 'package', 'package-legacy', 'serviceentry'],
    });
  });

  test.each([
    [{format: 'bigbang'}, 'body needs the field "keys"'],
    [{keys: [], format: 'bigbang'}, 'body.keys must be a list of 1 to 5000 finding keys, or "all"'],
    [{keys: 'some', format: 'bigbang'}, 'body.keys must be a list of 1 to 5000 finding keys, or "all"'],
    [{keys: [1], format: 'bigbang'}, 'body.keys must be a list of 1 to 5000 finding keys, or "all"'],
    [{keys: 'all', format: 'bigbang', extra: true}, 'body has an unknown field "extra"'],
  ])('refuses %j', async (body, message) => {
    const res = await post('/suggestions', body);
    expect(res.statusCode).toBe(400);
    expect(res.json().error).toBe(message);
  });

  test('a failing suggestion stage is a 500 that points at the log, without its internals', async () => {
    deps.suggest = async () => {
      throw new Error('secret internals');
    };
    await app.close();
    app = buildHttpApp(deps);
    const res = await post('/suggestions', {keys: 'all', format: 'bigbang'});
    expect(res.statusCode).toBe(500);
    expect(res.json()).toMatchObject({code: 'internal', error: expect.stringContaining('request id')});
    expect(res.body).not.toContain('secret internals');
  });
});

describe('status and revision', () => {
  test('GET status is the bridge report', async () => {
    const res = await get('/status');
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual(sampleStatus());
    expect(res.json().mattermost.inbound).toMatchObject({state: 'connected'});
  });

  test('GET findings/revision moves on every findings-changed', async () => {
    const first = (await get('/findings/revision')).json().revision as number;
    deps.emitter.emit(FINDINGS_CHANGED, {keys: [KEYS.push]});
    const second = (await get('/findings/revision')).json().revision as number;
    expect(second).toBeGreaterThan(first);
    expect((await get('/findings')).json().revision).toBe(second);
  });
});

describe('integrations and the rehearsal', () => {
  test('GET integrations always carries a rehearsal entry, "not run" when this bridge runs no connection tests; POST rehearse is then 404', async () => {
    const res = await get('/integrations');
    expect(res.statusCode).toBe(200);
    expect(res.json().rehearsal).toMatchObject({state: 'not-run', entries: [], startedAt: null, summary: expect.stringContaining('/egress rehearse')});
    const rehearse = await post('/integrations/rehearse', {});
    expect(rehearse.statusCode).toBe(404);
    expect(rehearse.json()).toMatchObject({code: 'not_found', error: 'This bridge runs no connection tests.'});
  });
});

describe('body handling', () => {
  test('JSON only: text/plain and forms are refused with 415', async () => {
    for (const type of ['text/plain', 'application/x-www-form-urlencoded']) {
      const res = await post(`${keyPath(KEYS.ip)}/ignore`, 'reason=x', {'content-type': type});
      expect(res.statusCode).toBe(415);
      expect(res.json()).toMatchObject({code: 'unsupported_media_type', error: expect.stringContaining('application/json')});
    }
  });

  test('broken JSON is a 400', async () => {
    const res = await post(`${keyPath(KEYS.ip)}/ignore`, '{"reason": ', {'content-type': 'application/json'});
    expect(res.statusCode).toBe(400);
    expect(res.json().code).toBe('invalid_json');
  });

  test('__proto__ keys are refused', async () => {
    const res = await post(`${keyPath(KEYS.ip)}/ignore`, '{"reason":"x","__proto__":{"admin":true}}', {'content-type': 'application/json'});
    expect(res.statusCode).toBe(400);
  });

  test('a body over the limit is a 413', async () => {
    const res = await post(`${keyPath(KEYS.ip)}/ignore`, {reason: 'x'.repeat(20_000)});
    expect(res.statusCode).toBe(413);
    expect(res.json().code).toBe('body_too_large');
  });

  test('unknown routes are JSON 404s', async () => {
    const res = await get('/nothing-here');
    expect(res.statusCode).toBe(404);
    expect(res.json()).toMatchObject({code: 'not_found'});
    const outside = await app.inject({method: 'GET', url: '/elsewhere'});
    expect(outside.statusCode).toBe(404);
    expect(outside.json().code).toBe('not_found');
  });
});

describe('only the plugin gets in', () => {
  const url = `${API}/findings/revision`;

  test('an unsigned call is a 401, and reaches no handler', async () => {
    const res = await app.inject({method: 'GET', url});
    expect(res.statusCode).toBe(401);
    expect(res.json()).toMatchObject({code: 'signature_invalid'});
    expect(res.json().error).toContain('not signed');
    const write = await app.inject({method: 'POST', url: `${API}/findings/${encodeURIComponent(KEYS.ip)}/ignore`, payload: {reason: 'x'}});
    expect(write.statusCode).toBe(401);
    expect((await db.store.getFinding(KEYS.ip))?.status).toBe('open');
  });

  test('a call signed with another secret is a 401', async () => {
    const res = await app.inject(signed('GET', url, {secret: 'another-secret-another-secret-0000000000'}));
    expect(res.statusCode).toBe(401);
    expect(res.json().error).toContain('does not match');
  });

  test('a call replayed after the window is a 401; inside it, it is answered', async () => {
    const now = Math.floor(Date.now() / 1000);
    expect((await app.inject(signed('GET', url, {at: now - 20}))).statusCode).toBe(200);
    const stale = await app.inject(signed('GET', url, {at: now - 31}));
    expect(stale.statusCode).toBe(401);
    expect(stale.json().error).toContain('time window');
    expect((await app.inject(signed('GET', url, {at: now + 31}))).statusCode).toBe(401);
  });

  test('changing the body, the path, the method or the user breaks the signature', async () => {
    const ignore = `${API}/findings/${encodeURIComponent(KEYS.ip)}/ignore`;
    const good = signed('POST', ignore, {payload: {reason: 'known'}});
    const tampered = [
      {...good, payload: JSON.stringify({reason: 'other'})},
      {...good, url: `${API}/findings/${encodeURIComponent(KEYS.push)}/ignore`},
      {...good, method: 'PUT' as const},
      {...good, headers: {...good.headers, 'x-egress-advisor-user': 'someoneelse0000000000000000'}},
      {...good, headers: {...good.headers, 'x-egress-advisor-username': 'mallory'}},
    ];
    for (const t of tampered) expect((await app.inject(t)).statusCode).toBe(401);
    expect((await db.store.getFinding(KEYS.ip))?.status).toBe('open');
    expect((await app.inject(good)).statusCode).toBe(200);
  });

  test('the user comes from the signed call, and is recorded as who decided', async () => {
    await post(`${keyPath(KEYS.ip)}/ignore`, {reason: 'ours'});
    const [decision] = await db.store.listDecisions(KEYS.ip);
    expect(decision).toMatchObject({by: {userId: ADMIN.userId, username: 'alice'}});
  });

  test('a signed call without a user is refused on the API', async () => {
    const res = await app.inject(signed('GET', url, {caller: null}));
    expect(res.statusCode).toBe(401);
  });

  test('the secret is read on every call (a new one applies at once)', async () => {
    let secret = PLUGIN_SECRET;
    const other = buildHttpApp(testDeps(db.store, {pluginSecret: () => secret}));
    try {
      expect((await other.inject(signed('GET', url))).statusCode).toBe(200);
      secret = 'rotated-secret-rotated-secret-rotated-00';
      expect((await other.inject(signed('GET', url))).statusCode).toBe(401);
    } finally {
      await other.close();
    }
  });
  test('JSON answers say exactly application/json, as Client4 expects', async () => {
    expect((await get('/findings/revision')).headers['content-type']).toBe('application/json');
    expect((await get('/findings/x')).headers['content-type']).toBe('application/json');
  });
});
