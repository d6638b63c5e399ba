package sandbox

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"syscall"
	"time"

	"github.com/sockerless/sockerless/internal/sandbox/confine"
	"github.com/sockerless/sockerless/internal/sandbox/shell"
	"github.com/sockerless/sockerless/internal/sandbox/wasm"
)

// ContainerConfig describes a container's filesystem.
type ContainerConfig struct {
	// Root is the host folder holding the container's root filesystem.
	Root string
	// Mounts are binds and volumes; the longest target prefix wins.
	Mounts []confine.Mount
	// Hostname is what $HOSTNAME says.
	Hostname string
	// Bare is a root that no image filled (docker create without an
	// image): the userland and the host helpers stand in for the BusyBox of
	// an image, and there is none, so only the root's own files can run.
	Bare bool
}

// Container is a root with its processes. Many processes may run at once.
type Container struct {
	fs    *confine.FS
	shell *shell.Shell
	usage wasm.Usage
	procs shell.Procs
	// gate holds every process of the container while it is paused.
	gate wasm.Gate

	mu      sync.Mutex
	running map[*Process]struct{}
	closed  bool
}

// NewContainer opens a container root. The caller must Close it.
func (e *Engine) NewContainer(cfg ContainerConfig) (*Container, error) {
	fsys, err := confine.New(cfg.Root, cfg.Mounts)
	if err != nil {
		return nil, fmt.Errorf("sandbox: %w", err)
	}
	c := &Container{fs: fsys, running: map[*Process]struct{}{}}
	c.shell = shell.New(shell.Config{
		FS: fsys, Runtime: e.rt, Userland: e.userland, Applets: e.applets,
		Usage: &c.usage, Procs: &c.procs, Hostname: cfg.Hostname, Gate: &c.gate, Bare: cfg.Bare,
	})
	return c, nil
}

// FS is the container's confined filesystem, for archive and file work done
// on the host side (docker cp, /etc/hosts).
func (c *Container) FS() *confine.FS { return c.fs }

// Close kills the running processes, waits for them and releases the root.
func (c *Container) Close() error {
	c.mu.Lock()
	c.closed = true
	procs := make([]*Process, 0, len(c.running))
	for p := range c.running {
		procs = append(procs, p)
	}
	c.mu.Unlock()
	for _, p := range procs {
		if err := p.Signal(syscall.SIGKILL); err != nil && !errors.Is(err, ErrProcessDone) {
			return err
		}
		if _, err := p.Wait(context.Background()); err != nil {
			return err
		}
	}
	return c.fs.Close()
}

// Pause holds every process of the container (the main one, the commands
// it started, every exec) at its next host call, and returns once no
// effect of theirs is under way: from then on nothing they do can be
// observed until Unpause. A process computing without host calls uses CPU
// until its next one. A paused process can still be killed.
func (c *Container) Pause(ctx context.Context) error { return c.gate.Pause(ctx) }

// Unpause lets the held processes go on. A sleep whose deadline passed
// while paused ends now.
func (c *Container) Unpause() { c.gate.Unpause() }

// Paused says whether the container is paused.
func (c *Container) Paused() bool { return c.gate.Paused() }

// ProcessInfo is a running command, for docker top.
type ProcessInfo = shell.ProcInfo

// Top lists the container's running commands: the processes started with
// Start, the interpreters they nest, and every live instance and helper.
func (c *Container) Top() []ProcessInfo { return c.procs.List() }

// Stats are measured figures of a container.
type Stats struct {
	// Processes counts running commands (see Top).
	Processes int
	// Instances counts live wasm instances.
	Instances int
	// MemoryBytes is the linear memory those instances hold.
	MemoryBytes int64
	// CPU is the CPU time instances have used, live ones included.
	CPU time.Duration
}

// Stats reads the container's figures now.
func (c *Container) Stats() Stats {
	return Stats{
		Processes:   c.procs.Len(),
		Instances:   c.usage.Live(),
		MemoryBytes: c.usage.MemoryBytes(),
		CPU:         c.usage.CPU(),
	}
}
