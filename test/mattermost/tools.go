//go:build tools

// Package harness records which Mattermost command this module exists to build. The build tag
// keeps it out of every real build; build.sh compiles the command by its import path.
package harness

import _ "github.com/mattermost/mattermost/server/v8/cmd/mattermost"
