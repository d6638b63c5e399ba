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
	"strings"
	"syscall"

	"mvdan.cc/sh/v3/expand"
	"mvdan.cc/sh/v3/interp"

	"github.com/sockerless/sockerless/internal/sandbox/wasm"
)

// maxDepth bounds nested interpreters (#! chains, sh -c in sh -c, ...).
const maxDepth = 32

// request is one command line to run and its stdio.
type request struct {
	args   []string
	env    []string
	dir    string
	stdin  *os.File
	stdout io.Writer
	stderr io.Writer
	depth  int
}

func (req *request) with(args []string) *request {
	r := *req
	r.args = args
	r.depth++
	return &r
}

func (req *request) getenv(k string) string {
	for i := len(req.env) - 1; i >= 0; i-- {
		if v, ok := strings.CutPrefix(req.env[i], k+"="); ok {
			return v
		}
	}
	return ""
}

// exec is the interpreter's exec handler: a command that is neither a
// function nor a builtin.
func (s *Shell) exec(depth int) interp.ExecHandlerFunc {
	return func(ctx context.Context, args []string) error {
		hc := interp.HandlerCtx(ctx)
		stdin, _ := hc.Stdin.(*os.File) // always an *os.File (or nil) outside js/wasm
		req := &request{
			args: args, env: exported(hc.Env), dir: hc.Dir,
			stdin: stdin, stdout: hc.Stdout, stderr: hc.Stderr, depth: depth,
		}
		if st := s.execArgs(ctx, req); st != 0 {
			return interp.ExitStatus(uint8(st))
		}
		return nil
	}
}

// exported is the environment a command gets: the exported variables, and
// PWD, which ash and bash export when they start and cd keeps current (the
// interpreter sets it without the export flag).
func exported(env expand.Environ) []string {
	var out []string
	env.Each(func(name string, v expand.Variable) bool {
		if (v.Exported || name == "PWD") && v.IsSet() && v.Kind == expand.String && name != pidVar && name != ppidVar {
			out = append(out, name+"="+v.Str)
		}
		return true
	})
	return out
}

// execArgs resolves and runs one command line, like execve plus the shell's
// ENOEXEC rule, and returns its status.
//
// Resolution: sh/bash and the host helpers by name; otherwise a path (given,
// or found on $PATH inside the container) that holds a .wasm module, a #!
// script or a shell script runs as such; an applet name runs the userland
// (also when the image's file of that name is a native binary, which the
// userland stands in for); any other native binary is refused.
func (s *Shell) execArgs(ctx context.Context, req *request) int {
	if req.depth > maxDepth {
		fmt.Fprintf(req.stderr, "%s: too many levels of nested commands\n", req.args[0])
		return 126
	}
	if err := s.cfg.Gate.Wait(ctx); err != nil {
		return statusOf(ctx, 130)
	}
	if err := ctx.Err(); err != nil {
		return 130
	}
	name := req.args[0]
	switch name {
	case lookupCmd:
		return s.runLookup(req)
	case umaskCmd:
		return runUmask(req)
	case physicalPwdCmd:
		dir, err := s.cfg.FS.Realpath(req.dir)
		if err != nil {
			fmt.Fprintf(req.stderr, "pwd: %v\n", errors.Unwrap(err))
			return 1
		}
		fmt.Fprintln(req.stdout, dir)
		return 0
	case appletCmd:
		return s.runWasm(ctx, req, s.cfg.Userland, req.args[1:])
	}
	base := path.Base(name)
	if h, ok := s.helper(base); ok && (!strings.Contains(name, "/") || isShell(base)) {
		return h(ctx, s, req)
	}
	p := name
	if !strings.Contains(name, "/") {
		p = s.lookPathFile(req, name)
	} else if !path.IsAbs(p) {
		p = path.Join(req.dir, p)
	}
	if p != "" {
		if st, handled := s.runFile(ctx, req, p, asInvoked(name, p)); handled {
			return st
		}
	}
	if h, ok := s.helper(base); ok {
		return h(ctx, s, req)
	}
	if s.standIn(base) && s.cfg.Applets[base] {
		return s.runWasm(ctx, req, s.cfg.Userland, req.args)
	}
	if s.standIn(base) && base == multiCall {
		return s.runMultiCall(ctx, req)
	}
	fmt.Fprintf(req.stderr, "%s: not found\n", name)
	return 127
}

