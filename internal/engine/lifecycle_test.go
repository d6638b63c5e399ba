package engine_test

import (
	"context"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/moby/moby/api/types/container"

	"github.com/sockerless/sockerless/internal/engine"
	"github.com/sockerless/sockerless/internal/errdefs"
)

// TestRestartKeepsAnAutoRemoveContainer: docker restart of a --rm
// container stops and starts it; the stop is not the exit that removes it.
// Its restart policy cannot be changed, as with dockerd.
func TestRestartKeepsAnAutoRemoveContainer(t *testing.T) {
	v := newEnv(t)
	ctx := context.Background()
	resp, err := v.e.ContainerCreate(ctx, engine.CreateOptions{
		Config:     container.Config{Image: testImage, Cmd: []string{"sleep", "infinity"}},
		HostConfig: container.HostConfig{AutoRemove: true},
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := v.e.ContainerStart(ctx, resp.ID); err != nil {
		t.Fatal(err)
	}
	_, err = v.e.ContainerUpdate(ctx, resp.ID, container.UpdateConfig{RestartPolicy: container.RestartPolicy{Name: container.RestartPolicyAlways}})
	if !errdefs.IsConflict(err) || !strings.Contains(err.Error(), "AutoRemove is enabled") {
		t.Fatalf("update of the restart policy: %v", err)
	}
	first := v.inspect(resp.ID).State.StartedAt
	zero := 0
	if err := v.e.ContainerRestart(ctx, resp.ID, "", &zero); err != nil {
		t.Fatal(err)
	}
	st := v.inspect(resp.ID).State
	if !st.Running || st.StartedAt == first {
		t.Fatalf("after restart: %+v", st)
	}
	// A stop is the exit that removes it.
	wait, err := v.e.ContainerWait(ctx, resp.ID, container.WaitConditionRemoved)
	if err != nil {
		t.Fatal(err)
	}
	if err := v.e.ContainerStop(ctx, resp.ID, "", &zero); err != nil {
		t.Fatal(err)
	}
	<-wait
	if _, err := v.e.ContainerInspect(ctx, resp.ID); !errdefs.IsNotFound(err) {
		t.Fatalf("after stop: %v", err)
	}
}

// TestKillAndTheRestartPolicy: as dockerd, a kill with the container's stop
// signal (any signal when it has none) ends it for good; an exit by another
// signal is restarted by the policy.
func TestKillAndTheRestartPolicy(t *testing.T) {
	v := newEnv(t)
	ctx := context.Background()
	for _, tc := range []struct {
		stopSignal string
		restarted  bool
	}{
		{stopSignal: "", restarted: false},
		{stopSignal: "SIGTERM", restarted: false},
		{stopSignal: "SIGUSR1", restarted: true},
	} {
		resp, err := v.e.ContainerCreate(ctx, engine.CreateOptions{
			Config:     container.Config{Image: testImage, Cmd: []string{"sleep", "infinity"}, StopSignal: tc.stopSignal},
			HostConfig: container.HostConfig{RestartPolicy: container.RestartPolicy{Name: container.RestartPolicyAlways}},
		})
		if err != nil {
			t.Fatal(err)
		}
		if err := v.e.ContainerStart(ctx, resp.ID); err != nil {
			t.Fatal(err)
		}
		wait, err := v.e.ContainerWait(ctx, resp.ID, container.WaitConditionNextExit)
		if err != nil {
			t.Fatal(err)
		}
		if err := v.e.ContainerKill(ctx, resp.ID, "TERM"); err != nil {
			t.Fatal(err)
		}
		if r := <-wait; r.StatusCode != 143 {
			t.Fatalf("stop signal %q: exit %d, want 143", tc.stopSignal, r.StatusCode)
		}
		st := v.inspect(resp.ID)
		if restarting := st.State.Restarting || st.State.Running; restarting != tc.restarted {
			t.Errorf("stop signal %q: after kill TERM the container is %s (restarting %v), want restarted=%v", tc.stopSignal, st.State.Status, st.State.Restarting, tc.restarted)
		}
		zero := 0
		if err := v.e.ContainerStop(ctx, resp.ID, "", &zero); err != nil && !errdefs.IsNotModified(err) {
			t.Fatal(err)
		}
	}
}

// TestKillReturnsOnceStopped: as dockerd, docker kill (SIGKILL) returns
// when the container has stopped, and an exec of a stopped container
// cannot be resized.
func TestKillReturnsOnceStopped(t *testing.T) {
	v := newEnv(t)
	ctx := context.Background()
	resp, err := v.e.ContainerCreate(ctx, engine.CreateOptions{Config: container.Config{Image: testImage, Cmd: []string{"sleep", "infinity"}}})
	if err != nil {
		t.Fatal(err)
	}
	if err := v.e.ContainerStart(ctx, resp.ID); err != nil {
		t.Fatal(err)
	}
	x, err := v.e.ExecCreate(ctx, resp.ID, container.ExecCreateRequest{Cmd: []string{"sleep", "infinity"}, Tty: true})
	if err != nil {
		t.Fatal(err)
	}
	if err := v.e.ExecStart(ctx, x.ID, engine.ExecStartOptions{Detach: true, TTY: true}); err != nil {
		t.Fatal(err)
	}
	if err := v.e.ExecResize(ctx, x.ID, 40, 80); err != nil {
		t.Fatalf("resize of a running exec: %v", err)
	}
	if err := v.e.ContainerKill(ctx, resp.ID, ""); err != nil {
		t.Fatal(err)
	}
	if st := v.inspect(resp.ID).State; st.Running || st.ExitCode != 137 {
		t.Fatalf("right after kill: %+v", st)
	}
	if err := v.e.ExecResize(ctx, x.ID, 40, 80); !errdefs.IsConflict(err) || !strings.Contains(err.Error(), "is not running") {
		t.Fatalf("resize after kill: %v", err)
	}
}

// TestHealthTimeoutReportsOutput: a probe that overruns its timeout is
// killed and its log entry carries what it wrote, as dockerd's.
func TestHealthTimeoutReportsOutput(t *testing.T) {
	v := newEnv(t)
	ctx := context.Background()
	resp, err := v.e.ContainerCreate(ctx, engine.CreateOptions{Config: container.Config{
		Image: testImage, Cmd: []string{"sleep", "infinity"},
		Healthcheck: &container.HealthConfig{Test: []string{"CMD", "sh", "-c", `echo "logs1 logs2"; sleep 60`},
			Interval: 100 * time.Millisecond, Timeout: 50 * time.Millisecond, Retries: 1},
	}})
	if err != nil {
		t.Fatal(err)
	}
	if err := v.e.ContainerStart(ctx, resp.ID); err != nil {
		t.Fatal(err)
	}
	const want = "Health check exceeded timeout (50ms): logs1 logs2\n"
	deadline := time.Now().Add(20 * time.Second) // a hang guard, not a timing assertion
	for {
		st := v.inspect(resp.ID).State
		if st.Health != nil && slices.ContainsFunc(st.Health.Log, func(r *container.HealthcheckResult) bool { return r.Output == want }) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no probe log %q: %+v", want, st.Health)
		}
		time.Sleep(20 * time.Millisecond)
	}
	zero := 0
	if err := v.e.ContainerStop(ctx, resp.ID, "", &zero); err != nil {
		t.Fatal(err)
	}
}

// TestStartOfAMissingCommand: as the Docker engine (runc looks the command
// up before the start returns), a container whose command is not found
// fails its start with a bad request in runc's words and stays created,
// with exit code 127 and the reason in State.Error; an exec of a missing
// command gets the same words and 127, and one that cannot be executed 126.
// Resizing such an exec, or one that has ended, fails as with dockerd.
func TestStartOfAMissingCommand(t *testing.T) {
	v := newEnv(t)
	ctx := context.Background()
	resp, err := v.e.ContainerCreate(ctx, engine.CreateOptions{Config: container.Config{Image: testImage, Cmd: []string{"nope"}}})
	if err != nil {
		t.Fatal(err)
	}
	want := `failed to create task for container: failed to create shim task: OCI runtime create failed: runc create failed: unable to start container process: error during container init: exec: "nope": executable file not found in $PATH`
	if err := v.e.ContainerStart(ctx, resp.ID); !errdefs.IsInvalidParameter(err) || err.Error() != want {
		t.Fatalf("start: %v", err)
	}
	if st := v.inspect(resp.ID).State; st.Status != container.StateCreated || st.ExitCode != 127 || st.Error != want || st.Running {
		t.Fatalf("after the start: %+v", st)
	}
	// As dockerd, a start that failed leaves no endpoint and no network ID.
	if s := v.inspect(resp.ID).NetworkSettings.Networks["bridge"]; s == nil || s.EndpointID != "" || s.NetworkID != "" || s.IPAddress.IsValid() {
		t.Errorf("endpoint after a start that failed: %+v", s)
	}
	if v.inspect(resp.ID).LogPath == "" {
		t.Error("no LogPath after a start that failed: dockerd makes the log file before the process")
	}

	run, err := v.e.ContainerCreate(ctx, engine.CreateOptions{Config: container.Config{Image: testImage, Cmd: []string{"sleep", "infinity"}}})
	if err != nil {
		t.Fatal(err)
	}
	if err := v.e.ContainerStart(ctx, run.ID); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		cmd    string
		status int
		want   string
	}{
		{"/no/such/binary", 127, `OCI runtime exec failed: exec failed: unable to start container process: exec: "/no/such/binary": stat /no/such/binary: no such file or directory`},
		{"/etc/hostname", 126, `OCI runtime exec failed: exec failed: unable to start container process: exec: "/etc/hostname": permission denied`},
	} {
		x, err := v.e.ExecCreate(ctx, run.ID, container.ExecCreateRequest{Cmd: []string{tc.cmd}})
		if err != nil {
			t.Fatal(err)
		}
		if err := v.e.ExecStart(ctx, x.ID, engine.ExecStartOptions{Detach: true}); !errdefs.IsInvalidParameter(err) || err.Error() != tc.want {
			t.Errorf("exec %s: %v", tc.cmd, err)
		}
		info, err := v.e.ExecInspect(ctx, x.ID)
		if err != nil {
			t.Fatal(err)
		}
		if info.Running || info.ExitCode == nil || *info.ExitCode != tc.status {
			t.Errorf("exec %s: running %v, exit code %v", tc.cmd, info.Running, info.ExitCode)
		}
		if err := v.e.ExecResize(ctx, x.ID, 10, 20); !errdefs.IsInvalidParameter(err) || err.Error() != "exec process is not started" {
			t.Errorf("resize of exec %s: %v", tc.cmd, err)
		}
	}

	// The resize of an exec that has ended: containerd's not-found, as
	// dockerd passes it on.
	x, err := v.e.ExecCreate(ctx, run.ID, container.ExecCreateRequest{Cmd: []string{"true"}})
	if err != nil {
		t.Fatal(err)
	}
	if err := v.e.ExecStart(ctx, x.ID, engine.ExecStartOptions{}); err != nil { // attached: returns at the end
		t.Fatal(err)
	}
	want = "NotFound: process does not exist " + x.ID + ": not found"
	if err := v.e.ExecResize(ctx, x.ID, 10, 20); !errdefs.IsNotFound(err) || err.Error() != want {
		t.Errorf("resize of an ended exec: %v", err)
	}
	zero := 0
	if err := v.e.ContainerStop(ctx, run.ID, "", &zero); err != nil {
		t.Fatal(err)
	}
}

