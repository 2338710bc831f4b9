package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mattermost/mattermost/server/public/model"
	"github.com/mattermost/mattermost/server/public/plugin/plugintest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/mock"
	"github.com/stretchr/testify/require"
)

const testSecret = "0123456789abcdef0123456789abcdef0123456789a"

// logged collects everything the plugin logs, to check that the secret is never in it.
type logged struct {
	mu    sync.Mutex
	lines []string
}

func (l *logged) add(args mock.Arguments) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.lines = append(l.lines, fmt.Sprint(args...))
}

func (l *logged) all() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return strings.Join(l.lines, "\n")
}

// newTestPlugin returns a plugin whose settings point at bridgeURL, with admins holding manage_system.
func newTestPlugin(t *testing.T, bridgeURL string, admins map[string]bool) (*Plugin, *plugintest.API, *logged) {
	t.Helper()
	api := &plugintest.API{}
	logs := &logged{}
	for arity := 1; arity <= 7; arity += 2 {
		args := make([]any, arity)
		for i := range args {
			args[i] = mock.Anything
		}
		api.On("LogWarn", args...).Run(logs.add).Maybe()
	}
	api.On("HasPermissionTo", mock.Anything, model.PermissionManageSystem).Return(func(userID string, _ *model.Permission) bool {
		return admins[userID]
	}).Maybe()
	api.On("GetUser", mock.Anything).Return(func(userID string) *model.User {
		return &model.User{Id: userID, Username: "name-of-" + userID}
	}, nil).Maybe()
	p := newPlugin()
	p.SetAPI(api)
	p.configuration = &configuration{BridgeURL: bridgeURL, BridgeSecret: testSecret, SuggestionFormat: "bigbang", ShowAlertYaml: true}
	return p, api, logs
}

// verifyCall checks a forwarded call the way the bridge does (server/http/signature.ts).
func verifyCall(t *testing.T, r *http.Request, body []byte) string {
	t.Helper()
	ts := r.Header.Get(headerTimestamp)
	var unix int64
	_, err := fmt.Sscan(ts, &unix)
	require.NoError(t, err)
	assert.InDelta(t, time.Now().Unix(), unix, 5)
	who := caller{ID: r.Header.Get(headerUser), Username: r.Header.Get(headerUsername)}
	if who.ID != "" {
		assert.Equal(t, "name-of-"+who.ID, who.Username)
	}
	want := sign(testSecret, r.Method, r.URL.RequestURI(), who, unix, body)
	assert.Equal(t, want, r.Header.Get(headerSignature), "signature over method, path, user, time and body")
	return who.ID
}

func TestSignatureMatchesTheBridgesVector(t *testing.T) {
	// The same vector is checked by server/http/signature.test.ts: both sides must agree byte for byte.
	got := sign("test-secret-test-secret-test-secret-00", "POST", "/plugins/egress-advisor/api/v1/findings/a.example.com%3A443/ignore?x=1",
		caller{ID: "user1", Username: "alice"}, 1700000000, []byte(`{"reason":"r"}`))
	assert.Equal(t, "3f05d2f485f3fbe6a4aa4d5cea25a16baf03521e6aaba931c3e5d072e59b50c5", got)
	assert.Equal(t, "egress-advisor/plugin-call/v1\nPOST\n/p?q=1\nu\nname\n5\n"+
		"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", canonicalCall("POST", "/p?q=1", caller{ID: "u", Username: "name"}, 5, nil))
}

func TestAPIRefusesWithoutAUser(t *testing.T) {
	called := false
	bridge := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { called = true }))
	defer bridge.Close()
	p, _, _ := newTestPlugin(t, bridge.URL, map[string]bool{"admin": true})

	w := httptest.NewRecorder()
	p.ServeHTTP(nil, w, httptest.NewRequest(http.MethodGet, "/api/v1/findings", nil))
	assert.Equal(t, http.StatusUnauthorized, w.Code)
	assert.Contains(t, w.Body.String(), `"code":"unauthenticated"`)
	assert.False(t, called, "nothing reaches the bridge")
}

