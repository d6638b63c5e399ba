package dockerapi

import (
	"fmt"
	"net/http"

	"github.com/moby/moby/api/types/container"
	"github.com/sockerless/sockerless/internal/errdefs"
)

// containerHandler is a route of the container role.
type containerHandler func(w http.ResponseWriter, r *http.Request, b ContainerBackend) error

// containers guards the routes of the container role and parses the query.
func (s *Server) containers(h containerHandler) apiFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		if s.cfg.Containers == nil {
			return s.notImplemented("containers")
		}
		if err := parseForm(r); err != nil {
			return err
		}
		return h(w, r, s.cfg.Containers)
	}
}

// containerRoutes registers the container lifecycle routes.
func (s *Server) containerRoutes() {
	s.handle("POST /containers/create", s.containers(s.containerCreate))
	s.handle("GET /containers/json", s.containers(containerList))
	s.handle("GET /containers/{name}/json", s.containers(containerInspect))
	s.handle("DELETE /containers/{name}", s.containers(containerRemove))
	s.handle("POST /containers/{name}/rename", s.containers(containerRename))
	s.handle("POST /containers/{name}/update", s.containers(s.containerUpdate))
	s.handle("POST /containers/prune", s.containers(containersPrune))
	s.handle("POST /containers/{name}/start", s.containers(containerStart))
	s.handle("POST /containers/{name}/stop", s.containers(containerStop))
	s.handle("POST /containers/{name}/restart", s.containers(containerRestart))
	s.handle("POST /containers/{name}/kill", s.containers(containerKill))
	s.handle("POST /containers/{name}/pause", s.containers(containerPause))
	s.handle("POST /containers/{name}/unpause", s.containers(containerUnpause))
	s.handle("POST /containers/{name}/wait", s.containers(s.containerWait))
	s.handle("POST /containers/{name}/resize", s.containers(containerResize))
	s.handle("GET /containers/{name}/top", s.containers(containerTop))
	s.handle("GET /containers/{name}/changes", s.containers(containerChanges))
	s.handle("GET /containers/{name}/stats", s.containers(s.containerStats))
	s.handle("GET /containers/{name}/export", s.containers(s.containerExport))
	s.handle("GET /containers/{name}/logs", s.containers(s.containerLogs))
	s.handle("POST /containers/{name}/attach", s.containers(s.containerAttach))
}

// containerCreate serves POST /containers/create?name=&platform=.
func (s *Server) containerCreate(w http.ResponseWriter, r *http.Request, b ContainerBackend) error {
	var req container.CreateRequest
	if r.ContentLength == 0 {
		return errdefs.InvalidParameter("invalid JSON: EOF") // dockerd's wording for create
	}
	if err := s.readJSON(w, r, &req, true); err != nil {
		return err
	}
	if req.Config == nil {
		return errdefs.InvalidParameter("config cannot be empty in order to create a container")
	}
	cfg := ContainerCreateConfig{Name: r.Form.Get("name"), Request: req}
	if atLeast(r, "1.41") {
		cfg.Platform = r.Form.Get("platform")
	}
	resp, err := b.ContainerCreate(r.Context(), cfg)
	if err != nil {
		return err
	}
	resp.Warnings = nonNil(resp.Warnings)
	return writeJSON(w, http.StatusCreated, resp)
}

// containerList serves GET /containers/json?all=&limit=&size=&filters=.
func containerList(w http.ResponseWriter, r *http.Request, b ContainerBackend) error {
	f, err := filterValue(r, "ancestor", "annotation", "before", "expose", "exited", "health", "id", "isolation", "is-task", "label", "name", "network", "publish", "since", "status", "volume")
	if err != nil {
		return err
	}
	limit, _, err := intValue(r, "limit")
	if err != nil {
		return err
	}
	list, err := b.ContainerList(r.Context(), boolValue(r, "all"), limit, boolValue(r, "size"), f)
	if err != nil {
		return err
	}
	if !atLeast(r, "1.46") {
		for i := range list {
			list[i].HostConfig.Annotations = nil // added in API 1.46
		}
	}
	return writeJSON(w, http.StatusOK, nonNil(list))
}

// containerInspect serves GET /containers/{name}/json?size=.
func containerInspect(w http.ResponseWriter, r *http.Request, b ContainerBackend) error {
	resp, err := b.ContainerInspect(r.Context(), r.PathValue("name"), boolValue(r, "size"))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, resp)
}

// containerRemove serves DELETE /containers/{name}?force=&v=&link=.
func containerRemove(w http.ResponseWriter, r *http.Request, b ContainerBackend) error {
	if boolValue(r, "link") {
		// Legacy links are not part of the engine; removing one is not
		// removing the container, so refuse rather than remove.
		return errdefs.NotImplemented("removing legacy links (link=1) is not supported")
	}
	if err := b.ContainerRemove(r.Context(), r.PathValue("name"), boolValue(r, "force"), boolValue(r, "v")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// containerRename serves POST /containers/{name}/rename?name=.
func containerRename(w http.ResponseWriter, r *http.Request, b ContainerBackend) error {
	if err := b.ContainerRename(r.Context(), r.PathValue("name"), r.Form.Get("name")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// containerUpdate serves POST /containers/{name}/update.
func (s *Server) containerUpdate(w http.ResponseWriter, r *http.Request, b ContainerBackend) error {
	var uc container.UpdateConfig
	if err := s.readJSON(w, r, &uc, false); err != nil {
		return err
	}
	if !atLeast(r, "1.40") {
		uc.PidsLimit = nil
	}
	if uc.PidsLimit != nil && *uc.PidsLimit <= 0 {
		// 0 and -1 both mean unlimited on update, as dockerd.
		var unlimited int64
		uc.PidsLimit = &unlimited
	}
	resp, err := b.ContainerUpdate(r.Context(), r.PathValue("name"), uc)
	if err != nil {
		return err
	}
	// No warnings are null here, unlike create's [] (as dockerd).
	return writeJSON(w, http.StatusOK, resp)
}

// containersPrune serves POST /containers/prune?filters=.
func containersPrune(w http.ResponseWriter, r *http.Request, b ContainerBackend) error {
	f, err := filterValue(r, "label", "label!", "until")
	if err != nil {
		return err
	}
	rep, err := b.ContainersPrune(r.Context(), f)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, rep)
}

// containerTop serves GET /containers/{name}/top?ps_args=.
func containerTop(w http.ResponseWriter, r *http.Request, b ContainerBackend) error {
	top, err := b.ContainerTop(r.Context(), r.PathValue("name"), r.Form.Get("ps_args"))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, top)
}

// containerChanges serves GET /containers/{name}/changes.
func containerChanges(w http.ResponseWriter, r *http.Request, b ContainerBackend) error {
	ch, err := b.ContainerChanges(r.Context(), r.PathValue("name"))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, ch)
}

// containerExport serves GET /containers/{name}/export as a tar stream.
func (s *Server) containerExport(w http.ResponseWriter, r *http.Request, b ContainerBackend) error {
	out := &lazyResponse{w: w, contentType: "application/x-tar", log: s.log}
	return out.finish(b.ContainerExport(r.Context(), r.PathValue("name"), out))
}

// containerTTY reports whether a container has a TTY, which decides the
// framing of its output; a missing container is the error.
func containerTTY(r *http.Request, b ContainerBackend, name string) (bool, error) {
	c, err := b.ContainerInspect(r.Context(), name, false)
	if err != nil {
		return false, err
	}
	if c.Config == nil {
		return false, fmt.Errorf("container %q: inspect has no Config", name)
	}
	return c.Config.Tty, nil
}
