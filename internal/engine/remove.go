package engine

import (
	"context"
	"errors"
	"os"
	"strconv"
	"strings"

	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/events"
	"github.com/moby/moby/api/types/mount"

	"github.com/sockerless/sockerless/internal/errdefs"
	"github.com/sockerless/sockerless/internal/store"
)

// ContainerRemove removes a container; a running one only with force. With
// removeVolumes its anonymous volumes go too.
func (e *Engine) ContainerRemove(ctx context.Context, name string, force, removeVolumes bool) error {
	c, err := e.lookup(name)
	if err != nil {
		return err
	}
	return e.remove(ctx, c, force, removeVolumes)
}

// deleteRecord deletes a container's record from the store. An
// auto-removed container's record is deleted in the background: should the
// daemon die first, it removes the container when it starts again (see New),
// so the removal still holds, and `docker run --rm` does not wait for a
// store commit.
func (e *Engine) deleteRecord(rec record) error {
	if !rec.HostConfig.AutoRemove {
		return e.cfg.Store.Delete(store.Containers, rec.ID)
	}
	e.goBackground(func(context.Context) {
		if err := e.cfg.Store.Delete(store.Containers, rec.ID); err != nil {
			e.log.Error("removed container's record not deleted", "container_id", rec.ID, "err", err)
		}
	})
	return nil
}

func (e *Engine) remove(ctx context.Context, c *ctr, force, removeVolumes bool) error {
	ctx = context.WithoutCancel(ctx)
	c.mu.Lock()
	if c.removed {
		c.mu.Unlock()
		return nil
	}
	if c.rec.State.Running && !force {
		c.mu.Unlock()
		return errdefs.Conflict("cannot remove container %q: container is running: stop the container before removing or force remove", strings.TrimPrefix(c.rec.Name, "/"))
	}
	c.stopping = true
	proc := c.proc
	c.rec.State.Status = container.StateRemoving
	c.mu.Unlock()
	e.networks.barrier() // no /etc/hosts write reaches the workload after this
	if proc != nil {
		if err := proc.Signal(ctx, 9); err != nil {
			return err
		}
		c.waitStopped(ctx, -1)
	}
	c.mu.Lock()
	c.stopHealth()
	for _, s := range c.pendingAttach {
		s.finish()
	}
	c.pendingAttach = nil
	rec := c.rec
	c.mu.Unlock()
	if err := e.cfg.Backend.Remove(ctx, rec.Handle); err != nil && !errdefs.IsNotFound(err) {
		return err
	}
	if err := errors.Join(e.deleteRecord(rec), c.logs.remove(), os.RemoveAll(e.volumes.tmpfsDir(rec.ID))); err != nil {
		return err
	}
	e.mu.Lock()
	delete(e.containers, rec.ID)
	delete(e.names, rec.Name)
	for id, x := range e.execs {
		if x.c == c {
			delete(e.execs, id)
		}
	}
	e.mu.Unlock()
	c.mu.Lock()
	c.removed = true
	c.notify()
	c.mu.Unlock()
	if err := e.releaseEndpoints(ctx, c, true); err != nil {
		return err
	}
	if removeVolumes {
		for _, m := range rec.Mounts {
			if m.Type != mount.TypeVolume {
				continue
			}
			e.volumes.mu.Lock()
			v := e.volumes.vols[m.Name]
			e.volumes.mu.Unlock()
			if v != nil && v.Anonymous {
				if err := e.VolumeRemove(ctx, m.Name, false); err != nil && !errdefs.IsConflict(err) {
					return err
				}
			}
		}
	}
	e.events.Publish(events.ContainerEventType, events.ActionDestroy, rec.ID, c.attrs())
	return nil
}

func itoa(i int) string { return strconv.Itoa(i) }
