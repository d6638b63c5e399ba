package engine

import (
	"context"
	"io"

	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/events"
	"github.com/moby/term"

	"github.com/sockerless/sockerless/internal/errdefs"
)

// AttachOptions connect a client to a container's main process.
type AttachOptions struct {
	// Logs replays the log first; Stream follows the live process.
	Logs, Stream bool
	// DetachKeys end the client's session without ending its input to
	// the process; empty means Docker's default, ctrl-p,ctrl-q.
	DetachKeys string
	// Attach takes over the client's connection and returns its streams; it
	// is called once the client is registered with the container.
	Attach func() (stdin io.Reader, stdout, stderr io.Writer, err error)
}

// ContainerAttach connects a client. Attached before start, it waits for
// the start (the GitLab runner pattern, and `docker start -a`); attached to
// a running container it joins the current run. It returns when the run
// ends or the client goes.
func (e *Engine) ContainerAttach(ctx context.Context, name string, opts AttachOptions) error {
	c, err := e.lookup(name)
	if err != nil {
		return err
	}
	keys := opts.DetachKeys
	if keys == "" {
		keys = defaultDetachKeys
	}
	detach, err := term.ToBytes(keys)
	if err != nil {
		return errdefs.InvalidParameter("Invalid detach keys (%s) provided", opts.DetachKeys)
	}
	var s *attachSession
	if opts.Stream {
		s = newAttachSession()
		c.mu.Lock()
		switch {
		case c.run != nil:
			run := c.run
			c.mu.Unlock()
			run.add(s)
		case c.rec.State.Status == container.StateRemoving || c.removed:
			c.mu.Unlock()
			return errdefs.Conflict("container %s is being removed", c.rec.ID)
		default:
			// As with dockerd, the streams wait for the next run.
			c.pendingAttach = append(c.pendingAttach, s)
			c.mu.Unlock()
		}
	}
	stdin, stdout, stderr, err := opts.Attach()
	if err != nil {
		if s != nil {
			s.finish()
		}
		return err
	}
	if opts.Logs {
		if err := c.writeLogs(ctx, LogOptions{Stdout: stdout != nil, Stderr: stderr != nil, Tail: -1}, orDiscard(stdout), orDiscard(stderr)); err != nil {
			return err
		}
	}
	// As dockerd: the event follows the log replay, before the streams.
	e.events.Publish(events.ContainerEventType, events.ActionAttach, c.rec.ID, c.attrs())
	if s == nil {
		return nil
	}
	if stdin != nil {
		stdin = term.NewEscapeProxy(stdin, detach)
	}
	if err := s.setStreams(stdin, stdout, stderr); err != nil {
		s.finish()
		return nil // the client went away
	}
	select {
	case <-s.done:
	case <-ctx.Done():
		s.finish()
	}
	return nil
}

const defaultDetachKeys = "ctrl-p,ctrl-q"

func orDiscard(w io.Writer) io.Writer {
	if w == nil {
		return io.Discard
	}
	return w
}

// ContainerLogs writes a container's log records.
func (e *Engine) ContainerLogs(ctx context.Context, name string, opts LogOptions, stdout, stderr io.Writer) error {
	c, err := e.lookup(name)
	if err != nil {
		return err
	}
	if !opts.Stdout && !opts.Stderr {
		return errdefs.InvalidParameter("Bad parameters: you must choose at least one stream")
	}
	return c.writeLogs(ctx, opts, stdout, stderr)
}

// ContainerResize resizes the main process's terminal.
func (e *Engine) ContainerResize(ctx context.Context, name string, height, width uint) error {
	c, err := e.lookup(name)
	if err != nil {
		return err
	}
	c.mu.Lock()
	proc := c.proc
	c.mu.Unlock()
	if proc == nil {
		return errdefs.Conflict("container %s is not running", c.rec.ID)
	}
	return proc.Resize(ctx, width, height)
}
