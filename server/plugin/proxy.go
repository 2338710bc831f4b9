package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/mattermost/mattermost/server/public/model"
)

// maxBodyBytes bounds what the plugin reads from a browser before it signs and forwards it; the bridge's
// largest accepted body (a suggestions request) is 2 MiB.
const maxBodyBytes = 2<<20 + 1024

// Request headers worth passing on; everything else (cookies, Mattermost's own headers) stays behind.
var forwardedRequestHeaders = []string{"Accept", "Content-Type", "Last-Event-ID", "If-None-Match"}

// Response headers worth passing back.
var forwardedResponseHeaders = []string{"Content-Type", "Cache-Control", "ETag", "Retry-After", "X-Accel-Buffering", "Allow"}

// apiError is the shape of every error the bridge answers (common/api.ts, ApiError), so the webapp shows
// the plugin's errors the same way.
type apiError struct {
	Error string `json:"error"`
	Code  string `json:"code"`
}

func writeError(w http.ResponseWriter, status int, code, message string) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(apiError{Error: message, Code: code})
}

// authorize answers the request itself and returns false unless a system admin made it. The permission is
// looked up on every call, so a demoted administrator loses access on their next request.
func (p *Plugin) authorize(w http.ResponseWriter, r *http.Request) (caller, bool) {
	userID := r.Header.Get("Mattermost-User-Id")
	if userID == "" {
		writeError(w, http.StatusUnauthorized, "unauthenticated", "Log in to Mattermost first: this API needs your Mattermost session.")
		return caller{}, false
	}
	if !p.API.HasPermissionTo(userID, model.PermissionManageSystem) {
		writeError(w, http.StatusForbidden, "not_system_admin", "Egress Advisor is for system administrators only.")
		return caller{}, false
	}
	return p.callerFor(userID), true
}

// callerFor names the user for the bridge's records; the id alone when the lookup fails.
func (p *Plugin) callerFor(userID string) caller {
	who := caller{ID: userID}
	if user, appErr := p.API.GetUser(userID); appErr == nil && user != nil {
		who.Username = user.Username
	}
	return who
}

func (p *Plugin) serveAPI(w http.ResponseWriter, r *http.Request) {
	who, ok := p.authorize(w, r)
	if !ok {
		return
	}
	p.forward(w, r, who, r.URL.EscapedPath(), true)
}

// serveAction receives a message button Mattermost delivered in-process (its integration URL is this
// plugin's route), with the clicking user in Mattermost-User-Id.
func (p *Plugin) serveAction(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		writeError(w, http.StatusMethodNotAllowed, "invalid_request", "Buttons are delivered with POST.")
		return
	}
	who, ok := p.authorize(w, r)
	if !ok {
		return
	}
	// Mattermost's in-process delivery sends the JSON body without a Content-Type.
	r.Header.Set("Content-Type", "application/json")
	p.forward(w, r, who, actionPath, false)
}

// forward sends the call to the bridge, signed, and copies the answer back as it arrives. underRoute says
// whether the bridge serves the path under the plugin's route (the webapp API) or at its root.
func (p *Plugin) forward(w http.ResponseWriter, r *http.Request, who caller, path string, underRoute bool) {
	cfg := p.getConfiguration()
	base, err := cfg.bridgeTarget()
	if err != nil {
		writeError(w, http.StatusServiceUnavailable, "bridge_not_configured", capitalize(err.Error())+".")
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, maxBodyBytes+1))
	if err != nil {
		writeError(w, http.StatusBadRequest, "invalid_request", "The request body could not be read.")
		return
	}
	if len(body) > maxBodyBytes {
		writeError(w, http.StatusRequestEntityTooLarge, "body_too_large", "The request body is too large.")
		return
	}

	target := base.String()
	if underRoute {
		target += pluginRoute
	}
	target += path
	if r.URL.RawQuery != "" {
		target += "?" + r.URL.RawQuery
	}

	ctx, cancel := context.WithCancel(r.Context())
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, r.Method, target, bytes.NewReader(body))
	if err != nil {
		writeError(w, http.StatusBadRequest, "invalid_request", "The request could not be forwarded to the bridge.")
		return
	}
	for _, h := range forwardedRequestHeaders {
		if v := r.Header.Get(h); v != "" {
			req.Header.Set(h, v)
		}
	}
	signRequest(req, cfg.BridgeSecret, who, p.now(), body)

	resp, err := p.client.Do(req)
	if err != nil {
		p.API.LogWarn("Egress Advisor: the bridge could not be reached", "bridge_url", base.String(), "error", err.Error())
		writeError(w, http.StatusBadGateway, "bridge_unreachable", unreachableMessage(base.String(), err))
		return
	}
	defer resp.Body.Close()
	if resp.StatusCode == http.StatusUnauthorized {
		// The bridge answers 401 only to a refused signature: plugin and bridge disagree on the secret.
		p.API.LogWarn("Egress Advisor: the bridge refused the plugin's signature; restart the bridge so that it writes its secret again")
	}

	for _, h := range forwardedResponseHeaders {
		if v := resp.Header.Get(h); v != "" {
			w.Header().Set(h, v)
		}
	}
	w.WriteHeader(resp.StatusCode)

	if strings.HasPrefix(resp.Header.Get("Content-Type"), "text/event-stream") {
		stop := p.watchPermission(ctx, cancel, who.ID)
		defer stop()
	}
	copyFlushing(w, resp.Body)
}

// watchPermission ends an open event stream once its user is no longer a system admin.
func (p *Plugin) watchPermission(ctx context.Context, cancel context.CancelFunc, userID string) func() {
	ticker := time.NewTicker(p.recheckEvery)
	done := make(chan struct{})
	go func() {
		defer ticker.Stop()
		for {
			select {
			case <-done:
				return
			case <-ctx.Done():
				return
			case <-ticker.C:
				if !p.API.HasPermissionTo(userID, model.PermissionManageSystem) {
					cancel()
					return
				}
			}
		}
	}()
	return func() { close(done) }
}

// copyFlushing copies the bridge's answer, flushing after every read so Server-Sent Events reach the
// browser as they happen instead of when a buffer fills.
func copyFlushing(w http.ResponseWriter, body io.Reader) {
	flusher, _ := w.(http.Flusher)
	buf := make([]byte, 32*1024)
	for {
		n, err := body.Read(buf)
		if n > 0 {
			if _, werr := w.Write(buf[:n]); werr != nil {
				return
			}
			if flusher != nil {
				flusher.Flush()
			}
		}
		if err != nil {
			return
		}
	}
}

func unreachableMessage(bridgeURL string, err error) string {
	reason := err.Error()
	var urlErr interface{ Unwrap() error }
	if errors.As(err, &urlErr) && urlErr.Unwrap() != nil {
		reason = urlErr.Unwrap().Error()
	}
	return fmt.Sprintf("The Egress Advisor bridge at %s cannot be reached (%s). Check that the bridge's pod is running "+
		"and that its Service answers from Mattermost's pods; Mattermost itself is not affected.", bridgeURL, reason)
}

func capitalize(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}
