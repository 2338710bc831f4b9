/*
 * Creates, or finds and repairs, what the bridge needs in Mattermost: its bot and the bot's token and
 * the admin channel (the plugin registers `/egress` itself). Every step is idempotent, so the bridge runs
 * it on each start and a second run changes nothing.
 *
 * How alerts are posted: as the bot, with the bot's own access token. Mattermost shows such posts
 * with the bot's name and BOT badge, keeps them editable by their author (the digest updates its
 * post in place), and does not tie them to a person's account. Bot tokens work even when
 * EnableUserAccessTokens is off and are exempt from token expiry policies. The alternative, posting
 * as the admin with `override_username`, needs EnablePostUsernameOverride, is only honoured for
 * webhook-style posts, and shows the admin as the author everywhere the override is ignored
 * (mobile notifications, search, exports).
 * The token is shown by Mattermost only once, when it is created; the caller persists it and hands
 * it back on the next start. A token that no longer works is replaced, and the tokens this bridge
 * minted before it (lost, since their owner never got them back) are revoked.
 */
import {ALERT_BOT_USERNAME} from '../../common/alert';
import type {Bot} from '@mattermost/types/bots';
import type {ServerChannel} from '@mattermost/types/channels';
import type {Team} from '@mattermost/types/teams';
import type {UserAccessToken, UserProfile} from '@mattermost/types/users';

import type {MattermostClient} from './client';
import {isMattermostError, isNotFound, MattermostError} from './errors';

export const BOT_USERNAME = ALERT_BOT_USERNAME;
export const BOT_DISPLAY_NAME = 'Egress Advisor';
export const BOT_DESCRIPTION =
  'Reports the outbound connections of Mattermost that the Istio egress policy blocks, the feature each breaks, and the ServiceEntry that allows it.';
/** Marks the access tokens this bridge mints for its bot, so it can find and revoke lost ones. */
export const BOT_TOKEN_DESCRIPTION = 'egress-advisor bridge';

export const DEFAULT_CHANNEL_NAME = 'egress-advisor';
export const DEFAULT_CHANNEL_DISPLAY_NAME = 'Egress Advisor';
const DEFAULT_CHANNEL_PURPOSE = 'Alerts about outbound connections of Mattermost that the egress policy blocks.';

// ---------------------------------------------------------------------------------------------
// Bot

export interface BotOptions {
  username?: string;
  displayName?: string;
  description?: string;
}

export interface EnsureBotResult {
  bot: Bot;
  created: boolean;
  /** It existed but was disabled, and was enabled again. */
  restored: boolean;
  /** Display name or description were brought back to the configured ones. */
  updated: boolean;
}

export async function ensureBot(admin: MattermostClient, opts: BotOptions = {}): Promise<EnsureBotResult> {
  const username = (opts.username ?? BOT_USERNAME).toLowerCase();
  const display_name = opts.displayName ?? BOT_DISPLAY_NAME;
  const description = opts.description ?? BOT_DESCRIPTION;

  let user: UserProfile | undefined;
  try {
    user = await admin.call('getUserByUsername', (api) => api.getUserByUsername(username));
  } catch (err) {
    if (!isNotFound(err)) throw err;
  }

  if (!user) {
    const bot = await admin.call('createBot', (api) => api.createBot({username, display_name, description}));
    return {bot, created: true, restored: false, updated: false};
  }
  if (!user.is_bot) {
    throw new MattermostError({
      kind: 'invalid',
      operation: 'ensureBot',
      message: `the username "${username}" belongs to a person's account, not a bot; rename that account or configure another bot username`,
    });
  }

  let restored = false;
  // GET /bots/{id} hides disabled bots; the user record says whether it is disabled.
  if (user.delete_at) {
    await admin.call('enableBot', (api) => api.enableBot(user.id));
    restored = true;
  }
  let bot = await admin.call('getBot', (api) => api.getBot(user.id));
  let updated = false;
  if ((bot.display_name ?? '') !== display_name || (bot.description ?? '') !== description) {
    bot = await admin.call('patchBot', (api) => api.patchBot(bot.user_id, {display_name, description}));
    updated = true;
  }
  return {bot, created: false, restored, updated};
}

export interface BotTokenResult {
  /** The token to post with. Persist it when `created` is true: Mattermost never shows it again. */
  token: string;
  /** Id of the token (not secret), when this run created it. */
  tokenId?: string;
  created: boolean;
  /** Older tokens of this bridge that were revoked because a new one was minted. */
  revoked: number;
}

/**
 * Returns a working token for the bot: `current` if it still authenticates as the bot, else a new
 * one. Network failures are thrown (retry), never answered by minting a token.
 */
export async function ensureBotToken(admin: MattermostClient, bot: Bot, current?: string): Promise<BotTokenResult> {
  if (current) {
    try {
      const me = await admin.withToken(current).call('getMe (bot token)', (api) => api.getMe());
      if (me.id === bot.user_id) return {token: current, created: false, revoked: 0};
    } catch (err) {
      if (!isMattermostError(err, 'refused')) throw err;
    }
  }

  const previous = await listTokens(admin, bot.user_id);
  const minted: UserAccessToken = await admin.call('createUserAccessToken', (api) => api.createUserAccessToken(bot.user_id, BOT_TOKEN_DESCRIPTION));
  if (!minted.token) {
    throw new MattermostError({kind: 'invalid', operation: 'createUserAccessToken', message: 'Mattermost created a bot token but did not return it'});
  }
  let revoked = 0;
  for (const old of previous) {
    if (old.description !== BOT_TOKEN_DESCRIPTION || old.id === minted.id) continue;
    await admin.call('revokeUserAccessToken', (api) => api.revokeUserAccessToken(old.id));
    revoked++;
  }
  return {token: minted.token, tokenId: minted.id, created: true, revoked};
}

