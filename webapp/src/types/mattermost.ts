// The parts of Mattermost's web app plugin API this plugin uses, typed from what the host passes
// (webapp/channels/src/plugins/registry.ts and the System Console's custom settings). Only what we
// call is listed, so a host that lacks something fails type checking here rather than at run time.
import type React from 'react';
import type {Reducer, Store} from 'redux';

import type {AdminConfig} from '@mattermost/types/config';
import type {Post} from '@mattermost/types/posts';
import type {GlobalState} from '@mattermost/types/store';

/** Props of a component registered with registerAdminConsoleCustomSetting. */
export interface CustomSettingProps {
  /** The full config path of the setting; pass it back to onChange. */
  id: string;
  label: string;
  helpText: React.ReactNode;
  value: unknown;
  disabled: boolean;
  /** The configuration the System Console page holds (secrets masked). */
  config?: Partial<AdminConfig>;
  setByEnv: boolean;
  onChange: (id: string, value: unknown, confirm?: boolean, doSubmit?: boolean, warning?: boolean) => void;
  setSaveNeeded?: () => void;
}

/** Props of a component registered with registerPostTypeComponent. */
export interface PostTypeProps {
  post: Post;
  compactDisplay?: boolean;
  isRHS?: boolean;
  theme?: Record<string, string>;
}

export interface PluginRegistry {
  registerAdminConsoleCustomSetting(key: string, component: React.ComponentType<CustomSettingProps>, options?: {showTitle?: boolean}): void;
  registerPostTypeComponent(type: string, component: React.ComponentType<PostTypeProps>): string;
  registerReducer(reducer: Reducer): void;
  unregisterPostTypeComponent?(componentId: string): void;
}

export type HostStore = Store<GlobalState>;

export interface MattermostPlugin {
  initialize(registry: PluginRegistry, store: HostStore): void | Promise<void>;
  uninitialize?(): void;
}

/** What the host puts on window for plugins (webapp/channels/src/plugins/export.ts), as far as we use it. */
export interface HostWindow {
  registerPlugin?: (id: string, plugin: MattermostPlugin) => void;
  PostUtils?: {
    formatText?: (text: string, options?: Record<string, unknown>) => string;
    messageHtmlToComponent?: (html: string, options?: Record<string, unknown>) => React.ReactNode;
  };
}
