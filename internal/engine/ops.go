package engine

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/events"

	"github.com/sockerless/sockerless/internal/backend"
	"github.com/sockerless/sockerless/internal/errdefs"
	"github.com/sockerless/sockerless/internal/filters"
)

// unsupported is the error for an operation the backend lacks.
func (e *Engine) unsupported(what string) error {
	return errdefs.NotImplemented("%s is not supported by the %s backend", what, e.cfg.Backend.Info().Name)
}

// ContainerRename renames a container.
func (e *Engine) ContainerRename(ctx context.Context, name, newName string) error {
	c, err := e.lookup(name)
	if err != nil {
		return err
	}
	if newName == "" {
		return errdefs.InvalidParameter("Neither old nor new names may be empty")
	}
	c.mu.Lock()
	id, old := c.rec.ID, c.rec.Name
	c.mu.Unlock()
	if "/"+strings.TrimPrefix(newName, "/") == old {
		return errdefs.InvalidParameter("Renaming a container with the same name as its current name")
	}
	nn, err := e.reserveName(newName, id)
	if err != nil {
		return fmt.Errorf("Error when allocating new name: %w", err) // dockerd's wording
	}
	c.mu.Lock()
	c.rec.Name = nn
	err = c.persist()
	c.mu.Unlock()
	e.mu.Lock()
	if err != nil {
		delete(e.names, nn)
	} else {
		delete(e.names, old)
	}
	e.mu.Unlock()
	if err == nil {
		attrs := c.attrs()
		attrs["oldName"] = old
		e.events.Publish(events.ContainerEventType, events.ActionRename, id, attrs)
		rec, _ := c.snapshot()
		e.networks.mu.Lock()
		ids := make([]string, 0, len(rec.Endpoints))
		for _, ep := range rec.Endpoints {
			ids = append(ids, ep.NetworkID)
		}
		e.refreshHosts(ctx, ids, id) // the name is in the hosts files
		e.networks.mu.Unlock()
	}
	return err
}

func (e *Engine) running(name string) (*ctr, record, error) {
	c, err := e.lookup(name)
	if err != nil {
		return nil, record{}, err
	}
	rec, _ := c.snapshot()
	if !rec.State.Running {
		return nil, record{}, errdefs.Conflict("container %s is not running", rec.ID)
	}
	return c, rec, nil
}

// ContainerTop lists the container's processes as the backend measures them.
func (e *Engine) ContainerTop(ctx context.Context, name, psArgs string) (container.TopResponse, error) {
	insp, ok := e.cfg.Backend.(backend.Inspector)
	if !ok {
		return container.TopResponse{}, e.unsupported("top")
	}
	_, rec, err := e.running(name)
	if err != nil {
		return container.TopResponse{}, err
	}
	procs, err := insp.Top(ctx, rec.Handle)
	if err != nil {
		return container.TopResponse{}, err
	}
	resp := container.TopResponse{Titles: []string{"PID", "PPID", "STIME", "CMD"}, Processes: [][]string{}}
	for _, p := range procs {
		resp.Processes = append(resp.Processes, []string{itoa(p.PID), itoa(p.PPID), p.Started.Format("15:04"), strings.Join(p.Args, " ")})
	}
	return resp, nil
}

// ContainerStats reports measured figures: memory is the linear memory of
// live instances, CPU the time they used. Figures the backend does not
// measure (network, block I/O) are absent, not zero-filled inventions.
func (e *Engine) ContainerStats(ctx context.Context, name string, stream bool, emit func(container.StatsResponse) error) error {
	insp, ok := e.cfg.Backend.(backend.Inspector)
	if !ok {
		return e.unsupported("stats")
	}
	c, err := e.lookup(name)
	if err != nil {
		return err
	}
	var prev container.StatsResponse
	for {
		rec, _ := c.snapshot()
		var st backend.Stats
		if rec.State.Running {
			if st, err = insp.Stats(ctx, rec.Handle); err != nil {
				return err
			}
		}
		s := container.StatsResponse{
			Name: rec.Name, ID: rec.ID, Read: time.Now().UTC(), PreRead: prev.Read,
			NumProcs:    uint32(st.Processes),
			CPUStats:    container.CPUStats{CPUUsage: container.CPUUsage{TotalUsage: uint64(st.CPU.Nanoseconds())}, OnlineCPUs: uint32(numCPU())},
			PreCPUStats: prev.CPUStats,
			MemoryStats: container.MemoryStats{Usage: uint64(st.MemoryBytes)},
			PidsStats:   container.PidsStats{Current: uint64(st.Processes)},
		}
		if err := emit(s); err != nil || !stream {
			return err
		}
		prev = s
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(time.Second):
		}
	}
}

