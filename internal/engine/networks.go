package engine

// Networks are records and address bookkeeping, owned here like names and
// volumes. A network is a subnet with a gateway. A container's connection
// to it (create's networks, docker network connect) is an endpoint
// configuration kept in its record (record.Endpoints); as with dockerd, the
// endpoint itself exists only while the container runs: a start allocates
// an address from the subnet (or the one asked for), a MAC address derived
// from it as dockerd does (02:42:<IPv4>) and an endpoint ID, and the end of
// the run releases them (endpoints.go: activateEndpoints,
// deactivateEndpoints). Allocations are persisted with the record and
// rebuilt from the records when the daemon starts.
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
	"encoding/json"
	"fmt"
	"net/netip"
	"strings"
	"sync"
	"time"

	"github.com/sockerless/sockerless/internal/errdefs"
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

// endpoint is a container's connection to a network, kept in its record:
// the configuration, and the allocation while the container runs
// (EndpointID, IP, MAC; empty otherwise).
type endpoint struct {
	NetworkID string `json:"network_id"`
	// Network is the network's name, or the reference a stopped container
	// was connected to when no such network existed (dockerd keeps that
	// configuration by name, and the start fails).
	Network    string            `json:"network,omitempty"`
	EndpointID string            `json:"endpoint_id"`
	IP         netip.Addr        `json:"ip,omitzero"`
	MAC        string            `json:"mac,omitempty"`
	Aliases    []string          `json:"aliases,omitempty"`
	DriverOpts map[string]string `json:"driver_opts,omitempty"`
	// Requested is IPAMConfig.IPv4Address as the user gave it.
	Requested netip.Addr `json:"requested,omitzero"`
	// RequestedMAC is the MAC address the user gave.
	RequestedMAC string `json:"requested_mac,omitempty"`
	// Joined: the endpoint has existed (the container ran while
	// connected); dockerd shows the network's ID from then on.
	Joined bool `json:"joined,omitempty"`
}

// active reports whether the endpoint exists now (its container runs).
func (ep endpoint) active() bool { return ep.EndpointID != "" }

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
