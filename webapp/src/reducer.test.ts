import type {GlobalState} from '@mattermost/types/store';

import {initialState, reducer, setFormat, setTableView, STATE_KEY} from './reducer';
import {getPluginState, getSiteUrl, isSystemAdmin} from './selectors';
import {makeStore} from './test/render';

describe('reducer', () => {
  test('starts with no chosen format and the open findings in the bridge order', () => {
    const s = reducer(undefined, {type: '@@INIT'});
    expect(s).toEqual(initialState);
    expect(s.format).toBeNull();
    expect(s.table).toEqual({sort: {column: null, direction: 'descending'}, status: 'open', verdict: ''});
  });

  test('remembers the chosen format, and keeps the same object when nothing changes', () => {
    const s1 = reducer(initialState, setFormat('serviceentry'));
    expect(s1.format).toBe('serviceentry');
    expect(reducer(s1, setFormat('serviceentry'))).toBe(s1);
  });

  test('merges table view changes', () => {
    const s1 = reducer(initialState, setTableView({status: 'ignored'}));
    const s2 = reducer(s1, setTableView({sort: {column: 'count', direction: 'ascending'}}));
    expect(s2.table).toEqual({sort: {column: 'count', direction: 'ascending'}, status: 'ignored', verdict: ''});
    expect(initialState.table.status).toBe('open');
  });

  test("ignores other plugins' and the host's actions", () => {
    expect(reducer(initialState, {type: 'RECEIVED_POSTS'})).toBe(initialState);
  });

  test('lives under plugins-egress-advisor in a store', () => {
    const store = makeStore();
    store.dispatch(setFormat('package'));
    expect(STATE_KEY).toBe('plugins-egress-advisor');
    expect(getPluginState(store.getState() as GlobalState).format).toBe('package');
  });
});

describe('selectors', () => {
  test('system admin is read from the current user roles', () => {
    expect(isSystemAdmin(makeStore({admin: true}).getState() as GlobalState)).toBe(true);
    expect(isSystemAdmin(makeStore({admin: false}).getState() as GlobalState)).toBe(false);
    // A role whose name only contains the word is not the role.
    const state = {entities: {users: {currentUserId: 'x', profiles: {x: {roles: 'system_user custom_system_admin_like'}}}}} as unknown as GlobalState;
    expect(isSystemAdmin(state)).toBe(false);
    expect(isSystemAdmin({entities: {users: {currentUserId: 'x', profiles: {}}}} as unknown as GlobalState)).toBe(false);
  });

  test('site URL and plugin state fall back when absent', () => {
    expect(getSiteUrl(makeStore({siteUrl: 'https://x.example.com/mm'}).getState() as GlobalState)).toBe('https://x.example.com/mm');
    expect(getSiteUrl({entities: {general: {config: {}}}} as unknown as GlobalState)).toBe('');
    expect(getPluginState({} as GlobalState)).toBe(initialState);
  });
});
