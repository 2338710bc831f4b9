import fs from 'fs';
import path from 'path';

import {SETTING_TYPES, validateManifest, type PluginManifest} from '../../build/manifest';

import {PLUGIN_ID, PLUGIN_VERSION} from './manifest';

const root = path.resolve(__dirname, '..', '..');
const manifest = JSON.parse(fs.readFileSync(path.join(root, 'plugin.json'), 'utf8')) as PluginManifest;
const pkg = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8')) as {version: string};

describe('plugin.json', () => {
  test('passes the checks Mattermost makes on install', () => {
    expect(validateManifest(manifest)).toEqual([]);
  });

  test('names the plugin as the contracts say', () => {
    expect(manifest.id).toBe('egress-advisor');
    expect(manifest.name).toBe('Egress Advisor');
    expect(manifest.description).toEqual(expect.stringContaining('REGISTRY_ONLY'));
    expect(PLUGIN_ID).toBe(manifest.id);
  });

  test('has the version of package.json and a strict min_server_version', () => {
    expect(manifest.version).toBe(pkg.version);
    expect(PLUGIN_VERSION).toBe(pkg.version);
    expect(manifest.min_server_version).toBe('10.0.0');
  });

  test('has the bundle the build writes and the server half for linux on amd64 and arm64', () => {
    expect(manifest.webapp).toEqual({bundle_path: 'webapp/dist/main.js'});
    expect(manifest.server?.executables).toEqual({'linux-amd64': 'server/dist/plugin-linux-amd64', 'linux-arm64': 'server/dist/plugin-linux-arm64'});
    expect(validateManifest(manifest)).toEqual([]);
  });

  test('settings: the dashboard is a custom setting, the rest are what belongs in the Mattermost config', () => {
    const settings = manifest.settings_schema?.settings ?? [];
    for (const s of settings) expect(SETTING_TYPES).toContain(s.type);
    const byKey = new Map(settings.map((s) => [s.key, s]));
    expect(byKey.get('Dashboard')?.type).toBe('custom');
    expect(byKey.has('BridgePath')).toBe(false);
    expect(byKey.get('BridgeURL')).toMatchObject({type: 'text'});
    // Masked by Mattermost in the System Console and in config read over the API.
    expect(byKey.get('BridgeSecret')).toMatchObject({type: 'text', secret: true});
    expect(byKey.get('BridgeSecret')).not.toHaveProperty('default');
    expect(byKey.get('ShowAlertYaml')).toMatchObject({type: 'bool', default: true});
    expect(byKey.get('SuggestionFormat')?.options?.map((o) => o.value)).toEqual(['bigbang', 'bigbang-legacy', 'package', 'package-legacy', 'serviceentry']);
  });

  test('the header explains the product and the two set-up steps, with no route to add', () => {
    const header = manifest.settings_schema?.header ?? '';
    expect(header).toContain('REGISTRY_ONLY');
    expect(header).toContain('Helm chart');
    expect(header).toContain('enable this plugin');
    expect(header).not.toContain('VirtualService');
    expect(header).not.toContain('nginx');
  });
});

describe('the manifest checks', () => {
  const good: PluginManifest = {id: 'egress-advisor', name: 'X', version: '1.2.3', webapp: {bundle_path: 'webapp/dist/main.js'}};

  test.each<[string, Partial<PluginManifest>, RegExp]>([
    ['a short id', {id: 'ab'}, /^id /],
    ['an id with a slash', {id: 'a/b/c'}, /^id /],
    ['no name', {name: ' '}, /name is required/],
    ['a non-semver version', {version: 'v1'}, /not a semantic version/],
    ['min_server_version without a patch', {min_server_version: '7.1'}, /must be x\.y\.z/],
    ['a bundle path outside the plugin', {webapp: {bundle_path: '../main.js'}}, /bundle_path/],
    ['a bundle path starting with a dot', {webapp: {bundle_path: './main.js'}}, /bundle_path/],
    ['no webapp and no server', {webapp: undefined}, /webapp or a server/],
    ['a bad homepage URL', {homepage_url: 'ftp://x'}, /homepage_url/],
  ])('refuses %s', (_what, patch, message) => {
    const errors = validateManifest({...good, ...patch});
    expect(errors.some((e) => message.test(e))).toBe(true);
  });

  test.each<[string, object, RegExp]>([
    ['an unknown setting type', {key: 'A', type: 'color'}, /invalid setting type "color"/],
    ['a placeholder on a bool', {key: 'A', type: 'bool', placeholder: 'x'}, /cannot have a placeholder/],
    ['a dropdown without options', {key: 'A', type: 'dropdown'}, /needs options/],
    [
      'a dropdown default outside its options',
      {key: 'A', type: 'dropdown', default: 'z', options: [{display_name: 'Y', value: 'y'}]},
      /not one of the options/,
    ],
    ['options on a text setting', {key: 'A', type: 'text', options: []}, /only radio and dropdown/],
    ['a bool with a string default', {key: 'A', type: 'bool', default: 'true'}, /must be true or false/],
    ['a setting without a key', {type: 'text'}, /key is required/],
  ])('refuses %s', (_what, setting, message) => {
    const errors = validateManifest({...good, settings_schema: {settings: [setting as never]}});
    expect(errors.some((e) => message.test(e))).toBe(true);
  });

  test('refuses keys that differ only in case (Mattermost stores them lower-cased)', () => {
    const errors = validateManifest({
      ...good,
      settings_schema: {
        settings: [
          {key: 'Dashboard', type: 'custom'},
          {key: 'dashboard', type: 'text'},
        ],
      },
    });
    expect(errors).toEqual([expect.stringMatching(/collides/)]);
  });
});
