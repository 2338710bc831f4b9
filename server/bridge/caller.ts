// Who typed a command or clicked a button. The plugin signs the user id Mattermost authenticated; the bridge
// still checks its form (a Mattermost id is 26 lowercase letters and digits, so an alias such as `me`, which
// Mattermost's API would resolve to the bridge's own account, never reaches a lookup), looks the user up, and
// takes the username from that lookup, never from the request.
import type {UserProfile} from '@mattermost/types/users';
import type {Actor} from '../store/types';

const MATTERMOST_ID = /^[a-z0-9]{26}$/;

export function isMattermostId(id: unknown): id is string {
  return typeof id === 'string' && MATTERMOST_ID.test(id);
}

/**
 * The caller as the store records them, when `user` (Mattermost's answer for `askedId`) is that very user, is
 * active and is a system admin; null otherwise.
 */
export function adminActor(askedId: string, user: Pick<UserProfile, 'id' | 'username' | 'roles' | 'delete_at'> | null): Actor | null {
  if (!isMattermostId(askedId) || user === null || user.id !== askedId || user.delete_at > 0) return null;
  if (!user.roles.split(' ').includes('system_admin')) return null;
  return {userId: user.id, username: user.username};
}
