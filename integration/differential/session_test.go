package differential

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
	"time"

	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/client"
)

const (
	// apiVersion is the version every request asks for, explicitly: the
	// highest both daemons speak, so that both answer the same API.
	apiVersion = "1.51"
	// labelKey marks every object the cases create, for cleaning up.
	labelKey = "sockerless.difftest"
	// image is the offline test image loaded into both daemons.
	image = "sockerless-test/busybox:latest"
	// streamLimit bounds reading one stream (attach, exec, logs).
	streamLimit = 30 * time.Second
)

// check says how an interaction's body is compared, beyond its JSON shape.
type check struct {
	// values lists JSON paths (".State.Status", ".Names[]") whose
	// normalized values are compared; "*" compares every scalar.
	values []string
	// typesOnly compares booleans by type, for host facts (/info).
	typesOnly bool
	// stream renders the body as a stdout/stderr stream (multiplexed or raw).
	stream bool
	// lines renders a body of JSON lines (events, progress) line by line.
	lines bool
}

// vals is shorthand for a check comparing the values at paths.
func vals(paths ...string) check { return check{values: paths} }

// session runs one case against one target.
type session struct {
	tg  *target
	cli *client.Client
	ctx context.Context
}

// setupFailed aborts a case whose set-up step failed; the failure itself is
// recorded as an interaction, so the two targets still get compared.
type setupFailed struct{}

// must records a failed set-up step and aborts the case.
func (s *session) must(err error, what string) {
	if err == nil {
		return
	}
	s.tg.rec.add(&interaction{label: "set-up: " + what, transportErr: err.Error()})
	panic(setupFailed{})
}

// call records the one request fn makes through the Go client under label.
// A client that fails before sending anything is recorded with its error.
func (s *session) call(label string, c check, fn func() error) {
	s.tg.rec.arm(label, c)
	err := fn()
	if l, _ := s.tg.rec.take(); l != "" {
		msg := "no request sent"
		if err != nil {
			msg = err.Error()
		}
		s.tg.rec.add(&interaction{label: label, transportErr: "client: " + msg})
	}
}

// response is a raw request's outcome, for cases that use what came back.
type response struct {
	status int
	body   []byte
}

// decode unmarshals a JSON response body into v (set-up helper).
func (r *response) decode(v any) error { return json.Unmarshal(r.body, v) }

// do sends a raw request to /v<apiVersion><path>, recorded under label when
// label is not empty. body is nil, a string or []byte sent as is, or a value
// sent as JSON.
func (s *session) do(label string, c check, method, path string, body any) *response {
	return s.doPath(label, c, method, "/v"+apiVersion+path, body)
}

// doPath is do without the version prefix.
func (s *session) doPath(label string, c check, method, path string, body any) *response {
	rd, ctype, err := encodeBody(body)
	s.must(err, "encoding a request body")
	req, err := http.NewRequestWithContext(s.ctx, method, "http://docker"+path, rd)
	s.must(err, "building a request")
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	if label != "" {
		s.tg.rec.arm(label, c)
	}
	resp, err := s.tg.http.Do(req)
	if err != nil {
		s.tg.rec.take()
		s.must(err, method+" "+path)
	}
	defer func() { _ = resp.Body.Close() }() // fully read below
	b, err := io.ReadAll(resp.Body)
	s.must(err, "reading "+method+" "+path)
	return &response{status: resp.StatusCode, body: b}
}

func encodeBody(body any) (io.Reader, string, error) {
	switch b := body.(type) {
	case nil:
		return nil, "", nil
	case string:
		return strings.NewReader(b), "application/json", nil
	case []byte:
		return bytes.NewReader(b), "application/x-tar", nil
	default:
		j, err := json.Marshal(b)
		return bytes.NewReader(j), "application/json", err
	}
}

// hijacked is an upgraded attach or exec-start connection.
type hijacked struct {
	in   *interaction
	conn net.Conn
	br   *bufio.Reader
}

// hijack sends a request asking for an upgrade to a raw stream, as the docker
// CLI does, and records the response line and headers under label. When the
// daemon does not upgrade, the error body is recorded instead.
func (s *session) hijack(label string, c check, path string, body any) *hijacked {
	conn, err := (&net.Dialer{}).DialContext(s.ctx, "unix", s.tg.socket)
	s.must(err, "dialing for "+path)
	rd, ctype, err := encodeBody(body)
	s.must(err, "encoding a request body")
	req, err := http.NewRequest(http.MethodPost, "http://docker/v"+apiVersion+path, rd)
	s.must(err, "building a request")
	req.Header.Set("Connection", "Upgrade")
	req.Header.Set("Upgrade", "tcp")
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	c.stream = true
	h := &hijacked{in: &interaction{label: label, check: c, method: req.Method, path: req.URL.RequestURI()}, conn: conn, br: bufio.NewReader(conn)}
	s.tg.rec.add(h.in)
	s.must(conn.SetDeadline(time.Now().Add(streamLimit)), "setting a deadline")
	if err := req.Write(conn); err != nil {
		h.in.transportErr = err.Error()
		_ = conn.Close() // the failure is recorded
		h.conn = nil
		return h
	}
	resp, err := http.ReadResponse(h.br, req)
	if err != nil {
		h.in.transportErr = err.Error()
		_ = conn.Close() // the failure is recorded
		h.conn = nil
		return h
	}
	h.in.status, h.in.header = resp.StatusCode, resp.Header.Clone()
	if resp.StatusCode != http.StatusSwitchingProtocols {
		b, err := io.ReadAll(resp.Body)
		h.in.body.Write(b)
		if err != nil {
			h.in.transportErr = err.Error()
		}
		_ = conn.Close() // everything was read
		h.conn = nil
	}
	return h
}

