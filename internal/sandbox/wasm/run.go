package wasm

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime"
	"strings"
	"time"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/experimental"
	"github.com/tetratelabs/wazero/experimental/sysfs"
	"github.com/tetratelabs/wazero/sys"
	"golang.org/x/sys/unix"

	"github.com/sockerless/sockerless/internal/sandbox/confine"
)

// Spawner runs a command line in the same container on behalf of a guest
// (BusyBox xargs, find -exec, awk system() and pipes). It returns the
// command's exit status.
type Spawner func(ctx context.Context, argv []string, stdin io.Reader, stdout, stderr io.Writer) int

// Spec is one command to run.
type Spec struct {
	Module *Module
	// Args is the argv the guest sees; Args[0] selects a BusyBox applet.
	Args []string
	// Env is KEY=VALUE pairs. PWD is set from Dir.
	Env []string
	// Dir is the guest working folder (absolute).
	Dir string
	// Stdin may be nil (the guest reads EOF). An *os.File is read with a
	// deadline so that cancellation ends a blocked read.
	Stdin          io.Reader
	Stdout, Stderr io.Writer
	FS             *confine.FS
	// Spawn serves the sandbox.spawn_wait and sandbox.popen imports; nil
	// makes them fail in the guest.
	Spawn Spawner
	// Usage, when set, accounts the instance's memory and CPU time.
	Usage *Usage
	// Gate, when set, is the container's pause gate: every host call of
	// the guest passes it.
	Gate *Gate
}

// Run instantiates the module, runs _start, and returns the exit status. A
// cancelled ctx ends the guest; the error is then ctx's cause.
func (r *Runtime) Run(ctx context.Context, spec Spec) (int, error) {
	// A write to a pipe nobody reads any more ends the guest, as SIGPIPE's
	// default action would: `yes | head -1` must finish.
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	spec.Stdout = pipeWatch(heldWriter(ctx, spec.Gate, spec.Stdout), cancel)
	spec.Stderr = pipeWatch(heldWriter(ctx, spec.Gate, spec.Stderr), cancel)
	st := &run{spec: spec, ctx: ctx, pipes: map[int32]*pipe{}}
	defer st.closePipes()
	stdin, undo := cancellableStdin(ctx, spec.Stdin)
	defer undo()
	if spec.Gate != nil && spec.Stdin != nil {
		stdin = &heldReader{ctx: ctx, gate: spec.Gate, r: stdin}
	}
	gate := spec.Gate
	mc := wazero.NewModuleConfig().
		WithName(""). // anonymous: many instances of one module at once
		WithStartFunctions().
		WithArgs(spec.Args...).
		WithStdin(stdin).
		WithStdout(orDiscard(spec.Stdout)).
		WithStderr(orDiscard(spec.Stderr)).
		WithFSConfig(wazero.NewFSConfig().(sysfs.FSConfig).WithSysFSMount(&guestFS{fs: spec.FS, run: st}, "/")).
		// The clocks and sleep hold a paused guest: a sleep that ends while
		// paused wakes only after Unpause, as a frozen process does.
		WithWalltime(func() (int64, int32) {
			_ = gate.Wait(ctx) // killed while held: the guest is closing
			t := time.Now()
			return t.Unix(), int32(t.Nanosecond())
		}, sys.ClockResolution(time.Microsecond)).
		WithNanotime(func() int64 {
			_ = gate.Wait(ctx)
			return int64(time.Since(monotonicEpoch))
		}, sys.ClockResolution(1)).
		WithNanosleep(func(ns int64) {
			sleepCtx(ctx, time.Duration(ns))
			_ = gate.Wait(ctx)
		}).
		WithRandSource(randReader{})
	for _, kv := range spec.Env {
		k, v, _ := strings.Cut(kv, "=")
		if k != "PWD" {
			mc = mc.WithEnv(k, v)
		}
	}
	mc = mc.WithEnv("PWD", spec.Dir) // WASI has no cwd; the patched BusyBox and Go's wasip1 read $PWD

	ictx := ctx
	if spec.Usage != nil {
		ictx = experimental.WithMemoryAllocator(ctx, spec.Usage)
	}
	mod, err := r.rt.InstantiateModule(ictx, spec.Module.compiled, mc)
	if err != nil {
		return 0, fmt.Errorf("wasm: instantiate %s: %w", spec.Args[0], err)
	}
	defer mod.Close(context.WithoutCancel(ctx))
	start := mod.ExportedFunction("_start")
	if start == nil {
		return 0, fmt.Errorf("wasm: %s: module has no _start (not a WASI command)", spec.Args[0])
	}

	runtime.LockOSThread() // the thread's CPU clock measures the guest
	defer runtime.UnlockOSThread()
	done := spec.Usage.begin()
	_, err = start.Call(context.WithValue(ctx, runKey{}, st))
	done()
	return exitStatus(ctx, err)
}

