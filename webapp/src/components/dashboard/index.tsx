import React, {useMemo} from 'react';
import {useSelector} from 'react-redux';

import {SUGGESTION_FORMATS, type SuggestionFormat} from '../../../../common/types';
import {BridgeClient} from '../../client';
import {PLUGIN_ID} from '../../manifest';
import {getSiteUrl, isSystemAdmin} from '../../selectors';
import type {CustomSettingProps} from '../../types/mattermost';

import {Dashboard} from './dashboard';

/** The plugin's own settings as the System Console page holds them (keys in lower case). */
export function pluginSettings(config: CustomSettingProps['config']): Record<string, unknown> {
  const all = config?.PluginSettings?.Plugins as Record<string, unknown> | undefined;
  const mine = all?.[PLUGIN_ID];
  return typeof mine === 'object' && mine !== null ? (mine as Record<string, unknown>) : {};
}

export function formatSetting(value: unknown): SuggestionFormat {
  return SUGGESTION_FORMATS.includes(value as SuggestionFormat) ? (value as SuggestionFormat) : 'bigbang';
}

function AdminDashboard({config}: CustomSettingProps) {
  const siteUrl = useSelector(getSiteUrl);
  const settings = pluginSettings(config);
  const client = useMemo(() => new BridgeClient({siteUrl}), [siteUrl]);
  return <Dashboard client={client} defaultFormat={formatSetting(settings.suggestionformat)} />;
}

/**
 * The "Dashboard" custom setting of the plugin's System Console page. The bundle loads for every
 * user, and the System Console can be opened by roles other than system admin: only a system
 * admin gets anything rendered (the plugin's server half enforces the same rule on every call).
 */
export function DashboardSetting(props: CustomSettingProps) {
  const admin = useSelector(isSystemAdmin);
  if (!admin) return null;
  return <AdminDashboard {...props} />;
}
