import type {GlobalState} from '@mattermost/types/store';

import {ALERT_BOT_USERNAME} from '../../common/alert';

import {initialState, STATE_KEY, type PluginState} from './reducer';

export function getSiteUrl(state: GlobalState): string {
  return state.entities?.general?.config?.SiteURL ?? '';
}

/** True when the signed-in user has the system_admin role (roles is a space-separated list). */
export function isSystemAdmin(state: GlobalState): boolean {
  const users = state.entities?.users;
  const me = users?.profiles?.[users.currentUserId];
  return typeof me?.roles === 'string' && me.roles.split(' ').includes('system_admin');
}

/** True when the post was made by the bridge's bot: only its posts are drawn as alert cards. */
export function isBridgeBotPost(state: GlobalState, userId: string): boolean {
  const author = state.entities?.users?.profiles?.[userId];
  return author?.is_bot === true && author.username === ALERT_BOT_USERNAME;
}

export function getPluginState(state: GlobalState): PluginState {
  return (state as unknown as Record<string, PluginState | undefined>)[STATE_KEY] ?? initialState;
}
