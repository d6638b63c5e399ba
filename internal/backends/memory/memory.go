// Package memory is the zero-dependency backend: containers run in the
// daemon's own process, in the WASM sandbox (internal/sandbox). A workload is
// a root folder under the data root, filled from the image's layers, with
// the container's mounts; processes are sandbox processes.
package memory

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"syscall"

	"github.com/sockerless/sockerless/internal/backend"
	"github.com/sockerless/sockerless/internal/errdefs"
	"github.com/sockerless/sockerless/internal/sandbox"
	"github.com/sockerless/sockerless/internal/sandbox/confine"
)

// Name is the backend's name.
const Name = "memory"

// Unpacker fills a root folder with an image's layers.
type Unpacker interface {
	Unpack(ctx context.Context, imageID string, root *confine.FS) error
}

// Config configures the backend.
type Config struct {
	// DataRoot is where container roots and the compilation cache live.
	DataRoot string
	Images   Unpacker
	Logger   *slog.Logger
}

// Backend is the memory backend.
type Backend struct {
	cfg    Config
	engine *sandbox.Engine

	mu   sync.Mutex
	open map[string]*sandbox.Container
	// templateLocks serialise the unpacking of one image's template.
	templateLocks sync.Map
	// bgWG tracks background work: deletions of removed workloads and
	// spare roots being cloned; bgCtx ends the latter at Close.
	bgWG     sync.WaitGroup
	bgCtx    context.Context
	bgCancel context.CancelFunc
	sparesMu sync.Mutex
	spares   map[string]string // image ID -> a ready spare root
	log      *slog.Logger
}

// New starts the sandbox engine.
func New(ctx context.Context, cfg Config) (*Backend, error) {
	e, err := sandbox.New(ctx, sandbox.Config{CacheDir: filepath.Join(cfg.DataRoot, "wasm-cache")})
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(filepath.Join(cfg.DataRoot, "containers"), 0o700); err != nil {
		return nil, err
	}
	logger := cfg.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	b := &Backend{cfg: cfg, engine: e, open: map[string]*sandbox.Container{}, log: logger.With("component", "memory"), spares: map[string]string{}}
	b.bgCtx, b.bgCancel = context.WithCancel(context.WithoutCancel(ctx))
	if err := b.removeIncompleteTemplates(); err != nil {
		return nil, errors.Join(err, e.Close(ctx))
	}
	// Deletions a previous daemon did not finish, and its spare roots.
	for _, d := range []string{"trash", "spares"} {
		if err := os.RemoveAll(filepath.Join(cfg.DataRoot, d)); err != nil {
			return nil, errors.Join(err, e.Close(ctx))
		}
	}
	if err := os.MkdirAll(b.sparesDir(), 0o700); err != nil {
		return nil, errors.Join(err, e.Close(ctx))
	}
	if err := os.MkdirAll(filepath.Join(cfg.DataRoot, "trash"), 0o700); err != nil {
		return nil, errors.Join(err, e.Close(ctx))
	}
	return b, nil
}

// Close stops every container's processes and the sandbox engine.
func (b *Backend) Close(ctx context.Context) error {
	b.bgCancel()
	defer b.bgWG.Wait()
	b.mu.Lock()
	defer b.mu.Unlock()
	var errs []error
	for id, c := range b.open {
		errs = append(errs, c.Close())
		delete(b.open, id)
	}
	return errors.Join(append(errs, b.engine.Close(ctx))...)
}

// Info implements backend.Backend.
func (b *Backend) Info() backend.Info {
	return backend.Info{
		Name:            Name,
		OperatingSystem: "Sockerless memory backend (WASM sandbox, BusyBox userland)",
		Capabilities:    backend.Capabilities{Exec: true, Archive: true, Pause: true, TTY: true},
	}
}

// workload is what Create persists beside the root, so that Start after a
// daemon restart can open the container again.
type workload struct {
	Mounts   []backend.Mount `json:"mounts"`
	Hostname string          `json:"hostname"`
	// NoImage: the root started empty, so the userland does not stand in
	// for its commands (see sandbox.ContainerConfig.Bare).
	NoImage bool `json:"no_image,omitempty"`
}

func (b *Backend) dir(id string) string { return filepath.Join(b.cfg.DataRoot, "containers", id) }

