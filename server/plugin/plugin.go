package main

import (
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/mattermost/mattermost/server/public/plugin"
)

// Plugin is the server half. It holds no state of its own beyond its settings: findings, decisions and
// alerts live in the bridge.
type Plugin struct {
	plugin.MattermostPlugin

	configurationLock sync.RWMutex
	configuration     *configuration
	// active is set once OnActivate ran: settings changes before that are pushed by OnActivate itself.
	active atomic.Bool

	// client carries calls to the bridge. No overall timeout: event streams stay open; each call is bounded
	// by the dial and response-header timeouts of its transport and by the browser going away.
	client *http.Client
	// now is replaceable so tests can sign at a chosen time.
	now func() time.Time
	// recheckEvery is how often an open event stream re-checks the user's permission.
	recheckEvery time.Duration
}

const (
	// apiPrefix is where the webapp's API is served, below the plugin's route /plugins/egress-advisor.
	apiPrefix = "/api/v1/"
	// actionPath receives the alert buttons; their integration URL is /plugins/egress-advisor/mattermost/action.
	actionPath = "/mattermost/action"
	// commandPath and settingsPath are the bridge's endpoints for /egress and for the plugin's settings.
	commandPath  = "/mattermost/command"
	settingsPath = "/plugin/settings"
	// pluginRoute is what Mattermost strips before ServeHTTP; the bridge serves the same paths under it.
	pluginRoute = "/plugins/egress-advisor"
)

func newPlugin() *Plugin {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.ResponseHeaderTimeout = 30 * time.Second
	// The bridge is in the cluster, never behind a proxy from the environment.
	t.Proxy = nil
	return &Plugin{client: &http.Client{Transport: t}, now: time.Now, recheckEvery: 15 * time.Second}
}

// OnActivate registers /egress. The settings were loaded by OnConfigurationChange just before.
func (p *Plugin) OnActivate() error {
	if err := p.API.RegisterCommand(egressCommand()); err != nil {
		return err
	}
	p.active.Store(true)
	// The bridge learns the settings now, not only at its next look at Mattermost's configuration.
	go p.pushSettings()
	return nil
}

// ServeHTTP receives what Mattermost routes to /plugins/egress-advisor/…, with that prefix removed and
// Mattermost-User-Id set only when Mattermost authenticated the session (and, for cookies, the CSRF token).
func (p *Plugin) ServeHTTP(_ *plugin.Context, w http.ResponseWriter, r *http.Request) {
	switch {
	case len(r.URL.Path) >= len(apiPrefix) && r.URL.Path[:len(apiPrefix)] == apiPrefix:
		p.serveAPI(w, r)
	case r.URL.Path == actionPath:
		p.serveAction(w, r)
	default:
		writeError(w, http.StatusNotFound, "not_found", "Egress Advisor has nothing at this path.")
	}
}
