package differential

import (
	"archive/tar"
	"bytes"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// interaction is one recorded HTTP exchange.
type interaction struct {
	label        string
	check        check
	method, path string
	status       int
	header       http.Header
	body         bytes.Buffer
	transportErr string
}

// comparedHeaders are the response headers compared when either side sends
// them.
var comparedHeaders = []string{
	"Content-Type", "Api-Version", "Docker-Experimental", "Ostype", "Server",
	"Connection", "Upgrade", "Cache-Control", "Pragma", "Builder-Version",
	"X-Docker-Container-Path-Stat",
}

// render reduces an interaction to its compared aspects, normalized for the
// target it ran on: "request", "status", "header <name>", "body", "error".
func (tg *target) render(in *interaction) map[string]string {
	out := map[string]string{"request": in.method + " " + tg.normalize(in.path)}
	if in.transportErr != "" {
		out["error"] = tg.normalize(in.transportErr)
	}
	if in.status == 0 {
		return out
	}
	out["status"] = strconv.Itoa(in.status)
	for _, h := range comparedHeaders {
		if v, ok := in.header[http.CanonicalHeaderKey(h)]; ok {
			out["header "+h] = tg.normalizeHeader(h, strings.Join(v, ", "))
		}
	}
	out["body"] = tg.renderBody(in)
	return out
}

func (tg *target) normalizeHeader(name, v string) string {
	switch name {
	case "Api-Version":
		if v == tg.maxAPI {
			return "<max-api>"
		}
	case "Server":
		return strings.ReplaceAll(v, tg.serverVersion, "<version>")
	case "X-Docker-Container-Path-Stat":
		b, err := base64.StdEncoding.DecodeString(v)
		if err != nil {
			return "not base64: " + err.Error()
		}
		return tg.renderJSON(b, check{values: []string{".name", ".size", ".mode", ".linkTarget"}})
	}
	return v
}

// renderBody renders a body by what it is: an error message, JSON shape,
// JSON lines, a stream, a tar archive or text.
func (tg *target) renderBody(in *interaction) string {
	b := in.body.Bytes()
	ctype := in.header.Get("Content-Type")
	switch {
	case len(b) == 0:
		return "(empty)"
	case in.status >= 400 && strings.HasPrefix(ctype, "application/json"):
		var e struct {
			Message *string `json:"message"`
		}
		if err := json.Unmarshal(b, &e); err != nil || e.Message == nil {
			return "error body not {\"message\":...}: " + tg.normalize(string(b))
		}
		return "error: " + tg.normalize(*e.Message)
	case in.check.stream:
		return tg.renderStream(b)
	case in.check.lines:
		var lines []string
		for i, l := range bytes.Split(bytes.TrimSpace(b), []byte("\n")) {
			lines = append(lines, indent(fmt.Sprintf("[%d]", i), tg.renderJSON(l, in.check)))
		}
		return strings.Join(lines, "\n")
	case strings.HasPrefix(ctype, "application/json"):
		return tg.renderJSON(b, in.check)
	case ctype == "application/x-tar":
		return tg.renderTar(b)
	}
	return "text: " + strconv.Quote(tg.normalize(string(b)))
}

func indent(prefix, s string) string {
	lines := strings.Split(s, "\n")
	for i := range lines {
		lines[i] = prefix + lines[i]
	}
	return strings.Join(lines, "\n")
}

// renderJSON flattens a JSON document into sorted "path: shape" lines. The
// shape keeps field names, types, null vs {} vs [] and empty strings; values
// are kept for booleans (unless typesOnly) and for the paths c.values names.
func (tg *target) renderJSON(b []byte, c check) string {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return "not JSON (" + err.Error() + "): " + strconv.Quote(tg.normalize(string(b)))
	}
	if dec.More() {
		return "trailing data after JSON: " + strconv.Quote(tg.normalize(string(b)))
	}
	lines := map[string]bool{}
	tg.flatten("", v, c, lines)
	keys := make([]string, 0, len(lines))
	for k := range lines {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return strings.Join(keys, "\n")
}

func (tg *target) flatten(path string, v any, c check, out map[string]bool) {
	compared := slices.Contains(c.values, "*") || slices.Contains(c.values, path)
	switch x := v.(type) {
	case map[string]any:
		if len(x) == 0 {
			out[path+": {}"] = true
		}
		for k, child := range x {
			tg.flatten(path+"."+tg.normalize(k), child, c, out)
		}
	case []any:
		if len(x) == 0 {
			out[path+": []"] = true
		}
		for _, child := range x {
			tg.flatten(path+"[]", child, c, out)
		}
	case string:
		switch {
		case compared:
			out[path+": "+strconv.Quote(tg.normalize(x))] = true
		case x == "":
			out[path+`: ""`] = true
		default:
			out[path+": string"] = true
		}
	case json.Number:
		if compared {
			out[path+": "+x.String()] = true
		} else {
			out[path+": number"] = true
		}
	case bool:
		if c.typesOnly && !compared {
			out[path+": bool"] = true
		} else {
			out[path+": "+strconv.FormatBool(x)] = true
		}
	case nil:
		out[path+": null"] = true
	}
}

// renderStream renders a stream body: multiplexed frames (stdcopy) when the
// whole body parses as frames, otherwise raw bytes.
func (tg *target) renderStream(b []byte) string {
	var streams [3]bytes.Buffer
	rest := b
	for len(rest) >= 8 {
		kind, size := rest[0], binary.BigEndian.Uint32(rest[4:8])
		if kind > 2 || rest[1] != 0 || rest[2] != 0 || rest[3] != 0 || int(size) > len(rest)-8 {
			break
		}
		streams[kind].Write(rest[8 : 8+size])
		rest = rest[8+size:]
	}
	if len(rest) != 0 {
		return "raw: " + strconv.Quote(tg.normalize(string(b)))
	}
	names := [3]string{"stdin", "stdout", "stderr"}
	var lines []string
	for i, s := range streams {
		if s.Len() > 0 {
			lines = append(lines, "multiplexed "+names[i]+": "+strconv.Quote(tg.normalize(s.String())))
		}
	}
	return strings.Join(lines, "\n")
}

// renderTar lists a tar archive's entries: name, type, mode and the content
// of small files.
func (tg *target) renderTar(b []byte) string {
	tr := tar.NewReader(bytes.NewReader(b))
	var lines []string
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return strings.Join(append(lines, "tar error: "+err.Error()), "\n")
		}
		line := fmt.Sprintf("%s type=%c mode=%o", h.Name, h.Typeflag, h.Mode)
		if h.Typeflag == tar.TypeSymlink {
			line += " -> " + h.Linkname
		}
		if h.Typeflag == tar.TypeReg && h.Size <= 256 {
			data, err := io.ReadAll(tr)
			if err != nil {
				return strings.Join(append(lines, "tar error: "+err.Error()), "\n")
			}
			line += " " + strconv.Quote(string(data))
		}
		lines = append(lines, line)
	}
	return "tar:\n" + strings.Join(lines, "\n")
}

