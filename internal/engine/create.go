package engine

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"path"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/events"
	"github.com/moby/moby/api/types/network"

	"github.com/sockerless/sockerless/internal/backend"
	"github.com/sockerless/sockerless/internal/errdefs"
)

// ImageConfig is what a container takes from its image.
type ImageConfig struct {
	ID         string
	User       string
	Env        []string
	Entrypoint []string
	Cmd        []string
	WorkingDir string
	Labels     map[string]string
	Volumes    map[string]struct{}
	// ExposedPorts are the image's EXPOSE: -P publishes them too.
	ExposedPorts network.PortSet
	StopSignal   string
	Healthcheck  *container.HealthConfig
}

// ImageStore resolves image references for the engine.
type ImageStore interface {
	// ImageConfig finds an image by reference or ID; an unknown one is a
	// NotFound error reading "No such image: REF".
	ImageConfig(ctx context.Context, ref string) (ImageConfig, error)
}

var validName = regexp.MustCompile(`^/?[a-zA-Z0-9][a-zA-Z0-9_.-]+$`)

// CreateOptions is a decoded create request.
type CreateOptions struct {
	Name       string
	Config     container.Config
	HostConfig container.HostConfig
	// Networks are NetworkingConfig.EndpointsConfig: per network (name or
	// ID) aliases, IPAMConfig.IPv4Address, MAC address. The NetworkMode
	// network is connected first, then the others.
	Networks map[string]*network.EndpointSettings
}

