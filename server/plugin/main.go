// The server half of the Egress Advisor plugin. Mattermost runs it; it forwards the webapp's API, /egress
// and the alert buttons to the Egress Advisor bridge, signed with a secret only the two of them know.
package main

import "github.com/mattermost/mattermost/server/public/plugin"

func main() {
	plugin.ClientMain(newPlugin())
}
