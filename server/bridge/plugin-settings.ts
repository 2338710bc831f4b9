// The plugin's settings page as the bridge applies it: the suggestion format of alerts and /egress, and
// whether alerts carry the YAML. Two ways in, so a change applies without a restart: the plugin pushes the
// page on every change (PUT /plugin/settings), and every look at Mattermost's configuration reads it too
// (the other replicas, and a change made while the bridge was away).
import {SUGGESTION_FORMATS, type SuggestionFormat} from '../../common/types';

export class PluginSettingsState {
  private current: {format: SuggestionFormat; showAlertYaml: boolean};

  /** `format` is EGRESS_ADVISOR_FORMAT: what applies until the page says otherwise. */
  constructor(private readonly fallbackFormat: SuggestionFormat) {
    this.current = {format: fallbackFormat, showAlertYaml: true};
  }

  format(): SuggestionFormat {
    return this.current.format;
  }

  showAlertYaml(): boolean {
    return this.current.showAlertYaml;
  }

  /**
   * Applies the page's values; a missing or unknown format keeps the fallback, a missing flag means true
   * (the manifest's defaults). Returns whether anything changed.
   */
  apply(raw: {suggestionFormat?: unknown; showAlertYaml?: unknown}): boolean {
    const format = SUGGESTION_FORMATS.includes(raw.suggestionFormat as SuggestionFormat) ? (raw.suggestionFormat as SuggestionFormat) : this.fallbackFormat;
    const showAlertYaml = raw.showAlertYaml !== false && raw.showAlertYaml !== 'false';
    const changed = format !== this.current.format || showAlertYaml !== this.current.showAlertYaml;
    this.current = {format, showAlertYaml};
    return changed;
  }

  /** Our entry of PluginSettings.Plugins, as Mattermost stores it (keys in lower case). */
  applyStored(entry: Record<string, unknown>): boolean {
    return this.apply({suggestionFormat: entry.suggestionformat, showAlertYaml: entry.showalertyaml});
  }
}