var (
	longID    = regexp.MustCompile(`\b[0-9a-f]{64}\b`)
	shortID   = regexp.MustCompile(`\b[0-9a-f]{12}\b`)
	timestamp = regexp.MustCompile(`\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)`)
	unixTime  = regexp.MustCompile(`\b1[0-9]{9}(\.[0-9]+)?\b`)
	ipv4      = regexp.MustCompile(`\b\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}(/\d+)?\b`)
	maxAPIMsg = regexp.MustCompile(`(Maximum supported API version is )[0-9.]+`)
	minAPIMsg = regexp.MustCompile(`(Minimum supported API version is )[0-9.]+`)
)

// normalize replaces what legitimately differs between two daemons running
// the same interaction: object IDs, timestamps, addresses and the daemons'
// own API version bounds in messages.
func (tg *target) normalize(s string) string {
	s = longID.ReplaceAllString(s, "<id>")
	s = shortID.ReplaceAllString(s, "<short-id>")
	s = timestamp.ReplaceAllString(s, "<time>")
	s = unixTime.ReplaceAllString(s, "<unix-time>")
	s = ipv4.ReplaceAllString(s, "<ip>")
	s = maxAPIMsg.ReplaceAllString(s, "${1}<max-api>")
	s = minAPIMsg.ReplaceAllString(s, "${1}<min-api>")
	return s
}
