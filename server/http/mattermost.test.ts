// fastify's inject (light-my-request) requires the ESM-only `cookie` package, which jest's CommonJS runtime
// cannot load on Node 20; inject uses it only for its `cookies` option, which these tests do not use.
jest.mock('cookie', () => ({stringifySetCookie: ({name, value}: {name: string; value: string}) => `${name}=${value}`}));

import type {FastifyInstance} from 'fastify';

import {buildHttpApp} from './app';
import {ACTION_PATH, COMMAND_PATH} from './mattermost';
import {seededStore, SLASH_TOKEN, testDeps, type TestDeps, type TestStore} from './testing/fixtures';

let db: TestStore;
let deps: TestDeps;
let app: FastifyInstance;

beforeEach(async () => {
  db = await seededStore();
  deps = testDeps(db.store);
  app = buildHttpApp(deps);
  await app.ready();
});

afterEach(async () => {
  await app.close();
  await db.cleanup();
});

/** The body Mattermost's ExecuteCommand sends (server/channels/app/command.go). */
function commandForm(extra: Record<string, string | string[]> = {}): string {
  const params = new URLSearchParams();
  const fields: Record<string, string | string[]> = {
    channel_id: 'ch1',
    channel_name: 'town-square',
    command: '/egress',
    response_url: 'http://mattermost:8065/hooks/commands/abc',
    team_domain: 'team',
    team_id: 'tm1',
    text: 'ignore push.mattermost.com:443 because @carol said so ~ops',
    token: SLASH_TOKEN,
    trigger_id: 'trig',
    user_id: 'u-admin',
    user_name: 'alice',
    user_mentions: 'carol',
    user_mentions_ids: 'u-carol',
    channel_mentions: ['ops', 'town-square'],
    channel_mentions_ids: ['c-ops', 'c-ts'],
    ...extra,
  };
  for (const [name, value] of Object.entries(fields)) {
    for (const v of Array.isArray(value) ? value : [value]) params.append(name, v);
  }
  return params.toString();
}

const FORM = {'content-type': 'application/x-www-form-urlencoded'};

function command(body: string, headers: Record<string, string> = {}) {
  return app.inject({method: 'POST', url: COMMAND_PATH, headers: {...FORM, accept: 'application/json', ...headers}, payload: body});
}

describe('POST /mattermost/command', () => {
  test('with the right token: the handler gets every field, typed, and its answer goes back as JSON', async () => {
    const res = await command(commandForm(), {authorization: `Token ${SLASH_TOKEN}`, 'user-agent': 'Mattermost-Bot/1.1'});
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toMatch(/^application\/json/);
    expect(res.json()).toEqual({response_type: 'ephemeral', text: 'you said ignore push.mattermost.com:443 because @carol said so ~ops'});
    expect(deps.commands).toEqual([
      {
        command: '/egress',
        text: 'ignore push.mattermost.com:443 because @carol said so ~ops',
        userId: 'u-admin',
        username: 'alice',
        channelId: 'ch1',
        channelName: 'town-square',
        teamId: 'tm1',
        teamDomain: 'team',
        triggerId: 'trig',
        responseUrl: 'http://mattermost:8065/hooks/commands/abc',
        userMentions: ['carol'],
        userMentionsIds: ['u-carol'],
        channelMentions: ['ops', 'town-square'],
        channelMentionsIds: ['c-ops', 'c-ts'],
      },
    ]);
    expect(deps.commands[0]).not.toHaveProperty('token');
  });

  test('the form field alone is enough (no Authorization header)', async () => {
    const res = await command(commandForm());
    expect(res.statusCode).toBe(200);
    expect(deps.commands).toHaveLength(1);
  });

  test('any of several registered tokens (one per team) is accepted', async () => {
    deps.slashToken = () => ['other-team-token-000000000', SLASH_TOKEN];
    expect((await command(commandForm())).statusCode).toBe(200);
  });

  test.each([
    ['no token at all', commandForm({token: ''}), {}],
    ['a wrong form token', commandForm({token: 'wrong'}), {}],
    ['a wrong header token beside a right field', commandForm(), {authorization: 'Token wrong-token'}],
    ['a token differing in one character', commandForm({token: `${SLASH_TOKEN.slice(0, -1)}1`}), {}],
  ])('%s: 401, handler not called', async (_label, body, headers) => {
    const res = await command(body, headers);
    expect(res.statusCode).toBe(401);
    expect(res.json()).toMatchObject({code: 'command_token_invalid', error: expect.stringContaining('token')});
    expect(deps.commands).toHaveLength(0);
  });

  test('before the command is registered there is no token to check: 503', async () => {
    deps.slashToken = () => null;
    const res = await command(commandForm());
    expect(res.statusCode).toBe(503);
    expect(res.json().code).toBe('command_not_configured');
    expect(deps.commands).toHaveLength(0);
  });

  test.each([
    ['a missing user_id', commandForm({user_id: ''}), 'user_id is missing'],
    ['a field sent twice', commandForm({text: ['a', 'b']}), 'text was sent more than once'],
    ['a body with nothing but the token', `token=${SLASH_TOKEN}`, 'command is missing'],
  ])('%s is a 400 with a message', async (_label, body, message) => {
    const res = await command(body);
    expect(res.statusCode).toBe(400);
    expect(res.json()).toMatchObject({code: 'invalid_request', error: expect.stringContaining(message)});
  });

  test('JSON is not what Mattermost sends: 415', async () => {
    const res = await app.inject({method: 'POST', url: COMMAND_PATH, headers: {'content-type': 'application/json'}, payload: {token: SLASH_TOKEN}});
    expect(res.statusCode).toBe(415);
    expect(res.json().error).toContain('application/x-www-form-urlencoded');
  });

  test('a body over 64 KiB is a 413', async () => {
    const res = await command(commandForm({text: 'x'.repeat(70_000)}));
    expect(res.statusCode).toBe(413);
  });

  test('a failing handler still answers 200, with an ephemeral message pointing at the log', async () => {
    deps.onSlashCommand = async () => {
      throw new Error('store is gone');
    };
    const res = await command(commandForm());
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({response_type: 'ephemeral', text: expect.stringMatching(/could not answer.*request id/)});
    expect(res.body).not.toContain('store is gone');
  });

  test('outcomes are counted', async () => {
    await command(commandForm());
    await command(commandForm({token: 'nope'}));
    const metric = await deps.metrics.getSingleMetricAsString('egress_advisor_mattermost_callbacks_total');
    expect(metric).toContain('egress_advisor_mattermost_callbacks_total{kind="command",outcome="ok"} 1');
    expect(metric).toContain('egress_advisor_mattermost_callbacks_total{kind="command",outcome="unauthorized"} 1');
  });
});