func TestAPIRefusesANonAdmin(t *testing.T) {
	called := false
	bridge := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { called = true }))
	defer bridge.Close()
	p, _, _ := newTestPlugin(t, bridge.URL, map[string]bool{"admin": true})

	r := httptest.NewRequest(http.MethodGet, "/api/v1/findings", nil)
	r.Header.Set("Mattermost-User-Id", "someone")
	w := httptest.NewRecorder()
	p.ServeHTTP(nil, w, r)
	assert.Equal(t, http.StatusForbidden, w.Code)
	assert.Contains(t, w.Body.String(), `"code":"not_system_admin"`)
	assert.False(t, called)
}

func TestAPIForwardsSignedWithTheUserAndQuery(t *testing.T) {
	var gotPath, gotUser, gotCookie string
	var gotBody []byte
	bridge := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		gotBody, _ = io.ReadAll(r.Body)
		gotUser = verifyCall(t, r, gotBody)
		gotPath = r.URL.RequestURI()
		gotCookie = r.Header.Get("Cookie")
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Set-Cookie", "x=y")
		w.WriteHeader(http.StatusCreated)
		_, _ = w.Write([]byte(`{"ok":true}`))
	}))
	defer bridge.Close()
	p, _, _ := newTestPlugin(t, bridge.URL+"/", map[string]bool{"admin": true})

	r := httptest.NewRequest(http.MethodPost, "/api/v1/findings/a.example.com%3A443/ignore?x=1", strings.NewReader(`{"reason":"known"}`))
	r.Header.Set("Mattermost-User-Id", "admin")
	r.Header.Set("Content-Type", "application/json")
	r.Header.Set("Cookie", "MMCSRF=abc")
	w := httptest.NewRecorder()
	p.ServeHTTP(nil, w, r)

	assert.Equal(t, http.StatusCreated, w.Code)
	assert.JSONEq(t, `{"ok":true}`, w.Body.String())
	assert.Equal(t, "admin", gotUser)
	assert.Equal(t, "/plugins/egress-advisor/api/v1/findings/a.example.com%3A443/ignore?x=1", gotPath)
	assert.Equal(t, `{"reason":"known"}`, string(gotBody))
	assert.Empty(t, gotCookie, "the browser's cookies stay behind")
	assert.Empty(t, w.Header().Get("Set-Cookie"), "only known response headers come back")
}

func TestDemotionTakesEffectOnTheNextRequest(t *testing.T) {
	bridge := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte(`{}`)) }))
	defer bridge.Close()
	admins := map[string]bool{"admin": true}
	p, _, _ := newTestPlugin(t, bridge.URL, admins)
	get := func() int {
		r := httptest.NewRequest(http.MethodGet, "/api/v1/status", nil)
		r.Header.Set("Mattermost-User-Id", "admin")
		w := httptest.NewRecorder()
		p.ServeHTTP(nil, w, r)
		return w.Code
	}
	assert.Equal(t, http.StatusOK, get())
	admins["admin"] = false
	assert.Equal(t, http.StatusForbidden, get())
}

func TestBridgeDownIsSaidClearly(t *testing.T) {
	bridge := httptest.NewServer(http.NotFoundHandler())
	url := bridge.URL
	bridge.Close()
	p, _, logs := newTestPlugin(t, url, map[string]bool{"admin": true})

	r := httptest.NewRequest(http.MethodGet, "/api/v1/status", nil)
	r.Header.Set("Mattermost-User-Id", "admin")
	w := httptest.NewRecorder()
	p.ServeHTTP(nil, w, r)
	assert.Equal(t, http.StatusBadGateway, w.Code)
	var e apiError
	require.NoError(t, json.Unmarshal(w.Body.Bytes(), &e))
	assert.Equal(t, "bridge_unreachable", e.Code)
	assert.Contains(t, e.Error, url)
	assert.Contains(t, e.Error, "connection refused")
	assert.NotContains(t, logs.all(), testSecret)
}

