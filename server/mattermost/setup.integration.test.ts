/*
 * Preflight, setup and inventory against a real Mattermost server (test/mattermost/harness.ts).
 * Needs the binary built by test/mattermost/build.sh and PostgreSQL; fails, never skips, without them.
 */
import type {Command, OutgoingWebhook} from '@mattermost/types/integrations';
import type {Team} from '@mattermost/types/teams';

import {useMattermost} from '../../test/mattermost/harness';
import {MattermostClient} from './client';
import {MattermostError} from './errors';
import {checkConfigChanged, fetchInventory} from './inventory';
import {formatPreflightReport, preflight} from './preflight';
import {BOT_USERNAME, COMMAND_DISPLAY_NAME, COMMAND_TRIGGER, ensureAdminChannel, ensureBot, ensureSlashCommand, setup, type SetupResult} from './setup';

jest.setTimeout(300_000);

const mm = useMattermost();

const BRIDGE_URL = 'http://127.0.0.1:18080/plugins/egress-advisor/api/v1/command';

/** A real personal access token of the harness's admin, as an operator would give the bridge. */
let adminPat = '';
let admin: MattermostClient;

beforeAll(async () => {
  const server = mm();
  const pat = await server.client().createUserAccessToken(server.admin.id, 'egress-advisor tests');
  adminPat = pat.token as string;
  admin = new MattermostClient({url: server.url, token: adminPat, timeoutMs: 30_000});
});

async function ourCommands(teamId: string): Promise<Command[]> {
  const all = await mm().client().getCustomTeamCommands(teamId);
  return all.filter((c) => c.trigger === COMMAND_TRIGGER && !c.delete_at);
}

describe('preflight', () => {
  test('a system admin personal access token passes', async () => {
    const server = mm();
    const report = await preflight(admin, {
      teams: [server.team.name],
      channel: {team: server.team.name, name: 'egress-alerts'},
      bridgeUrl: BRIDGE_URL,
    });
    expect(report.problems).toEqual([]);
    expect(report.ok).toBe(true);
    expect(report.identity).toMatchObject({id: server.admin.id, isSystemAdmin: true, isBot: false});
    expect(report.config?.ServiceSettings.EnableCommands).toBe(true);
    expect(report.reachability?.verdict).toBe('allowed');
    expect(report.serverVersion).toMatch(/^\d+\.\d+\.\d+$/);
    expect(formatPreflightReport(report)).toContain('preflight passed');
  });

  test('an ordinary user is refused with what is missing and how to fix it', async () => {
    const server = mm();
    const asUser = new MattermostClient({url: server.url, token: server.userToken});
    const report = await preflight(asUser, {teams: [server.team.name], channel: {team: server.team.name, name: 'egress-alerts'}});
    expect(report.ok).toBe(false);
    const codes = report.problems.map((p) => p.code);
    expect(codes).toContain('not-system-admin');
    expect(codes).toContain('config-unreadable');
    const notAdmin = report.problems.find((p) => p.code === 'not-system-admin')!;
    expect(notAdmin.severity).toBe('error');
    expect(notAdmin.message).toContain(`user "${server.user.username}" is not a system admin`);
    for (const perm of ['sysconsole_read_environment_web_server', 'create_bot', 'manage_others_outgoing_webhooks', 'manage_others_slash_commands']) {
      expect(notAdmin.message).toContain(perm);
    }
    expect(notAdmin.message).toContain(`on team "${server.team.name}"`);
    expect(notAdmin.fix).toBe(`run \`mmctl roles system-admin ${server.user.username}\` or use a system admin's personal access token`);
    const text = formatPreflightReport(report);
    expect(text).toContain('FAILED');
    expect(text).not.toContain(server.userToken);
  });

  test('a wrong token is reported, not thrown, and not echoed', async () => {
    const token = 'zzzzzzzzzzzzzzzzzzzzzzzzzz';
    const report = await preflight(new MattermostClient({url: mm().url, token}));
    expect(report.ok).toBe(false);
    expect(report.problems.map((p) => p.code)).toEqual(['token-rejected']);
    expect(report.problems[0].message).toContain('HTTP 401');
    expect(JSON.stringify(report)).not.toContain(token);
  });

  test('a missing team and an unreachable bridge URL are named with their fixes', async () => {
    const report = await preflight(admin, {
      teams: ['no-such-team'],
      bridgeUrl: 'http://egress-advisor.mattermost.svc.cluster.local:8080/api/v1/command',
      bridgeAddresses: ['10.96.0.15'],
    });
    expect(report.ok).toBe(false);
    const team = report.problems.find((p) => p.code === 'team-missing')!;
    expect(team.message).toContain('"no-such-team"');
    const reach = report.problems.find((p) => p.code === 'bridge-unreachable-from-mattermost')!;
    expect(reach.severity).toBe('error');
    expect(reach.fix).toContain('"127.0.0.1 localhost egress-advisor.mattermost.svc.cluster.local"');
  });

  test('a bridge name that cannot be resolved here is a warning with the value to set', async () => {
    const report = await preflight(admin, {features: {bot: false, channel: false, inventory: false}, bridgeUrl: 'http://egress-advisor.invalid:8080/c'});
    expect(report.ok).toBe(true);
    expect(report.reachability?.verdict).toBe('unknown');
    const warning = report.problems.find((p) => p.code === 'bridge-reachability-unknown')!;
    expect(warning.severity).toBe('warning');
    expect(warning.fix).toContain('"127.0.0.1 localhost egress-advisor.invalid"');
  });
});

