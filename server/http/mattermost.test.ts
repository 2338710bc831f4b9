// fastify's inject (light-my-request) requires the ESM-only `cookie` package, which jest's CommonJS runtime
// cannot load on Node 20; inject uses it only for its `cookies` option, which these tests do not use.
jest.mock('cookie', () => ({stringifySetCookie: ({name, value}: {name: string; value: string}) => `${name}=${value}`}));

import type {FastifyInstance} from 'fastify';

import {buildHttpApp} from './app';
import {ACTION_PATH, COMMAND_PATH, SETTINGS_PATH} from './mattermost';
import {ADMIN, seededStore, signed, testDeps, type TestDeps, type TestStore} from './testing/fixtures';

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

/** What the plugin's ExecuteCommand forwards (server/plugin/command.go, commandCall). */
function commandBody(extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {command: '/egress ignore push.mattermost.com:443 because @carol said so', user_id: ADMIN.userId, channel_id: 'ch1', team_id: 'tm1', ...extra};
}

const command = (payload: unknown, opts: Parameters<typeof signed>[2] = {}) => app.inject(signed('POST', COMMAND_PATH, {payload, ...opts}));

describe('POST /mattermost/command', () => {
  test('splits trigger and text and takes the user from the signed call', async () => {
    const res = await command(commandBody());
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({response_type: 'ephemeral', text: 'you said ignore push.mattermost.com:443 because @carol said so'});
    expect(deps.commands).toEqual([
      {
        command: '/egress',
        text: 'ignore push.mattermost.com:443 because @carol said so',
        userId: ADMIN.userId,
        username: 'alice',
        channelId: 'ch1',
        teamId: 'tm1',
      },
    ]);
  });

  test('a bare /egress has empty text', async () => {
    await command(commandBody({command: '/egress'}));
    expect(deps.commands[0]).toMatchObject({command: '/egress', text: ''});
  });

  test('unsigned, badly signed or stale: 401 and the handler is not called', async () => {
    const unsigned = await app.inject({method: 'POST', url: COMMAND_PATH, payload: commandBody()});
    expect(unsigned.statusCode).toBe(401);
    expect((await command(commandBody(), {secret: 'x'.repeat(43)})).statusCode).toBe(401);
    expect((await command(commandBody(), {at: Math.floor(Date.now() / 1000) - 60})).statusCode).toBe(401);
    expect(deps.commands).toHaveLength(0);
    const metric = await deps.metrics.getSingleMetricAsString('egress_advisor_mattermost_callbacks_total');
    expect(metric).toContain('egress_advisor_mattermost_callbacks_total{kind="command",outcome="unauthorized"} 3');
  });

  test('a body naming another user than the signature is refused', async () => {
    const res = await command(commandBody({user_id: 'someoneelse000000000000000'}));
    expect(res.statusCode).toBe(400);
    expect(deps.commands).toHaveLength(0);
  });

  test('a failing handler answers 200 with an ephemeral text', async () => {
    deps.onSlashCommand = async () => {
      throw new Error('nope');
    };
    const res = await command(commandBody());
    expect(res.statusCode).toBe(200);
    expect(res.json().text).toMatch(/could not answer this command/);
  });
});

describe('PUT /plugin/settings', () => {
  test("the plugin's own signed call (no user) hands the settings over", async () => {
    const res = await app.inject(signed('PUT', SETTINGS_PATH, {payload: {suggestionFormat: 'serviceentry', showAlertYaml: false}, caller: null}));
    expect(res.statusCode).toBe(204);
    expect(deps.settings).toEqual([{suggestionFormat: 'serviceentry', showAlertYaml: false}]);
  });

  test('unsigned: 401, nothing applied', async () => {
    const res = await app.inject({method: 'PUT', url: SETTINGS_PATH, payload: {suggestionFormat: 'serviceentry', showAlertYaml: false}});
    expect(res.statusCode).toBe(401);
    expect(deps.settings).toHaveLength(0);
  });
});

/** A PostActionIntegrationRequest as DoPostActionWithCookie sends it. */
function actionBody(extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    user_id: 'forged00000000000000000000',
    user_name: 'mallory',
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

function action(payload: unknown, headers: Record<string, string> = {}) {
  return app.inject(signed('POST', ACTION_PATH, {payload, headers}));
}

describe('POST /mattermost/action', () => {
  test('parses the request and routes it to the handler, context untouched', async () => {
    const res = await action(actionBody());
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ephemeral_text: 'done'});
    expect(deps.actions).toEqual([
      {
        userId: ADMIN.userId,
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

  test('unsigned: 401, handler not called', async () => {
    const res = await app.inject({method: 'POST', url: ACTION_PATH, payload: actionBody()});
    expect(res.statusCode).toBe(401);
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
