package integration

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/client"

	"github.com/sockerless/sockerless/internal/testenv"
)

// The docker backend's tests run Sockerless with --backend docker on the
// reference engine and check what they see through Sockerless against the
// engine itself. The reference engine has no default bridge, so every
// container uses --network host or none.

// dockerBackend starts a docker-backend daemon and returns it with a client
// of the engine underneath, once the test image is there.
func dockerBackend(t *testing.T, dataRoot string) (*daemon, *client.Client) {
	t.Helper()
	engine := testenv.DockerClient(t)
	testenv.RequireImage(t, engine, testenv.BusyboxImage)
	return startDockerBackend(t, dataRoot), engine
}

// testNetwork creates, through d, a network named for this test process
// (prefix-<pid>) with the given create options, removed at the end (after
// the containers' own clean-up). It returns the name and the ID.
func testNetwork(t *testing.T, d *daemon, prefix string, opts ...string) (name, id string) {
	t.Helper()
	name = fmt.Sprintf("%s-%d", prefix, os.Getpid())
	id = strings.TrimSpace(d.must(t, append(append([]string{"network", "create"}, opts...), name)...))
	t.Cleanup(func() { _, _ = d.docker("network", "rm", name) }) // best effort: the test has its verdict
	return name, id
}

// engineContainer finds the engine's container behind a Sockerless one by
// the label the backend puts on it.
func engineContainer(t *testing.T, engine *client.Client, id string) (container.Summary, bool) {
	t.Helper()
	res, err := engine.ContainerList(context.Background(), client.ContainerListOptions{
		All: true, Filters: client.Filters{}.Add("label", "com.sockerless.container="+id),
	})
	if err != nil {
		t.Fatal(err)
	}
	switch len(res.Items) {
	case 0:
		return container.Summary{}, false
	case 1:
		return res.Items[0], true
	}
	t.Fatalf("%d engine containers for %s", len(res.Items), id)
	return container.Summary{}, false
}

func TestDockerBackendRun(t *testing.T) {
	d, engine := dockerBackend(t, "")
	img := testenv.BusyboxImage

	t.Run("computed output, separate streams, exit code", func(t *testing.T) {
		out, err := d.docker("run", "--rm", "--network", "host", img, "sh", "-c", "echo $((6*7)); echo oops >&2; exit 3")
		if err == nil || !strings.Contains(err.Error(), "exit status 3") || !strings.Contains(err.Error(), "oops") || out != "42\n" {
			t.Fatalf("out %q err %v; want 42, oops on stderr, exit status 3", out, err)
		}
	})
	t.Run("native binary", func(t *testing.T) {
		// The static BusyBox ELF itself, which the memory backend refuses.
		out := d.must(t, "run", "--rm", "--network", "none", "--entrypoint", "/bin/busybox", img, "uname", "-m")
		want := map[string]string{"amd64": "x86_64", "arm64": "aarch64"}[runtime.GOARCH]
		if strings.TrimSpace(out) != want {
			t.Fatalf("uname -m = %q, want %q", out, want)
		}
	})
	t.Run("stdin", func(t *testing.T) {
		out, err := d.dockerIn("echo from-stdin $((2+3))\nexit 5\n", "run", "-i", "--rm", "--network", "host", img, "sh")
		if out != "from-stdin 5\n" || err == nil || !strings.Contains(err.Error(), "exit status 5") {
			t.Fatalf("out %q err %v", out, err)
		}
	})
	t.Run("images are the engine's", func(t *testing.T) {
		want, err := engine.ImageInspect(context.Background(), img)
		if err != nil {
			t.Fatal(err)
		}
		if got := d.must(t, "image", "inspect", "-f", "{{.ID}}", img); strings.TrimSpace(got) != want.ID {
			t.Fatalf("image ID through sockerless %q, engine %q", got, want.ID)
		}
		d.must(t, "tag", img, "sockerless-test/tagged-through:1")
		t.Cleanup(func() { d.must(t, "rmi", "sockerless-test/tagged-through:1") })
		tagged, err := engine.ImageInspect(context.Background(), "sockerless-test/tagged-through:1")
		if err != nil || tagged.ID != want.ID {
			t.Fatalf("tag made through sockerless, on the engine: %v %v", tagged.ID, err)
		}
	})
}

