/*
 * The whole way in, on the real Mattermost server (test/mattermost/harness.ts) with the real plugin tarball
 * (webapp bundle and the Go server half, `npm run dist`) and a real bridge: Mattermost authenticates the
 * caller, the plugin checks manage_system and forwards the call signed, the bridge answers only signed calls.
 * Nothing is stood in for; the HTTP requests are what a browser, a script or Mattermost's own clients send.
 */
import {spawnSync} from 'node:child_process';

import type {Client4} from '@mattermost/client';
import type {AdminConfig} from '@mattermost/types/config';
import type {Post} from '@mattermost/types/posts';

import {readAlertData} from '../../common/alert';
import {API_BASE_PATH, PLUGIN_ID} from '../../common/api';
import {bundleEntries, readManifest} from '../../build/bundle';
import {tarGz} from '../../build/tar';
import {signatureHeaders} from '../../server/http/signature';
import {REFUSAL} from '../../server/present/replies';
import {BRIDGE_SECRET_KEY, BRIDGE_URL_KEY, ourSettings} from '../../server/mattermost/plugin-settings';
import {alertPosts, blockedTls, BridgeRunner, channelPosts, waitFor} from '../bridge/helpers';
import {useMattermost} from '../mattermost/harness';
import {ensureBuiltPlugin, installPlugin, type BuiltPlugin} from '../mattermost/plugin';

jest.setTimeout(600_000);

const server = useMattermost();
let built: BuiltPlugin;
let runner: BridgeRunner;
let admin: Client4;

/** What Mattermost shows instead of a secret setting's value. */
const MASK = '********************************';

const viaPlugin = (path: string, init: RequestInit & {token?: string | null} = {}): Promise<Response> => {
  const {token = server().adminToken, ...rest} = init;
  const headers: Record<string, string> = {...(rest.headers as Record<string, string>)};
  if (token !== null) headers.Authorization = `Bearer ${token}`;
  return fetch(`${server().url}${API_BASE_PATH}${path}`, {...rest, headers});
};

async function ourConfig(): Promise<Record<string, unknown>> {
  return ourSettings((await admin.getConfig()) as AdminConfig);
}

/** Changes our settings the way the System Console saves them: the whole Plugins map, masked secrets included. */
async function saveSettings(change: Record<string, unknown>): Promise<void> {
  const config = (await admin.getConfig()) as AdminConfig;
  const plugins = {...(config.PluginSettings.Plugins as Record<string, Record<string, unknown>>)};
  plugins[PLUGIN_ID] = {...plugins[PLUGIN_ID], ...change};
  await admin.patchConfig({PluginSettings: {Plugins: plugins}} as never);
}

async function pluginSecret(): Promise<string> {
  const hex = await runner.running.store.getMeta('plugin-secret');
  if (hex === null) throw new Error('the bridge holds no plugin secret');
  return Buffer.from(hex, 'hex').toString('base64url');
}

async function slash(token: string, command: string): Promise<string> {
  const channel = await admin.getChannelByName(server().team.id, 'town-square');
  const res = (await server()
    .client(token)
    .executeCommand(command, {channel_id: channel.id, team_id: server().team.id} as Parameters<Client4['executeCommand']>[1])) as {text?: string};
  return res.text ?? '';
}

beforeAll(async () => {
  const mm = server();
  admin = mm.client();
  built = ensureBuiltPlugin();
  await installPlugin(mm, built);
  runner = await BridgeRunner.create({
    mattermostUrl: mm.url,
    token: mm.adminToken,
    team: mm.team.name,
    digestSeconds: 1,
    updateSeconds: 2,
    start: {mattermostCheckMs: 1_000, inventoryMaxAgeMs: 3_000},
  });
  await runner.start();
  // The bridge connects to Mattermost and writes its URL and secret into the plugin's settings.
  await waitFor('the bridge to write the plugin settings', async () => (await ourConfig())[BRIDGE_URL_KEY] === runner.publicUrl, {
    timeoutMs: 60_000,
    context: () => runner.bridgeLogTail(),
  });
});

afterAll(async () => {
  await runner?.stop();
  runner?.cleanup();
});

