package dockerapi

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/volume"
	"github.com/sockerless/sockerless/internal/errdefs"
	"github.com/sockerless/sockerless/internal/filters"
)

// do sends one request and returns status, headers and body.
func do(t *testing.T, method, url, contentType, body string) (int, http.Header, string) {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if body == "" {
		req.Body = nil
		req.ContentLength = 0
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		if err := resp.Body.Close(); err != nil {
			t.Error(err)
		}
	}()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, resp.Header, string(b)
}

func TestVersionNegotiation(t *testing.T) {
	ts := newTestServer(t, Config{})
	cases := []struct {
		name, path string
		status     int
		ctype      string
		body       string
	}{
		{"no prefix", "/_ping", 200, "text/plain; charset=utf-8", "OK"},
		{"min", "/v1.24/_ping", 200, "text/plain; charset=utf-8", "OK"},
		{"max", "/v1.51/_ping", 200, "text/plain; charset=utf-8", "OK"},
		{"too new", "/v1.99/_ping", 400, "application/json", `{"message":"client version 1.99 is too new. Maximum supported API version is 1.51"}` + "\n"},
		{"too new by minor", "/v1.52/_ping", 400, "application/json", `{"message":"client version 1.52 is too new. Maximum supported API version is 1.51"}` + "\n"},
		// Below 1.24 dockerd answers in plain text: such clients cannot read JSON errors.
		{"too old", "/v1.12/_ping", 400, "text/plain; charset=utf-8", "client version 1.12 is too old. Minimum supported API version is 1.24, please upgrade your client to a newer version\n"},
		{"single number", "/v1/_ping", 400, "text/plain; charset=utf-8", "client version 1 is too old. Minimum supported API version is 1.24, please upgrade your client to a newer version\n"},
		// dockerd's prefix is /v{version:[0-9.]+}: anything else is no prefix, so no route.
		{"malformed", "/vabc/_ping", 404, "application/json", `{"message":"page not found"}` + "\n"},
		{"empty", "/v/_ping", 404, "application/json", `{"message":"page not found"}` + "\n"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			status, h, body := do(t, "GET", ts.URL+c.path, "", "")
			if status != c.status || h.Get("Content-Type") != c.ctype || body != c.body {
				t.Errorf("got %d %q %q, want %d %q %q", status, h.Get("Content-Type"), body, c.status, c.ctype, c.body)
			}
		})
	}
}

func TestVersionHeaders(t *testing.T) {
	ts := newTestServer(t, Config{ServerVersion: "1.2.3"})
	for _, path := range []string{"/_ping", "/v1.41/_ping", "/v1.99/_ping", "/v1.41/info"} {
		_, h, _ := do(t, "GET", ts.URL+path, "", "")
		want := map[string]string{"Api-Version": "1.51", "Ostype": "linux", "Docker-Experimental": "false", "Server": "Docker/1.2.3 (linux)"}
		if path == "/v1.99/_ping" {
			// As dockerd: a refused version gets no Docker-Experimental.
			want["Docker-Experimental"] = ""
		}
		for k, v := range want {
			if got := h.Get(k); got != v {
				t.Errorf("%s: header %s = %q, want %q", path, k, got, v)
			}
		}
	}
}

func TestPing(t *testing.T) {
	ts := newTestServer(t, Config{})
	for _, method := range []string{"GET", "HEAD"} {
		status, h, body := do(t, method, ts.URL+"/v1.41/_ping", "", "")
		wantBody := "OK"
		if method == "HEAD" {
			wantBody = ""
		}
		if status != 200 || body != wantBody {
			t.Errorf("%s: got %d %q", method, status, body)
		}
		for k, v := range map[string]string{"Cache-Control": "no-cache, no-store, must-revalidate", "Pragma": "no-cache", "Content-Type": "text/plain; charset=utf-8", "Swarm": "inactive"} {
			if got := h.Get(k); got != v {
				t.Errorf("%s: %s = %q, want %q", method, k, got, v)
			}
		}
		if _, ok := h["Builder-Version"]; ok {
			t.Errorf("%s: Builder-Version sent without a builder", method)
		}
	}
}

func TestUnknownRoutes(t *testing.T) {
	ts := newTestServer(t, Config{Containers: &fakeContainers{}})
	for _, c := range []struct{ method, path string }{
		{"GET", "/nope"},
		{"GET", "/v1.41/nope"},
		{"PUT", "/v1.41/containers/json"}, // wrong method: dockerd says 404, not 405
		{"GET", "/v1.41/"},
	} {
		status, h, body := do(t, c.method, ts.URL+c.path, "", "")
		if status != 404 || body != `{"message":"page not found"}`+"\n" || h.Get("Content-Type") != "application/json" {
			t.Errorf("%s %s: got %d %q", c.method, c.path, status, body)
		}
	}
}

