package dockerapi

import (
	"net/http"

	"github.com/moby/moby/api/types/network"
	"github.com/sockerless/sockerless/internal/errdefs"
)

// networkHandler is a route of the network role.
type networkHandler func(w http.ResponseWriter, r *http.Request, b NetworkBackend) error

// networks guards the routes of the network role and parses the query.
func (s *Server) networks(h networkHandler) apiFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		if s.cfg.Networks == nil {
			return s.notImplemented("networks")
		}
		if err := parseForm(r); err != nil {
			return err
		}
		return h(w, r, s.cfg.Networks)
	}
}

// networkRoutes registers /networks/*.
func (s *Server) networkRoutes() {
	s.handle("GET /networks", s.networks(networkList))
	s.handle("GET /networks/{id}", s.networks(networkInspect))
	s.handle("POST /networks/create", s.networks(s.networkCreate))
	s.handle("POST /networks/{id}/connect", s.networks(s.networkConnect))
	s.handle("POST /networks/{id}/disconnect", s.networks(s.networkDisconnect))
	s.handle("DELETE /networks/{id}", s.networks(networkRemove))
	s.handle("POST /networks/prune", s.networks(networksPrune))
}

// networkCreate serves POST /networks/create. CheckDuplicate (API < 1.44)
// is not read: duplicate names are always refused, as dockerd does from
// API 1.44 on and as the docker CLI always asked for.
func (s *Server) networkCreate(w http.ResponseWriter, r *http.Request, b NetworkBackend) error {
	var req network.CreateRequest
	if err := s.readJSON(w, r, &req, true); err != nil {
		return err
	}
	resp, err := b.NetworkCreate(r.Context(), req)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusCreated, resp)
}

// networkList serves GET /networks?filters=.
func networkList(w http.ResponseWriter, r *http.Request, b NetworkBackend) error {
	f, err := filterValue(r, "dangling", "driver", "id", "label", "name", "scope", "type")
	if err != nil {
		return err
	}
	list, err := b.NetworkList(r.Context(), f)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, nonNil(list))
}

// networkInspect serves GET /networks/{id}?verbose=&scope=.
func networkInspect(w http.ResponseWriter, r *http.Request, b NetworkBackend) error {
	scope := r.Form.Get("scope")
	if scope != "" && scope != "local" && scope != "swarm" && scope != "global" {
		return errdefs.InvalidParameter("invalid scope value: %s", scope)
	}
	n, err := b.NetworkInspect(r.Context(), r.PathValue("id"), boolValue(r, "verbose"), scope)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, n)
}

// networkConnect serves POST /networks/{id}/connect.
func (s *Server) networkConnect(w http.ResponseWriter, r *http.Request, b NetworkBackend) error {
	var req network.ConnectRequest
	if err := s.readJSON(w, r, &req, true); err != nil {
		return err
	}
	if err := b.NetworkConnect(r.Context(), r.PathValue("id"), req); err != nil {
		return err
	}
	w.WriteHeader(http.StatusOK)
	return nil
}

// networkDisconnect serves POST /networks/{id}/disconnect.
func (s *Server) networkDisconnect(w http.ResponseWriter, r *http.Request, b NetworkBackend) error {
	var req network.DisconnectRequest
	if err := s.readJSON(w, r, &req, true); err != nil {
		return err
	}
	if err := b.NetworkDisconnect(r.Context(), r.PathValue("id"), req); err != nil {
		return err
	}
	w.WriteHeader(http.StatusOK)
	return nil
}

// networkRemove serves DELETE /networks/{id}.
func networkRemove(w http.ResponseWriter, r *http.Request, b NetworkBackend) error {
	if err := b.NetworkRemove(r.Context(), r.PathValue("id")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// networksPrune serves POST /networks/prune?filters=.
func networksPrune(w http.ResponseWriter, r *http.Request, b NetworkBackend) error {
	f, err := filterValue(r, "label", "label!", "until")
	if err != nil {
		return err
	}
	rep, err := b.NetworksPrune(r.Context(), f)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, rep)
}