test('the tarball carries the server half for linux-amd64 and linux-arm64, and it runs', async () => {
  const listing = spawnSync('tar', ['-tvzf', built.tarball], {encoding: 'utf8'}).stdout;
  expect(listing).toMatch(/^-rwxr-xr-x .* egress-advisor\/server\/dist\/plugin-linux-amd64$/m);
  expect(listing).toMatch(/^-rwxr-xr-x .* egress-advisor\/server\/dist\/plugin-linux-arm64$/m);
  const statuses = (await admin.getPluginStatuses()) as Array<{plugin_id: string; state: number}>;
  expect(statuses.find((s) => s.plugin_id === PLUGIN_ID)?.state).toBe(2);
});

test("an admin reaches the bridge through the plugin's route, events stream through", async () => {
  const status = await viaPlugin('/status');
  expect(status.status).toBe(200);
  const report = (await status.json()) as {bridgeVersion: string; mattermost: {inbound: {state: string}}};
  expect(report.bridgeVersion).toBe(readManifest().manifest.version);
  expect(report.mattermost.inbound.state).toBe('connected');
  expect((await viaPlugin('/findings')).status).toBe(200);

  const controller = new AbortController();
  const events = await viaPlugin('/events', {signal: controller.signal});
  expect(events.headers.get('content-type')).toContain('text/event-stream');
  const reader = events.body!.getReader();
  const first = new TextDecoder().decode((await reader.read()).value);
  expect(first).toContain('retry:');
  controller.abort();
});

test('refusals: no session, a non-admin, a forged Mattermost-User-Id', async () => {
  const mm = server();
  const none = await viaPlugin('/findings', {token: null});
  expect(none.status).toBe(401);
  expect(((await none.json()) as {code: string}).code).toBe('unauthenticated');

  const user = await viaPlugin('/findings', {token: mm.userToken});
  expect(user.status).toBe(403);
  expect(((await user.json()) as {code: string}).code).toBe('not_system_admin');

  // Mattermost drops the header a client sends and sets it only for a valid session.
  const forged = await viaPlugin('/findings', {token: null, headers: {'Mattermost-User-Id': mm.admin.id}});
  expect(forged.status).toBe(401);
  const forgedAsUser = await viaPlugin('/findings', {token: mm.userToken, headers: {'Mattermost-User-Id': mm.admin.id}});
  expect(forgedAsUser.status).toBe(403);
});

test('demoting an admin takes effect on the very next request', async () => {
  const mm = server();
  await admin.updateUserRoles(mm.user.id, 'system_user system_admin');
  expect((await viaPlugin('/findings', {token: mm.userToken})).status).toBe(200);
  await admin.updateUserRoles(mm.user.id, 'system_user');
  expect((await viaPlugin('/findings', {token: mm.userToken})).status).toBe(403);
});

test("the bridge's own look-up of a command's caller is not kept: a demotion counts on the next call", async () => {
  // Signed as the plugin signs it, straight to the bridge, so that the bridge's check is the one tested.
  const mm = server();
  const secret = await pluginSecret();
  const command = async (): Promise<string> => {
    const body = Buffer.from(JSON.stringify({command: '/egress status', user_id: mm.user.id, channel_id: '', team_id: mm.team.id}));
    const headers = signatureHeaders(secret, {method: 'POST', target: '/mattermost/command', userId: mm.user.id, username: mm.user.username, body});
    const res = await fetch(`${runner.publicUrl}/mattermost/command`, {method: 'POST', headers: {...headers, 'content-type': 'application/json'}, body});
    expect(res.status).toBe(200);
    return ((await res.json()) as {text: string}).text;
  };
  try {
    await admin.updateUserRoles(mm.user.id, 'system_user system_admin');
    expect(await command()).toContain('Egress Advisor status');
    await admin.updateUserRoles(mm.user.id, 'system_user');
    expect(await command()).toBe(REFUSAL);
  } finally {
    await admin.updateUserRoles(mm.user.id, 'system_user');
  }
});

test('/egress goes through POST /api/v4/commands/execute; a non-admin is refused', async () => {
  expect(await slash(server().adminToken, '/egress status')).toContain('Egress Advisor status');
  expect(await slash(server().userToken, '/egress status')).toBe(REFUSAL);
});

