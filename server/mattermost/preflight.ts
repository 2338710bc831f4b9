/*
 * Start-up check of the bridge's Mattermost identity and of the settings its features depend on.
 * Every problem says what is wrong and the exact step that fixes it, because the person reading it
 * is an administrator looking at a pod log, not someone who knows the bridge.
 *
 * Throws a MattermostError only when the server cannot be reached (the caller retries); everything
 * Mattermost answers, including refusals, becomes a problem in the report.
 */

import type {AdminConfig} from '@mattermost/types/config';
import type {Role} from '@mattermost/types/roles';
import type {Team, TeamMembership} from '@mattermost/types/teams';
import type {UserProfile} from '@mattermost/types/users';

import type {MattermostClient} from './client';
import {isMattermostError, isNotFound, MattermostError} from './errors';
import {BOT_USERNAME} from './setup';

export type PreflightSeverity = 'error' | 'warning';

export type PreflightCode =
  | 'token-rejected'
  | 'not-mattermost'
  | 'not-system-admin'
  | 'missing-permissions'
  | 'config-unreadable'
  | 'session-token'
  | 'bot-creation-disabled'
  | 'post-edit-time-limit'
  | 'team-missing'
  | 'channel-archived'
  | 'bot-name-taken';

export interface PreflightProblem {
  code: PreflightCode;
  severity: PreflightSeverity;
  /** What is wrong, in one sentence. */
  message: string;
  /** What to do about it: a command, a setting with its System Console place and env variable. */
  fix: string;
}

export interface PreflightIdentity {
  id: string;
  username: string;
  roles: string[];
  isBot: boolean;
  isSystemAdmin: boolean;
}

export interface PreflightFeatures {
  /** Create/reuse the bot and mint its token. */
  bot?: boolean;
  /** Create/reuse the admin channel. */
  channel?: boolean;
  /** Read outgoing webhooks and custom commands of all teams. */
  inventory?: boolean;
}

export interface PreflightOptions {
  /** Teams the bridge works in (the admin channel's). */
  teams?: readonly string[];
  /** The admin channel. */
  channel?: {team: string; name: string};
  botUsername?: string;
  /** Default: everything on. */
  features?: PreflightFeatures;
}

export interface PreflightReport {
  /** No problem of severity `error`. */
  ok: boolean;
  identity?: PreflightIdentity;
  /** `11.5.0`; empty when the server did not say. */
  serverVersion: string;
  problems: PreflightProblem[];
  /** The config document as this identity may read it, when it may. */
  config?: AdminConfig;
}

/** Permissions needed outside any team, per feature. Config reading is checked separately. */
const SYSTEM_PERMISSIONS: Record<keyof PreflightFeatures | 'config', readonly string[]> = {
  config: ['sysconsole_read_environment_web_server', 'sysconsole_read_integrations_integration_management', 'sysconsole_read_integrations_bot_accounts'],
  bot: ['create_bot', 'read_bots', 'manage_bots', 'create_user_access_token', 'revoke_user_access_token'],
  channel: [],
  inventory: ['manage_own_outgoing_webhooks', 'manage_others_outgoing_webhooks', 'list_public_teams', 'list_private_teams'],
};

/** Permissions needed on each configured team, per feature. */
const TEAM_PERMISSIONS: Record<keyof PreflightFeatures, readonly string[]> = {
  bot: ['add_user_to_team'],
  channel: ['view_team', 'create_private_channel', 'manage_private_channel_members'],
  inventory: ['manage_own_slash_commands', 'manage_others_slash_commands'],
};

const ALL_FEATURES: Required<PreflightFeatures> = {bot: true, channel: true, inventory: true};

