package docker

import (
	"context"
	"io"
	"strconv"
	"syscall"
	"time"

	"github.com/moby/moby/api/pkg/stdcopy"
	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/client"

	"github.com/sockerless/sockerless/internal/backend"
	"github.com/sockerless/sockerless/internal/errdefs"
)

// Start starts the container's main process (p.Main) or an exec.
func (b *Backend) Start(ctx context.Context, h backend.Handle, p backend.ProcessSpec, stdio backend.Stdio) (backend.Process, error) {
	if p.Main {
		return b.startMain(ctx, h, stdio)
	}
	return b.startExec(ctx, h, p, stdio)
}

// mainProcess is a run of the container's main process.
type mainProcess struct {
	b  *Backend
	id string
	// exited receives the engine's wait result; copied is closed when the
	// attached streams have been written out.
	exited <-chan container.WaitResponse
	errc   <-chan error
	cancel context.CancelFunc
	copied chan struct{}
	conn   *client.HijackedResponse
}

// startMain registers a wait for the next exit and attaches before the
// start, as docker run does, so that neither a quick exit nor the first
// bytes of output are missed. The process is the container's own (its
// Config at create); p's fields are the same and not sent again.
func (b *Backend) startMain(ctx context.Context, h backend.Handle, stdio backend.Stdio) (backend.Process, error) {
	mp, err := b.attachMain(ctx, engineID(h), container.WaitConditionNextExit, stdio)
	if err != nil {
		return nil, err
	}
	if _, err := b.cli.ContainerStart(ctx, mp.id, client.ContainerStartOptions{}); err != nil {
		mp.stop()
		// The engine records an exit code for a start that failed.
		if res, ierr := b.cli.ContainerInspect(ctx, mp.id, client.ContainerInspectOptions{}); ierr == nil && res.Container.State != nil && res.Container.State.ExitCode != 0 {
			return nil, &backend.StartError{Code: res.Container.State.ExitCode, Err: fromEngine(err)}
		}
		return nil, fromEngine(err)
	}
	return mp, nil
}

// Reattach implements backend.Reattacher: a container that still runs on
// the engine is attached to again; one that ended while the daemon was
// away reports the engine's exit code and time.
func (b *Backend) Reattach(ctx context.Context, h backend.Handle, stdio backend.Stdio) (backend.Process, backend.Exit, error) {
	mp, err := b.attachMain(ctx, engineID(h), container.WaitConditionNotRunning, stdio)
	if err != nil {
		return nil, backend.Exit{}, err
	}
	res, err := b.cli.ContainerInspect(ctx, mp.id, client.ContainerInspectOptions{})
	if err != nil {
		mp.stop()
		return nil, backend.Exit{}, fromEngine(err)
	}
	if st := res.Container.State; st == nil || !st.Running {
		mp.stop()
		exit := backend.Exit{Code: 255}
		if st != nil {
			exit.Code = st.ExitCode
			exit.At, _ = time.Parse(time.RFC3339Nano, st.FinishedAt) // zero when the engine has none
		}
		return nil, exit, nil
	}
	return mp, backend.Exit{}, nil
}

// attachMain registers a wait for cond and attaches to the container's
// streams. dockerd sends the wait's headers once the waiter is registered,
// and ContainerWait returns after the headers.
func (b *Backend) attachMain(ctx context.Context, id string, cond container.WaitCondition, stdio backend.Stdio) (*mainProcess, error) {
	// The wait and the attach outlive the request that started the process.
	wctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	wait := b.cli.ContainerWait(wctx, id, client.ContainerWaitOptions{Condition: cond})
	att, err := b.cli.ContainerAttach(wctx, id, client.ContainerAttachOptions{
		Stream: true, Stdin: stdio.Stdin != nil, Stdout: stdio.Stdout != nil, Stderr: stdio.Stderr != nil,
	})
	if err != nil {
		cancel()
		return nil, fromEngine(err)
	}
	mp := &mainProcess{b: b, id: id, exited: wait.Result, errc: wait.Error, cancel: cancel, copied: make(chan struct{}), conn: &att.HijackedResponse}
	go b.pumpStdin(stdio.Stdin, &att.HijackedResponse)
	go func() {
		defer close(mp.copied)
		defer att.Close()
		if err := copyOutput(att.Reader, stdio); err != nil {
			b.log.Debug("attach stream ended", "engine_id", id, "err", err)
		}
	}()
	return mp, nil
}

// Wait returns the engine's exit code once the output is written out.
func (p *mainProcess) Wait(ctx context.Context) (backend.Exit, error) {
	var code int
	select {
	case res := <-p.exited:
		if res.Error != nil && res.Error.Message != "" {
			p.b.log.Warn("engine reported a wait error", "engine_id", p.id, "err", res.Error.Message)
		}
		code = int(res.StatusCode)
	case err := <-p.errc:
		p.stop()
		return backend.Exit{}, fromEngine(err)
	case <-ctx.Done():
		p.stop()
		return backend.Exit{}, ctx.Err()
	}
	select {
	case <-p.copied:
	case <-ctx.Done():
		p.stop()
		return backend.Exit{}, ctx.Err()
	}
	p.cancel()
	return backend.Exit{Code: code, At: time.Now()}, nil
}

// stop ends the wait and the attach (the container keeps running): the
// hijacked connection is not tied to the context once established.
func (p *mainProcess) stop() {
	p.cancel()
	p.conn.Close()
	<-p.copied
}

// Signal sends sig with ContainerKill; an ended container is not an error.
func (p *mainProcess) Signal(ctx context.Context, sig syscall.Signal) error {
	_, err := p.b.cli.ContainerKill(ctx, p.id, client.ContainerKillOptions{Signal: strconv.Itoa(int(sig))})
	err = fromEngine(err)
	if errdefs.IsConflict(err) {
		running, ierr := p.b.running(ctx, p.id)
		if ierr == nil && !running {
			return nil
		}
	}
	return err
}

