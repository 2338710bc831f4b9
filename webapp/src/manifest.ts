// The plugin's identity, read from the one manifest at the repository root (webpack keeps only the
// fields used here, not the settings schema).
import manifest from '../../plugin.json';

export const PLUGIN_ID: string = manifest.id;
export const PLUGIN_VERSION: string = manifest.version;
