package engine

// Networks are records and address bookkeeping, owned here like names and
// volumes. A network is a subnet with a gateway; connecting a container
// allocates it an address from that subnet (or the one asked for), a MAC
// address derived from it as dockerd does (02:42:<IPv4>), and an endpoint
// ID. Allocations live in the container records (record.Endpoints), so they
// are persisted with the container and rebuilt from the records at start.
//
// Nothing routes packets: the memory backend has no network stack (WASI
// preview 1 has no sockets), so the addresses are what inspect and
// /etc/hosts show, and nothing listens on them. Name resolution is
// /etc/hosts (see hostsFile), rewritten through backend.HostsWriter whenever
// a container joins or leaves a network, is renamed or started.
//
// Locking: networks.mu serializes every network change and every /etc/hosts
// write; it is taken before e.mu and c.mu, never while holding them.

import (
	"context"
	"encoding/json"
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/events"
	"github.com/moby/moby/api/types/network"

	"github.com/sockerless/sockerless/internal/backend"
	"github.com/sockerless/sockerless/internal/errdefs"
	"github.com/sockerless/sockerless/internal/filters"
	"github.com/sockerless/sockerless/internal/store"
)

// networkRecord is a network as persisted in the store (bucket networks,
// key ID).
type networkRecord struct {
	ID          string                `json:"id"`
	Name        string                `json:"name"`
	Driver      string                `json:"driver"` // bridge, host or null
	Created     time.Time             `json:"created"`
	Labels      map[string]string     `json:"labels"`
	Options     map[string]string     `json:"options"`
	IPAMOptions map[string]string     `json:"ipam_options,omitempty"`
	Internal    bool                  `json:"internal,omitempty"`
	Attachable  bool                  `json:"attachable,omitempty"`
	Subnet      netip.Prefix          `json:"subnet,omitzero"`
	IPRange     netip.Prefix          `json:"ip_range,omitzero"`
	Gateway     netip.Addr            `json:"gateway,omitzero"`
	Aux         map[string]netip.Addr `json:"aux,omitempty"`
}

// endpoint is a container's connection to a network, kept in its record.
type endpoint struct {
	NetworkID  string            `json:"network_id"`
	EndpointID string            `json:"endpoint_id"`
	IP         netip.Addr        `json:"ip,omitzero"`
	MAC        string            `json:"mac,omitempty"`
	Aliases    []string          `json:"aliases,omitempty"`
	DriverOpts map[string]string `json:"driver_opts,omitempty"`
	// Requested is IPAMConfig.IPv4Address as the user gave it.
	Requested netip.Addr `json:"requested,omitzero"`
}

// The predefined networks, created on the first start of a data root.
var builtinNetworks = []struct{ name, driver, subnet, gateway string }{
	{"bridge", "bridge", "172.17.0.0/16", "172.17.0.1"},
	{"host", "host", "", ""},
	{"none", "null", "", ""},
}

func isBuiltinNetwork(name string) bool {
	return name == "bridge" || name == "host" || name == "none"
}

// userDefined reports whether names resolve on a network, as on dockerd's
// user-defined bridges (not on the default bridge, host or none).
func (r *networkRecord) userDefined() bool { return r.Driver == "bridge" && r.Name != "bridge" }

// networks is the engine's network table.
type networks struct {
	mu   sync.Mutex
	byID map[string]*networkRecord
	// used maps network ID → address → container ID (or "" for the
	// gateway and auxiliary addresses).
	used map[string]map[netip.Addr]string
}