func TestMissingBackend(t *testing.T) {
	ts := newTestServer(t, Config{BackendName: "lambda"})
	for _, c := range []struct{ method, path, what string }{
		{"GET", "/info", "system information and events"},
		{"GET", "/containers/json", "containers"},
		{"POST", "/exec/abc/start", "exec sessions"},
		{"GET", "/images/json", "images"},
		{"GET", "/volumes", "volumes"},
		{"HEAD", "/containers/x/archive?path=/", "container file copies (archive)"},
		{"GET", "/networks", "networks"},
	} {
		status, _, body := do(t, c.method, ts.URL+"/v1.41"+c.path, "", "")
		if status != 501 {
			t.Errorf("%s %s: status %d, want 501", c.method, c.path, status)
		}
		if c.what != "" && c.method != "HEAD" && body != fmt.Sprintf(`{"message":"%s are not implemented by the \"lambda\" backend"}`+"\n", c.what) {
			t.Errorf("%s %s: body %q", c.method, c.path, body)
		}
	}
}

func TestFromError(t *testing.T) {
	cases := []struct {
		err  error
		want int
	}{
		{errdefs.NotFound("No such container: x"), 404},
		{fmt.Errorf("wrapped: %w", errdefs.InvalidParameter("bad")), 400},
		{errdefs.Conflict("in use"), 409},
		{errdefs.NotModified("already started"), 304},
		{errdefs.NotImplemented("no"), 501},
		{errdefs.Unavailable("down"), 503},
		{errdefs.Forbidden("no"), 403},
		{errdefs.Unauthorized("who"), 401},
		{errors.New("plain"), 500},
		{nil, 500},
	}
	for _, c := range cases {
		if got := FromError(c.err); got != c.want {
			t.Errorf("FromError(%v) = %d, want %d", c.err, got, c.want)
		}
	}
}

func TestErrorResponses(t *testing.T) {
	fc := &fakeContainers{
		start: func(_ context.Context, name string) error {
			switch name {
			case "running":
				return errdefs.NotModified("container already started")
			case "gone":
				return errdefs.NotFound("No such container: gone")
			}
			return errors.New("disk on fire")
		},
		create: func(_ context.Context, c ContainerCreateConfig) (container.CreateResponse, error) {
			return container.CreateResponse{ID: "id-of-" + c.Name + "-" + c.Request.Image}, nil
		},
		list: func(context.Context, bool, int, bool, filters.Args) ([]container.Summary, error) { return nil, nil },
	}
	ts := newTestServer(t, Config{Containers: fc, MaxJSONBody: 64})
	big := `{"Image":"` + strings.Repeat("a", 100) + `"}`
	cases := []struct {
		name, method, path, ctype, body string
		status                          int
		want                            string
	}{
		{"not modified has no body", "POST", "/containers/running/start", "", "", 304, ""},
		{"not found", "POST", "/containers/gone/start", "", "", 404, `{"message":"No such container: gone"}` + "\n"},
		{"unclassed is 500", "POST", "/containers/x/start", "", "", 500, `{"message":"disk on fire"}` + "\n"},
		{"start body refused", "POST", "/containers/x/start", "application/json", `{"Binds":["/a:/b"]}`, 400, `{"message":"starting container with non-empty request body was deprecated since API v1.22 and removed in v1.24"}` + "\n"},
		{"checkpoint ID", "POST", "/containers/gone/start?checkpoint=../outside", "", "", 400, `{"message":"invalid checkpoint ID \"../outside\", only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed"}` + "\n"},
		{"checkpoint", "POST", "/containers/x/start?checkpoint=cp1", "", "", 400, `{"message":"checkpoint is only supported in experimental mode"}` + "\n"},
		{"malformed JSON", "POST", "/containers/create", "application/json", `{bad`, 400, `{"message":"invalid JSON: invalid character 'b' looking for beginning of object key string"}` + "\n"},
		{"empty body", "POST", "/containers/create", "application/json", "", 400, `{"message":"invalid JSON: EOF"}` + "\n"},
		{"no config", "POST", "/containers/create", "application/json", `{}`, 400, `{"message":"config cannot be empty in order to create a container"}` + "\n"},
		{"trailing content", "POST", "/containers/create", "application/json", `{"Image":"a"} {}`, 400, `{"message":"unexpected content after JSON"}` + "\n"},
		{"wrong content type", "POST", "/containers/create", "text/plain", `{"Image":"a"}`, 400, `{"message":"unsupported Content-Type header (text/plain): must be 'application/json'"}` + "\n"},
		{"body too large", "POST", "/containers/create", "application/json", big, 400, `{"message":"request body too large: the limit is 64 bytes"}` + "\n"},
		{"create ok", "POST", "/containers/create?name=web", "application/json", `{"Image":"alpine"}`, 201, `{"Id":"id-of-web-alpine","Warnings":[]}` + "\n"},
		{"bad filter key", "GET", `/containers/json?filters={"nope":["x"]}`, "", "", 400, `{"message":"invalid filter 'nope'"}` + "\n"},
		{"bad filter JSON", "GET", `/containers/json?filters={x`, "", "", 400, ""},
		{"bad limit", "GET", `/containers/json?limit=ten`, "", "", 400, `{"message":"invalid value for limit: \"ten\": must be an integer"}` + "\n"},
		{"list never null", "GET", `/containers/json`, "", "", 200, "[]\n"},
		{"bad wait condition", "POST", "/containers/x/wait?condition=soon", "", "", 400, `{"message":"invalid condition: \"soon\""}` + "\n"},
		{"logs need a stream", "GET", "/containers/x/logs", "", "", 400, `{"message":"must specify at least one of 'stdout' or 'stderr'"}` + "\n"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			status, _, body := do(t, c.method, ts.URL+"/v1.51"+c.path, c.ctype, c.body)
			if status != c.status || (c.want != "" || c.status == 304) && body != c.want {
				t.Errorf("got %d %q, want %d %q", status, body, c.status, c.want)
			}
		})
	}
}

