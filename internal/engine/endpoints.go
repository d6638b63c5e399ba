package engine

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/events"
	"github.com/moby/moby/api/types/network"

	"github.com/sockerless/sockerless/internal/errdefs"
)

// modeNetwork is the network a NetworkMode names: "", "default" and
// "bridge" are the default bridge. container:<id> names no network (see
// sharedNetwork); as a network name it is refused.
func modeNetwork(mode container.NetworkMode) (string, error) {
	switch m := string(mode); {
	case m == "" || m == "default":
		return "bridge", nil
	case mode.IsContainer():
		return "", errdefs.InvalidParameter("network mode %q names a container, not a network", m)
	default:
		return m, nil
	}
}

// sharedNetwork resolves --network container:<name|id>: the container
// joins the other's network identity, with no endpoint of its own, as the
// containers of a pod do (act runs `uses: docker://` steps this way). The
// sandbox has no network stack, so what is shared is the identity the
// engine keeps: the hostname and /etc/hosts.
func (e *Engine) sharedNetwork(mode container.NetworkMode, cfgs map[string]*network.EndpointSettings, hostname string) (record, error) {
	if len(cfgs) > 0 {
		return record{}, errdefs.InvalidParameter("conflicting options: container type network can't be used with links or endpoint settings")
	}
	if hostname != "" {
		return record{}, errdefs.InvalidParameter("conflicting options: hostname and the network mode")
	}
	peer, err := e.lookup(mode.ConnectedContainer())
	if errdefs.IsNotFound(err) {
		// dockerd accepts this create and fails the start; the hostname
		// to share is needed now. Not NotFound: the docker CLI reads a 404
		// from create as a missing image and starts a pull.
		return record{}, errdefs.InvalidParameter("network mode %s: %v", mode, err)
	}
	if err != nil {
		return record{}, err
	}
	rec, _ := peer.snapshot()
	return rec, nil
}

// networkPeer is the record whose network identity rec uses: the container
// named by container:<id>, followed through chains, or rec itself. all is
// every container record.
func networkPeer(rec record, all []record) record {
	for range all { // bounded: each step moves to an older container
		if !rec.HostConfig.NetworkMode.IsContainer() {
			return rec
		}
		id := rec.HostConfig.NetworkMode.ConnectedContainer()
		i := slices.IndexFunc(all, func(r record) bool { return r.ID == id })
		if i < 0 {
			return rec
		}
		rec = all[i]
	}
	return rec
}

// plannedEndpoint is an endpoint to add with the network it is on.
type plannedEndpoint struct {
	net *networkRecord
	ep  endpoint
}

// connectCheck applies dockerd's rules for a new endpoint of a container
// that already has eps. Callers hold n.mu.
func (e *Engine) connectCheck(r *networkRecord, name string, eps []endpoint, cfg *network.EndpointSettings) error {
	for _, ep := range eps {
		other := e.networks.byID[ep.NetworkID]
		if other == nil {
			continue
		}
		if ep.NetworkID == r.ID {
			return errdefs.Forbidden("endpoint with name %s already exists in network %s", strings.TrimPrefix(name, "/"), r.Name)
		}
		if other.Driver == "host" || r.Driver == "host" {
			return errdefs.InvalidParameter("container cannot be disconnected from host network or connected to host network")
		}
		if other.Driver == "null" || r.Driver == "null" {
			return errdefs.InvalidParameter("container cannot be connected to multiple networks with one of the networks in private (none) mode")
		}
	}
	if cfg == nil || r.userDefined() {
		return nil
	}
	if len(cfg.Aliases) > 0 {
		return errdefs.InvalidParameter("network-scoped alias is supported only for containers in user defined networks")
	}
	if cfg.IPAMConfig != nil && (cfg.IPAMConfig.IPv4Address.IsValid() || cfg.IPAMConfig.IPv6Address.IsValid()) {
		return errdefs.InvalidParameter("user specified IP address is supported on user defined networks only")
	}
	return nil
}

// newEndpoint allocates an endpoint for a container; callers hold n.mu.
func (e *Engine) newEndpoint(r *networkRecord, cid string, cfg *network.EndpointSettings) (endpoint, error) {
	ep := endpoint{NetworkID: r.ID, EndpointID: newID()}
	if cfg != nil {
		if cfg.IPAMConfig != nil {
			if cfg.IPAMConfig.IPv6Address.IsValid() {
				return endpoint{}, errdefs.NotImplemented("IPv6 addresses are not supported with the %s backend", e.cfg.Backend.Info().Name)
			}
			ep.Requested = cfg.IPAMConfig.IPv4Address
		}
		ep.Aliases = slices.Clone(cfg.Aliases)
		if len(cfg.DriverOpts) > 0 {
			ep.DriverOpts = cfg.DriverOpts
		}
	}
	ip, err := e.networks.allocate(r, ep.Requested, cid)
	if err != nil {
		return endpoint{}, err
	}
	ep.IP = ip
	ep.MAC = macFor(ip)
	if cfg != nil && len(cfg.MacAddress) > 0 && ip.IsValid() {
		ep.MAC = cfg.MacAddress.String()
	}
	return ep, nil
}

