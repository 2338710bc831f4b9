import {BridgeClient, BridgeError, basePathOf, doPostAction, readCookie} from './client';
import {FakeBridge, fakeResponse, makeFinding, makeIntegration, makeIntegrations} from './test/fake_bridge';

function clearCookies(): void {
  for (const c of document.cookie.split(';')) {
    const name = c.split('=')[0].trim();
    if (name) document.cookie = `${name}=; expires=Thu, 01 Jan 1970 00:00:00 GMT; path=/`;
  }
}

afterEach(clearCookies);

describe('base path', () => {
  test('comes from the Site URL path, without a trailing slash', () => {
    expect(basePathOf('https://chat.example.com')).toBe('');
    expect(basePathOf('https://chat.example.com/')).toBe('');
    expect(basePathOf('https://example.com/mattermost/')).toBe('/mattermost');
    expect(basePathOf('https://example.com/a/b')).toBe('/a/b');
    expect(basePathOf('')).toBe('');
    expect(basePathOf(undefined)).toBe('');
    expect(basePathOf('not a url')).toBe('');
  });

  test('requests go under the Site URL path and keys are encoded', async () => {
    const bridge = new FakeBridge('/chat/plugins/egress-advisor/api/v1', [makeFinding({key: '[2001:db8::1]:443', host: null, ip: '2001:db8::1'})]);
    const client = new BridgeClient({siteUrl: 'https://example.com/chat/', fetch: bridge.fetch});
    expect(client.apiRoot).toBe('/chat/plugins/egress-advisor/api/v1');
    const detail = await client.finding('[2001:db8::1]:443');
    expect(detail.destination.ip).toBe('2001:db8::1');
    expect(bridge.requests[0].url).toBe('/chat/plugins/egress-advisor/api/v1/findings/%5B2001%3Adb8%3A%3A1%5D%3A443');
    expect(client.eventsUrl()).toBe('/chat/plugins/egress-advisor/api/v1/events');
  });

  test('findings queries carry lists comma-separated and leave out empty values', async () => {
    const bridge = new FakeBridge();
    const client = new BridgeClient({fetch: bridge.fetch});
    await client.findings({status: ['open', 'ignored'], verdict: 'blocked', q: '', limit: 500});
    const r = bridge.requests[0];
    expect(r.path).toBe('/plugins/egress-advisor/api/v1/findings');
    expect(r.query.get('status')).toBe('open,ignored');
    expect(r.query.get('verdict')).toBe('blocked');
    expect(r.query.has('q')).toBe(false);
    expect(r.query.get('limit')).toBe('500');
  });
});

describe('integrations', () => {
  test('are read with a GET under the Site URL path', async () => {
    document.cookie = 'MMCSRF=csrf-int';
    const bridge = new FakeBridge('/chat/plugins/egress-advisor/api/v1');
    bridge.integrationsReport = makeIntegrations({items: [makeIntegration({host: 'push.mattermost.com'})]});
    const client = new BridgeClient({siteUrl: 'https://example.com/chat', fetch: bridge.fetch});
    const answer = await client.integrations();
    const r = bridge.requests[0];
    expect(r.method).toBe('GET');
    expect(r.url).toBe('/chat/plugins/egress-advisor/api/v1/integrations');
    expect(r.credentials).toBe('include');
    expect(r.headers['X-Requested-With']).toBe('XMLHttpRequest');
    expect(r.headers['X-CSRF-Token']).toBeUndefined();
    expect(answer.items.map((i) => i.host)).toEqual(['push.mattermost.com']);
  });

  test('an unrouted path is told apart from the bridge answering', async () => {
    const bridge = new FakeBridge();
    bridge.mode = 'not-routed';
    const client = new BridgeClient({fetch: bridge.fetch});
    const err = (await client.integrations().catch((e: unknown) => e)) as BridgeError;
    expect([err.kind, err.status, err.unreachable]).toEqual(['not-routed', 404, true]);
  });
});

describe('headers', () => {
  test('every request sends the cookies and X-Requested-With; GET sends no CSRF token', async () => {
    document.cookie = 'MMCSRF=csrf-token-1';
    const bridge = new FakeBridge();
    const client = new BridgeClient({fetch: bridge.fetch});
    await client.status();
    const r = bridge.requests[0];
    expect(r.method).toBe('GET');
    expect(r.credentials).toBe('include');
    expect(r.headers['X-Requested-With']).toBe('XMLHttpRequest');
    expect(r.headers['X-CSRF-Token']).toBeUndefined();
  });

  test('a change carries X-CSRF-Token equal to the MMCSRF cookie, and a JSON body', async () => {
    document.cookie = 'MMUSERID=u1';
    document.cookie = 'MMCSRF=csrf-token-2';
    const bridge = new FakeBridge(undefined, [makeFinding({key: 'a.example.com:443', host: 'a.example.com'})]);
    const client = new BridgeClient({fetch: bridge.fetch});
    await client.ignore('a.example.com:443', 'used only in staging');
    const r = bridge.requests[0];
    expect(r.method).toBe('POST');
    expect(r.path).toBe('/plugins/egress-advisor/api/v1/findings/a.example.com%3A443/ignore');
    expect(r.headers['X-CSRF-Token']).toBe('csrf-token-2');
    expect(r.headers['Content-Type']).toBe('application/json');
    expect(r.body).toEqual({reason: 'used only in staging'});
  });

  test('without the cookie there is no CSRF header (the bridge then explains what is missing)', async () => {
    const bridge = new FakeBridge();
    const client = new BridgeClient({fetch: bridge.fetch});
    await client.suggestions({keys: 'all', format: 'bigbang'});
    expect(bridge.requests[0].headers['X-CSRF-Token']).toBeUndefined();
  });

  test('readCookie finds one cookie among several', () => {
    expect(readCookie('MMCSRF', 'MMUSERID=u; MMCSRF=abc=def; other=1')).toBe('abc=def');
    expect(readCookie('MMCSRF', 'MMUSERID=u')).toBe('');
  });
});

