/**
 * @jest-environment node
 */
// The plugin bundle against a real Mattermost server (test/mattermost/harness.ts): the tarball the
// build writes is accepted on upload, the plugin runs, browsers are offered the same bytes the
// build produced, and before any bridge has connected the plugin says so in a way the client reads
// as "bridge not reached". The whole way to a bridge is test/plugin/plugin.integration.test.ts.
import {spawnSync} from 'child_process';
import fs from 'fs';
import http from 'http';
import type {AddressInfo} from 'net';
import os from 'os';
import path from 'path';

import type {Channel} from '@mattermost/types/channels';
import type {Post} from '@mattermost/types/posts';

import {ALERT_POST_TYPE} from '../../common/alert';
import {buildWebapp, bundleEntries, readManifest} from '../../build/bundle';
import {tarGz} from '../../build/tar';
import {useMattermost} from '../../test/mattermost/harness';
import {ensureBuiltPlugin} from '../../test/mattermost/plugin';

import {BridgeClient, BridgeError, doPostAction} from './client';
import {readAttachments} from './components/alert_post/post_actions';

jest.setTimeout(240_000);

const mm = useMattermost();

let mainJs: Buffer;
const outDir = fs.mkdtempSync(path.join(os.tmpdir(), 'egress-webapp-'));

beforeAll(async () => {
  const log = jest.spyOn(console, 'log').mockImplementation(() => undefined);
  try {
    mainJs = await buildWebapp(outDir);
  } finally {
    log.mockRestore();
  }
}, 180_000);

afterAll(() => fs.rmSync(outDir, {recursive: true, force: true}));

async function api(path: string, init: RequestInit = {}, token = mm().adminToken): Promise<Response> {
  return fetch(`${mm().url}${path}`, {...init, headers: {Authorization: `Bearer ${token}`, 'X-Requested-With': 'XMLHttpRequest', ...(init.headers ?? {})}});
}

test('the tarball uploads, the plugin runs and browsers get the built bundle', async () => {
  const {manifest, text} = readManifest();
  // The server half as npm run dist cross-compiled it, next to the bundle built here.
  const built = ensureBuiltPlugin();
  const binary = (platform: string) =>
    spawnSync('tar', ['-xzOf', built.tarball, `${manifest.id}/server/dist/plugin-${platform}`], {maxBuffer: 64 * 1024 * 1024}).stdout;
  const archive = tarGz(
    bundleEntries(manifest, text, mainJs, {'linux-amd64': binary('linux-amd64'), 'linux-arm64': binary('linux-arm64')}),
    Math.floor(Date.now() / 1000),
  );

  const form = new FormData();
  form.append('plugin', new Blob([new Uint8Array(archive)], {type: 'application/gzip'}), `egress-advisor-${manifest.version}.tar.gz`);
  form.append('force', 'true');
  const upload = await api('/api/v4/plugins', {method: 'POST', body: form});
  const uploaded = (await upload.json()) as {id: string; message?: string};
  expect({status: upload.status, id: uploaded.id, message: uploaded.message}).toEqual({status: 201, id: 'egress-advisor', message: undefined});

  const enable = await api('/api/v4/plugins/egress-advisor/enable', {method: 'POST'});
  expect(enable.status).toBe(200);

  const statuses = (await (await api('/api/v4/plugins/statuses')).json()) as Array<{plugin_id: string; state: number; error?: string}>;
  // 2 is PluginStateRunning.
  expect(statuses.find((s) => s.plugin_id === 'egress-advisor')).toMatchObject({state: 2});

  // What every browser loads: the manifest without its settings, and the bundle under a hashed name.
  const webapp = (await (await api('/api/v4/plugins/webapp', {}, mm().userToken)).json()) as Array<{
    id: string;
    version: string;
    webapp?: {bundle_path: string};
    settings_schema?: unknown;
  }>;
  const mine = webapp.find((p) => p.id === 'egress-advisor');
  expect(mine?.version).toBe(manifest.version);
  expect(mine?.settings_schema).toBeUndefined();
  const bundlePath = mine?.webapp?.bundle_path ?? '';
  expect(bundlePath).toMatch(/^\/static\/egress-advisor\/egress-advisor_[0-9a-f]+_bundle\.js$/);
  const served = await fetch(`${mm().url}${bundlePath.replace(/^\/static\//, '/static/plugins/')}`);
  expect(served.status).toBe(200);
  expect(Buffer.from(await served.arrayBuffer()).equals(mainJs)).toBe(true);

  // The System Console reads the whole manifest, settings included, as the server validated it.
  const all = (await (await api('/api/v4/plugins')).json()) as {active: Array<{id: string; settings_schema?: {settings: Array<{key: string; type: string}>}}>};
  const active = all.active.find((p) => p.id === 'egress-advisor');
  expect(active?.settings_schema?.settings.map((s) => `${s.key}:${s.type}`)).toEqual(manifest.settings_schema?.settings?.map((s) => `${s.key}:${s.type}`));
});

