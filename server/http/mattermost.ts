/*
 * The endpoints Mattermost itself calls, at the bridge's in-cluster URL (outside the webapp prefix):
 *   POST /mattermost/command  the slash command, form-encoded (mattermost-platform.md 4.2)
 *   POST /mattermost/action   message-button callbacks, JSON (4.4)
 * This layer parses, bounds and routes. It checks the slash command token; button callbacks carry no
 * credential of Mattermost's, so the handler checks the HMAC in their context.
 *
 * Once a request is authenticated, a failing handler still answers 200 with an ephemeral message:
 * Mattermost would otherwise show only "Command with a trigger of 'egress' failed".
 */
import formbody from '@fastify/formbody';
import type {FastifyInstance, FastifyReply, FastifyRequest} from 'fastify';

import {verifySlashToken} from '../present/hmac';
import {errorHandler, HttpError} from './errors';
import type {BridgeMetrics} from './metrics';
import type {ActionRequest, ActionResponse, CommandResponse, HttpDeps, SlashCommandRequest} from './types';

export const COMMAND_PATH = '/mattermost/command';
export const ACTION_PATH = '/mattermost/action';

/** Mattermost's command text is short; mentions and ids add little. */
export const COMMAND_BODY_LIMIT = 64 * 1024;
/** A button context is bounded by its HMAC's own limits (64 KiB canonical); the rest of the request is small. */
export const ACTION_BODY_LIMIT = 128 * 1024;

type Form = Record<string, string | string[] | undefined>;
type Outcome = 'ok' | 'unauthorized' | 'invalid' | 'handler_error' | 'not_configured';

function field(form: Form, name: string, required: boolean): string {
  const value = form[name];
  if (Array.isArray(value)) throw new HttpError(400, 'invalid_request', `The form field ${name} was sent more than once.`);
  if (value === undefined || value === '') {
    if (required) throw new HttpError(400, 'invalid_request', `The form field ${name} is missing; is this request from Mattermost's slash command?`);
    return '';
  }
  return value;
}

function list(form: Form, name: string): string[] {
  const value = form[name];
  if (value === undefined) return [];
  return (Array.isArray(value) ? value : [value]).filter((v) => typeof v === 'string');
}

export function parseCommandForm(form: Form): SlashCommandRequest {
  return {
    command: field(form, 'command', true),
    text: field(form, 'text', false),
    userId: field(form, 'user_id', true),
    username: field(form, 'user_name', false),
    channelId: field(form, 'channel_id', true),
    channelName: field(form, 'channel_name', false),
    teamId: field(form, 'team_id', true),
    teamDomain: field(form, 'team_domain', false),
    triggerId: field(form, 'trigger_id', false),
    responseUrl: field(form, 'response_url', false),
    userMentions: list(form, 'user_mentions'),
    userMentionsIds: list(form, 'user_mentions_ids'),
    channelMentions: list(form, 'channel_mentions'),
    channelMentionsIds: list(form, 'channel_mentions_ids'),
  };
}

/** Mattermost sends the token both as `Authorization: Token <t>` and as the `token` field; the header wins. */
export function presentedCommandToken(request: FastifyRequest, form: Form): string | undefined {
  const header = request.headers.authorization;
  if (typeof header === 'string') {
    const m = /^token[ \t]+(\S+)\s*$/i.exec(header.trim());
    if (m) return m[1];
  }
  const token = form.token;
  return typeof token === 'string' ? token : undefined;
}

/** Every expected token is compared (no early exit), each in constant time. */
export function commandTokenMatches(expected: string | readonly string[], got: string | undefined): boolean {
  const all = typeof expected === 'string' ? [expected] : expected;
  return all.map((t) => verifySlashToken(t, got)).some(Boolean);
}

const actionBody = {
  type: 'object',
  properties: {
    user_id: {type: 'string', minLength: 1, maxLength: 64},
    user_name: {type: 'string', maxLength: 128},
    channel_id: {type: 'string', maxLength: 64},
    channel_name: {type: 'string', maxLength: 128},
    team_id: {type: 'string', maxLength: 64},
    team_domain: {type: 'string', maxLength: 128},
    post_id: {type: 'string', minLength: 1, maxLength: 64},
    trigger_id: {type: 'string', maxLength: 1024},
    type: {type: 'string', maxLength: 64},
    data_source: {type: 'string', maxLength: 64},
    context: {type: 'object'},
  },
  required: ['user_id', 'post_id', 'context'],
} as const;