// StatusBrokenPipe is the status of a guest that wrote to a broken pipe:
// 128 + SIGPIPE, as a shell reports a process killed by it.
const StatusBrokenPipe = 128 + int(unix.SIGPIPE)

var errBrokenPipe = errors.New("wasm: write to a broken pipe")

func exitStatus(ctx context.Context, err error) (int, error) {
	if errors.Is(context.Cause(ctx), errBrokenPipe) {
		return StatusBrokenPipe, nil
	}
	if err == nil {
		return 0, nil
	}
	var ee *sys.ExitError
	if errors.As(err, &ee) {
		switch ee.ExitCode() {
		case sys.ExitCodeContextCanceled, sys.ExitCodeDeadlineExceeded:
			return 0, context.Cause(ctx)
		}
		if ctx.Err() != nil {
			return 0, context.Cause(ctx)
		}
		return int(ee.ExitCode() & 0xff), nil
	}
	if ctx.Err() != nil {
		return 0, context.Cause(ctx)
	}
	return 0, fmt.Errorf("wasm: guest trapped: %w", err)
}

// cancellableStdin hides an *os.File behind a plain reader — wazero would
// otherwise read its raw fd, out of reach of Go's poller — and sets a read
// deadline when ctx ends, so a guest blocked on stdin wakes up. The deadline
// is cleared afterwards: the file is shared with the rest of the script.
func cancellableStdin(ctx context.Context, in io.Reader) (io.Reader, func()) {
	if in == nil {
		return eofReader{}, func() {}
	}
	f, ok := in.(*os.File)
	if !ok {
		return in, func() {}
	}
	stop := context.AfterFunc(ctx, func() { _ = f.SetReadDeadline(time.Now()) })
	return struct{ io.Reader }{f}, func() {
		if !stop() {
			_ = f.SetReadDeadline(time.Time{}) // not pollable files report an error: nothing to clear
		}
	}
}

// monotonicEpoch makes the guest's monotonic clock: time.Since reads Go's
// monotonic clock.
var monotonicEpoch = time.Now()

// heldReader holds a paused guest before and after each read of stdin: input
// that arrives while paused is taken up only after Unpause.
type heldReader struct {
	ctx  context.Context
	gate *Gate
	r    io.Reader
}

func (h *heldReader) Read(b []byte) (int, error) {
	if err := h.gate.Wait(h.ctx); err != nil {
		return 0, err
	}
	n, err := h.r.Read(b)
	if gerr := h.gate.Wait(h.ctx); gerr != nil {
		return n, gerr
	}
	return n, err
}

// heldWriter holds a paused guest before each write to stdout or stderr.
// The write itself is not an effect Pause waits for: these are often pipes
// to another command, which may not read until it is unpaused.
func heldWriter(ctx context.Context, g *Gate, w io.Writer) io.Writer {
	if g == nil || w == nil {
		return w
	}
	return writerFunc(func(b []byte) (int, error) {
		if err := g.Wait(ctx); err != nil {
			return 0, err
		}
		return w.Write(b)
	})
}

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(b []byte) (int, error) { return f(b) }

func sleepCtx(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-ctx.Done():
	}
}

// pipeWatch reports EPIPE on w as the guest's end.
func pipeWatch(w io.Writer, cancel context.CancelCauseFunc) io.Writer {
	if w == nil {
		return io.Discard
	}
	return &epipeWriter{w: w, cancel: cancel}
}

type epipeWriter struct {
	w      io.Writer
	cancel context.CancelCauseFunc
}

func (e *epipeWriter) Write(b []byte) (int, error) {
	n, err := e.w.Write(b)
	if errors.Is(err, unix.EPIPE) {
		e.cancel(errBrokenPipe)
	}
	return n, err
}

func orDiscard(w io.Writer) io.Writer {
	if w == nil {
		return io.Discard
	}
	return w
}

type eofReader struct{}

func (eofReader) Read([]byte) (int, error) { return 0, io.EOF }

type randReader struct{}

func (randReader) Read(p []byte) (int, error) { return unix.Getrandom(p, 0) }