// Create makes the root folder from the image and writes /etc/hosts and
// /etc/hostname, as Docker does for every container.
func (b *Backend) Create(ctx context.Context, spec backend.Spec) (backend.Handle, error) {
	for _, m := range spec.Mounts {
		// The sandbox mounts folders; a single file or a socket (act binds
		// /var/run/docker.sock by default) cannot be one.
		if fi, err := os.Stat(m.Source); err == nil && !fi.IsDir() {
			return backend.Handle{}, errdefs.NotImplemented("%s backend: binding %s at %s is not supported: it mounts folders, not single files or sockets", Name, m.Source, m.Target)
		}
	}
	dir := b.dir(spec.ID)
	root := filepath.Join(dir, "rootfs")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return backend.Handle{}, err
	}
	if err := b.makeRoot(ctx, spec, root); err != nil {
		return backend.Handle{}, errors.Join(err, os.RemoveAll(dir))
	}
	fs, err := confine.New(root, nil)
	if err != nil {
		return backend.Handle{}, errors.Join(err, os.RemoveAll(dir))
	}
	err = fs.MkdirAll("/etc", 0o755)
	if err == nil {
		err = fs.WriteFile("/etc/hostname", []byte(spec.Hostname+"\n"), 0o644)
	}
	if err == nil && spec.HostsFile != nil {
		err = fs.WriteFile("/etc/hosts", spec.HostsFile, 0o644)
	}
	if err == nil && spec.Config.WorkingDir != "" {
		err = fs.MkdirAll(spec.Config.WorkingDir, 0o755) // Docker creates a missing WorkingDir
	}
	for _, m := range spec.Mounts {
		if err == nil {
			err = copyUp(fs, m)
		}
	}
	err = errors.Join(err, fs.Close())
	if err == nil {
		err = b.writeBaseline(spec.ID, spec.Mounts)
	}
	if err == nil {
		var meta []byte
		meta, err = json.Marshal(workload{Mounts: spec.Mounts, Hostname: spec.Hostname, NoImage: spec.ImageID == ""})
		if err == nil {
			err = os.WriteFile(filepath.Join(dir, "workload.json"), meta, 0o600)
		}
	}
	if err != nil {
		return backend.Handle{}, errors.Join(fmt.Errorf("memory backend: create %s: %w", spec.ID, err), os.RemoveAll(dir))
	}
	return backend.Handle{Backend: Name, ID: spec.ID}, nil
}

// makeRoot fills a new root folder: a clone of the image's template, or
// an empty folder for a container without an image.
func (b *Backend) makeRoot(ctx context.Context, spec backend.Spec, root string) error {
	if spec.ImageID == "" {
		return os.Mkdir(root, 0o755)
	}
	tmpl, err := b.template(ctx, spec.ImageID)
	if err != nil {
		return err
	}
	if !b.takeSpare(spec.ImageID, root) {
		if err := os.Mkdir(root, 0o755); err != nil {
			return err
		}
		if err := clone(ctx, tmpl, root); err != nil {
			return fmt.Errorf("memory backend: root of %s: %w", spec.ID, err)
		}
	}
	b.refillSpare(spec.ImageID, tmpl)
	return nil
}

// container opens (once) the sandbox container of a workload.
func (b *Backend) container(h backend.Handle) (*sandbox.Container, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if c, ok := b.open[h.ID]; ok {
		return c, nil
	}
	raw, err := os.ReadFile(filepath.Join(b.dir(h.ID), "workload.json"))
	if err != nil {
		if os.IsNotExist(err) {
			return nil, errdefs.NotFound("memory backend: no workload %s", h.ID)
		}
		return nil, err
	}
	var w workload
	if err := json.Unmarshal(raw, &w); err != nil {
		return nil, fmt.Errorf("memory backend: workload %s: %w", h.ID, err)
	}
	mounts := make([]confine.Mount, len(w.Mounts))
	for i, m := range w.Mounts {
		mounts[i] = confine.Mount{Source: m.Source, Target: m.Target, ReadOnly: m.ReadOnly}
	}
	c, err := b.engine.NewContainer(sandbox.ContainerConfig{
		Root: filepath.Join(b.dir(h.ID), "rootfs"), Mounts: mounts, Hostname: w.Hostname, Bare: w.NoImage,
	})
	if err != nil {
		return nil, errdefs.InvalidParameter("memory backend: %v", err)
	}
	b.open[h.ID] = c
	return c, nil
}

