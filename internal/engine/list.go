package engine

import (
	"context"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/network"

	"github.com/sockerless/sockerless/internal/backend"
	"github.com/sockerless/sockerless/internal/errdefs"
	"github.com/sockerless/sockerless/internal/filters"
)

var listFilters = []string{"id", "name", "label", "status", "exited", "ancestor", "before", "since",
	"volume", "network", "health", "is-task", "expose", "publish", "annotation"}

// ContainerList lists containers, newest first, with dockerd's filters.
func (e *Engine) ContainerList(ctx context.Context, all bool, limit int, f filters.Args) ([]container.Summary, error) {
	if err := f.Validate(listFilters...); err != nil {
		return nil, err
	}
	for _, s := range f.Get("status") {
		if !slices.Contains([]string{"created", "restarting", "running", "removing", "paused", "exited", "dead"}, s) {
			return nil, errdefs.InvalidParameter("invalid filter 'status=%s': invalid value for state (%s): must be one of created, running, paused, restarting, removing, exited, dead", s, s)
		}
	}
	e.mu.Lock()
	recs := make([]record, 0, len(e.containers))
	for _, c := range e.containers {
		c.mu.Lock()
		recs = append(recs, c.rec)
		c.mu.Unlock()
	}
	e.mu.Unlock()
	slices.SortFunc(recs, func(a, b record) int { return b.Created.Compare(a.Created) })
	before, err := e.boundary(f, "before")
	if err != nil {
		return nil, err
	}
	sinceRec, err := e.boundary(f, "since")
	if err != nil {
		return nil, err
	}
	publish, expose, err := portFilters(f)
	if err != nil {
		return nil, err
	}
	out := []container.Summary{}
	for _, r := range recs {
		if !all && !r.State.Running && len(f.Get("status")) == 0 && !f.Has("exited") && before == nil && sinceRec == nil {
			continue
		}
		if before != nil && !r.Created.Before(before.Created) {
			continue
		}
		if sinceRec != nil && !r.Created.After(sinceRec.Created) {
			continue
		}
		if !matchContainer(r, f) {
			continue
		}
		p, err := e.described(ctx, r) // one call to the platform per container
		if err != nil {
			return nil, err
		}
		nets := e.networksOf(r, p)
		if !onNetworks(nets, f.Get("network")) {
			continue
		}
		s := e.summary(r, nets)
		if p != nil {
			s.ImageManifestDescriptor = p.ImageManifestDescriptor
		}
		if _, ok := e.cfg.Backend.(backend.Networker); ok {
			s.Ports = portSummaries(p)
		}
		if !matchPorts(s.Ports, publish, expose) {
			continue
		}
		out = append(out, s)
		if limit > 0 && len(out) == limit {
			break
		}
	}
	return out, nil
}

// onNetworks reports whether a container is on one of the networks named
// (by name or ID), or nets is empty.
func onNetworks(settings map[string]*network.EndpointSettings, nets []string) bool {
	if len(nets) == 0 {
		return true
	}
	for name, s := range settings {
		if slices.Contains(nets, name) || slices.Contains(nets, s.NetworkID) {
			return true
		}
	}
	return false
}

func (e *Engine) boundary(f filters.Args, key string) (*record, error) {
	vs := f.Get(key)
	if len(vs) == 0 {
		return nil, nil
	}
	c, err := e.lookup(vs[0])
	if err != nil {
		return nil, err
	}
	rec, _ := c.snapshot()
	return &rec, nil
}

// matchName is dockerd's name filter: the pattern is a regular expression
// (an invalid one matches only itself) tried on the name with and without
// its leading slash, so "^web$" finds /web (testcontainers-go's Reuse
// looks containers up that way) and "web" finds /my-web-1.
func matchName(pattern, name string) bool {
	for _, n := range []string{name, strings.TrimPrefix(name, "/")} {
		if n == pattern {
			return true
		}
		if ok, err := regexp.MatchString(pattern, n); err == nil && ok {
			return true
		}
	}
	return false
}

func matchContainer(r record, f filters.Args) bool {
	if ids := f.Get("id"); len(ids) > 0 && !slices.ContainsFunc(ids, func(id string) bool { return strings.HasPrefix(r.ID, id) }) {
		return false
	}
	if names := f.Get("name"); len(names) > 0 && !slices.ContainsFunc(names, func(n string) bool { return matchName(n, r.Name) }) {
		return false
	}
	if !f.MatchLabels("label", r.Config.Labels) || !f.MatchLabels("annotation", r.HostConfig.Annotations) || !f.Match("status", string(r.State.Status)) {
		return false
	}
	if ex := f.Get("exited"); len(ex) > 0 && (r.State.Status != container.StateExited || !slices.Contains(ex, strconv.Itoa(r.State.ExitCode))) {
		return false
	}
	if anc := f.Get("ancestor"); len(anc) > 0 && !slices.ContainsFunc(anc, func(a string) bool {
		return a == r.Image || strings.TrimSuffix(a, ":latest") == strings.TrimSuffix(r.Image, ":latest") || strings.HasPrefix(r.ImageID, a) || strings.HasPrefix(strings.TrimPrefix(r.ImageID, "sha256:"), a)
	}) {
		return false
	}
	if vols := f.Get("volume"); len(vols) > 0 && !slices.ContainsFunc(r.Mounts, func(m container.MountPoint) bool {
		return slices.Contains(vols, m.Name) || slices.Contains(vols, m.Destination) || slices.Contains(vols, m.Source)
	}) {
		return false
	}
	if hs := f.Get("health"); len(hs) > 0 {
		status := "none"
		if r.State.Health != nil {
			status = string(r.State.Health.Status)
		}
		if !slices.Contains(hs, status) {
			return false
		}
	}
	return true
}
