package engine

import (
	"context"
	"io"
	"slices"
	"sync"

	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/events"

	"github.com/sockerless/sockerless/internal/backend"
	"github.com/sockerless/sockerless/internal/errdefs"
)

// execRecord is a docker exec: created, then started once.
type execRecord struct {
	id  string
	c   *ctr
	req container.ExecCreateRequest

	mu       sync.Mutex
	running  bool
	started  bool
	exitCode *int
	proc     backend.Process
	done     chan struct{}
}

// ExecCreate records an exec in a running container.
func (e *Engine) ExecCreate(ctx context.Context, name string, req container.ExecCreateRequest) (container.ExecCreateResponse, error) {
	c, err := e.lookup(name)
	if err != nil {
		return container.ExecCreateResponse{}, err
	}
	if len(req.Cmd) == 0 {
		return container.ExecCreateResponse{}, errdefs.InvalidParameter("No exec command specified")
	}
	c.mu.Lock()
	running, paused := c.rec.State.Running, c.rec.State.Paused
	c.mu.Unlock()
	if !running {
		return container.ExecCreateResponse{}, errdefs.Conflict("container %s is not running", c.rec.ID)
	}
	if paused {
		// dockerd's wording, with the name as the client gave it.
		return container.ExecCreateResponse{}, errdefs.Conflict("Container %s is paused, unpause the container before exec", name)
	}
	x := &execRecord{id: newID(), c: c, req: req, done: make(chan struct{})}
	e.mu.Lock()
	e.execs[x.id] = x
	e.mu.Unlock()
	attrs := c.attrs()
	attrs["execID"] = x.id
	e.events.Publish(events.ContainerEventType, events.Action("exec_create: "+joinArgs(req.Cmd)), c.rec.ID, attrs)
	return container.ExecCreateResponse{ID: x.id}, nil
}

func joinArgs(a []string) string {
	out := ""
	for i, s := range a {
		if i > 0 {
			out += " "
		}
		out += s
	}
	return out
}

func (e *Engine) execByID(id string) (*execRecord, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	x, ok := e.execs[id]
	if !ok {
		return nil, errdefs.NotFound("No such exec instance: %s", id)
	}
	return x, nil
}

// ExecStartOptions connect an exec.
type ExecStartOptions struct {
	Stdin          io.Reader
	Stdout, Stderr io.Writer
	Detach, TTY    bool
}

// ExecStart runs an exec; attached, it returns when the process has ended
// and its output is written.
func (e *Engine) ExecStart(ctx context.Context, id string, opts ExecStartOptions) error {
	x, err := e.execByID(id)
	if err != nil {
		return err
	}
	x.c.mu.Lock()
	paused, cid := x.c.rec.State.Paused, x.c.rec.ID
	x.c.mu.Unlock()
	if paused {
		// As dockerd: refused before the exec counts as started, so it
		// can be started after Unpause.
		return errdefs.Conflict("Container %s is paused, unpause the container before exec", cid)
	}
	x.mu.Lock()
	if x.started {
		x.mu.Unlock()
		return errdefs.Conflict("exec command %s has already run", id)
	}
	x.started = true
	x.mu.Unlock()
	c := x.c
	c.mu.Lock()
	rec := c.rec
	c.mu.Unlock()
	if !rec.State.Running {
		return errdefs.Conflict("container %s is not running", rec.ID)
	}
	stdio := backend.Stdio{TTY: x.req.Tty || opts.TTY}
	if !opts.Detach {
		if x.req.AttachStdin {
			stdio.Stdin = opts.Stdin
		}
		if x.req.AttachStdout {
			stdio.Stdout = opts.Stdout
		}
		if x.req.AttachStderr {
			stdio.Stderr = opts.Stderr
		}
	}
	dir := x.req.WorkingDir
	if dir == "" {
		dir = rec.Config.WorkingDir
	}
	user := x.req.User
	if user == "" {
		user = rec.Config.User
	}
	proc, err := e.cfg.Backend.Start(context.WithoutCancel(ctx), rec.Handle, backend.ProcessSpec{
		Args: x.req.Cmd, Env: mergeEnv(rec.Config.Env, x.req.Env), Dir: dir, User: user,
	}, stdio)
	if err != nil {
		code := 126
		if refused, status, ok := startRefused(err, execRefusedPrefix); ok {
			err, code = refused, status
		}
		x.mu.Lock()
		x.exitCode = &code
		x.mu.Unlock()
		close(x.done)
		return err
	}
	x.mu.Lock()
	x.running, x.proc = true, proc
	x.mu.Unlock()
	attrs := c.attrs()
	attrs["execID"] = x.id
	e.events.Publish(events.ContainerEventType, events.Action("exec_start: "+joinArgs(x.req.Cmd)), rec.ID, attrs)
	wait := func(ctx context.Context) {
		exit, err := proc.Wait(ctx)
		if err != nil {
			return
		}
		x.mu.Lock()
		x.running = false
		x.exitCode = &exit.Code
		x.mu.Unlock()
		close(x.done)
		attrs["exitCode"] = itoa(exit.Code)
		e.events.Publish(events.ContainerEventType, events.ActionExecDie, rec.ID, attrs)
	}
	if opts.Detach {
		e.goBackground(wait)
		return nil
	}
	wait(e.bgCtx)
	return nil
}

// ExecInspect reports an exec.
func (e *Engine) ExecInspect(ctx context.Context, id string) (container.ExecInspectResponse, error) {
	x, err := e.execByID(id)
	if err != nil {
		return container.ExecInspectResponse{}, err
	}
	x.mu.Lock()
	defer x.mu.Unlock()
	resp := container.ExecInspectResponse{
		ID: x.id, Running: x.running, ContainerID: x.c.rec.ID,
		OpenStdin: x.req.AttachStdin, OpenStdout: x.req.AttachStdout, OpenStderr: x.req.AttachStderr,
		ProcessConfig: &container.ExecProcessConfig{
			Tty: x.req.Tty, Entrypoint: x.req.Cmd[0], Arguments: slices.Clone(x.req.Cmd[1:]), User: x.req.User, Privileged: &x.req.Privileged,
		},
		DetachKeys: []byte(x.req.DetachKeys),
	}
	if x.exitCode != nil {
		code := *x.exitCode
		resp.ExitCode = &code
	}
	return resp, nil
}

// ExecResize resizes an exec's terminal.
func (e *Engine) ExecResize(ctx context.Context, id string, height, width uint) error {
	x, err := e.execByID(id)
	if err != nil {
		return err
	}
	if rec, _ := x.c.snapshot(); !rec.State.Running {
		return errdefs.Conflict("container %s is not running", rec.ID)
	}
	x.mu.Lock()
	proc, ended := x.proc, x.exitCode != nil
	x.mu.Unlock()
	switch {
	case proc == nil && ended:
		return errdefs.InvalidParameter("exec process is not started") // its start failed
	case proc == nil:
		return errdefs.Conflict("exec %s is not running", id)
	case ended:
		// dockerd passes containerd's answer on, with its class as the
		// prefix; clients see (and match) this message.
		return errdefs.NotFound("NotFound: process does not exist %s: not found", id)
	}
	return proc.Resize(ctx, width, height)
}

// execIDs lists a container's execs, for inspect.
func (e *Engine) execIDs(c *ctr) []string {
	e.mu.Lock()
	defer e.mu.Unlock()
	var ids []string
	for id, x := range e.execs {
		if x.c == c {
			ids = append(ids, id)
		}
	}
	return ids
}
