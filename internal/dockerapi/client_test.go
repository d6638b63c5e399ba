package dockerapi

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/moby/moby/api/pkg/stdcopy"
	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/system"
	"github.com/moby/moby/client"
)

// fullFakes is a server state the official client and the CLI can read:
// the values are computed per call, so an echo of the fake is not what
// the assertions check but what the clients parsed.
func fullFakes() Config {
	sys := &fakeSystem{
		version: func(context.Context) (system.VersionResponse, error) {
			return system.VersionResponse{
				Platform:      struct{ Name string }{Name: "Sockerless"},
				Version:       "0.1.0-test",
				APIVersion:    MaxAPIVersion,
				MinAPIVersion: MinAPIVersion,
				Os:            "linux",
				Arch:          "amd64",
				GoVersion:     "go1.26",
				KernelVersion: "6.0.0-sandbox",
				Components:    []system.ComponentVersion{{Name: "Engine", Version: "0.1.0-test", Details: map[string]string{"ApiVersion": MaxAPIVersion, "MinAPIVersion": MinAPIVersion, "Os": "linux", "Arch": "amd64"}}},
			}, nil
		},
		info: func(context.Context) (system.Info, error) {
			return system.Info{ID: "SOCK:LESS", Containers: 7, ContainersRunning: 3, ContainersStopped: 4, Images: 2, Name: "sockerless-host",
				ServerVersion: "0.1.0-test", OperatingSystem: "Sockerless (memory backend)", OSType: "linux", Architecture: "x86_64", NCPU: 4, MemTotal: 8 << 30, Driver: "memory"}, nil
		},
	}
	fc := &fakeContainers{
		inspect: ttyInspect,
		create: func(_ context.Context, c ContainerCreateConfig) (container.CreateResponse, error) {
			return container.CreateResponse{ID: fmt.Sprintf("%s-%s-%d", c.Name, c.Request.Image, len(c.Request.Cmd))}, nil
		},
		attach: func(_ context.Context, _ string, o attachStreams) error {
			in, err := io.ReadAll(o.Stdin)
			if err != nil {
				return err
			}
			if _, err := io.WriteString(o.Stdout, strings.ToUpper(string(in))); err != nil {
				return err
			}
			_, err = fmt.Fprintf(o.Stderr, "%d\n", len(in))
			return err
		},
		logs: func(_ context.Context, _ string, o LogsOptions, stdout, stderr io.Writer) error {
			if _, err := fmt.Fprintf(stdout, "since=%d\n", o.Since.Unix()); err != nil {
				return err
			}
			_, err := fmt.Fprintf(stderr, "follow=%v\n", o.Follow)
			return err
		},
	}
	return Config{System: sys, Containers: fc}
}

