package dockerapi

import (
	"context"
	"io"
	"net/http"
)

// containerAttach serves POST /containers/{name}/attach: it checks the
// container (so a missing one is a plain 404), hijacks the connection and
// hands the streams to the backend until the attach ends.
//
// Query: stdin, stdout, stderr, logs, stream, detachKeys.
func (s *Server) containerAttach(w http.ResponseWriter, r *http.Request, b ContainerBackend) error {
	name := r.PathValue("name")
	tty, err := containerTTY(r, b, name)
	if err != nil {
		return err
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
		return err // not hijacked: a plain error response
	}
	if err != nil && sess.ctx.Err() == nil {
		s.reportInBand(sys, "", err)
	}
	if err := sess.close(); err != nil {
		s.log.Debug("attach connection close", "container_id", name, "err", err)
	}
	return nil
}
