import http from 'node:http';
import type {AddressInfo} from 'node:net';
import {inspect} from 'node:util';

import {MattermostClient} from './client';
import {MattermostError} from './errors';

const TOKEN = 'pq7r4c5xsfdbtm3ahk1ez9wyno';

type Handler = (req: http.IncomingMessage, res: http.ServerResponse) => void;

/** A local stand-in for the few HTTP behaviours the client must handle; the real server is in the integration tests. */
async function withServer(handler: Handler, fn: (url: string) => Promise<void>): Promise<void> {
  const server = http.createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const {port} = server.address() as AddressInfo;
  try {
    await fn(`http://127.0.0.1:${port}`);
  } finally {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
}

async function failure(p: Promise<unknown>): Promise<MattermostError> {
  try {
    await p;
  } catch (err) {
    expect(err).toBeInstanceOf(MattermostError);
    return err as MattermostError;
  }
  throw new Error('expected a failure');
}

describe('MattermostClient', () => {
  test('sends the token as a bearer and returns the JSON answer', async () => {
    let auth: string | undefined;
    await withServer(
      (req, res) => {
        auth = req.headers.authorization;
        res.setHeader('Content-Type', 'application/json');
        res.end(JSON.stringify({id: 'u1', username: 'admin', roles: 'system_user system_admin'}));
      },
      async (url) => {
        const client = new MattermostClient({url: `${url}/`, token: TOKEN});
        const me = await client.call('getMe', (api) => api.getMe());
        expect(me.username).toBe('admin');
      },
    );
    expect(auth).toBe(`BEARER ${TOKEN}`);
  });

  test('a server that does not answer times out as unreachable', async () => {
    await withServer(
      () => undefined,
      async (url) => {
        const client = new MattermostClient({url, token: TOKEN, timeoutMs: 200});
        const started = Date.now();
        const err = await failure(client.call('getMe', (api) => api.getMe()));
        expect(Date.now() - started).toBeLessThan(5000);
        expect(err.kind).toBe('unreachable');
        expect(err.code).toBe('ETIMEDOUT');
        expect(err.message).not.toContain(TOKEN);
      },
    );
  });

  test('per-call timeout overrides the default, and concurrent calls keep their own deadlines', async () => {
    await withServer(
      (req, res) => {
        const delay = req.url?.includes('slow') ? 400 : 0;
        setTimeout(() => {
          res.setHeader('Content-Type', 'application/json');
          res.end(JSON.stringify({id: 'x', username: 'u', roles: ''}));
        }, delay);
      },
      async (url) => {
        const client = new MattermostClient({url, token: TOKEN, timeoutMs: 5000});
        const slow = client.call('getUserByUsername', (api) => api.getUserByUsername('slow'), {timeoutMs: 100});
        const fast = client.call('getMe', (api) => api.getMe());
        const [slowResult, fastResult] = await Promise.allSettled([slow, fast]);
        expect(slowResult.status).toBe('rejected');
        expect((slowResult as PromiseRejectedResult).reason.code).toBe('ETIMEDOUT');
        expect(fastResult.status).toBe('fulfilled');
      },
    );
  });

  test('connection refused is unreachable', async () => {
    const server = http.createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const {port} = server.address() as AddressInfo;
    await new Promise((resolve) => server.close(resolve));
    const client = new MattermostClient({url: `http://127.0.0.1:${port}`, token: TOKEN});
    const err = await failure(client.call('getMe', (api) => api.getMe()));
    expect(err.kind).toBe('unreachable');
    expect(err.code).toBe('ECONNREFUSED');
  });

  test('a gateway error page is unreachable, a Mattermost 503 too', async () => {
    await withServer(
      (req, res) => {
        if (req.url?.includes('/users/me')) {
          res.statusCode = 502;
          res.setHeader('Content-Type', 'text/html');
          res.end('<html>upstream connect error or disconnect/reset before headers</html>');
          return;
        }
        res.statusCode = 503;
        res.setHeader('Content-Type', 'application/json');
        res.end(JSON.stringify({id: 'api.context.server_busy.app_error', message: 'busy', status_code: 503}));
      },
      async (url) => {
        const client = new MattermostClient({url, token: TOKEN});
        const gw = await failure(client.call('getMe', (api) => api.getMe()));
        expect(gw.kind).toBe('unreachable');
        const busy = await failure(client.call('getConfig', (api) => api.getConfig()));
        expect(busy.kind).toBe('unreachable');
        expect(busy.status).toBe(503);
        expect(busy.errorId).toBe('api.context.server_busy.app_error');
      },
    );
  });

  test('401 is refused and an echoed token is scrubbed', async () => {
    await withServer(
      (req, res) => {
        res.statusCode = 401;
        res.setHeader('Content-Type', 'application/json');
        res.end(JSON.stringify({id: 'api.context.session_expired.app_error', message: `bad token ${req.headers.authorization}`, status_code: 401}));
      },
      async (url) => {
        const client = new MattermostClient({url, token: TOKEN});
        const err = await failure(client.call('getMe', (api) => api.getMe()));
        expect(err.kind).toBe('refused');
        expect(err.message).toContain('api.context.session_expired.app_error');
        expect(err.message).not.toContain(TOKEN);
        expect(JSON.stringify(err)).not.toContain(TOKEN);
        expect(inspect(err)).not.toContain(TOKEN);
      },
    );
  });

  test('the client itself never shows its token', () => {
    const client = new MattermostClient({url: 'http://mm.example:8065', token: TOKEN});
    expect(inspect(client, {depth: 10, showHidden: true})).not.toContain(TOKEN);
    expect(JSON.stringify(client)).not.toContain(TOKEN);
    expect(JSON.stringify({client})).not.toContain(TOKEN);
    expect(client.scrub(`x ${TOKEN} y`)).toBe('x [redacted] y');
  });

  test('rejects URLs it cannot use, without echoing credentials', () => {
    expect(() => new MattermostClient({url: 'mm.example', token: TOKEN})).toThrow(MattermostError);
    let message = '';
    try {
      new MattermostClient({url: 'http://admin:hunter22@mm.example', token: TOKEN});
    } catch (err) {
      message = (err as Error).message;
    }
    expect(message).toMatch(/without user:password@/);
    expect(message).not.toContain('hunter22');
    expect(() => new MattermostClient({url: 'http://mm.example', token: ''})).toThrow(/token is empty/);
  });

  test('withToken keeps the server and timeout but not the token', async () => {
    const seen: string[] = [];
    await withServer(
      (req, res) => {
        seen.push(String(req.headers.authorization));
        res.setHeader('Content-Type', 'application/json');
        res.end('{"id":"b","username":"bot","roles":"system_user"}');
      },
      async (url) => {
        const admin = new MattermostClient({url, token: TOKEN, timeoutMs: 1234});
        const bot = admin.withToken('botbotbotbotbotbotbotbotbo');
        expect(bot.timeoutMs).toBe(1234);
        await bot.call('getMe', (api) => api.getMe());
      },
    );
    expect(seen).toEqual(['BEARER botbotbotbotbotbotbotbotbo']);
  });
});
