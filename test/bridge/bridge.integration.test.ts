/*
 * The bridge against a real Mattermost server (test/mattermost/harness.ts): the real bridge runs in this
 * process (startBridge with a configuration read from environment variables), follows a temporary
 * istio-proxy log file the tests append to, posts to the real admin channel, and Mattermost calls it
 * back over loopback for /egress and the alert buttons.
 *
 * The tests build on each other, in order: set-up; alerts; threads; an integration added at run time;
 * /egress; buttons; the webapp API; bridge restarts (after the alerts, and inside the digest window);
 * Mattermost going away (with an alert due, and at the bridge's start); hostile host names; a burst of
 * more destinations than the store returns in one page; and, over all of it, no unhandled rejection and
 * no token in the bridge's log.
 *
 * Needs the server binary from test/mattermost/build.sh and a running PostgreSQL; fails, never skips,
 * without them.
 */
import type {Client4} from '@mattermost/client';
import type {ServerChannel} from '@mattermost/types/channels';
import type {Post} from '@mattermost/types/posts';
import {parse as parseYaml} from 'yaml';

import {ALERT_POST_TYPE, THREAD_UPDATE_PROPS_KEY, readAlertData, type EgressAlertData, type ThreadUpdateProps} from '../../common/alert';
import {API_BASE_PATH} from '../../common/api';
import {signatureHeaders} from '../../server/http/signature';
import {PLUGIN_ACTION_URL} from '../../server/bridge/service';
import {BRIDGE_URL_KEY, ourSettings} from '../../server/mattermost/plugin-settings';
import {sealContext} from '../../server/present/hmac';
import {BUTTON_ELSEWHERE, BUTTON_REFUSAL, REFUSAL} from '../../server/present/replies';
import type {StoredFinding} from '../../server/store/types';
import {startMattermost, type MattermostServer} from '../mattermost/harness';
import {ensureBuiltPlugin, installPlugin} from '../mattermost/plugin';
import {PODS, alertPosts, blockedHttp, blockedTls, BridgeRunner, channelPosts, inboundOk, outsideCode, repliesTo, waitFor} from './helpers';

jest.setTimeout(120_000);

const BOT_USERNAME = 'egress-advisor';
const CHANNEL_NAME = 'egress-advisor';
const WEBHOOK_URL = 'https://hooks.example.com/services/mattermost-deploys';

/** Destinations used by the tests; the addresses are documentation ranges (RFC 5737). */
const HOOKS = {ip: '203.0.113.40', host: 'hooks.example.com', key: 'hooks.example.com:443'};
const GITHUB = {ip: '203.0.113.41', host: 'api.github.com', key: 'api.github.com:443'};
const S3 = {ip: '203.0.113.42', host: 's3.us-gov-west-1.amazonaws.com', key: 's3.us-gov-west-1.amazonaws.com:443'};
const FLOOD = {ip: '203.0.113.43', host: 'push.example.net', key: 'push.example.net:443'};
const JIRA = {ip: '203.0.113.44', host: 'jira.example.org', key: 'jira.example.org:443'};
const CI = {ip: '203.0.113.45', host: 'ci.example.org', key: 'ci.example.org:443'};
const GITLAB = {ip: '203.0.113.46', host: 'gitlab.example.org', key: 'gitlab.example.org:443'};
const SMTP = {ip: '203.0.113.47', host: 'smtp.example.org', key: 'smtp.example.org:587'};
const BUCKET = {ip: '203.0.113.48', host: 'mm-files.s3.us-east-1.amazonaws.com', key: 'mm-files.s3.us-east-1.amazonaws.com:443'};

let mm: MattermostServer;
let admin: Client4;
let runner: BridgeRunner;
let townSquare: ServerChannel;
let adminChannel: ServerChannel;
let botUserId: string;
let webhookName: string;
const started = Date.now();
const timings: string[] = [];
/** The bridge runs in this process: a promise it leaves rejected would crash a real bridge (Node's default). */
const unhandled: string[] = [];
const onUnhandled = (reason: unknown): void => {
  unhandled.push(reason instanceof Error ? (reason.stack ?? reason.message) : String(reason));
};
process.on('unhandledRejection', onUnhandled);

function mark(what: string, since: number): void {
  timings.push(`${what}: ${((Date.now() - since) / 1000).toFixed(1)} s`);
}

function context(): string {
  return `${runner?.bridgeLogTail(40) ?? ''}\nLast lines of Mattermost's log:\n${mm?.logTail(20) ?? ''}`;
}

async function finding(key: string): Promise<StoredFinding> {
  const f = await runner.running.store.getFinding(key);
  if (f === null) throw new Error(`no finding ${key} in the store`);
  return f;
}

async function posts(): Promise<Post[]> {
  return channelPosts(admin, adminChannel.id);
}

/** Waits until the bridge has nothing left to deliver and every given finding names its alert post. */
async function settled(keys: readonly string[], what: string, timeoutMs = 30_000): Promise<void> {
  await waitFor(
    what,
    async () => {
      const store = runner.running.store;
      if ((await store.outboxDepth()) !== 0) return false;
      for (const k of keys) if (((await store.getFinding(k))?.alertPostId ?? null) === null) return false;
      return true;
    },
    {timeoutMs, context},
  );
}

function alertData(post: Post): EgressAlertData {
  const data = readAlertData(post.props);
  if (data === null) throw new Error(`post ${post.id} has no readable egress_advisor props: ${JSON.stringify(post.props)}`);
  return data;
}

interface Button {
  id: string;
  name: string;
  type: string;
}

function attachmentsOf(post: Post): {fallback: string; actions: Button[]}[] {
  return ((post.props as {attachments?: {fallback: string; actions?: Button[]}[]}).attachments ?? []).map((a) => ({
    fallback: a.fallback,
    actions: a.actions ?? [],
  }));
}

/** The YAML of an alert, parsed, as the hosts of each route of the Big Bang values. */
/** The admin's username as the thread's text shows it: Markdown-escaped, as any name outside code. */
function escapedName(): string {
  return mm.admin.username.replace(/[-._]/g, '\\$&');
}

