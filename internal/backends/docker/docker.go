// Package docker is the passthrough backend: every workload is a real
// container on a Docker engine reached with the official moby client, and
// that engine's state is the truth. Exit codes, the filesystem, processes,
// pause state and archives come from it; nothing is mirrored here.
//
// The mapping of the backend contract:
//
//	Create          ContainerCreate (the resolved Spec; entrypoint and cmd
//	                pinned to the engine's argv, image by ID)
//	Start (main)    ContainerWait(next-exit) + ContainerAttach, then
//	                ContainerStart; a restart starts the same container
//	Start (exec)    ExecCreate + ExecStart, hijacked when attached
//	Wait            the wait result (main) or ExecInspect (exec), after the
//	                streams are drained
//	Signal          ContainerKill (main); execs cannot be signalled
//	Resize          ContainerResize / ExecResize
//	Remove          ContainerRemove(force)
//	Archiver        ContainerStatPath, CopyFromContainer, CopyToContainer
//	Inspector       ContainerTop, ContainerStats
//	Pauser, Changer ContainerPause/Unpause, ContainerDiff
//	Networker       the create's network mode, NetworkingConfig and
//	                published ports (-p, -P) on the engine's networks
//	                (networks.go; the daemon routes the network API to
//	                Networks)
//	Describer       ContainerInspect, for what inspect and list show of
//	                the engine's container (networks, storage, manifest)
//
// The Handle keeps the engine's container ID (Handle.Data), so a restarted
// daemon reaches the same container.
package docker

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/mount"
	"github.com/moby/moby/api/types/network"
	"github.com/moby/moby/client"

	"github.com/sockerless/sockerless/internal/backend"
	"github.com/sockerless/sockerless/internal/errdefs"
)

// Name is the backend's name.
const Name = "docker"

// Labels put on every container the backend creates, so that they can be
// told apart on a shared engine.
const (
	LabelContainer = "com.sockerless.container"
)

// Config configures the backend.
type Config struct {
	// Host is the engine's address: unix:///path or tcp://host:port.
	Host string
	// APIVersion is the highest API version the daemon serves: the engine
	// is spoken to at most at it, so what it answers has the shapes of
	// that version.
	APIVersion string
	Logger     *slog.Logger
}

// Backend is the docker backend.
type Backend struct {
	cli *client.Client
	os  string
	log *slog.Logger
}

// New connects to the engine at cfg.Host and negotiates the API version;
// an engine that does not answer is an error naming the address.
func New(ctx context.Context, cfg Config) (*Backend, error) {
	cli, err := client.New(client.WithHost(cfg.Host), client.WithAPIVersionNegotiation())
	if err != nil {
		return nil, fmt.Errorf("docker backend: --docker-host %q: %w", cfg.Host, err)
	}
	info, err := cli.Info(ctx, client.InfoOptions{})
	if err != nil {
		return nil, errors.Join(errdefs.Unavailable("docker backend: no Docker engine at %s: %v", cfg.Host, err), cli.Close())
	}
	if v := cfg.APIVersion; v != "" && newerVersion(cli.ClientVersion(), v) {
		if err := cli.Close(); err != nil {
			return nil, err
		}
		if cli, err = client.New(client.WithHost(cfg.Host), client.WithAPIVersion(v)); err != nil {
			return nil, fmt.Errorf("docker backend: --docker-host %q: %w", cfg.Host, err)
		}
	}
	logger := cfg.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return &Backend{
		cli: cli, log: logger.With("component", "docker"),
		os: fmt.Sprintf("Sockerless docker backend (%s, Docker %s at %s)", info.Info.OperatingSystem, info.Info.ServerVersion, cfg.Host),
	}, nil
}

// Client is the engine's client, for the daemon's image role: with this
// backend, images are the engine's.
func (b *Backend) Client() *client.Client { return b.cli }

// Close releases the client. Containers stay on the engine.
func (b *Backend) Close(ctx context.Context) error { return b.cli.Close() }

// Info implements backend.Backend.
func (b *Backend) Info() backend.Info {
	return backend.Info{
		Name: Name, OperatingSystem: b.os,
		Capabilities: backend.Capabilities{Exec: true, Archive: true, Pause: true, TTY: true, Users: true},
	}
}