export async function preflight(client: MattermostClient, opts: PreflightOptions = {}): Promise<PreflightReport> {
  const features = {...ALL_FEATURES, ...opts.features};
  const problems: PreflightProblem[] = [];
  const report = (extra: Partial<PreflightReport> = {}): PreflightReport => ({
    ok: !problems.some((p) => p.severity === 'error'),
    serverVersion: releaseOf(client.serverVersion),
    problems,
    ...extra,
  });

  let me: UserProfile;
  try {
    me = await client.call('getMe', (api) => api.getMe());
  } catch (err) {
    if (isMattermostError(err, 'refused') || isMattermostError(err, 'invalid')) {
      problems.push(tokenRejected(err));
      return report();
    }
    throw err;
  }
  if (typeof me !== 'object' || me === null || typeof me.id !== 'string' || typeof me.roles !== 'string') {
    problems.push({
      code: 'not-mattermost',
      severity: 'error',
      message: `${client.url} answered GET /api/v4/users/me with something that is not a Mattermost user`,
      fix: 'set the Mattermost URL to the server itself (the SiteURL or the in-cluster service, without a path such as /api/v4)',
    });
    return report();
  }

  const roles = me.roles.split(/\s+/).filter(Boolean);
  const identity: PreflightIdentity = {
    id: me.id,
    username: me.username,
    roles,
    isBot: Boolean(me.is_bot),
    isSystemAdmin: roles.includes('system_admin'),
  };
  const who = `${identity.isBot ? 'bot' : 'user'} "${me.username}"`;

  const config = await readConfig(client, who, me.username, problems);
  const teams = await findTeams(client, uniqueTeams(opts), problems);

  if (!identity.isSystemAdmin) {
    const missing = await missingPermissions(client, identity, teams, features);
    const fix = identity.isBot
      ? `run \`mmctl roles system-admin ${me.username}\` (bots are users), or use a system admin's personal access token`
      : `run \`mmctl roles system-admin ${me.username}\` or use a system admin's personal access token`;
    if (missing.length > 0) {
      problems.push({
        code: 'not-system-admin',
        severity: 'error',
        message: `the token's ${who} is not a system admin and lacks ${missing.join('; ')}`,
        fix,
      });
    } else {
      problems.push({
        code: 'not-system-admin',
        severity: 'warning',
        message: `the token's ${who} is not a system admin; its roles grant what the bridge needs, but Mattermost hides the config sections those roles cannot read, so the inventory may miss external endpoints`,
        fix,
      });
    }
  }

  if (config) checkSettings(config, identity, problems);
  if (features.bot) await checkBotName(client, opts.botUsername ?? BOT_USERNAME, config, problems);
  if (features.channel && opts.channel) await checkChannel(client, opts.channel, teams, problems);

  return report({identity, config});
}

/** A multi-line text for the log: one line per problem with its fix. */
export function formatPreflightReport(report: PreflightReport): string {
  const head = report.identity
    ? `Mattermost ${report.serverVersion || '(version unknown)'} as ${report.identity.isBot ? 'bot' : 'user'} "${report.identity.username}" (${report.identity.roles.join(' ') || 'no roles'})`
    : `Mattermost ${report.serverVersion || '(version unknown)'}`;
  if (report.problems.length === 0) return `${head}: preflight passed`;
  const lines = report.problems.map((p) => `  ${p.severity === 'error' ? 'ERROR' : 'warning'} [${p.code}] ${p.message}\n      fix: ${p.fix}`);
  return `${head}: preflight ${report.ok ? 'passed with warnings' : 'FAILED'}\n${lines.join('\n')}`;
}

/** `11.5.0` out of X-Version-Id (`11.5.0.<build>.<config hash>.<licensed>`). */
function releaseOf(versionId: string): string {
  return /^\d+\.\d+\.\d+/.exec(versionId)?.[0] ?? versionId;
}

function tokenRejected(err: MattermostError): PreflightProblem {
  const id = err.errorId ? ` (${err.errorId})` : '';
  return {
    code: 'token-rejected',
    severity: 'error',
    message: `Mattermost rejected the token: HTTP ${err.status ?? '?'}${id}; it is wrong, revoked, expired, or a personal access token of a person while ServiceSettings.EnableUserAccessTokens is false`,
    fix:
      'create a personal access token for a system admin (Profile > Security > Personal Access Tokens, or ' +
      '`mmctl token generate <admin-username> egress-advisor`) and give it to the bridge; personal access tokens ' +
      'of people need ServiceSettings.EnableUserAccessTokens=true (System Console > Integrations > Integration Management)',
  };
}

