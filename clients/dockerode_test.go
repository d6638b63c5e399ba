package clients

import "testing"

// TestDockerode runs clients/dockerode/scenario.js with dockerode 5.0.1
// (npm, installed by hack/clients.sh): run, create/start, logs, exec,
// put/get archive, list filters, volumes, networks, events, images, remove.
func TestDockerode(t *testing.T) {
	modules := clientPath(t, "SOCKERLESS_DOCKERODE", "dockerode")
	runScript(t, "dockerode", []string{
		"run", "create_start", "logs", "exec", "put_archive", "get_archive",
		"list_filters", "volumes", "networks", "events", "images", "remove",
	}, []string{"node", "dockerode/scenario.js"}, "NODE_PATH="+modules)
}
