package engine

import (
	"context"
	"errors"
	"maps"
	"strconv"
	"syscall"
	"time"

	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/events"

	"github.com/sockerless/sockerless/internal/backend"
	"github.com/sockerless/sockerless/internal/errdefs"
)

// ContainerStart starts a created or exited container.
func (e *Engine) ContainerStart(ctx context.Context, name string) error {
	c, err := e.lookup(name)
	if err != nil {
		return err
	}
	rec, _ := c.snapshot()
	err = e.start(ctx, c, true)
	if err != nil && !errdefs.IsNotModified(err) && rec.HostConfig.AutoRemove {
		// As dockerd: a --rm container that cannot start is removed, so a
		// client waiting for "removed" is not left hanging.
		return errors.Join(err, e.remove(ctx, c, true, true))
	}
	return err
}

// start runs the container's main process; manual is a user's start (it
// clears the manually-stopped mark of unless-stopped). As dockerd, the
// container's endpoints exist from its start to the end of the run.
func (e *Engine) start(ctx context.Context, c *ctr, manual bool) error {
	if err := e.activateEndpoints(ctx, c); err != nil {
		return err
	}
	err := e.startProcess(ctx, c, manual)
	if err != nil {
		// A container that did not start has no endpoints (one already
		// running keeps its own: deactivateEndpoints leaves it).
		err = errors.Join(err, e.deactivateEndpoints(ctx, c))
	}
	return err
}

func (e *Engine) startProcess(ctx context.Context, c *ctr, manual bool) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.removed {
		return errdefs.NotFound("No such container: %s", c.rec.ID)
	}
	if c.rec.State.Running {
		return errdefs.NotModified("container %s is already running", c.rec.ID)
	}
	if c.rec.State.Status == container.StateRemoving {
		return errdefs.Conflict("container is marked for removal and cannot be started")
	}
	if mode := c.rec.HostConfig.NetworkMode; mode.IsContainer() {
		peer, err := e.lookup(mode.ConnectedContainer())
		if err != nil {
			return errdefs.Conflict("cannot join network namespace of container %s: %v", mode.ConnectedContainer(), err)
		}
		if prec, _ := peer.snapshot(); !prec.State.Running {
			return errdefs.Conflict("cannot join network of a non running container: %s", prec.ID)
		}
	}
	if err := c.logs.open(); err != nil {
		return err
	}
	run, stdio := c.newRun()
	// Attached clients join the run before the process can write.
	for _, s := range c.pendingAttach {
		run.add(s)
	}
	proc, err := e.cfg.Backend.Start(context.WithoutCancel(ctx), c.rec.Handle, backend.ProcessSpec{
		Args: append([]string{c.rec.Path}, c.rec.Args...),
		Env:  c.rec.Config.Env, Dir: c.rec.Config.WorkingDir, User: c.rec.Config.User, Main: true,
	}, stdio)
	if err != nil {
		run.end() // the attached clients see the end of their streams
		c.pendingAttach = nil
		if refused, status, ok := startRefused(err, startRefusedPrefix); ok {
			// As dockerd: the container keeps its status (created, or
			// exited) with the command's exit status and the reason.
			err = refused
			c.rec.State.ExitCode = status
		}
		c.rec.State.Error = err.Error()
		return errorsJoinPersist(c, err)
	}
	c.pendingAttach = nil
	c.proc, c.run, c.stopping, c.restarting = proc, run, false, false
	if manual {
		c.rec.ManuallyStopped = false
	}
	c.rec.State = container.State{
		Status: container.StateRunning, Running: true,
		StartedAt: now(), FinishedAt: zeroTime, Health: c.rec.State.Health,
	}
	c.rec.Endpoints = joined(c.rec.Endpoints)
	if err := c.persist(); err != nil {
		return err
	}
	c.notify()
	e.events.Publish(events.ContainerEventType, events.ActionStart, c.rec.ID, c.attrs())
	c.startHealth()
	e.goBackground(func(bg context.Context) { e.waitExit(bg, c, proc, run) })
	return nil
}

// newRun makes the I/O hub of a run of the main process and the stdio
// that connects the process to it; callers hold c.mu.
func (c *ctr) newRun() (*runIO, backend.Stdio) {
	run := newRunIO(c.rec.Config.OpenStdin, c.rec.Config.StdinOnce)
	run.stdout = &streamWriter{c: c, stream: "stdout", run: run}
	run.stderr = &streamWriter{c: c, stream: "stderr", run: run}
	stdio := backend.Stdio{Stdout: run.stdout, Stderr: run.stderr, TTY: c.rec.Config.Tty}
	if run.stdinR != nil {
		stdio.Stdin = run.stdinR
	}
	return run, stdio
}

func errorsJoinPersist(c *ctr, err error) error {
	if perr := c.persist(); perr != nil {
		return perr
	}
	return err
}