describe('setup', () => {
  let first: SetupResult;

  test('creates the bot, its token, the private channel and the command', async () => {
    const server = mm();
    first = await setup(admin, {
      channel: {team: server.team.name, name: 'egress-alerts'},
      command: {teams: [server.team.name], url: BRIDGE_URL},
    });
    expect(first.bot.created).toBe(true);
    expect(first.bot.bot.username).toBe(BOT_USERNAME);
    expect(first.bot.bot.display_name).toBe('Egress Advisor');
    expect(first.botToken.created).toBe(true);
    expect(first.botToken.token).toMatch(/^[a-z0-9]{26}$/);
    expect(first.channel.created).toBe(true);
    expect(first.channel.channel.type).toBe('P');
    expect(first.commands).toHaveLength(1);
    expect(first.commands[0].action).toBe('created');
    expect(first.commands[0].command.token).toMatch(/^[a-z0-9]{26}$/);
    expect(first.commands[0].command).toMatchObject({method: 'P', url: BRIDGE_URL, auto_complete: true, trigger: 'egress'});

    const botMe = await first.botClient.call('getMe', (api) => api.getMe());
    expect(botMe.id).toBe(first.bot.bot.user_id);
    expect(botMe.is_bot).toBe(true);

    const members = await server.client().getChannelMembers(first.channel.channel.id);
    expect(members.map((m) => m.user_id).sort()).toEqual([server.admin.id, first.bot.bot.user_id].sort());
  });

  test('a second run reuses everything and duplicates nothing', async () => {
    const server = mm();
    const second = await setup(admin, {
      botToken: first.botToken.token,
      channel: {team: server.team.name, name: 'egress-alerts'},
      command: {teams: [server.team.name], url: BRIDGE_URL},
    });
    expect(second.bot).toMatchObject({created: false, restored: false, updated: false});
    expect(second.bot.bot.user_id).toBe(first.bot.bot.user_id);
    expect(second.botToken).toEqual({token: first.botToken.token, created: false, revoked: 0});
    expect(second.channel).toMatchObject({created: false, restored: false, addedMembers: []});
    expect(second.channel.channel.id).toBe(first.channel.channel.id);
    expect(second.commands[0].action).toBe('unchanged');
    expect(second.commands[0].command.id).toBe(first.commands[0].command.id);
    expect(second.commands[0].command.token).toBe(first.commands[0].command.token);

    const bots = await server.client().getBotsIncludeDeleted(0, 200);
    expect(bots.filter((b) => b.username === BOT_USERNAME)).toHaveLength(1);
    expect(await ourCommands(server.team.id)).toHaveLength(1);
  });

  test('a new bridge URL updates the one command in place', async () => {
    const server = mm();
    const newUrl = 'http://127.0.0.1:18081/other/command';
    const [updated] = await setup(admin, {
      botToken: first.botToken.token,
      channel: {team: server.team.name, name: 'egress-alerts'},
      command: {teams: [server.team.name], url: newUrl},
    }).then((r) => r.commands);
    expect(updated.action).toBe('updated');
    expect(updated.command.id).toBe(first.commands[0].command.id);
    expect(updated.command.token).toBe(first.commands[0].command.token);
    const commands = await ourCommands(server.team.id);
    expect(commands).toHaveLength(1);
    expect(commands[0].url).toBe(newUrl);
  });

  test('a lost bot token is replaced and the lost one revoked', async () => {
    const server = mm();
    const again = await setup(admin, {channel: {team: server.team.name, name: 'egress-alerts'}});
    expect(again.botToken.created).toBe(true);
    expect(again.botToken.token).not.toBe(first.botToken.token);
    expect(again.botToken.revoked).toBe(1);
    await expect(first.botClient.call('getMe', (api) => api.getMe())).rejects.toMatchObject({kind: 'refused', status: 401});
    const stale = await setup(admin, {botToken: first.botToken.token, channel: {team: server.team.name, name: 'egress-alerts'}});
    expect(stale.botToken.created).toBe(true);
    expect(stale.botToken.revoked).toBe(1);
  });

  test('a disabled bot and an archived channel are restored', async () => {
    const server = mm();
    const api = server.client();
    await api.disableBot(first.bot.bot.user_id);
    const bot = await ensureBot(admin);
    expect(bot).toMatchObject({created: false, restored: true});
    expect(bot.bot.delete_at).toBe(0);

    await api.deleteChannel(first.channel.channel.id);
    const channel = await ensureAdminChannel(admin, {team: server.team.name, name: 'egress-alerts'}, [server.admin.id, bot.bot.user_id]);
    expect(channel).toMatchObject({created: false, restored: true});
    expect(channel.channel.id).toBe(first.channel.channel.id);
    expect(channel.channel.delete_at).toBe(0);
  });

  test('someone else\'s /egress is left alone and reported', async () => {
    const server = mm();
    const api = server.client();
    const other = await api.createTeam({name: `other-${Date.now()}`, display_name: 'Other', type: 'O'} as Team);
    await api.addToTeam(other.id, server.user.id);
    await api.addCommand({
      team_id: other.id,
      trigger: 'egress',
      method: 'P',
      url: 'http://127.0.0.1:9/theirs',
      display_name: 'Not ours',
      creator_id: server.user.id,
    } as Command);
    const err = await ensureSlashCommand(admin, other, server.admin.id, {url: BRIDGE_URL}).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(MattermostError);
    expect((err as MattermostError).kind).toBe('invalid');
    expect((err as MattermostError).message).toContain('did not create');
    const commands = await api.getCustomTeamCommands(other.id);
    expect(commands.filter((c) => c.trigger === 'egress').map((c) => c.display_name)).toEqual(['Not ours']);
  });

  test('a command of ours created by another admin is adopted, not duplicated', async () => {
    const server = mm();
    const api = server.client();
    const team = await api.createTeam({name: `adopt-${Date.now()}`, display_name: 'Adopt', type: 'O'} as Team);
    await api.addToTeam(team.id, server.user.id);
    // The server refuses a second command with the same trigger, so one is all there can be.
    const theirs = await api.addCommand({
      team_id: team.id,
      trigger: 'egress',
      method: 'P',
      url: 'http://127.0.0.1:9/old',
      display_name: COMMAND_DISPLAY_NAME,
      creator_id: server.user.id,
    } as Command);
    const result = await ensureSlashCommand(admin, team, server.admin.id, {url: BRIDGE_URL});
    expect(result).toMatchObject({action: 'updated', removedDuplicates: 0});
    expect(result.command.id).toBe(theirs.id);
    expect(result.command.token).toBe(theirs.token);
    const left = await ourCommands(team.id);
    expect(left).toHaveLength(1);
    expect(left[0].url).toBe(BRIDGE_URL);
    expect(left[0].creator_id).toBe(server.user.id);
  });
});

