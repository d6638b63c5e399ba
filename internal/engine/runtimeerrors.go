package engine

import (
	"errors"

	"github.com/sockerless/sockerless/internal/backend"
	"github.com/sockerless/sockerless/internal/errdefs"
)

// The Docker engine reports an OCI runtime's refusal to run a command in
// the words of every layer it passed through (dockerd, containerd, the
// shim, runc). Those messages are what clients see and parse: the docker CLI
// prints them, and tools match "executable file not found" or "OCI runtime
// exec failed" to tell a missing command from other failures. So a
// backend's CommandError gets the same framing, the same status (400) and
// the same exit codes, whatever runs the workload.
const (
	startRefusedPrefix = "failed to create task for container: failed to create shim task: OCI runtime create failed: runc create failed: unable to start container process: error during container init: "
	execRefusedPrefix  = "OCI runtime exec failed: exec failed: unable to start container process: "
)

// startRefused turns a backend's refusal to start a process into the
// engine's error and the exit status to record; ok is false for any other
// error. A CommandError gets the Docker engine's framing (prefix); a
// StartError comes from a platform that words its refusals itself (a
// Docker engine) and is kept as it is.
func startRefused(err error, prefix string) (out error, status int, ok bool) {
	var ce *backend.CommandError
	if errors.As(err, &ce) {
		return errdefs.InvalidParameter("%s%s", prefix, ce.Message), ce.Status, true
	}
	var se *backend.StartError
	if errors.As(err, &se) {
		return err, se.Code, true
	}
	return err, 0, false
}
