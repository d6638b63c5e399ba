package dockerapi

import (
	"net/http"

	"github.com/moby/moby/api/types/volume"
)

// volumeHandler is a route of the volume role.
type volumeHandler func(w http.ResponseWriter, r *http.Request, b VolumeBackend) error

// volumes guards the routes of the volume role and parses the query.
func (s *Server) volumes(h volumeHandler) apiFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		if s.cfg.Volumes == nil {
			return s.notImplemented("volumes")
		}
		if err := parseForm(r); err != nil {
			return err
		}
		return h(w, r, s.cfg.Volumes)
	}
}

// volumeRoutes registers /volumes/*.
func (s *Server) volumeRoutes() {
	s.handle("POST /volumes/create", s.volumes(s.volumeCreate))
	s.handle("GET /volumes", s.volumes(volumeList))
	s.handle("GET /volumes/{name}", s.volumes(volumeInspect))
	s.handle("DELETE /volumes/{name}", s.volumes(volumeRemove))
	s.handle("POST /volumes/prune", s.volumes(volumesPrune))
}

// volumeCreate serves POST /volumes/create; an empty body creates an
// anonymous volume, as dockerd.
func (s *Server) volumeCreate(w http.ResponseWriter, r *http.Request, b VolumeBackend) error {
	var req volume.CreateRequest
	if err := s.readJSON(w, r, &req, false); err != nil {
		return err
	}
	v, err := b.VolumeCreate(r.Context(), req)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusCreated, v)
}

// volumeList serves GET /volumes?filters=.
func volumeList(w http.ResponseWriter, r *http.Request, b VolumeBackend) error {
	f, err := filterValue(r, "dangling", "driver", "label", "name")
	if err != nil {
		return err
	}
	list, err := b.VolumeList(r.Context(), f)
	if err != nil {
		return err
	}
	list.Volumes = nonNil(list.Volumes) // no warnings stay null, as dockerd
	return writeJSON(w, http.StatusOK, list)
}

// volumeInspect serves GET /volumes/{name}.
func volumeInspect(w http.ResponseWriter, r *http.Request, b VolumeBackend) error {
	v, err := b.VolumeInspect(r.Context(), r.PathValue("name"))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, v)
}

// volumeRemove serves DELETE /volumes/{name}?force=.
func volumeRemove(w http.ResponseWriter, r *http.Request, b VolumeBackend) error {
	if err := b.VolumeRemove(r.Context(), r.PathValue("name"), boolValue(r, "force")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// volumesPrune serves POST /volumes/prune?filters=.
func volumesPrune(w http.ResponseWriter, r *http.Request, b VolumeBackend) error {
	f, err := filterValue(r, "label", "label!", "all")
	if err != nil {
		return err
	}
	if !atLeast(r, "1.42") && !f.Has("all") {
		// Before API 1.42 a prune removed every unused local volume, not
		// only anonymous ones; older clients keep that behaviour.
		f["all"] = []string{"true"}
	}
	rep, err := b.VolumesPrune(r.Context(), f)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, rep)
}
