package dockerapi

import (
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/sockerless/sockerless/internal/errdefs"
	"github.com/sockerless/sockerless/internal/filters"
)

// boolValue reads a boolean query parameter as dockerd does: absent, "",
// "0", "no", "false" and "none" are false, anything else is true.
func boolValue(r *http.Request, k string) bool {
	s := strings.ToLower(strings.TrimSpace(r.Form.Get(k)))
	return !(s == "" || s == "0" || s == "no" || s == "false" || s == "none")
}

// boolDefault is boolValue with a default for an absent parameter.
func boolDefault(r *http.Request, k string, def bool) bool {
	if _, ok := r.Form[k]; !ok {
		return def
	}
	return boolValue(r, k)
}

// parseForm parses the query (and a urlencoded body), as dockerd's
// httputils.ParseForm: a body with another media type is not an error.
func parseForm(r *http.Request) error {
	if err := r.ParseForm(); err != nil && !strings.HasPrefix(err.Error(), "mime:") {
		return errdefs.InvalidParameter("%v", err)
	}
	return nil
}

// intValue reads an optional integer parameter.
func intValue(r *http.Request, k string) (v int, set bool, err error) {
	s := r.Form.Get(k)
	if s == "" {
		return 0, false, nil
	}
	v, err = strconv.Atoi(s)
	if err != nil {
		return 0, false, errdefs.InvalidParameter("invalid value for %s: %q: must be an integer", k, s)
	}
	return v, true, nil
}

// uintValue reads a resize dimension ("h", "w"). As dockerd's
// Uint32Value, an absent, empty, signed or out-of-range value is an error.
func uintValue(r *http.Request, k, what string) (uint, error) {
	s := r.Form.Get(k)
	digits, neg := strings.CutPrefix(s, "-")
	if digits == "" || digits[0] == '+' {
		return 0, errdefs.InvalidParameter("invalid resize %s %q: %v", what, s, strconv.ErrSyntax)
	}
	v, err := strconv.ParseUint(digits, 10, 32)
	var numErr *strconv.NumError
	switch {
	case errors.As(err, &numErr):
		return 0, errdefs.InvalidParameter("invalid resize %s %q: %v", what, s, numErr.Err)
	case err != nil:
		return 0, errdefs.InvalidParameter("invalid resize %s %q: %v", what, s, err)
	case neg:
		return 0, errdefs.InvalidParameter("invalid resize %s %q: %v", what, s, strconv.ErrRange)
	}
	return uint(v), nil
}

// filterValue parses the `filters` parameter and refuses keys the endpoint
// does not know.
func filterValue(r *http.Request, accepted ...string) (filters.Args, error) {
	f, err := filters.Parse(r.Form.Get("filters"))
	if err != nil {
		return nil, err
	}
	if err := f.Validate(accepted...); err != nil {
		return nil, err
	}
	return f, nil
}

// timeValue parses a since/until value: Unix seconds with an optional
// fraction (what clients send), RFC 3339, or a Go duration before now.
func timeValue(r *http.Request, k string) (time.Time, error) {
	s := r.Form.Get(k)
	if s == "" {
		return time.Time{}, nil
	}
	return filters.Timestamp(k, s, time.Now())
}

// checkJSON refuses a body whose Content-Type is not application/json; no
// Content-Type is fine for an empty body (dockerd's CheckForJSON).
func checkJSON(r *http.Request) error {
	ct := r.Header.Get("Content-Type")
	if ct == "" && (r.Body == nil || r.ContentLength == 0) {
		return nil
	}
	mt, _, err := mime.ParseMediaType(ct)
	if err != nil {
		return errdefs.InvalidParameter("malformed Content-Type header (%s): %v", ct, err)
	}
	if mt != "application/json" {
		return errdefs.InvalidParameter("unsupported Content-Type header (%s): must be 'application/json'", ct)
	}
	return nil
}

// readJSON decodes a JSON body into out with dockerd's messages. The body
// is bounded by the server's MaxJSONBody. An empty body leaves out as is
// unless required. Unknown fields are accepted, as dockerd does: clients
// newer than the types must keep working.
func (s *Server) readJSON(w http.ResponseWriter, r *http.Request, out any, required bool) error {
	if err := checkJSON(r); err != nil {
		return err
	}
	if r.Body == nil || r.ContentLength == 0 {
		if required {
			return errdefs.InvalidParameter("invalid JSON: got EOF while reading request body")
		}
		return nil
	}
	body := http.MaxBytesReader(w, r.Body, s.cfg.MaxJSONBody)
	dec := json.NewDecoder(body)
	err := dec.Decode(out)
	var tooBig *http.MaxBytesError
	switch {
	case errors.As(err, &tooBig):
		return errdefs.InvalidParameter("request body too large: the limit is %d bytes", tooBig.Limit)
	case errors.Is(err, io.EOF):
		if required {
			return errdefs.InvalidParameter("invalid JSON: got EOF while reading request body")
		}
		return nil
	case err != nil:
		return errdefs.InvalidParameter("invalid JSON: %v", err)
	case dec.More():
		return errdefs.InvalidParameter("unexpected content after JSON")
	}
	return nil
}

// writeJSON writes v with a status, as dockerd's WriteJSON (no HTML
// escaping).
func writeJSON(w http.ResponseWriter, status int, v any) error {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	return enc.Encode(v)
}

// terminalSize reads the h and w query parameters of the resize routes.
func terminalSize(r *http.Request) (height, width uint, err error) {
	if height, err = uintValue(r, "h", "height"); err != nil {
		return 0, 0, err
	}
	width, err = uintValue(r, "w", "width")
	return height, width, err
}
