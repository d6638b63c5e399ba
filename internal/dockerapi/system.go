package dockerapi

import (
	"encoding/json"
	"net/http"
	"strings"
	"time"

	"github.com/moby/moby/api/types"
	"github.com/moby/moby/api/types/build"
	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/events"
	"github.com/moby/moby/api/types/image"
	"github.com/moby/moby/api/types/system"
	"github.com/moby/moby/api/types/volume"
	"github.com/sockerless/sockerless/internal/errdefs"
	"github.com/sockerless/sockerless/internal/filters"
)

// systemRoutes registers /_ping, /version, /info, /events and /system/df.
func (s *Server) systemRoutes() {
	s.handle("GET /_ping", s.ping)
	s.handle("HEAD /_ping", s.ping)
	s.handle("GET /version", s.system(func(w http.ResponseWriter, r *http.Request, b SystemBackend) error {
		v, err := b.SystemVersion(r.Context())
		if err != nil {
			return err
		}
		return writeJSON(w, http.StatusOK, v)
	}))
	s.handle("GET /info", s.system(func(w http.ResponseWriter, r *http.Request, b SystemBackend) error {
		info, err := b.SystemInfo(r.Context())
		if err != nil {
			return err
		}
		return writeJSON(w, http.StatusOK, info)
	}))
	s.handle("GET /events", s.system(s.events))
	s.handle("GET /system/df", s.system(s.diskUsage))
}

// system guards the routes of the system role.
func (s *Server) system(h func(http.ResponseWriter, *http.Request, SystemBackend) error) apiFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		if s.cfg.System == nil {
			return s.notImplemented("system information and events")
		}
		return h(w, r, s.cfg.System)
	}
}

// ping answers GET and HEAD /_ping without a backend, as dockerd. No
// Builder-Version header: dockerd omits it when it has no builder, and we
// have none.
func (s *Server) ping(w http.ResponseWriter, r *http.Request) error {
	h := w.Header()
	h.Add("Cache-Control", "no-cache, no-store, must-revalidate")
	h.Add("Pragma", "no-cache")
	h.Set("Swarm", "inactive")
	if r.Method == http.MethodHead {
		h.Set("Content-Type", "text/plain; charset=utf-8")
		h.Set("Content-Length", "0")
		return nil
	}
	h.Set("Content-Type", "text/plain; charset=utf-8")
	_, err := w.Write([]byte("OK"))
	return err
}

// legacyEvent carries the fields dockerd still adds for API < 1.52
// (id, status, from); docker CLI < 25 and compose read them.
type legacyEvent struct {
	Status string `json:"status,omitempty"`
	ID     string `json:"id,omitempty"`
	From   string `json:"from,omitempty"`
	events.Message
}

