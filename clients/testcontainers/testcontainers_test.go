// Package testcontainers holds the testcontainers-go cases of the ecosystem
// client tests. It is its own Go module so that the product's go.mod does
// not take testcontainers-go's dependencies. clients/testcontainers_test.go
// (in the product module) compiles these tests once and runs them against
// each engine, with:
//
//	DOCKER_HOST                   the engine
//	SCENARIO_ENGINE               "sockerless" or "dockerd"
//	SCENARIO_IMAGE                the offline BusyBox test image
//	TESTCONTAINERS_RYUK_DISABLED  true, except for TestReaperRefused
//	SCENARIO_REAPER               1 to run TestReaperRefused (alone: the
//	                              reaper setting is read once per process)
//
// Every case checks values only real execution produces: shell arithmetic,
// file contents written inside a container, exit codes.
package testcontainers

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/client"
	tc "github.com/testcontainers/testcontainers-go"
	tcexec "github.com/testcontainers/testcontainers-go/exec"
	"github.com/testcontainers/testcontainers-go/network"
	"github.com/testcontainers/testcontainers-go/wait"
)

var image = os.Getenv("SCENARIO_IMAGE")

// timeout bounds every wait strategy of the cases.
const timeout = 2 * time.Minute

func start(t *testing.T, req tc.ContainerRequest) tc.Container {
	t.Helper()
	if image == "" {
		t.Fatal("SCENARIO_IMAGE is not set: run these tests through clients/testcontainers_test.go")
	}
	req.Image = image
	c, err := tc.GenericContainer(context.Background(), tc.GenericContainerRequest{ContainerRequest: req, Started: true})
	// The image's sleep ignores SIGTERM (as PID 1 on dockerd): kill at once.
	tc.CleanupContainer(t, c, tc.StopTimeout(0))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// run executes cmd in c and returns its exit code and output (stdout and
// stderr demultiplexed into one stream).
func run(t *testing.T, c tc.Container, cmd []string, opts ...tcexec.ProcessOption) (int, string) {
	t.Helper()
	code, r, err := c.Exec(context.Background(), cmd, append(opts, tcexec.Multiplexed())...)
	if err != nil {
		t.Fatal(err)
	}
	out, err := io.ReadAll(r)
	if err != nil {
		t.Fatal(err)
	}
	return code, string(out)
}

// A generic container with a log wait strategy: Started returns only after
// the computed line is in the log.
func TestLogWait(t *testing.T) {
	c := start(t, tc.ContainerRequest{
		Cmd:        []string{"sh", "-c", "echo value $((6*7)); echo ready; exec sleep 300"},
		WaitingFor: wait.ForLog("ready").WithStartupTimeout(timeout),
	})
	r, err := c.Logs(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	logs, err := io.ReadAll(r)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(logs, []byte("value 42\nready\n")) {
		t.Fatalf("logs %q", logs)
	}
}

// An exec wait strategy polls a command until it succeeds: here until the
// container has written a file.
func TestExecWait(t *testing.T) {
	c := start(t, tc.ContainerRequest{
		Cmd:        []string{"sh", "-c", "i=0; while [ $i -lt 5 ]; do i=$((i+1)); done; echo $i > /tmp/count; exec sleep 300"},
		WaitingFor: wait.ForExec([]string{"test", "-s", "/tmp/count"}).WithStartupTimeout(timeout),
	})
	if code, out := run(t, c, []string{"cat", "/tmp/count"}); code != 0 || out != "5\n" {
		t.Fatalf("cat /tmp/count: %d %q", code, out)
	}
}

// A health wait strategy waits for the engine's health check to pass.
func TestHealthWait(t *testing.T) {
	c := start(t, tc.ContainerRequest{
		Cmd: []string{"sh", "-c", "echo $((7*6)) > /tmp/answer; exec sleep 300"},
		ConfigModifier: func(cfg *container.Config) {
			cfg.Healthcheck = &container.HealthConfig{
				Test:     []string{"CMD-SHELL", `[ "$(cat /tmp/answer)" = 42 ]`},
				Interval: 200 * time.Millisecond,
				Retries:  100,
			}
		},
		WaitingFor: wait.ForHealthCheck().WithStartupTimeout(timeout),
	})
	st, err := c.State(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if st.Health == nil || st.Health.Status != container.Healthy || len(st.Health.Log) == 0 || st.Health.Log[len(st.Health.Log)-1].ExitCode != 0 {
		t.Fatalf("health %+v", st.Health)
	}
}

// Exec: exit codes, output, environment and working directory.
func TestExec(t *testing.T) {
	c := start(t, tc.ContainerRequest{Cmd: []string{"sleep", "300"}})
	code, out := run(t, c, []string{"sh", "-c", "echo $((3*4)) $GREETING $(pwd); echo oops >&2; exit 3"},
		tcexec.WithEnv([]string{"GREETING=hi"}), tcexec.WithWorkingDir("/tmp"))
	if code != 3 || out != "12 hi /tmp\noops\n" {
		t.Fatalf("exec: %d %q", code, out)
	}
}

// Copy a file in (and use it inside), copy a file the container made out.
func TestCopyInAndOut(t *testing.T) {
	c := start(t, tc.ContainerRequest{
		Cmd: []string{"sleep", "300"},
		Files: []tc.ContainerFile{{
			Reader: strings.NewReader("echo from a file copied at start: $((2+3))\n"), ContainerFilePath: "/opt/start.sh", FileMode: 0o755,
		}},
	})
	if code, out := run(t, c, []string{"sh", "/opt/start.sh"}); code != 0 || out != "from a file copied at start: 5\n" {
		t.Fatalf("file copied at start: %d %q", code, out)
	}
	ctx := context.Background()
	if err := c.CopyToContainer(ctx, []byte("hello testcontainers\n"), "/tmp/in/data.txt", 0o644); err != nil {
		t.Fatal(err)
	}
	// The mode comes through: the script runs by its path (the sandbox's
	// BusyBox cannot print mode bits, but honours them).
	if err := c.CopyToContainer(ctx, []byte("#!/bin/sh\ntr a-z A-Z < /tmp/in/data.txt\n"), "/tmp/in/upper", 0o755); err != nil {
		t.Fatal(err)
	}
	if code, out := run(t, c, []string{"sh", "-c", "/tmp/in/upper; [ -x /tmp/in/data.txt ] || echo not executable"}); code != 0 || out != "HELLO TESTCONTAINERS\nnot executable\n" {
		t.Fatalf("copied files seen inside: %d %q", code, out)
	}
	if code, out := run(t, c, []string{"sh", "-c", "seq 3 | tac > /tmp/out.txt"}); code != 0 {
		t.Fatalf("writing /tmp/out.txt: %d %q", code, out)
	}
	r, err := c.CopyFileFromContainer(ctx, "/tmp/out.txt")
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	got, err := io.ReadAll(r)
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != "3\n2\n1\n" {
		t.Fatalf("copied out %q", got)
	}
}

// A network created by testcontainers, a container attached with aliases,
// and the network removed at the end.
func TestNetwork(t *testing.T) {
	ctx := context.Background()
	nw, err := network.New(ctx)
	if err != nil {
		t.Fatal(err)
	}
	tc.CleanupNetwork(t, nw)
	c := start(t, tc.ContainerRequest{
		Cmd:            []string{"sleep", "300"},
		Networks:       []string{nw.Name},
		NetworkAliases: map[string][]string{nw.Name: {"db", "database"}},
	})
	nets, err := c.Networks(ctx)
	if err != nil {
		t.Fatal(err)
	}
	// testcontainers also attaches its default network (the engine's
	// "bridge", or a "reaper_default" it creates when there is none).
	if len(nets) != 2 || !slices.Contains(nets, nw.Name) {
		t.Fatalf("networks %v, want %s and the default network", nets, nw.Name)
	}
	aliases, err := c.NetworkAliases(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if got := aliases[nw.Name]; !slices.Contains(got, "db") || !slices.Contains(got, "database") {
		t.Fatalf("aliases on %s: %v", nw.Name, got)
	}
	info, err := c.Inspect(ctx)
	if err != nil {
		t.Fatal(err)
	}
	ep := info.NetworkSettings.Networks[nw.Name]
	if ep == nil || !ep.IPAddress.IsValid() {
		t.Fatalf("no address on %s: %+v", nw.Name, info.NetworkSettings.Networks)
	}
	ip := ep.IPAddress.String()
	// The container sees the address the engine reports for it.
	if code, out := run(t, c, []string{"sh", "-c", "grep -c -w " + ip + " /etc/hosts"}); code != 0 || out != "1\n" {
		t.Fatalf("own address %s in /etc/hosts: %d %q", ip, code, out)
	}
}

// Lifecycle: hooks run, stop and start again keep the file system, and
// terminate removes the container.
func TestLifecycle(t *testing.T) {
	ctx := context.Background()
	var hooked []string
	hook := func(name string) tc.ContainerHook {
		return func(ctx context.Context, c tc.Container) error {
			hooked = append(hooked, name)
			return nil
		}
	}
	c := start(t, tc.ContainerRequest{
		Cmd: []string{"sh", "-c", "echo run >> /tmp/runs; exec sleep 300"},
		LifecycleHooks: []tc.ContainerLifecycleHooks{{
			PostStarts: []tc.ContainerHook{
				hook("post-start"),
				func(ctx context.Context, c tc.Container) error {
					_, _, err := c.Exec(ctx, []string{"sh", "-c", "echo hook >> /tmp/hooks"})
					return err
				},
			},
			PostStops:      []tc.ContainerHook{hook("post-stop")},
			PostTerminates: []tc.ContainerHook{hook("post-terminate")},
		}},
	})
	stop := time.Second
	if err := c.Stop(ctx, &stop); err != nil {
		t.Fatal(err)
	}
	st, err := c.State(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if st.Running || st.Status != container.StateExited {
		t.Fatalf("after stop: %+v", st)
	}
	if err := c.Start(ctx); err != nil {
		t.Fatal(err)
	}
	if code, out := run(t, c, []string{"sh", "-c", "wc -l < /tmp/runs; cat /tmp/hooks"}); code != 0 || out != "2\nhook\nhook\n" {
		t.Fatalf("state kept across a restart: %d %q", code, out)
	}
	id := c.GetContainerID()
	if err := c.Terminate(ctx, tc.StopTimeout(0)); err != nil {
		t.Fatal(err)
	}
	// Terminate stops the container first: post-stop runs again.
	want := []string{"post-start", "post-stop", "post-start", "post-stop", "post-terminate"}
	if !slices.Equal(hooked, want) {
		t.Errorf("hooks ran %v, want %v", hooked, want)
	}
	cli, err := tc.NewDockerClientWithOpts(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer cli.Close()
	if _, err := cli.ContainerInspect(ctx, id, client.ContainerInspectOptions{}); err == nil || !strings.Contains(err.Error(), "No such container") {
		t.Fatalf("inspect after terminate: %v", err)
	}
}

// The reaper cannot run on the memory backend, and asking for it gives the
// backend's error, not a hang. Ryuk is a native Go binary (the sandbox
// refuses native binaries), it listens on a TCP port (the sandbox has no
// network stack), that port must be published to the host (publishing is
// refused) and it drives the engine through the Docker socket bound into
// the container (no sockets in the sandbox). Its image comes from Docker
// Hub, which is not reachable here: the test image is tagged with the
// reaper's name so that the request reaches the engine's checks, the first
// of which refuses the published port.
func TestReaperRefused(t *testing.T) {
	if os.Getenv("SCENARIO_REAPER") != "1" {
		t.Skip("runs on its own, with the reaper enabled (SCENARIO_REAPER=1)")
	}
	ctx := context.Background()
	cli, err := tc.NewDockerClientWithOpts(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer cli.Close()
	if _, err := cli.ImageTag(ctx, client.ImageTagOptions{Source: image, Target: "testcontainers/ryuk:0.14.0"}); err != nil {
		t.Fatal(err)
	}
	c, err := tc.GenericContainer(ctx, tc.GenericContainerRequest{
		ContainerRequest: tc.ContainerRequest{Image: image, Cmd: []string{"sleep", "300"}}, Started: true,
	})
	tc.CleanupContainer(t, c)
	if err == nil || !strings.Contains(err.Error(), "publishing ports (-p, -P) is not supported by the memory backend") {
		t.Fatalf("starting a container with the reaper enabled: %v, want the refusal of the reaper's published port", err)
	}
}

// lines is a log consumer that collects what the log producer follows.
type lines struct {
	mu  sync.Mutex
	got []string
	// all is closed once want lines have come in.
	want int
	all  chan struct{}
}

func (l *lines) Accept(log tc.Log) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.got = append(l.got, log.LogType+" "+strings.TrimSuffix(string(log.Content), "\n"))
	if len(l.got) == l.want {
		close(l.all)
	}
}

// A log consumer follows the container's stdout and stderr as it runs.
func TestLogConsumer(t *testing.T) {
	l := &lines{want: 4, all: make(chan struct{})}
	start(t, tc.ContainerRequest{
		Cmd:            []string{"sh", "-c", "i=1; while [ $i -le 2 ]; do echo out$((i*10)); echo err$((i*100)) >&2; i=$((i+1)); done; exec sleep 300"},
		LogConsumerCfg: &tc.LogConsumerConfig{Consumers: []tc.LogConsumer{l}},
	})
	select {
	case <-l.all:
	case <-time.After(timeout):
		t.Fatalf("the consumer got %v within %v", l.got, timeout)
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	var out, errs []string
	for _, g := range l.got {
		if strings.HasPrefix(g, tc.StdoutLog) {
			out = append(out, g)
		} else {
			errs = append(errs, g)
		}
	}
	if !slices.Equal(out, []string{"STDOUT out10", "STDOUT out20"}) || !slices.Equal(errs, []string{"STDERR err100", "STDERR err200"}) {
		t.Fatalf("consumed %v", l.got)
	}
}

// The file and exit wait strategies: a one-shot container that writes a
// file, then exits; its exit code and the file are read afterwards.
func TestFileAndExitWait(t *testing.T) {
	c := start(t, tc.ContainerRequest{
		Cmd: []string{"sh", "-c", "echo $((12*12)) > /tmp/done; exit 0"},
		WaitingFor: wait.ForAll(
			wait.ForFile("/tmp/done").WithMatcher(func(r io.Reader) error {
				b, err := io.ReadAll(r)
				if err != nil {
					return err
				}
				if string(b) != "144\n" {
					return fmt.Errorf("content %q", b)
				}
				return nil
			}),
			wait.ForExit(),
		).WithDeadline(timeout),
	})
	st, err := c.State(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if st.Running || st.ExitCode != 0 || st.Status != container.StateExited {
		t.Fatalf("state %+v", st)
	}
}

// Reuse finds the running container by name instead of creating another.
func TestReuse(t *testing.T) {
	name := fmt.Sprintf("tc-reuse-%d", os.Getpid())
	req := tc.ContainerRequest{Name: name, Cmd: []string{"sh", "-c", "echo $((1+1)) >> /tmp/starts; exec sleep 300"}}
	first := start(t, req)
	req.Image = image
	// Without a deadline, a lookup that never finds the container would
	// retry for 15 minutes.
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	second, err := tc.GenericContainer(ctx, tc.GenericContainerRequest{ContainerRequest: req, Started: true, Reuse: true})
	if err != nil {
		t.Fatal(err)
	}
	if second.GetContainerID() != first.GetContainerID() {
		t.Fatalf("reuse gave %s, want %s", second.GetContainerID(), first.GetContainerID())
	}
	if code, out := run(t, second, []string{"cat", "/tmp/starts"}); code != 0 || out != "2\n" {
		t.Fatalf("the reused container ran once: %d %q", code, out)
	}
}
