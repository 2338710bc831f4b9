/*
 * The calls the plugin's server half (server/plugin) makes for Mattermost, at the bridge's in-cluster URL
 * (outside the webapp prefix), every one signed (signature.ts):
 *   POST /mattermost/command  /egress, as the plugin received it from Mattermost (ExecuteCommand)
 *   POST /mattermost/action   message-button callbacks, which Mattermost delivers to the plugin's own route
 *   PUT  /plugin/settings     the plugin's settings page, each time it changes
 * The user is the one Mattermost authenticated, from the signature, never a field of the body.
 *
 * Once a request is authenticated, a failing handler still answers 200 with an ephemeral message:
 * Mattermost would otherwise show only "Command with a trigger of 'egress' failed".
 */
import type {FastifyInstance, FastifyReply, FastifyRequest} from 'fastify';

import {errorHandler, HttpError} from './errors';
import type {BridgeMetrics} from './metrics';
import {callerOf, requireSignature, type VerifyOptions} from './signature';
import type {ActionRequest, ActionResponse, CommandResponse, HttpDeps, PluginSettings, SlashCommandRequest} from './types';

export const COMMAND_PATH = '/mattermost/command';
export const ACTION_PATH = '/mattermost/action';
export const SETTINGS_PATH = '/plugin/settings';

/** Mattermost's command text is short; mentions and ids add little. */
export const COMMAND_BODY_LIMIT = 64 * 1024;
/** A button context is bounded by its HMAC's own limits (64 KiB canonical); the rest of the request is small. */
export const ACTION_BODY_LIMIT = 128 * 1024;

type Outcome = 'ok' | 'unauthorized' | 'invalid' | 'handler_error' | 'not_configured';

const commandBody = {
  type: 'object',
  properties: {
    command: {type: 'string', minLength: 1, maxLength: 16 * 1024},
    user_id: {type: 'string', minLength: 1, maxLength: 64},
    channel_id: {type: 'string', maxLength: 64},
    team_id: {type: 'string', maxLength: 64},
    root_id: {type: 'string', maxLength: 64},
  },
  required: ['command', 'user_id'],
} as const;

interface CommandBody {
  command: string;
  user_id: string;
  channel_id?: string;
  team_id?: string;
  root_id?: string;
}

/** The command as the handler reads it: the trigger, the text after it, and who ran it where. */
export function parseCommandBody(body: CommandBody, username: string): SlashCommandRequest {
  const m = /^\s*(\/\S+)\s*([\s\S]*)$/.exec(body.command);
  return {
    command: m ? m[1] : body.command,
    text: m ? m[2].trim() : '',
    userId: body.user_id,
    username,
    channelId: body.channel_id ?? '',
    teamId: body.team_id ?? '',
  };
}

const settingsBody = {
  type: 'object',
  properties: {
    suggestionFormat: {type: 'string'},
    showAlertYaml: {type: 'boolean'},
  },
  required: ['suggestionFormat', 'showAlertYaml'],
} as const;

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

export function mattermostRoutes(deps: HttpDeps, metrics: BridgeMetrics, verify: VerifyOptions) {
  const count = (kind: 'command' | 'action', outcome: Outcome): void => metrics.mattermostCallbacksTotal.inc({kind, outcome});

  /** Counts refusals too: a run of them is how a wrong secret or a broken plugin shows up on a dashboard. */
  const refuse = (kind: 'command' | 'action') => (err: Error, request: FastifyRequest, reply: FastifyReply) => {
    const status = err instanceof HttpError ? err.statusCode : ((err as {statusCode?: number}).statusCode ?? 500);
    count(kind, status === 401 ? 'unauthorized' : status === 503 ? 'not_configured' : 'invalid');
    return errorHandler('application/json')(err as never, request, reply);
  };

  async function commandScope(app: FastifyInstance): Promise<void> {
    requireSignature(app, {...verify, requireUser: true});
    app.setErrorHandler(refuse('command'));

    app.post<{Body: CommandBody}>(
      COMMAND_PATH,
      {bodyLimit: COMMAND_BODY_LIMIT, schema: {body: commandBody}},
      async (request, reply): Promise<CommandResponse | FastifyReply> => {
        const caller = callerOf(request);
        // The signed user ran it; a body naming someone else is not the plugin's.
        if (request.body.user_id !== caller.userId) throw new HttpError(400, 'invalid_request', 'The command names another user than the signed call.');
        const command = parseCommandBody(request.body, caller.username);
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
      },
    );
  }

  async function actionScope(app: FastifyInstance): Promise<void> {
    requireSignature(app, {...verify, requireUser: true});
    app.setErrorHandler(refuse('action'));

    app.post<{Body: ActionBody}>(
      ACTION_PATH,
      {bodyLimit: ACTION_BODY_LIMIT, schema: {body: actionBody}},
      async (request, reply): Promise<ActionResponse | FastifyReply> => {
        const caller = callerOf(request);
        // Who clicked is what Mattermost authenticated, not the body's user_id.
        const action = {...parseActionBody(request.body), userId: caller.userId, username: caller.username};
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

  async function settingsScope(app: FastifyInstance): Promise<void> {
    requireSignature(app, {...verify, requireUser: false});
    app.setErrorHandler(errorHandler('application/json'));

    app.put<{Body: PluginSettings}>(SETTINGS_PATH, {bodyLimit: 16 * 1024, schema: {body: settingsBody}}, async (request, reply) => {
      deps.onPluginSettings(request.body);
      return reply.code(204).send();
    });
  }

  return async function routes(app: FastifyInstance): Promise<void> {
    await app.register(commandScope);
    await app.register(actionScope);
    await app.register(settingsScope);
  };
}
