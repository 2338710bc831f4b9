/*
 * The bridge's posts: alerts of the custom type the webapp plugin renders, replies in their threads,
 * in-place updates of digests, and reading back what was posted (idempotence checks after a
 * restart, tests). Clients without the plugin (mobile, email notifications) show `message`, so it
 * must read well on its own; build it with the helpers of markdown.ts.
 */
import type {Post, PostType} from '@mattermost/types/posts';

import {ALERT_POST_TYPE} from '../../common/alert';
import type {MattermostClient} from './client';

export {ALERT_POST_TYPE};
export {codeBlock, escapeMarkdown, inlineCode} from './markdown';

export interface NewPost {
  channelId: string;
  message: string;
  props?: Record<string, unknown>;
  /** Id of the thread's root post, for a reply. */
  rootId?: string;
  /** Default `custom_egress_alert`; `''` for an ordinary post. */
  type?: string;
}

/** Mattermost refuses posts longer than this many characters (model.PostMessageMaxRunesV2). */
export const MAX_MESSAGE_RUNES = 16383;

export async function createPost(client: MattermostClient, post: NewPost): Promise<Post> {
  const body: Partial<Post> & Pick<Post, 'channel_id' | 'message'> = {
    channel_id: post.channelId,
    message: fitMessage(post.message),
    // The types list only Mattermost's own post types; `custom_*` types are accepted by the server.
    type: (post.type ?? ALERT_POST_TYPE) as PostType,
    props: post.props ?? {},
  };
  if (post.rootId) body.root_id = post.rootId;
  return client.call('createPost', (api) => api.createPost(body));
}

export interface PostPatch {
  message?: string;
  /** Replaces all props (Mattermost does not merge them). */
  props?: Record<string, unknown>;
}

/**
 * PUT /posts/{id}/patch: changes only the given fields. Note ServiceSettings.PostEditTimeLimit:
 * when set, a message change on an older post is refused (HTTP 400
 * `api.post.update_post.permissions_time_limit.app_error`) while a props-only patch still works.
 */
export async function patchPost(client: MattermostClient, postId: string, patch: PostPatch): Promise<Post> {
  const body: Partial<Post> & Pick<Post, 'id'> = {id: postId};
  if (patch.message !== undefined) body.message = fitMessage(patch.message);
  if (patch.props !== undefined) body.props = patch.props;
  return client.call('patchPost', (api) => api.patchPost(body));
}

export async function getPost(client: MattermostClient, postId: string): Promise<Post> {
  return client.call('getPost', (api) => api.getPost(postId));
}

/**
 * Posts of a channel created or changed at or after `since` (ms since the epoch), thread replies
 * included, oldest first. Deleted posts are left out.
 */
export async function listPostsSince(client: MattermostClient, channelId: string, since: number): Promise<Post[]> {
  const list = await client.call('getPostsSince', (api) => api.getPostsSince(channelId, since));
  return Object.values(list.posts ?? {})
    .filter((p) => !p.delete_at)
    .sort((a, b) => a.create_at - b.create_at || a.id.localeCompare(b.id));
}

/** The posts of a thread (root first), for checking what was already replied. */
export async function getThread(client: MattermostClient, rootId: string): Promise<Post[]> {
  const list = await client.call('getPostThread', (api) => api.getPostThread(rootId, true, false, false));
  return list.order
    .map((id) => list.posts[id])
    .filter((p): p is Post => Boolean(p) && !p.delete_at)
    .sort((a, b) => a.create_at - b.create_at);
}

/**
 * Cuts a message that Mattermost would refuse as too long, on a line boundary when one is near, and
 * closes a code block left open by the cut so the rest of the post does not become code.
 */
export function fitMessage(message: string, max = MAX_MESSAGE_RUNES): string {
  const runes = [...message];
  if (runes.length <= max) return message;
  const note = '\n\n… (truncated)';
  let cut = runes.slice(0, max - note.length - 16).join('');
  const nl = cut.lastIndexOf('\n');
  if (nl > cut.length - 500) cut = cut.slice(0, nl);
  const fence = openFence(cut);
  if (fence) cut += `\n${fence}`;
  return cut + note;
}

/** The fence of a code block still open at the end of `text`, if any. */
function openFence(text: string): string | undefined {
  let open: string | undefined;
  for (const line of text.split('\n')) {
    const m = /^ {0,3}(`{3,}|~{3,})/.exec(line);
    if (!m) continue;
    if (open === undefined) {
      open = m[1];
    } else if (m[1][0] === open[0] && m[1].length >= open.length && line.trim() === m[1]) {
      open = undefined;
    }
  }
  return open;
}
