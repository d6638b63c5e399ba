package dockerapi

import (
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"strings"

	"github.com/moby/moby/api/types/container"
	"github.com/sockerless/sockerless/internal/errdefs"
)

// containerStart serves POST /containers/{name}/start?checkpoint=. A start body (a
// HostConfig) was removed in API 1.24; dockerd refuses any body longer
// than an empty JSON object.
func containerStart(w http.ResponseWriter, r *http.Request, b ContainerBackend) error {
	if r.ContentLength > 7 || r.ContentLength == -1 {
		return errdefs.InvalidParameter("starting container with non-empty request body was deprecated since API v1.22 and removed in v1.24")
	}
	if cp := r.Form.Get("checkpoint"); cp != "" {
		// dockerd checks the ID first, then refuses checkpoints outside
		// experimental mode; Sockerless has no checkpoints at all.
		if !validCheckpointID.MatchString(cp) || strings.HasSuffix(cp, ".") {
			return errdefs.InvalidParameter("invalid checkpoint ID %q, only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed", cp)
		}
		return errdefs.InvalidParameter("checkpoint is only supported in experimental mode")
	}
	if err := b.ContainerStart(r.Context(), r.PathValue("name")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

var validCheckpointID = regexp.MustCompile(`^[a-zA-Z0-9][a-zA-Z0-9_.-]+$`)

// stopOptions reads `signal` (API ≥ 1.42 only) and `t`.
func stopOptions(r *http.Request) (signal string, timeout *int, err error) {
	if atLeast(r, "1.42") {
		signal = r.Form.Get("signal")
	}
	t, set, err := intValue(r, "t")
	if err != nil || !set {
		return signal, nil, err
	}
	return signal, &t, nil
}

// containerStop serves POST /containers/{name}/stop?t=&signal=.
func containerStop(w http.ResponseWriter, r *http.Request, b ContainerBackend) error {
	sig, t, err := stopOptions(r)
	if err != nil {
		return err
	}
	if err := b.ContainerStop(r.Context(), r.PathValue("name"), sig, t); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// containerRestart serves POST /containers/{name}/restart?t=&signal=.
func containerRestart(w http.ResponseWriter, r *http.Request, b ContainerBackend) error {
	sig, t, err := stopOptions(r)
	if err != nil {
		return err
	}
	if err := b.ContainerRestart(r.Context(), r.PathValue("name"), sig, t); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// containerKill serves POST /containers/{name}/kill?signal=.
func containerKill(w http.ResponseWriter, r *http.Request, b ContainerBackend) error {
	name := r.PathValue("name")
	if err := b.ContainerKill(r.Context(), name, r.Form.Get("signal")); err != nil {
		return fmt.Errorf("cannot kill container: %s: %w", name, err)
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// containerPause serves POST /containers/{name}/pause.
func containerPause(w http.ResponseWriter, r *http.Request, b ContainerBackend) error {
	if err := b.ContainerPause(r.Context(), r.PathValue("name")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// containerUnpause serves POST /containers/{name}/unpause.
func containerUnpause(w http.ResponseWriter, r *http.Request, b ContainerBackend) error {
	if err := b.ContainerUnpause(r.Context(), r.PathValue("name")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// containerWait serves POST /containers/{name}/wait?condition=. As dockerd
// (API ≥ 1.30) the 200 and headers go out as soon as the wait is set up;
// the body follows when the condition is met.
func (s *Server) containerWait(w http.ResponseWriter, r *http.Request, b ContainerBackend) error {
	cond := container.WaitConditionNotRunning
	if atLeast(r, "1.30") {
		switch v := container.WaitCondition(r.Form.Get("condition")); v {
		case "":
		case container.WaitConditionNotRunning, container.WaitConditionNextExit, container.WaitConditionRemoved:
			cond = v
		default:
			return errdefs.InvalidParameter("invalid condition: %q", string(v))
		}
	}
	ch, err := b.ContainerWait(r.Context(), r.PathValue("name"), cond)
	if err != nil {
		return err
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusOK)
	if err := http.NewResponseController(w).Flush(); err != nil {
		return nil // the client left before the wait ended
	}
	select {
	case resp, ok := <-ch:
		if !ok {
			// No result is not an exit code: the client gets an empty
			// body, which it reports as an error, as from dockerd when a
			// wait cannot finish.
			s.log.Error("wait ended without a result", "container_id", r.PathValue("name"))
			return nil
		}
		return json.NewEncoder(w).Encode(resp)
	case <-r.Context().Done():
		return nil
	}
}

// containerResize serves POST /containers/{name}/resize?h=&w=.
func containerResize(w http.ResponseWriter, r *http.Request, b ContainerBackend) error {
	h, wd, err := terminalSize(r)
	if err != nil {
		return err
	}
	if err := b.ContainerResize(r.Context(), r.PathValue("name"), h, wd); err != nil {
		return err
	}
	w.WriteHeader(http.StatusOK)
	return nil
}

// containerStats serves GET /containers/{name}/stats?stream=&one-shot=.
// one-shot (API ≥ 1.41) only skips dockerd's priming sample; the backend
// has no such sample, so it changes nothing here.
func (s *Server) containerStats(w http.ResponseWriter, r *http.Request, b ContainerBackend) error {
	stream := boolDefault(r, "stream", true)
	started := false
	rc := http.NewResponseController(w)
	enc := json.NewEncoder(w)
	err := b.ContainerStats(r.Context(), r.PathValue("name"), stream, func(st container.StatsResponse) error {
		if !started {
			started = true
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusOK)
		}
		if err := enc.Encode(st); err != nil {
			return err
		}
		if stream {
			return rc.Flush()
		}
		return nil
	})
	if err != nil && !started {
		return err
	}
	if err != nil && r.Context().Err() == nil {
		s.log.Warn("stats stream ended", "container_id", r.PathValue("name"), "err", err)
	}
	return nil
}