async function readConfig(client: MattermostClient, who: string, username: string, problems: PreflightProblem[]): Promise<AdminConfig | undefined> {
  try {
    return await client.call('getConfig', (api) => api.getConfig());
  } catch (err) {
    if (!isMattermostError(err) || err.kind === 'unreachable') throw err;
    problems.push({
      code: 'config-unreadable',
      severity: 'error',
      message: `the ${who} cannot read the server config (GET /api/v4/config: HTTP ${err.status ?? '?'} ${err.errorId ?? ''})`.trimEnd(),
      fix: `give it the system_admin role (\`mmctl roles system-admin ${username}\`) or a role with ${SYSTEM_PERMISSIONS.config.join(', ')}`,
    });
    return undefined;
  }
}

function uniqueTeams(opts: PreflightOptions): string[] {
  const names = [...(opts.teams ?? [])];
  if (opts.channel) names.push(opts.channel.team);
  return [...new Set(names.filter(Boolean))];
}

async function findTeams(client: MattermostClient, names: string[], problems: PreflightProblem[]): Promise<Map<string, Team>> {
  const found = new Map<string, Team>();
  for (const name of names) {
    try {
      const team = await client.call('getTeamByName', (api) => api.getTeamByName(name));
      if (team.delete_at) throw new MattermostError({kind: 'invalid', operation: 'getTeamByName', status: 404, message: 'archived'});
      found.set(name, team);
    } catch (err) {
      if (!isMattermostError(err) || err.kind === 'unreachable') throw err;
      problems.push({
        code: 'team-missing',
        severity: 'error',
        message: `team "${name}" does not exist, is archived, or this identity cannot see it (HTTP ${err.status ?? '?'})`,
        fix: `create the team "${name}" (or restore it), or configure the name of an existing team (the team's URL name, not its display name)`,
      });
    }
  }
  return found;
}

/**
 * The permissions a non-admin identity lacks, computed from its system roles and, per team, its
 * team roles (explicit ones plus those its scheme flags imply, as Mattermost does).
 */
async function missingPermissions(
  client: MattermostClient,
  identity: PreflightIdentity,
  teams: Map<string, Team>,
  features: Required<PreflightFeatures>,
): Promise<string[]> {
  const teamRoleNames = new Map<string, string[]>();
  for (const [name, team] of teams) {
    teamRoleNames.set(name, await teamRolesOf(client, team, identity.id));
  }
  const allNames = [...new Set([...identity.roles, ...[...teamRoleNames.values()].flat()])];
  const roles = await client
    .call('getRolesByNames', (api) => api.getRolesByNames(allNames))
    .catch((err: unknown) => {
      if (isMattermostError(err, 'unreachable')) throw err;
      return [] as Role[];
    });
  const perms = (names: string[]): Set<string> => new Set(roles.filter((r) => names.includes(r.name) && !r.delete_at).flatMap((r) => r.permissions));
  const systemPerms = perms(identity.roles);

  const missing: string[] = [];
  const enabled = (Object.keys(features) as Array<keyof PreflightFeatures>).filter((f) => features[f]);
  const systemNeeded = new Set([...SYSTEM_PERMISSIONS.config, ...enabled.flatMap((f) => SYSTEM_PERMISSIONS[f])]);
  const systemMissing = [...systemNeeded].filter((p) => !systemPerms.has(p));
  if (systemMissing.length) missing.push(`system permissions ${systemMissing.join(', ')}`);

  const teamNeeded = [...new Set(enabled.flatMap((f) => TEAM_PERMISSIONS[f]))];
  for (const [name, roleNames] of teamRoleNames) {
    const teamPerms = perms(roleNames);
    const lacking = teamNeeded.filter((p) => !systemPerms.has(p) && !teamPerms.has(p));
    if (lacking.length) missing.push(`on team "${name}" ${lacking.join(', ')}${roleNames.length ? '' : ' (not a member of the team)'}`);
  }
  return missing;
}

