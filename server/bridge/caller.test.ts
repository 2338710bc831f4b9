import {adminActor, isMattermostId} from './caller';

const ID = 'k9f3yq8wbtrj5gd6xz1m4ncpea';
const admin = {id: ID, username: 'alice', roles: 'system_user system_admin', delete_at: 0};

test('a Mattermost id is 26 lowercase letters and digits; aliases and other shapes are not', () => {
  expect(isMattermostId(ID)).toBe(true);
  for (const id of ['me', '', ID.toUpperCase(), `${ID}x`, ID.slice(1), `${ID.slice(0, 25)}-`, 'k9f3yq8wbtrj5gd6xz1m4ncpe ', 42, null]) {
    expect(isMattermostId(id)).toBe(false);
  }
});

test('the caller is the user Mattermost returned for the id asked, when an active system admin; the username comes from the lookup', () => {
  expect(adminActor(ID, admin)).toEqual({userId: ID, username: 'alice'});
  // `me` would be answered with the bridge's own account (an admin): never looked up, never accepted.
  expect(adminActor('me', {...admin, id: 'b0tb0tb0tb0tb0tb0tb0tb0tb0'})).toBeNull();
  expect(adminActor('me', admin)).toBeNull();
  // An answer about another user than the one asked for.
  expect(adminActor(ID, {...admin, id: 'zzzzzzzzzzzzzzzzzzzzzzzzzz'})).toBeNull();
  expect(adminActor(ID, {...admin, roles: 'system_user'})).toBeNull();
  expect(adminActor(ID, {...admin, roles: 'system_user system_admin_x'})).toBeNull();
  expect(adminActor(ID, {...admin, delete_at: 1_700_000_000_000})).toBeNull();
  expect(adminActor(ID, null)).toBeNull();
});
