package clients

import "testing"

// TestDockerPy runs clients/dockerpy/scenario.py with docker-py 7.1.0 (the
// base image's python3): run, logs, exec, put/get archive, wait, attach,
// top, list filters, volumes, networks, events, images, remove.
func TestDockerPy(t *testing.T) {
	python := clientPath(t, "SOCKERLESS_DOCKERPY", "dockerpy")
	runScript(t, "docker-py", []string{
		"run_foreground", "run_detached", "logs", "exec_run", "put_archive", "get_archive", "wait_exit_code",
		"attach", "top_and_list_filters", "volumes", "networks", "events", "images", "remove",
	}, []string{python, "dockerpy/scenario.py"})
}