// planEndpoints resolves a create request's networks: the NetworkMode one
// first, then the other EndpointsConfig entries by name, and allocates
// their addresses. On error nothing stays allocated. Callers hold n.mu.
//
// An unknown network is an invalid parameter here, not NotFound: dockerd
// creates the container and fails its start, and the docker CLI reads a
// 404 from create as a missing image and starts a pull.
func (e *Engine) planEndpoints(cid, name string, mode container.NetworkMode, cfgs map[string]*network.EndpointSettings) ([]plannedEndpoint, error) {
	planned, err := e.planEndpointsOf(cid, name, mode, cfgs)
	if errdefs.IsNotFound(err) {
		return nil, errdefs.InvalidParameter("%v", err)
	}
	return planned, err
}

func (e *Engine) planEndpointsOf(cid, name string, mode container.NetworkMode, cfgs map[string]*network.EndpointSettings) ([]plannedEndpoint, error) {
	if mode.IsContainer() {
		return nil, nil // the other container's endpoints serve it
	}
	primary, err := modeNetwork(mode)
	if err != nil {
		return nil, err
	}
	type want struct {
		r   *networkRecord
		cfg *network.EndpointSettings
	}
	var wants []want
	r, err := e.networks.find(primary)
	if err != nil {
		return nil, err
	}
	wants = append(wants, want{r, nil})
	keys := slices.Sorted(func(yield func(string) bool) {
		for k := range cfgs {
			if !yield(k) {
				return
			}
		}
	})
	for _, k := range keys {
		kn, err := modeNetwork(container.NetworkMode(k)) // "default" is the bridge
		if err != nil {
			return nil, err
		}
		kr, err := e.networks.find(kn)
		if err != nil {
			return nil, err
		}
		if kr.ID == r.ID {
			wants[0].cfg = cfgs[k]
			continue
		}
		wants = append(wants, want{kr, cfgs[k]})
	}
	var planned []plannedEndpoint
	undo := func() {
		for _, p := range planned {
			e.networks.release(p.net.ID, p.ep.IP)
		}
	}
	for _, w := range wants {
		eps := make([]endpoint, len(planned))
		for i, p := range planned {
			eps[i] = p.ep
		}
		if err := e.connectCheck(w.r, name, eps, w.cfg); err != nil {
			undo()
			return nil, err
		}
		ep, err := e.newEndpoint(w.r, cid, w.cfg)
		if err != nil {
			undo()
			return nil, err
		}
		planned = append(planned, plannedEndpoint{w.r, ep})
	}
	return planned, nil
}

// NetworkConnect connects a container to a network with an endpoint
// configuration (aliases, IPAMConfig.IPv4Address, MAC address).
func (e *Engine) NetworkConnect(ctx context.Context, ref string, req network.ConnectRequest) error {
	e.networks.mu.Lock()
	defer e.networks.mu.Unlock()
	// The container first, as dockerd.
	c, err := e.lookup(req.Container)
	if err != nil {
		return err
	}
	r, err := e.networks.find(ref)
	if err != nil {
		return err
	}
	c.mu.Lock()
	name, id, eps := c.rec.Name, c.rec.ID, c.rec.Endpoints
	removing := c.removed || c.rec.State.Status == container.StateRemoving
	c.mu.Unlock()
	if removing {
		return errdefs.Conflict("container %s is marked for removal and cannot be connected or disconnected to the network", id)
	}
	if err := e.connectCheck(r, name, eps, req.EndpointConfig); err != nil {
		return err
	}
	ep, err := e.newEndpoint(r, id, req.EndpointConfig)
	if err != nil {
		return err
	}
	c.mu.Lock()
	c.rec.Endpoints = append(c.rec.Endpoints, ep)
	err = c.persist()
	if err != nil {
		c.rec.Endpoints = c.rec.Endpoints[:len(c.rec.Endpoints)-1]
	}
	c.mu.Unlock()
	if err != nil {
		e.networks.release(r.ID, ep.IP)
		return err
	}
	e.events.Publish(events.NetworkEventType, events.ActionConnect, r.ID, map[string]string{"container": id, "name": r.Name, "type": r.Driver})
	e.refreshHosts(ctx, []string{r.ID}, id)
	return nil
}

