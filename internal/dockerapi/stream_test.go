package dockerapi

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/moby/moby/api/pkg/stdcopy"
	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/registry"
	"github.com/sockerless/sockerless/internal/errdefs"
)

// ttyInspect is an inspect function for containers named "tty" (with a
// TTY) and anything else (without).
func ttyInspect(_ context.Context, name string) (container.InspectResponse, error) {
	if name == "missing" {
		return container.InspectResponse{}, errdefs.NotFound("No such container: %s", name)
	}
	return container.InspectResponse{ID: name, Config: &container.Config{Tty: name == "tty"}}, nil
}

func TestLogsFraming(t *testing.T) {
	fc := &fakeContainers{
		inspect: ttyInspect,
		logs: func(_ context.Context, _ string, o LogsOptions, stdout, stderr io.Writer) error {
			for i, w := range []io.Writer{stdout, stderr, stdout} {
				if _, err := fmt.Fprintf(w, "line %d tail=%d\n", i, o.Tail); err != nil {
					return err
				}
			}
			return nil
		},
	}
	ts := newTestServer(t, Config{Containers: fc})
	cases := []struct {
		name, path, ctype string
		mux               bool
	}{
		{"multiplexed", "/v1.51/containers/plain/logs?stdout=1&stderr=1&tail=2", "application/vnd.docker.multiplexed-stream", true},
		{"multiplexed before 1.42 is labelled raw", "/v1.41/containers/plain/logs?stdout=1&stderr=1&tail=2", "application/vnd.docker.raw-stream", true},
		{"tty is raw", "/v1.51/containers/tty/logs?stdout=1&stderr=1&tail=2", "application/vnd.docker.raw-stream", false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			status, h, body := do(t, "GET", ts.URL+c.path, "", "")
			if status != 200 || h.Get("Content-Type") != c.ctype {
				t.Fatalf("got %d %q, want 200 %q", status, h.Get("Content-Type"), c.ctype)
			}
			if !c.mux {
				if want := "line 0 tail=2\nline 1 tail=2\nline 2 tail=2\n"; body != want {
					t.Errorf("raw body %q, want %q", body, want)
				}
				return
			}
			var out, errOut bytes.Buffer
			if _, err := stdcopy.StdCopy(&out, &errOut, strings.NewReader(body)); err != nil {
				t.Fatal(err)
			}
			if out.String() != "line 0 tail=2\nline 2 tail=2\n" || errOut.String() != "line 1 tail=2\n" {
				t.Errorf("demuxed stdout %q stderr %q", out.String(), errOut.String())
			}
			// The first frame header: stream 1, length 14, big-endian.
			if want := []byte{1, 0, 0, 0, 0, 0, 0, 14}; !bytes.Equal([]byte(body[:8]), want) {
				t.Errorf("first header % x, want % x", body[:8], want)
			}
		})
	}
}

func TestLogsErrorAfterStartIsInBand(t *testing.T) {
	fc := &fakeContainers{inspect: ttyInspect, logs: func(_ context.Context, _ string, _ LogsOptions, stdout, _ io.Writer) error {
		if _, err := io.WriteString(stdout, "some\n"); err != nil {
			return err
		}
		return errdefs.Unavailable("log store unreachable")
	}}
	ts := newTestServer(t, Config{Containers: fc})
	status, _, body := do(t, "GET", ts.URL+"/containers/plain/logs?stdout=1", "", "")
	var out bytes.Buffer
	_, err := stdcopy.StdCopy(&out, io.Discard, strings.NewReader(body))
	if status != 200 || out.String() != "some\n" || err == nil || !strings.Contains(err.Error(), "log store unreachable") {
		t.Errorf("status %d, stdout %q, StdCopy error %v", status, out.String(), err)
	}
	if status, _, _ := do(t, "GET", ts.URL+"/containers/missing/logs?stdout=1", "", ""); status != 404 {
		t.Errorf("missing container: %d", status)
	}
}

// rawHijack sends a hijacking request on a fresh TCP connection and reads
// the status and headers by hand, as the docker CLI does.
func rawHijack(t *testing.T, addr, method, path, body string, upgrade bool) (net.Conn, *bufio.Reader, *http.Response) {
	t.Helper()
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := conn.Close(); err != nil && !strings.Contains(err.Error(), "use of closed") {
			t.Error(err)
		}
	})
	req := fmt.Sprintf("%s %s HTTP/1.1\r\nHost: docker\r\nContent-Type: application/json\r\nContent-Length: %d\r\n", method, path, len(body))
	if upgrade {
		req += "Connection: Upgrade\r\nUpgrade: tcp\r\n"
	}
	if _, err := io.WriteString(conn, req+"\r\n"+body); err != nil {
		t.Fatal(err)
	}
	br := bufio.NewReader(conn)
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatal(err)
	}
	return conn, br, resp
}

