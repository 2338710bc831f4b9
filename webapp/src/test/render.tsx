// Rendering inside a Redux store shaped like Mattermost's, with this plugin's reducer in place.
import {render, type RenderResult} from '@testing-library/react';
import React from 'react';
import {Provider} from 'react-redux';
import {combineReducers, legacy_createStore as createStore, type Store} from 'redux';

import {reducer, STATE_KEY} from '../reducer';
import type {CustomSettingProps} from '../types/mattermost';

export interface StoreOptions {
  admin?: boolean;
  siteUrl?: string;
}

export function makeStore({admin = true, siteUrl = 'https://chat.example.com'}: StoreOptions = {}): Store {
  const entities = {
    general: {config: {SiteURL: siteUrl}},
    users: {
      currentUserId: 'me',
      profiles: {
        me: {id: 'me', username: 'admin', roles: admin ? 'system_user system_admin' : 'system_user'},
        // The bridge's bot, author of the alert posts in the tests (user_id 'bot').
        bot: {id: 'bot', username: 'egress-advisor', is_bot: true, roles: 'system_user'},
        mallory: {id: 'mallory', username: 'egress-advisor-support', is_bot: false, roles: 'system_user'},
      },
    },
  };
  return createStore(combineReducers({entities: (s: unknown = entities) => s, [STATE_KEY]: reducer}));
}

export function renderWithStore(ui: React.ReactElement, opts: StoreOptions = {}): RenderResult & {store: Store} {
  const store = makeStore(opts);
  return {store, ...render(<Provider store={store}>{ui}</Provider>)};
}

/** The props the System Console passes to the Dashboard setting, with the plugin's settings in its config. */
export function settingProps(settings: Record<string, unknown> = {}): CustomSettingProps {
  return {
    id: 'PluginSettings.Plugins.egress-advisor.dashboard',
    label: 'Egress findings',
    helpText: null,
    value: undefined,
    disabled: false,
    config: {PluginSettings: {Plugins: {'egress-advisor': settings}}} as unknown as CustomSettingProps['config'],
    setByEnv: false,
    onChange: jest.fn(),
  };
}
