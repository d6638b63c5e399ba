package engine

import (
	"context"
	"strings"

	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/events"
	"github.com/moby/moby/api/types/network"

	"github.com/sockerless/sockerless/internal/backend"
)

// What a platform keeps of a workload, shown by the engine. A
// backend.Describer's own record of a workload (the docker backend: the
// engine's inspect) gives the facts the engine does not keep. With a
// backend.Networker (the docker backend) the platform's networks are the
// truth: the engine keeps no endpoints for its containers, hands the
// create request's networking to the backend, and shows the platform's
// networks in inspect and list. The network API itself is then the
// platform's too (the daemon routes it).

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
		DNSNames:     []string{strings.TrimPrefix(rec.Name, "/"), rec.ID[:12]},
		PortBindings: opts.HostConfig.PortBindings, PublishAllPorts: opts.HostConfig.PublishAllPorts,
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

// described is the platform's own record of rec's workload, or nil for a
// backend that is not a Describer.
func (e *Engine) described(ctx context.Context, rec record) (*container.InspectResponse, error) {
	d, ok := e.cfg.Backend.(backend.Describer)
	if !ok {
		return nil, nil
	}
	p, err := d.Describe(ctx, rec.Handle)
	return &p, err
}

// networksOf are a container's networks for inspect and list: the
// platform's (from its record p) with a Networker backend, the engine's
// endpoints otherwise.
func (e *Engine) networksOf(rec record, p *container.InspectResponse) map[string]*network.EndpointSettings {
	if _, ok := e.cfg.Backend.(backend.Networker); !ok {
		return e.endpointSettings(rec)
	}
	if p == nil || p.NetworkSettings == nil || p.NetworkSettings.Networks == nil {
		return map[string]*network.EndpointSettings{}
	}
	return p.NetworkSettings.Networks
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

// overlay puts the platform's facts of a workload (its record p) on an
// inspect: what the platform keeps and the engine does not.
func (e *Engine) overlay(p *container.InspectResponse, out *container.InspectResponse) {
	out.GraphDriver, out.ImageManifestDescriptor = p.GraphDriver, p.ImageManifestDescriptor
	out.HostnamePath, out.HostsPath, out.ResolvConfPath = p.HostnamePath, p.HostsPath, p.ResolvConfPath
	if hc := p.HostConfig; hc != nil {
		out.HostConfig.CgroupnsMode, out.HostConfig.IpcMode = hc.CgroupnsMode, hc.IpcMode
		out.HostConfig.MaskedPaths, out.HostConfig.ReadonlyPaths = hc.MaskedPaths, hc.ReadonlyPaths
	}
	if _, ok := e.cfg.Backend.(backend.Networker); ok && p.NetworkSettings != nil {
		out.NetworkSettings = p.NetworkSettings // the sandbox too, not only the endpoints
	}
}