// TestSizeOfAnUnwrittenContainer: as the Docker engine's containerd
// snapshotter counts a writable layer (disk blocks, its top folder
// included), a container that wrote nothing has the blocks of its root
// folder as SizeRw, not 0.
func TestSizeOfAnUnwrittenContainer(t *testing.T) {
	v := newEnv(t)
	ctx := context.Background()
	resp, err := v.e.ContainerCreate(ctx, engine.CreateOptions{Config: container.Config{Image: testImage, Cmd: []string{"true"}}})
	if err != nil {
		t.Fatal(err)
	}
	var st syscall.Stat_t
	if err := syscall.Stat(filepath.Join(v.root, "memory", "containers", resp.ID, "rootfs"), &st); err != nil {
		t.Fatal(err)
	}
	rw, rootFS, err := v.e.ContainerSizes(ctx, resp.ID)
	if err != nil {
		t.Fatal(err)
	}
	if rw != st.Blocks*512 || rootFS <= rw {
		t.Fatalf("sizes %d/%d, root folder %d bytes of blocks", rw, rootFS, st.Blocks*512)
	}
}

// TestContainerWithoutAnImage: as dockerd, a container may be created
// without an image; its root is empty, so its start fails in runc's words
// and it stays created with exit code 127.
func TestContainerWithoutAnImage(t *testing.T) {
	v := newEnv(t)
	ctx := context.Background()
	resp, err := v.e.ContainerCreate(ctx, engine.CreateOptions{Config: container.Config{Cmd: []string{"true"}}})
	if err != nil {
		t.Fatal(err)
	}
	got := v.inspect(resp.ID)
	if got.Image != "" || got.Config.Image != "" || got.Path != "true" {
		t.Fatalf("created: image %q/%q, path %q", got.Image, got.Config.Image, got.Path)
	}
	want := `failed to create task for container: failed to create shim task: OCI runtime create failed: runc create failed: unable to start container process: error during container init: exec: "true": executable file not found in $PATH`
	if err := v.e.ContainerStart(ctx, resp.ID); !errdefs.IsInvalidParameter(err) || err.Error() != want {
		t.Fatalf("start: %v", err)
	}
	if st := v.inspect(resp.ID).State; st.Status != container.StateCreated || st.ExitCode != 127 {
		t.Fatalf("after the start: %+v", st)
	}
	if _, err := v.e.ContainerCreate(ctx, engine.CreateOptions{}); !errdefs.IsInvalidParameter(err) {
		t.Fatalf("no image and no command: %v", err)
	}
}
