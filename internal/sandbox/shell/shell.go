// Package shell runs container commands with the mvdan.cc/sh interpreter on
// the host and the sandbox userland, so that no host file and no host binary
// is ever reached.
//
// Every hook of the interpreter is ours: open, stat, read-dir and access go
// through the container's [confine.FS]; exec goes through [Shell.exec], which
// runs nested sh/bash in a new interpreter, a few audited host helpers
// (timeout, kill, nohup, env, jq, top, and the idle forms of sleep, tail and
// cat), BusyBox applets and .wasm files in wazero, and refuses native binaries;
// `command -v`, `type` and `hash` look names up inside the container. The
// interpreter's own view of the host ($$, PPID, UID, HOME, the temp folder of
// process substitution) is replaced by the container's.
package shell

import (
	"context"
	"fmt"
	"io"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"

	"mvdan.cc/sh/v3/expand"
	"mvdan.cc/sh/v3/interp"
	"mvdan.cc/sh/v3/syntax"

	"github.com/sockerless/sockerless/internal/sandbox/confine"
	"github.com/sockerless/sockerless/internal/sandbox/wasm"
)

// Config is what a [Shell] runs with. All fields are required.
type Config struct {
	FS       *confine.FS
	Runtime  *wasm.Runtime
	Userland *wasm.Module
	// Applets are the names the userland module answers to.
	Applets map[string]bool
	Usage   *wasm.Usage
	Procs   *Procs
	// Hostname is the container's, for $HOSTNAME.
	Hostname string
	// Gate is the container's pause gate: the interpreter's handlers, the
	// host helpers and every wasm instance pass it.
	Gate *wasm.Gate
	// Bare: no image filled the root, so helpers and applets do not stand
	// in for commands by name; only files of the root run.
	Bare bool
}

// Shell runs the commands of one container. It is safe for concurrent use.
type Shell struct {
	cfg     Config
	modules sync.Map // fileKey -> *wasm.Module, for .wasm files in the tree
}

// New makes a Shell.
func New(cfg Config) *Shell { return &Shell{cfg: cfg} }

// Command is one process to start in the container, like execve.
type Command struct {
	Args []string
	// Env is the full environment, KEY=VALUE.
	Env []string
	// Dir is the absolute guest working folder.
	Dir string
	// Stdin may be nil; an *os.File (a pipe) makes blocked reads cancellable.
	Stdin          *os.File
	Stdout, Stderr io.Writer
}

// Run runs a command to its end and returns its exit status. When ctx is
// cancelled with a [SignalError] cause the status is the signal's 128+n.
func (s *Shell) Run(ctx context.Context, c Command) int {
	if len(c.Args) == 0 {
		fmt.Fprintln(orDiscard(c.Stderr), "no command specified")
		return 127
	}
	st := s.execArgs(ctx, &request{
		args: c.Args, env: s.dockerEnv(c.Env), dir: c.Dir,
		stdin: c.Stdin, stdout: orDiscard(c.Stdout), stderr: orDiscard(c.Stderr),
	})
	return statusOf(ctx, st)
}

// statusOf turns a cancelled command into the status Docker reports.
func statusOf(ctx context.Context, st int) int {
	if ctx.Err() == nil {
		return st
	}
	if sig, ok := context.Cause(ctx).(SignalError); ok {
		return sig.Status()
	}
	return st
}

// newRunner makes an interpreter bound to the container. pid is the sandbox
// PID that $$ reports.
func (s *Shell) newRunner(req *request, pid, ppid int, opts ...interp.RunnerOption) (*interp.Runner, error) {
	env := s.shellEnv(req.env, pid, ppid)
	var stdin io.Reader
	if req.stdin != nil {
		stdin = req.stdin
	}
	rs := &runnerState{shell: s, pendingSource: map[string]bool{}}
	base := []interp.RunnerOption{
		interp.Env(env),
		interp.StdIO(stdin, req.stdout, req.stderr),
		interp.OpenHandler(rs.open),
		interp.StatHandler(s.stat),
		interp.ReadDirHandler2(s.readDir),
		interp.AccessHandler(s.access),
		interp.CallHandler(rs.call),
		interp.ExecHandlers(func(interp.ExecHandlerFunc) interp.ExecHandlerFunc { return s.exec(req.depth) }),
	}
	r, err := interp.New(append(base, opts...)...)
	if err != nil {
		return nil, err
	}
	rs.runner = r
	r.Dir = req.dir // interp.Dir would stat the host path; the virtual cwd is set directly
	return r, nil
}

