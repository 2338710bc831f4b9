import {act, render, screen} from '@testing-library/react';
import React from 'react';
import {Provider} from 'react-redux';

import {Plugin} from './index';
import type {CustomSettingProps, MattermostPlugin, PluginRegistry, PostTypeProps} from './types/mattermost';
import {makeStore} from './test/render';

/** A registry double that keeps what the plugin registers, like Mattermost's per-plugin registry. */
function registryDouble() {
  const settings = new Map<string, {component: React.ComponentType<CustomSettingProps>; options?: {showTitle?: boolean}}>();
  const postTypes = new Map<string, React.ComponentType<PostTypeProps>>();
  const reducers: unknown[] = [];
  const unregistered: string[] = [];
  const registry: PluginRegistry = {
    registerAdminConsoleCustomSetting: (key, component, options) => {
      settings.set(key.toLowerCase(), {component, options});
    },
    registerPostTypeComponent: (type, component) => {
      postTypes.set(type, component);
      return `id-${type}`;
    },
    registerReducer: (reducer) => {
      reducers.push(reducer);
    },
    unregisterPostTypeComponent: (id) => {
      unregistered.push(id);
    },
  };
  return {registry, settings, postTypes, reducers, unregistered};
}

let registered: Array<[string, MattermostPlugin]> = [];

beforeEach(() => {
  registered = [];
  (window as unknown as {registerPlugin: (id: string, p: MattermostPlugin) => void}).registerPlugin = (id, p) => registered.push([id, p]);
});

afterEach(() => {
  delete (window as unknown as Record<string, unknown>).registerPlugin;
  document.getElementById('egress-advisor-styles')?.remove();
});

test('loading the bundle registers the plugin under the manifest id, as the <script> tag does in Mattermost', () => {
  jest.isolateModules(() => {
    require('./index');
  });
  expect(registered).toHaveLength(1);
  expect(registered[0][0]).toBe('egress-advisor');
  expect(typeof registered[0][1].initialize).toBe('function');
  expect(typeof registered[0][1].uninitialize).toBe('function');
});

test('initialize registers the Dashboard custom setting, the alert post type and the reducer', async () => {
  const plugin = new Plugin();
  const {registry, settings, postTypes, reducers} = registryDouble();
  const store = makeStore();
  await plugin.initialize(registry, store as never);

  // The key matches the manifest's custom setting (the console compares in lower case).
  const manifest = require('../../plugin.json') as {settings_schema: {settings: Array<{key: string; type: string}>}};
  const custom = manifest.settings_schema.settings.filter((s) => s.type === 'custom').map((s) => s.key.toLowerCase());
  expect([...settings.keys()]).toEqual(custom);
  expect(settings.get('dashboard')?.options).toEqual({showTitle: false});
  expect([...postTypes.keys()]).toEqual(['custom_egress_alert']);
  expect(reducers).toHaveLength(1);
  expect(document.getElementById('egress-advisor-styles')?.textContent).toContain('--center-channel-color');

  // What was registered renders: the post type with a post, the setting for a non-admin (nothing).
  const PostType = postTypes.get('custom_egress_alert')!;
  render(
    <Provider store={store}>
      <PostType post={{id: 'p', message: 'plain message', props: {}} as never} />
    </Provider>,
  );
  expect(screen.getByText('plain message')).toBeInTheDocument();
  const Setting = settings.get('dashboard')!.component;
  const {container} = render(
    <Provider store={makeStore({admin: false})}>
      <Setting {...({id: 'x', config: {}} as unknown as CustomSettingProps)} />
    </Provider>,
  );
  expect(container).toBeEmptyDOMElement();
});

test('uninitialize removes what the plugin added itself', async () => {
  const plugin = new Plugin();
  const {registry, unregistered} = registryDouble();
  await act(async () => {
    await plugin.initialize(registry, makeStore() as never);
  });
  expect(document.getElementById('egress-advisor-styles')).not.toBeNull();
  plugin.uninitialize?.();
  expect(document.getElementById('egress-advisor-styles')).toBeNull();
  expect(unregistered).toEqual(['id-custom_egress_alert']);
  // A second call is harmless (Mattermost may call it when a newer version replaces this one).
  plugin.uninitialize?.();
  expect(unregistered).toHaveLength(1);
});

test('the bundle does nothing without the host', () => {
  delete (window as unknown as Record<string, unknown>).registerPlugin;
  expect(() =>
    jest.isolateModules(() => {
      require('./index');
    }),
  ).not.toThrow();
});