// waitExit records the end of a run and applies the restart policy.
func (e *Engine) waitExit(ctx context.Context, c *ctr, proc backend.Process, run *runIO) {
	exit, err := proc.Wait(ctx)
	if err != nil {
		return // the daemon is stopping; the record is fixed on the next start
	}
	run.stdout.flush()
	run.stderr.flush()
	run.end()
	c.mu.Lock()
	c.proc, c.run = nil, nil
	c.stopHealth()
	c.rec.State.Running, c.rec.State.Paused = false, false
	c.rec.State.Status = container.StateExited
	c.rec.State.ExitCode = exit.Code
	c.rec.State.FinishedAt = now()
	c.exits++
	restart := !c.stopping && !c.removed && shouldRestart(c.rec)
	if restart {
		c.rec.State.Restarting = true
		c.rec.State.Status = container.StateRestarting
		c.rec.RestartCount++
	}
	autoRemove := c.rec.HostConfig.AutoRemove && !restart && !c.restarting
	// An auto-removed container's exit is not written: the removal follows
	// at once, and a daemon that dies in between removes the container when
	// it starts again (see New), as dockerd does. That saves a store commit
	// (two fsyncs) on every `docker run --rm`.
	if !autoRemove {
		if err := c.persist(); err != nil {
			e.log.Error("container exit not persisted", "container_id", c.rec.ID, "err", err)
		}
	}
	c.notify()
	attrs := c.attrs()
	attrs["exitCode"] = strconv.Itoa(exit.Code)
	// Whole seconds the process ran, as dockerd's die event carries.
	if started, err := time.Parse(time.RFC3339Nano, c.rec.State.StartedAt); err == nil {
		attrs["execDuration"] = strconv.Itoa(int(time.Since(started).Seconds()))
	}
	count := c.rec.RestartCount
	c.mu.Unlock()
	c.logs.wake()
	// As dockerd: the endpoints go with the run, before the die event.
	if err := e.deactivateEndpoints(ctx, c); err != nil {
		e.log.Error("container endpoints not released", "container_id", c.rec.ID, "err", err)
	}
	e.events.Publish(events.ContainerEventType, events.ActionDie, c.rec.ID, attrs)

	switch {
	case autoRemove:
		if err := e.remove(ctx, c, true, true); err != nil {
			e.log.Warn("auto-remove failed", "container_id", c.rec.ID, "err", err)
		}
	case restart:
		delay := restartDelay(count)
		select {
		case <-time.After(delay):
		case <-ctx.Done():
			return
		}
		c.mu.Lock()
		c.rec.State.Restarting = false
		still := c.rec.State.Status == container.StateRestarting && !c.removed
		if still {
			c.rec.State.Status = container.StateExited
		}
		c.mu.Unlock()
		if still {
			if err := e.start(ctx, c, false); err != nil {
				e.log.Warn("restart failed", "container_id", c.rec.ID, "err", err)
			}
		}
	}
}

// shouldRestart applies the restart policy to an exit that was not a stop.
func shouldRestart(r record) bool {
	p := r.HostConfig.RestartPolicy
	switch p.Name {
	case container.RestartPolicyAlways:
		return true
	case container.RestartPolicyUnlessStopped:
		return !r.ManuallyStopped
	case container.RestartPolicyOnFailure:
		return r.State.ExitCode != 0 && (p.MaximumRetryCount == 0 || r.RestartCount < p.MaximumRetryCount)
	}
	return false
}

// policyRestartsAfterDaemon says whether a container comes back when the
// daemon starts: always (even after a docker stop, as Docker documents),
// and unless-stopped unless it was stopped.
func policyRestartsAfterDaemon(r record) bool {
	p := r.HostConfig.RestartPolicy.Name
	return p == container.RestartPolicyAlways || (p == container.RestartPolicyUnlessStopped && !r.ManuallyStopped)
}

// restartDelay doubles from 100 ms, as dockerd's restart manager does, up
// to a minute.
func restartDelay(count int) time.Duration {
	d := 100 * time.Millisecond
	for i := 1; i < count && d < time.Minute; i++ {
		d *= 2
	}
	return min(d, time.Minute)
}

