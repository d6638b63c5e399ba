// Package integration tests the sockerless daemon as a black box: the
// binary is built once, started on a private socket and data root, and
// driven with the real docker CLI and the official Go client.
package integration

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/moby/moby/client"

	"github.com/sockerless/sockerless/internal/testenv"
)

var binary string

func TestMain(m *testing.M) {
	var cleanup func() error
	var err error
	if binary, cleanup, err = testenv.BuildDaemon(true); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	code := m.Run()
	if err := cleanup(); err != nil {
		fmt.Fprintln(os.Stderr, err)
	}
	os.Exit(code)
}

// daemon is a running sockerless process.
type daemon struct {
	t        *testing.T
	dataRoot string
	socket   string
	cmd      *exec.Cmd
	log      *logBuffer
}

// logBuffer collects the daemon's output; os/exec writes it from its own
// goroutine while a test may read it.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *logBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// BackendEnv names the variable that chooses the backend of the daemons
// tests start with startDaemon: unset or "memory" for the memory backend,
// "docker" for the docker backend on the engine at
// $SOCKERLESS_TEST_DOCKER_HOST (so a suite can run through either).
const BackendEnv = "SOCKERLESS_TEST_BACKEND"

// startDaemon starts sockerless on a fresh (or given) data root, with the
// backend $SOCKERLESS_TEST_BACKEND names.
func startDaemon(t *testing.T, dataRoot string) *daemon {
	t.Helper()
	switch b := os.Getenv(BackendEnv); b {
	case "", "memory":
		return startDaemonArgs(t, dataRoot)
	case "docker":
		return startDockerBackend(t, dataRoot)
	default:
		t.Fatalf("%s=%q: want memory or docker", BackendEnv, b)
		return nil
	}
}

// memoryBackendOnly skips a test of what only the memory backend does
// when the daemons run the docker backend, whose containers do what
// dockerd's do (why says what differs there).
func memoryBackendOnly(t *testing.T, why string) {
	t.Helper()
	if os.Getenv(BackendEnv) == "docker" {
		t.Skip("on the docker backend " + why)
	}
}

// startDockerBackend starts sockerless with --backend docker on the
// reference engine (skipping, or failing under SOCKERLESS_REQUIRE=dockerd,
// without one).
func startDockerBackend(t *testing.T, dataRoot string) *daemon {
	t.Helper()
	return startDaemonArgs(t, dataRoot, "--backend", "docker", "--docker-host", testenv.DockerHost(t))
}

// startDaemonArgs starts sockerless with extra serve flags.
func startDaemonArgs(t *testing.T, dataRoot string, args ...string) *daemon {
	t.Helper()
	if dataRoot == "" {
		dataRoot = t.TempDir()
	}
	d := &daemon{t: t, dataRoot: dataRoot, socket: filepath.Join(t.TempDir(), "s.sock"), log: &logBuffer{}}
	d.cmd = exec.Command(binary, append([]string{"serve", "-H", "unix://" + d.socket, "--data-root", dataRoot, "--log-level", "debug"}, args...)...)
	d.cmd.Stdout, d.cmd.Stderr = d.log, d.log
	if err := d.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.stop(syscall.SIGTERM) })
	// A hang guard, not a timing: a first start compiles busybox.wasm,
	// which takes long on a loaded machine.
	deadline := time.Now().Add(2 * time.Minute)
	for time.Now().Before(deadline) {
		if _, err := os.Stat(d.socket); err == nil {
			if out, err := d.docker("version", "--format", "{{.Server.Version}}"); err == nil && out != "" {
				return d
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("daemon did not come up:\n%s", d.log.String())
	return nil
}

// stop ends the daemon with a signal (SIGKILL to simulate a crash).
func (d *daemon) stop(sig syscall.Signal) {
	if d.cmd.ProcessState != nil {
		return
	}
	if err := d.cmd.Process.Signal(sig); err != nil {
		d.t.Logf("signal daemon: %v", err)
	}
	if err := d.cmd.Wait(); err != nil && sig != syscall.SIGKILL {
		d.t.Logf("daemon exit: %v\n%s", err, d.log.String())
	}
}

func (d *daemon) host() string { return "unix://" + d.socket }

// docker runs the real docker CLI against the daemon.
func (d *daemon) docker(args ...string) (string, error) {
	return d.dockerIn("", args...)
}

func (d *daemon) dockerIn(stdin string, args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, dockerCLI(), args...)
	cmd.Env = append(os.Environ(), "DOCKER_HOST="+d.host(), "DOCKER_CONFIG="+d.t.TempDir())
	cmd.Stdin = strings.NewReader(stdin)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	if err != nil {
		return out.String(), fmt.Errorf("docker %s: %w: %s", strings.Join(args, " "), err, errb.String())
	}
	return out.String(), nil
}

// must runs the CLI and fails t on error.
func (d *daemon) must(t testing.TB, args ...string) string {
	t.Helper()
	out, err := d.docker(args...)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func dockerCLI() string {
	if _, err := os.Stat("/usr/local/bin/docker"); err == nil {
		return "/usr/local/bin/docker"
	}
	return "docker"
}

// client returns the official Go client for the daemon.
func (d *daemon) client() *client.Client {
	d.t.Helper()
	c, err := client.New(client.WithHost(d.host()))
	if err != nil {
		d.t.Fatal(err)
	}
	d.t.Cleanup(func() {
		if err := c.Close(); err != nil {
			d.t.Error(err)
		}
	})
	return c
}

// builtinImage is the memory backend's built-in image.
const builtinImage = "sockerless/base:latest"

// baseImage is the image the tests run on the daemons startDaemon starts:
// the built-in one, or, on the docker backend (whose images are the
// engine's), the offline test image with the same shell and applets.
var baseImage = func() string {
	if os.Getenv(BackendEnv) == "docker" {
		return testenv.BusyboxImage
	}
	return builtinImage
}()