func TestAttachHijack(t *testing.T) {
	stdinSeen := make(chan string, 1)
	fc := &fakeContainers{
		inspect: ttyInspect,
		attach: func(_ context.Context, _ string, o attachStreams) error {
			// Read stdin to EOF (the client's half-close), then keep writing
			// output: it must still reach the client.
			in, err := io.ReadAll(o.Stdin)
			if err != nil {
				return err
			}
			stdinSeen <- string(in)
			if _, err := fmt.Fprintf(o.Stdout, "got %d bytes\n", len(in)); err != nil {
				return err
			}
			_, err = io.WriteString(o.Stderr, "after EOF\n")
			return err
		},
	}
	ts := newTestServer(t, Config{Containers: fc})
	addr := ts.Listener.Addr().String()

	t.Run("upgrade multiplexed", func(t *testing.T) {
		conn, br, resp := rawHijack(t, addr, "POST", "/v1.51/containers/plain/attach?stream=1&stdin=1&stdout=1&stderr=1", "", true)
		if resp.StatusCode != 101 || resp.Status != "101 UPGRADED" || resp.Header.Get("Connection") != "Upgrade" || resp.Header.Get("Upgrade") != "tcp" ||
			resp.Header.Get("Content-Type") != "application/vnd.docker.multiplexed-stream" {
			t.Fatalf("handshake: %s %v", resp.Status, resp.Header)
		}
		if _, err := io.WriteString(conn, "hello stdin"); err != nil {
			t.Fatal(err)
		}
		if err := conn.(*net.TCPConn).CloseWrite(); err != nil {
			t.Fatal(err)
		}
		select {
		case in := <-stdinSeen:
			if in != "hello stdin" {
				t.Errorf("backend stdin %q", in)
			}
		case <-time.After(10 * time.Second):
			t.Fatal("half-close did not reach the backend as EOF")
		}
		var out, errOut bytes.Buffer
		if _, err := stdcopy.StdCopy(&out, &errOut, br); err != nil {
			t.Fatal(err)
		}
		if out.String() != "got 11 bytes\n" || errOut.String() != "after EOF\n" {
			t.Errorf("stdout %q stderr %q", out.String(), errOut.String())
		}
	})

	t.Run("no upgrade tty raw", func(t *testing.T) {
		conn, br, resp := rawHijack(t, addr, "POST", "/v1.51/containers/tty/attach?stream=1&stdin=1&stdout=1&stderr=1", "", false)
		if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "application/vnd.docker.raw-stream" || resp.Header.Get("Upgrade") != "" {
			t.Fatalf("handshake: %s %v", resp.Status, resp.Header)
		}
		if err := conn.(*net.TCPConn).CloseWrite(); err != nil {
			t.Fatal(err)
		}
		<-stdinSeen
		rest, err := io.ReadAll(br)
		if err != nil {
			t.Fatal(err)
		}
		if string(rest) != "got 0 bytes\nafter EOF\n" {
			t.Errorf("raw output %q", rest)
		}
	})

	t.Run("missing container is a plain 404", func(t *testing.T) {
		_, _, resp := rawHijack(t, addr, "POST", "/v1.51/containers/missing/attach?stream=1&stdout=1", "", true)
		if resp.StatusCode != 404 {
			t.Errorf("status %d", resp.StatusCode)
		}
	})
}