func TestStopSignalNeedsAPI142(t *testing.T) {
	var got []string
	fc := &fakeContainers{stop: func(_ context.Context, _, sig string, timeout *int) error {
		got = append(got, fmt.Sprintf("%q/%v", sig, *timeout))
		return nil
	}}
	ts := newTestServer(t, Config{Containers: fc})
	for _, v := range []string{"1.41", "1.42"} {
		if status, _, body := do(t, "POST", ts.URL+"/v"+v+"/containers/x/stop?signal=SIGINT&t=3", "", ""); status != 204 {
			t.Fatalf("%s: %d %s", v, status, body)
		}
	}
	want := []string{`""/3`, `"SIGINT"/3`}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("signals seen by the backend: %v, want %v", got, want)
	}
}

func TestListAnnotationsNeedAPI146(t *testing.T) {
	fc := &fakeContainers{list: func(context.Context, bool, int, bool, filters.Args) ([]container.Summary, error) {
		s := container.Summary{ID: "x"}
		s.HostConfig.Annotations = map[string]string{"a": "b"}
		return []container.Summary{s}, nil
	}}
	ts := newTestServer(t, Config{Containers: fc})
	for v, want := range map[string]bool{"1.45": false, "1.46": true} {
		status, _, body := do(t, "GET", ts.URL+"/v"+v+"/containers/json", "", "")
		if status != 200 || strings.Contains(body, `"Annotations":{"a":"b"}`) != want {
			t.Errorf("%s: %d %s", v, status, body)
		}
	}
}

func TestVolumePruneAllBeforeAPI142(t *testing.T) {
	var got []string
	fv := fakeVolumes{prune: func(f filters.Args) (volume.PruneReport, error) {
		got = append(got, fmt.Sprint(f.Get("all")))
		return volume.PruneReport{}, nil
	}}
	ts := newTestServer(t, Config{Volumes: fv})
	for _, v := range []string{"1.41", "1.42"} {
		if status, _, body := do(t, "POST", ts.URL+"/v"+v+"/volumes/prune", "", ""); status != 200 {
			t.Fatalf("%s: %d %s", v, status, body)
		}
	}
	if want := []string{"[true]", "[]"}; fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("all filter seen by the backend: %v, want %v", got, want)
	}
}

func TestBodyRead(t *testing.T) {
	// The limit applies to JSON only; make sure a body right at the limit passes.
	fc := &fakeContainers{create: func(_ context.Context, c ContainerCreateConfig) (container.CreateResponse, error) {
		return container.CreateResponse{ID: fmt.Sprint(len(c.Request.Image))}, nil
	}}
	ts := newTestServer(t, Config{Containers: fc, MaxJSONBody: 64})
	body := `{"Image":"` + strings.Repeat("a", 64-len(`{"Image":""}`)) + `"}`
	status, _, got := do(t, "POST", ts.URL+"/containers/create", "application/json", body)
	if status != 201 || !bytes.Contains([]byte(got), []byte(`"Id":"52"`)) {
		t.Errorf("got %d %s", status, got)
	}
}

func TestQueryValidation(t *testing.T) {
	ts := newTestServer(t, Config{Containers: &fakeContainers{}, Archive: nil, Exec: &fakeExec{}})
	cases := []struct{ method, path, want string }{
		{"POST", "/containers/x/resize?h=abc&w=1", `invalid resize height \"abc\": invalid syntax`},
		{"POST", "/containers/x/resize?w=1", `invalid resize height \"\": invalid syntax`},
		{"POST", "/exec/x/resize?h=1&w=-2", `invalid resize width \"-2\": value out of range`},
		{"GET", "/containers/x/logs?stdout=1&tail=ten", `invalid value for tail: \"ten\"`},
		{"GET", "/containers/x/logs?stdout=1&since=yesterday", `invalid value for \"since\": invalid timestamp \"yesterday\"`},
	}
	for _, c := range cases {
		status, _, body := do(t, c.method, ts.URL+c.path, "", "")
		if status != 400 || !strings.Contains(body, c.want) {
			t.Errorf("%s %s: got %d %s, want 400 containing %s", c.method, c.path, status, body, c.want)
		}
	}
}