// helper is the host helper standing in for a command name, unless the
// root is bare.
func (s *Shell) helper(name string) (helper, bool) {
	h, ok := helpers[name]
	return h, ok && !s.cfg.Bare
}

// standIn says whether the sandbox runs name without a file of the root:
// a helper, an applet or BusyBox itself, unless the root is bare.
func (s *Shell) standIn(name string) bool {
	return !s.cfg.Bare && (helpers[name] != nil || s.cfg.Applets[name] || name == multiCall)
}

// multiCall is BusyBox's own name: `busybox APPLET ARGS...` in scripts.
const multiCall = "busybox"

// runMultiCall runs `busybox APPLET ARGS...` as BusyBox does, by applet
// name and not through $PATH: the helper standing in for the applet, or
// the userland's applet. Anything else (no applet, --list, --help) goes to
// the userland, which is BusyBox and answers as such.
func (s *Shell) runMultiCall(ctx context.Context, req *request) int {
	if len(req.args) > 1 {
		if h, ok := helpers[req.args[1]]; ok {
			return h(ctx, s, req.with(req.args[1:]))
		}
	}
	return s.runWasm(ctx, req, s.cfg.Userland, req.args)
}

// nativeMessage is what a native executable gets, with exit status 126.
const nativeMessage = "exec format error: %s is a native binary; the memory backend runs its built-in userland and .wasm programs — use the docker or a cloud backend for native images"

// runFile runs a file of the container. handled is false when the file is
// missing or native and the name may still be a helper or applet.
func (s *Shell) runFile(ctx context.Context, req *request, p, invoked string) (status int, handled bool) {
	fi, err := s.cfg.FS.Stat(p)
	if err != nil {
		return 0, false
	}
	if fi.IsDir() {
		fmt.Fprintf(req.stderr, "%s: Permission denied\n", req.args[0])
		return 126, true
	}
	head, err := s.readHead(p)
	if err != nil {
		fmt.Fprintf(req.stderr, "%s: %v\n", req.args[0], err)
		return 126, true
	}
	switch {
	case wasm.IsWasm(head):
		mod, err := s.module(ctx, p, fi)
		if err != nil {
			fmt.Fprintf(req.stderr, "%s: %v\n", req.args[0], err)
			return 126, true
		}
		return s.runWasm(ctx, req, mod, req.args), true
	case bytes.HasPrefix(head, []byte("#!")):
		line, _, _ := bytes.Cut(head[2:], []byte("\n"))
		fields := strings.Fields(string(line))
		if len(fields) == 0 {
			return s.runScriptFile(ctx, req.with(append([]string{"sh", invoked}, req.args[1:]...))), true
		}
		// Linux passes everything after the interpreter as one argument.
		argv := []string{fields[0]}
		if rest := strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(string(line)), fields[0])); rest != "" {
			argv = append(argv, rest)
		}
		argv = append(argv, invoked)
		return s.execArgs(ctx, req.with(append(argv, req.args[1:]...))), true
	case isBinary(head):
		if s.standIn(path.Base(p)) {
			return 0, false
		}
		fmt.Fprintf(req.stderr, nativeMessage+"\n", p)
		return 126, true
	default:
		// No #!: a shell runs it as a shell script (the ENOEXEC rule).
		return s.runScriptFile(ctx, req.with(append([]string{"sh", invoked}, req.args[1:]...))), true
	}
}

// asInvoked is the script path an interpreter gets: the name as typed when
// it holds a slash, the $PATH match otherwise (as execve and execvp pass it).
func asInvoked(name, found string) string {
	if strings.Contains(name, "/") {
		return name
	}
	return found
}

func (s *Shell) readHead(p string) ([]byte, error) {
	f, err := s.cfg.FS.Open(p)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	buf := make([]byte, 512)
	n, err := io.ReadFull(f, buf)
	if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, io.EOF) {
		return nil, err
	}
	return buf[:n], nil
}

func isBinary(head []byte) bool {
	return bytes.HasPrefix(head, []byte("\x7fELF")) || bytes.IndexByte(head, 0) >= 0
}

