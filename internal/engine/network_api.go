package engine

import (
	"context"
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"time"

	"github.com/moby/moby/api/types/events"
	"github.com/moby/moby/api/types/network"

	"github.com/sockerless/sockerless/internal/errdefs"
	"github.com/sockerless/sockerless/internal/filters"
	"github.com/sockerless/sockerless/internal/store"
)

// NetworkCreate creates a bridge network. Other drivers, IPv6, swarm scope,
// ingress and config-only networks are refused as not implemented.
func (e *Engine) NetworkCreate(ctx context.Context, req network.CreateRequest) (network.CreateResponse, error) {
	if req.Name == "" {
		return network.CreateResponse{}, errdefs.InvalidParameter("invalid name: name is empty")
	}
	if isBuiltinNetwork(req.Name) {
		return network.CreateResponse{}, errdefs.Forbidden("operation is not permitted on predefined %s network ", req.Name)
	}
	driver := req.Driver
	if driver == "" {
		driver = "bridge"
	}
	backendName := e.cfg.Backend.Info().Name
	switch {
	case driver == "host" || driver == "null":
		return network.CreateResponse{}, errdefs.Forbidden("only one instance of %q network is allowed", driver)
	case !slices.Contains([]string{"bridge", "overlay", "macvlan", "ipvlan"}, driver):
		// As dockerd: a driver it does not ship is looked up as a plugin.
		return network.CreateResponse{}, errdefs.NotFound("plugin %q not found", driver)
	case driver != "bridge":
		return network.CreateResponse{}, errdefs.NotImplemented("network driver %q is not supported with the %s backend: only \"bridge\" networks can be created", driver, backendName)
	case req.Scope != "" && req.Scope != "local":
		return network.CreateResponse{}, errdefs.NotImplemented("network scope %q is not supported: only \"local\"", req.Scope)
	case req.Ingress || req.ConfigOnly || req.ConfigFrom != nil && req.ConfigFrom.Network != "":
		return network.CreateResponse{}, errdefs.NotImplemented("ingress and config-only networks are swarm features, which are not supported")
	case req.EnableIPv6 != nil && *req.EnableIPv6:
		return network.CreateResponse{}, errdefs.NotImplemented("IPv6 networks are not supported with the %s backend", backendName)
	case req.EnableIPv4 != nil && !*req.EnableIPv4:
		return network.CreateResponse{}, errdefs.NotImplemented("networks without IPv4 are not supported with the %s backend", backendName)
	}
	r := &networkRecord{
		ID: newID(), Name: req.Name, Driver: driver, Created: time.Now().UTC(),
		Labels: req.Labels, Options: req.Options, Internal: req.Internal, Attachable: req.Attachable,
		IPAMOptions: map[string]string{},
	}
	if r.Labels == nil {
		r.Labels = map[string]string{}
	}
	if r.Options == nil {
		r.Options = map[string]string{}
	}
	var cfg network.IPAMConfig
	if ipam := req.IPAM; ipam != nil {
		if ipam.Driver != "" && ipam.Driver != "default" {
			return network.CreateResponse{}, errdefs.NotImplemented("IPAM driver %q is not supported: only \"default\"", ipam.Driver)
		}
		if ipam.Options != nil {
			r.IPAMOptions = ipam.Options
		}
		var v4 []network.IPAMConfig
		for _, c := range ipam.Config {
			if c.Subnet.IsValid() && !c.Subnet.Addr().Is4() {
				return network.CreateResponse{}, errdefs.NotImplemented("IPv6 subnets are not supported with the %s backend", backendName)
			}
			v4 = append(v4, c)
		}
		if len(v4) > 1 {
			return network.CreateResponse{}, errdefs.NotImplemented("networks with more than one IPv4 subnet are not supported")
		}
		if len(v4) == 1 {
			cfg = v4[0]
		}
	}
	e.networks.mu.Lock()
	defer e.networks.mu.Unlock()
	if e.networks.byName(req.Name) != nil {
		return network.CreateResponse{}, errdefs.Conflict("network with name %s already exists", req.Name)
	}
	switch {
	case cfg.Subnet.IsValid():
		r.Subnet = cfg.Subnet.Masked()
		if e.networks.overlaps(r.Subnet) {
			return network.CreateResponse{}, errdefs.Forbidden("Pool overlaps with other one on this address space")
		}
	case cfg.Gateway.IsValid() || cfg.IPRange.IsValid():
		return network.CreateResponse{}, errdefs.InvalidParameter("invalid pool request: a gateway or an IP range needs a subnet")
	default:
		for _, p := range defaultPools() {
			if !e.networks.overlaps(p) {
				r.Subnet = p
				break
			}
		}
		if !r.Subnet.IsValid() {
			return network.CreateResponse{}, errdefs.Forbidden("could not find an available, non-overlapping IPv4 address pool among the defaults to assign to the network")
		}
	}
	r.Gateway = r.Subnet.Addr().Next()
	if cfg.Gateway.IsValid() {
		if !r.Subnet.Contains(cfg.Gateway) {
			return network.CreateResponse{}, errdefs.InvalidParameter("failed to allocate gateway (%s): Requested address is out of range", cfg.Gateway)
		}
		r.Gateway = cfg.Gateway
	}
	if cfg.IPRange.IsValid() {
		r.IPRange = cfg.IPRange.Masked()
		if !r.Subnet.Contains(r.IPRange.Addr()) || r.IPRange.Bits() < r.Subnet.Bits() {
			return network.CreateResponse{}, errdefs.InvalidParameter("Invalid ip range %s: it is not inside subnet %s", cfg.IPRange, r.Subnet)
		}
	}
	for k, a := range cfg.AuxAddress {
		if !r.Subnet.Contains(a) {
			return network.CreateResponse{}, errdefs.InvalidParameter("invalid auxiliary address %s=%s: not in subnet %s", k, a, r.Subnet)
		}
		if r.Aux == nil {
			r.Aux = map[string]netip.Addr{}
		}
		r.Aux[k] = a
	}
	if err := e.cfg.Store.Put(store.Networks, r.ID, r); err != nil {
		return network.CreateResponse{}, err
	}
	e.networks.add(r)
	e.events.Publish(events.NetworkEventType, events.ActionCreate, r.ID, map[string]string{"name": r.Name, "type": r.Driver})
	return network.CreateResponse{ID: r.ID}, nil
}

