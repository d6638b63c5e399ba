package dockerapi

import (
	"fmt"
	"io"
	"net/http"
	"strconv"

	"github.com/moby/moby/api/types"
	"github.com/sockerless/sockerless/internal/errdefs"
)

// logsOptions parses the query of GET /containers/{name}/logs. Everything
// is validated before the response starts: after that, errors can only be
// reported in the stream.
func logsOptions(r *http.Request) (LogsOptions, error) {
	o := LogsOptions{
		Stdout:     boolValue(r, "stdout"),
		Stderr:     boolValue(r, "stderr"),
		Timestamps: boolValue(r, "timestamps"),
		Follow:     boolValue(r, "follow"),
		Tail:       -1,
	}
	if !o.Stdout && !o.Stderr {
		return o, errdefs.InvalidParameter("must specify at least one of 'stdout' or 'stderr'")
	}
	var err error
	if o.Since, err = timeValue(r, "since"); err != nil {
		return o, err
	}
	if o.Until, err = timeValue(r, "until"); err != nil {
		return o, err
	}
	if t := r.Form.Get("tail"); t != "" && t != "all" {
		n, err := strconv.Atoi(t)
		if err != nil {
			return o, errdefs.InvalidParameter("invalid value for tail: %q: must be a number or \"all\"", t)
		}
		if n >= 0 {
			o.Tail = n
		}
	}
	return o, nil
}

// streamContentType is the media type of attach/logs/exec output: the
// multiplexed type exists from API 1.42; before, everything was "raw".
func streamContentType(r *http.Request, tty bool) string {
	if !tty && atLeast(r, "1.42") {
		return types.MediaTypeMultiplexedStream
	}
	return types.MediaTypeRawStream
}

// containerLogs serves GET /containers/{name}/logs: records framed with
// stdcopy headers, or raw for a TTY container, flushed as they come.
func (s *Server) containerLogs(w http.ResponseWriter, r *http.Request, b ContainerBackend) error {
	opts, err := logsOptions(r)
	if err != nil {
		return err
	}
	name := r.PathValue("name")
	tty, err := containerTTY(r, b, name)
	if err != nil {
		return err
	}
	// As dockerd, the 200 goes out before the first record so that a
	// follower of a silent container sees the response start.
	w.Header().Set("Content-Type", streamContentType(r, tty))
	w.WriteHeader(http.StatusOK)
	rc := http.NewResponseController(w)
	if err := rc.Flush(); err != nil {
		return nil // the client left
	}
	stdout, stderr, sys := outputs(flushWriter{rc: rc, w: w}, tty)
	err = b.ContainerLogs(r.Context(), name, opts, stdout, stderr)
	if err != nil && r.Context().Err() == nil {
		s.reportInBand(sys, "Error grabbing logs: ", err)
	}
	return nil
}

// reportInBand writes an error that happened after the response started:
// a system-error frame (which stdcopy.StdCopy returns as an error) when
// multiplexed, a text line as dockerd writes when raw.
func (s *Server) reportInBand(sys io.Writer, msg string, err error) {
	if _, werr := fmt.Fprintf(sys, "%s%v\r\n", msg, err); werr != nil {
		s.log.Debug("in-band error not delivered", "err", err, "write_err", werr)
	}
}
