/*
 * The checks Mattermost applies to a plugin manifest when it installs or activates the plugin
 * (server/public/model/manifest.go and plugin_valid.go), so that a bad plugin.json fails the build
 * instead of the upload. Pure: used by the bundle script and by the tests.
 */

export interface ManifestSettingOption {
  display_name: string;
  value: string;
}

export interface ManifestSetting {
  key: string;
  display_name?: string;
  type: string;
  help_text?: string;
  placeholder?: string;
  default?: unknown;
  options?: ManifestSettingOption[];
  hosting?: string;
  /** Masked in the System Console and in config read over the API. */
  secret?: boolean;
}

export interface PluginManifest {
  id: string;
  name: string;
  description?: string;
  version: string;
  min_server_version?: string;
  homepage_url?: string;
  support_url?: string;
  release_notes_url?: string;
  icon_path?: string;
  webapp?: {bundle_path: string};
  server?: {executables?: Record<string, string>};
  settings_schema?: {
    header?: string;
    footer?: string;
    settings?: ManifestSetting[];
    sections?: unknown[];
  };
}

/** Setting types the server accepts; anything else fails the install with "invalid setting type". */
export const SETTING_TYPES: readonly string[] = ['bool', 'dropdown', 'generated', 'radio', 'text', 'longtext', 'number', 'username', 'custom'];

const PLACEHOLDER_TYPES = new Set(['text', 'longtext', 'number', 'username', 'generated', 'custom']);
const OPTION_TYPES = new Set(['radio', 'dropdown']);
const ID_PATTERN = /^[a-zA-Z0-9-_.]+$/;
/** Semantic version as Mattermost's semver parser takes it (pre-release and build parts allowed). */
const SEMVER = /^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(?:-[0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*)?(?:\+[0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*)?$/;
/** min_server_version: strictly x.y.z ("7.1" fails with "failed to parse MinServerVersion"). */
const STRICT_SEMVER = /^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)$/;

function isHttpUrl(s: string): boolean {
  try {
    const u = new URL(s);
    return u.protocol === 'http:' || u.protocol === 'https:';
  } catch {
    return false;
  }
}

function checkSetting(s: ManifestSetting, index: number, seen: Map<string, number>): string[] {
  const where = `settings_schema.settings[${index}]${typeof s.key === 'string' && s.key !== '' ? ` (${s.key})` : ''}`;
  const errors: string[] = [];
  if (typeof s.key !== 'string' || s.key.trim() === '') errors.push(`${where}: key is required`);
  else {
    // Mattermost stores plugin settings under the lower-cased key, so two keys that differ only in case collide.
    const lower = s.key.toLowerCase();
    const first = seen.get(lower);
    if (first !== undefined) errors.push(`${where}: key collides with settings[${first}] (keys are compared in lower case)`);
    else seen.set(lower, index);
  }
  if (!SETTING_TYPES.includes(s.type)) {
    errors.push(`${where}: invalid setting type ${JSON.stringify(s.type)} (allowed: ${SETTING_TYPES.join(', ')})`);
    return errors;
  }
  if (s.placeholder !== undefined && !PLACEHOLDER_TYPES.has(s.type)) errors.push(`${where}: a ${s.type} setting cannot have a placeholder`);
  if (OPTION_TYPES.has(s.type)) {
    if (!Array.isArray(s.options) || s.options.length === 0) errors.push(`${where}: a ${s.type} setting needs options`);
    else {
      for (const o of s.options) {
        if (typeof o.display_name !== 'string' || typeof o.value !== 'string') errors.push(`${where}: every option needs display_name and value`);
      }
      if (s.default !== undefined && !s.options.some((o) => o.value === s.default)) {
        errors.push(`${where}: default ${JSON.stringify(s.default)} is not one of the options`);
      }
    }
  } else if (s.options !== undefined) {
    errors.push(`${where}: only radio and dropdown settings have options`);
  }
  if (s.type === 'bool' && s.default !== undefined && typeof s.default !== 'boolean')
    errors.push(`${where}: the default of a bool setting must be true or false`);
  if (s.type === 'number' && s.default !== undefined && typeof s.default !== 'number')
    errors.push(`${where}: the default of a number setting must be a number`);
  if ((s.type === 'text' || s.type === 'longtext') && s.default !== undefined && typeof s.default !== 'string')
    errors.push(`${where}: the default of a ${s.type} setting must be a string`);
  if (s.hosting !== undefined && s.hosting !== 'cloud' && s.hosting !== 'on-prem') errors.push(`${where}: hosting must be "cloud" or "on-prem"`);
  return errors;
}

/** Every reason Mattermost (or a reader of the System Console) would refuse this manifest; empty when it is fine. */
export function validateManifest(m: PluginManifest): string[] {
  const errors: string[] = [];
  if (typeof m.id !== 'string' || m.id.length < 3 || m.id.length > 190 || !ID_PATTERN.test(m.id)) {
    errors.push('id must be 3 to 190 characters of letters, digits, "-", "_" and "."');
  }
  if (typeof m.name !== 'string' || m.name.trim() === '') errors.push('name is required');
  if (typeof m.version !== 'string' || !SEMVER.test(m.version)) errors.push(`version ${JSON.stringify(m.version)} is not a semantic version`);
  if (m.min_server_version !== undefined && (typeof m.min_server_version !== 'string' || !STRICT_SEMVER.test(m.min_server_version))) {
    errors.push(`min_server_version ${JSON.stringify(m.min_server_version)} must be x.y.z`);
  }
  for (const k of ['homepage_url', 'support_url', 'release_notes_url'] as const) {
    const v = m[k];
    if (v !== undefined && !isHttpUrl(v)) errors.push(`${k} must be an http(s) URL`);
  }
  if (m.icon_path !== undefined && !m.icon_path.toLowerCase().endsWith('.svg')) errors.push('icon_path must be an SVG file');
  if (m.webapp === undefined && m.server === undefined) errors.push('a plugin needs a webapp or a server part');
  if (m.webapp !== undefined) {
    const p = m.webapp.bundle_path;
    if (typeof p !== 'string' || p === '') errors.push('webapp.bundle_path is required');
    else if (p.startsWith('.') || p.startsWith('/') || p.split('/').includes('..')) errors.push('webapp.bundle_path must be a relative path inside the plugin');
  }
  for (const [platform, rel] of Object.entries(m.server?.executables ?? {})) {
    if (!/^(linux|darwin|windows)-(amd64|arm64)$/.test(platform)) errors.push(`server.executables: unknown platform ${JSON.stringify(platform)}`);
    if (typeof rel !== 'string' || rel.startsWith('/') || rel.startsWith('.') || rel.split('/').includes('..'))
      errors.push(`server.executables.${platform} must be a relative path inside the plugin`);
  }
  const settings = m.settings_schema?.settings ?? [];
  if (!Array.isArray(settings)) errors.push('settings_schema.settings must be a list');
  else {
    const seen = new Map<string, number>();
    settings.forEach((s, i) => errors.push(...checkSetting(s, i, seen)));
  }
  return errors;
}
