package shell

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"slices"
	"strings"

	"mvdan.cc/sh/v3/interp"
	"mvdan.cc/sh/v3/syntax"

	"github.com/sockerless/sockerless/internal/sandbox/wasm"
)

// runnerState is what the handlers of one interpreter share.
type runnerState struct {
	shell  *Shell
	runner *interp.Runner
	// pendingSource marks a file that the next open will read for `source`,
	// so that the open hands over the prepared script instead.
	pendingSource map[string]bool
}

// guestPath makes an interpreter path absolute: the interpreter passes paths
// relative to its virtual working folder.
func guestPath(ctx context.Context, p string) string {
	if path.IsAbs(p) {
		return p
	}
	return path.Join(interp.HandlerCtx(ctx).Dir, p)
}

func (rs *runnerState) open(ctx context.Context, p string, flag int, perm os.FileMode) (io.ReadWriteCloser, error) {
	hc := interp.HandlerCtx(ctx)
	gp := guestPath(ctx, p)
	switch gp {
	case "/dev/stdin":
		return readOnly{orEmpty(hc.Stdin)}, nil
	case "/dev/stdout":
		return writeOnly{hc.Stdout}, nil
	case "/dev/stderr":
		return writeOnly{hc.Stderr}, nil
	}
	gate := rs.shell.cfg.Gate
	if rs.pendingSource[gp] && flag == os.O_RDONLY {
		delete(rs.pendingSource, gp)
		if err := gate.Wait(ctx); err != nil {
			return nil, err
		}
		return rs.preparedSource(gp)
	}
	leave, err := gate.Enter(ctx)
	if err != nil {
		return nil, err
	}
	f, err := rs.shell.cfg.FS.OpenFile(gp, flag, perm)
	leave()
	if err != nil || flag&(os.O_WRONLY|os.O_RDWR) == 0 || gate == nil {
		// Read-only: the interpreter hands an *os.File to commands as it
		// is; a read is not an effect, and the command holds at its own
		// host calls.
		return f, err
	}
	return &heldFile{File: f, ctx: ctx, gate: gate}, nil
}

// heldFile is a file the interpreter writes (a redirection): each write is
// an effect at the pause gate, so none lands after Pause has returned.
type heldFile struct {
	*os.File
	ctx  context.Context
	gate *wasm.Gate
}

func (h *heldFile) Write(b []byte) (int, error) {
	leave, err := h.gate.Enter(h.ctx)
	if err != nil {
		return 0, err
	}
	defer leave()
	return h.File.Write(b)
}

// preparedSource reads a file for `source` and gives the interpreter the
// script after prepare, printed back: the same rules hold for sourced files
// as for scripts the sandbox parses itself.
func (rs *runnerState) preparedSource(gp string) (io.ReadWriteCloser, error) {
	b, err := rs.shell.cfg.FS.ReadFile(gp)
	if err != nil {
		return nil, err
	}
	file, err := syntax.NewParser().Parse(bytes.NewReader(b), gp)
	if err != nil {
		return readOnly{bytes.NewReader(b)}, nil // let the interpreter report the syntax error
	}
	if err := prepare(file); err != nil {
		return nil, err
	}
	var out bytes.Buffer
	if err := syntax.NewPrinter().Print(&out, file); err != nil {
		return nil, err
	}
	return readOnly{&out}, nil
}

func (s *Shell) stat(ctx context.Context, p string, follow bool) (fs.FileInfo, error) {
	if err := s.cfg.Gate.Wait(ctx); err != nil {
		return nil, err
	}
	if follow {
		return s.cfg.FS.Stat(guestPath(ctx, p))
	}
	return s.cfg.FS.Lstat(guestPath(ctx, p))
}

func (s *Shell) readDir(ctx context.Context, p string) ([]fs.DirEntry, error) {
	if err := s.cfg.Gate.Wait(ctx); err != nil {
		return nil, err
	}
	return s.cfg.FS.ReadDir(guestPath(ctx, p))
}

func (s *Shell) access(ctx context.Context, p string, mode interp.AccessMode) error {
	if err := s.cfg.Gate.Wait(ctx); err != nil {
		return err
	}
	return s.cfg.FS.Access(guestPath(ctx, p), uint32(mode))
}

