package engine

import (
	"context"

	"github.com/moby/moby/api/types/container"

	"github.com/sockerless/sockerless/internal/errdefs"
)

// ContainerWait waits for a condition: not-running (the default; returns at
// once for a container that is not running), next-exit (the next exit, even
// of a container not started yet), or removed.
func (e *Engine) ContainerWait(ctx context.Context, name string, cond container.WaitCondition) (<-chan container.WaitResponse, error) {
	c, err := e.lookup(name)
	if err != nil {
		return nil, err
	}
	switch cond {
	case "", container.WaitConditionNotRunning, container.WaitConditionNextExit, container.WaitConditionRemoved:
	default:
		return nil, errdefs.InvalidParameter("invalid condition: %q", cond)
	}
	c.mu.Lock()
	startExits := c.exits
	c.mu.Unlock()
	out := make(chan container.WaitResponse, 1)
	go func() {
		defer close(out)
		for {
			c.mu.Lock()
			rec, changed, exits, removed := c.rec, c.changed, c.exits, c.removed
			c.mu.Unlock()
			done := false
			switch cond {
			case container.WaitConditionNextExit:
				done = exits > startExits
			case container.WaitConditionRemoved:
				done = removed
			default:
				done = !rec.State.Running && !rec.State.Restarting
			}
			if done {
				resp := container.WaitResponse{StatusCode: int64(rec.State.ExitCode)}
				if rec.State.Error != "" {
					resp.Error = &container.WaitExitError{Message: rec.State.Error}
				}
				out <- resp
				return
			}
			select {
			case <-changed:
			case <-ctx.Done():
				return
			}
		}
	}()
	return out, nil
}