// Resize implements backend.Process.
func (p *mainProcess) Resize(ctx context.Context, width, height uint) error {
	_, err := p.b.cli.ContainerResize(ctx, p.id, client.ContainerResizeOptions{Height: height, Width: width})
	return fromEngine(err)
}

// running asks the engine whether a container runs.
func (b *Backend) running(ctx context.Context, id string) (bool, error) {
	res, err := b.cli.ContainerInspect(ctx, id, client.ContainerInspectOptions{})
	if err != nil {
		return false, fromEngine(err)
	}
	return res.Container.State != nil && res.Container.State.Running, nil
}

// execProcess is an exec on the engine.
type execProcess struct {
	b      *Backend
	id     string
	copied chan struct{}
	conn   *client.HijackedResponse // nil when detached
}

// startExec creates and starts an exec. With any stream attached the start
// is hijacked and the streams are proxied as they come; otherwise it is
// started detached.
func (b *Backend) startExec(ctx context.Context, h backend.Handle, p backend.ProcessSpec, stdio backend.Stdio) (backend.Process, error) {
	attached := stdio.Stdin != nil || stdio.Stdout != nil || stdio.Stderr != nil
	res, err := b.cli.ExecCreate(ctx, engineID(h), client.ExecCreateOptions{
		Cmd: p.Args, Env: p.Env, WorkingDir: p.Dir, User: p.User, TTY: stdio.TTY,
		AttachStdin: stdio.Stdin != nil, AttachStdout: stdio.Stdout != nil, AttachStderr: stdio.Stderr != nil,
	})
	if err != nil {
		return nil, fromEngine(err)
	}
	x := &execProcess{b: b, id: res.ID, copied: make(chan struct{})}
	if !attached {
		close(x.copied)
		if _, err := b.cli.ExecStart(ctx, res.ID, client.ExecStartOptions{Detach: true, TTY: stdio.TTY}); err != nil {
			return nil, fromEngine(err)
		}
		return x, nil
	}
	att, err := b.cli.ExecAttach(context.WithoutCancel(ctx), res.ID, client.ExecAttachOptions{TTY: stdio.TTY})
	if err != nil {
		return nil, fromEngine(err)
	}
	x.conn = &att.HijackedResponse
	go b.pumpStdin(stdio.Stdin, x.conn)
	go func() {
		defer close(x.copied)
		if err := copyOutput(att.Reader, stdio); err != nil {
			b.log.Debug("exec stream ended", "exec_id", res.ID, "err", err)
		}
	}()
	return x, nil
}

// Wait waits for the streams to end, then for the engine to record the
// exit code (it may lag the end of the streams by a moment).
func (x *execProcess) Wait(ctx context.Context) (backend.Exit, error) {
	select {
	case <-x.copied:
	case <-ctx.Done():
		if x.conn != nil {
			x.conn.Close()
		}
		return backend.Exit{}, ctx.Err()
	}
	if x.conn != nil {
		x.conn.Close()
	}
	delay := 5 * time.Millisecond
	for {
		res, err := x.b.cli.ExecInspect(ctx, x.id, client.ExecInspectOptions{})
		if err != nil {
			return backend.Exit{}, fromEngine(err)
		}
		if !res.Running {
			return backend.Exit{Code: res.ExitCode, At: time.Now()}, nil
		}
		select {
		case <-ctx.Done():
			return backend.Exit{}, ctx.Err()
		case <-time.After(delay):
		}
		delay = min(2*delay, time.Second)
	}
}

// Signal is refused: the Docker API has no way to signal an exec.
func (x *execProcess) Signal(ctx context.Context, sig syscall.Signal) error {
	res, err := x.b.cli.ExecInspect(ctx, x.id, client.ExecInspectOptions{})
	if err == nil && !res.Running {
		return nil
	}
	return errdefs.NotImplemented("signalling an exec is not supported by the docker backend: the Docker Engine API has no call for it")
}

// Resize implements backend.Process.
func (x *execProcess) Resize(ctx context.Context, width, height uint) error {
	_, err := x.b.cli.ExecResize(ctx, x.id, client.ExecResizeOptions{Height: height, Width: width})
	return fromEngine(err)
}

// pumpStdin copies the client's stdin to the engine and half-closes the
// connection at its end, which is the process's end of input.
func (b *Backend) pumpStdin(stdin io.Reader, conn *client.HijackedResponse) {
	if stdin == nil {
		return
	}
	_, err := io.Copy(conn.Conn, stdin)
	if err == nil {
		err = conn.CloseWrite()
	}
	if err != nil {
		// The process or the client went away; the output side ends too.
		b.log.Debug("stdin not delivered to the end", "err", err)
	}
}

// copyOutput writes the stream to stdio as it comes: raw with a TTY,
// demultiplexed otherwise. Streams the engine was not asked for are empty.
func copyOutput(r io.Reader, stdio backend.Stdio) error {
	stdout, stderr := stdio.Stdout, stdio.Stderr
	if stdout == nil {
		stdout = io.Discard
	}
	if stderr == nil {
		stderr = io.Discard
	}
	var err error
	if stdio.TTY {
		_, err = io.Copy(stdout, r)
	} else {
		_, err = stdcopy.StdCopy(stdout, stderr, r)
	}
	return err
}

var (
	_ backend.Reattacher = (*Backend)(nil)
	_ backend.Process    = (*mainProcess)(nil)
	_ backend.Process    = (*execProcess)(nil)
)
