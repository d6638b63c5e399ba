package integration

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/moby/moby/api/pkg/stdcopy"
	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/client"
)

func create(t *testing.T, c *client.Client, cfg *container.Config, hc *container.HostConfig, name string) string {
	t.Helper()
	if cfg.Image == "" {
		cfg.Image = baseImage
	}
	resp, err := c.ContainerCreate(context.Background(), client.ContainerCreateOptions{Config: cfg, HostConfig: hc, Name: name})
	if err != nil {
		t.Fatal(err)
	}
	return resp.ID
}

func start(t *testing.T, c *client.Client, id string) {
	t.Helper()
	if _, err := c.ContainerStart(context.Background(), id, client.ContainerStartOptions{}); err != nil {
		t.Fatal(err)
	}
}

func waitFor(t *testing.T, c *client.Client, id string, cond container.WaitCondition) <-chan container.WaitResponse {
	t.Helper()
	res := c.ContainerWait(context.Background(), id, client.ContainerWaitOptions{Condition: cond})
	out := make(chan container.WaitResponse, 1)
	go func() {
		select {
		case r := <-res.Result:
			out <- r
		case err := <-res.Error:
			t.Errorf("wait %s: %v", cond, err)
			close(out)
		}
	}()
	return out
}

func within(t *testing.T, ch <-chan container.WaitResponse) container.WaitResponse {
	t.Helper()
	select {
	case r, ok := <-ch:
		if !ok {
			t.Fatal("wait failed")
		}
		return r
	case <-time.After(30 * time.Second):
		t.Fatal("wait did not return")
	}
	return container.WaitResponse{}
}

// TestGitLabRunnerPattern is how GitLab Runner's docker executor drives a
// build container: create with OpenStdin and StdinOnce, attach before
// start, stream a script on stdin, half-close, read the output and the exit
// code; then start the same container again for the next script.
func TestGitLabRunnerPattern(t *testing.T) {
	d := startDaemon(t, "")
	c := d.client()
	ctx := context.Background()
	id := create(t, c, &container.Config{
		Cmd: []string{"sh"}, OpenStdin: true, StdinOnce: true, AttachStdin: true, AttachStdout: true, AttachStderr: true,
	}, nil, "")
	for i, tc := range []struct {
		script, stdout, stderr string
		code                   int64
	}{
		{"echo build $((20+22))\necho warn >&2\nmkdir -p /builds && echo artifact > /builds/a\nexit 3\n", "build 42\n", "warn\n", 3},
		{"cat /builds/a\nwc -c < /builds/a\n", "artifact\n9\n", "", 0},
	} {
		att, err := c.ContainerAttach(ctx, id, client.ContainerAttachOptions{Stream: true, Stdin: true, Stdout: true, Stderr: true})
		if err != nil {
			t.Fatal(err)
		}
		exited := waitFor(t, c, id, container.WaitConditionNextExit)
		start(t, c, id)
		if _, err := io.WriteString(att.Conn, tc.script); err != nil {
			t.Fatal(err)
		}
		if err := att.CloseWrite(); err != nil {
			t.Fatal(err)
		}
		var stdout, stderr bytes.Buffer
		if _, err := stdcopy.StdCopy(&stdout, &stderr, att.Reader); err != nil {
			t.Fatal(err)
		}
		att.Close()
		r := within(t, exited)
		if stdout.String() != tc.stdout || stderr.String() != tc.stderr || r.StatusCode != tc.code {
			t.Errorf("script %d: stdout %q stderr %q code %d; want %q %q %d", i, stdout.String(), stderr.String(), r.StatusCode, tc.stdout, tc.stderr, tc.code)
		}
	}
}

