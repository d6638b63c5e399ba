package docker

import (
	"context"
	"slices"
	"strings"

	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/network"
	"github.com/moby/moby/client"

	"github.com/sockerless/sockerless/internal/backend"
)

// LabelDNSNames keeps, on the engine's container, the names the engine
// gives the container on user-defined networks besides the client's
// aliases (its Sockerless name and short ID): the engine's own container
// name is sockerless-<short id>, so these are given as aliases and shown
// back as DNS names, as dockerd shows a container's name and short ID.
const LabelDNSNames = "com.sockerless.dns-names"

// Networks are the engine's networks. With the docker backend, containers
// are connected to the engine's networks, so the daemon answers every
// network call from here and the engine's IPAM is the truth.
type Networks struct{ cli *client.Client }

// Networks returns the engine's network operations.
func (b *Backend) Networks() *Networks { return &Networks{cli: b.cli} }

func engineFilters(filters map[string][]string) client.Filters {
	f := client.Filters{}
	for k, vs := range filters {
		f.Add(k, vs...)
	}
	return f
}

// Create creates a network on the engine.
func (n *Networks) Create(ctx context.Context, req network.CreateRequest) (network.CreateResponse, error) {
	opts := client.NetworkCreateOptions{
		Driver: req.Driver, Scope: req.Scope, EnableIPv4: req.EnableIPv4, EnableIPv6: req.EnableIPv6,
		IPAM: req.IPAM, Internal: req.Internal, Attachable: req.Attachable, Ingress: req.Ingress,
		ConfigOnly: req.ConfigOnly, Options: req.Options, Labels: req.Labels,
	}
	if req.ConfigFrom != nil {
		opts.ConfigFrom = req.ConfigFrom.Network
	}
	res, err := n.cli.NetworkCreate(ctx, req.Name, opts)
	if err != nil {
		return network.CreateResponse{}, fromEngine(err)
	}
	return network.CreateResponse{ID: res.ID, Warning: strings.Join(res.Warning, "\n")}, nil
}

// List lists the engine's networks; filters are passed on as they are.
func (n *Networks) List(ctx context.Context, filters map[string][]string) ([]network.Summary, error) {
	res, err := n.cli.NetworkList(ctx, client.NetworkListOptions{Filters: engineFilters(filters)})
	return res.Items, fromEngine(err)
}

// Inspect inspects a network; its containers are keyed by the engine's
// container IDs (the daemon shows its own).
func (n *Networks) Inspect(ctx context.Context, ref string, verbose bool, scope string) (network.Inspect, error) {
	res, err := n.cli.NetworkInspect(ctx, ref, client.NetworkInspectOptions{Verbose: verbose, Scope: scope})
	return res.Network, fromEngine(err)
}

// Remove removes a network from the engine.
func (n *Networks) Remove(ctx context.Context, ref string) error {
	_, err := n.cli.NetworkRemove(ctx, ref, client.NetworkRemoveOptions{})
	return fromEngine(err)
}

// Prune prunes the engine's unused networks.
func (n *Networks) Prune(ctx context.Context, filters map[string][]string) (network.PruneReport, error) {
	res, err := n.cli.NetworkPrune(ctx, client.NetworkPruneOptions{Filters: engineFilters(filters)})
	return res.Report, fromEngine(err)
}

// Connect connects a workload to a network; on a user-defined network it
// also answers to its DNS names (LabelDNSNames).
func (n *Networks) Connect(ctx context.Context, ref string, h backend.Handle, settings *network.EndpointSettings) error {
	res, err := n.cli.ContainerInspect(ctx, engineID(h), client.ContainerInspectOptions{})
	if err != nil {
		return fromEngine(err)
	}
	s := &network.EndpointSettings{}
	if settings != nil {
		s = settings.Copy()
	}
	if userDefined(ref) {
		s.Aliases = withNames(s.Aliases, dnsNamesOf(res.Container.Config))
	}
	_, err = n.cli.NetworkConnect(ctx, ref, client.NetworkConnectOptions{Container: engineID(h), EndpointConfig: s})
	return fromEngine(err)
}