/** The YAML of the one yaml code block of a message (a reply or a post), as it would be copied. */
function yamlOf(message: string): string {
  const m = /^(`{3,})yaml\n([\s\S]*?)\n\1$/m.exec(message);
  expect(m).not.toBeNull();
  return m![2];
}

function yamlHosts(yaml: string): string[] {
  const doc = parseYaml(yaml) as {addons: {mattermost: {values: {routes: {outbound: Record<string, {hosts: string[]}>}}}}};
  return Object.values(doc.addons.mattermost.values.routes.outbound).flatMap((r) => r.hosts);
}

/**
 * Runs a slash command as Mattermost's clients do. Mattermost calls the bridge and answers the execute
 * call with the bridge's response (and shows an ephemeral reply only to the caller, over the websocket;
 * it is not stored as a post).
 */
async function slash(token: string, channelId: string, command: string): Promise<string> {
  const res = (await mm.client(token).executeCommand(command, {channel_id: channelId, team_id: mm.team.id} as Parameters<Client4['executeCommand']>[1])) as {
    response_type?: string;
    text?: string;
  };
  expect(res.response_type).toBe('ephemeral');
  return res.text ?? '';
}

beforeAll(async () => {
  const t0 = Date.now();
  // Throws (and so fails every test) when the binary or PostgreSQL is missing.
  mm = await startMattermost();
  mark('Mattermost start', t0);
  admin = mm.client();
  // The plugin carries /egress, the buttons and the page to the bridge.
  await installPlugin(mm, ensureBuiltPlugin());
  townSquare = await admin.getChannelByName(mm.team.id, 'town-square');
  // An integration the bridge's inventory names: blocked traffic to its host must name this feature.
  webhookName = 'Deploy notifications';
  await admin.createOutgoingWebhook({
    team_id: mm.team.id,
    channel_id: townSquare.id,
    display_name: webhookName,
    description: 'posts deploy messages to the CI',
    trigger_words: ['zz-egress-never-typed'],
    trigger_when: 0,
    callback_urls: [WEBHOOK_URL],
    content_type: 'application/json',
  } as Parameters<Client4['createOutgoingWebhook']>[0]);

  runner = await BridgeRunner.create({
    mattermostUrl: mm.url,
    token: mm.adminToken,
    team: mm.team.name,
    digestSeconds: 1,
    updateSeconds: 2,
    start: {mattermostCheckMs: 1_000, inventoryMaxAgeMs: 3_000},
  });
  const t1 = Date.now();
  await runner.start();
  mark('bridge start', t1);
}, 300_000);

afterAll(async () => {
  const problems: string[] = [];
  await runner?.stop().catch((err: Error) => problems.push(`bridge: ${err.message}`));
  await mm?.stop().catch((err: Error) => problems.push(`Mattermost: ${err.message}`));
  runner?.cleanup();
  process.off('unhandledRejection', onUnhandled);
  mark('whole file', started);
  process.stdout.write(`bridge integration timings:\n  ${timings.join('\n  ')}\n`);
  if (problems.length) throw new Error(problems.join('; '));
}, 120_000);

test('set-up: the bot, the private admin channel and /egress at the bridge URL', async () => {
  const t0 = Date.now();
  const bridge = runner.running;
  // Connected, with the integration inventory read (alerts name features from it).
  await waitFor('the bridge to connect to Mattermost and read its integrations', () => bridge.link?.up === true && bridge.link.inventory !== null, {context});
  mark('bridge connected', t0);

  const bot = await admin.getUserByUsername(BOT_USERNAME);
  expect(bot.is_bot).toBe(true);
  botUserId = bot.id;

  adminChannel = await admin.getChannelByName(mm.team.id, CHANNEL_NAME);
  expect(adminChannel.type).toBe('P');
  expect(adminChannel.delete_at).toBe(0);
  const members = (await admin.getChannelMembers(adminChannel.id)).map((m) => m.user_id);
  expect(members).toEqual(expect.arrayContaining([mm.admin.id, bot.id]));
  expect(members).not.toContain(mm.user.id);
  expect(bridge.link?.channel?.channelId).toBe(adminChannel.id);

  // The plugin registers /egress itself (no custom command); the bridge wrote its URL and secret into the plugin's settings.
  expect((await admin.getCustomTeamCommands(mm.team.id)).filter((c) => c.trigger === 'egress' && !c.delete_at)).toHaveLength(0);
  await waitFor('the plugin settings to name the bridge', async () => ourSettings(await admin.getConfig())[BRIDGE_URL_KEY] === runner.publicUrl, {context});
  expect(bridge.link?.inventory?.outgoingWebhooks.map((h) => h.callback_urls).flat()).toContain(WEBHOOK_URL);
});

test('blocked lines become exactly one alert post in the admin channel, with its props and buttons', async () => {
  const t0 = Date.now();
  runner.append([
    inboundOk(),
    blockedTls(HOOKS.ip, 443, HOOKS.host, {pod: PODS[0]}),
    blockedTls(HOOKS.ip, 443, HOOKS.host, {pod: PODS[1]}),
    inboundOk({pod: PODS[1]}),
    blockedTls(HOOKS.ip, 443, HOOKS.host, {pod: PODS[0]}),
    blockedTls(GITHUB.ip, 443, GITHUB.host, {pod: PODS[1]}),
    blockedTls(GITHUB.ip, 443, GITHUB.host, {pod: PODS[1]}),
  ]);
  await waitFor('an alert post in the admin channel', async () => alertPosts(await posts()).length > 0, {context});
  mark('lines to alert post', t0);
  await settled([HOOKS.key, GITHUB.key], 'both findings announced and the outbox empty');

  const all = await posts();
  const alerts = alertPosts(all);
  expect(alerts).toHaveLength(1);
  const post = alerts[0];
  expect(post.type).toBe(ALERT_POST_TYPE);
  expect(post.user_id).toBe(botUserId);
  expect(post.channel_id).toBe(adminChannel.id);
  expect((await finding(HOOKS.key)).alertPostId).toBe(post.id);
  expect((await finding(GITHUB.key)).alertPostId).toBe(post.id);
  // Inbound lines make no finding.
  expect((await runner.running.store.countFindings()).byStatus.open).toBe(2);

  const data = alertData(post);
  expect(data.version).toBe(1);
  expect(data.format).toBe('bigbang');
  expect(data.findings_omitted).toBe(0);
  expect(data.findings.map((f) => f.key).sort()).toEqual([GITHUB.key, HOOKS.key]);
  const hooks = data.findings.find((f) => f.key === HOOKS.key)!;
  expect(hooks).toMatchObject({host: HOOKS.host, ip: HOOKS.ip, port: 443, protocol: 'TLS', verdict: 'blocked', count: 3});
  expect(hooks.pods.sort()).toEqual([...PODS].sort());
  expect(hooks.features.map((f) => f.name)).toEqual([expect.stringContaining(webhookName)]);
  expect(data.findings.find((f) => f.key === GITHUB.key)).toMatchObject({host: GITHUB.host, count: 2, pods: [PODS[1]]});
  expect(yamlHosts(data.yaml).sort()).toEqual([GITHUB.host, HOOKS.host]);

  // A button per destination to ignore it and to show its ServiceEntry, and one for all of them.
  const attachments = attachmentsOf(post);
  const ids = attachments.flatMap((a) => a.actions.map((b) => b.id)).sort();
  expect(ids).toEqual(['ignore0', 'ignore1', 'show0', 'show1', 'showall']);
  for (const a of attachments) for (const b of a.actions) expect(b.type).toBe('button');
  const hooksAttachment = attachments.find((a) => a.fallback.includes(HOOKS.host));
  expect(hooksAttachment?.actions.map((b) => b.name)).toEqual([`Ignore ${HOOKS.key}`, 'Show ServiceEntry']);

  // The message reads on its own (mobile, notifications): the host, the feature, the YAML.
  expect(post.message).toContain('2 outbound destinations');
  expect(post.message).toContain(HOOKS.host);
  expect(post.message).toContain(GITHUB.host);
  expect(post.message).toContain(webhookName);
  expect(post.message).toContain('```yaml');
});