// TestWaitConditions checks next-exit before a start, not-running on an
// exited container and removed.
func TestWaitConditions(t *testing.T) {
	d := startDaemon(t, "")
	c := d.client()
	ctx := context.Background()
	id := create(t, c, &container.Config{Cmd: []string{"sh", "-c", "exit 7"}}, nil, "")
	next := waitFor(t, c, id, container.WaitConditionNextExit)
	start(t, c, id)
	if r := within(t, next); r.StatusCode != 7 {
		t.Errorf("next-exit: %d", r.StatusCode)
	}
	if r := within(t, waitFor(t, c, id, container.WaitConditionNotRunning)); r.StatusCode != 7 {
		t.Errorf("not-running on an exited container: %d", r.StatusCode)
	}
	removed := waitFor(t, c, id, container.WaitConditionRemoved)
	if _, err := c.ContainerRemove(ctx, id, client.ContainerRemoveOptions{}); err != nil {
		t.Fatal(err)
	}
	if r := within(t, removed); r.StatusCode != 7 {
		t.Errorf("removed: %d", r.StatusCode)
	}
}

// TestHealthCheckEvents runs a health check that passes until the test
// makes it fail, and reads both health_status events from the event stream.
func TestHealthCheckEvents(t *testing.T) {
	d := startDaemon(t, "")
	c := d.client()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	ev := c.Events(ctx, client.EventsListOptions{Filters: make(client.Filters).Add("event", "health_status")})
	id := create(t, c, &container.Config{
		Cmd: []string{"sleep", "100"},
		Healthcheck: &container.HealthConfig{Test: []string{"CMD-SHELL", "test ! -f /tmp/fail"},
			Interval: 200 * time.Millisecond, Retries: 1},
	}, nil, "")
	start(t, c, id)
	next := func() string {
		t.Helper()
		for {
			select {
			case m := <-ev.Messages:
				if m.Actor.ID == id {
					return string(m.Action)
				}
			case err := <-ev.Err:
				t.Fatalf("events: %v", err)
			}
		}
	}
	if got := next(); got != "health_status: healthy" {
		t.Fatalf("first health event: %q", got)
	}
	d.must(t, "exec", id, "touch", "/tmp/fail")
	if got := next(); got != "health_status: unhealthy" {
		t.Fatalf("health event after the check started failing: %q", got)
	}
	insp, err := c.ContainerInspect(ctx, id, client.ContainerInspectOptions{})
	if err != nil {
		t.Fatal(err)
	}
	h := insp.Container.State.Health
	if h == nil || h.Status != container.Unhealthy || h.FailingStreak < 1 || len(h.Log) == 0 || h.Log[len(h.Log)-1].ExitCode != 1 {
		t.Fatalf("health state: %+v", h)
	}
}