test('the bridge answers 401 to unsigned, badly signed and replayed calls', async () => {
  const target = `${API_BASE_PATH}/findings/revision`;
  const url = `${runner.publicUrl}${target}`;
  const sign = async (secret: string, unixSeconds?: number) =>
    signatureHeaders(secret, {method: 'GET', target, userId: server().admin.id, username: 'admin', body: Buffer.alloc(0), unixSeconds});
  expect((await fetch(url)).status).toBe(401);
  expect((await fetch(url, {headers: await sign('not-the-secret-not-the-secret-not-the-sec')})).status).toBe(401);
  const secret = await pluginSecret();
  expect((await fetch(url, {headers: await sign(secret)})).status).toBe(200);
  const replayed = await fetch(url, {headers: await sign(secret, Math.floor(Date.now() / 1000) - 60)});
  expect(replayed.status).toBe(401);
  expect(((await replayed.json()) as {error: string}).error).toContain('time window');
});

test('the secret shows in no masked settings page, client config, post or log', async () => {
  const secret = await pluginSecret();
  const settings = await ourConfig();
  expect(settings[BRIDGE_SECRET_KEY]).toBe(MASK);
  const client = await fetch(`${server().url}/api/v4/config/client?format=old`, {headers: {Authorization: `Bearer ${server().userToken}`}});
  expect(await client.text()).not.toContain(secret);
  const plugins = await fetch(`${server().url}/api/v4/plugins/webapp`, {headers: {Authorization: `Bearer ${server().userToken}`}});
  expect(await plugins.text()).not.toContain(secret);
  expect(runner.bridgeLog()).not.toContain(secret);
  expect(server().logTail(100_000)).not.toContain(secret);
});

test('the settings page applies through the plugin without a restart: format and YAML of the next alert', async () => {
  await saveSettings({suggestionformat: 'serviceentry', showalertyaml: false});
  await waitFor('the bridge to apply the new settings', () => runner.logCount('plugin settings changed') > 0, {
    timeoutMs: 30_000,
    context: () => runner.bridgeLogTail(),
  });
  // The secret survived the save (Mattermost restores masked values): the plugin still gets in.
  expect((await viaPlugin('/findings/revision')).status).toBe(200);

  runner.append([blockedTls('52.216.8.45', 443, 'settings-test.s3.amazonaws.com')]);
  const channelId = runner.running.link?.channel?.channelId;
  expect(channelId).toBeDefined();
  const [post] = await waitFor(
    'the alert',
    async () => {
      const found = alertPosts(await channelPosts(admin, channelId!)).filter((p) => JSON.stringify(p.props).includes('settings-test.s3.amazonaws.com'));
      return found.length > 0 ? found : null;
    },
    {timeoutMs: 60_000, context: () => runner.bridgeLogTail()},
  );
  const data = readAlertData(post.props);
  expect(data?.findings.map((f) => f.key)).toEqual(['settings-test.s3.amazonaws.com:443']);
  expect(data?.format).toBe('serviceentry');
  expect(data?.yaml).toBe('');
  expect(post.message).not.toContain('```yaml');
  expect(await slash(server().adminToken, '/egress snippet settings-test.s3.amazonaws.com')).toContain('kind: ServiceEntry');

  // The alert's Ignore button: Mattermost delivers it to the plugin's own route, the plugin to the bridge.
  const attachments = (post.props as {attachments?: Array<{actions?: Array<{id: string; name: string}>}>}).attachments ?? [];
  const ignore = attachments.flatMap((a) => a.actions ?? []).find((b) => b.name.startsWith('Ignore'));
  expect(ignore).toBeDefined();
  expect(await admin.doPostAction(post.id, ignore!.id)).toMatchObject({status: 'OK'});
  const finding = await runner.running.store.getFinding(data!.findings[0].key);
  expect(finding?.status).toBe('ignored');
  expect(finding?.ignored?.by).toMatchObject({userId: server().admin.id, username: server().admin.username});
});

test('with the bridge down the page and /egress say so, and Mattermost keeps working', async () => {
  await runner.stop();
  try {
    const res = await viaPlugin('/status');
    expect(res.status).toBe(502);
    const body = (await res.json()) as {code: string; error: string};
    expect(body.code).toBe('bridge_unreachable');
    expect(body.error).toContain(runner.publicUrl);
    expect(await slash(server().adminToken, '/egress status')).toContain('cannot be reached');
    expect((await fetch(`${server().url}/api/v4/system/ping`)).status).toBe(200);
    const posts = (await admin.getPosts((await admin.getChannelByName(server().team.id, 'town-square')).id)) as {order: string[]; posts: Record<string, Post>};
    expect(Array.isArray(posts.order)).toBe(true);
  } finally {
    await runner.start();
  }
  await waitFor('the bridge to answer again', async () => (await viaPlugin('/status')).status === 200, {timeoutMs: 60_000});
});