describe('errors', () => {
  async function failWith(res: Response | Error): Promise<BridgeError> {
    const client = new BridgeClient({fetch: async () => (res instanceof Error ? Promise.reject(res) : res)});
    try {
      await client.status();
    } catch (err) {
      return err as BridgeError;
    }
    throw new Error('no error');
  }

  test("the bridge's own error keeps its message, code and request id, and is not 'unreachable'", async () => {
    const err = await failWith(
      fakeResponse({status: 403, body: {error: 'Only system admins may use Egress Advisor.', code: 'not_system_admin', requestId: 'r-7'}}),
    );
    expect(err).toBeInstanceOf(BridgeError);
    expect(err.kind).toBe('api');
    expect(err.message).toBe('Only system admins may use Egress Advisor.');
    expect(err.code).toBe('not_system_admin');
    expect(err.requestId).toBe('r-7');
    expect(err.status).toBe(403);
    expect(err.unreachable).toBe(false);
  });

  test('a 503 with the bridge body (not ready) is the bridge talking, not a missing route', async () => {
    const err = await failWith(fakeResponse({status: 503, body: {error: 'Still reading the configuration.', code: 'not_ready'}}));
    expect(err.kind).toBe('api');
    expect(err.unreachable).toBe(false);
  });

  test("Mattermost's plain 404 for an unrouted /plugins path means 'not routed'", async () => {
    const err = await failWith(fakeResponse({status: 404, text: '404 page not found'}));
    expect(err.kind).toBe('not-routed');
    expect(err.unreachable).toBe(true);
    expect(err.message).toMatch(/plugin is not enabled/);
  });

  test.each([502, 503, 504])('a proxy %i without the bridge body means the bridge is down', async (status) => {
    const err = await failWith(fakeResponse({status, contentType: 'text/html', text: '<html>upstream connect error</html>'}));
    expect(err.kind).toBe('bridge-down');
    expect(err.unreachable).toBe(true);
    expect(err.status).toBe(status);
  });

  test('a network failure is unreachable with status 0', async () => {
    const err = await failWith(new TypeError('Failed to fetch'));
    expect(err.kind).toBe('network');
    expect(err.status).toBe(0);
    expect(err.unreachable).toBe(true);
    expect(err.message).toMatch(/Failed to fetch/);
  });

  test("a 200 that is not JSON (Mattermost's web app page) is not the bridge", async () => {
    const err = await failWith(fakeResponse({status: 200, contentType: 'text/html', text: '<!doctype html>'}));
    expect(err.kind).toBe('not-routed');
    expect(err.unreachable).toBe(true);
  });

  test("another HTTP error uses Mattermost's message when there is one", async () => {
    const err = await failWith(
      fakeResponse({
        status: 401,
        body: {message: 'Invalid or expired session, please login again.', id: 'api.context.session_expired.app_error', status_code: 401},
      }),
    );
    expect(err.kind).toBe('http');
    expect(err.unreachable).toBe(false);
    expect(err.message).toBe('Invalid or expired session, please login again.');
  });

  test('an abort is passed through as is', async () => {
    const abort = new DOMException('aborted', 'AbortError');
    const client = new BridgeClient({fetch: async () => Promise.reject(abort)});
    await expect(client.status()).rejects.toBe(abort);
  });
});

describe('post actions', () => {
  test('click a button the way Mattermost does: POST /api/v4/posts/{id}/actions/{action} with CSRF and the ephemeral cookie', async () => {
    document.cookie = 'MMCSRF=csrf-3';
    const bridge = new FakeBridge();
    await doPostAction('/chat', 'post1', 'ignore0', 'encrypted', bridge.fetch);
    const r = bridge.requests[0];
    expect(r.method).toBe('POST');
    expect(r.path).toBe('/chat/api/v4/posts/post1/actions/ignore0');
    expect(r.headers['X-CSRF-Token']).toBe('csrf-3');
    expect(r.body).toEqual({selected_option: '', cookie: 'encrypted'});
  });

  test("a refused click reports Mattermost's message", async () => {
    const f = async () => fakeResponse({status: 400, body: {message: 'Unable to find the action.', status_code: 400}});
    await expect(doPostAction('', 'p', 'a', undefined, f)).rejects.toThrow('Unable to find the action.');
  });
});