/** A PostActionIntegrationRequest as DoPostActionWithCookie sends it. */
function actionBody(extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    user_id: 'u-admin',
    user_name: 'alice',
    channel_id: 'ch1',
    channel_name: 'egress-advisor',
    team_id: 'tm1',
    team_domain: 'team',
    post_id: 'p1',
    trigger_id: 'trig',
    type: 'button',
    data_source: '',
    context: {action: 'ignore', key: 'push.mattermost.com:443', digest_id: 'd1', exp: '1999999999', sig: 'x'.repeat(43)},
    ...extra,
  };
}

function action(payload: unknown, headers: Record<string, string> = {'content-type': 'application/json'}) {
  return app.inject({method: 'POST', url: ACTION_PATH, headers, payload: typeof payload === 'string' ? payload : JSON.stringify(payload)});
}

describe('POST /mattermost/action', () => {
  test('parses the request and routes it to the handler, context untouched', async () => {
    const res = await action(actionBody());
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ephemeral_text: 'done'});
    expect(deps.actions).toEqual([
      {
        userId: 'u-admin',
        username: 'alice',
        channelId: 'ch1',
        channelName: 'egress-advisor',
        teamId: 'tm1',
        teamDomain: 'team',
        postId: 'p1',
        triggerId: 'trig',
        type: 'button',
        dataSource: '',
        context: actionBody().context,
      },
    ]);
  });

  test('an update for the post goes back as it is', async () => {
    deps.onAction = async () => ({update: {message: 'Ignored by @alice', props: {}}, skip_slack_parsing: true});
    const res = await action(actionBody());
    expect(res.json()).toEqual({update: {message: 'Ignored by @alice', props: {}}, skip_slack_parsing: true});
  });

  test('unknown fields Mattermost may add later are tolerated', async () => {
    expect((await action(actionBody({cookie: 'abc', new_field: 1}))).statusCode).toBe(200);
  });

  test.each([
    ['no context', actionBody({context: undefined}), 'needs the field "context"'],
    ['a context that is not an object', actionBody({context: 'x'}), 'body.context must be object'],
    ['no post id', actionBody({post_id: undefined}), 'needs the field "post_id"'],
    ['not an object', [1, 2], 'body must be object'],
  ])('%s: 400, handler not called', async (_label, body, message) => {
    const res = await action(body);
    expect(res.statusCode).toBe(400);
    expect(res.json()).toMatchObject({code: 'invalid_request', error: expect.stringContaining(message)});
    expect(deps.actions).toHaveLength(0);
  });

  test('broken JSON: 400; a form: 415; over 128 KiB: 413', async () => {
    expect((await action('{"user_id":')).json()).toMatchObject({code: 'invalid_json'});
    expect((await action('a=b', {'content-type': 'application/x-www-form-urlencoded'})).statusCode).toBe(415);
    expect((await action(actionBody({context: {pad: 'x'.repeat(140_000)}}))).statusCode).toBe(413);
  });

  test('a failing handler answers 200 with an ephemeral text', async () => {
    deps.onAction = async () => {
      throw new Error('nope');
    };
    const res = await action(actionBody());
    expect(res.statusCode).toBe(200);
    expect(res.json().ephemeral_text).toMatch(/could not handle this button/);
  });
});
