package dockerapi

import (
	"encoding/json"
	"net/http"
	"strings"

	"github.com/moby/moby/api/pkg/authconfig"
	"github.com/moby/moby/api/types/image"
	"github.com/sockerless/sockerless/internal/errdefs"
)

// imageHandler is a route of the image role.
type imageHandler func(w http.ResponseWriter, r *http.Request, b ImageBackend) error

// images guards the routes of the image role and parses the query.
func (s *Server) images(h imageHandler) apiFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		if s.cfg.Images == nil {
			return s.notImplemented("images")
		}
		if err := parseForm(r); err != nil {
			return err
		}
		return h(w, r, s.cfg.Images)
	}
}

// imageRoutes registers /images/*. Image names contain slashes, so the
// per-image routes take the rest of the path and split off the action
// suffix ("/json", "/history", "/get", "/tag"), as dockerd's `{name:.*}`.
func (s *Server) imageRoutes() {
	s.handle("POST /images/create", s.images(s.imageCreate))
	s.handle("POST /images/load", s.images(imageLoad))
	s.handle("GET /images/json", s.images(imageList))
	s.handle("GET /images/get", s.images(s.imageSaveMany))
	s.handle("POST /images/prune", s.images(imagesPrune))
	s.handle("GET /images/{rest...}", s.images(s.imageGet))
	s.handle("POST /images/{rest...}", s.images(s.imageTag))
	s.handle("DELETE /images/{name...}", s.images(imageRemove))
}

// imageCreate serves POST /images/create?fromImage=&tag=&platform= (pull)
// with dockerd's JSON progress stream.
func (s *Server) imageCreate(w http.ResponseWriter, r *http.Request, b ImageBackend) error {
	if r.Form.Get("fromSrc") != "" {
		return errdefs.NotImplemented("importing an image from a tarball or URL (fromSrc) is not supported")
	}
	ref := r.Form.Get("fromImage")
	if ref == "" {
		return errdefs.InvalidParameter("fromImage is required")
	}
	if tag := r.Form.Get("tag"); tag != "" {
		if strings.Contains(tag, ":") {
			ref += "@" + tag // a digest: tags cannot contain ':'
		} else {
			ref += ":" + tag
		}
	}
	auth, err := authconfig.Decode(r.Header.Get("X-Registry-Auth"))
	if err != nil {
		return errdefs.InvalidParameter("%v", err)
	}
	out := &progressStream{w: w}
	return out.finish(b.ImagePull(r.Context(), ref, r.Form.Get("platform"), *auth, out.progress))
}

// imageLoad serves POST /images/load (tar body, not bounded). `quiet` only
// hides progress bars in dockerd; the backend reports result lines only,
// which dockerd sends in quiet mode too.
func imageLoad(w http.ResponseWriter, r *http.Request, b ImageBackend) error {
	out := &progressStream{w: w}
	return out.finish(b.ImageLoad(r.Context(), r.Body, out.stream))
}

// imageList serves GET /images/json?all=&filters=.
func imageList(w http.ResponseWriter, r *http.Request, b ImageBackend) error {
	f, err := filterValue(r, "before", "dangling", "label", "reference", "since", "until")
	if err != nil {
		return err
	}
	list, err := b.ImageList(r.Context(), boolValue(r, "all"), f)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, nonNil(list))
}

// imageGet dispatches GET /images/{name}/json, /history and /get.
func (s *Server) imageGet(w http.ResponseWriter, r *http.Request, b ImageBackend) error {
	rest := r.PathValue("rest")
	if name, ok := strings.CutSuffix(rest, "/json"); ok && name != "" {
		img, err := b.ImageInspect(r.Context(), name)
		if err != nil {
			return err
		}
		if !atLeast(r, "1.52") {
			return writeLegacyImageInspect(w, img)
		}
		return writeJSON(w, http.StatusOK, img)
	}
	if name, ok := strings.CutSuffix(rest, "/history"); ok && name != "" {
		h, err := b.ImageHistory(r.Context(), name)
		if err != nil {
			return err
		}
		return writeJSON(w, http.StatusOK, nonNil(h))
	}
	if name, ok := strings.CutSuffix(rest, "/get"); ok && name != "" {
		return s.imageSave(w, r, b, []string{name})
	}
	s.notFound(w, r)
	return nil
}

// imageSaveMany serves GET /images/get?names=a&names=b.
func (s *Server) imageSaveMany(w http.ResponseWriter, r *http.Request, b ImageBackend) error {
	return s.imageSave(w, r, b, r.Form["names"])
}

// imageSave streams a tar of refs (docker save).
func (s *Server) imageSave(w http.ResponseWriter, r *http.Request, b ImageBackend, refs []string) error {
	out := &lazyResponse{w: w, contentType: "application/x-tar", log: s.log}
	return out.finish(b.ImageSave(r.Context(), refs, out))
}

// imageTag dispatches POST /images/{name}/tag?repo=&tag= (201) and
// refuses push, which the backend contract does not have.
func (s *Server) imageTag(w http.ResponseWriter, r *http.Request, b ImageBackend) error {
	rest := r.PathValue("rest")
	if name, ok := strings.CutSuffix(rest, "/tag"); ok && name != "" {
		if err := b.ImageTag(r.Context(), name, r.Form.Get("repo"), r.Form.Get("tag")); err != nil {
			return err
		}
		w.WriteHeader(http.StatusCreated)
		return nil
	}
	if name, ok := strings.CutSuffix(rest, "/push"); ok && name != "" {
		return errdefs.NotImplemented("pushing images is not supported")
	}
	s.notFound(w, r)
	return nil
}

// imageRemove serves DELETE /images/{name}?force=&noprune=.
func imageRemove(w http.ResponseWriter, r *http.Request, b ImageBackend) error {
	resp, err := b.ImageRemove(r.Context(), r.PathValue("name"), boolValue(r, "force"), boolValue(r, "noprune"))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, nonNil(resp))
}

// imagesPrune serves POST /images/prune?filters=.
func imagesPrune(w http.ResponseWriter, r *http.Request, b ImageBackend) error {
	f, err := filterValue(r, "dangling", "label", "label!", "until")
	if err != nil {
		return err
	}
	rep, err := b.ImagesPrune(r.Context(), f)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, rep)
}

// legacyImageFields are the fields API 1.51 and lower always sent, empty or
// not, which the current types omit when empty (as dockerd's compat layer):
// top-level ones and those of the image's Config.
var (
	legacyImageFields  = map[string]any{"Parent": "", "Comment": "", "DockerVersion": "", "Author": ""}
	legacyConfigFields = map[string]any{"Cmd": nil, "Entrypoint": nil, "Env": nil, "Labels": nil, "OnBuild": nil, "User": "", "Volumes": nil, "WorkingDir": ""}
)

// writeLegacyImageInspect writes an image inspect with the fields of
// legacyImageFields and legacyConfigFields filled in where missing.
func writeLegacyImageInspect(w http.ResponseWriter, img image.InspectResponse) error {
	b, err := json.Marshal(img)
	if err != nil {
		return err
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		return err
	}
	addMissing(m, legacyImageFields)
	if cfg, ok := m["Config"].(map[string]any); ok {
		addMissing(cfg, legacyConfigFields)
	}
	return writeJSON(w, http.StatusOK, m)
}

func addMissing(m, defaults map[string]any) {
	for k, v := range defaults {
		if _, ok := m[k]; !ok {
			m[k] = v
		}
	}
}