// ContainerCreate creates a container with Docker's merge semantics: the
// image's Env is overridden per key, an Entrypoint given at create clears
// the image's Cmd, labels merge, and the image's VOLUMEs become anonymous
// volumes.
func (e *Engine) ContainerCreate(ctx context.Context, opts CreateOptions) (container.CreateResponse, error) {
	if err := validateCreate(&opts.Config, &opts.HostConfig); err != nil {
		return container.CreateResponse{}, err
	}
	if len(opts.HostConfig.Links) > 0 {
		for _, l := range opts.HostConfig.Links {
			// As dockerd, a link to a missing container is the caller's
			// mistake (400), whatever else is wrong.
			target, _, _ := strings.Cut(l, ":")
			if _, err := e.lookup(target); err != nil {
				return container.CreateResponse{}, errdefs.InvalidParameter("could not get container for %s", target)
			}
		}
		return container.CreateResponse{}, errdefs.NotImplemented("legacy links (--link) are not supported: connect the containers to a user-defined network instead")
	}
	if _, ok := e.cfg.Backend.(backend.Networker); !ok && (len(opts.HostConfig.PortBindings) > 0 || opts.HostConfig.PublishAllPorts) {
		// Only a platform that owns the networks has host ports to bind.
		return container.CreateResponse{}, e.unsupported("publishing ports (-p, -P)")
	}
	if t := opts.HostConfig.LogConfig.Type; t != "" && t != logDriver {
		return container.CreateResponse{}, errdefs.NotImplemented("logging driver %q is not supported: the daemon keeps every container's log in the %s format", t, logDriver)
	}
	// A namespace shared with a missing container is the caller's mistake;
	// which namespaces a backend can share is its own business.
	for _, ref := range []string{opts.HostConfig.PidMode.Container(), opts.HostConfig.IpcMode.Container()} {
		if ref != "" {
			if _, err := e.lookup(ref); err != nil {
				return container.CreateResponse{}, errdefs.InvalidParameter("%v", err)
			}
		}
	}
	from, err := e.volumesFrom(opts.HostConfig.VolumesFrom)
	if err != nil {
		return container.CreateResponse{}, err
	}
	// As dockerd, a container may be created without an image: its root
	// is empty, so it has nothing to run and its starts fail.
	var img ImageConfig
	if opts.Config.Image != "" {
		if img, err = e.cfg.Images.ImageConfig(ctx, opts.Config.Image); err != nil {
			return container.CreateResponse{}, err
		}
	}
	cfg := mergeConfig(img, opts.Config)
	if len(cfg.Entrypoint) == 0 && len(cfg.Cmd) == 0 {
		return container.CreateResponse{}, errdefs.InvalidParameter("no command specified")
	}
	id := newID()
	var peerHandle backend.Handle
	if opts.HostConfig.NetworkMode.IsContainer() {
		peer, err := e.sharedNetwork(opts.HostConfig.NetworkMode, opts.Networks, cfg.Hostname)
		if err != nil {
			return container.CreateResponse{}, err
		}
		peerHandle = peer.Handle
		// Stored by ID, as dockerd does, so a rename of the other
		// container does not break the link.
		opts.HostConfig.NetworkMode = container.NetworkMode("container:" + peer.ID)
		cfg.Hostname = peer.Config.Hostname
	}
	if cfg.Hostname == "" {
		cfg.Hostname = id[:12]
	}
	name, err := e.reserveName(opts.Name, id)
	if err != nil {
		return container.CreateResponse{}, err
	}
	release := func() {
		e.mu.Lock()
		delete(e.names, name)
		e.mu.Unlock()
	}
	points, mounts, err := e.volumes.resolve(ctx, id, opts.HostConfig, from, cfg.Volumes)
	if err != nil {
		release()
		return container.CreateResponse{}, err
	}
	argv := append(slices.Clone([]string(cfg.Entrypoint)), cfg.Cmd...)
	hc := opts.HostConfig
	if hc.NetworkMode == "" {
		hc.NetworkMode = "bridge"
	}
	// As dockerd, record the daemon's driver: clients read it to decide
	// whether logs can be read back (docker-py's containers.run does).
	hc.LogConfig.Type = logDriver
	rec := record{
		ID: id, Name: name, Created: time.Now().UTC(), Path: argv[0], Args: argv[1:],
		Image: opts.Config.Image, ImageID: img.ID, Config: cfg, HostConfig: hc, Mounts: points,
		State: container.State{Status: container.StateCreated, StartedAt: zeroTime, FinishedAt: zeroTime},
	}
	if rec.Args == nil {
		rec.Args = []string{}
	}
	var netSpec *backend.NetworkSpec
	if _, ok := e.cfg.Backend.(backend.Networker); ok {
		// The platform's networks are the truth: no endpoints here.
		rec.Endpoints = []endpoint{}
		netSpec = platformNetwork(opts, rec, peerHandle)
	}
	// The endpoints are configured, not allocated: as dockerd, a
	// container gets its addresses when it starts (activateEndpoints).
	e.networks.mu.Lock()
	var planned []plannedEndpoint
	if netSpec == nil {
		planned, err = e.planEndpoints(id, name, hc.NetworkMode, opts.Networks)
	}
	var hosts []byte
	netKind := networking(planned)
	if netSpec != nil {
		netKind = modeKind(netSpec.Mode)
	}
	if err == nil && netKind == backend.NetworkHost && opts.Config.Hostname == "" {
		// As dockerd: on the host's network, the host's name.
		if h, herr := os.Hostname(); herr == nil {
			cfg.Hostname, rec.Config.Hostname = h, h
		}
	}
	if err == nil && netSpec == nil {
		for _, p := range planned {
			rec.Endpoints = append(rec.Endpoints, p.ep)
		}
		all := e.records()
		hosts = e.hostsFile(rec, all)
		if hc.NetworkMode.IsContainer() {
			netKind = e.networkingOf(networkPeer(rec, all)) // the other container's kind
		}
	}
	e.networks.mu.Unlock()
	if err != nil {
		release()
		return container.CreateResponse{}, err
	}
	rec.Handle, err = e.cfg.Backend.Create(ctx, backend.Spec{
		ID: id, ImageID: img.ID, Config: cfg, Mounts: mounts, Hostname: cfg.Hostname, HostsFile: hosts,
		Networking: netKind, ExtraHosts: slices.Clone(hc.ExtraHosts), Network: netSpec,
	})
	if err != nil {
		release()
		return container.CreateResponse{}, err
	}
	c := newCtr(e, rec)
	if err := c.persist(); err != nil {
		release()
		return container.CreateResponse{}, err
	}
	e.mu.Lock()
	e.containers[id] = c
	e.mu.Unlock()
	e.events.Publish(events.ContainerEventType, events.ActionCreate, id, c.attrs())
	return container.CreateResponse{ID: id, Warnings: []string{}}, nil
}

