// Package engine owns every Docker semantic once: container records and
// names, the lifecycle state machine, restart policies, wait conditions,
// exec records, logs as records, events, filters and prune. Backends only
// create workloads and run processes (internal/backend).
//
// State machine of a container (State.Status):
//
//	created ──start──▶ running ──process exit──▶ exited ──start──▶ running
//	                     │  ▲                       │
//	                     │  └──restart policy───────┘ (restarting between)
//	                     └──stop/kill──▶ exited
//	any ──remove──▶ removing ──▶ (gone)
//
// Every transition happens in one place (transition.go) under the
// container's lock, is persisted before it is acknowledged, and publishes
// its event.
package engine

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"syscall"
	"time"

	"github.com/moby/moby/api/types/container"

	"github.com/sockerless/sockerless/internal/backend"
	"github.com/sockerless/sockerless/internal/engine/events"
	"github.com/sockerless/sockerless/internal/errdefs"
	"github.com/sockerless/sockerless/internal/store"
)

// Config configures an Engine.
type Config struct {
	DataRoot string
	Store    *store.Store
	Backend  backend.Backend
	Images   ImageStore
	Logger   *slog.Logger
	// Version is the daemon's version, for /version and /info.
	Version string
}

// Engine is the daemon's core.
type Engine struct {
	cfg    Config
	log    *slog.Logger
	events *events.Bus
	// bg owns background work (process waiters, restart timers,
	// health checks); Close cancels it and waits.
	bg       sync.WaitGroup
	bgCtx    context.Context
	bgCancel context.CancelFunc

	mu         sync.Mutex
	containers map[string]*ctr
	names      map[string]string // "/name" -> id
	execs      map[string]*execRecord
	volumes    *volumes
	networks   *networks
}

