package shell

import (
	"context"
	"fmt"
	"runtime"
	"strings"
)

// runHostname prints the container's hostname (WASI has none to ask), and
// refuses to set it, as an unprivileged container does.
func runHostname(ctx context.Context, s *Shell, req *request) int {
	if len(req.args) > 1 && !strings.HasPrefix(req.args[1], "-") {
		fmt.Fprintln(req.stderr, "hostname: sethostname: Operation not permitted")
		return 1
	}
	name := s.cfg.Hostname
	if b, err := s.cfg.FS.ReadFile("/etc/hostname"); err == nil {
		if line := strings.TrimSpace(strings.SplitN(string(b), "\n", 2)[0]); line != "" {
			name = line
		}
	}
	fmt.Fprintln(req.stdout, name)
	return 0
}

// runNproc prints the CPUs the daemon may use, as nproc does in a container
// without a CPU limit.
func runNproc(ctx context.Context, s *Shell, req *request) int {
	fmt.Fprintln(req.stdout, runtime.NumCPU())
	return 0
}

// umaskCmd answers the umask builtin, which the interpreter lacks. WASI
// creates files with 0644 and folders with 0755 whatever the mask, so the
// mask is 022 and cannot be changed; saying otherwise would be a lie.
const umaskCmd = "\x00sandbox-umask"

func runUmask(req *request) int {
	args := req.args[1:]
	switch {
	case len(args) == 0:
		fmt.Fprintln(req.stdout, "0022")
	case len(args) == 1 && args[0] == "-S":
		fmt.Fprintln(req.stdout, "u=rwx,g=rx,o=rx")
	case len(args) == 1 && (args[0] == "022" || args[0] == "0022"):
	default:
		fmt.Fprintf(req.stderr, "umask: %s: changing the file creation mask is not supported by the memory backend sandbox (it is always 0022)\n", strings.Join(args, " "))
		return 1
	}
	return 0
}