// fileKey identifies a file's content cheaply, so that a .wasm on $PATH is
// hashed and compiled once, not per command.
type fileKey struct {
	dev, ino uint64
	size     int64
	mtime    int64
}

func (s *Shell) module(ctx context.Context, p string, fi fs.FileInfo) (*wasm.Module, error) {
	var key fileKey
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		key = fileKey{dev: st.Dev, ino: st.Ino, size: fi.Size(), mtime: fi.ModTime().UnixNano()}
		if m, ok := s.modules.Load(key); ok {
			return m.(*wasm.Module), nil
		}
	}
	bin, err := s.cfg.FS.ReadFile(p)
	if err != nil {
		return nil, err
	}
	m, err := s.cfg.Runtime.Compile(ctx, bin)
	if err != nil {
		return nil, err
	}
	if key != (fileKey{}) {
		s.modules.Store(key, m)
	}
	return m, nil
}

// runWasm runs a module as one sandbox process.
func (s *Shell) runWasm(ctx context.Context, req *request, mod *wasm.Module, argv []string) int {
	cctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	pid, done := s.cfg.Procs.add(parentPID(ctx), "wasm", argv, cancel)
	defer done()
	cctx = withPID(cctx, pid)
	spec := wasm.Spec{
		Module: mod, Args: argv, Env: req.env, Dir: req.dir,
		Stdin: req.stdin, Stdout: req.stdout, Stderr: req.stderr,
		FS: s.cfg.FS, Usage: s.cfg.Usage, Gate: s.cfg.Gate,
		Spawn: func(ctx context.Context, argv []string, stdin io.Reader, stdout, stderr io.Writer) int {
			return s.spawn(ctx, req, argv, stdin, stdout, stderr)
		},
	}
	st, err := s.cfg.Runtime.Run(cctx, spec)
	if err != nil {
		if cctx.Err() != nil {
			return statusOf(cctx, 130)
		}
		fmt.Fprintf(req.stderr, "%s: %v\n", argv[0], err)
		return 126
	}
	return st
}

// spawn serves a guest's request to run a command (xargs, find -exec, awk).
func (s *Shell) spawn(ctx context.Context, parent *request, argv []string, stdin io.Reader, stdout, stderr io.Writer) int {
	req := parent.with(argv)
	req.stdout, req.stderr = stdout, stderr
	req.stdin = nil
	if stdin != nil {
		f, ok := stdin.(*os.File)
		if !ok {
			fmt.Fprintf(stderr, "%s: cannot pass stdin\n", argv[0])
			return 126
		}
		req.stdin = f
	}
	return s.execArgs(ctx, req)
}

// lookPathFile finds a regular file for name on $PATH inside the container.
func (s *Shell) lookPathFile(req *request, name string) string {
	return s.searchPath(req, name, false)
}

// searchPath finds a regular file for name on $PATH inside the container;
// executable asks, as exec.LookPath does, for one with an execute bit
// (a file without one is passed over).
func (s *Shell) searchPath(req *request, name string, executable bool) string {
	for _, dir := range strings.Split(req.getenv("PATH"), ":") {
		if dir == "" {
			dir = "."
		}
		p := path.Join(dir, name)
		if !path.IsAbs(p) {
			p = path.Join(req.dir, p)
		}
		if fi, err := s.cfg.FS.Stat(p); err == nil && fi.Mode().IsRegular() && (!executable || fi.Mode()&0o111 != 0) {
			return p
		}
	}
	return ""
}

// lookPath answers `command -v`: a file on $PATH, else where the helper or
// applet would be found in a BusyBox image.
func (s *Shell) lookPath(req *request, name string) string {
	if strings.Contains(name, "/") {
		if _, err := s.cfg.FS.Stat(path.Join(req.dir, name)); err == nil {
			return name
		}
		return ""
	}
	if p := s.lookPathFile(req, name); p != "" {
		return p
	}
	if helpers[name] != nil || s.cfg.Applets[name] {
		if isShell(name) {
			return "/bin/" + name
		}
		return "/usr/bin/" + name
	}
	return ""
}

type pidKey struct{}

func withPID(ctx context.Context, pid int) context.Context {
	return context.WithValue(ctx, pidKey{}, pid)
}

func parentPID(ctx context.Context) int {
	pid, _ := ctx.Value(pidKey{}).(int)
	return pid
}
