package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/mattermost/mattermost/server/public/model"
	"github.com/mattermost/mattermost/server/public/plugin"
)

const commandTrigger = "egress"

// commandTimeout bounds a slash command's round trip: Mattermost shows nothing until ExecuteCommand returns.
const commandTimeout = 20 * time.Second

// egressCommand is /egress as the plugin registers it; the subcommands are the bridge's (server/present/command.ts).
func egressCommand() *model.Command {
	ac := model.NewAutocompleteData(commandTrigger, "[subcommand]", "Blocked egress of Mattermost and the ServiceEntries that allow it")
	ac.AddCommand(model.NewAutocompleteData("status", "", "Log sources, Mattermost, the mesh, and counts of findings"))
	ac.AddCommand(model.NewAutocompleteData("list", "", "Open findings, most urgent first"))
	show := model.NewAutocompleteData("show", "<host>", "One finding: feature, sample lines, how the host was named")
	show.AddTextArgument("Host or host:port", "<host>", "")
	ac.AddCommand(show)
	snippet := model.NewAutocompleteData("snippet", "[host|all] [--format bigbang|bigbang-legacy|package|package-legacy|serviceentry]", "The YAML to add")
	snippet.AddTextArgument("Host, or all", "[host|all] [--format …]", "")
	ac.AddCommand(snippet)
	ignore := model.NewAutocompleteData("ignore", "<host> [reason]", "Stop alerting about a destination")
	ignore.AddTextArgument("Host and reason", "<host> [reason]", "")
	ac.AddCommand(ignore)
	unignore := model.NewAutocompleteData("unignore", "<host>", "Alert about a destination again")
	unignore.AddTextArgument("Host", "<host>", "")
	ac.AddCommand(unignore)
	test := model.NewAutocompleteData("test", "<s3|smtp|ldap|elasticsearch|site-url>", "Run Mattermost's own connection test of an integration")
	test.AddStaticListArgument("Integration", true, []model.AutocompleteListItem{
		{Item: "s3"}, {Item: "smtp"}, {Item: "ldap"}, {Item: "elasticsearch"}, {Item: "site-url"},
	})
	ac.AddCommand(test)
	ac.AddCommand(model.NewAutocompleteData("rehearse", "", "Before hardening: run the tests (not the email one) and list what REGISTRY_ONLY would break"))
	ac.AddCommand(model.NewAutocompleteData("help", "", "What each subcommand does"))
	return &model.Command{
		Trigger:          commandTrigger,
		AutoComplete:     true,
		AutoCompleteDesc: "Blocked egress of Mattermost and the ServiceEntries that allow it (system admins)",
		AutoCompleteHint: "[status|list|show|snippet|ignore|unignore|test|rehearse|help]",
		DisplayName:      "Egress Advisor",
		AutocompleteData: ac,
	}
}

// commandCall is what the bridge's command endpoint reads (server/http/mattermost.ts).
type commandCall struct {
	Command   string `json:"command"`
	UserID    string `json:"user_id"`
	ChannelID string `json:"channel_id"`
	TeamID    string `json:"team_id"`
	RootID    string `json:"root_id,omitempty"`
}

func ephemeral(text string) *model.CommandResponse {
	return &model.CommandResponse{ResponseType: model.CommandResponseTypeEphemeral, Text: text}
}

// ExecuteCommand forwards /egress to the bridge and returns its answer. Failures are answered as ephemeral
// text: Mattermost would otherwise only say that the command failed.
func (p *Plugin) ExecuteCommand(_ *plugin.Context, args *model.CommandArgs) (*model.CommandResponse, *model.AppError) {
	if !p.API.HasPermissionTo(args.UserId, model.PermissionManageSystem) {
		return ephemeral("Only system administrators can use /egress."), nil
	}
	cfg := p.getConfiguration()
	base, err := cfg.bridgeTarget()
	if err != nil {
		return ephemeral("Egress Advisor cannot answer: " + err.Error() + "."), nil
	}
	who := p.callerFor(args.UserId)
	body, err := json.Marshal(commandCall{Command: args.Command, UserID: args.UserId, ChannelID: args.ChannelId, TeamID: args.TeamId, RootID: args.RootId})
	if err != nil {
		return nil, model.NewAppError("ExecuteCommand", "egress_advisor.command.encode", nil, err.Error(), http.StatusInternalServerError)
	}
	ctx, cancel := context.WithTimeout(context.Background(), commandTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, base.String()+commandPath, bytes.NewReader(body))
	if err != nil {
		return ephemeral("Egress Advisor cannot answer: the Bridge URL setting is not usable."), nil
	}
	req.Header.Set("Content-Type", "application/json")
	signRequest(req, cfg.BridgeSecret, who, p.now(), body)
	resp, err := p.client.Do(req)
	if err != nil {
		p.API.LogWarn("Egress Advisor: the bridge could not be reached", "bridge_url", base.String(), "error", err.Error())
		return ephemeral(unreachableMessage(base.String(), err)), nil
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 4<<20))
	if err != nil {
		return ephemeral("Egress Advisor cannot answer: the bridge's reply was cut off."), nil
	}
	if resp.StatusCode != http.StatusOK {
		var e apiError
		if json.Unmarshal(raw, &e) == nil && e.Error != "" {
			return ephemeral(fmt.Sprintf("Egress Advisor cannot answer: %s", e.Error)), nil
		}
		return ephemeral(fmt.Sprintf("Egress Advisor cannot answer: the bridge answered HTTP %d.", resp.StatusCode)), nil
	}
	var out model.CommandResponse
	if err := json.Unmarshal(raw, &out); err != nil {
		return ephemeral("Egress Advisor cannot answer: the bridge's reply is not a command response."), nil
	}
	return &out, nil
}

// pluginSettings is what the bridge is told of the settings page: everything but the secret and its own URL.
type pluginSettings struct {
	SuggestionFormat string `json:"suggestionFormat"`
	ShowAlertYaml    bool   `json:"showAlertYaml"`
}

// pushSettings tells the bridge the settings as they are now, so a change on the settings page applies to
// the next alert without a restart. Best effort: the bridge also reads them from Mattermost's configuration.
func (p *Plugin) pushSettings() {
	cfg := p.getConfiguration()
	base, err := cfg.bridgeTarget()
	if err != nil {
		return
	}
	body, _ := json.Marshal(pluginSettings{SuggestionFormat: cfg.SuggestionFormat, ShowAlertYaml: cfg.ShowAlertYaml})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPut, base.String()+settingsPath, bytes.NewReader(body))
	if err != nil {
		return
	}
	req.Header.Set("Content-Type", "application/json")
	signRequest(req, cfg.BridgeSecret, caller{}, p.now(), body)
	resp, err := p.client.Do(req)
	if err != nil {
		p.API.LogWarn("Egress Advisor: could not tell the bridge the new settings", "bridge_url", base.String(), "error", err.Error())
		return
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	_ = resp.Body.Close()
	if resp.StatusCode != http.StatusNoContent {
		p.API.LogWarn("Egress Advisor: the bridge did not accept the new settings", "status", resp.StatusCode)
	}
}