// New loads the records and brings containers back: those that were running
// when the daemon went away are marked exited (their processes are gone),
// then restart policies apply.
func New(ctx context.Context, cfg Config) (*Engine, error) {
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if err := os.MkdirAll(filepath.Join(cfg.DataRoot, "logs"), 0o700); err != nil {
		return nil, err
	}
	e := &Engine{
		cfg: cfg, log: cfg.Logger.With("component", "engine"), events: events.New(),
		containers: map[string]*ctr{}, names: map[string]string{}, execs: map[string]*execRecord{},
	}
	e.bgCtx, e.bgCancel = context.WithCancel(context.WithoutCancel(ctx))
	vols, err := openVolumes(cfg.DataRoot, cfg.Store)
	if err != nil {
		return nil, err
	}
	e.volumes = vols
	if e.networks, err = openNetworks(cfg.Store); err != nil {
		return nil, err
	}
	// Records are read first and fixed afterwards: a write inside bbolt's
	// read transaction would wait for it forever.
	var recs []record
	err = cfg.Store.Each(store.Containers, func(id string, raw []byte) error {
		var r record
		if err := json.Unmarshal(raw, &r); err != nil {
			return fmt.Errorf("container %s: %w", id, err)
		}
		recs = append(recs, r)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("engine: load containers: %w", err)
	}
	var restart, autoRemove, wasRunning []*ctr
	for _, r := range recs {
		c := newCtr(e, r)
		started := c.rec.State.StartedAt != zeroTime && c.rec.State.StartedAt != ""
		switch {
		case c.rec.State.Running || c.rec.State.Restarting:
			wasRunning = append(wasRunning, c) // settled below, by the backend when it can
		// As dockerd: an auto-remove container that ran and is no longer
		// running goes; its exit or removal may not have been written.
		case started && c.rec.HostConfig.AutoRemove:
			autoRemove = append(autoRemove, c)
		// As dockerd: containers started before come back with the daemon
		// under "always", and under "unless-stopped" unless a user stopped them.
		case started && policyRestartsAfterDaemon(c.rec):
			restart = append(restart, c)
		}
		if err := c.logs.load(); err != nil {
			return nil, fmt.Errorf("engine: logs of %s: %w", r.ID, err)
		}
		e.containers[r.ID] = c
		e.names[c.rec.Name] = r.ID
	}
	if err := e.loadEndpoints(); err != nil {
		return nil, fmt.Errorf("engine: load endpoints: %w", err)
	}
	for _, c := range wasRunning {
		running, err := e.reattach(ctx, c)
		if err != nil {
			return nil, fmt.Errorf("engine: container %s: %w", c.rec.ID, err)
		}
		if !running {
			if err := e.deactivateEndpoints(ctx, c); err != nil {
				return nil, fmt.Errorf("engine: container %s: %w", c.rec.ID, err)
			}
		}
		switch {
		case running:
		case c.rec.HostConfig.AutoRemove:
			autoRemove = append(autoRemove, c)
		case policyRestartsAfterDaemon(c.rec):
			restart = append(restart, c)
		}
	}
	for _, c := range autoRemove {
		if err := e.remove(ctx, c, true, true); err != nil {
			return nil, fmt.Errorf("engine: auto-remove %s: %w", c.rec.ID, err)
		}
	}
	for _, c := range restart {
		if err := e.start(ctx, c, false); err != nil {
			e.log.Warn("restart after daemon start failed", "container_id", c.rec.ID, "err", err)
		}
	}
	return e, nil
}

// reattach settles a container that was running when the daemon went
// away. A backend whose workloads outlive the daemon (backend.Reattacher)
// says whether it still runs, and the run goes on; otherwise, or when it
// has ended, the container is marked exited (with the backend's exit code
// when it has one, else 255 and an error saying the daemon stopped).
func (e *Engine) reattach(ctx context.Context, c *ctr) (bool, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	st := &c.rec.State
	if ra, ok := e.cfg.Backend.(backend.Reattacher); ok {
		run, stdio := c.newRun()
		proc, exit, err := ra.Reattach(ctx, c.rec.Handle, stdio)
		switch {
		case err == nil && proc != nil:
			c.proc, c.run = proc, run
			st.Running, st.Restarting, st.Status = true, false, container.StateRunning
			if st.Paused {
				st.Status = container.StatePaused
			}
			if err := c.persist(); err != nil {
				return false, err
			}
			c.startHealth()
			e.goBackground(func(bg context.Context) { e.waitExit(bg, c, proc, run) })
			return true, nil
		case err == nil:
			run.end()
			at := exit.At
			if at.IsZero() {
				at = time.Now()
			}
			st.Running, st.Restarting, st.Paused = false, false, false
			st.Status, st.ExitCode, st.Error = container.StateExited, exit.Code, ""
			st.FinishedAt = at.UTC().Format(time.RFC3339Nano)
			return false, c.persist()
		default:
			run.end()
			e.log.Warn("reattach failed", "container_id", c.rec.ID, "err", err)
		}
	}
	st.Running, st.Restarting, st.Paused = false, false, false
	st.Status = container.StateExited
	st.ExitCode = 255
	st.Error = "the daemon stopped while the container was running"
	st.FinishedAt = now()
	return false, c.persist()
}

// Close stops the running containers as dockerd does when it shuts down
// (their stop signal, then SIGKILL after their stop timeout, at most 10 s),
// so their records say how they ended; then it stops background work.
// Containers with restart policy always or unless-stopped start again with
// the next daemon.
func (e *Engine) Close() error {
	e.mu.Lock()
	var running []*ctr
	for _, c := range e.containers {
		c.mu.Lock()
		if c.rec.State.Running {
			running = append(running, c)
		}
		c.mu.Unlock()
	}
	e.mu.Unlock()
	var wg sync.WaitGroup
	errs := make([]error, len(running))
	for i, c := range running {
		wg.Go(func() { errs[i] = e.shutdownStop(c) })
	}
	wg.Wait()
	e.bgCancel()
	e.bg.Wait()
	return errors.Join(errs...)
}

// shutdownStop stops one container for a daemon shutdown; unlike a user's
// stop it keeps the restart policy in force for the next daemon.
func (e *Engine) shutdownStop(c *ctr) error {
	c.mu.Lock()
	proc := c.proc
	c.stopping = true
	wait := 10
	if t := c.rec.Config.StopTimeout; t != nil && *t < wait {
		wait = *t
	}
	sigName := c.rec.Config.StopSignal
	c.mu.Unlock()
	if proc == nil {
		return nil
	}
	sig := syscall.SIGTERM
	if s, ok := parseSignal(sigName); ok && sigName != "" {
		sig = s
	}
	ctx := context.Background()
	if err := proc.Signal(ctx, sig); err != nil {
		return err
	}
	if !c.waitStopped(ctx, wait) {
		if err := proc.Signal(ctx, syscall.SIGKILL); err != nil {
			return err
		}
		c.waitStopped(ctx, -1)
	}
	return nil
}

// lookup finds a container by full ID, name (with or without "/") or a
// unique ID prefix, as dockerd does.
func (e *Engine) lookup(ref string) (*ctr, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.lookupLocked(ref)
}

func (e *Engine) lookupLocked(ref string) (*ctr, error) {
	if ref == "" {
		return nil, errdefs.NotFound("No such container: %s", ref)
	}
	if c, ok := e.containers[ref]; ok {
		return c, nil
	}
	name := ref
	if name[0] != '/' {
		name = "/" + name
	}
	if id, ok := e.names[name]; ok {
		return e.containers[id], nil
	}
	var found *ctr
	for id, c := range e.containers {
		if len(ref) <= len(id) && id[:len(ref)] == ref {
			if found != nil {
				return nil, errdefs.InvalidParameter("multiple IDs found with provided prefix: %s", ref)
			}
			found = c
		}
	}
	if found == nil {
		return nil, errdefs.NotFound("No such container: %s", ref)
	}
	return found, nil
}

// goBackground runs fn as owned background work.
func (e *Engine) goBackground(fn func(ctx context.Context)) {
	e.bg.Add(1)
	go func() {
		defer e.bg.Done()
		fn(e.bgCtx)
	}()
}

var errRemoved = errors.New("container removed")

// ImageUser is a container that uses an image.
type ImageUser struct {
	ContainerID string
	Running     bool
}

// ImageUse tells whether a container uses an image, preferring a running
// one (Docker's image removal rules differ for the two).
func (e *Engine) ImageUse(id string) (ImageUser, bool) {
	e.mu.Lock()
	defer e.mu.Unlock()
	var found *ImageUser
	for _, c := range e.containers {
		c.mu.Lock()
		if c.rec.ImageID == id {
			u := ImageUser{ContainerID: c.rec.ID, Running: c.rec.State.Running}
			if found == nil || u.Running {
				found = &u
			}
		}
		c.mu.Unlock()
	}
	if found == nil {
		return ImageUser{}, false
	}
	return *found, true
}
