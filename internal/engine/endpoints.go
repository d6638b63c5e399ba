package engine

import (
	"cmp"
	"context"
	"net/netip"
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

// newEndpoint is the configuration of a container's endpoint on a network.
// Nothing is allocated: the address, MAC and endpoint ID come with a start
// (activate). Callers hold n.mu.
func (e *Engine) newEndpoint(r *networkRecord, cfg *network.EndpointSettings) (endpoint, error) {
	ep := endpoint{NetworkID: r.ID, Network: r.Name}
	if cfg == nil {
		return ep, nil
	}
	if cfg.IPAMConfig != nil {
		if cfg.IPAMConfig.IPv6Address.IsValid() {
			return endpoint{}, errdefs.NotImplemented("IPv6 addresses are not supported with the %s backend", e.cfg.Backend.Info().Name)
		}
		ep.Requested = cfg.IPAMConfig.IPv4Address
		if ep.Requested.IsValid() && r.Subnet.IsValid() && !r.Subnet.Contains(ep.Requested) {
			return endpoint{}, errdefs.InvalidParameter("Invalid address %s: It does not belong to any of this network's subnets", ep.Requested)
		}
	}
	ep.Aliases = slices.Clone(cfg.Aliases)
	if len(cfg.DriverOpts) > 0 {
		ep.DriverOpts = cfg.DriverOpts
	}
	if len(cfg.MacAddress) > 0 {
		ep.RequestedMAC = cfg.MacAddress.String()
	}
	return ep, nil
}

// activate allocates an endpoint's address, MAC and ID for container cid
// on r; callers hold n.mu.
func (e *Engine) activate(r *networkRecord, ep endpoint, cid string) (endpoint, error) {
	ip, err := e.networks.allocate(r, ep.Requested, cid)
	if err != nil {
		return endpoint{}, err
	}
	ep.IP, ep.MAC, ep.EndpointID = ip, macFor(ip), newID()
	if ep.RequestedMAC != "" && ip.IsValid() {
		ep.MAC = ep.RequestedMAC
	}
	return ep, nil
}

// deactivate releases an endpoint's allocation; callers hold n.mu.
func (e *Engine) deactivate(ep endpoint) endpoint {
	e.networks.release(ep.NetworkID, ep.IP)
	ep.IP, ep.MAC, ep.EndpointID = netip.Addr{}, "", ""
	return ep
}

// activateEndpoints makes the endpoints of a container that is starting,
// as dockerd does at start: addresses, MACs and IDs, the network connect
// events, and the /etc/hosts of every container on those networks (its
// own included, before its process runs). A network removed since the
// container was connected fails the start. A running container is left
// as it is (start reports it).
func (e *Engine) activateEndpoints(ctx context.Context, c *ctr) error {
	e.networks.mu.Lock()
	defer e.networks.mu.Unlock()
	c.mu.Lock()
	if c.rec.State.Running || c.removed {
		c.mu.Unlock()
		return nil
	}
	id, old := c.rec.ID, c.rec.Endpoints
	c.mu.Unlock()
	eps := slices.Clone(old)
	var made []*networkRecord
	undo := func() {
		for i := range eps {
			if eps[i].active() && !old[i].active() {
				e.networks.release(eps[i].NetworkID, eps[i].IP)
			}
		}
	}
	for i := range eps {
		if eps[i].active() {
			continue
		}
		r := e.networks.byID[eps[i].NetworkID]
		if r == nil {
			undo()
			return errdefs.NotFound("failed to set up container networking: network %s not found", cmp.Or(eps[i].Network, eps[i].NetworkID))
		}
		ep, err := e.activate(r, eps[i], id)
		if err != nil {
			undo()
			return err
		}
		eps[i] = ep
		made = append(made, r)
	}
	if len(made) == 0 {
		e.refreshHosts(ctx, nil, id) // container:<id> shares the other's file
		return nil
	}
	c.mu.Lock()
	c.rec.Endpoints = eps
	err := c.persist()
	if err != nil {
		c.rec.Endpoints = old
	}
	c.mu.Unlock()
	if err != nil {
		undo()
		return err
	}
	ids := make([]string, 0, len(made))
	for _, r := range made {
		e.events.Publish(events.NetworkEventType, events.ActionConnect, r.ID, map[string]string{"container": id, "name": r.Name, "type": r.Driver})
		ids = append(ids, r.ID)
	}
	e.refreshHosts(ctx, ids, id)
	return nil
}

// joined marks the active endpoints of a container whose process started:
// from then on dockerd shows their network's ID. A copy: records handed
// out share the slice.
func joined(eps []endpoint) []endpoint {
	out := slices.Clone(eps)
	for i := range out {
		out[i].Joined = out[i].Joined || out[i].active()
	}
	return out
}

// deactivateEndpoints releases the endpoints of a container whose run has
// ended (or whose start failed), as dockerd does when a container stops:
// the addresses go back to the networks, with disconnect events, and the
// other containers' /etc/hosts lose it. The configuration stays for the
// next start. A container running again by then is left alone.
func (e *Engine) deactivateEndpoints(ctx context.Context, c *ctr) error {
	return e.releaseEndpoints(ctx, c, false)
}

// releaseEndpoints releases c's active endpoints; removed says c is gone
// (its record is not written, and it may have been running).
func (e *Engine) releaseEndpoints(ctx context.Context, c *ctr, removed bool) error {
	e.networks.mu.Lock()
	defer e.networks.mu.Unlock()
	c.mu.Lock()
	if c.rec.State.Running && !removed {
		c.mu.Unlock()
		return nil
	}
	var left []*networkRecord
	changed := false
	eps := slices.Clone(c.rec.Endpoints)
	for i := range eps {
		if !eps[i].active() {
			continue
		}
		eps[i], changed = e.deactivate(eps[i]), true
		if r := e.networks.byID[eps[i].NetworkID]; r != nil {
			left = append(left, r)
		}
	}
	if !changed {
		c.mu.Unlock()
		return nil
	}
	c.rec.Endpoints = eps
	var err error
	if !removed {
		err = c.persist()
	}
	id := c.rec.ID
	c.mu.Unlock()
	ids := make([]string, 0, len(left))
	for _, r := range left {
		e.events.Publish(events.NetworkEventType, events.ActionDisconnect, r.ID, map[string]string{"container": id, "name": r.Name, "type": r.Driver})
		ids = append(ids, r.ID)
	}
	e.refreshHosts(ctx, ids, "")
	return err
}

// planEndpoints resolves a create request's networks: the NetworkMode one
// first, then the other EndpointsConfig entries by name, into endpoint
// configurations (nothing is allocated before a start). Callers hold n.mu.
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
	for _, w := range wants {
		eps := make([]endpoint, len(planned))
		for i, p := range planned {
			eps[i] = p.ep
		}
		if err := e.connectCheck(w.r, name, eps, w.cfg); err != nil {
			return nil, err
		}
		ep, err := e.newEndpoint(w.r, w.cfg)
		if err != nil {
			return nil, err
		}
		planned = append(planned, plannedEndpoint{w.r, ep})
	}
	return planned, nil
}

