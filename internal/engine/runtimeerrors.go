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

// commandRefused turns a backend's CommandError into the engine's error
// and the exit status to record; ok is false for any other error.
func commandRefused(err error, prefix string) (out error, status int, ok bool) {
	var ce *backend.CommandError
	if !errors.As(err, &ce) {
		return err, 0, false
	}
	return errdefs.InvalidParameter("%s%s", prefix, ce.Message), ce.Status, true
}