// networking is the kind of network a container's first (NetworkMode)
// network is.
func networking(planned []plannedEndpoint) backend.Networking {
	if len(planned) == 0 {
		return backend.NetworkIsolated
	}
	switch planned[0].net.Driver {
	case "host":
		return backend.NetworkHost
	case "null":
		return backend.NetworkNone
	}
	return backend.NetworkIsolated
}

// networkingOf is the kind of network rec's first endpoint is on; callers
// hold n.mu.
func (e *Engine) networkingOf(rec record) backend.Networking {
	if len(rec.Endpoints) == 0 {
		return backend.NetworkIsolated
	}
	switch r := e.networks.byID[rec.Endpoints[0].NetworkID]; {
	case r == nil:
		return backend.NetworkIsolated
	case r.Driver == "host":
		return backend.NetworkHost
	case r.Driver == "null":
		return backend.NetworkNone
	}
	return backend.NetworkIsolated
}

// mergeConfig applies the create options over the image's configuration.
func mergeConfig(img ImageConfig, req container.Config) container.Config {
	cfg := req
	cfg.Env = mergeEnv(img.Env, req.Env)
	if len(req.Entrypoint) == 1 && req.Entrypoint[0] == "" {
		// --entrypoint "": no entrypoint at all, and, as for any override,
		// not the image's Cmd either.
		cfg.Entrypoint = nil
		if len(req.Cmd) == 0 {
			cfg.Cmd = nil
		}
	} else if len(req.Entrypoint) == 0 {
		cfg.Entrypoint = img.Entrypoint
		if len(req.Cmd) == 0 {
			cfg.Cmd = img.Cmd
		}
	}
	if cfg.WorkingDir == "" {
		cfg.WorkingDir = img.WorkingDir
	}
	if cfg.WorkingDir != "" && !path.IsAbs(cfg.WorkingDir) {
		cfg.WorkingDir = "/" + cfg.WorkingDir
	}
	if cfg.User == "" {
		cfg.User = img.User
	}
	if cfg.StopSignal == "" {
		cfg.StopSignal = img.StopSignal
	}
	if cfg.Healthcheck == nil {
		cfg.Healthcheck = img.Healthcheck
	} else if img.Healthcheck != nil && len(cfg.Healthcheck.Test) == 0 {
		h := *cfg.Healthcheck
		h.Test = img.Healthcheck.Test
		cfg.Healthcheck = &h
	}
	labels := map[string]string{}
	for k, v := range img.Labels {
		labels[k] = v
	}
	for k, v := range req.Labels {
		labels[k] = v
	}
	cfg.Labels = labels
	vols := map[string]struct{}{}
	for v := range img.Volumes {
		vols[v] = struct{}{}
	}
	for v := range req.Volumes {
		vols[v] = struct{}{}
	}
	if len(vols) > 0 {
		cfg.Volumes = vols
	}
	if len(img.ExposedPorts) > 0 {
		ports := network.PortSet{}
		for p := range img.ExposedPorts {
			ports[p] = struct{}{}
		}
		for p := range req.ExposedPorts {
			ports[p] = struct{}{}
		}
		cfg.ExposedPorts = ports
	}
	return cfg
}

// mergeEnv overrides the image's variables per key.
func mergeEnv(base, over []string) []string {
	out := slices.Clone(base)
	for _, kv := range over {
		k, _, _ := strings.Cut(kv, "=")
		i := slices.IndexFunc(out, func(e string) bool { return e == k || strings.HasPrefix(e, k+"=") })
		if i >= 0 {
			out[i] = kv
		} else {
			out = append(out, kv)
		}
	}
	return out
}

func newID() string {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		panic(err) // crypto/rand never fails on Linux
	}
	return hex.EncodeToString(b)
}

// reserveName checks and takes a name; an empty one gets a generated name.
func (e *Engine) reserveName(name, id string) (string, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if name == "" {
		for {
			name = "/" + generateName()
			if _, taken := e.names[name]; !taken {
				break
			}
		}
	} else {
		if !validName.MatchString(name) {
			return "", errdefs.InvalidParameter("Invalid container name (%s), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed", name)
		}
		if name[0] != '/' {
			name = "/" + name
		}
		if other, taken := e.names[name]; taken {
			return "", errdefs.Conflict("Conflict. The container name %q is already in use by container %q. You have to remove (or rename) that container to be able to reuse that name.", name, other)
		}
	}
	e.names[name] = id
	return name, nil
}
