/*
 * Posting as the bot, threads, patches and reading back against a real Mattermost server, then the
 * client's behaviour once that server is gone. Needs test/mattermost/build.sh's binary and
 * PostgreSQL; fails, never skips, without them.
 */
import {useMattermost} from '../../test/mattermost/harness';
import {MattermostClient} from './client';
import {MattermostError} from './errors';
import {codeBlock, escapeMarkdown, inlineCode} from './markdown';
import {ALERT_POST_TYPE, createPost, getPost, getThread, listPostsSince, patchPost} from './posts';
import {preflight} from './preflight';
import {setup, type SetupResult} from './setup';

jest.setTimeout(300_000);

const mm = useMattermost();

let admin: MattermostClient;
let adminPat = '';
let ready: SetupResult;

beforeAll(async () => {
  const server = mm();
  adminPat = (await server.client().createUserAccessToken(server.admin.id, 'egress-advisor tests')).token as string;
  admin = new MattermostClient({url: server.url, token: adminPat, timeoutMs: 30_000});
  ready = await setup(admin, {channel: {team: server.team.name, name: 'egress-alerts'}});
});

describe('posts', () => {
  let root = '';
  const since = Date.now() - 1000;

  test('a custom_egress_alert post with props is created as the bot and reads back', async () => {
    const host = 'evil`host@channel.example';
    const message = `Blocked: ${inlineCode(host)} — ${escapeMarkdown('feature *Jira* [x](http://e) @all')}\n\n${codeBlock('hosts:\n  - "```"\n', 'yaml')}`;
    const props = {finding: {host, port: 443, count: 12}, version: 1};
    const post = await createPost(ready.botClient, {channelId: ready.channel.channel.id, message, props});
    root = post.id;
    expect(post.type).toBe(ALERT_POST_TYPE);
    expect(post.user_id).toBe(ready.bot.bot.user_id);

    const back = await getPost(admin, post.id);
    expect(back.type).toBe(ALERT_POST_TYPE);
    expect(back.message).toBe(message);
    expect(back.props).toMatchObject(props);
  });

  test('a reply lands in the thread', async () => {
    const reply = await createPost(ready.botClient, {channelId: ready.channel.channel.id, rootId: root, message: 'seen again', props: {count: 13}});
    expect(reply.root_id).toBe(root);
    const thread = await getThread(admin, root);
    expect(thread.map((p) => p.id)).toEqual([root, reply.id]);
  });

  test('a patch changes message and props in place', async () => {
    const patched = await patchPost(ready.botClient, root, {message: 'Blocked: 13 connections', props: {version: 2}});
    expect(patched.id).toBe(root);
    expect(patched.message).toBe('Blocked: 13 connections');
    const back = await getPost(admin, root);
    expect(back.message).toBe('Blocked: 13 connections');
    expect(back.props).toMatchObject({version: 2});
    expect(back.edit_at).toBeGreaterThan(0);
  });

  test('posts since a time come back oldest first, replies included', async () => {
    const posts = await listPostsSince(admin, ready.channel.channel.id, since);
    const ours = posts.filter((p) => p.user_id === ready.bot.bot.user_id);
    expect(ours.map((p) => p.root_id || 'root')).toEqual(['root', root]);
    expect(ours[0].id).toBe(root);
    const later = await listPostsSince(admin, ready.channel.channel.id, Date.now() + 60_000);
    expect(later).toEqual([]);
  });

  test('escaped text notifies nobody, while the same text unescaped does', async () => {
    const server = mm();
    const channelId = ready.channel.channel.id;
    await server.client().addToChannel(server.user.id, channelId);
    const asUser = server.client(server.userToken);
    const mentions = async (): Promise<number> => (await asUser.getChannelMember(channelId, server.user.id)).mention_count;
    const settle = async (expected: (n: number) => boolean): Promise<number> => {
      let n = await mentions();
      for (let i = 0; i < 20 && !expected(n); i++) {
        await new Promise((r) => setTimeout(r, 250));
        n = await mentions();
      }
      return n;
    };
    const hostile = `reason: @${server.user.username} @channel @all @here`;
    // Being added to the channel is itself a mention, counted asynchronously: wait until it has been.
    const stable = async (): Promise<number> => {
      let last = await mentions();
      for (let same = 0, i = 0; same < 6 && i < 60; i++) {
        await new Promise((r) => setTimeout(r, 250));
        const n = await mentions();
        same = n === last ? same + 1 : 0;
        last = n;
      }
      return last;
    };

    const start = await stable();
    await createPost(ready.botClient, {channelId, message: escapeMarkdown(hostile), props: {}});
    expect(await stable()).toBe(start);

    await createPost(ready.botClient, {channelId, message: hostile, type: ''});
    expect(await settle((n) => n > start)).toBeGreaterThan(start);
  });

  test('a post with a system_ type is refused as invalid', async () => {
    const err = await createPost(ready.botClient, {channelId: ready.channel.channel.id, message: 'x', type: 'system_join_channel'}).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(MattermostError);
    expect((err as MattermostError).kind).toBe('invalid');
    expect((err as MattermostError).status).toBe(400);
  });
});

describe('when the server is down', () => {
  test('calls fail as unreachable with no token in the message', async () => {
    const server = mm();
    await server.stopProcess();
    const err = await admin.call('getMe', (api) => api.getMe()).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(MattermostError);
    const e = err as MattermostError;
    expect(e.kind).toBe('unreachable');
    expect(e.retryable).toBe(true);
    expect(e.code).toBe('ECONNREFUSED');
    for (const secret of [adminPat, ready.botToken.token]) {
      expect(e.message).not.toContain(secret);
      expect(JSON.stringify(e)).not.toContain(secret);
    }
    const postErr = await createPost(ready.botClient, {channelId: ready.channel.channel.id, message: 'x'}).catch((x: unknown) => x);
    expect((postErr as MattermostError).kind).toBe('unreachable');
    expect((postErr as MattermostError).message).not.toContain(ready.botToken.token);
    await expect(preflight(admin)).rejects.toMatchObject({kind: 'unreachable'});
  });
});