// ContainerKill sends a signal (default SIGKILL).
func (e *Engine) ContainerKill(ctx context.Context, name, signal string) error {
	c, err := e.lookup(name)
	if err != nil {
		return err
	}
	sig := syscall.SIGKILL
	if signal != "" {
		s, ok := parseSignal(signal)
		if !ok || s == 0 {
			return errdefs.InvalidParameter("Invalid signal: %s", signal)
		}
		sig = s
	}
	c.mu.Lock()
	proc := c.proc
	if proc == nil {
		c.mu.Unlock()
		return errdefs.Conflict("container %s is not running", c.rec.ID)
	}
	// As dockerd: the next exit is not restarted when the signal is the
	// container's stop signal (any signal when it has none, and SIGKILL
	// always); the restart policy applies to an exit by any other signal.
	exitOnNext := true
	if c.rec.Config.StopSignal != "" && sig != syscall.SIGKILL {
		stopSig, ok := parseSignal(c.rec.Config.StopSignal)
		exitOnNext = ok && stopSig == sig
	}
	if exitOnNext {
		c.stopping = true
	}
	c.rec.ManuallyStopped = true
	if err := c.persist(); err != nil {
		c.mu.Unlock()
		return err
	}
	attrs := c.attrs()
	c.mu.Unlock()
	thawed := false
	if sig != syscall.SIGKILL {
		if thawed, err = e.thaw(ctx, c); err != nil {
			return err
		}
	}
	if err := proc.Signal(ctx, sig); err != nil {
		return err
	}
	killAttrs := maps.Clone(attrs)
	killAttrs["signal"] = strconv.Itoa(int(sig))
	e.events.Publish(events.ContainerEventType, events.ActionKill, c.rec.ID, killAttrs)
	if thawed {
		e.events.Publish(events.ContainerEventType, events.ActionUnPause, c.rec.ID, attrs)
	}
	if sig == syscall.SIGKILL {
		// As dockerd: a kill returns once the container has stopped, so
		// the next request sees it stopped (bounded, as dockerd's 10 s).
		c.waitStopped(context.WithoutCancel(ctx), 10)
	}
	return nil
}

// ContainerStop signals the container's stop signal, waits up to the
// timeout, then kills it.
func (e *Engine) ContainerStop(ctx context.Context, name, signal string, timeout *int) error {
	c, err := e.lookup(name)
	if err != nil {
		return err
	}
	c.mu.Lock()
	if !c.rec.State.Running {
		restarting := c.rec.State.Restarting
		if restarting {
			c.rec.State.Restarting, c.rec.State.Status = false, container.StateExited
			c.rec.ManuallyStopped = true
			err := c.persist()
			c.notify()
			c.mu.Unlock()
			return err
		}
		c.mu.Unlock()
		return errdefs.NotModified("container %s is already stopped", c.rec.ID)
	}
	c.stopping = true
	c.rec.ManuallyStopped = true
	proc := c.proc
	sigName := signal
	if sigName == "" {
		sigName = c.rec.Config.StopSignal
	}
	wait := 10
	if c.rec.Config.StopTimeout != nil {
		wait = *c.rec.Config.StopTimeout
	}
	if timeout != nil {
		wait = *timeout
	}
	attrs := c.attrs()
	c.mu.Unlock()
	sig := syscall.SIGTERM
	if sigName != "" {
		s, ok := parseSignal(sigName)
		if !ok || s == 0 {
			return errdefs.InvalidParameter("Invalid signal: %s", sigName)
		}
		sig = s
	}
	ctx = context.WithoutCancel(ctx) // a client hanging up never leaves a half-stopped container
	thawed := false
	if sig != syscall.SIGKILL {
		if thawed, err = e.thaw(ctx, c); err != nil {
			return err
		}
	}
	if err := proc.Signal(ctx, sig); err != nil {
		return err
	}
	if thawed {
		e.events.Publish(events.ContainerEventType, events.ActionUnPause, c.rec.ID, attrs)
	}
	if !c.waitStopped(ctx, wait) {
		if err := proc.Signal(ctx, syscall.SIGKILL); err != nil {
			return err
		}
		c.waitStopped(ctx, -1)
	}
	e.events.Publish(events.ContainerEventType, events.ActionStop, c.rec.ID, attrs)
	return nil
}

// waitStopped waits for the run to end, at most seconds (negative: no limit).
func (c *ctr) waitStopped(ctx context.Context, seconds int) bool {
	var limit <-chan time.Time
	if seconds >= 0 {
		t := time.NewTimer(time.Duration(seconds) * time.Second)
		defer t.Stop()
		limit = t.C
	}
	for {
		rec, changed := c.snapshot()
		if !rec.State.Running {
			return true
		}
		select {
		case <-changed:
		case <-limit:
			return false
		case <-ctx.Done():
			return false
		}
	}
}

// ContainerRestart stops (if running) and starts the container.
func (e *Engine) ContainerRestart(ctx context.Context, name, signal string, timeout *int) error {
	c, err := e.lookup(name)
	if err != nil {
		return err
	}
	c.mu.Lock()
	c.restarting = true
	c.mu.Unlock()
	if err := e.ContainerStop(ctx, c.rec.ID, signal, timeout); err != nil && !errdefs.IsNotModified(err) {
		c.mu.Lock()
		c.restarting = false
		c.mu.Unlock()
		return err
	}
	if err := e.start(ctx, c, true); err != nil {
		return err
	}
	e.events.Publish(events.ContainerEventType, events.ActionRestart, c.rec.ID, c.attrs())
	return nil
}
