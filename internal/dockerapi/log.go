package dockerapi

import (
	"net/http"
	"time"
)

// recorder remembers the status written through it, for the request log.
// Unwrap lets http.ResponseController reach Flush and Hijack underneath.
type recorder struct {
	http.ResponseWriter
	status int
}

// WriteHeader records the status.
func (rec *recorder) WriteHeader(status int) {
	if rec.status == 0 {
		rec.status = status
	}
	rec.ResponseWriter.WriteHeader(status)
}

// Write records an implicit 200.
func (rec *recorder) Write(p []byte) (int, error) {
	if rec.status == 0 {
		rec.status = http.StatusOK
	}
	return rec.ResponseWriter.Write(p)
}

// Unwrap returns the underlying writer (for http.ResponseController).
func (rec *recorder) Unwrap() http.ResponseWriter { return rec.ResponseWriter }

// setHijackedStatus records the status line written on a hijacked
// connection.
func setHijackedStatus(w http.ResponseWriter, status int) {
	if rec, ok := w.(*recorder); ok && rec.status == 0 {
		rec.status = status
	}
}

// logRequests logs each request at Debug: method, path, status, duration.
// Headers are never logged (X-Registry-Auth carries credentials), nor the
// query (it may carry names only, but stays out to keep the rule simple).
func (s *Server) logRequests(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		rec := &recorder{ResponseWriter: w}
		defer func() {
			status := rec.status
			if status == 0 {
				status = http.StatusOK
			}
			s.log.Debug("request", "method", r.Method, "path", r.URL.Path, "status", status, "duration", time.Since(start))
		}()
		next.ServeHTTP(rec, r)
	})
}