// call rewrites the builtins that would otherwise look at the host:
// `command -v`/`-V`, `type` and `hash` resolve names inside the container,
// and `eval`/`source` get the same preparation as parsed scripts.
func (rs *runnerState) call(ctx context.Context, args []string) ([]string, error) {
	// Every simple command, builtins included, starts here: a paused
	// interpreter holds before its next one.
	if err := rs.shell.cfg.Gate.Wait(ctx); err != nil {
		return nil, err
	}
	switch args[0] {
	case "command":
		if len(args) > 2 && (args[1] == "-v" || args[1] == "-V") {
			return rs.lookupCall(args[1] == "-V", args[2:]), nil
		}
	case "type":
		return rs.lookupCall(true, args[1:]), nil
	case "hash":
		return rs.lookupCall(false, args[1:]), nil
	case "eval":
		src := strings.Join(args[1:], " ")
		file, err := syntax.NewParser().Parse(strings.NewReader(src), "eval")
		if err != nil {
			return args, nil // the interpreter reports it
		}
		if err := prepare(file); err != nil {
			return []string{lookupCmd, "-error", "eval: " + err.Error()}, nil
		}
		var out bytes.Buffer
		if err := syntax.NewPrinter().Print(&out, file); err != nil {
			return nil, err
		}
		return []string{"eval", out.String()}, nil
	case "umask":
		return append([]string{umaskCmd}, args[1:]...), nil
	case "pwd":
		// pwd -P would resolve symlinks on the host (filepath.EvalSymlinks).
		if slices.Contains(args[1:], "-P") {
			return []string{physicalPwdCmd}, nil
		}
	case "printf":
		// The interpreter's printf lacks %X, %i, %u, %e and more; the
		// userland's is complete. printf -v must stay a builtin.
		if len(args) < 2 || args[1] != "-v" {
			return append([]string{appletCmd}, args...), nil
		}
	case "source", ".":
		if len(args) > 1 {
			rs.pendingSource[guestPath(ctx, args[1])] = true
		}
	}
	return args, nil
}

// physicalPwdCmd prints the working folder with symlinks resolved inside
// the container.
const physicalPwdCmd = "\x00sandbox-pwd-physical"

// appletCmd runs its arguments with the userland, bypassing a builtin of
// the same name.
const appletCmd = "\x00sandbox-applet"

// lookupCmd is the internal command the lookup builtins are rewritten to.
// Its name cannot be typed in a script by accident.
const lookupCmd = "\x00sandbox-lookup"

func (rs *runnerState) lookupCall(verbose bool, names []string) []string {
	out := []string{lookupCmd}
	if verbose {
		out = append(out, "-v")
	}
	for _, n := range names {
		if strings.HasPrefix(n, "-") {
			continue // type -t/-a/-P, hash -r: accepted, answered plainly
		}
		switch {
		case rs.runner.Funcs[n] != nil:
			out = append(out, "function:"+n)
		case interp.IsBuiltin(n):
			out = append(out, "builtin:"+n)
		default:
			out = append(out, "name:"+n)
		}
	}
	return out
}

// runLookup answers the rewritten lookup builtins.
func (s *Shell) runLookup(req *request) int {
	args := req.args[1:]
	if len(args) == 2 && args[0] == "-error" {
		fmt.Fprintln(req.stderr, args[1])
		return 2
	}
	verbose := len(args) > 0 && args[0] == "-v"
	if verbose {
		args = args[1:]
	}
	status := 0
	for _, a := range args {
		kind, name, _ := strings.Cut(a, ":")
		switch kind {
		case "function":
			if verbose {
				fmt.Fprintf(req.stdout, "%s is a function\n", name)
			} else {
				fmt.Fprintln(req.stdout, name)
			}
		case "builtin":
			if verbose {
				fmt.Fprintf(req.stdout, "%s is a shell builtin\n", name)
			} else {
				fmt.Fprintln(req.stdout, name)
			}
		default:
			p := s.lookPath(req, name)
			switch {
			case p == "":
				if verbose {
					fmt.Fprintf(req.stderr, "%s: not found\n", name)
				}
				status = 1
			case verbose:
				fmt.Fprintf(req.stdout, "%s is %s\n", name, p)
			default:
				fmt.Fprintln(req.stdout, p)
			}
		}
	}
	return status
}

type readOnly struct{ io.Reader }

func (readOnly) Write([]byte) (int, error) { return 0, errors.New("file not open for writing") }
func (readOnly) Close() error              { return nil }

type writeOnly struct{ io.Writer }

func (writeOnly) Read([]byte) (int, error) { return 0, errors.New("file not open for reading") }
func (writeOnly) Close() error             { return nil }

func orEmpty(r io.Reader) io.Reader {
	if r == nil {
		return strings.NewReader("")
	}
	return r
}