// networkUser is a container's endpoint on a network, for inspect.
type networkUser struct {
	rec record
	ep  endpoint
}

// networkUsers returns the endpoints on a network, by container: those of
// running containers (as dockerd, a created or stopped container is
// connected by configuration only). Callers hold n.mu.
func (e *Engine) networkUsers(networkID string) []networkUser {
	var out []networkUser
	for _, rec := range e.records() {
		for _, ep := range rec.Endpoints {
			if ep.NetworkID == networkID && ep.active() {
				out = append(out, networkUser{rec, ep})
			}
		}
	}
	return out
}

// records snapshots every container record.
func (e *Engine) records() []record {
	e.mu.Lock()
	defer e.mu.Unlock()
	out := make([]record, 0, len(e.containers))
	for _, c := range e.containers {
		c.mu.Lock()
		out = append(out, c.rec)
		c.mu.Unlock()
	}
	slices.SortFunc(out, func(a, b record) int { return strings.Compare(a.Name, b.Name) })
	return out
}

// networkAPI is the shape of a network in list and inspect.
func networkAPI(r *networkRecord) network.Network {
	out := network.Network{
		Name: r.Name, ID: r.ID, Created: r.Created, Scope: "local", Driver: r.Driver,
		EnableIPv4: true, Internal: r.Internal, Attachable: r.Attachable,
		IPAM:    network.IPAM{Driver: "default", Options: r.IPAMOptions},
		Options: r.Options, Labels: r.Labels,
	}
	// As dockerd: null, not {} or [], when there are no IPAM options or pools
	// (every network has IPv4: networks without it are refused at create).
	if len(out.IPAM.Options) == 0 {
		out.IPAM.Options = nil
	}
	if r.Subnet.IsValid() {
		out.IPAM.Config = append(out.IPAM.Config, network.IPAMConfig{Subnet: r.Subnet, IPRange: r.IPRange, Gateway: r.Gateway, AuxAddress: r.Aux})
	}
	return out
}

// NetworkInspect returns a network by ID, name or ID prefix with its
// containers. verbose only adds swarm services, which do not exist here;
// a scope other than local finds nothing, as on a single dockerd.
func (e *Engine) NetworkInspect(ctx context.Context, ref string, verbose bool, scope string) (network.Inspect, error) {
	e.networks.mu.Lock()
	defer e.networks.mu.Unlock()
	r, err := e.networks.find(ref)
	if err != nil {
		return network.Inspect{}, err
	}
	if scope != "" && scope != "local" {
		return network.Inspect{}, errdefs.NotFound("network %s not found", ref)
	}
	out := network.Inspect{Network: networkAPI(r), Containers: map[string]network.EndpointResource{}}
	for _, u := range e.networkUsers(r.ID) {
		res := network.EndpointResource{Name: strings.TrimPrefix(u.rec.Name, "/"), EndpointID: u.ep.EndpointID}
		if u.ep.IP.IsValid() {
			res.IPv4Address = netip.PrefixFrom(u.ep.IP, r.Subnet.Bits())
			res.MacAddress = hwaddr(u.ep.MAC)
		}
		out.Containers[u.rec.ID] = res
	}
	return out, nil
}

func hwaddr(s string) network.HardwareAddr {
	var h network.HardwareAddr
	if err := h.UnmarshalText([]byte(s)); err != nil {
		return nil
	}
	return h
}