test('more traffic to announced destinations threads; a new destination posts anew; a flood posts once', async () => {
  const before = await posts();
  const [first] = alertPosts(before);
  expect(first).toBeDefined();

  // The same destinations again: one reply in the alert's thread, no new alert.
  const t0 = Date.now();
  runner.append([blockedTls(HOOKS.ip, 443, HOOKS.host), blockedTls(HOOKS.ip, 443, HOOKS.host), blockedTls(GITHUB.ip, 443, GITHUB.host)]);
  const reply = await waitFor('a reply in the alert thread', async () => repliesTo(await posts(), first.id)[0], {context});
  mark('thread reply', t0);
  await waitFor('the counts to reach the store', async () => (await finding(HOOKS.key)).count === 5 && (await finding(GITHUB.key)).count === 3, {context});
  await settled([], 'the outbox empty after the reply');
  let now = await posts();
  expect(alertPosts(now)).toHaveLength(1);
  expect(repliesTo(now, first.id)).toHaveLength(1);
  expect(reply.user_id).toBe(botUserId);
  expect(reply.message).toContain(HOOKS.host);
  const update = (reply.props as unknown as ThreadUpdateProps)[THREAD_UPDATE_PROPS_KEY];
  expect(update.items.map((i) => [i.key, i.previous_count, i.count]).sort()).toEqual([
    [GITHUB.key, 2, 3],
    [HOOKS.key, 3, 5],
  ]);

  // A destination the first alert did not name: a new digest post with just that one.
  const t1 = Date.now();
  runner.append([blockedTls(S3.ip, 443, S3.host)]);
  await waitFor('a second alert post', async () => alertPosts(await posts()).length === 2, {context});
  mark('second alert post', t1);
  await settled([S3.key], 'the new destination announced');
  now = await posts();
  expect(alertPosts(now)).toHaveLength(2);
  const second = alertPosts(now)[1];
  expect(alertData(second).findings.map((f) => f.key)).toEqual([S3.key]);
  expect(second.message).toContain(S3.host);
  expect(second.message).not.toContain(HOOKS.host);

  // 200 blocked connections to one destination: one post.
  const t2 = Date.now();
  runner.append(Array.from({length: 200}, (_, i) => blockedTls(FLOOD.ip, 443, FLOOD.host, {pod: PODS[i % 2]})));
  await waitFor('the flood counted', async () => (await runner.running.store.getFinding(FLOOD.key))?.count === 200, {context});
  await settled([FLOOD.key], 'the flood announced and the outbox empty');
  mark('200 lines to one post', t2);
  now = await posts();
  const alerts = alertPosts(now);
  expect(alerts).toHaveLength(3);
  const floodPost = alerts[2];
  expect(alertData(floodPost).findings.map((f) => f.key)).toEqual([FLOOD.key]);
  // Whatever came after the first batch went to its thread, at most once per update interval.
  expect(repliesTo(now, floodPost.id).length).toBeLessThanOrEqual(1);
  expect(now.filter((p) => !p.root_id && p.message.includes(FLOOD.host))).toHaveLength(1);
});

test('an integration added while the bridge runs is named in the alerts of its host', async () => {
  const before = alertPosts(await posts()).length;
  const url = `https://${CI.host}/hooks/mattermost`;
  await admin.createOutgoingWebhook({
    team_id: mm.team.id,
    channel_id: townSquare.id,
    display_name: 'CI builds',
    trigger_words: ['zz-egress-never-typed-either'],
    trigger_when: 0,
    callback_urls: [url],
    content_type: 'application/json',
  } as Parameters<Client4['createOutgoingWebhook']>[0]);
  // Adding a webhook does not change the config: the bridge has to notice it anyway.
  await waitFor('the bridge to see the new webhook', () => runner.running.link?.inventory?.outgoingWebhooks.some((h) => h.callback_urls.includes(url)), {
    context,
  });

  runner.append([blockedTls(CI.ip, 443, CI.host), blockedTls(CI.ip, 443, CI.host, {pod: PODS[1]})]);
  await waitFor('the alert for the new host', async () => alertPosts(await posts()).length === before + 1, {context});
  await settled([CI.key], 'the new host announced');
  const post = alertPosts(await posts())[before];
  expect(alertData(post).findings[0]).toMatchObject({key: CI.key, features: [expect.objectContaining({name: expect.stringContaining('CI builds')})]});
  expect(post.message).toContain('CI builds');
});

test('S3 switched on in the configuration names the open finding of its bucket everywhere', async () => {
  runner.append([blockedTls(BUCKET.ip, 443, BUCKET.host)]);
  await waitFor('the bucket finding', async () => (await runner.running.store.getFinding(BUCKET.key)) !== null, {context});
  await settled([BUCKET.key], 'the bucket announced');
  expect((await finding(BUCKET.key)).features).toEqual([]);
  expect(await slash(mm.adminToken, adminChannel.id, `/egress show ${BUCKET.host}`)).toContain('no configured feature uses it');
  const alertPostId = (await finding(BUCKET.key)).alertPostId!;
  const alertsBefore = alertPosts(await posts()).length;
  expect((await admin.getPost(alertPostId)).message).not.toContain('Export storage');

  // Mattermost's API refuses to change FileSettings.DriverName, so S3 is switched on as the dedicated export store.
  const S3_NAME = 'Export storage (Amazon S3)';
  const fileSettings = (await admin.getConfig()).FileSettings;
  await admin.patchConfig({
    FileSettings: {
      ...fileSettings,
      DedicatedExportStore: true,
      ExportDriverName: 'amazons3',
      ExportAmazonS3Endpoint: 's3.amazonaws.com',
      ExportAmazonS3Region: 'us-east-1',
      ExportAmazonS3Bucket: 'mm-files',
      ExportAmazonS3AccessKeyId: 'AKIAEXAMPLE',
      ExportAmazonS3SecretAccessKey: 'not-a-real-secret',
    },
  } as Parameters<Client4['patchConfig']>[0]);
  try {
    expect((await admin.getConfig()).FileSettings).toMatchObject({ExportDriverName: 'amazons3', ExportAmazonS3Bucket: 'mm-files'});
    // No new line comes: the stored finding itself is named again when the bridge reads the new configuration.
    await waitFor('the bucket finding named by the new configuration', async () => (await finding(BUCKET.key)).features.some((f) => f.name === S3_NAME), {
      context,
    });
    expect((await finding(BUCKET.key)).attribution).toMatchObject({method: 'sni', host: BUCKET.host});
    const show = await slash(mm.adminToken, adminChannel.id, `/egress show ${BUCKET.host}`);
    expect(show).toContain('Breaks: Export storage \\(Amazon S3\\)');
    expect(show).not.toContain('no configured feature uses it');
    const snippet = await slash(mm.adminToken, adminChannel.id, `/egress snippet ${BUCKET.host}`);
    expect(yamlOf(snippet)).toContain(`Restores: ${S3_NAME} [FileSettings.ExportAmazonS3`);
    // The alert that announced the bucket is edited, not followed by a new post: its card and text name the feature.
    await waitFor('the alert post edited with the feature', async () => (await admin.getPost(alertPostId)).message.includes(S3_NAME), {context});
    const edited = await admin.getPost(alertPostId);
    expect(
      alertData(edited)
        .findings.find((f) => f.key === BUCKET.key)
        ?.features.map((f) => f.name),
    ).toEqual([S3_NAME]);
    expect(edited.edit_at).toBeGreaterThan(0);
  } finally {
    await admin.patchConfig({FileSettings: fileSettings} as Parameters<Client4['patchConfig']>[0]);
  }
  await waitFor('the bucket finding without the feature again', async () => (await finding(BUCKET.key)).features.length === 0, {context});
  await waitFor('the alert post edited without the feature', async () => !(await admin.getPost(alertPostId)).message.includes(S3_NAME), {context});
  expect(alertPosts(await posts())).toHaveLength(alertsBefore);
});

