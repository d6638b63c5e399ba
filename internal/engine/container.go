package engine

import (
	"sync"
	"time"

	"github.com/moby/moby/api/types/container"

	"github.com/sockerless/sockerless/internal/backend"
	"github.com/sockerless/sockerless/internal/store"
)

// record is a container as persisted in the store.
type record struct {
	ID         string                 `json:"id"`
	Name       string                 `json:"name"`
	Created    time.Time              `json:"created"`
	Path       string                 `json:"path"`
	Args       []string               `json:"args"`
	Image      string                 `json:"image"` // as the user gave it
	ImageID    string                 `json:"image_id"`
	Config     container.Config       `json:"config"`
	HostConfig container.HostConfig   `json:"host_config"`
	Mounts     []container.MountPoint `json:"mounts"`
	State      container.State        `json:"state"`
	Handle     backend.Handle         `json:"handle"`
	// RestartCount counts restarts by the restart policy.
	RestartCount int `json:"restart_count"`
	// ManuallyStopped keeps unless-stopped containers down after a stop.
	ManuallyStopped bool `json:"manually_stopped"`
	// Endpoints are the container's network connections, in the order
	// they were made (networks.go). Never nil once connected: an empty
	// list is a container disconnected from every network.
	Endpoints []endpoint `json:"endpoints"`
	// LegacyAliases are the aliases of records written before endpoints;
	// loadEndpoints moves them to the endpoint.
	LegacyAliases []string `json:"aliases,omitempty"`
}

// ctr is a container in memory: its record plus what only lives while the
// daemon runs (the process, waiters, attach sessions).
type ctr struct {
	e    *Engine
	logs *logbook

	mu   sync.Mutex
	rec  record
	proc backend.Process
	// run is the current run's I/O hub; nil when not running.
	run *runIO
	// changed is closed and replaced on every state change: waiters select
	// on it.
	changed chan struct{}
	// pendingAttach are attach sessions waiting for the next start.
	pendingAttach []*attachSession
	stopping      bool
	// restarting: a docker restart is stopping the run, so an exit is not
	// an auto-removal.
	restarting bool
	removed    bool
	// exits counts ends of runs, for the next-exit wait condition.
	exits  int
	health *healthChecker
}

func newCtr(e *Engine, r record) *ctr {
	return &ctr{e: e, rec: r, changed: make(chan struct{}), logs: newLogbook(e.cfg.DataRoot, r.ID)}
}

// persist writes the record; callers hold c.mu.
func (c *ctr) persist() error {
	return c.e.cfg.Store.Put(store.Containers, c.rec.ID, c.rec)
}

// notify wakes waiters; callers hold c.mu.
func (c *ctr) notify() {
	close(c.changed)
	c.changed = make(chan struct{})
}

// snapshot returns a copy of the record and the current change channel.
func (c *ctr) snapshot() (record, <-chan struct{}) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.rec, c.changed
}

func (c *ctr) attrs() map[string]string {
	a := map[string]string{"name": c.rec.Name[1:], "image": c.rec.Image}
	for k, v := range c.rec.Config.Labels {
		a[k] = v
	}
	return a
}

func now() string { return time.Now().UTC().Format(time.RFC3339Nano) }

// zeroTime is what Docker reports for a time that has not happened.
const zeroTime = "0001-01-01T00:00:00Z"