// Disconnect disconnects a workload from a network.
func (n *Networks) Disconnect(ctx context.Context, ref string, h backend.Handle, force bool) error {
	_, err := n.cli.NetworkDisconnect(ctx, ref, client.NetworkDisconnectOptions{Container: engineID(h), Force: force})
	return fromEngine(err)
}

// PlatformNetworks implements backend.Networker: containers are on the
// engine's networks, shown from Describe.
func (b *Backend) PlatformNetworks() {}

// Describe implements backend.Describer with the engine's inspect, its
// networks shown with the container's DNS names (LabelDNSNames) in place
// of the engine's own name and ID.
func (b *Backend) Describe(ctx context.Context, h backend.Handle) (container.InspectResponse, error) {
	res, err := b.cli.ContainerInspect(ctx, engineID(h), client.ContainerInspectOptions{})
	if err != nil {
		return container.InspectResponse{}, fromEngine(err)
	}
	c := res.Container
	if c.NetworkSettings == nil {
		return c, nil
	}
	names := dnsNamesOf(c.Config)
	nets := map[string]*network.EndpointSettings{}
	for name, s := range c.NetworkSettings.Networks {
		s = s.Copy()
		if len(names) == 2 {
			// Engines before API 1.45 also list their own short ID here.
			s.Aliases = slices.DeleteFunc(s.Aliases, func(a string) bool { return slices.Contains(names, a) || a == shortID(c.ID) })
			if len(s.Aliases) == 0 {
				s.Aliases = nil
			}
			if len(s.DNSNames) > 0 {
				// The engine's own name and ID are not the container's.
				s.DNSNames = append(append([]string{names[0]}, s.Aliases...), names[1])
			}
		}
		nets[name] = s
	}
	c.NetworkSettings.Networks = nets
	return c, nil
}

// networking is a create's network mode and endpoints for the engine.
func networking(n *backend.NetworkSpec) (container.NetworkMode, *network.NetworkingConfig) {
	mode := n.Mode
	if mode.IsContainer() {
		mode = container.NetworkMode("container:" + engineID(n.Peer))
	}
	nc := &network.NetworkingConfig{EndpointsConfig: map[string]*network.EndpointSettings{}}
	for k, v := range n.Endpoints {
		nc.EndpointsConfig[k] = v.Copy()
	}
	if userDefined(string(mode)) && nc.EndpointsConfig[string(mode)] == nil {
		nc.EndpointsConfig[string(mode)] = &network.EndpointSettings{}
	}
	for k, v := range nc.EndpointsConfig {
		if userDefined(k) {
			v.Aliases = withNames(v.Aliases, n.DNSNames)
		}
	}
	return mode, nc
}

// userDefined tells a network reference that may take aliases from the
// predefined networks and the modes that name none.
func userDefined(ref string) bool {
	m := container.NetworkMode(ref)
	return ref != "" && ref != "default" && !m.IsBridge() && !m.IsHost() && !m.IsNone() && !m.IsContainer()
}

func withNames(aliases, names []string) []string {
	out := slices.Clone(aliases)
	for _, n := range names {
		if !slices.Contains(out, n) {
			out = append(out, n)
		}
	}
	return out
}

func shortID(id string) string { return id[:min(12, len(id))] }

// dnsNamesOf reads LabelDNSNames from the engine's container config.
func dnsNamesOf(cfg *container.Config) []string {
	if cfg == nil || cfg.Labels[LabelDNSNames] == "" {
		return nil
	}
	return strings.Split(cfg.Labels[LabelDNSNames], ",")
}

var (
	_ backend.Networker = (*Backend)(nil)
	_ backend.Describer = (*Backend)(nil)
)
