package sandbox

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"slices"
	"strings"
	"sync"
	"syscall"

	"github.com/sockerless/sockerless/internal/sandbox/shell"
	"github.com/sockerless/sockerless/internal/sandbox/wasm"
)

// ErrProcessDone is returned when signalling a process that has ended.
var ErrProcessDone = errors.New("sandbox: process already finished")

// ErrUnsupported is wrapped by errors for what the sandbox cannot do (users
// other than root, stopping a process).
var ErrUnsupported = errors.New("not supported by the memory backend sandbox")

// ProcessSpec is a process to start.
type ProcessSpec struct {
	// Args is the command line; Args[0] is resolved like execve does.
	Args []string
	// Env is KEY=VALUE pairs; PATH, HOME and HOSTNAME get defaults, and
	// TERM=xterm with a TTY, as Docker gives them.
	Env []string
	// Dir is the absolute working folder; empty means "/".
	Dir string
	// User must be root ("", "root", "0", "0:0", "root:root"): the sandbox
	// has no users, and a process that claimed another one would lie.
	User string
	// Stdin, when set, is read until EOF (so a closed write side is the
	// shell's end of input). An io.Closer is closed when the process ends.
	Stdin io.Reader
	// Stdout and Stderr receive output; with TTY both go to Stdout, with
	// line feeds written as CR LF, as a terminal would.
	Stdout, Stderr io.Writer
	TTY            bool
}

// CommandError is what Start returns for a command it cannot run: not
// found (Status 127) or not executable (126).
type CommandError = shell.CommandError

// Process is a running command.
type Process struct {
	c      *Container
	cancel context.CancelCauseFunc
	done   chan struct{}
	status int

	mu            sync.Mutex
	width, height uint16
}

// Start starts a process. It runs until it exits or is signalled; ctx only
// carries values, its cancellation does not stop the process. A command
// with nothing to run is a *CommandError, and no process starts.
func (c *Container) Start(ctx context.Context, spec ProcessSpec) (*Process, error) {
	if len(spec.Args) == 0 {
		return nil, errors.New("sandbox: no command specified")
	}
	if !isRoot(spec.User) {
		return nil, fmt.Errorf("sandbox: user %q: every process runs as root: %w", spec.User, ErrUnsupported)
	}
	dir := spec.Dir
	if dir == "" {
		dir = "/"
	}
	if !path.IsAbs(dir) {
		return nil, fmt.Errorf("sandbox: working folder %q is not absolute", dir)
	}
	if fi, err := c.fs.Stat(dir); err != nil || !fi.IsDir() {
		return nil, fmt.Errorf("sandbox: working folder %q: not a folder in the container", dir)
	}
	// A command with nothing to run fails the start, as an OCI runtime's
	// does, rather than starting a process that exits 127.
	if err := c.shell.Resolve(spec.Args, spec.Env, dir); err != nil {
		return nil, err
	}
	stdin, err := stdinPipe(spec.Stdin)
	if err != nil {
		return nil, err
	}
	pctx, cancel := context.WithCancelCause(context.WithoutCancel(ctx))
	stdout, stderr := c.output(pctx, spec.Stdout), c.output(pctx, spec.Stderr)
	env := spec.Env
	if spec.TTY {
		stdout = c.output(pctx, &crlfWriter{w: spec.Stdout})
		stderr = stdout
		if !slices.ContainsFunc(env, func(kv string) bool { return strings.HasPrefix(kv, "TERM=") }) {
			env = append(slices.Clone(env), "TERM=xterm") // as Docker sets it for a terminal
		}
	}

	p := &Process{c: c, cancel: cancel, done: make(chan struct{})}
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		cancel(nil)
		return nil, errors.Join(errors.New("sandbox: container is closed"), closeStdin(stdin, spec.Stdin))
	}
	c.running[p] = struct{}{}
	c.mu.Unlock()

	go func() {
		defer close(p.done)
		p.status = c.shell.Run(pctx, shell.Command{
			Args: spec.Args, Env: env, Dir: dir,
			Stdin: stdin, Stdout: stdout, Stderr: stderr,
		})
		// A process that ends while paused (its last command had passed
		// the gate) is seen to end only after Unpause, or when killed.
		_ = c.gate.Wait(pctx)
		cancel(nil)
		if err := closeStdin(stdin, spec.Stdin); err != nil && spec.Stderr != nil {
			fmt.Fprintf(stderr, "sandbox: closing stdin: %v\n", err)
		}
		c.mu.Lock()
		delete(c.running, p)
		c.mu.Unlock()
	}()
	return p, nil
}