async function listTokens(admin: MattermostClient, userId: string): Promise<UserAccessToken[]> {
  const out: UserAccessToken[] = [];
  for (let page = 0; page < 50; page++) {
    const batch = await admin.call('getUserAccessTokensForUser', (api) => api.getUserAccessTokensForUser(userId, page, 100));
    out.push(...batch);
    if (batch.length < 100) break;
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Admin channel

export interface ChannelOptions {
  /** Team name (the URL name). */
  team: string;
  /** Channel name (the URL name); default `egress-advisor`. */
  name?: string;
  displayName?: string;
  purpose?: string;
  /** Private by default: the findings describe the network and its weak spots. */
  private?: boolean;
}

export interface EnsureChannelResult {
  team: Team;
  channel: ServerChannel;
  created: boolean;
  /** It was archived and has been restored. */
  restored: boolean;
  /** Users that were added to the team or channel by this run. */
  addedMembers: string[];
}

/** Creates or reuses the admin channel and makes every user in `memberIds` a member of it. */
export async function ensureAdminChannel(admin: MattermostClient, opts: ChannelOptions, memberIds: readonly string[]): Promise<EnsureChannelResult> {
  const name = opts.name ?? DEFAULT_CHANNEL_NAME;
  const team = await getTeam(admin, opts.team);
  const addedMembers: string[] = [];

  for (const userId of memberIds) {
    if (await ensureTeamMember(admin, team.id, userId)) addedMembers.push(userId);
  }

  let channel: ServerChannel | undefined;
  try {
    channel = await admin.call('getChannelByName', (api) => api.getChannelByName(team.id, name, true));
  } catch (err) {
    if (!isNotFound(err)) throw err;
  }

  let created = false;
  let restored = false;
  if (!channel) {
    channel = await admin.call('createChannel', (api) =>
      api.createChannel({
        team_id: team.id,
        name,
        display_name: opts.displayName ?? DEFAULT_CHANNEL_DISPLAY_NAME,
        purpose: opts.purpose ?? DEFAULT_CHANNEL_PURPOSE,
        type: opts.private === false ? 'O' : 'P',
      }),
    );
    created = true;
  } else if (channel.delete_at) {
    const channelId = channel.id;
    channel = await admin.call('unarchiveChannel', (api) => api.unarchiveChannel(channelId));
    restored = true;
  }

  const channelId = channel.id;
  for (const userId of memberIds) {
    try {
      await admin.call('getChannelMember', (api) => api.getChannelMember(channelId, userId));
    } catch (err) {
      if (!isNotFound(err)) throw err;
      await admin.call('addToChannel', (api) => api.addToChannel(userId, channelId));
      if (!addedMembers.includes(userId)) addedMembers.push(userId);
    }
  }
  return {team, channel, created, restored, addedMembers};
}

async function getTeam(admin: MattermostClient, name: string): Promise<Team> {
  try {
    return await admin.call('getTeamByName', (api) => api.getTeamByName(name));
  } catch (err) {
    if (isNotFound(err)) {
      throw new MattermostError({
        kind: 'invalid',
        operation: 'getTeamByName',
        status: 404,
        errorId: (err as MattermostError).errorId,
        message: `team "${name}" does not exist or the bridge's identity cannot see it; configure the team's URL name`,
      });
    }
    throw err;
  }
}

/** True when the user was not a member and has been added. */
async function ensureTeamMember(admin: MattermostClient, teamId: string, userId: string): Promise<boolean> {
  try {
    const member = await admin.call('getTeamMember', (api) => api.getTeamMember(teamId, userId));
    if (!member.delete_at) return false;
  } catch (err) {
    if (!isNotFound(err)) throw err;
  }
  await admin.call('addToTeam', (api) => api.addToTeam(teamId, userId));
  return true;
}

// ---------------------------------------------------------------------------------------------
// Everything

export interface SetupOptions {
  bot?: BotOptions;
  /** The bot token persisted from an earlier run, if any. */
  botToken?: string;
  channel: ChannelOptions;
}

export interface SetupResult {
  /** The admin identity the setup ran as. */
  identity: UserProfile;
  bot: EnsureBotResult;
  botToken: BotTokenResult;
  /** A client that posts as the bot. */
  botClient: MattermostClient;
  channel: EnsureChannelResult;
}

export async function setup(admin: MattermostClient, opts: SetupOptions): Promise<SetupResult> {
  const identity = await admin.call('getMe', (api) => api.getMe());
  const bot = await ensureBot(admin, opts.bot);
  const botToken = await ensureBotToken(admin, bot.bot, opts.botToken);
  const members = identity.id === bot.bot.user_id ? [identity.id] : [identity.id, bot.bot.user_id];
  const channel = await ensureAdminChannel(admin, opts.channel, members);
  return {identity, bot, botToken, botClient: admin.withToken(botToken.token), channel};
}