test('before a bridge has connected, the plugin says so and the client reads it as "bridge not reached"', async () => {
  const token = mm().adminToken;
  const client = new BridgeClient({
    siteUrl: mm().url,
    fetch: (input, init) => fetch(`${mm().url}${input}`, {...init, headers: {...(init?.headers as Record<string, string>), Authorization: `Bearer ${token}`}}),
  });
  const err = await client.status().catch((e: unknown) => e);
  expect(err).toBeInstanceOf(BridgeError);
  expect([(err as BridgeError).status, (err as BridgeError).code]).toEqual([503, 'bridge_not_configured']);
  expect((err as BridgeError).message).toContain('Bridge URL setting is empty');
  expect((err as BridgeError).unreachable).toBe(true);
});

test("an alert's buttons reach the clients without their secrets, and a click from the card reaches the integration with its context", async () => {
  const calls: Array<Record<string, unknown>> = [];
  const receiver = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString('utf8')));
    req.on('end', () => {
      calls.push(JSON.parse(body) as Record<string, unknown>);
      res.writeHead(200, {'Content-Type': 'application/json'});
      res.end(JSON.stringify({ephemeral_text: 'Here is the ServiceEntry.'}));
    });
  });
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  try {
    const port = (receiver.address() as AddressInfo).port;
    const admin = mm().client();
    const channel = (await admin.createChannel({team_id: mm().team.id, name: 'egress-alerts', display_name: 'Egress alerts', type: 'O'} as Channel)) as Channel;
    await admin.addToChannel(mm().user.id, channel.id);
    const context = {action: 'show-snippet', key: 's3.amazonaws.com:443', digest_id: 'd1', exp: '9999999999', sig: 'secret-hmac'};
    const created = await admin.createPost({
      channel_id: channel.id,
      message: '**Egress Advisor:** 1 outbound destination of Mattermost needs attention.',
      type: ALERT_POST_TYPE as Post['type'],
      props: {
        attachments: [
          {
            fallback: 'blocked: s3.amazonaws.com:443',
            color: 'danger',
            actions: [
              {
                id: 'show0',
                name: 'Show ServiceEntry',
                type: 'button',
                style: 'primary',
                integration: {url: `http://127.0.0.1:${port}/mattermost/action`, context},
              },
            ],
          },
        ],
      },
    } as unknown as Post);

    // What an ordinary member's browser gets: the buttons, without the integration and its HMAC.
    const seen = await mm().client(mm().userToken).getPost(created.id);
    expect(seen.type).toBe(ALERT_POST_TYPE);
    expect(JSON.stringify(seen.props)).not.toContain('secret-hmac');
    const attachments = readAttachments(seen.props);
    expect(attachments.map((a) => a.actions.map((x) => [x.id, x.name]))).toEqual([[['show0', 'Show ServiceEntry']]]);

    // The card's click, as the browser would make it (here with the user's token instead of the cookie).
    const token = mm().userToken;
    await doPostAction('', created.id, attachments[0].actions[0].id, attachments[0].actions[0].cookie, (input, init) =>
      fetch(`${mm().url}${input}`, {...init, headers: {...(init?.headers as Record<string, string>), Authorization: `Bearer ${token}`}}),
    );
    expect(calls).toHaveLength(1);
    expect(calls[0]).toMatchObject({post_id: created.id, user_id: mm().user.id, channel_id: channel.id, context});
  } finally {
    await new Promise<void>((resolve) => receiver.close(() => resolve()));
  }
});
