import {ClientError} from '@mattermost/client';

import {classifyError, kindForStatus, MattermostError, scrubSecrets} from './errors';

const TOKEN = 'x3nq8ob6kjrjdexm1wz6ghh7ya';

describe('scrubSecrets', () => {
  test('removes known secrets wherever they are', () => {
    expect(scrubSecrets(`token ${TOKEN} in ${TOKEN}!`, [TOKEN])).toBe('token [redacted] in [redacted]!');
  });

  test('removes authorization values, token parameters and cookies of anyone', () => {
    const text =
      'Authorization: Bearer abcdefghijklmnop; Authorization: Token qwertyuiopasdf ' +
      'GET /hooks?token=secretvalue123&x=1 Cookie: MMAUTHTOKEN=cookievalue123; MMCSRF=csrf123 {"token":"jsonsecret"}';
    const out = scrubSecrets(text);
    for (const secret of ['abcdefghijklmnop', 'qwertyuiopasdf', 'secretvalue123', 'cookievalue123', 'csrf123', 'jsonsecret']) {
      expect(out).not.toContain(secret);
    }
    expect(out).toContain('x=1');
  });

  test('leaves short strings and ordinary text alone', () => {
    expect(scrubSecrets('the token is missing', ['abc', ''])).toBe('the token is missing');
  });
});

describe('kindForStatus', () => {
  test.each([
    [401, 'refused'],
    [403, 'refused'],
    [501, 'refused'],
    [400, 'invalid'],
    [404, 'invalid'],
    [409, 'invalid'],
    [413, 'invalid'],
    [408, 'unreachable'],
    [429, 'unreachable'],
    [500, 'unreachable'],
    [502, 'unreachable'],
    [503, 'unreachable'],
    [504, 'unreachable'],
  ])('%i -> %s', (status, kind) => {
    expect(kindForStatus(status)).toBe(kind);
  });
});

describe('classifyError', () => {
  const ctx = {operation: 'getMe', baseUrl: 'http://mm:8065', secrets: [TOKEN], timeoutMs: 1000};

  test('Mattermost 401 is refused, with status and error id', () => {
    const err = new ClientError('http://mm:8065', {
      message: 'Invalid or expired session, please login again.',
      server_error_id: 'api.context.session_expired.app_error',
      status_code: 401,
      url: 'http://mm:8065/api/v4/users/me?x=1',
    });
    const out = classifyError(err, ctx);
    expect(out).toBeInstanceOf(MattermostError);
    expect(out.kind).toBe('refused');
    expect(out.retryable).toBe(false);
    expect(out.status).toBe(401);
    expect(out.errorId).toBe('api.context.session_expired.app_error');
    expect(out.message).toBe(
      'Mattermost getMe failed (refused): HTTP 401 api.context.session_expired.app_error: Invalid or expired session, please login again. (/api/v4/users/me)',
    );
  });

  test('Mattermost 403 permission error is refused', () => {
    const err = new ClientError('http://mm:8065', {
      message: 'You do not have the appropriate permissions.',
      server_error_id: 'api.context.permissions.app_error',
      status_code: 403,
      url: 'http://mm:8065/api/v4/config',
    });
    expect(classifyError(err, ctx).kind).toBe('refused');
  });

  test('400 is invalid, 500 is unreachable', () => {
    const bad = new ClientError('http://mm:8065', {
      message: 'bad',
      server_error_id: 'api.command.duplicate_trigger.app_error',
      status_code: 400,
      url: 'http://mm:8065/api/v4/commands',
    });
    expect(classifyError(bad, ctx).kind).toBe('invalid');
    const down = new ClientError('http://mm:8065', {message: 'db down', server_error_id: 'app.x', status_code: 500, url: 'http://mm:8065/api/v4/commands'});
    const out = classifyError(down, ctx);
    expect(out.kind).toBe('unreachable');
    expect(out.retryable).toBe(true);
  });

  test('an answer without a Mattermost error body (a proxy page) is unreachable', () => {
    const err = new ClientError('http://mm:8065', {message: undefined as unknown as string, url: 'http://mm:8065/api/v4/users/me'});
    const out = classifyError(err, ctx);
    expect(out.kind).toBe('unreachable');
    expect(out.message).toContain('not a Mattermost API response');
  });

  test('connection refused from fetch is unreachable with the code', () => {
    const cause = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), {code: 'ECONNREFUSED'});
    const err = new TypeError('fetch failed', {cause});
    const out = classifyError(err, ctx);
    expect(out.kind).toBe('unreachable');
    expect(out.code).toBe('ECONNREFUSED');
    expect(out.message).toBe('Mattermost getMe failed (unreachable): connection refused (ECONNREFUSED)');
  });

  test('an aggregated connect error is found through the cause chain', () => {
    const inner = Object.assign(new Error('x'), {code: 'ECONNRESET'});
    const err = new TypeError('fetch failed', {cause: Object.assign(new Error('other side closed'), {cause: inner})});
    expect(classifyError(err, ctx).code).toBe('ECONNRESET');
  });

  test('timeout of the call signal is unreachable', () => {
    const err = new DOMException('The operation was aborted due to timeout', 'TimeoutError');
    const out = classifyError(err, ctx);
    expect(out.kind).toBe('unreachable');
    expect(out.code).toBe('ETIMEDOUT');
    expect(out.message).toContain('after 1000 ms');
  });

  test('the token never survives into the message', () => {
    const err = new ClientError('http://mm:8065', {
      message: `token ${TOKEN} is bad, Bearer ${TOKEN}`,
      server_error_id: 'x',
      status_code: 400,
      url: `http://mm:8065/api/v4/x?access_token=${TOKEN}`,
    });
    const out = classifyError(err, ctx);
    expect(out.message).not.toContain(TOKEN);
    expect(JSON.stringify(out)).not.toContain(TOKEN);
    const other = classifyError(new Error(`weird ${TOKEN}`), ctx);
    expect(other.message).not.toContain(TOKEN);
    expect(other.kind).toBe('invalid');
  });

  test('a MattermostError passes through unchanged', () => {
    const e = new MattermostError({kind: 'refused', operation: 'x', message: 'm'});
    expect(classifyError(e, ctx)).toBe(e);
  });
});
