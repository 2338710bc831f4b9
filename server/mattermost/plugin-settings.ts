/*
 * The bridge connects the plugin to itself: at start (and whenever it reconnects) it writes its own URL and
 * the secret the plugin signs calls with (server/http/signature.ts) into the plugin's settings,
 * PluginSettings.Plugins["egress-advisor"]. Nobody copies the secret by hand, and the plugin's manifest
 * marks the setting secret, so Mattermost masks it in the System Console and in config read over the API.
 *
 * Mattermost's config patch replaces the Plugins map as a whole, so the map is read, our entry changed, and
 * the whole map written back; other plugins' masked secrets come back as the mask, which Mattermost
 * restores to their stored values on save.
 */
import type {AdminConfig} from '@mattermost/types/config';

import {PLUGIN_ID} from '../../common/api';
import type {MattermostClient} from './client';

/** The setting keys as Mattermost stores them (lower case). */
export const BRIDGE_URL_KEY = 'bridgeurl';
export const BRIDGE_SECRET_KEY = 'bridgesecret';

export type PluginSettingsMap = Record<string, Record<string, unknown>>;

/** Our entry of the Plugins map, as read; {} when there is none. */
export function ourSettings(config: Partial<AdminConfig> | null | undefined): Record<string, unknown> {
  const plugins = config?.PluginSettings?.Plugins as PluginSettingsMap | undefined;
  return plugins?.[PLUGIN_ID] ?? {};
}

/** The Plugins map with our bridge URL and secret set, every other plugin's entry as it was. */
export function withBridgeSettings(plugins: PluginSettingsMap | undefined, bridgeUrl: string, secret: string): PluginSettingsMap {
  return {...(plugins ?? {}), [PLUGIN_ID]: {...(plugins?.[PLUGIN_ID] ?? {}), [BRIDGE_URL_KEY]: bridgeUrl, [BRIDGE_SECRET_KEY]: secret}};
}

/** Writes the bridge URL and secret into the plugin's settings; the caller holds a system admin's token. */
export async function writeBridgeSettings(admin: MattermostClient, bridgeUrl: string, secret: string): Promise<void> {
  const config = await admin.call('getConfig', (api) => api.getConfig());
  const plugins = config.PluginSettings?.Plugins as PluginSettingsMap | undefined;
  const patch = {PluginSettings: {Plugins: withBridgeSettings(plugins, bridgeUrl, secret)}};
  await admin.call('patchConfig', (api) => api.patchConfig(patch as never));
}