// stdinPipe gives the shell an *os.File: reads from a pipe can be cancelled
// with a deadline, reads from an arbitrary reader cannot. The copy ends at
// EOF (the writer's half-close) or when the process closes the pipe.
func stdinPipe(in io.Reader) (*os.File, error) {
	if in == nil {
		return nil, nil
	}
	r, w, err := os.Pipe()
	if err != nil {
		return nil, fmt.Errorf("sandbox: stdin pipe: %w", err)
	}
	go func() {
		_, err := io.Copy(w, in)
		_ = err // the process closed its end, or the source failed: either way input ends here
		_ = w.Close()
	}()
	return r, nil
}

func closeStdin(pipe *os.File, src io.Reader) error {
	var errs []error
	if pipe != nil {
		errs = append(errs, pipe.Close())
	}
	if c, ok := src.(io.Closer); ok {
		errs = append(errs, c.Close())
	}
	return errors.Join(errs...)
}

// Wait waits for the process to end and returns its exit status, or ctx's
// error if ctx ends first.
func (p *Process) Wait(ctx context.Context) (int, error) {
	select {
	case <-p.done:
		return p.status, nil
	case <-ctx.Done():
		return 0, ctx.Err()
	}
}

// Done is closed when the process has ended.
func (p *Process) Done() <-chan struct{} { return p.done }

// Signal delivers a signal. Signals whose default action ends a process end
// it, with status 128+n; those whose default is to be ignored (SIGCHLD,
// SIGWINCH, SIGURG, SIGCONT) are ignored, as by a process without handlers;
// stop signals are refused: the sandbox cannot suspend a process.
func (p *Process) Signal(sig syscall.Signal) error {
	select {
	case <-p.done:
		return ErrProcessDone
	default:
	}
	switch sig {
	case 0:
		return nil
	case syscall.SIGCHLD, syscall.SIGWINCH, syscall.SIGURG, syscall.SIGCONT:
		return nil
	case syscall.SIGSTOP, syscall.SIGTSTP, syscall.SIGTTIN, syscall.SIGTTOU:
		return fmt.Errorf("sandbox: signal %v would stop the process: %w", sig, ErrUnsupported)
	}
	p.cancel(shell.SignalError{Signal: sig})
	return nil
}

// Resize records the terminal size. The userland draws no full-screen
// output, so the size is kept for inspection only.
func (p *Process) Resize(width, height uint16) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.width, p.height = width, height
	return nil
}

// Size returns the last size given to Resize.
func (p *Process) Size() (width, height uint16) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.width, p.height
}

func isRoot(user string) bool {
	switch user {
	case "", "root", "0", "0:0", "root:root", "root:0", "0:root":
		return true
	}
	return false
}

// output is a process's stdout or stderr as the container's processes
// write it (see syncWriter).
func (c *Container) output(ctx context.Context, w io.Writer) io.Writer {
	if w == nil {
		return io.Discard
	}
	return &syncWriter{w: w, ctx: ctx, gate: &c.gate}
}

// syncWriter serialises writes: background jobs, pipes and helpers of one
// process write to the same stream from several goroutines. Each write is
// an effect at the container's pause gate, so no output appears after
// Pause has returned.
type syncWriter struct {
	ctx  context.Context
	gate *wasm.Gate

	mu sync.Mutex
	w  io.Writer
}

func (s *syncWriter) Write(b []byte) (int, error) {
	leave, err := s.gate.Enter(s.ctx)
	if err != nil {
		return 0, err
	}
	defer leave()
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.w.Write(b)
}

// crlfWriter does what a terminal's ONLCR does to output.
type crlfWriter struct{ w io.Writer }

func (c *crlfWriter) Write(b []byte) (int, error) {
	if c.w == nil {
		return len(b), nil
	}
	if _, err := c.w.Write(bytes.ReplaceAll(b, []byte("\n"), []byte("\r\n"))); err != nil {
		return 0, err
	}
	return len(b), nil
}
