package dockerapi

import (
	"encoding/base64"
	"encoding/json"
	"net/http"

	"github.com/moby/moby/api/types/container"
	"github.com/sockerless/sockerless/internal/errdefs"
)

// archiveHandler is a route of the archive role.
type archiveHandler func(w http.ResponseWriter, r *http.Request, b ArchiveBackend, name, path string) error

// archive guards the archive routes and reads the container and `path`.
func (s *Server) archive(h archiveHandler) apiFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		if s.cfg.Archive == nil {
			return s.notImplemented("container file copies (archive)")
		}
		if err := parseForm(r); err != nil {
			return err
		}
		path := r.Form.Get("path")
		if path == "" {
			return errdefs.InvalidParameter("bad parameter: path cannot be empty")
		}
		return h(w, r, s.cfg.Archive, r.PathValue("name"), path)
	}
}

// archiveRoutes registers HEAD/GET/PUT /containers/{name}/archive.
func (s *Server) archiveRoutes() {
	s.handle("HEAD /containers/{name}/archive", s.archive(archiveStat))
	s.handle("GET /containers/{name}/archive", s.archive(s.archiveGet))
	s.handle("PUT /containers/{name}/archive", s.archive(archivePut))
}

// setPathStat sets X-Docker-Container-Path-Stat: base64 of the PathStat
// JSON (standard encoding, as dockerd).
func setPathStat(h http.Header, st container.PathStat) error {
	b, err := json.Marshal(st)
	if err != nil {
		return err
	}
	h.Set("X-Docker-Container-Path-Stat", base64.StdEncoding.EncodeToString(b))
	return nil
}

// archiveStat serves HEAD: the stat header and no body.
func archiveStat(w http.ResponseWriter, r *http.Request, b ArchiveBackend, name, path string) error {
	st, err := b.ContainerStatPath(r.Context(), name, path)
	if err != nil {
		return err
	}
	if err := setPathStat(w.Header(), st); err != nil {
		return err
	}
	w.WriteHeader(http.StatusOK)
	return nil
}

// archiveGet serves GET: the stat header, then the tar. The header must
// precede the body, so the stat comes from ContainerStatPath (which also
// turns a missing path into a 404 before anything is sent), not from the
// value ContainerArchivePath returns after writing.
func (s *Server) archiveGet(w http.ResponseWriter, r *http.Request, b ArchiveBackend, name, path string) error {
	st, err := b.ContainerStatPath(r.Context(), name, path)
	if err != nil {
		return err
	}
	if err := setPathStat(w.Header(), st); err != nil {
		return err
	}
	out := &lazyResponse{w: w, contentType: "application/x-tar", log: s.log}
	_, err = b.ContainerArchivePath(r.Context(), name, path, out)
	return out.finish(err)
}

// archivePut serves PUT: extracts the tar body (unbounded) at path.
// Query: noOverwriteDirNonDir, copyUIDGID.
func archivePut(w http.ResponseWriter, r *http.Request, b ArchiveBackend, name, path string) error {
	if r.Body == nil {
		return errdefs.InvalidParameter("archive body is empty")
	}
	err := b.ContainerExtractToDir(r.Context(), name, path, boolValue(r, "noOverwriteDirNonDir"), boolValue(r, "copyUIDGID"), r.Body)
	if err != nil {
		return err
	}
	w.WriteHeader(http.StatusOK)
	return nil
}