interface ActionBody {
  user_id: string;
  user_name?: string;
  channel_id?: string;
  channel_name?: string;
  team_id?: string;
  team_domain?: string;
  post_id: string;
  trigger_id?: string;
  type?: string;
  data_source?: string;
  context: Record<string, unknown>;
}

export function parseActionBody(body: ActionBody): ActionRequest {
  return {
    userId: body.user_id,
    username: body.user_name ?? '',
    channelId: body.channel_id ?? '',
    channelName: body.channel_name ?? '',
    teamId: body.team_id ?? '',
    teamDomain: body.team_domain ?? '',
    postId: body.post_id,
    triggerId: body.trigger_id ?? '',
    type: body.type ?? '',
    dataSource: body.data_source ?? '',
    context: body.context,
  };
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function mattermostRoutes(deps: HttpDeps, metrics: BridgeMetrics) {
  const count = (kind: 'command' | 'action', outcome: Outcome): void => metrics.mattermostCallbacksTotal.inc({kind, outcome});

  /** Counts refusals too: a run of them is how a wrong token or a broken URL shows up on a dashboard. */
  const refuse = (kind: 'command' | 'action') => (err: Error, request: FastifyRequest, reply: FastifyReply) => {
    const status = err instanceof HttpError ? err.statusCode : (err as {statusCode?: number}).statusCode ?? 500;
    count(kind, status === 401 ? 'unauthorized' : status === 503 ? 'not_configured' : 'invalid');
    return errorHandler(kind === 'command' ? 'application/x-www-form-urlencoded' : 'application/json')(err as never, request, reply);
  };

  async function commandScope(app: FastifyInstance): Promise<void> {
    app.removeAllContentTypeParsers();
    await app.register(formbody, {bodyLimit: COMMAND_BODY_LIMIT});
    app.setErrorHandler(refuse('command'));

    app.post(COMMAND_PATH, {bodyLimit: COMMAND_BODY_LIMIT}, async (request, reply): Promise<CommandResponse | FastifyReply> => {
      const expected = deps.slashToken();
      if (expected === null || expected.length === 0) {
        throw new HttpError(503, 'command_not_configured', 'The bridge has not registered its slash command yet, so it cannot check this request; try again shortly.');
      }
      const form: Form = isObject(request.body) ? (request.body as Form) : {};
      if (!commandTokenMatches(expected, presentedCommandToken(request, form))) {
        request.log.warn('slash command with a missing or wrong token');
        throw new HttpError(401, 'command_token_invalid', 'The slash command token is missing or wrong. Re-register the command (the bridge does it at start-up).');
      }
      const command = parseCommandForm(form);
      let response: CommandResponse;
      try {
        response = await deps.onSlashCommand(command);
      } catch (err) {
        request.log.error({err, userId: command.userId}, 'slash command handler failed');
        count('command', 'handler_error');
        return reply.send({
          response_type: 'ephemeral',
          text: `Egress Advisor could not answer this command; the bridge log has the details (request id ${request.id}).`,
        } satisfies CommandResponse);
      }
      count('command', 'ok');
      return response;
    });
  }

  async function actionScope(app: FastifyInstance): Promise<void> {
    app.removeContentTypeParser('text/plain');
    app.setErrorHandler(refuse('action'));

    app.post<{Body: ActionBody}>(
      ACTION_PATH,
      {bodyLimit: ACTION_BODY_LIMIT, schema: {body: actionBody}},
      async (request, reply): Promise<ActionResponse | FastifyReply> => {
        const action = parseActionBody(request.body);
        let response: ActionResponse;
        try {
          response = await deps.onAction(action);
        } catch (err) {
          request.log.error({err, userId: action.userId, postId: action.postId}, 'button handler failed');
          count('action', 'handler_error');
          return reply.send({
            ephemeral_text: `Egress Advisor could not handle this button; the bridge log has the details (request id ${request.id}).`,
          } satisfies ActionResponse);
        }
        count('action', 'ok');
        return response;
      },
    );
  }

  return async function routes(app: FastifyInstance): Promise<void> {
    await app.register(commandScope);
    await app.register(actionScope);
  };
}