test('a rejected Mattermost token leaves the bridge ready: the page through the plugin says why', async () => {
  // The same installation (port, data folder, secret) started again with a token Mattermost refuses, as after
  // someone revoked the bridge's token. The plugin still holds the bridge's URL and secret from before.
  await runner.stop();
  const env = runner.opts.env;
  (runner.opts as {env?: Record<string, string>}).env = {...env, MATTERMOST_TOKEN: 'rejectedrejectedrejected12'};
  try {
    await runner.start();
    const readyz = await waitFor(
      '/readyz to name the broken link',
      async () => {
        const r = await fetch(`${runner.publicUrl}/readyz`);
        const body = (await r.json()) as {ready: boolean; reasons: string[]; degraded: string[]};
        return body.degraded.length > 0 ? {status: r.status, body} : null;
      },
      {timeoutMs: 60_000, context: () => runner.bridgeLogTail()},
    );
    // Ready: Kubernetes keeps the pod in the Service, so the plugin reaches it.
    expect(readyz.status).toBe(200);
    expect(readyz.body).toMatchObject({ready: true, reasons: []});
    expect(readyz.body.degraded).toEqual([expect.stringMatching(/^mattermost: .*token/i)]);
    // The page's status, through Mattermost and the plugin: the exact reason, not "cannot reach the bridge".
    const res = await viaPlugin('/status');
    expect(res.status).toBe(200);
    const report = (await res.json()) as {ready: {ready: boolean; degraded: string[]}; mattermost: {outbound: {state: string; problems: {code: string}[]}}};
    expect(report.ready).toMatchObject({ready: true, degraded: readyz.body.degraded});
    expect(report.mattermost.outbound.state).toBe('down');
    expect(report.mattermost.outbound.problems.map((p) => p.code)).toContain('token-rejected');
    expect(await slash(server().adminToken, '/egress status')).toMatch(/token/i);
  } finally {
    await runner.stop();
    (runner.opts as {env?: Record<string, string>}).env = env;
    await runner.start();
  }
  await waitFor('the bridge to connect again', async () => runner.running.link?.up === true, {timeoutMs: 60_000, context: () => runner.bridgeLogTail()});
});

test('disable, enable and upgrade the plugin', async () => {
  await admin.disablePlugin(PLUGIN_ID);
  expect((await viaPlugin('/status')).status).toBe(404);
  await admin.enablePlugin(PLUGIN_ID);
  await waitFor('the plugin to answer again', async () => (await viaPlugin('/status')).status === 200, {timeoutMs: 60_000});

  // A newer version of the same plugin, uploaded over the running one.
  const {manifest, text} = readManifest();
  const next = {...manifest, version: '99.0.0'};
  const read = (entry: string) => spawnSync('tar', ['-xzOf', built.tarball, entry], {maxBuffer: 64 * 1024 * 1024}).stdout;
  const binaries = {'linux-amd64': read(`${PLUGIN_ID}/server/dist/plugin-linux-amd64`), 'linux-arm64': read(`${PLUGIN_ID}/server/dist/plugin-linux-arm64`)};
  const archive = tarGz(
    bundleEntries(next, text.replace(`"version": "${manifest.version}"`, '"version": "99.0.0"'), built.mainJs, binaries),
    Math.floor(Date.now() / 1000),
  );
  const form = new FormData();
  form.append('plugin', new Blob([new Uint8Array(archive)], {type: 'application/gzip'}), 'egress-advisor-99.0.0.tar.gz');
  form.append('force', 'true');
  const upload = await fetch(`${server().url}/api/v4/plugins`, {method: 'POST', body: form, headers: {Authorization: `Bearer ${server().adminToken}`}});
  expect(upload.status).toBe(201);
  await admin.enablePlugin(PLUGIN_ID);
  await waitFor('the upgraded plugin to answer', async () => (await viaPlugin('/status')).status === 200, {timeoutMs: 60_000});
  const webapp = (await (await fetch(`${server().url}/api/v4/plugins/webapp`, {headers: {Authorization: `Bearer ${server().adminToken}`}})).json()) as Array<{
    id: string;
    version: string;
  }>;
  expect(webapp.find((p) => p.id === PLUGIN_ID)?.version).toBe('99.0.0');
  // The settings, the secret among them, outlive the upgrade.
  expect(await slash(server().adminToken, '/egress status')).toContain('Egress Advisor status');
});
