package engine

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"
	"time"
)

// timestampFormat is Docker's log timestamp: RFC 3339 with nanoseconds
// always printed.
const timestampFormat = "2006-01-02T15:04:05.000000000Z07:00"

// logDriver is the one logging driver: the log file is in its format.
const logDriver = "json-file"

// logRecord is one write of a container's process: stdout and stderr are
// kept apart, each record has the time it was written. On disk the format
// is Docker's json-file format, one object per line.
type logRecord struct {
	Log    string    `json:"log"`
	Stream string    `json:"stream"`
	Time   time.Time `json:"time"`
}

// logbook holds a container's log records: in memory for reads and
// followers, appended to a file so they survive a daemon restart.
type logbook struct {
	path string

	mu      sync.Mutex
	records []logRecord
	file    *os.File
	// grew is closed and replaced when records are added or the run ends.
	grew chan struct{}
}

func newLogbook(dataRoot, id string) *logbook {
	return &logbook{path: filepath.Join(dataRoot, "logs", id+"-json.log"), grew: make(chan struct{})}
}

// load reads the file written by an earlier daemon.
func (l *logbook) load() error {
	f, err := os.Open(l.path)
	if err != nil {
		if os.IsNotExist(err) {
			return nil
		}
		return err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 16<<20)
	for sc.Scan() {
		var r logRecord
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			break // a torn last line after a crash: keep what was whole
		}
		l.records = append(l.records, r)
	}
	return sc.Err()
}

// add appends a record.
func (l *logbook) add(stream string, b []byte) error {
	r := logRecord{Log: string(b), Stream: stream, Time: time.Now().UTC()}
	line, err := json.Marshal(r)
	if err != nil {
		return err
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if err := l.openLocked(); err != nil {
		return err
	}
	if _, err := l.file.Write(append(line, '\n')); err != nil {
		return fmt.Errorf("log file: %w", err)
	}
	l.records = append(l.records, r)
	close(l.grew)
	l.grew = make(chan struct{})
	return nil
}

// open makes the log file when it is not open yet, as dockerd starts a
// container's logger at every start, before the process runs (so the file
// LogPath names exists after a start that failed).
func (l *logbook) open() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.openLocked()
}

func (l *logbook) openLocked() error {
	if l.file != nil {
		return nil
	}
	f, err := os.OpenFile(l.path, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600)
	if err != nil {
		return fmt.Errorf("log file: %w", err)
	}
	l.file = f
	return nil
}

// wake tells followers to look again (the run ended).
func (l *logbook) wake() {
	l.mu.Lock()
	defer l.mu.Unlock()
	close(l.grew)
	l.grew = make(chan struct{})
}

func (l *logbook) close() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.file == nil {
		return nil
	}
	err := l.file.Close()
	l.file = nil
	return err
}

func (l *logbook) remove() error {
	return errors.Join(l.close(), ignoreNotExist(os.Remove(l.path)))
}

func ignoreNotExist(err error) error {
	if os.IsNotExist(err) {
		return nil
	}
	return err
}

// streamWriter is a process's stdout or stderr: output goes to the attached
// clients as written, and into the log as one record per line, as Docker's
// json-file driver keeps it (a line longer than maxLogLine is split, and an
// unfinished last line is written when the run ends).
type streamWriter struct {
	c      *ctr
	stream string
	run    *runIO

	mu      sync.Mutex
	partial []byte
}

// maxLogLine is where Docker splits a long line into records.
const maxLogLine = 16 << 10

func (w *streamWriter) Write(b []byte) (int, error) {
	w.run.fanOut(w.stream, b)
	w.mu.Lock()
	defer w.mu.Unlock()
	w.partial = append(w.partial, b...)
	for {
		i := bytes.IndexByte(w.partial, '\n')
		if i < 0 && len(w.partial) < maxLogLine {
			break
		}
		n := i + 1
		if i < 0 || n > maxLogLine {
			n = maxLogLine
		}
		w.record(w.partial[:n])
		w.partial = w.partial[n:]
	}
	if len(w.partial) == 0 {
		w.partial = nil // let a big buffer go
	}
	return len(b), nil
}

// flush writes an unfinished last line.
func (w *streamWriter) flush() {
	w.mu.Lock()
	defer w.mu.Unlock()
	if len(w.partial) > 0 {
		w.record(w.partial)
		w.partial = nil
	}
}

func (w *streamWriter) record(line []byte) {
	if err := w.c.logs.add(w.stream, line); err != nil {
		w.c.e.log.Error("log record lost", "container_id", w.c.rec.ID, "err", err)
	}
}

// LogOptions select log records.
type LogOptions struct {
	Stdout, Stderr, Timestamps, Follow bool
	Since, Until                       time.Time
	Tail                               int // < 0: all
}

// writeLogs writes the selected records, then follows new ones while the
// container runs.
func (c *ctr) writeLogs(ctx context.Context, opts LogOptions, stdout, stderr io.Writer) error {
	c.logs.mu.Lock()
	recs := c.logs.records
	grew := c.logs.grew
	c.logs.mu.Unlock()
	start := 0
	if opts.Tail >= 0 && opts.Tail < len(recs) {
		start = len(recs) - opts.Tail
	}
	for {
		for _, r := range recs[start:] {
			if err := writeRecord(r, opts, stdout, stderr); err != nil {
				return err
			}
		}
		start = len(recs)
		if !opts.Follow {
			return nil
		}
		rec, _ := c.snapshot()
		if !rec.State.Running && !rec.State.Restarting {
			// The run ended: write what came in since the last look.
			c.logs.mu.Lock()
			recs = c.logs.records
			c.logs.mu.Unlock()
			for _, r := range recs[start:] {
				if err := writeRecord(r, opts, stdout, stderr); err != nil {
					return err
				}
			}
			return nil
		}
		select {
		case <-grew:
		case <-ctx.Done():
			return nil
		}
		c.logs.mu.Lock()
		recs, grew = c.logs.records, c.logs.grew
		c.logs.mu.Unlock()
	}
}

func writeRecord(r logRecord, opts LogOptions, stdout, stderr io.Writer) error {
	if !opts.Since.IsZero() && r.Time.Before(opts.Since) {
		return nil
	}
	if !opts.Until.IsZero() && r.Time.After(opts.Until) {
		return nil
	}
	w := stdout
	if r.Stream == "stderr" {
		if !opts.Stderr {
			return nil
		}
		w = stderr
	} else if !opts.Stdout {
		return nil
	}
	b := []byte(r.Log)
	if opts.Timestamps {
		b = append([]byte(r.Time.Format(timestampFormat)+" "), b...)
	}
	_, err := w.Write(b)
	return err
}
