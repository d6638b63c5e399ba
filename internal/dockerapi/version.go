package dockerapi

import (
	"context"
	"fmt"
	"net/http"
	"strings"

	"github.com/moby/moby/client/pkg/versions"
	"github.com/sockerless/sockerless/internal/errdefs"
)

// versionKey is the context key of the negotiated API version.
type versionKey struct{}

// prefixKey marks that the client sent an explicit /vX.Y prefix: that
// version decides whether errors are plain text (below 1.24, as dockerd).
type prefixKey struct{}

// apiVersion returns the API version of the request (the /vX.Y prefix or
// the server's maximum).
func apiVersion(r *http.Request) string {
	v, _ := r.Context().Value(versionKey{}).(string)
	return v
}

// splitVersion splits "/v1.41/containers/json" into "1.41" and
// "/containers/json". A path without a prefix matching dockerd's
// `/v{version:[0-9.]+}` returns "" and the path unchanged.
func splitVersion(path string) (version, rest string) {
	if !strings.HasPrefix(path, "/v") {
		return "", path
	}
	seg, rest, ok := strings.Cut(path[2:], "/")
	if !ok || seg == "" || strings.Trim(seg, "0123456789.") != "" {
		return "", path
	}
	return seg, "/" + rest
}

// serveVersioned strips a /vX.Y prefix, records the version in the context
// and dispatches to the route table.
func (s *Server) serveVersioned(w http.ResponseWriter, r *http.Request) {
	v, rest := splitVersion(r.URL.Path)
	if v != "" {
		r2 := r.Clone(context.WithValue(r.Context(), prefixKey{}, v))
		r2.URL.Path = rest
		if r.URL.RawPath != "" {
			_, r2.URL.RawPath = splitVersion(r.URL.RawPath)
		}
		r = r2
	}
	s.mux.ServeHTTP(w, r)
}

// versionError is dockerd's versionUnsupportedError wording.
func versionError(version, min, max string) error {
	if min != "" {
		return errdefs.InvalidParameter("client version %s is too old. Minimum supported API version is %s, please upgrade your client to a newer version", version, min)
	}
	return errdefs.InvalidParameter("client version %s is too new. Maximum supported API version is %s", version, max)
}

// wrap turns an apiFunc into a routed handler: dockerd's version headers,
// the min/max check, then the error mapping.
func (s *Server) wrap(h apiFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hdr := w.Header()
		hdr.Set("Server", fmt.Sprintf("Docker/%s (linux)", s.cfg.ServerVersion))
		hdr.Set("Api-Version", s.cfg.MaxAPIVersion)
		hdr.Set("Ostype", "linux")

		prefix, _ := r.Context().Value(prefixKey{}).(string)
		v := prefix
		if v == "" {
			v = s.cfg.MaxAPIVersion
		}
		var err error
		switch {
		case versions.LessThan(v, s.cfg.MinAPIVersion):
			err = versionError(v, s.cfg.MinAPIVersion, "")
		case versions.GreaterThan(v, s.cfg.MaxAPIVersion):
			err = versionError(v, "", s.cfg.MaxAPIVersion)
		default:
			// dockerd's experimental middleware runs after the version
			// check: a refused version gets no Docker-Experimental header.
			hdr.Set("Docker-Experimental", "false")
			err = h(w, r.WithContext(context.WithValue(r.Context(), versionKey{}, v)))
		}
		if err != nil {
			s.writeError(w, r, prefix, err)
		}
	})
}

// atLeast reports whether the request's API version is ≥ v.
func atLeast(r *http.Request, v string) bool {
	return versions.GreaterThanOrEqualTo(apiVersion(r), v)
}