// Start starts a sandbox process.
func (b *Backend) Start(ctx context.Context, h backend.Handle, p backend.ProcessSpec, stdio backend.Stdio) (backend.Process, error) {
	c, err := b.container(h)
	if err != nil {
		return nil, err
	}
	if p.Main {
		// A run starts unpaused; see the end of a main process below.
		c.Unpause()
	}
	proc, err := c.Start(ctx, sandbox.ProcessSpec{
		Args: p.Args, Env: p.Env, Dir: p.Dir, User: p.User,
		Stdin: stdio.Stdin, Stdout: stdio.Stdout, Stderr: stdio.Stderr, TTY: stdio.TTY,
	})
	if err != nil {
		var cmdErr *sandbox.CommandError
		if errors.As(err, &cmdErr) {
			return nil, &backend.CommandError{Status: cmdErr.Status, Message: cmdErr.Message}
		}
		if errors.Is(err, sandbox.ErrUnsupported) {
			return nil, errdefs.NotImplemented("memory backend: %v", err)
		}
		return nil, errdefs.InvalidParameter("%v", err)
	}
	if p.Main {
		// A paused container whose main process is killed is no longer
		// paused, as with Docker: execs it held go on.
		go func() {
			<-proc.Done()
			c.Unpause()
		}()
	}
	return process{proc}, nil
}

// Remove closes the container and deletes its folder.
func (b *Backend) Remove(ctx context.Context, h backend.Handle) error {
	b.mu.Lock()
	c := b.open[h.ID]
	delete(b.open, h.ID)
	b.mu.Unlock()
	var err error
	if c != nil {
		err = c.Close()
	}
	// The folder is moved out of the way at once and deleted in the
	// background: a removed workload is gone from the daemon's view when
	// Remove returns, and docker run --rm does not wait for the unlinks.
	trash := filepath.Join(b.cfg.DataRoot, "trash", h.ID)
	if rerr := os.Rename(b.dir(h.ID), trash); rerr != nil {
		if os.IsNotExist(rerr) {
			return err
		}
		return errors.Join(err, os.RemoveAll(b.dir(h.ID)))
	}
	b.bgWG.Add(1)
	go func() {
		defer b.bgWG.Done()
		if err := os.RemoveAll(trash); err != nil {
			b.log.Warn("removing a deleted workload's folder", "container_id", h.ID, "err", err)
		}
	}()
	return err
}

// WriteHosts replaces the workload's /etc/hosts: the new content is written
// beside it and renamed over it, so a process reading the file sees the old
// or the new one, never a mix. /etc keeps its modification time, so that
// docker diff does not report the daemon's own write as a change.
func (b *Backend) WriteHosts(ctx context.Context, h backend.Handle, content []byte) error {
	c, err := b.container(h)
	if err != nil {
		return err
	}
	fs := c.FS()
	if old, err := fs.ReadFile("/etc/hosts"); err == nil && bytes.Equal(old, content) {
		return nil // unchanged: most starts
	}
	if err := fs.MkdirAll("/etc", 0o755); err != nil {
		return err
	}
	etc, err := fs.Stat("/etc")
	if err != nil {
		return err
	}
	if err := fs.WriteFile("/etc/.hosts.sockerless", content, 0o644); err != nil {
		return err
	}
	if err := fs.Rename("/etc/.hosts.sockerless", "/etc/hosts"); err != nil {
		return errors.Join(err, fs.Remove("/etc/.hosts.sockerless"))
	}
	return fs.Chtimes("/etc", etc.ModTime(), etc.ModTime())
}

// Pause implements backend.Pauser: every process of the container is held
// at its next host call (see sandbox.Container.Pause).
func (b *Backend) Pause(ctx context.Context, h backend.Handle) error {
	c, err := b.container(h)
	if err != nil {
		return err
	}
	return c.Pause(ctx)
}

// Unpause implements backend.Pauser.
func (b *Backend) Unpause(ctx context.Context, h backend.Handle) error {
	c, err := b.container(h)
	if err != nil {
		return err
	}
	c.Unpause()
	return nil
}

type process struct{ p *sandbox.Process }

func (p process) Wait(ctx context.Context) (backend.Exit, error) {
	code, err := p.p.Wait(ctx)
	return backend.Exit{Code: code}, err
}

func (p process) Signal(_ context.Context, sig syscall.Signal) error {
	err := p.p.Signal(sig)
	switch {
	case errors.Is(err, sandbox.ErrProcessDone):
		return nil
	case errors.Is(err, sandbox.ErrUnsupported):
		return errdefs.NotImplemented("memory backend: %v", err)
	}
	return err
}

func (p process) Resize(_ context.Context, width, height uint) error {
	return p.p.Resize(uint16(width), uint16(height))
}

var (
	_ backend.Backend     = (*Backend)(nil)
	_ backend.HostsWriter = (*Backend)(nil)
	_ backend.Pauser      = (*Backend)(nil)
)
