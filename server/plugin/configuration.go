package main

import (
	"fmt"
	"net/url"
	"strings"
)

// configuration is the plugin's settings (plugin.json settings_schema). BridgeURL and BridgeSecret are
// written by the bridge itself when it starts (it holds an admin token), so nobody copies the secret by hand;
// the secret setting is marked secret, which masks it in the System Console and in config read over the API.
type configuration struct {
	BridgeURL        string
	BridgeSecret     string
	SuggestionFormat string
	ShowAlertYaml    bool
}

// minSecretChars rejects a secret too short to be the bridge's (it writes 43 base64url characters).
const minSecretChars = 32

// bridgeTarget is the bridge's base URL, or why there is none yet. The reason is shown to the
// administrator as is, so it names the setting and what to do.
func (c *configuration) bridgeTarget() (*url.URL, error) {
	raw := strings.TrimSpace(c.BridgeURL)
	if raw == "" {
		return nil, fmt.Errorf("the bridge has not connected to this plugin yet: the Bridge URL setting is empty. " +
			"Start the Egress Advisor bridge with MATTERMOST_URL and MATTERMOST_TOKEN; it fills in this setting")
	}
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("the Bridge URL setting %q is not an http(s) URL with a host", raw)
	}
	if len(c.BridgeSecret) < minSecretChars {
		return nil, fmt.Errorf("the bridge has not shared its secret with this plugin yet: " +
			"restart the bridge so that it writes the Bridge secret setting")
	}
	u.Path = strings.TrimRight(u.Path, "/")
	return u, nil
}

// getConfiguration returns the active configuration; callers must not modify it.
func (p *Plugin) getConfiguration() *configuration {
	p.configurationLock.RLock()
	defer p.configurationLock.RUnlock()
	if p.configuration == nil {
		return &configuration{}
	}
	return p.configuration
}

// OnConfigurationChange loads the settings whenever Mattermost's configuration changes, so a setting
// takes effect on the next call without a restart.
func (p *Plugin) OnConfigurationChange() error {
	c := new(configuration)
	if err := p.API.LoadPluginConfiguration(c); err != nil {
		return fmt.Errorf("failed to load the plugin configuration: %w", err)
	}
	p.configurationLock.Lock()
	p.configuration = c
	p.configurationLock.Unlock()
	if p.active.Load() {
		go p.pushSettings()
	}
	return nil
}