describe('/egress through Mattermost', () => {
  test('list as the admin answers with the findings; the ordinary user is refused', async () => {
    const postsBefore = (await posts()).length;
    const reply = await slash(mm.adminToken, adminChannel.id, '/egress list');
    for (const host of [HOOKS.host, GITHUB.host, S3.host, FLOOD.host, CI.host]) expect(reply).toContain(host);
    expect(runner.running.link?.inbound.lastCallAt).not.toBeNull();
    // Ephemeral: nobody else in the channel sees it.
    expect(await posts()).toHaveLength(postsBefore);

    // The user is not in the private admin channel; any channel of the team runs the team's command.
    const refused = await slash(mm.userToken, townSquare.id, '/egress list');
    expect(refused).toBe(REFUSAL);
    expect(refused).not.toContain(HOOKS.host);
    const refusedStatus = await slash(mm.userToken, townSquare.id, '/egress status');
    expect(refusedStatus).toBe(REFUSAL);
  });

  test('status, show and snippet', async () => {
    const status = await slash(mm.adminToken, adminChannel.id, '/egress status');
    expect(status).toContain(runner.logFile);
    expect(status).toMatch(/REGISTRY_ONLY|registry-only/i);

    const show = await slash(mm.adminToken, adminChannel.id, `/egress show ${HOOKS.host}`);
    expect(show).toContain(HOOKS.host);
    expect(show).toContain(webhookName);
    expect(show).toContain('5 attempts');

    const snippet = await slash(mm.adminToken, adminChannel.id, `/egress snippet ${HOOKS.host}`);
    const yaml = /```yaml\n([\s\S]*?)\n```/.exec(snippet)?.[1];
    expect(yaml).toBeDefined();
    expect(yamlHosts(yaml!)).toEqual([HOOKS.host]);

    const legacy = await slash(mm.adminToken, adminChannel.id, `/egress snippet ${GITHUB.host} --format bigbang-legacy`);
    expect(legacy).toContain('customServiceEntries');
    expect(legacy).toContain(GITHUB.host);

    const unknown = await slash(mm.adminToken, adminChannel.id, '/egress show nowhere.example.com');
    expect(unknown).toContain('nowhere.example.com');
    expect(unknown).not.toContain(HOOKS.host);
  });

  test('ignore and unignore change the store', async () => {
    const ignored = await slash(mm.adminToken, adminChannel.id, `/egress ignore ${GITHUB.host} the GitHub plugin is not installed`);
    expect(ignored).toContain(GITHUB.host);
    let f = await finding(GITHUB.key);
    expect(f.status).toBe('ignored');
    expect(f.ignored).toMatchObject({by: {userId: mm.admin.id, username: mm.admin.username}, reason: 'the GitHub plugin is not installed'});
    expect(await slash(mm.adminToken, adminChannel.id, '/egress list')).not.toContain(GITHUB.host);
    expect(await slash(mm.adminToken, adminChannel.id, '/egress list ignored')).toContain(GITHUB.host);

    // The ordinary user cannot change anything.
    expect(await slash(mm.userToken, townSquare.id, `/egress unignore ${GITHUB.host}`)).toBe(REFUSAL);
    expect((await finding(GITHUB.key)).status).toBe('ignored');

    const unignored = await slash(mm.adminToken, adminChannel.id, `/egress unignore ${GITHUB.host}`);
    expect(unignored).toContain(GITHUB.host);
    f = await finding(GITHUB.key);
    expect(f.status).toBe('open');
    expect(f.ignored).toBeNull();
    // The alert's thread says where it ended up (a change that replaces one still waiting is told once).
    const [first] = alertPosts(await posts());
    const told = await waitFor(
      'the thread told of the un-ignore',
      async () => repliesTo(await posts(), first.id).find((p) => p.message.includes('no longer ignored')),
      {context},
    );
    expect(told.message).toContain(`\`${GITHUB.key}\` no longer ignored (by ${escapedName()})`);
    const decisions = await runner.running.store.listDecisions(GITHUB.key);
    expect(decisions.map((d) => [d.action, d.by?.userId])).toEqual([
      ['ignore', mm.admin.id],
      ['unignore', mm.admin.id],
    ]);
  });
});

