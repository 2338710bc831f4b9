/**
 * @jest-environment node
 */
// The webapp's client against the bridge's real HTTP server (server/http, on a real SQLite store,
// listening on a port): paths, key encoding, bodies and the error mapping. A 404 from the bridge itself
// (an unknown finding) must stay an error of the bridge, never "not routed". Between them stands, in
// production, the plugin's server half; here the fetch signs each call the way it does (its own tests
// are server/plugin/*_test.go, and the real chain runs in test/browser).
import type {AddressInfo} from 'net';

import type {FastifyInstance} from 'fastify';

import {buildHttpApp} from '../../server/http/app';
import {KEYS, PLUGIN_SECRET, seededStore, testDeps, type TestDeps, type TestStore} from '../../server/http/testing/fixtures';
import {signatureHeaders} from '../../server/http/signature';
import type {SuggestionFormat} from '../../common/types';
import {MAX_REASON_CHARS} from '../../common/api';

import {BridgeClient, BridgeError} from './client';

let db: TestStore;
let app: FastifyInstance;
let deps: TestDeps;
let origin = '';

const doc = globalThis as unknown as {document?: {cookie: string}};

/** The browser's side, with the plugin's signing in place of Mattermost's plugin route. */
function browser(secret = PLUGIN_SECRET): BridgeClient {
  doc.document = {cookie: 'MMUSERID=u; MMCSRF=csrf'};
  return new BridgeClient({
    siteUrl: 'https://chat.example.com',
    fetch: (input, init) => {
      const method = init?.method ?? 'GET';
      const body = typeof init?.body === 'string' ? init.body : '';
      const sig = signatureHeaders(secret, {method, target: String(input), userId: 'uadmin00000000000000000000', username: 'alice', body: Buffer.from(body)});
      return fetch(`${origin}${input}`, {...init, headers: {...(init?.headers as Record<string, string>), ...sig}});
    },
  });
}

beforeEach(async () => {
  db = await seededStore();
  deps = testDeps(db.store, {options: {eventCoalesceMs: 0}});
  app = buildHttpApp(deps);
  await app.listen({port: 0, host: '127.0.0.1'});
  origin = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
});

afterEach(async () => {
  await app.close();
  await db.cleanup();
  delete doc.document;
});

test('lists, filters and reads findings, IPv6 keys included', async () => {
  const client = browser();
  const page = await client.findings({status: 'open', limit: 500});
  expect(page.items.map((f) => f.key).sort()).toEqual(Object.values(KEYS).sort());
  expect(page.counts.byStatus.open).toBe(4);
  expect(typeof page.revision).toBe('number');

  const passthrough = await client.findings({verdict: 'passthrough'});
  expect(passthrough.items.map((f) => f.key)).toEqual([KEYS.s3]);
  const search = await client.findings({q: 'push'});
  expect(search.items.map((f) => f.key)).toEqual([KEYS.push]);

  const v6 = await client.finding(KEYS.v6);
  expect(v6.key).toBe(KEYS.v6);
  expect(v6.destination.ip).toBe('2001:db8::1');
  expect(v6.samples.length).toBeGreaterThan(0);
  expect(await client.revision()).toEqual({revision: page.revision});
  expect((await client.status()).mattermost.inbound.state).toBe('connected');
});

test('ignore and un-ignore; the revision moves', async () => {
  const client = browser();
  const before = (await client.revision()).revision;
  const ignored = await client.ignore(KEYS.ip, 'internal load balancer');
  expect(ignored.status).toBe('ignored');
  expect(ignored.ignored).toMatchObject({by: {username: 'alice'}, reason: 'internal load balancer'});
  expect((await client.revision()).revision).toBeGreaterThan(before);
  expect((await client.findings({status: 'ignored'})).items.map((f) => f.key)).toEqual([KEYS.ip]);

  const reopened = await client.unignore(KEYS.ip);
  expect(reopened.status).toBe('open');
  const detail = await client.finding(KEYS.ip);
  expect(detail.decisions.map((d) => d.action)).toEqual(['ignore', 'unignore']);
});

test('suggestions for the selection and for all, with their sections; a format the bridge does not know is refused with the ones it accepts', async () => {
  const client = browser();
  const some = await client.suggestions({keys: [KEYS.push], format: 'serviceentry'});
  expect(some.format).toBe('serviceentry');
  expect(some.yaml).not.toBe('');
  const all = await client.suggestions({keys: 'all', format: 'bigbang'});
  expect(all.format).toBe('bigbang');
  // This bridge knows no Mattermost configuration: the patch has the log's section only.
  expect(all.sections).toEqual([{id: 'log', title: 'Destinations found in the access log', entries: all.entries.map((e) => e.name)}]);
  expect(all.entries.length).toBeGreaterThan(0);
  expect(deps.suggestCalls).toEqual([
    {keys: [KEYS.push], format: 'serviceentry'},
    {keys: 'all', format: 'bigbang'},
  ]);

  const bad = (await client.suggestions({keys: 'all', format: 'helm' as SuggestionFormat}).catch((e: unknown) => e)) as BridgeError;
  expect([bad.kind, bad.status, bad.code, bad.unreachable]).toEqual(['api', 400, 'invalid_request', false]);
  expect(bad.allowed).toContain('serviceentry');
  expect(deps.suggestCalls).toHaveLength(2);
});

test('integrations', async () => {
  const client = browser();
  const answer = await client.integrations();
  expect(deps.integrationsCalls).toBe(1);
  expect(answer.items.length).toBeGreaterThan(0);
});

test('errors of the bridge keep its code and message, and are not taken for a missing route', async () => {
  const unsigned = (await browser('another-secret-another-secret-another-0')
    .ignore(KEYS.push, 'x')
    .catch((e: unknown) => e)) as BridgeError;
  expect(unsigned).toBeInstanceOf(BridgeError);
  expect([unsigned.kind, unsigned.status, unsigned.code, unsigned.unreachable]).toEqual(['api', 401, 'signature_invalid', false]);

  const admin = browser();
  const missing = (await admin.finding('nowhere.example.com:443').catch((e: unknown) => e)) as BridgeError;
  expect([missing.kind, missing.status, missing.code, missing.unreachable]).toEqual(['api', 404, 'finding_not_found', false]);
  expect(missing.requestId).not.toBeNull();

  // The reason is optional, but not unbounded: an over-long one is the bridge's own 400.
  const long = (await admin.ignore(KEYS.push, 'x'.repeat(MAX_REASON_CHARS + 1)).catch((e: unknown) => e)) as BridgeError;
  expect([long.kind, long.status, long.code, long.unreachable]).toEqual(['api', 400, 'invalid_request', false]);
});