func TestOfficialClient(t *testing.T) {
	ts := newTestServer(t, fullFakes())
	ctx := t.Context()
	cli, err := client.New(client.WithHost("tcp://"+ts.Listener.Addr().String()), client.WithAPIVersionNegotiation())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := cli.Close(); err != nil {
			t.Error(err)
		}
	})

	ping, err := cli.Ping(ctx, client.PingOptions{NegotiateAPIVersion: true})
	if err != nil {
		t.Fatal(err)
	}
	if ping.APIVersion != "1.51" || ping.OSType != "linux" || ping.Experimental || cli.ClientVersion() != "1.51" {
		t.Errorf("ping %+v, negotiated %s", ping, cli.ClientVersion())
	}

	v, err := cli.ServerVersion(ctx, client.ServerVersionOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if v.Version != "0.1.0-test" || v.APIVersion != "1.51" || v.MinAPIVersion != "1.24" || v.Platform.Name != "Sockerless" {
		t.Errorf("version %+v", v)
	}

	created, err := cli.ContainerCreate(ctx, client.ContainerCreateOptions{Name: "web", Config: &container.Config{Image: "alpine", Cmd: []string{"echo", "hi"}}})
	if err != nil {
		t.Fatal(err)
	}
	if created.ID != "web-alpine-2" {
		t.Errorf("created %+v", created)
	}

	att, err := cli.ContainerAttach(ctx, "plain", client.ContainerAttachOptions{Stream: true, Stdin: true, Stdout: true, Stderr: true})
	if err != nil {
		t.Fatal(err)
	}
	defer att.Close()
	if mt, ok := att.MediaType(); !ok || mt != "application/vnd.docker.multiplexed-stream" {
		t.Errorf("attach media type %q %v", mt, ok)
	}
	if _, err := io.WriteString(att.Conn, "shout"); err != nil {
		t.Fatal(err)
	}
	if err := att.CloseWrite(); err != nil {
		t.Fatal(err)
	}
	var out, errOut bytes.Buffer
	if _, err := stdcopy.StdCopy(&out, &errOut, att.Reader); err != nil {
		t.Fatal(err)
	}
	if out.String() != "SHOUT" || errOut.String() != "5\n" {
		t.Errorf("attach stdout %q stderr %q", out.String(), errOut.String())
	}

	logs, err := cli.ContainerLogs(ctx, "plain", client.ContainerLogsOptions{ShowStdout: true, ShowStderr: true, Since: "1700000000.5", Follow: true})
	if err != nil {
		t.Fatal(err)
	}
	out.Reset()
	errOut.Reset()
	if _, err := stdcopy.StdCopy(&out, &errOut, logs); err != nil {
		t.Fatal(err)
	}
	if err := logs.Close(); err != nil {
		t.Fatal(err)
	}
	if out.String() != "since=1700000000\n" || errOut.String() != "follow=true\n" {
		t.Errorf("logs stdout %q stderr %q", out.String(), errOut.String())
	}
}

// dockerCLI is the real docker CLI, when installed.
func dockerCLI(t *testing.T) string {
	t.Helper()
	const path = "/usr/local/bin/docker"
	if _, err := os.Stat(path); err != nil {
		if os.Getenv("SOCKERLESS_REQUIRE") != "" && strings.Contains(os.Getenv("SOCKERLESS_REQUIRE"), "docker") {
			t.Fatalf("docker CLI required: %v", err)
		}
		t.Skipf("docker CLI not installed at %s: %v", path, err)
	}
	return path
}

func TestDockerCLI(t *testing.T) {
	bin := dockerCLI(t)
	ts := newTestServer(t, fullFakes())
	run := func(args ...string) string {
		cmd := exec.CommandContext(t.Context(), bin, args...)
		cmd.Env = []string{"DOCKER_HOST=tcp://" + ts.Listener.Addr().String(), "HOME=" + t.TempDir(), "PATH=/usr/bin:/bin"}
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("docker %v: %v\n%s", args, err, out)
		}
		return string(out)
	}
	version := run("version", "--format", "{{.Server.Version}}|{{.Server.APIVersion}}|{{.Server.MinAPIVersion}}|{{.Server.KernelVersion}}|{{.Client.APIVersion}}")
	// docker 28.2 speaks API 1.50 at most and negotiates down from our 1.51.
	if got, want := strings.TrimSpace(version), "0.1.0-test|1.51|1.24|6.0.0-sandbox|1.50"; got != want {
		t.Errorf("docker version: %q, want %q", got, want)
	}
	info := run("info", "--format", "{{.Name}}|{{.Containers}}|{{.ContainersRunning}}|{{.OperatingSystem}}|{{.NCPU}}|{{.Driver}}")
	if got, want := strings.TrimSpace(info), "sockerless-host|7|3|Sockerless (memory backend)|4|memory"; got != want {
		t.Errorf("docker info: %q, want %q", got, want)
	}
	plain := run("info")
	for _, want := range []string{"Server Version: 0.1.0-test", "Running: 3", "Total Memory: 8GiB", "Name: sockerless-host"} {
		if !strings.Contains(plain, want) {
			t.Errorf("docker info output lacks %q:\n%s", want, plain)
		}
	}
}