func openNetworks(s *store.Store) (*networks, error) {
	n := &networks{byID: map[string]*networkRecord{}, used: map[string]map[netip.Addr]string{}}
	err := s.Each(store.Networks, func(id string, raw []byte) error {
		var r networkRecord
		if err := json.Unmarshal(raw, &r); err != nil {
			return fmt.Errorf("network %s: %w", id, err)
		}
		n.add(&r)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("engine: load networks: %w", err)
	}
	for _, b := range builtinNetworks {
		if n.byName(b.name) != nil {
			continue
		}
		r := &networkRecord{ID: newID(), Name: b.name, Driver: b.driver, Created: time.Now().UTC(), Labels: map[string]string{}, Options: map[string]string{}}
		if b.subnet != "" {
			r.Subnet, r.Gateway = netip.MustParsePrefix(b.subnet), netip.MustParseAddr(b.gateway)
		}
		if err := s.Put(store.Networks, r.ID, r); err != nil {
			return nil, err
		}
		n.add(r)
	}
	return n, nil
}

// add registers a record and reserves its gateway and auxiliary addresses.
func (n *networks) add(r *networkRecord) {
	n.byID[r.ID] = r
	used := map[netip.Addr]string{}
	if r.Gateway.IsValid() {
		used[r.Gateway] = ""
	}
	for _, a := range r.Aux {
		used[a] = ""
	}
	n.used[r.ID] = used
}

func (n *networks) byName(name string) *networkRecord {
	for _, r := range n.byID {
		if r.Name == name {
			return r
		}
	}
	return nil
}

// find resolves a reference as dockerd does: full ID, then name, then a
// unique ID prefix. Callers hold n.mu.
func (n *networks) find(ref string) (*networkRecord, error) {
	if r, ok := n.byID[ref]; ok {
		return r, nil
	}
	if r := n.byName(ref); r != nil {
		return r, nil
	}
	var found []*networkRecord
	if ref != "" {
		for id, r := range n.byID {
			if strings.HasPrefix(id, ref) {
				found = append(found, r)
			}
		}
	}
	switch len(found) {
	case 0:
		return nil, errdefs.NotFound("network %s not found", ref)
	case 1:
		return found[0], nil
	}
	return nil, errdefs.InvalidParameter("network %s is ambiguous (%d matches found based on ID prefix)", ref, len(found))
}

// allocate takes an address for cid: want when valid, else the first free
// one in the range. Networks without a subnet (host, none) give none.
func (n *networks) allocate(r *networkRecord, want netip.Addr, cid string) (netip.Addr, error) {
	if !r.Subnet.IsValid() {
		return netip.Addr{}, nil
	}
	used := n.used[r.ID]
	if want.IsValid() {
		if !r.Subnet.Contains(want) {
			return netip.Addr{}, errdefs.InvalidParameter("Invalid address %s: It does not belong to any of this network's subnets", want)
		}
		if _, taken := used[want]; taken || want == r.Subnet.Addr() || want == lastAddr(r.Subnet) {
			return netip.Addr{}, errdefs.Forbidden("Address already in use")
		}
		used[want] = cid
		return want, nil
	}
	pool := r.Subnet
	if r.IPRange.IsValid() {
		pool = r.IPRange
	}
	for a := pool.Addr().Next(); pool.Contains(a) && a != lastAddr(r.Subnet); a = a.Next() {
		if _, taken := used[a]; !taken {
			used[a] = cid
			return a, nil
		}
	}
	return netip.Addr{}, errdefs.Forbidden("no available IPv4 addresses on network %s", r.Name)
}

func (n *networks) release(networkID string, ip netip.Addr) {
	if ip.IsValid() {
		delete(n.used[networkID], ip)
	}
}

// lastAddr is a subnet's broadcast address.
func lastAddr(p netip.Prefix) netip.Addr {
	b := p.Masked().Addr().As4()
	host := uint32(1)<<(32-p.Bits()) - 1
	v := (uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3])) | host
	return netip.AddrFrom4([4]byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)})
}

// macFor derives the MAC address dockerd gives an IPv4 endpoint.
func macFor(ip netip.Addr) string {
	if !ip.Is4() {
		return ""
	}
	b := ip.As4()
	return fmt.Sprintf("02:42:%02x:%02x:%02x:%02x", b[0], b[1], b[2], b[3])
}

// defaultPools are dockerd's default address pools after 172.17.0.0/16
// (the default bridge): 172.18–31.0.0/16, then 192.168.0.0/16 in /20s.
func defaultPools() []netip.Prefix {
	var out []netip.Prefix
	for i := 18; i <= 31; i++ {
		out = append(out, netip.PrefixFrom(netip.AddrFrom4([4]byte{172, byte(i), 0, 0}), 16))
	}
	for i := 0; i < 256; i += 16 {
		out = append(out, netip.PrefixFrom(netip.AddrFrom4([4]byte{192, 168, byte(i), 0}), 20))
	}
	return out
}

func (n *networks) overlaps(p netip.Prefix) bool {
	for _, r := range n.byID {
		if r.Subnet.IsValid() && r.Subnet.Overlaps(p) {
			return true
		}
	}
	return false
}