func TestDockerBackendLifecycle(t *testing.T) {
	d, engine := dockerBackend(t, "")
	img := testenv.BusyboxImage
	ctx := context.Background()

	id := strings.TrimSpace(d.must(t, "run", "-d", "--name", "svc", "--network", "host", img,
		"sh", "-c", `trap 'echo got-term; exit 7' TERM; i=0; while true; do echo tick $i; i=$((i+1)); sleep 0.2; done`))
	real, ok := engineContainer(t, engine, id)
	if !ok || real.State != container.StateRunning {
		t.Fatalf("engine container for %s: %+v (found %v), want running", id, real, ok)
	}

	t.Run("exec, users and exit codes", func(t *testing.T) {
		if out := d.must(t, "exec", "-w", "/tmp", "-e", "X=6", "svc", "sh", "-c", "echo $((X*7)) $(pwd)"); out != "42 /tmp\n" {
			t.Fatalf("exec output %q", out)
		}
		if out := d.must(t, "exec", "-u", "nobody", "svc", "id", "-un"); out != "nobody\n" {
			t.Fatalf("exec -u nobody: %q", out)
		}
		if _, err := d.docker("exec", "svc", "sh", "-c", "exit 4"); err == nil || !strings.Contains(err.Error(), "exit status 4") {
			t.Fatalf("exec exit code: %v", err)
		}
	})
	t.Run("cp both ways", func(t *testing.T) {
		src := filepath.Join(t.TempDir(), "in.txt")
		if err := os.WriteFile(src, []byte("copied in\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		d.must(t, "cp", src, "svc:/tmp/in.txt")
		if out := d.must(t, "exec", "svc", "sh", "-c", "cat /tmp/in.txt; echo $((1+1)) > /tmp/out.txt"); out != "copied in\n" {
			t.Fatalf("file copied in reads %q", out)
		}
		dst := t.TempDir()
		d.must(t, "cp", "svc:/tmp/out.txt", dst)
		if b, err := os.ReadFile(filepath.Join(dst, "out.txt")); err != nil || string(b) != "2\n" {
			t.Fatalf("file copied out: %q %v", b, err)
		}
	})
	t.Run("sizes are the engine's", func(t *testing.T) {
		d.must(t, "run", "--name", "sized", "--network", "none", img, "sh", "-c", "head -c 5000 /dev/zero > /big")
		out := d.must(t, "inspect", "-s", "-f", "{{.SizeRw}} {{.SizeRootFs}}", "sized")
		var rw, root int64
		if _, err := fmt.Sscan(out, &rw, &root); err != nil || rw < 5000 || root <= rw {
			t.Fatalf("sizes: %q (%v)", out, err)
		}
	})
	t.Run("pause is the engine's", func(t *testing.T) {
		d.must(t, "pause", "svc")
		if r, _ := engineContainer(t, engine, id); r.State != container.StatePaused {
			t.Fatalf("engine state after pause: %s", r.State)
		}
		d.must(t, "unpause", "svc")
		if r, _ := engineContainer(t, engine, id); r.State != container.StateRunning {
			t.Fatalf("engine state after unpause: %s", r.State)
		}
	})
	t.Run("stop runs the trap", func(t *testing.T) {
		d.must(t, "stop", "svc")
		if out := d.must(t, "inspect", "-f", "{{.State.ExitCode}}", "svc"); out != "7\n" {
			t.Fatalf("exit code after stop: %q", out)
		}
		logs := d.must(t, "logs", "svc")
		if !strings.HasPrefix(logs, "tick 0\n") || !strings.HasSuffix(logs, "got-term\n") {
			t.Fatalf("logs: %q", logs)
		}
		r, err := engine.ContainerInspect(ctx, real.ID, client.ContainerInspectOptions{})
		if err != nil || r.Container.State.Running || r.Container.State.ExitCode != 7 {
			t.Fatalf("engine state after stop: %+v %v", r.Container.State, err)
		}
	})
	t.Run("restart keeps files, kill is 137", func(t *testing.T) {
		d.must(t, "start", "svc")
		if out := d.must(t, "exec", "svc", "cat", "/tmp/in.txt"); out != "copied in\n" {
			t.Fatalf("file after restart: %q", out)
		}
		d.must(t, "kill", "svc")
		if out := d.must(t, "wait", "svc"); out != "137\n" {
			t.Fatalf("wait after kill: %q", out)
		}
		if r, _ := engineContainer(t, engine, id); r.ID != real.ID {
			t.Fatalf("restart made another engine container: %s, was %s", r.ID, real.ID)
		}
	})
	t.Run("remove removes it from the engine", func(t *testing.T) {
		d.must(t, "rm", "svc")
		if r, ok := engineContainer(t, engine, id); ok {
			t.Fatalf("engine container left after rm: %+v", r)
		}
	})
}

func TestDockerBackendGoClient(t *testing.T) {
	d, _ := dockerBackend(t, "")
	c := d.client()
	id := create(t, c, &container.Config{Image: testenv.BusyboxImage, Cmd: []string{"sh", "-c", "test -x /bin/busybox && exit 42"}},
		&container.HostConfig{NetworkMode: "none"}, "")
	exited := waitFor(t, c, id, container.WaitConditionNextExit)
	start(t, c, id)
	if r := within(t, exited); r.StatusCode != 42 {
		t.Fatalf("status %d, want 42", r.StatusCode)
	}
	if _, err := c.ContainerRemove(context.Background(), id, client.ContainerRemoveOptions{}); err != nil {
		t.Fatal(err)
	}
}

func TestDockerBackendDaemonRestart(t *testing.T) {
	dataRoot := t.TempDir()
	d, engine := dockerBackend(t, dataRoot)
	id := strings.TrimSpace(d.must(t, "run", "-d", "--name", "keeper", "--network", "host", "--stop-timeout", "1", testenv.BusyboxImage,
		"sh", "-c", "echo kept > /kept; exec sleep 1000"))
	d.must(t, "exec", "keeper", "test", "-f", "/kept") // the file is written before the daemon goes
	real, _ := engineContainer(t, engine, id)
	d.stop(syscall.SIGTERM)

	d2 := startDockerBackend(t, dataRoot)
	d2.must(t, "start", "keeper")
	if out := d2.must(t, "exec", "keeper", "cat", "/kept"); out != "kept\n" {
		t.Fatalf("file after daemon restart: %q", out)
	}
	if r, _ := engineContainer(t, engine, id); r.ID != real.ID || r.State != container.StateRunning {
		t.Fatalf("engine container after daemon restart: %s %s, want %s running", r.ID, r.State, real.ID)
	}
	d2.must(t, "rm", "-f", "keeper")
	if _, ok := engineContainer(t, engine, id); ok {
		t.Fatal("engine container left after rm -f")
	}
}

func TestDockerBackendDaemonCrash(t *testing.T) {
	dataRoot := t.TempDir()
	d, engine := dockerBackend(t, dataRoot)
	ctx := context.Background()
	img := testenv.BusyboxImage
	survivor := strings.TrimSpace(d.must(t, "run", "-d", "--name", "survivor", "--network", "host", img,
		"sh", "-c", "trap 'echo bye; exit 3' TERM; echo before; while true; do sleep 0.2; done"))
	victim := strings.TrimSpace(d.must(t, "run", "-d", "--name", "victim", "--network", "host", img, "sleep", "1000"))
	t.Cleanup(func() {
		for _, id := range []string{survivor, victim} {
			if r, ok := engineContainer(t, engine, id); ok {
				if _, err := engine.ContainerRemove(ctx, r.ID, client.ContainerRemoveOptions{Force: true}); err != nil {
					t.Error(err)
				}
			}
		}
	})
	for i := 0; i < 200 && !strings.Contains(d.must(t, "logs", "survivor"), "before"); i++ {
		time.Sleep(20 * time.Millisecond)
	}
	d.stop(syscall.SIGKILL)

	// While no daemon is there, one container ends on the engine.
	v, _ := engineContainer(t, engine, victim)
	if _, err := engine.ContainerKill(ctx, v.ID, client.ContainerKillOptions{Signal: "KILL"}); err != nil {
		t.Fatal(err)
	}
	if r := within(t, engineWait(t, engine, v.ID)); r.StatusCode != 137 {
		t.Fatalf("victim ended with %d on the engine", r.StatusCode)
	}

	d2 := startDockerBackend(t, dataRoot)
	if out := d2.must(t, "inspect", "-f", "{{.State.Status}} {{.State.ExitCode}}", "victim"); out != "exited 137\n" {
		t.Fatalf("victim after the daemon came back: %q, want the engine's exit", out)
	}
	if out := d2.must(t, "inspect", "-f", "{{.State.Status}}", "survivor"); out != "running\n" {
		t.Fatalf("survivor after the daemon came back: %q, want running", out)
	}
	d2.must(t, "stop", "survivor")
	if out := d2.must(t, "inspect", "-f", "{{.State.ExitCode}}", "survivor"); out != "3\n" {
		t.Fatalf("survivor exit code: %q", out)
	}
	if logs := d2.must(t, "logs", "survivor"); logs != "before\nbye\n" {
		t.Fatalf("survivor logs %q: want the output from before the crash and after the reattach", logs)
	}
}

// engineWait waits on the engine itself for a container to stop running.
func engineWait(t *testing.T, engine *client.Client, id string) <-chan container.WaitResponse {
	return waitFor(t, engine, id, container.WaitConditionNotRunning)
}