async function teamRolesOf(client: MattermostClient, team: Team, userId: string): Promise<string[]> {
  let member: TeamMembership;
  try {
    member = await client.call('getTeamMember', (api) => api.getTeamMember(team.id, userId));
  } catch (err) {
    if (isMattermostError(err, 'unreachable')) throw err;
    return [];
  }
  if (member.delete_at) return [];
  const names = member.roles.split(/\s+/).filter(Boolean);
  let userRole = 'team_user';
  let adminRole = 'team_admin';
  if (team.scheme_id) {
    try {
      const scheme = await client.call('getScheme', (api) => api.getScheme(team.scheme_id as string));
      userRole = scheme.default_team_user_role || userRole;
      adminRole = scheme.default_team_admin_role || adminRole;
    } catch (err) {
      if (isMattermostError(err, 'unreachable')) throw err;
      // Reading schemes needs a sysconsole permission; the default role names are the best guess.
    }
  }
  if (member.scheme_user) names.push(userRole);
  if (member.scheme_admin) names.push(adminRole);
  return names;
}

function checkSettings(config: AdminConfig, identity: PreflightIdentity, problems: PreflightProblem[]): void {
  const service = config.ServiceSettings;
  if (!service) return;
  if (!identity.isBot && service.EnableUserAccessTokens === false) {
    problems.push({
      code: 'session-token',
      severity: 'warning',
      message:
        'personal access tokens are disabled (ServiceSettings.EnableUserAccessTokens is false), so the token in use must be a login session token, which expires and is revoked at logout',
      fix: "enable System Console > Integrations > Integration Management > Enable Personal Access Tokens (MM_SERVICESETTINGS_ENABLEUSERACCESSTOKENS=true) and give the bridge a system admin's personal access token",
    });
  }
  if (typeof service.PostEditTimeLimit === 'number' && service.PostEditTimeLimit !== -1) {
    problems.push({
      code: 'post-edit-time-limit',
      severity: 'warning',
      message: `posts can only be edited for ${service.PostEditTimeLimit} s (ServiceSettings.PostEditTimeLimit), so digest posts older than that cannot be updated in place and new ones are posted instead`,
      fix: 'set System Console > Site Configuration > Posts > Message Edit Time Limit to "Anytime" (PostEditTimeLimit=-1) if the digest should keep updating one post',
    });
  }
}

async function checkBotName(client: MattermostClient, username: string, config: AdminConfig | undefined, problems: PreflightProblem[]): Promise<void> {
  let existing: UserProfile | undefined;
  try {
    existing = await client.call('getUserByUsername', (api) => api.getUserByUsername(username));
  } catch (err) {
    if (!isNotFound(err)) {
      if (isMattermostError(err, 'unreachable')) throw err;
      return;
    }
  }
  if (existing && !existing.is_bot) {
    problems.push({
      code: 'bot-name-taken',
      severity: 'error',
      message: `the bot name "${username}" belongs to a person's account, so the bridge cannot create its bot`,
      fix: `rename that account (\`mmctl user change-username ${username} <new-name>\`) or configure another bot username`,
    });
    return;
  }
  if (!existing && config?.ServiceSettings?.EnableBotAccountCreation === false) {
    problems.push({
      code: 'bot-creation-disabled',
      severity: 'error',
      message: `the bot "${username}" does not exist yet and bot account creation is disabled (ServiceSettings.EnableBotAccountCreation is false)`,
      fix: 'enable System Console > Integrations > Bot Accounts > Enable Bot Account Creation, or set MM_SERVICESETTINGS_ENABLEBOTACCOUNTCREATION=true',
    });
  }
}

async function checkChannel(
  client: MattermostClient,
  channel: {team: string; name: string},
  teams: Map<string, Team>,
  problems: PreflightProblem[],
): Promise<void> {
  const team = teams.get(channel.team);
  if (!team) return;
  try {
    const found = await client.call('getChannelByName', (api) => api.getChannelByName(team.id, channel.name, true));
    if (found.delete_at) {
      problems.push({
        code: 'channel-archived',
        severity: 'warning',
        message: `the admin channel "${channel.name}" on team "${channel.team}" is archived; setup will restore it`,
        fix: 'nothing to do, or configure another channel name if the archive was intended',
      });
    }
  } catch (err) {
    if (isMattermostError(err, 'unreachable')) throw err;
    // Not there yet: setup creates it.
  }
}
