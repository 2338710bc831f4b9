// Rendering inside a Redux store shaped like Mattermost's, with this plugin's reducer in place.
import {render, type RenderResult} from '@testing-library/react';
import React from 'react';
import {Provider} from 'react-redux';
import {combineReducers, legacy_createStore as createStore, type Store} from 'redux';

import {reducer, STATE_KEY} from '../reducer';

export interface StoreOptions {
  admin?: boolean;
  siteUrl?: string;
}

export function makeStore({admin = true, siteUrl = 'https://chat.example.com'}: StoreOptions = {}): Store {
  const entities = {
    general: {config: {SiteURL: siteUrl}},
    users: {
      currentUserId: 'me',
      profiles: {me: {id: 'me', username: 'admin', roles: admin ? 'system_user system_admin' : 'system_user'}},
    },
  };
  return createStore(combineReducers({entities: (s: unknown = entities) => s, [STATE_KEY]: reducer}));
}

export function renderWithStore(ui: React.ReactElement, opts: StoreOptions = {}): RenderResult & {store: Store} {
  const store = makeStore(opts);
  return {store, ...render(<Provider store={store}>{ui}</Provider>)};
}
