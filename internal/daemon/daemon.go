// Package daemon is the composition root: it builds the store, the image
// store, the backend, the engine and the Docker API server from a config,
// listens, and serves until its context ends. It also adapts the engine and
// the image store to the API layer's role interfaces.
package daemon

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/sockerless/sockerless/internal/backend"
	"github.com/sockerless/sockerless/internal/backends/docker"
	"github.com/sockerless/sockerless/internal/backends/memory"
	"github.com/sockerless/sockerless/internal/config"
	"github.com/sockerless/sockerless/internal/dockerapi"
	"github.com/sockerless/sockerless/internal/engine"
	"github.com/sockerless/sockerless/internal/image"
	"github.com/sockerless/sockerless/internal/store"
)

// Version information.
const (
	Version       = "0.1.0"
	APIVersion    = dockerapi.MaxAPIVersion
	MinAPIVersion = dockerapi.MinAPIVersion
)

// Daemon is a built, not yet serving, daemon.
type Daemon struct {
	store   *store.Store
	backend closer
	engine  *engine.Engine
	api     *dockerapi.Server
}

// closer is a backend the daemon releases when it stops.
type closer interface {
	backend.Backend
	Close(ctx context.Context) error
}

// New builds a daemon over cfg.DataRoot.
func New(ctx context.Context, cfg config.Config, logger *slog.Logger) (*Daemon, error) {
	if err := os.MkdirAll(cfg.DataRoot, 0o700); err != nil {
		return nil, fmt.Errorf("data root: %w", err)
	}
	st, err := store.Open(filepath.Join(cfg.DataRoot, "state.db"))
	if err != nil {
		return nil, err
	}
	d := &Daemon{store: st}
	fail := func(err error) (*Daemon, error) { return nil, errors.Join(err, d.Close(ctx)) }
	var images imageRole
	var engineNets *docker.Networks
	var setInUse func(func(id string) (image.Use, bool))
	switch cfg.Backend {
	case docker.Name:
		b, err := docker.New(ctx, docker.Config{Host: cfg.DockerHost, APIVersion: APIVersion, Logger: logger})
		if err != nil {
			return fail(err)
		}
		d.backend, images, engineNets = b, engineImages{b.Images()}, b.Networks()
	default:
		store, err := image.Open(filepath.Join(cfg.DataRoot, "image"), logger)
		if err != nil {
			return fail(err)
		}
		if _, err := store.EnsureBase(ctx); err != nil {
			return fail(fmt.Errorf("built-in image: %w", err))
		}
		b, err := memory.New(ctx, memory.Config{DataRoot: filepath.Join(cfg.DataRoot, "memory"), Images: Unpacker{store}, Logger: logger})
		if err != nil {
			return fail(err)
		}
		d.backend, images, setInUse = b, localImages{ImageConfigs{store}}, store.SetInUse
	}
	d.engine, err = engine.New(ctx, engine.Config{
		DataRoot: filepath.Join(cfg.DataRoot, "engine"), Store: st, Backend: d.backend,
		Images: images, Logger: logger, Version: Version,
	})
	if err != nil {
		return fail(err)
	}
	if setInUse != nil {
		// The daemon's own store refuses to remove images containers use;
		// a Docker engine knows that of its own images.
		setInUse(func(id string) (image.Use, bool) {
			u, ok := d.engine.ImageUse(id)
			return image.Use{ContainerID: u.ContainerID, Running: u.Running}, ok
		})
	}
	a := &api{Engine: d.engine, imageRole: images}
	// Networks are the engine's own, or the Docker engine's with the
	// docker backend (networks_engine.go), as images are.
	var networks dockerapi.NetworkBackend = d.engine
	if engineNets != nil {
		networks = engineNetworks{nets: engineNets, containers: d.engine}
	}
	d.api = dockerapi.New(dockerapi.Config{
		System: a, Containers: a, Archive: a, Exec: a, Images: a, Volumes: a, Networks: networks,
		Logger: logger, BackendName: d.backend.Info().Name, ServerVersion: Version,
	})
	return d, nil
}

// Handler is the API handler (for tests that serve it themselves).
func (d *Daemon) Handler() http.Handler { return d.api.Handler() }

// Close stops the engine and releases everything.
func (d *Daemon) Close(ctx context.Context) error {
	var errs []error
	if d.engine != nil {
		errs = append(errs, d.engine.Close())
	}
	if d.backend != nil {
		errs = append(errs, d.backend.Close(ctx))
	}
	if d.store != nil {
		errs = append(errs, d.store.Close())
	}
	return errors.Join(errs...)
}

// Run builds the daemon, listens on every host, prints the DOCKER_HOST to
// use, and serves until ctx ends.
func Run(ctx context.Context, cfg config.Config, logger *slog.Logger, out io.Writer) error {
	var tlsConfig *tls.Config
	if cfg.TLSCert != "" {
		var err error
		tlsConfig, err = dockerapi.TLSConfig(dockerapi.TLSOptions{Verify: cfg.TLSVerify, CAFile: cfg.TLSCACert, CertFile: cfg.TLSCert, KeyFile: cfg.TLSKey})
		if err != nil {
			return err
		}
	}
	d, err := New(ctx, cfg, logger)
	if err != nil {
		return err
	}
	var listeners []net.Listener
	for _, h := range cfg.Hosts {
		var tc *tls.Config
		if strings.HasPrefix(h, "tcp://") {
			tc = tlsConfig
		}
		l, err := dockerapi.Listen(h, tc)
		if err != nil {
			for _, l := range listeners {
				_ = l.Close() // nothing was served on it yet
			}
			return errors.Join(err, d.Close(ctx))
		}
		listeners = append(listeners, l)
		fmt.Fprintf(out, "sockerless %s (%s backend) listening: export DOCKER_HOST=%s\n", Version, cfg.Backend, h)
	}
	srv := &http.Server{Handler: d.Handler(), ReadHeaderTimeout: 30 * time.Second}
	errc := make(chan error, len(listeners))
	for _, l := range listeners {
		go func() { errc <- srv.Serve(l) }()
	}
	var serveErr error
	select {
	case <-ctx.Done():
	case serveErr = <-errc:
	}
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	err = srv.Shutdown(sctx)
	if errors.Is(err, context.DeadlineExceeded) {
		err = srv.Close() // hijacked streams do not end on their own
	}
	if errors.Is(serveErr, http.ErrServerClosed) {
		serveErr = nil
	}
	return errors.Join(serveErr, err, d.Close(sctx))
}
