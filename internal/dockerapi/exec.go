package dockerapi

import (
	"net/http"

	"github.com/moby/moby/api/types/container"
	"github.com/sockerless/sockerless/internal/errdefs"
)

// execHandler is a route of the exec role.
type execHandler func(w http.ResponseWriter, r *http.Request, b ExecBackend) error

// execs guards the routes of the exec role and parses the query.
func (s *Server) execs(h execHandler) apiFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		if s.cfg.Exec == nil {
			return s.notImplemented("exec sessions")
		}
		if err := parseForm(r); err != nil {
			return err
		}
		return h(w, r, s.cfg.Exec)
	}
}

// execRoutes registers /containers/{name}/exec and /exec/{id}/*.
func (s *Server) execRoutes() {
	s.handle("POST /containers/{name}/exec", s.execs(s.execCreate))
	s.handle("POST /exec/{id}/start", s.execs(s.execStart))
	s.handle("GET /exec/{id}/json", s.execs(execInspect))
	s.handle("POST /exec/{id}/resize", s.execs(execResize))
}

// execCreate serves POST /containers/{name}/exec.
func (s *Server) execCreate(w http.ResponseWriter, r *http.Request, b ExecBackend) error {
	var req container.ExecCreateRequest
	if err := s.readJSON(w, r, &req, false); err != nil {
		return err
	}
	if len(req.Cmd) == 0 {
		return errdefs.InvalidParameter("No exec command specified")
	}
	if !atLeast(r, "1.42") {
		req.ConsoleSize = nil
	}
	resp, err := b.ExecCreate(r.Context(), r.PathValue("name"), req)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusCreated, resp)
}

// execStart serves POST /exec/{id}/start. Detached, it answers 200 with no
// body once started; otherwise it hijacks the connection like attach and
// returns when the process ends. ConsoleSize is not passed on:
// ExecStartOptions has no field for it (the exec's create request has it).
func (s *Server) execStart(w http.ResponseWriter, r *http.Request, b ExecBackend) error {
	var req container.ExecStartRequest
	if err := s.readJSON(w, r, &req, false); err != nil {
		return err
	}
	id := r.PathValue("id")
	info, err := b.ExecInspect(r.Context(), id)
	if err != nil {
		return err
	}
	if req.Detach {
		if err := b.ExecStart(r.Context(), id, ExecStartOptions{Detach: true, TTY: req.Tty}); err != nil {
			return err
		}
		w.WriteHeader(http.StatusOK)
		return nil
	}
	sess, err := hijack(w, r, streamContentType(r, req.Tty), true)
	if err != nil {
		return err
	}
	stdout, stderr, _ := outputs(sess.conn, req.Tty)
	opts := ExecStartOptions{Stdout: stdout, Stderr: stderr, TTY: req.Tty}
	if info.OpenStdin {
		opts.Stdin = sess.stdin()
	} else {
		sess.watch()
	}
	if err := b.ExecStart(sess.ctx, id, opts); err != nil && sess.ctx.Err() == nil {
		// dockerd writes the error on stdout, followed by CRLF.
		s.reportInBand(stdout, "", err)
	}
	if err := sess.close(); err != nil {
		s.log.Debug("exec connection close", "exec_id", id, "err", err)
	}
	return nil
}

// execInspect serves GET /exec/{id}/json.
func execInspect(w http.ResponseWriter, r *http.Request, b ExecBackend) error {
	info, err := b.ExecInspect(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, info)
}

// execResize serves POST /exec/{id}/resize?h=&w=.
func execResize(w http.ResponseWriter, r *http.Request, b ExecBackend) error {
	h, wd, err := terminalSize(r)
	if err != nil {
		return err
	}
	if err := b.ExecResize(r.Context(), r.PathValue("id"), h, wd); err != nil {
		return err
	}
	w.WriteHeader(http.StatusOK)
	return nil
}