// dockerEnv adds what every process of a container gets from Docker when
// the environment lacks it: PATH, HOME and HOSTNAME.
func (s *Shell) dockerEnv(env []string) []string {
	out := slices.Clone(env)
	has := func(k string) bool {
		return slices.ContainsFunc(out, func(kv string) bool { return strings.HasPrefix(kv, k+"=") })
	}
	for _, d := range [][2]string{{"PATH", DefaultPath}, {"HOME", "/root"}, {"HOSTNAME", s.cfg.Hostname}} {
		if !has(d[0]) {
			out = append(out, d[0]+"="+d[1])
		}
	}
	return out
}

// shellEnv exports SHLVL (one more than the parent shell's), as BusyBox ash
// and bash do when they start, and adds, as shell variables that are not
// exported, what the interpreter would otherwise take from the host: UID,
// EUID, GID and the sandbox PIDs behind $$ and $PPID.
func (s *Shell) shellEnv(env []string, pid, ppid int) expand.Environ {
	level := 0
	out := slices.DeleteFunc(slices.Clone(env), func(kv string) bool {
		v, ok := strings.CutPrefix(kv, "SHLVL=")
		if ok {
			level, _ = strconv.Atoi(v) // not a number: ash starts again at 1
		}
		return ok
	})
	out = append(out, "SHLVL="+strconv.Itoa(level+1))
	return shellEnviron{Environ: expand.ListEnviron(out...), local: map[string]string{
		"UID": "0", "EUID": "0", "GID": "0", pidVar: strconv.Itoa(pid), ppidVar: strconv.Itoa(ppid),
	}}
}

// shellEnviron is an environment plus shell variables that are set but not
// exported to commands.
type shellEnviron struct {
	expand.Environ
	local map[string]string
}

func (e shellEnviron) Get(name string) expand.Variable {
	if v, ok := e.local[name]; ok {
		return expand.Variable{Set: true, Kind: expand.String, Str: v}
	}
	return e.Environ.Get(name)
}

func (e shellEnviron) Each(fn func(name string, vr expand.Variable) bool) {
	for name, v := range e.local {
		if !fn(name, expand.Variable{Set: true, Kind: expand.String, Str: v}) {
			return
		}
	}
	e.Environ.Each(fn)
}

// DefaultPath is Docker's default PATH for Linux containers.
const DefaultPath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

// runScript parses and runs a script in a new interpreter, as a new sandbox
// process whose $0 is name.
func (s *Shell) runScript(ctx context.Context, req *request, name string, src io.Reader, streaming bool, opts ...interp.RunnerOption) int {
	cctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	ppid := parentPID(ctx)
	pid, done := s.cfg.Procs.add(ppid, "shell", req.args, cancel)
	defer done()
	cctx = withPID(cctx, pid)
	r, err := s.newRunner(req, pid, ppid, opts...)
	if err != nil {
		fmt.Fprintf(req.stderr, "%s: %v\n", name, err)
		return 2
	}
	parser := syntax.NewParser(syntax.Variant(syntax.LangBash))
	if !streaming {
		file, err := parser.Parse(src, name)
		if err != nil {
			fmt.Fprintf(req.stderr, "%v\n", err)
			return 2
		}
		if err := prepare(file); err != nil {
			fmt.Fprintf(req.stderr, "%s: %v\n", name, err)
			return 2
		}
		return statusOf(cctx, exitCode(r.Run(cctx, file), req.stderr))
	}
	// Script on stdin (sh -s, or sh fed by docker attach): run each
	// statement as soon as it is complete, as a shell reading a pipe does.
	status := 0
	perr := parser.Stmts(src, func(stmt *syntax.Stmt) bool {
		if err := prepare(stmt); err != nil {
			fmt.Fprintf(req.stderr, "%s: %v\n", name, err)
			status = 2
			return false
		}
		status = exitCode(r.Run(cctx, stmt), req.stderr)
		return !r.Exited() && cctx.Err() == nil
	})
	if perr != nil && !r.Exited() && cctx.Err() == nil {
		fmt.Fprintf(req.stderr, "%s: %v\n", name, perr)
		status = 2
	}
	return statusOf(cctx, status)
}

// exitCode maps an interpreter result to a status; other errors are fatal
// interpreter errors, reported like a shell reports them.
func exitCode(err error, stderr io.Writer) int {
	if err == nil {
		return 0
	}
	if st, ok := interp.IsExitStatus(err); ok {
		return int(st)
	}
	if err == context.Canceled || err == context.DeadlineExceeded {
		return 130
	}
	fmt.Fprintf(stderr, "sh: %v\n", err)
	return 2
}

func orDiscard(w io.Writer) io.Writer {
	if w == nil {
		return io.Discard
	}
	return w
}
