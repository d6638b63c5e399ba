package testenv

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/moby/moby/api/pkg/stdcopy"
	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/client"
)

func TestRequired(t *testing.T) {
	t.Setenv(RequireEnv, "sockerless, dockerd")
	if !Required("dockerd") || !Required("sockerless") {
		t.Errorf("Required: listed names not found in %q", "sockerless, dockerd")
	}
	if Required("docker") || Required("") {
		t.Errorf("Required: matched a name that is not listed")
	}
}

// TestBusyboxRun proves the helpers end to end: it runs a shell command in
// BusyboxImage on the reference engine and checks its output and exit code.
func TestBusyboxRun(t *testing.T) {
	cli := DockerClient(t)
	RequireImage(t, cli, BusyboxImage)

	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()

	created, err := cli.ContainerCreate(ctx, client.ContainerCreateOptions{
		Config: &container.Config{
			Image: BusyboxImage,
			Cmd:   []string{"sh", "-c", "echo $((6*7))"},
		},
	})
	if err != nil {
		t.Fatalf("create: %v", err)
	}
	id := created.ID
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if _, err := cli.ContainerRemove(ctx, id, client.ContainerRemoveOptions{Force: true}); err != nil {
			t.Errorf("remove %s: %v", id, err)
		}
	})

	// Wait first, so the exit cannot be missed between start and wait.
	wait := cli.ContainerWait(ctx, id, client.ContainerWaitOptions{Condition: container.WaitConditionNextExit})
	if _, err := cli.ContainerStart(ctx, id, client.ContainerStartOptions{}); err != nil {
		t.Fatalf("start: %v", err)
	}
	select {
	case res := <-wait.Result:
		if res.Error != nil {
			t.Fatalf("wait: %s", res.Error.Message)
		}
		if res.StatusCode != 0 {
			t.Errorf("exit code = %d, want 0", res.StatusCode)
		}
	case err := <-wait.Error:
		t.Fatalf("wait: %v", err)
	}

	logs, err := cli.ContainerLogs(ctx, id, client.ContainerLogsOptions{ShowStdout: true, ShowStderr: true})
	if err != nil {
		t.Fatalf("logs: %v", err)
	}
	defer logs.Close()
	var stdout, stderr bytes.Buffer
	if _, err := stdcopy.StdCopy(&stdout, &stderr, logs); err != nil {
		t.Fatalf("reading logs: %v", err)
	}
	if got := strings.TrimSpace(stdout.String()); got != "42" {
		t.Errorf("stdout = %q, want %q (stderr %q)", stdout.String(), "42\n", stderr.String())
	}
	if stderr.Len() != 0 {
		t.Errorf("stderr = %q, want empty", stderr.String())
	}
}