// TestPersistenceAcrossRestart kills the daemon with SIGKILL and starts it
// again on the same data root: containers, volumes and logs are still
// there, and a container with restart policy "always" runs again.
func TestPersistenceAcrossRestart(t *testing.T) {
	memoryBackendOnly(t, "containers outlive a killed daemon and are reattached (an auto-remove one still runs), and "+
		"a clean stop of `sleep` as PID 1 ends in 137, as on dockerd (TestDockerBackendDaemonRestart and TestDockerBackendDaemonCrash)")
	dataRoot := t.TempDir()
	d := startDaemon(t, dataRoot)
	d.must(t, "volume", "create", "keep")
	d.must(t, "run", "--name", "done", "-v", "keep:/data", baseImage, "sh", "-c", "echo kept > /data/f; echo $((6*7))")
	d.must(t, "run", "-d", "--name", "always", "--restart", "always", baseImage, "sleep", "1000")
	d.must(t, "run", "-d", "--rm", "--name", "autoremove", baseImage, "sleep", "1000")
	d.must(t, "create", "--rm", "--name", "autoremove-created", baseImage, "true")
	d.stop(syscall.SIGKILL)

	d2 := startDaemon(t, dataRoot)
	if out := d2.must(t, "logs", "done"); out != "42\n" {
		t.Errorf("logs after restart: %q", out)
	}
	if out := d2.must(t, "inspect", "-f", "{{.State.Status}} {{.State.ExitCode}}", "done"); out != "exited 0\n" {
		t.Errorf("exited container after restart: %q", out)
	}
	// As dockerd: an auto-remove container that was running goes at the
	// next start; one that never started stays.
	if out := d2.must(t, "ps", "-a", "--filter", "name=autoremove", "--format", "{{.Names}} {{.State}}"); out != "autoremove-created created\n" {
		t.Errorf("auto-remove containers after restart: %q", out)
	}
	if out := d2.must(t, "run", "--rm", "-v", "keep:/data", baseImage, "cat", "/data/f"); out != "kept\n" {
		t.Errorf("volume after restart: %q", out)
	}
	deadline := time.Now().Add(20 * time.Second)
	for {
		out := d2.must(t, "inspect", "-f", "{{.State.Status}}", "always")
		if out == "running\n" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("restart policy always after a daemon restart: %q", out)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if out := d2.must(t, "exec", "always", "sh", "-c", "echo $((1+1))"); strings.TrimSpace(out) != "2" {
		t.Errorf("exec after restart: %q", out)
	}

	// A clean stop (SIGTERM) stops the running containers the way dockerd
	// does, and the next start brings back "always" ones.
	d2.must(t, "run", "-d", "--name", "plain", baseImage, "sleep", "1000")
	d2.stop(syscall.SIGTERM)
	d3 := startDaemon(t, dataRoot)
	if out := d3.must(t, "inspect", "-f", "{{.State.Status}} {{.State.ExitCode}}", "plain"); out != "exited 143\n" {
		t.Errorf("plain container after a clean stop: %q", out)
	}
	deadline = time.Now().Add(20 * time.Second)
	for d3.must(t, "inspect", "-f", "{{.State.Status}}", "always") != "running\n" {
		if time.Now().After(deadline) {
			t.Fatal("restart policy always after a clean daemon stop")
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestDetachKeys attaches to a running container, types input and then the
// detach keys: the client's stream ends, the container keeps running and
// its stdin stays open for the next client.
func TestDetachKeys(t *testing.T) {
	d := startDaemon(t, "")
	c := d.client()
	ctx := context.Background()
	id := create(t, c, &container.Config{Cmd: []string{"sh", "-c", "while read -r l; do echo got:$l; done"}, OpenStdin: true}, nil, "")
	start(t, c, id)
	for _, word := range []string{"one", "two"} {
		att, err := c.ContainerAttach(ctx, id, client.ContainerAttachOptions{Stream: true, Stdin: true, Stdout: true, DetachKeys: "ctrl-x,x"})
		if err != nil {
			t.Fatal(err)
		}
		pr, pw := io.Pipe()
		copied := make(chan error, 1)
		go func() {
			_, err := stdcopy.StdCopy(pw, io.Discard, att.Reader)
			copied <- err
			pw.CloseWithError(err)
		}()
		if _, err := io.WriteString(att.Conn, word+"\n"); err != nil {
			t.Fatal(err)
		}
		line, err := bufio.NewReader(pr).ReadString('\n')
		if err != nil || line != "got:"+word+"\n" {
			t.Fatalf("attach %s: %q %v", word, line, err)
		}
		if _, err := io.WriteString(att.Conn, "\x18x"); err != nil {
			t.Fatal(err)
		}
		select {
		case err := <-copied:
			if err != nil {
				t.Fatalf("stream after detach: %v", err)
			}
		case <-time.After(30 * time.Second):
			t.Fatal("the detach keys did not end the stream")
		}
		att.Close()
	}
	insp, err := c.ContainerInspect(ctx, id, client.ContainerInspectOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if !insp.Container.State.Running {
		t.Fatal("detaching stopped the container")
	}
	if _, err := c.ContainerAttach(ctx, id, client.ContainerAttachOptions{Stream: true, Stdin: true, DetachKeys: "nonsense-key"}); err == nil || !strings.Contains(err.Error(), "400") {
		t.Fatalf("bad detach keys: %v", err)
	}
}