describe('inventory', () => {
  test('lists outgoing webhooks and custom commands of all teams, without their tokens', async () => {
    const server = mm();
    const api = server.client();
    const channel = await api.getChannelByName(server.team.id, 'town-square');
    const hook = await api.createOutgoingWebhook({
      team_id: server.team.id,
      channel_id: channel.id,
      display_name: 'Jira hook',
      trigger_words: ['jira'],
      trigger_when: 0,
      callback_urls: ['https://jira.example.com/hooks/mattermost'],
      content_type: 'application/json',
    } as OutgoingWebhook);
    const cmd = await api.addCommand({team_id: server.team.id, trigger: 'weather', method: 'G', url: 'https://weather.example.net/cmd', display_name: 'Weather'} as Command);

    const inventory = await fetchInventory(admin);
    expect(inventory.teams.map((t) => t.id)).toContain(server.team.id);
    const foundHook = inventory.outgoingWebhooks.find((h) => h.id === hook.id);
    expect(foundHook?.callback_urls).toEqual(['https://jira.example.com/hooks/mattermost']);
    expect(foundHook?.token).toBe('');
    const foundCmd = inventory.commands.find((c) => c.id === cmd.id);
    expect(foundCmd?.url).toBe('https://weather.example.net/cmd');
    expect(foundCmd?.token).toBe('');
    expect(inventory.commands.some((c) => c.trigger === 'egress' && c.team_id === server.team.id)).toBe(true);
    expect(JSON.stringify(inventory)).not.toContain(hook.token);
    expect(JSON.stringify(inventory)).not.toContain(cmd.token);
    expect(inventory.config.ServiceSettings.SiteURL).toBe(server.url);
    expect(inventory.notes).toEqual([]);
  });

  test('detects a config change by its hash', async () => {
    const server = mm();
    const before = await checkConfigChanged(admin, undefined);
    expect(before.changed).toBe(true);
    const same = await checkConfigChanged(admin, before.hash);
    expect(same.changed).toBe(false);
    await server.client().patchConfig({TeamSettings: {SiteName: `Egress ${Date.now()}`}} as never);
    const after = await checkConfigChanged(admin, before.hash);
    expect(after.changed).toBe(true);
    expect(after.hash).not.toBe(before.hash);
  });
});