describe('alert buttons', () => {
  test('"Ignore" clicked through Mattermost ignores the finding', async () => {
    // GitHub was ignored and un-ignored by command above, after the alert went out: the alert was drawn again
    // each time, so its Ignore button knows the latest decision and works.
    await settled([], 'the alert drawn again after the un-ignore');
    const [first] = alertPosts(await posts());
    const attachment = attachmentsOf(first).find((a) => a.fallback.includes(GITHUB.host));
    const ignore = attachment?.actions.find((b) => b.name.startsWith('Ignore'));
    expect(ignore).toBeDefined();
    expect((await finding(GITHUB.key)).status).toBe('open');

    const t0 = Date.now();
    const res = await admin.doPostAction(first.id, ignore!.id);
    expect(res).toMatchObject({status: 'OK'});
    mark('button round trip', t0);
    const f = await finding(GITHUB.key);
    expect(f.status).toBe('ignored');
    // The user Mattermost authenticated, named as Mattermost names them.
    expect(f.ignored).toMatchObject({by: {userId: mm.admin.id, username: mm.admin.username}, reason: 'ignored from the alert'});
    // The other destination of the alert is untouched.
    expect((await finding(HOOKS.key)).status).toBe('open');
    // The alert's thread says who ignored it, and how to undo it. The thread already holds the replies to the
    // command's ignore and un-ignore above, so the button's is the one posted since the click.
    const told = await waitFor(
      'the thread told of the ignore',
      async () => repliesTo(await posts(), first.id).find((p) => p.create_at >= t0 && p.message.includes(' ignored by ')),
      {context},
    );
    expect(told.message).toContain(`\`${GITHUB.key}\` ignored by ${escapedName()}: ignored from the alert.`);
    expect(told.message).toContain(`Undo: \`/egress unignore ${GITHUB.host}\``);

    // The alert itself is drawn again: its card marks the destination ignored and offers no Ignore button
    // for it, and the message a phone shows says so; the buttons left still work.
    const redrawn = await waitFor(
      'the alert card marks the ignore',
      async () =>
        alertPosts(await posts()).find((p) => p.id === first.id && alertData(p).findings.some((x) => x.key === GITHUB.key && x.ignored !== undefined)),
      {context},
    );
    expect(alertData(redrawn).findings.find((x) => x.key === GITHUB.key)?.ignored).toMatchObject({by: mm.admin.username, reason: 'ignored from the alert'});
    expect(alertData(redrawn).findings.find((x) => x.key === HOOKS.key)?.ignored).toBeUndefined();
    const buttons = attachmentsOf(redrawn).flatMap((x) => x.actions.map((b) => b.name));
    expect(buttons.filter((n) => n.startsWith('Ignore'))).toEqual([expect.stringContaining(HOOKS.host)]);
    expect(redrawn.message).toMatch(new RegExp(`\`${GITHUB.key.replace(/[.]/g, '\\.')}\` .*: ignored by `));
    const show = attachmentsOf(redrawn)
      .find((x) => x.fallback.includes(HOOKS.host))
      ?.actions.find((b) => b.name === 'Show ServiceEntry');
    expect(await admin.doPostAction(first.id, show!.id)).toMatchObject({status: 'OK'});
  });

  test('an Ignore replayed after a newer decision changes nothing, and says why', async () => {
    const bridge = runner.running;
    const key = Buffer.from((await bridge.store.getMeta('hmac-key'))!, 'hex');
    const [first] = alertPosts(await posts());
    const secret = Buffer.from((await bridge.store.getMeta('plugin-secret'))!, 'hex').toString('base64url');
    // The context of GitHub's Ignore as the alert first carried it (drawn before any decision), replayed as the
    // plugin forwards a click, after an admin un-ignored GitHub.
    const replayed = sealContext(key, {action: 'ignore', key: GITHUB.key, digest_id: alertData(first).digest_id, decided: '0'}, new Date());
    expect(await slash(mm.adminToken, adminChannel.id, `/egress unignore ${GITHUB.host}`)).toContain('No longer ignored');
    const body = JSON.stringify({user_id: mm.admin.id, post_id: first.id, channel_id: adminChannel.id, team_id: mm.team.id, context: replayed});
    const sig = signatureHeaders(secret, {
      method: 'POST',
      target: '/mattermost/action',
      userId: mm.admin.id,
      username: mm.admin.username,
      body: Buffer.from(body),
    });
    const res = await fetch(`${runner.publicUrl}/mattermost/action`, {method: 'POST', headers: {'content-type': 'application/json', ...sig}, body});
    const reply = ((await res.json()) as {ephemeral_text?: string}).ephemeral_text ?? '';
    expect(reply).toMatch(/^Not changed: .* was un-ignored by .* UTC, after this alert was posted/);
    expect(reply).toContain(`\`${GITHUB.key}\``);
    expect((await finding(GITHUB.key)).status).toBe('open');
    expect((await bridge.store.listDecisions(GITHUB.key)).map((d) => d.action)).toEqual(['ignore', 'unignore', 'ignore', 'unignore']);
  });

  test('a tampered, foreign, or copied context is refused by the bridge', async () => {
    const bridge = runner.running;
    const key = Buffer.from((await bridge.store.getMeta('hmac-key'))!, 'hex');
    const [first] = alertPosts(await posts());
    const digestId = alertData(first).digest_id;
    const secret = Buffer.from((await bridge.store.getMeta('plugin-secret'))!, 'hex').toString('base64url');
    // Signed as the plugin signs a click Mattermost delivered, so that what is refused below is the context.
    const action = async (userId: string, ctx: unknown, postId = first.id) => {
      const body = JSON.stringify({user_id: userId, user_name: 'x', post_id: postId, channel_id: adminChannel.id, team_id: mm.team.id, context: ctx});
      const sig = signatureHeaders(secret, {method: 'POST', target: '/mattermost/action', userId, username: 'x', body: Buffer.from(body)});
      const res = await fetch(`${runner.publicUrl}/mattermost/action`, {method: 'POST', headers: {'content-type': 'application/json', ...sig}, body});
      expect(res.status).toBe(200);
      return ((await res.json()) as {ephemeral_text?: string}).ephemeral_text ?? '';
    };

    // A context the bridge signed works when sent directly (so the refusals below are about the context).
    const genuine = sealContext(key, {action: 'show-snippet', key: HOOKS.key, digest_id: digestId}, new Date());
    expect(await action(mm.admin.id, genuine)).toContain(HOOKS.host);

    // Someone rewrites a signed "show" into an "ignore", or retargets it.
    expect(await action(mm.admin.id, {...genuine, action: 'ignore'})).toBe('This button could not be verified.');
    expect(await action(mm.admin.id, {...genuine, action: 'ignore', key: S3.key})).toBe('This button could not be verified.');
    expect(await action(mm.admin.id, {action: 'ignore', key: S3.key, digest_id: digestId, exp: '9999999999'})).toBe('This button could not be verified.');
    // A genuine context from someone who is not an admin.
    const ignoreS3 = sealContext(key, {action: 'ignore', key: S3.key, digest_id: digestId, decided: '0'}, new Date());
    expect(await action(mm.user.id, ignoreS3)).toBe(BUTTON_REFUSAL);
    // `me` is not a Mattermost id: it never resolves to the bridge's own account (here the admin's).
    expect(await action('me', ignoreS3)).toBe(BUTTON_REFUSAL);
    expect((await finding(S3.key)).status).toBe('open');
    expect((await finding(HOOKS.key)).status).toBe('open');

    // A genuine Ignore context, up to date with every decision, sent with the id of a post that did not announce it.
    const latest = (await bridge.store.listDecisions(HOOKS.key)).at(-1)?.id ?? 0;
    const ignoreHooks = sealContext(key, {action: 'ignore', key: HOOKS.key, digest_id: digestId, decided: String(latest)}, new Date());
    const other = await admin.createPost({channel_id: townSquare.id, message: 'an ordinary post'} as Post);
    expect(await action(mm.admin.id, ignoreHooks, other.id)).toBe(BUTTON_ELSEWHERE);
    expect(await action(mm.admin.id, genuine, other.id)).toBe(BUTTON_ELSEWHERE);

    // The same context copied into a post of its own, clicked through Mattermost and the plugin.
    const copy = await admin.createPost({
      channel_id: townSquare.id,
      message: 'looks like an alert',
      props: {
        attachments: [
          {fallback: 'copy', actions: [{id: 'copied', name: 'Ignore', type: 'button', integration: {url: PLUGIN_ACTION_URL, context: ignoreHooks}}]},
        ],
      },
    } as unknown as Post);
    expect(await admin.doPostAction(copy.id, 'copied')).toMatchObject({status: 'OK'});
    expect((await finding(HOOKS.key)).status).toBe('open');
    // ...while on its own post it would have worked: what refused it is the post.
    expect(await action(mm.admin.id, ignoreHooks)).toContain('Ignored');
    expect((await finding(HOOKS.key)).status).toBe('ignored');
    expect(await slash(mm.adminToken, adminChannel.id, `/egress unignore ${HOOKS.host}`)).toContain('No longer ignored');
  });
});