// send writes stdin to the stream and, with closeWrite, half-closes it.
func (h *hijacked) send(stdin string, closeWrite bool) {
	if h.conn == nil {
		return
	}
	if _, err := io.WriteString(h.conn, stdin); err != nil {
		h.in.transportErr = "writing stdin: " + err.Error()
		return
	}
	if closeWrite {
		if err := h.conn.(*net.UnixConn).CloseWrite(); err != nil {
			h.in.transportErr = "half-closing: " + err.Error()
		}
	}
}

// drain reads the stream to its end into the interaction and closes it.
func (h *hijacked) drain() {
	if h.conn == nil {
		return
	}
	if _, err := io.Copy(&h.in.body, h.br); err != nil {
		h.in.transportErr = "reading the stream: " + err.Error()
	}
	_ = h.conn.Close() // read to the end
	h.conn = nil
}

// spec is a container to create in a case.
type spec struct {
	cmd    []string
	tty    bool
	stdin  bool // OpenStdin + StdinOnce + AttachStdin
	labels map[string]string
	net    string // network mode; "none" when empty
	mounts []string
	env    []string
}

// create makes a container with the test image and the case label, unrecorded.
func (s *session) create(name string, sp spec) string {
	labels := map[string]string{labelKey: "1"}
	for k, v := range sp.labels {
		labels[k] = v
	}
	nm := sp.net
	if nm == "" {
		nm = "none"
	}
	cfg := &container.Config{Image: image, Cmd: sp.cmd, Tty: sp.tty, Labels: labels, Env: sp.env,
		OpenStdin: sp.stdin, StdinOnce: sp.stdin, AttachStdin: sp.stdin, AttachStdout: true, AttachStderr: true}
	hc := &container.HostConfig{NetworkMode: container.NetworkMode(nm), Binds: sp.mounts}
	res, err := s.cli.ContainerCreate(s.ctx, client.ContainerCreateOptions{Name: name, Config: cfg, HostConfig: hc})
	s.must(err, "creating "+name)
	return res.ID
}

// run creates and starts a container, unrecorded.
func (s *session) run(name string, sp spec) string {
	id := s.create(name, sp)
	_, err := s.cli.ContainerStart(s.ctx, id, client.ContainerStartOptions{})
	s.must(err, "starting "+name)
	return id
}

// waitExit waits for a container to stop, unrecorded, and returns its code.
func (s *session) waitExit(name string) int64 {
	res := s.cli.ContainerWait(s.ctx, name, client.ContainerWaitOptions{Condition: container.WaitConditionNotRunning})
	select {
	case r := <-res.Result:
		return r.StatusCode
	case err := <-res.Error:
		s.must(err, "waiting for "+name)
	case <-time.After(streamLimit):
		s.must(fmt.Errorf("still running after %s", streamLimit), "waiting for "+name)
	}
	return -1
}

// cleanup removes every object the cases labelled, unrecorded. Errors are
// returned: a daemon that cannot clean up is worth knowing about.
func cleanup(ctx context.Context, cli *client.Client) error {
	f := client.Filters{}.Add("label", labelKey)
	list, err := cli.ContainerList(ctx, client.ContainerListOptions{All: true, Filters: f})
	if err != nil {
		return err
	}
	for _, c := range list.Items {
		if _, err := cli.ContainerRemove(ctx, c.ID, client.ContainerRemoveOptions{Force: true, RemoveVolumes: true}); err != nil {
			return err
		}
	}
	nets, err := cli.NetworkList(ctx, client.NetworkListOptions{Filters: f})
	if err != nil {
		return err
	}
	for _, n := range nets.Items {
		if _, err := cli.NetworkRemove(ctx, n.ID, client.NetworkRemoveOptions{}); err != nil {
			return err
		}
	}
	vols, err := cli.VolumeList(ctx, client.VolumeListOptions{Filters: f})
	if err != nil {
		return err
	}
	for _, v := range vols.Items {
		if _, err := cli.VolumeRemove(ctx, v.Name, client.VolumeRemoveOptions{Force: true}); err != nil {
			return err
		}
	}
	return nil
}