// ContainerStatPath stats a path in the container (HEAD archive).
func (e *Engine) ContainerStatPath(ctx context.Context, name, path string) (container.PathStat, error) {
	ar, rec, err := e.archiver(name)
	if err != nil {
		return container.PathStat{}, err
	}
	st, err := ar.StatPath(ctx, rec.Handle, path)
	return st, nameMissingPath(err, path, name)
}

// ContainerArchivePath writes a tar of a path (docker cp out).
func (e *Engine) ContainerArchivePath(ctx context.Context, name, path string, w io.Writer) (container.PathStat, error) {
	ar, rec, err := e.archiver(name)
	if err != nil {
		return container.PathStat{}, err
	}
	st, err := ar.GetArchive(ctx, rec.Handle, path, w)
	return st, nameMissingPath(err, path, name)
}

// ContainerExtractToDir extracts a tar, plain or compressed, into a folder
// (docker cp in).
func (e *Engine) ContainerExtractToDir(ctx context.Context, name, path string, noOverwriteDirNonDir bool, r io.Reader) error {
	ar, rec, err := e.archiver(name)
	if err != nil {
		return err
	}
	tr, done, err := decompressArchive(r)
	if err != nil {
		return err
	}
	err = nameMissingPath(ar.PutArchive(ctx, rec.Handle, path, noOverwriteDirNonDir, tr), path, name)
	return errors.Join(err, done())
}

// nameMissingPath gives a missing path dockerd's message, which names the
// container as the client did.
func nameMissingPath(err error, path, name string) error {
	if errdefs.IsNotFound(err) {
		return errdefs.NotFound("Could not find the file %s in container %s", path, name)
	}
	return err
}

func (e *Engine) archiver(name string) (backend.Archiver, record, error) {
	ar, ok := e.cfg.Backend.(backend.Archiver)
	if !ok {
		return nil, record{}, e.unsupported("copying files (docker cp)")
	}
	c, err := e.lookup(name)
	if err != nil {
		return nil, record{}, err
	}
	rec, _ := c.snapshot()
	return ar, rec, nil
}

// ContainerPause suspends every process of a running container, on
// backends that can (backend.Pauser).
func (e *Engine) ContainerPause(ctx context.Context, name string) error {
	return e.setPaused(ctx, name, true)
}

// ContainerUnpause resumes a paused container.
func (e *Engine) ContainerUnpause(ctx context.Context, name string) error {
	return e.setPaused(ctx, name, false)
}

