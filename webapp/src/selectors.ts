import type {GlobalState} from '@mattermost/types/store';

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

export function getPluginState(state: GlobalState): PluginState {
  return ((state as unknown as Record<string, PluginState | undefined>)[STATE_KEY]) ?? initialState;
}
