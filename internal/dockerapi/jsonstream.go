package dockerapi

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"

	"github.com/moby/moby/api/types/jsonstream"
)

// jsonMessage is one line of a pull or load progress stream. Next to the
// api module's jsonstream.Message it carries the two string fields dockerd
// sent until v28 and older clients (docker-py, compose v1) still read:
// "progress" (the rendered bar) and "error".
type jsonMessage struct {
	jsonstream.Message
	ProgressMessage string `json:"progress,omitempty"`
	ErrorMessage    string `json:"error,omitempty"`
}

// progressStream writes a JSON-lines progress response (CRLF-terminated,
// as dockerd's streamformatter), committing the 200 on the first line.
type progressStream struct {
	w       http.ResponseWriter
	started bool
}

// write sends one message and flushes it.
func (p *progressStream) write(m jsonMessage) error {
	b, err := json.Marshal(m)
	if err != nil {
		return err
	}
	if !p.started {
		p.started = true
		p.w.Header().Set("Content-Type", "application/json")
		p.w.WriteHeader(http.StatusOK)
	}
	if _, err := p.w.Write(append(b, '\r', '\n')); err != nil {
		return err
	}
	return http.NewResponseController(p.w).Flush()
}

// progress is the [PullProgress] callback.
func (p *progressStream) progress(status, id string, current, total int64) error {
	m := jsonMessage{Message: jsonstream.Message{Status: status, ID: id}}
	if current > 0 || total > 0 {
		m.Progress = &jsonstream.Progress{Current: current, Total: total}
		m.ProgressMessage = progressBar(current, total)
	}
	return p.write(m)
}

// stream writes a {"stream": line} message; the line ends with "\n".
func (p *progressStream) stream(line string) error {
	if !strings.HasSuffix(line, "\n") {
		line += "\n"
	}
	return p.write(jsonMessage{Message: jsonstream.Message{Stream: line}})
}

// finish ends the response: an error before any line is returned for the
// normal error status; after, it becomes the final errorDetail line, as
// dockerd does once streaming started. Success without lines is a 200.
func (p *progressStream) finish(err error) error {
	switch {
	case err == nil && !p.started:
		p.w.Header().Set("Content-Type", "application/json")
		p.w.WriteHeader(http.StatusOK)
		return nil
	case err == nil:
		return nil
	case !p.started:
		return err
	}
	return p.write(jsonMessage{
		Message:      jsonstream.Message{Error: &jsonstream.Error{Message: err.Error()}},
		ErrorMessage: err.Error(),
	})
}

// progressBar renders dockerd's progress string, e.g.
// "[=====>        ]  1.5MB/3MB".
func progressBar(current, total int64) string {
	if total <= 0 {
		return fmt.Sprintf("%8v", humanSize(current))
	}
	pct := min(int(float64(current)/float64(total)*100)/2, 50)
	bar := "[" + strings.Repeat("=", pct) + ">" + strings.Repeat(" ", 50-pct) + "] "
	if current > total {
		return bar + fmt.Sprintf("%8v", humanSize(current))
	}
	return bar + fmt.Sprintf("%8v/%v", humanSize(current), humanSize(total))
}

// humanSize is go-units' HumanSize: decimal units, four significant digits.
func humanSize(n int64) string {
	units := []string{"B", "kB", "MB", "GB", "TB", "PB", "EB"}
	f, i := float64(n), 0
	for f >= 1000 && i < len(units)-1 {
		f /= 1000
		i++
	}
	return fmt.Sprintf("%.4g%s", f, units[i])
}
