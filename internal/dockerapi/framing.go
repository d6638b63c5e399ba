package dockerapi

import (
	"encoding/binary"
	"io"
	"log/slog"
	"net/http"
	"sync"

	"github.com/moby/moby/api/pkg/stdcopy"
)

// The stream framing of logs, attach and exec. Without a TTY, stdout and
// stderr are multiplexed: each write becomes one frame of an 8-byte header
// (stream type, three zero bytes, big-endian uint32 length) and the
// payload, the format stdcopy.StdCopy reads. With a TTY the bytes go out
// raw. The api module ships only the reader; this is the one writer.

// maxFrame bounds a frame's payload so one huge write does not become one
// huge allocation on the reader's side.
const maxFrame = 32 * 1024

// frameWriter multiplexes onto a shared destination. Frames of stdout and
// stderr writers sharing one lock never interleave.
type frameWriter struct {
	mu     *sync.Mutex
	dst    io.Writer
	stream stdcopy.StdType
}

// Write writes p as one or more frames.
func (f *frameWriter) Write(p []byte) (int, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	written := 0
	for len(p) > 0 {
		n := min(len(p), maxFrame)
		var hdr [8]byte
		hdr[0] = byte(f.stream)
		binary.BigEndian.PutUint32(hdr[4:], uint32(n))
		if _, err := f.dst.Write(hdr[:]); err != nil {
			return written, err
		}
		m, err := f.dst.Write(p[:n])
		written += m
		if err != nil {
			return written, err
		}
		p = p[n:]
	}
	return written, nil
}

// lockedWriter serialises writes of several producers (raw TTY output).
type lockedWriter struct {
	mu  *sync.Mutex
	dst io.Writer
}

// Write writes p under the lock.
func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.dst.Write(p)
}

// outputs returns the stdout and stderr writers over dst: multiplexed
// frames, or the same raw writer for a TTY. Both share one lock.
func outputs(dst io.Writer, tty bool) (stdout, stderr, system io.Writer) {
	mu := &sync.Mutex{}
	if tty {
		raw := &lockedWriter{mu: mu, dst: dst}
		return raw, raw, raw
	}
	return &frameWriter{mu: mu, dst: dst, stream: stdcopy.Stdout},
		&frameWriter{mu: mu, dst: dst, stream: stdcopy.Stderr},
		&frameWriter{mu: mu, dst: dst, stream: stdcopy.Systemerr}
}

// flushWriter flushes the response after every write, so streamed output
// reaches the client as it is produced.
type flushWriter struct {
	rc *http.ResponseController
	w  io.Writer
}

// Write writes and flushes.
func (f flushWriter) Write(p []byte) (int, error) {
	n, err := f.w.Write(p)
	if err != nil {
		return n, err
	}
	return n, f.rc.Flush()
}

// lazyResponse commits a 200 with its headers on the first write, so a
// backend that fails before producing output still gets a proper error
// status. After the first write an error can only abort the response.
type lazyResponse struct {
	w           http.ResponseWriter
	contentType string
	flush       bool
	started     bool
	log         *slog.Logger
}

// Write commits the response if needed and writes p.
func (l *lazyResponse) Write(p []byte) (int, error) {
	l.start()
	n, err := l.w.Write(p)
	if err != nil || !l.flush {
		return n, err
	}
	return n, http.NewResponseController(l.w).Flush()
}

// start writes the headers once.
func (l *lazyResponse) start() {
	if l.started {
		return
	}
	l.started = true
	if l.contentType != "" {
		l.w.Header().Set("Content-Type", l.contentType)
	}
	l.w.WriteHeader(http.StatusOK)
}

// finish ends a lazy response: success with no output still commits the
// 200; an error before any output is returned for the normal error path;
// an error after output aborts the connection so the client sees a
// truncated transfer instead of a complete-looking body.
func (l *lazyResponse) finish(err error) error {
	switch {
	case err == nil:
		l.start()
		return nil
	case !l.started:
		return err
	}
	l.log.Warn("response aborted after output started", "err", err)
	// http.ErrAbortHandler is net/http's documented way to abort a
	// response that is already under way without logging a stack.
	panic(http.ErrAbortHandler)
}
