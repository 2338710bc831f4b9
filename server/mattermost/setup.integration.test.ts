/*
 * Preflight, setup and inventory against a real Mattermost server (test/mattermost/harness.ts).
 * Needs the binary built by test/mattermost/build.sh and PostgreSQL; fails, never skips, without them.
 */
import type {Command, OutgoingWebhook} from '@mattermost/types/integrations';

import {useMattermost} from '../../test/mattermost/harness';
import {MattermostClient} from './client';
import {checkConfigChanged, fetchInventory} from './inventory';
import {formatPreflightReport, preflight} from './preflight';
import {BOT_USERNAME, ensureAdminChannel, ensureBot, setup, type SetupResult} from './setup';

jest.setTimeout(300_000);

const mm = useMattermost();

/** A real personal access token of the harness's admin, as an operator would give the bridge. */
let adminPat = '';
let admin: MattermostClient;

beforeAll(async () => {
  const server = mm();
  const pat = await server.client().createUserAccessToken(server.admin.id, 'egress-advisor tests');
  adminPat = pat.token as string;
  admin = new MattermostClient({url: server.url, token: adminPat, timeoutMs: 30_000});
});

describe('preflight', () => {
  test('a system admin personal access token passes', async () => {
    const server = mm();
    const report = await preflight(admin, {
      teams: [server.team.name],
      channel: {team: server.team.name, name: 'egress-alerts'},
    });
    expect(report.problems).toEqual([]);
    expect(report.ok).toBe(true);
    expect(report.identity).toMatchObject({id: server.admin.id, isSystemAdmin: true, isBot: false});
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

  test('a missing team is named with its fix', async () => {
    const report = await preflight(admin, {teams: ['no-such-team']});
    expect(report.ok).toBe(false);
    const team = report.problems.find((p) => p.code === 'team-missing')!;
    expect(team.message).toContain('"no-such-team"');
  });
});

describe('setup', () => {
  let first: SetupResult;

  test('creates the bot, its token and the private channel', async () => {
    const server = mm();
    first = await setup(admin, {channel: {team: server.team.name, name: 'egress-alerts'}});
    expect(first.bot.created).toBe(true);
    expect(first.bot.bot.username).toBe(BOT_USERNAME);
    expect(first.bot.bot.display_name).toBe('Egress Advisor');
    expect(first.botToken.created).toBe(true);
    expect(first.botToken.token).toMatch(/^[a-z0-9]{26}$/);
    expect(first.channel.created).toBe(true);
    expect(first.channel.channel.type).toBe('P');

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
    });
    expect(second.bot).toMatchObject({created: false, restored: false, updated: false});
    expect(second.bot.bot.user_id).toBe(first.bot.bot.user_id);
    expect(second.botToken).toEqual({token: first.botToken.token, created: false, revoked: 0});
    expect(second.channel).toMatchObject({created: false, restored: false, addedMembers: []});
    expect(second.channel.channel.id).toBe(first.channel.channel.id);

    const bots = await server.client().getBotsIncludeDeleted(0, 200);
    expect(bots.filter((b) => b.username === BOT_USERNAME)).toHaveLength(1);
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
    const cmd = await api.addCommand({
      team_id: server.team.id,
      trigger: 'weather',
      method: 'G',
      url: 'https://weather.example.net/cmd',
      display_name: 'Weather',
    } as Command);

    const inventory = await fetchInventory(admin);
    expect(inventory.teams.map((t) => t.id)).toContain(server.team.id);
    const foundHook = inventory.outgoingWebhooks.find((h) => h.id === hook.id);
    expect(foundHook?.callback_urls).toEqual(['https://jira.example.com/hooks/mattermost']);
    expect(foundHook?.token).toBe('');
    const foundCmd = inventory.commands.find((c) => c.id === cmd.id);
    expect(foundCmd?.url).toBe('https://weather.example.net/cmd');
    expect(foundCmd?.token).toBe('');
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
