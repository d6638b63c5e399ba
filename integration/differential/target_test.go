package differential

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/moby/moby/client"
)

// target is one of the two daemons under comparison, as the cases see it.
type target struct {
	name   string // "engine" or "sockerless"
	socket string // path of the unix socket
	// minAPI and maxAPI are the daemon's own version bounds (from /version);
	// they normalize the Api-Version header and version error messages.
	minAPI, maxAPI string
	// serverVersion is the daemon's version, normalized out of the Server header.
	serverVersion string

	rec  *recorder
	http *http.Client   // raw requests, recorded when labelled
	cli  *client.Client // the official Go client, pinned to apiVersion, recorded when labelled
}

// newTarget connects to the daemon at host (unix:///path) and reads its
// version bounds.
func newTarget(t *testing.T, name, host string) *target {
	t.Helper()
	socket, ok := strings.CutPrefix(host, "unix://")
	if !ok {
		t.Fatalf("%s: only unix sockets are supported, got %s", name, host)
	}
	rec := &recorder{}
	dial := func(ctx context.Context, _, _ string) (net.Conn, error) {
		var d net.Dialer
		return d.DialContext(ctx, "unix", socket)
	}
	hc := &http.Client{Transport: &recordingTransport{rec: rec, base: &http.Transport{DialContext: dial, DisableCompression: true}}}
	cli, err := client.New(client.WithHost(host), client.WithHTTPClient(hc), client.WithAPIVersion(apiVersion))
	if err != nil {
		t.Fatalf("%s: client: %v", name, err)
	}
	t.Cleanup(func() { _ = cli.Close() }) // nothing to report when closing idle connections
	tg := &target{name: name, socket: socket, rec: rec, http: hc, cli: cli}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	v, err := cli.ServerVersion(ctx, client.ServerVersionOptions{})
	if err != nil {
		t.Fatalf("%s: version: %v", name, err)
	}
	tg.minAPI, tg.maxAPI, tg.serverVersion = v.MinAPIVersion, v.APIVersion, v.Version
	return tg
}

// recorder collects the interactions of the running case. Only requests
// made while a label is set are recorded; each label records one exchange.
type recorder struct {
	mu    sync.Mutex
	label string
	check check
	out   []*interaction
}

// arm labels the next request.
func (r *recorder) arm(label string, c check) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.label, r.check = label, c
}

// take returns and clears the label of the next request.
func (r *recorder) take() (string, check) {
	r.mu.Lock()
	defer r.mu.Unlock()
	l, c := r.label, r.check
	r.label, r.check = "", check{}
	return l, c
}

func (r *recorder) add(i *interaction) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.out = append(r.out, i)
}

// recordingTransport records labelled exchanges: request line, status,
// headers and the body as the client reads it.
type recordingTransport struct {
	rec  *recorder
	base http.RoundTripper
}

func (rt *recordingTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	label, chk := rt.rec.take()
	resp, err := rt.base.RoundTrip(req)
	if label == "" {
		return resp, err
	}
	in := &interaction{label: label, check: chk, method: req.Method, path: req.URL.RequestURI()}
	rt.rec.add(in)
	if err != nil {
		in.transportErr = err.Error()
		return resp, err
	}
	in.status, in.header = resp.StatusCode, resp.Header.Clone()
	resp.Body = &teeBody{ReadCloser: resp.Body, buf: &in.body}
	return resp, nil
}

// teeBody copies what the client reads from a response body.
type teeBody struct {
	io.ReadCloser
	buf *bytes.Buffer
}

func (b *teeBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	b.buf.Write(p[:n])
	return n, err
}

// sockerless is the daemon under test, built by TestMain and started on a
// fresh data root and a private socket.
type sockerless struct {
	cmd  *exec.Cmd
	log  *bytes.Buffer
	host string
	done chan error
}

func startSockerless(t *testing.T, args ...string) *sockerless {
	t.Helper()
	dir := t.TempDir()
	socket := filepath.Join(dir, "s.sock")
	d := &sockerless{log: &bytes.Buffer{}, host: "unix://" + socket, done: make(chan error, 1)}
	d.cmd = exec.Command(sockerlessBinary, append([]string{"serve", "-H", d.host, "--data-root", filepath.Join(dir, "data")}, args...)...)
	d.cmd.Stdout, d.cmd.Stderr = d.log, d.log
	if err := d.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { d.done <- d.cmd.Wait() }()
	t.Cleanup(func() {
		if err := d.stop(); err != nil {
			t.Error(err)
		}
	})
	deadline := time.Now().Add(30 * time.Second)
	for {
		if c, err := net.Dial("unix", socket); err == nil {
			_ = c.Close() // only probing that the socket accepts
			return d
		}
		select {
		case err := <-d.done:
			d.done <- err
			t.Fatalf("sockerless exited: %v\n%s", err, d.log.String())
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("sockerless did not listen within 30 s\n%s", d.log.String())
		}
	}
}

// stop ends the daemon by its PID: SIGTERM, then SIGKILL after 20 s.
func (d *sockerless) stop() error {
	if err := d.cmd.Process.Signal(syscall.SIGTERM); err != nil && !errors.Is(err, os.ErrProcessDone) {
		return fmt.Errorf("signal sockerless: %w", err)
	}
	select {
	case <-d.done:
		return nil
	case <-time.After(20 * time.Second):
	}
	if err := d.cmd.Process.Kill(); err != nil && !errors.Is(err, os.ErrProcessDone) {
		return err
	}
	<-d.done
	return fmt.Errorf("sockerless ignored SIGTERM for 20 s; killed\n%s", d.log.String())
}