func (e *Engine) setPaused(ctx context.Context, name string, pause bool) error {
	c, err := e.lookup(name)
	if err != nil {
		return err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	// The state is checked before the backend's capability, with dockerd's
	// wording and classes (unpausing a container that is not paused is a
	// classless error there: a 500).
	id := c.rec.ID
	switch {
	case !pause && !c.rec.State.Paused:
		return fmt.Errorf("Container %s is not paused", id) // dockerd's wording
	case pause && !c.rec.State.Running:
		return errdefs.Conflict("container %s is not running", id)
	case pause && c.rec.State.Paused:
		return errdefs.Conflict("container %s is already paused", id)
	}
	p, ok := e.cfg.Backend.(backend.Pauser)
	if !ok {
		if pause {
			return e.unsupported("pause")
		}
		return e.unsupported("unpause")
	}
	action := events.ActionPause
	if pause {
		err = p.Pause(context.WithoutCancel(ctx), c.rec.Handle)
	} else {
		action = events.ActionUnPause
		err = p.Unpause(context.WithoutCancel(ctx), c.rec.Handle)
	}
	if err != nil {
		return err
	}
	c.rec.State.Paused = pause
	c.rec.State.Status = container.StateRunning
	if pause {
		c.rec.State.Status = container.StatePaused
	}
	if err := c.persist(); err != nil {
		return err
	}
	c.notify()
	e.events.Publish(events.ContainerEventType, action, id, c.attrs())
	return nil
}

// thaw unpauses a paused container that is about to get a signal other
// than SIGKILL: dockerd resumes a frozen container when it signals it, so
// that the container can act on the signal (SIGKILL ends it frozen). It is
// unpaused before the signal is sent, which a backend whose platform
// resumes on its own (a Docker engine) also takes. The caller publishes the
// unpause event after its kill event, in dockerd's order.
func (e *Engine) thaw(ctx context.Context, c *ctr) (bool, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	p, ok := e.cfg.Backend.(backend.Pauser)
	if !ok || !c.rec.State.Paused || !c.rec.State.Running {
		return false, nil
	}
	if err := p.Unpause(context.WithoutCancel(ctx), c.rec.Handle); err != nil {
		return false, err
	}
	c.rec.State.Paused = false
	c.rec.State.Status = container.StateRunning
	err := c.persist()
	c.notify()
	return true, err
}

// ContainerUpdate changes the restart policy; resource limits are refused
// because no backend enforces them yet.
func (e *Engine) ContainerUpdate(ctx context.Context, name string, u container.UpdateConfig) (container.UpdateResponse, error) {
	c, err := e.lookup(name)
	if err != nil {
		return container.UpdateResponse{}, err
	}
	if u.Resources.Memory != 0 || u.Resources.NanoCPUs != 0 || u.Resources.CPUShares != 0 || u.Resources.CPUQuota != 0 || u.Resources.PidsLimit != nil {
		return container.UpdateResponse{}, e.unsupported("updating resource limits")
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if u.RestartPolicy.Name != "" {
		if c.rec.HostConfig.AutoRemove && !u.RestartPolicy.IsNone() {
			return container.UpdateResponse{}, errdefs.Conflict("Restart policy cannot be updated because AutoRemove is enabled for the container")
		}
		c.rec.HostConfig.RestartPolicy = u.RestartPolicy
	}
	if err := c.persist(); err != nil {
		return container.UpdateResponse{}, err
	}
	return container.UpdateResponse{}, nil
}

// ContainerChanges lists the filesystem changes against the image.
func (e *Engine) ContainerChanges(ctx context.Context, name string) ([]container.FilesystemChange, error) {
	c, err := e.lookup(name)
	if err != nil {
		return nil, err
	}
	ch, ok := e.cfg.Backend.(backend.Changer)
	if !ok {
		return nil, e.unsupported("listing filesystem changes")
	}
	rec, _ := c.snapshot()
	changes, err := ch.Changes(ctx, rec.Handle)
	if changes == nil && err == nil {
		changes = []container.FilesystemChange{}
	}
	return changes, err
}

// ContainerSizes measures a container's root: what it wrote, and all of it
// (SizeRw and SizeRootFs of inspect and list with size=1).
func (e *Engine) ContainerSizes(ctx context.Context, name string) (rw, rootFS int64, err error) {
	c, err := e.lookup(name)
	if err != nil {
		return 0, 0, err
	}
	sz, ok := e.cfg.Backend.(backend.Sizer)
	if !ok {
		return 0, 0, e.unsupported("measuring container sizes")
	}
	rec, _ := c.snapshot()
	return sz.Sizes(ctx, rec.Handle)
}

// ContainerExport writes the container's whole filesystem as a tar.
func (e *Engine) ContainerExport(ctx context.Context, name string, w io.Writer) error {
	_, err := e.ContainerArchivePath(ctx, name, "/", w)
	return err
}

// ContainersPrune removes stopped containers (filters: label, until).
func (e *Engine) ContainersPrune(ctx context.Context, f filters.Args) (container.PruneReport, error) {
	if err := f.Validate("label", "label!", "until"); err != nil {
		return container.PruneReport{}, err
	}
	var until time.Time
	if u := f.Get("until"); len(u) > 0 {
		d, err := time.ParseDuration(u[0])
		if err != nil {
			t, terr := time.Parse(time.RFC3339, u[0])
			if terr != nil {
				return container.PruneReport{}, errdefs.InvalidParameter("invalid filter 'until=%s'", u[0])
			}
			until = t
		} else {
			until = time.Now().Add(-d)
		}
	}
	e.mu.Lock()
	var cands []*ctr
	for _, c := range e.containers {
		cands = append(cands, c)
	}
	e.mu.Unlock()
	var rep container.PruneReport // nothing pruned is null, as dockerd
	for _, c := range cands {
		rec, _ := c.snapshot()
		if rec.State.Running || rec.State.Restarting || !f.MatchLabels("label", rec.Config.Labels) {
			continue
		}
		if notLabels := f.Get("label!"); len(notLabels) > 0 && (filters.Args{"label": notLabels}).MatchLabels("label", rec.Config.Labels) {
			continue
		}
		if !until.IsZero() && !rec.Created.Before(until) {
			continue
		}
		if err := e.remove(ctx, c, false, false); err != nil {
			return rep, fmt.Errorf("prune %s: %w", rec.ID, err)
		}
		rep.ContainersDeleted = append(rep.ContainersDeleted, rec.ID)
	}
	return rep, nil
}
