package shell

import (
	"errors"
	"fmt"
	"io/fs"
	"path"
	"strings"
	"syscall"
)

// CommandError is a command line that has nothing to run: the name is not
// found, or the file it names cannot be executed. Message is worded as Go's
// os/exec words it (`exec: "nope": executable file not found in $PATH`),
// which is what runc reports, so clients that read the reason find it.
type CommandError struct {
	// Status is the shell's status for the case: 127 not found, 126 found
	// but not executable.
	Status  int
	Message string
}

func (e *CommandError) Error() string { return e.Message }

// Resolve checks, before a process is reported started, that a command
// line's first word names something the sandbox can run, as an OCI runtime
// looks the command up before `start` returns (exec.LookPath in runc's
// init). It follows [Shell.execArgs]: a host helper or shell by name; a file
// found on $PATH (with env's PATH, or Docker's default) or at the path given
// (relative to dir); else a helper or applet of that base name, which the
// sandbox runs without a file. Unlike execArgs, a file must be executable,
// as execve requires of a process's first program.
func (s *Shell) Resolve(args, env []string, dir string) error {
	if len(args) == 0 {
		return &CommandError{Status: 127, Message: "no command specified"}
	}
	req := &request{args: args, env: s.dockerEnv(env), dir: dir}
	name := args[0]
	base := path.Base(name)
	if _, ok := s.helper(base); ok && (!strings.Contains(name, "/") || isShell(base)) {
		return nil
	}
	byName := s.standIn(base)
	if !strings.Contains(name, "/") {
		if name != "" && (s.searchPath(req, name, true) != "" || byName) {
			return nil
		}
		return &CommandError{Status: 127, Message: fmt.Sprintf("exec: %q: executable file not found in $PATH", name)}
	}
	p := name
	if !path.IsAbs(p) {
		p = path.Join(dir, p)
	}
	fi, err := s.cfg.FS.Stat(p)
	switch {
	case err != nil:
		if byName {
			return nil
		}
		// Go's os.Stat wording, with the name as given.
		return &CommandError{Status: 127, Message: fmt.Sprintf("exec: %q: stat %s: %v", name, name, errnoOf(err))}
	case fi.IsDir():
		return &CommandError{Status: 126, Message: fmt.Sprintf("exec: %q: is a directory: permission denied", name)}
	case fi.Mode()&0o111 == 0:
		return &CommandError{Status: 126, Message: fmt.Sprintf("exec: %q: permission denied", name)}
	}
	return nil
}

// errnoOf is the system error behind a failed stat (ENOENT, ENOTDIR, ...),
// without the host path a PathError would carry.
func errnoOf(err error) error {
	var errno syscall.Errno
	if errors.As(err, &errno) {
		return errno
	}
	if errors.Is(err, fs.ErrNotExist) {
		return syscall.ENOENT
	}
	return err
}