// events streams GET /events: past events in [since, until], then new
// ones until `until`, the end of the subscription or the client leaving.
func (s *Server) events(w http.ResponseWriter, r *http.Request, b SystemBackend) error {
	if err := parseForm(r); err != nil {
		return err
	}
	since, err := timeValue(r, "since")
	if err != nil {
		return err
	}
	until, err := timeValue(r, "until")
	if err != nil {
		return err
	}
	if !until.IsZero() && until.Before(since) {
		return errdefs.InvalidParameter("`since` time (%s) cannot be after `until` time (%s)", r.Form.Get("since"), r.Form.Get("until"))
	}
	// As dockerd, events take any filter key: unknown ones match nothing.
	f, err := filters.Parse(r.Form.Get("filters"))
	if err != nil {
		return err
	}
	past, live, err := b.SubscribeEvents(r.Context(), since, until, f)
	if err != nil {
		return err
	}
	ct := types.MediaTypeJSON // dockerd's default, although it is a stream
	if strings.Contains(r.Header.Get("Accept"), types.MediaTypeNDJSON) {
		ct = types.MediaTypeNDJSON
	}
	w.Header().Set("Content-Type", ct)
	w.WriteHeader(http.StatusOK)
	rc := http.NewResponseController(w)
	if err := rc.Flush(); err != nil {
		return err
	}
	enc := json.NewEncoder(flushWriter{rc: rc, w: w})
	legacy := !atLeast(r, "1.52")
	encode := func(ev events.Message) error {
		if !atLeast(r, "1.46") && ev.Type == events.ImageEventType && ev.Action == events.ActionCreate {
			return nil // image create events appeared in API 1.46
		}
		if legacy && (ev.Type == events.ContainerEventType || ev.Type == events.ImageEventType) {
			le := legacyEvent{Status: string(ev.Action), ID: ev.Actor.ID, Message: ev}
			if ev.Type == events.ContainerEventType {
				le.From = ev.Actor.Attributes["image"]
			}
			return enc.Encode(le)
		}
		return enc.Encode(ev)
	}
	for _, ev := range past {
		if err := encode(ev); err != nil {
			return nil // the client left; nothing to report to
		}
	}
	if live == nil {
		return nil
	}
	var timeout <-chan time.Time
	if !until.IsZero() {
		t := time.NewTimer(time.Until(until))
		defer t.Stop()
		timeout = t.C
	}
	for {
		select {
		case ev, ok := <-live:
			if !ok {
				return nil
			}
			if err := encode(ev); err != nil {
				return nil
			}
		case <-timeout:
			return nil
		case <-r.Context().Done():
			return nil
		}
	}
}

// legacyDiskUsage is what dockerd sends for API < 1.52 (and what the docker
// CLI up to v28 reads for `docker system df`): only the lists, each present
// when its kind was asked for.
type legacyDiskUsage struct {
	LayersSize int64               `json:"LayersSize,omitempty"`
	Images     []image.Summary     `json:"Images,omitzero"`
	Containers []container.Summary `json:"Containers,omitzero"`
	Volumes    []volume.Volume     `json:"Volumes,omitzero"`
	BuildCache []build.CacheRecord `json:"BuildCache,omitzero"`
}

// diskUsage serves GET /system/df with the `type` selection of API 1.42.
func (s *Server) diskUsage(w http.ResponseWriter, r *http.Request, b SystemBackend) error {
	if err := parseForm(r); err != nil {
		return err
	}
	want := map[system.DiskUsageObject]bool{}
	if typs, ok := r.Form["type"]; ok && atLeast(r, "1.42") {
		for _, t := range typs {
			switch o := system.DiskUsageObject(t); o {
			case system.ContainerObject, system.ImageObject, system.VolumeObject, system.BuildCacheObject:
				want[o] = true
			default:
				return errdefs.InvalidParameter("unknown object type: %s", t)
			}
		}
	}
	du, err := b.SystemDiskUsage(r.Context())
	if err != nil {
		return err
	}
	if len(want) > 0 {
		if !want[system.ContainerObject] {
			du.ContainerUsage = nil
		}
		if !want[system.ImageObject] {
			du.ImageUsage = nil
		}
		if !want[system.VolumeObject] {
			du.VolumeUsage = nil
		}
		if !want[system.BuildCacheObject] {
			du.BuildCacheUsage = nil
		}
	}
	if atLeast(r, "1.52") {
		return writeJSON(w, http.StatusOK, du)
	}
	return writeJSON(w, http.StatusOK, toLegacyDiskUsage(du))
}

// toLegacyDiskUsage moves the per-kind items to the pre-1.52 top-level
// lists; a kind that was asked for is an empty list, never null.
func toLegacyDiskUsage(du system.DiskUsage) legacyDiskUsage {
	var l legacyDiskUsage
	if u := du.ImageUsage; u != nil {
		l.LayersSize, l.Images = u.TotalSize, nonNil(u.Items)
	}
	if u := du.ContainerUsage; u != nil {
		l.Containers = nonNil(u.Items)
	}
	if u := du.VolumeUsage; u != nil {
		l.Volumes = nonNil(u.Items)
	}
	if u := du.BuildCacheUsage; u != nil {
		l.BuildCache = nonNil(u.Items)
	}
	return l
}

// nonNil returns an empty slice for nil, so it encodes as [].
func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}