// Create creates the container on the engine. The argv the engine resolved
// becomes the entrypoint, so the engine merges nothing more from the image;
// the engine's Env and WorkingDir already contain the image's.
func (b *Backend) Create(ctx context.Context, spec backend.Spec) (backend.Handle, error) {
	cfg := spec.Config
	argv := append(append([]string{}, cfg.Entrypoint...), cfg.Cmd...)
	if len(argv) == 0 {
		return backend.Handle{}, errdefs.InvalidParameter("no command specified")
	}
	cfg.Entrypoint, cfg.Cmd = argv[:1], argv[1:]
	cfg.Image = spec.ImageID
	cfg.Healthcheck = nil // the engine runs health checks itself, through exec
	cfg.Labels = map[string]string{}
	for k, v := range spec.Config.Labels {
		cfg.Labels[k] = v
	}
	cfg.Labels[LabelContainer] = spec.ID
	hc := &container.HostConfig{ExtraHosts: spec.ExtraHosts}
	var nc *network.NetworkingConfig
	if n := spec.Network; n != nil {
		hc.NetworkMode, nc = networking(n)
		if hc.NetworkMode.IsContainer() {
			cfg.Hostname, cfg.Domainname = "", "" // the other container's, on the engine
		}
		cfg.Labels[LabelDNSNames] = strings.Join(n.DNSNames, ",")
		// The engine binds the host's ports (its userland proxy or NAT)
		// and chooses the ones left empty: inspect shows its choice.
		hc.PortBindings, hc.PublishAllPorts = n.PortBindings, n.PublishAllPorts
	}
	for _, m := range spec.Mounts {
		hc.Mounts = append(hc.Mounts, mount.Mount{Type: mount.TypeBind, Source: m.Source, Target: m.Target, ReadOnly: m.ReadOnly})
	}
	resp, err := b.cli.ContainerCreate(ctx, client.ContainerCreateOptions{
		Config: &cfg, HostConfig: hc, NetworkingConfig: nc, Name: "sockerless-" + spec.ID[:12],
	})
	if err != nil {
		return backend.Handle{}, fromEngine(err)
	}
	for _, w := range resp.Warnings {
		b.log.Warn("engine warning at create", "container_id", spec.ID, "warning", w)
	}
	return backend.Handle{Backend: Name, ID: spec.ID, Data: resp.ID}, nil
}

// Remove removes the container from the engine.
func (b *Backend) Remove(ctx context.Context, h backend.Handle) error {
	_, err := b.cli.ContainerRemove(ctx, engineID(h), client.ContainerRemoveOptions{Force: true})
	return fromEngine(err)
}

// Pause implements backend.Pauser.
func (b *Backend) Pause(ctx context.Context, h backend.Handle) error {
	_, err := b.cli.ContainerPause(ctx, engineID(h), client.ContainerPauseOptions{})
	return fromEngine(err)
}

// Unpause implements backend.Pauser.
func (b *Backend) Unpause(ctx context.Context, h backend.Handle) error {
	_, err := b.cli.ContainerUnpause(ctx, engineID(h), client.ContainerUnpauseOptions{})
	return fromEngine(err)
}

// Changes implements backend.Changer with the engine's own diff.
func (b *Backend) Changes(ctx context.Context, h backend.Handle) ([]container.FilesystemChange, error) {
	res, err := b.cli.ContainerDiff(ctx, engineID(h), client.ContainerDiffOptions{})
	return res.Changes, fromEngine(err)
}

// Sizes are the engine's own measure of the container (inspect with size).
func (b *Backend) Sizes(ctx context.Context, h backend.Handle) (rw, rootFS int64, err error) {
	res, err := b.cli.ContainerInspect(ctx, engineID(h), client.ContainerInspectOptions{Size: true})
	if err != nil {
		return 0, 0, fromEngine(err)
	}
	if c := res.Container; c.SizeRw != nil && c.SizeRootFs != nil {
		return *c.SizeRw, *c.SizeRootFs, nil
	}
	return 0, 0, errdefs.Unavailable("the engine did not report sizes for container %s", engineID(h))
}

// newerVersion tells whether API version a ("1.52") is above b.
func newerVersion(a, b string) bool {
	var amaj, amin, bmaj, bmin int
	if _, err := fmt.Sscanf(a, "%d.%d", &amaj, &amin); err != nil {
		return false
	}
	if _, err := fmt.Sscanf(b, "%d.%d", &bmaj, &bmin); err != nil {
		return false
	}
	return amaj > bmaj || amaj == bmaj && amin > bmin
}

// engineID is the engine's ID of a workload.
func engineID(h backend.Handle) string { return h.Data }

// fromEngine gives an engine error its class, with the engine's message
// (without the client's "Error response from daemon: " prefix).
func fromEngine(err error) error {
	if err == nil {
		return nil
	}
	msg := strings.TrimPrefix(err.Error(), "Error response from daemon: ")
	switch {
	case cerrdefs.IsNotFound(err):
		return errdefs.NotFound("%s", msg)
	case cerrdefs.IsInvalidArgument(err):
		return errdefs.InvalidParameter("%s", msg)
	case cerrdefs.IsConflict(err), cerrdefs.IsAlreadyExists(err), cerrdefs.IsFailedPrecondition(err):
		return errdefs.Conflict("%s", msg)
	case cerrdefs.IsNotImplemented(err):
		return errdefs.NotImplemented("%s", msg)
	case cerrdefs.IsPermissionDenied(err):
		return errdefs.Forbidden("%s", msg)
	case cerrdefs.IsUnauthorized(err):
		return errdefs.Unauthorized("%s", msg)
	case cerrdefs.IsNotModified(err):
		return errdefs.NotModified("%s", msg)
	case client.IsErrConnectionFailed(err), cerrdefs.IsUnavailable(err):
		return errdefs.Unavailable("docker backend: %s", msg)
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return err
	case cerrdefs.IsInternal(err):
		// The engine's own 500: its message, as the engine gives it.
		return errors.New(msg)
	}
	return fmt.Errorf("docker backend: %s", msg)
}

var (
	_ backend.Backend = (*Backend)(nil)
	_ backend.Pauser  = (*Backend)(nil)
	_ backend.Changer = (*Backend)(nil)
)