func TestUnconfiguredBridgeNamesTheSetting(t *testing.T) {
	p, _, _ := newTestPlugin(t, "", map[string]bool{"admin": true})
	r := httptest.NewRequest(http.MethodGet, "/api/v1/status", nil)
	r.Header.Set("Mattermost-User-Id", "admin")
	w := httptest.NewRecorder()
	p.ServeHTTP(nil, w, r)
	assert.Equal(t, http.StatusServiceUnavailable, w.Code)
	assert.Contains(t, w.Body.String(), "Bridge URL setting is empty")

	p.configuration = &configuration{BridgeURL: "http://bridge:8080", BridgeSecret: "short"}
	w = httptest.NewRecorder()
	p.ServeHTTP(nil, w, r)
	assert.Equal(t, http.StatusServiceUnavailable, w.Code)
	assert.Contains(t, w.Body.String(), "has not shared its secret")
	assert.NotContains(t, w.Body.String(), "short")
}

func TestEventStreamsFlowAndEndOnDemotion(t *testing.T) {
	release := make(chan struct{})
	bridge := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		verifyCall(t, r, nil)
		w.Header().Set("Content-Type", "text/event-stream")
		w.WriteHeader(http.StatusOK)
		_, _ = w.Write([]byte("event: revision\ndata: {\"revision\":1}\n\n"))
		w.(http.Flusher).Flush()
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	defer bridge.Close()
	defer close(release)
	var mu sync.Mutex
	admin := true
	api := &plugintest.API{}
	api.On("HasPermissionTo", "admin", model.PermissionManageSystem).Return(func(string, *model.Permission) bool {
		mu.Lock()
		defer mu.Unlock()
		return admin
	})
	api.On("GetUser", "admin").Return(&model.User{Id: "admin", Username: "name-of-admin"}, nil)
	p := newPlugin()
	p.SetAPI(api)
	p.recheckEvery = 20 * time.Millisecond
	p.configuration = &configuration{BridgeURL: bridge.URL, BridgeSecret: testSecret}
	front := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r.Header.Set("Mattermost-User-Id", "admin")
		p.ServeHTTP(nil, w, r)
	}))
	defer front.Close()

	resp, err := http.Get(front.URL + "/api/v1/events")
	require.NoError(t, err)
	defer resp.Body.Close()
	assert.Equal(t, "text/event-stream", resp.Header.Get("Content-Type"))
	line, err := bufio.NewReader(resp.Body).ReadString('\n')
	require.NoError(t, err, "the first event arrives while the stream is still open")
	assert.Equal(t, "event: revision\n", line)

	mu.Lock()
	admin = false
	mu.Unlock()
	done := make(chan error, 1)
	go func() { _, err := io.ReadAll(resp.Body); done <- err }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("the stream stayed open after the user lost manage_system")
	}
}

func TestButtonsAreForwardedWithTheClickingUser(t *testing.T) {
	var gotUser string
	bridge := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		gotUser = verifyCall(t, r, body)
		assert.Equal(t, actionPath, r.URL.Path)
		assert.Equal(t, "application/json", r.Header.Get("Content-Type"))
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"ephemeral_text":"Ignored."}`))
	}))
	defer bridge.Close()
	p, _, _ := newTestPlugin(t, bridge.URL, map[string]bool{"admin": true})

	r := httptest.NewRequest(http.MethodPost, actionPath, strings.NewReader(`{"user_id":"forged","post_id":"p","context":{}}`))
	r.Header.Set("Mattermost-User-Id", "admin")
	w := httptest.NewRecorder()
	p.ServeHTTP(nil, w, r)
	assert.Equal(t, http.StatusOK, w.Code)
	assert.JSONEq(t, `{"ephemeral_text":"Ignored."}`, w.Body.String())
	assert.Equal(t, "admin", gotUser, "the user is Mattermost's header, not the body's user_id")

	r = httptest.NewRequest(http.MethodPost, actionPath, strings.NewReader(`{}`))
	r.Header.Set("Mattermost-User-Id", "someone")
	w = httptest.NewRecorder()
	p.ServeHTTP(nil, w, r)
	assert.Equal(t, http.StatusForbidden, w.Code)
}

func TestUnknownPathsAre404(t *testing.T) {
	p, _, _ := newTestPlugin(t, "http://127.0.0.1:1", nil)
	w := httptest.NewRecorder()
	p.ServeHTTP(nil, w, httptest.NewRequest(http.MethodGet, "/mattermost/command", nil))
	assert.Equal(t, http.StatusNotFound, w.Code)
}

func TestCommandIsForwardedAndAnswered(t *testing.T) {
	var got commandCall
	bridge := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		assert.Equal(t, "admin", verifyCall(t, r, body))
		assert.Equal(t, commandPath, r.URL.Path)
		require.NoError(t, json.Unmarshal(body, &got))
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"response_type":"ephemeral","text":"2 open findings"}`))
	}))
	defer bridge.Close()
	p, _, _ := newTestPlugin(t, bridge.URL, map[string]bool{"admin": true})

	resp, appErr := p.ExecuteCommand(nil, &model.CommandArgs{Command: "/egress status", UserId: "admin", ChannelId: "c", TeamId: "t"})
	require.Nil(t, appErr)
	assert.Equal(t, "2 open findings", resp.Text)
	assert.Equal(t, model.CommandResponseTypeEphemeral, resp.ResponseType)
	assert.Equal(t, commandCall{Command: "/egress status", UserID: "admin", ChannelID: "c", TeamID: "t"}, got)
}

