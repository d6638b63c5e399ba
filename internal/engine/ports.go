package engine

import (
	"cmp"
	"fmt"
	"slices"
	"strings"

	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/network"

	"github.com/sockerless/sockerless/internal/errdefs"
	"github.com/sockerless/sockerless/internal/filters"
)

// Published ports are the platform's: only a Networker backend (the docker
// backend) binds host ports, and its record of a workload (Describe) has
// the ports the platform really bound, including the host ports it chose.
// The engine shows them in docker ps and filters on them as dockerd does.

// portSummaries is docker ps's Ports of a container from the platform's
// record p: a row per host binding, or one without a public port for an
// exposed port that is not published. Sorted, where dockerd leaves its map
// order.
func portSummaries(p *container.InspectResponse) []container.PortSummary {
	out := []container.PortSummary{}
	if p == nil || p.NetworkSettings == nil {
		return out
	}
	for port, bindings := range p.NetworkSettings.Ports {
		if len(bindings) == 0 {
			out = append(out, container.PortSummary{PrivatePort: port.Num(), Type: string(port.Proto())})
			continue
		}
		for _, b := range bindings {
			h, err := network.ParsePortRange(b.HostPort)
			if err != nil {
				continue // as dockerd: a binding without a host port is not listed
			}
			out = append(out, container.PortSummary{PrivatePort: port.Num(), PublicPort: h.Start(), Type: string(port.Proto()), IP: b.HostIP})
		}
	}
	slices.SortFunc(out, func(a, b container.PortSummary) int {
		return cmp.Or(cmp.Compare(a.PrivatePort, b.PrivatePort), cmp.Compare(a.Type, b.Type), a.IP.Compare(b.IP), cmp.Compare(a.PublicPort, b.PublicPort))
	})
	return out
}

// portFilters are the publish and expose filters as sets of "port/proto",
// ranges expanded, with dockerd's errors for bad values.
func portFilters(f filters.Args) (publish, expose map[string]bool, err error) {
	parse := func(key string) (map[string]bool, error) {
		set := map[string]bool{}
		for _, v := range f.Get(key) {
			if strings.Contains(v, ":") {
				return nil, errdefs.InvalidParameter("filter for '%s' should not contain ':': %s", key, v)
			}
			r, err := network.ParsePortRange(v)
			if err != nil {
				return nil, errdefs.InvalidParameter("error while looking up for %s %s: %s", key, v, err)
			}
			for p := range r.All() {
				set[p.String()] = true
			}
		}
		return set, nil
	}
	if publish, err = parse("publish"); err != nil {
		return nil, nil, err
	}
	expose, err = parse("expose")
	return publish, expose, err
}

// matchPorts is dockerd's publish and expose filters: a container passes
// when one of its ports is published on a host port in publish or exposed
// from a container port in expose.
func matchPorts(ports []container.PortSummary, publish, expose map[string]bool) bool {
	if len(publish) == 0 && len(expose) == 0 {
		return true
	}
	return slices.ContainsFunc(ports, func(p container.PortSummary) bool {
		return publish[fmt.Sprintf("%d/%s", p.PublicPort, p.Type)] || expose[fmt.Sprintf("%d/%s", p.PrivatePort, p.Type)]
	})
}