// NetworkList lists networks by name (filters: name, id, label, driver,
// type custom/builtin, scope, dangling).
func (e *Engine) NetworkList(ctx context.Context, f filters.Args) ([]network.Summary, error) {
	if err := f.Validate("name", "id", "label", "driver", "type", "scope", "dangling"); err != nil {
		return nil, err
	}
	for _, t := range f.Get("type") {
		if t != "custom" && t != "builtin" {
			return nil, errdefs.InvalidParameter("invalid filter: 'type'='%s'", t)
		}
	}
	dangling, danglingSet, err := f.Bool("dangling")
	if err != nil {
		return nil, err
	}
	e.networks.mu.Lock()
	defer e.networks.mu.Unlock()
	inUse := map[string]bool{}
	for _, rec := range e.records() {
		for _, ep := range rec.Endpoints {
			inUse[ep.NetworkID] = inUse[ep.NetworkID] || ep.active()
		}
	}
	out := []network.Summary{}
	for _, r := range e.networks.byID {
		if vs := f.Get("name"); len(vs) > 0 && !slices.ContainsFunc(vs, func(v string) bool { return strings.Contains(r.Name, v) }) {
			continue
		}
		if vs := f.Get("id"); len(vs) > 0 && !slices.ContainsFunc(vs, func(v string) bool { return strings.Contains(r.ID, v) }) {
			continue
		}
		typ := "custom"
		if isBuiltinNetwork(r.Name) {
			typ = "builtin"
		}
		if !f.MatchLabels("label", r.Labels) || !f.Match("driver", r.Driver) || !f.Match("type", typ) || !f.Match("scope", "local") {
			continue
		}
		if danglingSet {
			// As dockerd: dangling=true is unused custom networks; false
			// is the others (predefined ones count as in use).
			isDangling := typ == "custom" && !inUse[r.ID]
			if isDangling != dangling {
				continue
			}
		}
		out = append(out, network.Summary{Network: networkAPI(r)})
	}
	slices.SortFunc(out, func(a, b network.Summary) int { return strings.Compare(a.Name, b.Name) })
	return out, nil
}

// NetworkRemove removes a custom network no container is connected to.
func (e *Engine) NetworkRemove(ctx context.Context, ref string) error {
	e.networks.mu.Lock()
	defer e.networks.mu.Unlock()
	r, err := e.networks.find(ref)
	if err != nil {
		return err
	}
	return e.removeNetwork(r)
}

// removeNetwork deletes a network record; callers hold n.mu.
func (e *Engine) removeNetwork(r *networkRecord) error {
	if isBuiltinNetwork(r.Name) {
		return errdefs.Forbidden("%s is a pre-defined network and cannot be removed", r.Name)
	}
	if len(e.networkUsers(r.ID)) > 0 {
		return errdefs.Forbidden("error while removing network: network %s id %s has active endpoints", r.Name, r.ID)
	}
	if err := e.cfg.Store.Delete(store.Networks, r.ID); err != nil {
		return err
	}
	delete(e.networks.byID, r.ID)
	delete(e.networks.used, r.ID)
	e.events.Publish(events.NetworkEventType, events.ActionDestroy, r.ID, map[string]string{"name": r.Name, "type": r.Driver})
	return nil
}

// NetworksPrune removes custom networks no container is connected to
// (filters: label, label!, until).
func (e *Engine) NetworksPrune(ctx context.Context, f filters.Args) (network.PruneReport, error) {
	if err := f.Validate("label", "label!", "until"); err != nil {
		return network.PruneReport{}, err
	}
	until, err := untilFilter(f)
	if err != nil {
		return network.PruneReport{}, err
	}
	e.networks.mu.Lock()
	defer e.networks.mu.Unlock()
	var cands []*networkRecord
	for _, r := range e.networks.byID {
		if isBuiltinNetwork(r.Name) || !f.MatchLabels("label", r.Labels) {
			continue
		}
		if not := f.Get("label!"); len(not) > 0 && (filters.Args{"label": not}).MatchLabels("label", r.Labels) {
			continue
		}
		if !until.IsZero() && !r.Created.Before(until) {
			continue
		}
		if len(e.networkUsers(r.ID)) == 0 {
			cands = append(cands, r)
		}
	}
	slices.SortFunc(cands, func(a, b *networkRecord) int { return strings.Compare(a.Name, b.Name) })
	var rep network.PruneReport // nothing pruned is null, as dockerd
	for _, r := range cands {
		if err := e.removeNetwork(r); err != nil {
			return rep, err
		}
		rep.NetworksDeleted = append(rep.NetworksDeleted, r.Name)
	}
	return rep, nil
}

// untilFilter reads the prune filter until: a Go duration before now, Unix
// seconds or RFC 3339.
func untilFilter(f filters.Args) (time.Time, error) {
	u := f.Get("until")
	if len(u) == 0 {
		return time.Time{}, nil
	}
	if d, err := time.ParseDuration(u[0]); err == nil {
		return time.Now().Add(-d), nil
	}
	if t, err := time.Parse(time.RFC3339Nano, u[0]); err == nil {
		return t, nil
	}
	var sec, nsec int64
	if _, err := fmt.Sscanf(u[0], "%d.%d", &sec, &nsec); err == nil || sec != 0 {
		return time.Unix(sec, nsec), nil
	}
	return time.Time{}, errdefs.InvalidParameter("invalid filter 'until=%s'", u[0])
}