func TestCommandRefusesNonAdminsAndSaysWhenTheBridgeIsDown(t *testing.T) {
	p, _, _ := newTestPlugin(t, "http://127.0.0.1:1", map[string]bool{"admin": true})
	resp, appErr := p.ExecuteCommand(nil, &model.CommandArgs{Command: "/egress status", UserId: "someone"})
	require.Nil(t, appErr)
	assert.Equal(t, "Only system administrators can use /egress.", resp.Text)

	resp, appErr = p.ExecuteCommand(nil, &model.CommandArgs{Command: "/egress status", UserId: "admin"})
	require.Nil(t, appErr)
	assert.Contains(t, resp.Text, "cannot be reached")
	assert.NotContains(t, resp.Text, testSecret)
}

func TestActivateRegistersEgressWithAutocomplete(t *testing.T) {
	p, api, _ := newTestPlugin(t, "", nil)
	var cmd *model.Command
	api.On("RegisterCommand", mock.Anything).Run(func(args mock.Arguments) { cmd = args.Get(0).(*model.Command) }).Return(nil)
	require.NoError(t, p.OnActivate())
	require.NotNil(t, cmd)
	assert.Equal(t, "egress", cmd.Trigger)
	assert.True(t, cmd.AutoComplete)
	var names []string
	for _, sub := range cmd.AutocompleteData.SubCommands {
		names = append(names, sub.Trigger)
	}
	assert.Equal(t, []string{"status", "list", "show", "snippet", "ignore", "unignore", "test", "rehearse", "help"}, names)
	assert.NoError(t, cmd.AutocompleteData.IsValid())
}

func TestSettingsChangesArePushedToTheBridge(t *testing.T) {
	got := make(chan pluginSettings, 2)
	bridge := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		assert.Equal(t, "", verifyCall(t, r, body))
		assert.Equal(t, settingsPath, r.URL.Path)
		assert.NotContains(t, string(body), testSecret)
		var s pluginSettings
		assert.NoError(t, json.Unmarshal(body, &s))
		got <- s
		w.WriteHeader(http.StatusNoContent)
	}))
	defer bridge.Close()
	p, api, _ := newTestPlugin(t, bridge.URL, nil)
	api.On("LoadPluginConfiguration", mock.Anything).Run(func(args mock.Arguments) {
		c := args.Get(0).(*configuration)
		*c = configuration{BridgeURL: bridge.URL, BridgeSecret: testSecret, SuggestionFormat: "serviceentry", ShowAlertYaml: false}
	}).Return(nil)
	p.active.Store(true)
	require.NoError(t, p.OnConfigurationChange())
	select {
	case s := <-got:
		assert.Equal(t, pluginSettings{SuggestionFormat: "serviceentry", ShowAlertYaml: false}, s)
	case <-time.After(5 * time.Second):
		t.Fatal("the bridge was not told the new settings")
	}
}