// NetworkDisconnect disconnects a container from a network and releases
// its address. Force changes nothing here: an endpoint is always removable.
func (e *Engine) NetworkDisconnect(ctx context.Context, ref string, req network.DisconnectRequest) error {
	e.networks.mu.Lock()
	defer e.networks.mu.Unlock()
	r, err := e.networks.find(ref)
	if err != nil {
		return err
	}
	c, err := e.lookup(req.Container)
	if err != nil {
		return err
	}
	c.mu.Lock()
	id := c.rec.ID
	i := slices.IndexFunc(c.rec.Endpoints, func(ep endpoint) bool { return ep.NetworkID == r.ID })
	if i < 0 {
		c.mu.Unlock()
		// dockerd's error has no class here: a 500.
		return fmt.Errorf("container %s is not connected to the network %s", id, r.Name)
	}
	if r.Driver == "host" {
		c.mu.Unlock()
		return errdefs.InvalidParameter("container cannot be disconnected from host network or connected to host network")
	}
	ep := c.rec.Endpoints[i]
	old := c.rec.Endpoints
	c.rec.Endpoints = slices.Delete(slices.Clone(old), i, i+1)
	err = c.persist()
	if err != nil {
		c.rec.Endpoints = old
	}
	c.mu.Unlock()
	if err != nil {
		return err
	}
	e.networks.release(r.ID, ep.IP)
	e.events.Publish(events.NetworkEventType, events.ActionDisconnect, r.ID, map[string]string{"container": id, "name": r.Name, "type": r.Driver})
	e.refreshHosts(ctx, []string{r.ID}, id)
	return nil
}

// releaseEndpoints frees a removed container's addresses, publishes its
// disconnect events and refreshes the other containers' /etc/hosts.
func (e *Engine) releaseEndpoints(ctx context.Context, rec record) {
	e.networks.mu.Lock()
	defer e.networks.mu.Unlock()
	var ids []string
	for _, ep := range rec.Endpoints {
		e.networks.release(ep.NetworkID, ep.IP)
		if r := e.networks.byID[ep.NetworkID]; r != nil {
			e.events.Publish(events.NetworkEventType, events.ActionDisconnect, r.ID, map[string]string{"container": rec.ID, "name": r.Name, "type": r.Driver})
			ids = append(ids, r.ID)
		}
	}
	e.refreshHosts(ctx, ids, "")
}

// barrier waits for /etc/hosts writes in progress (remove calls it after
// marking a container removing, before its workload goes).
func (n *networks) barrier() {
	n.mu.Lock()
	n.mu.Unlock()
}

// loadEndpoints rebuilds the allocations from the container records, and
// connects records written before networks existed to their NetworkMode
// network. Called by New before anything else runs.
func (e *Engine) loadEndpoints() error {
	e.networks.mu.Lock()
	defer e.networks.mu.Unlock()
	for _, c := range e.containers {
		if c.rec.Endpoints == nil {
			planned, err := e.planEndpoints(c.rec.ID, c.rec.Name, c.rec.HostConfig.NetworkMode, nil)
			if err != nil {
				e.log.Warn("container not connected to its network", "container_id", c.rec.ID, "err", err)
				continue
			}
			for _, p := range planned {
				p.ep.Aliases = c.rec.LegacyAliases
				c.rec.Endpoints = append(c.rec.Endpoints, p.ep)
			}
			c.rec.LegacyAliases = nil
			if err := c.persist(); err != nil {
				return err
			}
			continue
		}
		for _, ep := range c.rec.Endpoints {
			if used := e.networks.used[ep.NetworkID]; used != nil && ep.IP.IsValid() {
				used[ep.IP] = c.rec.ID
			}
		}
	}
	return nil
}

// endpointSettings is a container's view of its networks, keyed by network
// name, as inspect and docker ps show it.
func (e *Engine) endpointSettings(rec record) map[string]*network.EndpointSettings {
	e.networks.mu.Lock()
	defer e.networks.mu.Unlock()
	out := map[string]*network.EndpointSettings{}
	for _, ep := range rec.Endpoints {
		r := e.networks.byID[ep.NetworkID]
		if r == nil {
			continue
		}
		s := &network.EndpointSettings{
			Aliases: ep.Aliases, DriverOpts: ep.DriverOpts, NetworkID: r.ID, EndpointID: ep.EndpointID,
			IPAddress: ep.IP, MacAddress: hwaddr(ep.MAC),
		}
		if ep.Requested.IsValid() {
			s.IPAMConfig = &network.EndpointIPAMConfig{IPv4Address: ep.Requested}
		}
		if ep.IP.IsValid() {
			s.Gateway, s.IPPrefixLen = r.Gateway, r.Subnet.Bits()
		}
		if r.userDefined() {
			s.DNSNames = dnsNames(rec, ep)
		}
		out[r.Name] = s
	}
	return out
}

// dnsNames are the names an endpoint answers to on a user-defined network:
// the container's name, its aliases, its short ID (as dockerd's DNSNames).
func dnsNames(rec record, ep endpoint) []string {
	names := append([]string{strings.TrimPrefix(rec.Name, "/")}, ep.Aliases...)
	names = append(names, rec.ID[:12])
	var out []string
	for _, n := range names {
		if !slices.Contains(out, n) {
			out = append(out, n)
		}
	}
	return out
}
