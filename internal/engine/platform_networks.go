package engine

import (
	"context"
	"maps"
	"strings"

	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/events"
	"github.com/moby/moby/api/types/network"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/sockerless/sockerless/internal/backend"
)

// With a backend.Networker backend (the docker backend) the platform's
// networks are the truth: the engine keeps no endpoints for its
// containers, hands the create request's networking to the backend, and
// shows the backend's network settings in inspect and list. The network
// API itself is then the platform's too (the daemon routes it).

// platformNetwork is a create's networking for a Networker backend. rec
// has the container:<id> mode already resolved to the other container,
// whose workload is peer.
func platformNetwork(opts CreateOptions, rec record, peer backend.Handle) *backend.NetworkSpec {
	eps := map[string]*network.EndpointSettings{}
	for k, v := range opts.Networks {
		if v == nil {
			v = &network.EndpointSettings{}
		}
		eps[k] = v
	}
	return &backend.NetworkSpec{
		Mode: opts.HostConfig.NetworkMode, Peer: peer, Endpoints: eps,
		DNSNames: []string{strings.TrimPrefix(rec.Name, "/"), rec.ID[:12]},
	}
}

// modeKind is the kind of network a network mode names.
func modeKind(mode container.NetworkMode) backend.Networking {
	switch {
	case mode.IsHost():
		return backend.NetworkHost
	case mode.IsNone():
		return backend.NetworkNone
	}
	return backend.NetworkIsolated
}

// networkSettings are a container's networks for inspect and list: the
// platform's with a Networker backend, the engine's endpoints otherwise.
func (e *Engine) networkSettings(ctx context.Context, rec record) (map[string]*network.EndpointSettings, error) {
	nw, ok := e.cfg.Backend.(backend.Networker)
	if !ok {
		return e.endpointSettings(rec), nil
	}
	s, err := nw.NetworkSettings(ctx, rec.Handle)
	return maps.Clone(s), err
}

// ContainerHandle resolves a container reference to its ID and workload,
// for the platform's network calls (connect, disconnect).
func (e *Engine) ContainerHandle(ref string) (string, backend.Handle, error) {
	c, err := e.lookup(ref)
	if err != nil {
		return "", backend.Handle{}, err
	}
	rec, _ := c.snapshot()
	return rec.ID, rec.Handle, nil
}

// ContainerOfWorkload finds the container whose workload's Handle.Data is
// data (a platform's own ID), with its name without the slash.
func (e *Engine) ContainerOfWorkload(data string) (id, name string, ok bool) {
	for _, rec := range e.records() {
		if rec.Handle.Data == data {
			return rec.ID, strings.TrimPrefix(rec.Name, "/"), true
		}
	}
	return "", "", false
}

// NetworkEvent publishes an event of a network the platform owns: the
// engine keeps the events of every backend.
func (e *Engine) NetworkEvent(action events.Action, id string, attrs map[string]string) {
	e.events.Publish(events.NetworkEventType, action, id, attrs)
}

// describe overlays a Describer's facts of the workload on an inspect:
// what the platform keeps and the engine does not.
func describe(ctx context.Context, d backend.Describer, h backend.Handle, out *container.InspectResponse) error {
	p, err := d.Describe(ctx, h)
	if err != nil {
		return err
	}
	out.GraphDriver, out.ImageManifestDescriptor = p.GraphDriver, p.ImageManifestDescriptor
	out.HostnamePath, out.HostsPath, out.ResolvConfPath = p.HostnamePath, p.HostsPath, p.ResolvConfPath
	if hc := p.HostConfig; hc != nil {
		out.HostConfig.CgroupnsMode, out.HostConfig.IpcMode = hc.CgroupnsMode, hc.IpcMode
		out.HostConfig.MaskedPaths, out.HostConfig.ReadonlyPaths = hc.MaskedPaths, hc.ReadonlyPaths
	}
	if _, ok := d.(backend.Networker); ok && p.NetworkSettings != nil {
		out.NetworkSettings = p.NetworkSettings
	}
	return nil
}

// listFacts are a container's networks and, from a Describer, its image
// manifest, for docker ps: one call to the platform per container.
func (e *Engine) listFacts(ctx context.Context, rec record) (map[string]*network.EndpointSettings, *ocispec.Descriptor, error) {
	d, described := e.cfg.Backend.(backend.Describer)
	if _, platform := e.cfg.Backend.(backend.Networker); !described || !platform {
		nets, err := e.networkSettings(ctx, rec)
		return nets, nil, err
	}
	p, err := d.Describe(ctx, rec.Handle)
	if err != nil {
		return nil, nil, err
	}
	nets := map[string]*network.EndpointSettings{}
	if p.NetworkSettings != nil {
		nets = p.NetworkSettings.Networks
	}
	return nets, p.ImageManifestDescriptor, nil
}
