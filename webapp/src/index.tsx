/*
 * Egress Advisor's webapp plugin. Mattermost loads this bundle for every signed-in user and calls
 * initialize() with a registry for this plugin and the host's Redux store; uninitialize() runs when
 * the plugin is disabled or replaced by a new version.
 *
 * What it registers:
 * - the "Dashboard" custom setting of the plugin's System Console page (findings, status, YAML);
 * - the renderer of the bridge's alert posts (type custom_egress_alert);
 * - a small reducer for the dashboard's choices (state['plugins-egress-advisor']).
 */
import {ALERT_POST_TYPE} from '../../common/alert';

import {AlertPost} from './components/alert_post';
import {DashboardSetting} from './components/dashboard';
import {PLUGIN_ID} from './manifest';
import {reducer} from './reducer';
import {installStyles} from './styles';
import type {HostStore, HostWindow, MattermostPlugin, PluginRegistry} from './types/mattermost';

/** The manifest key of the custom setting (matched case-insensitively by the System Console). */
export const DASHBOARD_SETTING_KEY = 'Dashboard';

export class Plugin implements MattermostPlugin {
  private removeStyles: (() => void) | null = null;
  private postTypeId: string | null = null;
  private registry: PluginRegistry | null = null;

  initialize(registry: PluginRegistry, _store: HostStore): void {
    this.registry = registry;
    this.removeStyles = installStyles();
    registry.registerReducer(reducer);
    registry.registerAdminConsoleCustomSetting(DASHBOARD_SETTING_KEY, DashboardSetting, {showTitle: false});
    this.postTypeId = registry.registerPostTypeComponent(ALERT_POST_TYPE, AlertPost);
  }

  uninitialize(): void {
    // Mattermost drops the registry's components itself; what this plugin added on its own goes here.
    if (this.postTypeId !== null) this.registry?.unregisterPostTypeComponent?.(this.postTypeId);
    this.postTypeId = null;
    this.registry = null;
    this.removeStyles?.();
    this.removeStyles = null;
  }
}

const host = window as unknown as HostWindow;
if (typeof host.registerPlugin === 'function') host.registerPlugin(PLUGIN_ID, new Plugin());