describe('the webapp API under ' + API_BASE_PATH + ', through Mattermost and the plugin', () => {
  const api = (path: string) => `${mm.url}${API_BASE_PATH}${path}`;
  let cookies: {token: string; csrf: string; header: string};

  beforeAll(async () => {
    // Real cookies, from a real password login, as the browser would hold them.
    const res = await fetch(`${mm.url}/api/v4/users/login`, {
      method: 'POST',
      headers: {'content-type': 'application/json', 'x-requested-with': 'XMLHttpRequest'},
      body: JSON.stringify({login_id: mm.admin.username, password: mm.password}),
    });
    expect(res.status).toBe(200);
    await res.body?.cancel();
    const jar = new Map(res.headers.getSetCookie().map((c) => c.split(';')[0].split('=') as [string, string]));
    const token = jar.get('MMAUTHTOKEN');
    const csrf = jar.get('MMCSRF');
    if (!token || !csrf) throw new Error(`login set no MMAUTHTOKEN/MMCSRF cookies: ${[...jar.keys()].join(', ')}`);
    cookies = {token, csrf, header: [...jar].map(([k, v]) => `${k}=${v}`).join('; ')};
  });

  const suggest = (headers: Record<string, string>) =>
    fetch(api('/suggestions'), {
      method: 'POST',
      headers: {'content-type': 'application/json', ...headers},
      body: JSON.stringify({keys: 'all', format: 'serviceentry'}),
    });

  test('no session: 401; the ordinary user: 403 (from the plugin)', async () => {
    const none = await fetch(api('/findings'));
    expect(none.status).toBe(401);
    expect(((await none.json()) as {code: string}).code).toBe('unauthenticated');
    const user = await fetch(api('/findings'), {headers: {authorization: `Bearer ${mm.userToken}`}});
    expect(user.status).toBe(403);
    expect(((await user.json()) as {code: string}).code).toBe('not_system_admin');
    expect((await fetch(api('/findings'), {headers: {cookie: `MMAUTHTOKEN=${mm.userToken}`}})).status).toBe(403);
    expect((await fetch(api('/findings'), {headers: {authorization: 'Bearer zzzzzzzzzzzzzzzzzzzzzzzzzz'}})).status).toBe(401);
  });

  test('a cookie-authenticated POST without, or with a wrong, X-CSRF-Token gets nothing', async () => {
    // Mattermost passes such a request to the plugin as unauthenticated; the plugin refuses it.
    const without = await suggest({cookie: cookies.header});
    expect(without.status).toBe(401);
    expect(((await without.json()) as {code: string}).code).toBe('unauthenticated');
    const wrong = await suggest({cookie: cookies.header, 'x-csrf-token': `${cookies.csrf.slice(0, -1)}x`});
    expect(wrong.status).toBe(401);
    const ignore = await fetch(api(`/findings/${encodeURIComponent(S3.key)}/ignore`), {
      method: 'POST',
      headers: {cookie: cookies.header, 'content-type': 'application/json'},
      body: JSON.stringify({reason: 'forged'}),
    });
    expect(ignore.status).toBe(401);
    expect((await finding(S3.key)).status).toBe('open');
  });

  test('the admin: Bearer, and cookie with the matching X-CSRF-Token', async () => {
    const bearer = await fetch(api('/findings?limit=100'), {headers: {authorization: `Bearer ${mm.adminToken}`}});
    expect(bearer.status).toBe(200);
    const page = (await bearer.json()) as {items: {key: string}[]; total: number};
    expect(page.items.map((i) => i.key)).toEqual(expect.arrayContaining([HOOKS.key, S3.key, FLOOD.key]));

    const get = await fetch(api(`/findings/${encodeURIComponent(HOOKS.key)}`), {headers: {cookie: cookies.header}});
    expect(get.status).toBe(200);
    expect(((await get.json()) as {count: number}).count).toBe(5);

    const ok = await suggest({cookie: cookies.header, 'x-csrf-token': cookies.csrf});
    expect(ok.status).toBe(200);
    expect(((await ok.json()) as {yaml: string}).yaml).toContain(S3.host);

    const ignore = await fetch(api(`/findings/${encodeURIComponent(S3.key)}/ignore`), {
      method: 'POST',
      headers: {cookie: cookies.header, 'x-csrf-token': cookies.csrf, 'content-type': 'application/json'},
      body: JSON.stringify({reason: 'S3 goes through the VPC endpoint'}),
    });
    expect(ignore.status).toBe(200);
    expect((await finding(S3.key)).ignored).toMatchObject({by: {userId: mm.admin.id}, reason: 'S3 goes through the VPC endpoint'});
    const unignore = await fetch(api(`/findings/${encodeURIComponent(S3.key)}/unignore`), {
      method: 'POST',
      headers: {cookie: cookies.header, 'x-csrf-token': cookies.csrf, 'content-type': 'application/json'},
      body: JSON.stringify({}),
    });
    expect(unignore.status).toBe(200);
    expect((await finding(S3.key)).status).toBe('open');
  });
});