func TestExecStartHijack(t *testing.T) {
	stdinSeen := make(chan string, 1)
	fe := &fakeExec{
		inspect: func(_ context.Context, id string) (container.ExecInspectResponse, error) {
			if id == "missing" {
				return container.ExecInspectResponse{}, errdefs.NotFound("No such exec instance: %s", id)
			}
			return container.ExecInspectResponse{ID: id, OpenStdin: true}, nil
		},
		start: func(_ context.Context, _ string, o ExecStartOptions) error {
			if o.Detach {
				return nil
			}
			in, err := io.ReadAll(o.Stdin)
			if err != nil {
				return err
			}
			stdinSeen <- string(in)
			_, err = io.WriteString(o.Stdout, strings.ToUpper(string(in)))
			return err
		},
	}
	ts := newTestServer(t, Config{Exec: fe})
	conn, br, resp := rawHijack(t, ts.Listener.Addr().String(), "POST", "/v1.51/exec/e1/start", `{"Detach":false,"Tty":false}`, true)
	if resp.StatusCode != 101 || resp.Header.Get("Content-Type") != "application/vnd.docker.multiplexed-stream" || resp.Header.Get("Api-Version") != "1.51" {
		t.Fatalf("handshake: %s %v", resp.Status, resp.Header)
	}
	if _, err := io.WriteString(conn, "abc"); err != nil {
		t.Fatal(err)
	}
	if err := conn.(*net.TCPConn).CloseWrite(); err != nil {
		t.Fatal(err)
	}
	if in := <-stdinSeen; in != "abc" {
		t.Errorf("stdin %q", in)
	}
	var out bytes.Buffer
	if _, err := stdcopy.StdCopy(&out, io.Discard, br); err != nil {
		t.Fatal(err)
	}
	if out.String() != "ABC" {
		t.Errorf("stdout %q", out.String())
	}

	if status, _, body := do(t, "POST", ts.URL+"/exec/e1/start", "application/json", `{"Detach":true}`); status != 200 || body != "" {
		t.Errorf("detached: %d %q", status, body)
	}
	if status, _, _ := do(t, "POST", ts.URL+"/exec/missing/start", "application/json", `{}`); status != 404 {
		t.Errorf("missing exec: %d", status)
	}
}

func TestWaitSendsHeadersFirst(t *testing.T) {
	release := make(chan container.WaitResponse, 1)
	fc := &fakeContainers{wait: func(_ context.Context, _ string, c container.WaitCondition) (<-chan container.WaitResponse, error) {
		if c != container.WaitConditionNextExit {
			return nil, fmt.Errorf("condition %q", c)
		}
		return release, nil
	}}
	ts := newTestServer(t, Config{Containers: fc})
	resp, err := http.Post(ts.URL+"/containers/x/wait?condition=next-exit", "", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		if err := resp.Body.Close(); err != nil {
			t.Error(err)
		}
	}()
	// The response (status and headers) arrived while the wait is pending.
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "application/json" {
		t.Fatalf("%d %v", resp.StatusCode, resp.Header)
	}
	release <- container.WaitResponse{StatusCode: 137}
	var got container.WaitResponse
	if err := json.NewDecoder(resp.Body).Decode(&got); err != nil {
		t.Fatal(err)
	}
	if got.StatusCode != 137 || got.Error != nil {
		t.Errorf("got %+v", got)
	}
}

func TestPullProgressAndLateError(t *testing.T) {
	var gotAuth registry.AuthConfig
	fi := &fakeImages{pull: func(_ context.Context, ref, _ string, auth registry.AuthConfig, p PullProgress) error {
		gotAuth = auth
		if ref == "early/fail" {
			return errdefs.NotFound("pull access denied for early/fail")
		}
		if err := p("Downloading", "abc123", 1500000, 3000000); err != nil {
			return err
		}
		return errdefs.Unavailable("registry went away")
	}}
	ts := newTestServer(t, Config{Images: fi})
	req, err := http.NewRequest("POST", ts.URL+"/images/create?fromImage=busybox&tag=latest", nil)
	if err != nil {
		t.Fatal(err)
	}
	// base64url of {"username":"u","password":"p?>"}: the '?>' makes '_' appear.
	req.Header.Set("X-Registry-Auth", "eyJ1c2VybmFtZSI6InUiLCJwYXNzd29yZCI6InA_PiJ9")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if err := resp.Body.Close(); err != nil {
		t.Fatal(err)
	}
	want := `{"status":"Downloading","progressDetail":{"current":1500000,"total":3000000},"id":"abc123","progress":"[=========================\u003e                         ]    1.5MB/3MB"}` + "\r\n" +
		`{"errorDetail":{"message":"registry went away"},"error":"registry went away"}` + "\r\n"
	if resp.StatusCode != 200 || string(body) != want {
		t.Errorf("got %d\n%s\nwant\n%s", resp.StatusCode, body, want)
	}
	if gotAuth.Username != "u" || gotAuth.Password != "p?>" {
		t.Errorf("auth %+v", gotAuth)
	}
	if status, _, body := do(t, "POST", ts.URL+"/images/create?fromImage=early/fail", "", ""); status != 404 || !strings.Contains(body, "pull access denied") {
		t.Errorf("early error: %d %s", status, body)
	}
}