// NetworkCreate creates a bridge network. Other drivers, IPv6, swarm scope,
// ingress and config-only networks are refused as not implemented.
func (e *Engine) NetworkCreate(ctx context.Context, req network.CreateRequest) (network.CreateResponse, error) {
	if req.Name == "" {
		return network.CreateResponse{}, errdefs.InvalidParameter("invalid name: %s", req.Name)
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

// networkUsers returns the endpoints on a network, by container. Callers
// hold n.mu.
func (e *Engine) networkUsers(networkID string) []networkUser {
	var out []networkUser
	for _, rec := range e.records() {
		for _, ep := range rec.Endpoints {
			if ep.NetworkID == networkID {
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
		EnableIPv4: r.Driver == "bridge", Internal: r.Internal, Attachable: r.Attachable,
		IPAM:    network.IPAM{Driver: "default", Options: r.IPAMOptions, Config: []network.IPAMConfig{}},
		Options: r.Options, Labels: r.Labels,
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
			inUse[ep.NetworkID] = true
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
	rep := network.PruneReport{NetworksDeleted: []string{}}
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

// modeNetwork is the network a NetworkMode names: "", "default" and
// "bridge" are the default bridge. Other modes (container:<id>) are not
// supported.
func modeNetwork(mode container.NetworkMode) (string, error) {
	switch m := string(mode); {
	case m == "" || m == "default":
		return "bridge", nil
	case strings.HasPrefix(m, "container:"):
		return "", errdefs.NotImplemented("network mode %q is not supported: containers cannot share a network namespace here", m)
	default:
		return m, nil
	}
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
	r, err := e.networks.find(ref)
	if err != nil {
		return err
	}
	c, err := e.lookup(req.Container)
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
		return errdefs.Forbidden("container %s is not connected to network %s", id, r.Name)
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

// refreshHosts rewrites /etc/hosts of every container on the given
// networks and of the container self. Callers hold n.mu, which orders the
// writes. A backend without backend.HostsWriter keeps the file it wrote
// at create.
func (e *Engine) refreshHosts(ctx context.Context, networkIDs []string, self string) {
	hw, ok := e.cfg.Backend.(backend.HostsWriter)
	if !ok {
		return
	}
	all := e.records()
	for _, rec := range all {
		touched := rec.ID == self
		for _, ep := range rec.Endpoints {
			touched = touched || slices.Contains(networkIDs, ep.NetworkID)
		}
		if !touched || rec.State.Status == container.StateRemoving {
			continue
		}
		if err := hw.WriteHosts(context.WithoutCancel(ctx), rec.Handle, e.hostsFile(rec, all)); err != nil && !errdefs.IsNotFound(err) {
			e.log.Warn("/etc/hosts not updated", "container_id", rec.ID, "err", err)
		}
	}
}

// refreshOwnHosts rewrites a container's /etc/hosts (at start).
func (e *Engine) refreshOwnHosts(ctx context.Context, id string) {
	e.networks.mu.Lock()
	defer e.networks.mu.Unlock()
	e.refreshHosts(ctx, nil, id)
}

// hostsFile is the /etc/hosts of rec: the standard entries, the extra
// hosts (--add-host), the container itself (hostname, and on user-defined
// networks its name and aliases) on each of its addresses, then, for each
// user-defined network it is on, the other containers there by name,
// aliases and short ID. all is every container record; callers hold n.mu.
func (e *Engine) hostsFile(rec record, all []record) []byte {
	var b strings.Builder
	b.WriteString("127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n" +
		"fe00::0\tip6-localnet\nff00::0\tip6-mcastprefix\nff02::1\tip6-allnodes\nff02::2\tip6-allrouters\n")
	for _, h := range rec.HostConfig.ExtraHosts {
		host, ip, ok := strings.Cut(h, ":")
		if !ok {
			host, ip, _ = strings.Cut(h, "=")
		}
		if ip == "host-gateway" {
			if br := e.networks.byName("bridge"); br != nil {
				ip = br.Gateway.String()
			}
		}
		fmt.Fprintf(&b, "%s\t%s\n", ip, host)
	}
	hostname := rec.Config.Hostname
	selfListed := false
	for _, ep := range rec.Endpoints {
		r := e.networks.byID[ep.NetworkID]
		if r == nil || !ep.IP.IsValid() {
			continue
		}
		names := []string{hostname} // first: the canonical name
		if r.userDefined() {
			for _, n := range dnsNames(rec, ep) {
				if n != hostname {
					names = append(names, n)
				}
			}
		}
		fmt.Fprintf(&b, "%s\t%s\n", ep.IP, strings.Join(names, " "))
		selfListed = true
	}
	if !selfListed {
		// host and none: no address of its own; the hostname still resolves.
		fmt.Fprintf(&b, "127.0.1.1\t%s\n", hostname)
	}
	seen := map[string]bool{}
	for _, ep := range rec.Endpoints {
		r := e.networks.byID[ep.NetworkID]
		if r == nil || !r.userDefined() {
			continue
		}
		for _, peer := range all {
			if peer.ID == rec.ID || peer.State.Status == container.StateRemoving {
				continue
			}
			for _, pep := range peer.Endpoints {
				if pep.NetworkID != r.ID || !pep.IP.IsValid() {
					continue
				}
				line := fmt.Sprintf("%s\t%s\n", pep.IP, strings.Join(dnsNames(peer, pep), " "))
				if !seen[line] {
					seen[line] = true
					b.WriteString(line)
				}
			}
		}
	}
	return []byte(b.String())
}