test('a bridge restart re-alerts nothing, counts nothing twice, and counts what comes after', async () => {
  await settled([], 'the outbox empty before the restart');
  const before = await posts();
  const counts = new Map((await runner.running.store.listFindings({limit: 500})).items.map((f) => [f.key, f.count]));
  expect(counts.get(HOOKS.key)).toBe(5);
  expect(counts.get(FLOOD.key)).toBe(200);

  const t0 = Date.now();
  await runner.stop();
  const bridge = await runner.start();
  await waitFor('the restarted bridge to connect', () => bridge.link?.up === true && bridge.link.inventory !== null, {context});
  mark('bridge restart to connected', t0);
  // The file was read up to its end (from the resume point) before the check below.
  await waitFor('the source to follow the file again', () => bridge.sources[0].status().state === 'following', {context});
  // One delivery pass over whatever is due (there should be nothing).
  await bridge.alerts.tick();
  await settled([], 'the outbox empty after the restart');

  const after = await posts();
  expect(after.map((p) => p.id)).toEqual(before.map((p) => p.id));
  const again = new Map((await bridge.store.listFindings({limit: 500})).items.map((f) => [f.key, f.count]));
  expect(again).toEqual(counts);

  // /egress and the buttons of posts made before the restart still work (same command token, same signing key).
  // S3 was ignored and un-ignored through the page after its alert; the alert was drawn again each time, so its
  // Ignore button carries the latest decision and works.
  expect(await slash(mm.adminToken, adminChannel.id, `/egress show ${S3.host}`)).toContain('1 attempt');
  const s3Post = alertPosts(after).find((p) => alertData(p).findings.some((f) => f.key === S3.key))!;
  const ignoreS3 = attachmentsOf(s3Post)[0].actions.find((b) => b.name.startsWith('Ignore'))!;
  expect(await admin.doPostAction(s3Post.id, ignoreS3.id)).toMatchObject({status: 'OK'});
  expect((await finding(S3.key)).status).toBe('ignored');

  // New lines after the restart are counted, and go to the thread, not to a new alert.
  runner.append([blockedTls(HOOKS.ip, 443, HOOKS.host), blockedTls(HOOKS.ip, 443, HOOKS.host, {pod: PODS[1]})]);
  await waitFor('the new lines counted', async () => (await finding(HOOKS.key)).count === 7, {context});
  const [first] = alertPosts(after);
  // Besides the replies that tell of ignores and un-ignores, a second one about more activity.
  const activity = async (): Promise<Post[]> => repliesTo(await posts(), first.id).filter((p) => p.message.startsWith('More activity'));
  await waitFor('a second activity reply in the first alert thread', async () => (await activity()).length === 2, {context});
  await settled([], 'the outbox empty');
  expect(alertPosts(await posts())).toHaveLength(alertPosts(before).length);
});

test('a restart inside the digest window delivers the pending alert once, after the restart', async () => {
  const before = alertPosts(await posts()).length;
  // A longer window for this run, so that the stop surely falls inside it.
  await runner.stop();
  runner.opts.digestSeconds = 4;
  await runner.start();
  await waitFor('the bridge to connect', () => runner.running.link?.up === true, {context});
  runner.append([blockedTls(SMTP.ip, 587, SMTP.host)]);
  await waitFor('the new destination stored', async () => (await runner.running.store.getFinding(SMTP.key)) !== null, {context});
  await runner.stop();
  expect(alertPosts(await posts())).toHaveLength(before);
  runner.opts.digestSeconds = 1;

  // The alert keeps the time it was due at; meanwhile the stopped bridge's timers fire (into nothing, they should).
  await runner.start();
  await waitFor('the pending alert after the restart', async () => alertPosts(await posts()).length === before + 1, {context});
  await settled([SMTP.key], 'the new destination announced');
  const alerts = alertPosts(await posts());
  expect(alerts).toHaveLength(before + 1);
  expect(alertData(alerts[before]).findings.map((f) => f.key)).toEqual([SMTP.key]);
});

test('Mattermost away while an alert is due: the alert arrives once it is back, exactly once', async () => {
  const before = alertPosts(await posts()).length;

  const t0 = Date.now();
  await mm.stopProcess();
  runner.append([blockedTls(JIRA.ip, 443, JIRA.host), blockedTls(JIRA.ip, 443, JIRA.host, {pod: PODS[1]})]);
  await waitFor('the new destination stored', async () => (await runner.running.store.getFinding(JIRA.key))?.count === 2, {context});
  // The bridge knows Mattermost is away and keeps the alert (it does not pile up retries meanwhile).
  await waitFor('the link to report Mattermost down', () => runner.running.link?.outbound.state === 'down', {context});
  await waitFor('the alert waiting in the outbox', async () => (await runner.running.store.outboxDepth()) > 0, {context});
  expect((await finding(JIRA.key)).alertPostId).toBeNull();

  await mm.startProcess();
  mark('Mattermost down', t0);
  const t1 = Date.now();
  await waitFor('the alert after Mattermost is back', async () => alertPosts(await posts()).some((p) => p.message.includes(JIRA.host)), {
    timeoutMs: 90_000,
    context,
  });
  mark('Mattermost back to alert', t1);
  await settled([JIRA.key], 'the new destination announced', 60_000);

  const alerts = alertPosts(await posts());
  expect(alerts).toHaveLength(before + 1);
  expect(alerts.filter((p) => alertData(p).findings.some((f) => f.key === JIRA.key))).toHaveLength(1);
  expect(alertData(alerts[alerts.length - 1]).findings.map((f) => f.key)).toEqual([JIRA.key]);
});

test('a bridge that starts while Mattermost is away keeps the findings and alerts once Mattermost is back', async () => {
  const before = alertPosts(await posts()).length;
  await runner.stop();
  await mm.stopProcess();
  const t0 = Date.now();
  const bridge = await runner.start();
  mark('bridge start without Mattermost', t0);
  expect(bridge.link?.up).toBe(false);

  runner.append([blockedTls(GITLAB.ip, 443, GITLAB.host), blockedTls(GITLAB.ip, 443, GITLAB.host)]);
  await waitFor('the finding stored without Mattermost', async () => (await bridge.store.getFinding(GITLAB.key))?.count === 2, {context});
  await waitFor('the link to report Mattermost down', () => bridge.link?.outbound.state === 'down', {context});

  await mm.startProcess();
  const t1 = Date.now();
  await waitFor('the link to connect', () => bridge.link?.up === true, {context});
  await waitFor('the alert once Mattermost is back', async () => alertPosts(await posts()).length === before + 1, {context});
  mark('Mattermost back to alert (bridge started without it)', t1);
  await settled([GITLAB.key], 'the finding announced');
  const alerts = alertPosts(await posts());
  expect(alerts).toHaveLength(before + 1);
  expect(alertData(alerts[before]).findings.map((f) => f.key)).toEqual([GITLAB.key]);
  expect(await slash(mm.adminToken, adminChannel.id, `/egress show ${GITLAB.host}`)).toContain('2 attempts');
});

test("pasting every alert's YAML in order gives the values of /egress snippet all", async () => {
  const routes = (yaml: string): Record<string, unknown> =>
    yaml === ''
      ? {}
      : (parseYaml(yaml) as {addons: {mattermost: {values: {routes: {outbound: Record<string, unknown>}}}}}).addons.mattermost.values.routes.outbound;
  const alerts = alertPosts(await posts());
  expect(alerts.length).toBeGreaterThan(2);
  // Values merge by route name: a later paste of the same name replaces the earlier one.
  const pasted: Record<string, unknown> = {};
  for (const post of alerts) {
    const data = alertData(post);
    expect(data.yaml_omitted).toBe(false);
    Object.assign(pasted, routes(data.yaml));
    // The YAML in the message is the one in the props, as a phone shows it.
    if (data.yaml !== '') expect(yamlOf(post.message)).toBe(data.yaml.trimEnd());
  }
  const all = routes(yamlOf(await slash(mm.adminToken, adminChannel.id, '/egress snippet all')));
  expect(Object.keys(all).length).toBeGreaterThan(2);
  // Every route of snippet all was pasted, with the same values (the alerts also hold destinations ignored
  // since, which snippet all leaves out).
  for (const [name, route] of Object.entries(all)) expect({name, route: pasted[name]}).toEqual({name, route});
});