// barrier waits for /etc/hosts writes in progress (remove calls it after
// marking a container removing, before its workload goes).
func (n *networks) barrier() {
	n.mu.Lock()
	n.mu.Unlock()
}

// loadEndpoints rebuilds the allocations of running containers from the
// records, drops those of records written when endpoints lived as long as
// the container, and connects records written before networks existed to
// their NetworkMode network. Called by New before anything else runs.
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
		live := c.rec.State.Running || c.rec.State.Restarting // settled by New after this
		changed := false
		for i, ep := range c.rec.Endpoints {
			if !live && ep.active() {
				// Written when endpoints lived from create to removal.
				c.rec.Endpoints[i].IP, c.rec.Endpoints[i].MAC, c.rec.Endpoints[i].EndpointID = netip.Addr{}, "", ""
				c.rec.Endpoints[i].Joined = c.rec.State.StartedAt != zeroTime && c.rec.State.StartedAt != ""
				changed = true
				continue
			}
			if used := e.networks.used[ep.NetworkID]; used != nil && ep.IP.IsValid() {
				used[ep.IP] = c.rec.ID
			}
		}
		if changed {
			if err := c.persist(); err != nil {
				return err
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
			// A configuration by name of a network that does not exist:
			// shown as dockerd shows it, with nothing of a network.
			if ep.Network != "" {
				out[ep.Network] = configOnly(ep)
			}
			continue
		}
		// As dockerd: the configuration always; the endpoint's ID, address,
		// gateway and MAC while it runs; the network's ID and the DNS names
		// once it has run.
		s := &network.EndpointSettings{
			Aliases: ep.Aliases, DriverOpts: ep.DriverOpts, EndpointID: ep.EndpointID,
			IPAddress: ep.IP, MacAddress: hwaddr(ep.MAC),
		}
		if !ep.active() {
			s.MacAddress = hwaddr(ep.RequestedMAC)
		}
		if ep.Joined {
			s.NetworkID = r.ID
		}
		if ep.Requested.IsValid() {
			s.IPAMConfig = &network.EndpointIPAMConfig{IPv4Address: ep.Requested}
		}
		if ep.IP.IsValid() {
			s.Gateway, s.IPPrefixLen = r.Gateway, r.Subnet.Bits()
		}
		if r.userDefined() && ep.Joined {
			s.DNSNames = dnsNames(rec, ep)
		}
		out[r.Name] = s
	}
	return out
}

// configOnly is what an endpoint configuration shows without a network.
func configOnly(ep endpoint) *network.EndpointSettings {
	s := &network.EndpointSettings{Aliases: ep.Aliases, DriverOpts: ep.DriverOpts, MacAddress: hwaddr(ep.RequestedMAC)}
	if ep.Requested.IsValid() {
		s.IPAMConfig = &network.EndpointIPAMConfig{IPv4Address: ep.Requested}
	}
	return s
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
