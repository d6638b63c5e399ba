package dockerapi

import (
	"context"
	"fmt"
	"io"
	"net/http"

	"github.com/moby/moby/api/types"
)

// containerAttach serves POST /containers/{name}/attach: it checks the
// container (a missing one is a 404 written as dockerd writes it, see
// attachError), hijacks the connection and
// hands the streams to the backend until the attach ends.
//
// Query: stdin, stdout, stderr, logs, stream, detachKeys.
func (s *Server) containerAttach(w http.ResponseWriter, r *http.Request, b ContainerBackend) error {
	name := r.PathValue("name")
	tty, err := containerTTY(r, b, name)
	if err != nil {
		return s.attachError(w, r, err)
	}
	var sess *session
	var sys io.Writer
	// The request's context ends when the connection is taken over; from
	// then on the session's context says whether the client is there.
	ctx, cancel := context.WithCancel(context.WithoutCancel(r.Context()))
	defer cancel()
	opts := AttachOptions{
		Logs:       boolValue(r, "logs"),
		Stream:     boolValue(r, "stream"),
		DetachKeys: r.Form.Get("detachKeys"),
		Attach: func() (io.Reader, io.Writer, io.Writer, error) {
			var err error
			if sess, err = hijack(w, r, streamContentType(r, tty), false); err != nil {
				return nil, nil, nil, err
			}
			context.AfterFunc(sess.ctx, cancel)
			var stdout, stderr io.Writer
			stdout, stderr, sys = outputs(sess.conn, tty)
			var stdin io.Reader
			if boolValue(r, "stdin") {
				stdin = sess.stdin()
			} else {
				sess.watch()
			}
			if !boolValue(r, "stdout") {
				stdout = nil
			}
			if !boolValue(r, "stderr") {
				stderr = nil
			}
			return stdin, stdout, stderr, nil
		},
	}
	err = b.ContainerAttach(ctx, name, opts)
	if sess == nil {
		if err != nil {
			return s.attachError(w, r, err)
		}
		return nil
	}
	if err != nil && sess.ctx.Err() == nil {
		s.reportInBand(sys, "", err)
	}
	if err := sess.close(); err != nil {
		s.log.Debug("attach connection close", "container_id", name, "err", err)
	}
	return nil
}

// attachError answers an attach that failed before its stream started as
// dockerd does: on the taken-over connection, a bare status line, the raw
// stream's Content-Type and the message as text (none of the API headers).
// Clients read it as the error of a refused upgrade.
func (s *Server) attachError(w http.ResponseWriter, r *http.Request, err error) error {
	conn, _, herr := http.NewResponseController(w).Hijack()
	if herr != nil {
		return err
	}
	defer func() { _ = conn.Close() }() // the error is all there is to send
	status := FromError(err)
	setHijackedStatus(w, status)
	s.log.Debug("attach refused", "path", r.URL.Path, "status", status, "err", err)
	if _, werr := fmt.Fprintf(conn, "HTTP/1.1 %d %s\r\nContent-Type: %s\r\n\r\n%s\r\n", status, http.StatusText(status), types.MediaTypeRawStream, err.Error()); werr != nil {
		s.log.Debug("attach error not delivered", "path", r.URL.Path, "err", werr)
	}
	return nil
}
