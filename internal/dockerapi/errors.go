package dockerapi

import (
	"encoding/json"
	"errors"
	"net/http"

	"github.com/moby/moby/api/types/common"
	"github.com/moby/moby/client/pkg/versions"
	"github.com/sockerless/sockerless/internal/errdefs"
)

// FromError maps an error's class to its HTTP status; an error of no class
// is a 500. It is the only place that looks at error classes for the wire.
func FromError(err error) int {
	switch {
	case err == nil:
		return http.StatusInternalServerError
	case errors.Is(err, errdefs.ErrNotFound):
		return http.StatusNotFound
	case errors.Is(err, errdefs.ErrInvalidParameter):
		return http.StatusBadRequest
	case errors.Is(err, errdefs.ErrConflict):
		return http.StatusConflict
	case errors.Is(err, errdefs.ErrNotModified):
		return http.StatusNotModified
	case errors.Is(err, errdefs.ErrNotImplemented):
		return http.StatusNotImplemented
	case errors.Is(err, errdefs.ErrUnavailable):
		return http.StatusServiceUnavailable
	case errors.Is(err, errdefs.ErrForbidden):
		return http.StatusForbidden
	case errors.Is(err, errdefs.ErrUnauthorized):
		return http.StatusUnauthorized
	}
	return http.StatusInternalServerError
}

// writeError answers a failed request. As dockerd: JSON {"message":...}
// with application/json; no body for 304; plain text when the client asked
// for an API version below 1.24 (it would not parse JSON errors).
func (s *Server) writeError(w http.ResponseWriter, r *http.Request, prefix string, err error) {
	status := FromError(err)
	if status >= http.StatusInternalServerError && status != http.StatusNotImplemented {
		s.log.Error("handler failed", "method", r.Method, "path", r.URL.Path, "status", status, "err", err)
	}
	switch {
	case status == http.StatusNotModified:
		w.WriteHeader(status)
	case prefix != "" && versions.LessThan(prefix, "1.24"):
		http.Error(w, err.Error(), status)
	default:
		if werr := writeJSONError(w, status, err.Error()); werr != nil {
			s.log.Debug("error response not delivered", "path", r.URL.Path, "err", werr)
		}
	}
}

// writeJSONError writes dockerd's error body.
func writeJSONError(w http.ResponseWriter, status int, msg string) error {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	return json.NewEncoder(w).Encode(common.ErrorResponse{Message: msg})
}

// notImplemented is the error of a route whose role backend is missing.
func (s *Server) notImplemented(what string) error {
	return errdefs.NotImplemented("%s are not implemented by the %q backend", what, s.cfg.BackendName)
}