test('hostile host names from the log make no mention, link or YAML', async () => {
  const channelMember = async () => admin.getChannelMember(adminChannel.id, mm.admin.id);
  const mentionsBefore = (await channelMember()).mention_count;
  const before = alertPosts(await posts()).length;

  const hostile = [
    {line: blockedTls('203.0.113.50', 443, 'evil.example<script>@channel'), key: '203.0.113.50:443', name: 'evil.example<script>@channel'},
    {line: blockedTls('203.0.113.51', 443, '[x](http://y)'), key: '203.0.113.51:443', name: '[x](http://y)'},
    {line: blockedHttp('203.0.113.52', 'a: b'), key: '203.0.113.52:80', name: 'a: b'},
    {line: blockedHttp('203.0.113.53', '@channel'), key: '203.0.113.53:80', name: '@channel'},
    {line: blockedHttp('203.0.113.54', '@here'), key: '203.0.113.54:80', name: '@here'},
  ];
  // Next to them, in the same burst, a valid name: the YAML is not empty, and holds that one only.
  const valid = {ip: '203.0.113.55', host: 'ok.example.com', key: 'ok.example.com:443'};
  runner.append([...hostile.map((h) => h.line), blockedTls(valid.ip, 443, valid.host)]);
  const keys = [...hostile.map((h) => h.key), valid.key];
  await waitFor('the hostile alert', async () => alertPosts(await posts()).length === before + 1, {context});
  await settled(keys, 'the hostile destinations announced');

  const alerts = alertPosts(await posts());
  expect(alerts).toHaveLength(before + 1);
  const post = alerts[alerts.length - 1];
  const data = alertData(post);
  expect(data.findings.map((f) => f.key).sort()).toEqual([...keys].sort());
  // No hostile name from the log is taken as a host.
  for (const f of data.findings) expect(f.host).toBe(f.key === valid.key ? valid.host : null);

  // The names are shown, but only inside code spans: no mention, link or HTML from the log.
  const live = outsideCode(post.message);
  for (const bad of ['@channel', '@here', '<script', 'http://y', '[x]', 'a: b']) expect(live).not.toContain(bad);
  // The only link is the bridge's own, to the System Console of this Mattermost.
  const links = [...live.matchAll(/\]\(([^)\s]*)/g)].map((m) => m[1]);
  for (const href of links) expect(href.startsWith(`${mm.url}/admin_console/`)).toBe(true);

  // Six destinations: more than an alert carries YAML for, so it points at /egress snippet all, whose YAML
  // allows the valid name and holds nothing of the hostile ones.
  expect(data.yaml).toBe('');
  expect(data.yaml_omitted).toBe(true);
  expect(post.message).toContain('`/egress snippet all`');
  const yaml = yamlOf(await slash(mm.adminToken, adminChannel.id, '/egress snippet all'));
  expect(yamlHosts(yaml)).toContain(valid.host);
  for (const h of hostile) expect(yaml).not.toContain(h.name);
  for (const bad of ['evil', 'script', '[x]', 'http://y', 'a: b', '@']) expect(yaml).not.toContain(bad);
  // Button labels and notification fallbacks are plain text: no mention survives in them either.
  for (const a of attachmentsOf(post)) {
    expect(a.fallback).not.toMatch(/@(channel|here|all)/);
    for (const b of a.actions) expect(b.name).not.toMatch(/@(channel|here|all)/);
  }

  // Mattermost itself saw no mention of the admin in the channel...
  await settled([], 'the outbox empty');
  expect((await channelMember()).mention_count).toBe(mentionsBefore);
  // ...where the same bot writing @channel outside code is one (so the count above can tell).
  const botToken = await runner.running.store.getMeta('mattermost.bot-token');
  await mm.client(botToken!).createPost({channel_id: adminChannel.id, message: 'Control: @channel'} as Post);
  await waitFor('the control mention counted', async () => (await channelMember()).mention_count === mentionsBefore + 1, {timeoutMs: 10_000});
});

// More than the store answers in one call (MAX_PAGE, 5000): the digest and /egress must still see them all.
const BURST = 5_100;

test(`a burst of ${BURST} new destinations: one post, and every one of them announced and reachable`, async () => {
  const before = alertPosts(await posts()).length;
  const hosts = Array.from({length: BURST}, (_, i) => `cdn-${String(i + 1).padStart(4, '0')}.example.net`);
  const t0 = Date.now();
  runner.append(hosts.map((h, i) => blockedTls(`198.51.100.${(i % 250) + 1}`, 443, h, {pod: PODS[i % 2]})));
  await waitFor(`the ${BURST} destinations stored`, async () => (await runner.running.store.countFindings()).byStatus.open >= BURST, {context});
  await waitFor('the burst alert', async () => alertPosts(await posts()).length > before, {context});
  await waitFor('the outbox empty', async () => (await runner.running.store.outboxDepth()) === 0, {context});
  mark(`${BURST} destinations to one post`, t0);

  const alerts = alertPosts(await posts());
  expect(alerts).toHaveLength(before + 1);
  const post = alerts[alerts.length - 1];
  const data = alertData(post);
  expect(data.findings.length + data.findings_omitted).toBe(BURST);
  expect(post.message).toContain(`${BURST.toLocaleString('en-US')} outbound destinations`);
  const notAnnounced: string[] = [];
  for (const h of hosts) if ((await finding(`${h}:443`)).alertPostId !== post.id) notAnnounced.push(h);
  expect(notAnnounced).toEqual([]);

  // The last of them by urgency is as reachable by /egress as the first.
  const last = hosts[BURST - 1];
  const show = await slash(mm.adminToken, adminChannel.id, `/egress show ${last}`);
  expect(show).not.toContain('No destination matches');
  expect(show).toContain(last);
  expect(show).toContain('1 attempt');
});

test('the bridge left no promise rejected and unhandled', () => {
  expect(unhandled).toEqual([]);
});

test("the bridge's log never shows a token", async () => {
  const log = runner.bridgeLog();
  expect(log.length).toBeGreaterThan(0);
  expect(log).not.toContain(mm.adminToken);
  const botToken = await runner.running.store.getMeta('mattermost.bot-token');
  expect(botToken).toBeTruthy();
  expect(log).not.toContain(botToken!);
});
