package engine

import (
	"errors"
	"github.com/moby/term"
	"io"
	"sync"
)

// runIO is the I/O hub of one run of a container's main process: it fans
// output out to attached clients and feeds their stdin to the process.
type runIO struct {
	stdout, stderr *streamWriter
	stdinR         *io.PipeReader // the process's stdin; nil without OpenStdin
	stdinW         *io.PipeWriter
	stdinOnce      bool

	mu       sync.Mutex
	sessions []*attachSession
	ended    bool
}

// attachSession is one attached client. It is registered before the
// client's connection is taken over, so output that comes in between is
// held (pending) and written once the streams are set.
type attachSession struct {
	// done is closed when the run ends or the client went away.
	done chan struct{}
	once sync.Once

	mu             sync.Mutex
	ready          bool
	pending        []chunk
	stdin          io.Reader
	stdout, stderr io.Writer
	run            *runIO // the run it joined, once it did
}

type chunk struct {
	stream string
	data   []byte
}

func newAttachSession() *attachSession { return &attachSession{done: make(chan struct{})} }

func (s *attachSession) finish() { s.once.Do(func() { close(s.done) }) }

func (s *attachSession) finished() bool {
	select {
	case <-s.done:
		return true
	default:
		return false
	}
}

// setStreams connects the client: held output is written, and stdin is fed
// to the run it joined (or will join at start).
func (s *attachSession) setStreams(stdin io.Reader, stdout, stderr io.Writer) error {
	s.mu.Lock()
	s.stdin, s.stdout, s.stderr = stdin, stdout, stderr
	var err error
	for _, c := range s.pending {
		if err = s.writeLocked(c.stream, c.data); err != nil {
			break
		}
	}
	s.pending, s.ready = nil, true
	run := s.run
	s.mu.Unlock()
	if run != nil {
		run.pump(s)
	}
	return err
}

// write sends output to the client, or holds it until the streams are set.
func (s *attachSession) write(stream string, b []byte) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.ready {
		s.pending = append(s.pending, chunk{stream, append([]byte(nil), b...)})
		return nil
	}
	return s.writeLocked(stream, b)
}

func (s *attachSession) writeLocked(stream string, b []byte) error {
	w := s.stdout
	if stream == "stderr" {
		w = s.stderr
	}
	if w == nil {
		return nil
	}
	_, err := w.Write(b)
	return err
}

func newRunIO(openStdin, stdinOnce bool) *runIO {
	r := &runIO{stdinOnce: stdinOnce}
	if openStdin {
		r.stdinR, r.stdinW = io.Pipe()
	}
	return r
}

// add connects a session to the run: once its streams are set, its stdin
// is copied to the process.
func (r *runIO) add(s *attachSession) {
	r.mu.Lock()
	if r.ended {
		r.mu.Unlock()
		s.finish()
		return
	}
	r.sessions = append(r.sessions, s)
	r.mu.Unlock()
	s.mu.Lock()
	s.run = r
	ready := s.ready
	s.mu.Unlock()
	if ready {
		r.pump(s)
	}
}

// pump starts copying a ready session's stdin into the process.
func (r *runIO) pump(s *attachSession) {
	if s.stdin != nil && r.stdinW != nil {
		go r.pumpStdin(s)
	}
}

// pumpStdin copies a client's stdin into the process. With StdinOnce the
// client's end of input (a half-close) is the process's end of input.
func (r *runIO) pumpStdin(s *attachSession) {
	_, err := io.Copy(r.stdinW, s.stdin)
	var detached term.EscapeError
	if errors.As(err, &detached) {
		s.finish() // the client typed the detach keys: it leaves, the process keeps its stdin
		return
	}
	if r.stdinOnce || errors.Is(err, io.ErrClosedPipe) {
		_ = r.stdinW.Close() // a pipe's Close never fails
	}
}

// fanOut writes output to every session that asked for the stream. A
// session whose write fails has gone away; it is finished, the record of
// the output is already in the log.
func (r *runIO) fanOut(stream string, b []byte) {
	r.mu.Lock()
	defer r.mu.Unlock()
	kept := r.sessions[:0]
	for _, s := range r.sessions {
		if s.finished() {
			continue
		}
		if err := s.write(stream, b); err != nil {
			s.finish()
			continue
		}
		kept = append(kept, s)
	}
	r.sessions = kept
}

// end finishes the run: attached clients get the end of their streams and
// the process's stdin is closed.
func (r *runIO) end() {
	r.mu.Lock()
	r.ended = true
	sessions := r.sessions
	r.sessions = nil
	r.mu.Unlock()
	for _, s := range sessions {
		s.finish()
	}
	if r.stdinR != nil {
		_ = r.stdinR.Close() // unblocks pumps; a pipe's Close never fails
	}
}
