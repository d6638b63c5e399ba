package engine_test

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/mount"
	"github.com/moby/moby/api/types/network"

	"github.com/sockerless/sockerless/internal/engine"
	"github.com/sockerless/sockerless/internal/errdefs"
	"github.com/sockerless/sockerless/internal/filters"
)

const testImage = "sockerless/base:latest"

// TestCreateRefusesWhatDockerdRefuses: each request is one dockerd answers
// with 400 and this message (moby's own integration tests check them).
func TestCreateRefusesWhatDockerdRefuses(t *testing.T) {
	v := newEnv(t)
	v.create("existing", nil, nil)
	for _, tc := range []struct {
		doc  string
		cfg  container.Config
		hc   container.HostConfig
		want string
	}{
		{doc: "empty env", cfg: container.Config{Env: []string{""}}, want: "invalid environment variable: "},
		{doc: "env without name", cfg: container.Config{Env: []string{"=foo"}}, want: "invalid environment variable: =foo"},
		{doc: "relative workdir", cfg: container.Config{WorkingDir: "tmp"}, want: "the working directory 'tmp' is invalid, it needs to be an absolute path"},
		{doc: "stop signal", cfg: container.Config{StopSignal: "SIGNOPE"}, want: "Invalid signal: SIGNOPE"},
		{doc: "health interval", cfg: container.Config{Healthcheck: &container.HealthConfig{Interval: time.Microsecond}}, want: "Interval in Healthcheck cannot be less than 1ms"},
		{doc: "health retries", cfg: container.Config{Healthcheck: &container.HealthConfig{Retries: -1}}, want: "Retries in Healthcheck cannot be negative"},
		{doc: "auto-remove with a restart policy", hc: container.HostConfig{AutoRemove: true, RestartPolicy: container.RestartPolicy{Name: container.RestartPolicyAlways}}, want: "can't create 'AutoRemove' container with restart policy"},
		{doc: "unknown restart policy", hc: container.HostConfig{RestartPolicy: container.RestartPolicy{Name: "sometimes"}}, want: "invalid restart policy: unknown policy 'sometimes'"},
		{doc: "retry count without on-failure", hc: container.HostConfig{RestartPolicy: container.RestartPolicy{Name: container.RestartPolicyAlways, MaximumRetryCount: 3}}, want: "maximum retry count can only be used with 'on-failure'"},
		{doc: "IPC mode", hc: container.HostConfig{IpcMode: "invalid"}, want: "invalid IPC mode: invalid"},
		{doc: "PID mode without a container", hc: container.HostConfig{PidMode: "container"}, want: "invalid PID mode: container"},
		{doc: "PID mode of a missing container", hc: container.HostConfig{PidMode: "container:nosuchcontainer"}, want: "No such container: nosuchcontainer"},
		{doc: "UTS mode", hc: container.HostConfig{UTSMode: "invalid"}, want: "invalid UTS mode: invalid"},
		{doc: "annotation key", hc: container.HostConfig{Annotations: map[string]string{"": "a"}}, want: "invalid Annotations: the empty string is not permitted as an annotation key"},
		{doc: "CPU shares", hc: container.HostConfig{Resources: container.Resources{CPUShares: -1}}, want: "invalid CPU shares (-1): value must be a positive integer"},
		{doc: "tmpfs on /", hc: container.HostConfig{Tmpfs: map[string]string{"//": ""}}, want: "destination can't be '/'"},
		{doc: "relative tmpfs", hc: container.HostConfig{Tmpfs: map[string]string{".": ""}}, want: "invalid mount path: '.' mount path must be absolute"},
		{doc: "link to a missing container", hc: container.HostConfig{Links: []string{"no-such-container:alias"}}, want: "could not get container for no-such-container"},
		{doc: "volumes from a missing container", hc: container.HostConfig{VolumesFrom: []string{"nosuchcontainer"}}, want: "No such container: nosuchcontainer"},
		{doc: "volumes-from mode", hc: container.HostConfig{VolumesFrom: []string{"existing:rx"}}, want: "invalid mode: rx"},
	} {
		t.Run(tc.doc, func(t *testing.T) {
			cfg := tc.cfg
			cfg.Image, cfg.Cmd = testImage, []string{"true"}
			_, err := v.e.ContainerCreate(context.Background(), engine.CreateOptions{Config: cfg, HostConfig: tc.hc})
			if !errdefs.IsInvalidParameter(err) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v, want an invalid parameter error containing %q", err, tc.want)
			}
		})
	}
}

func TestCreateCleansTheWorkingDir(t *testing.T) {
	v := newEnv(t)
	resp, err := v.e.ContainerCreate(context.Background(), engine.CreateOptions{Config: container.Config{Image: testImage, Cmd: []string{"pwd"}, WorkingDir: "/tmp/"}})
	if err != nil {
		t.Fatal(err)
	}
	if wd := v.inspect(resp.ID).Config.WorkingDir; wd != "/tmp" {
		t.Fatalf("WorkingDir %q, want /tmp", wd)
	}
	if out := v.run(resp.ID); out != "/tmp\n" {
		t.Fatalf("pwd printed %q", out)
	}
}

func TestRenameToTheSameName(t *testing.T) {
	v := newEnv(t)
	id := v.create("same", nil, nil)
	for _, name := range []string{"same", "/same"} {
		err := v.e.ContainerRename(context.Background(), id, name)
		if !errdefs.IsInvalidParameter(err) || !strings.Contains(err.Error(), "Renaming a container with the same name as its current name") {
			t.Fatalf("rename to %q: %v", name, err)
		}
	}
}

// TestVolumesFromSharesMounts: a container made with --volumes-from sees
// the other container's volume and bind, read-only with :ro; a tmpfs on an
// image VOLUME's path replaces the anonymous volume.
func TestVolumesFromSharesMounts(t *testing.T) {
	v := newEnv(t)
	ctx := context.Background()
	host := t.TempDir()
	src, err := v.e.ContainerCreate(ctx, engine.CreateOptions{Name: "data",
		Config:     container.Config{Image: testImage, Cmd: []string{"sh", "-c", "echo in-volume > /vol/f; echo in-bind > /bind/f"}},
		HostConfig: container.HostConfig{Binds: []string{"shared:/vol", host + ":/bind"}, Tmpfs: map[string]string{"/anon": ""}},
	})
	if err != nil {
		t.Fatal(err)
	}
	v.run(src.ID)

	rw, err := v.e.ContainerCreate(ctx, engine.CreateOptions{
		Config:     container.Config{Image: testImage, Cmd: []string{"sh", "-c", "cat /vol/f /bind/f; echo more >> /vol/f && echo wrote"}},
		HostConfig: container.HostConfig{VolumesFrom: []string{"data"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	if out := v.run(rw.ID); out != "in-volume\nin-bind\nwrote\n" {
		t.Fatalf("volumes-from rw: %q", out)
	}
	ro, err := v.e.ContainerCreate(ctx, engine.CreateOptions{
		Config:     container.Config{Image: testImage, Cmd: []string{"sh", "-c", "cat /vol/f; echo more >> /vol/f || echo refused; test -e /anon || echo no-tmpfs"}},
		HostConfig: container.HostConfig{VolumesFrom: []string{src.ID[:12] + ":ro"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	if out := v.run(ro.ID); !strings.HasPrefix(out, "in-volume\nmore\n") || !strings.Contains(out, "refused\nno-tmpfs\n") {
		t.Fatalf("volumes-from ro: %q", out)
	}
	for _, m := range v.inspect(ro.ID).Mounts {
		if m.RW || (m.Destination != "/vol" && m.Destination != "/bind") {
			t.Errorf("read-only volumes-from mount %+v", m)
		}
	}

	tmp, err := v.e.ContainerCreate(ctx, engine.CreateOptions{
		Config:     container.Config{Image: testImage, Cmd: []string{"true"}, Volumes: map[string]struct{}{"/foo": {}}},
		HostConfig: container.HostConfig{Tmpfs: map[string]string{"/foo": ""}},
	})
	if err != nil {
		t.Fatal(err)
	}
	if ms := v.inspect(tmp.ID).Mounts; len(ms) != 0 {
		t.Errorf("a --tmpfs over an image VOLUME: mounts %+v, want none (no anonymous volume, and --tmpfs is not listed)", ms)
	}
	mt, err := v.e.ContainerCreate(ctx, engine.CreateOptions{
		Config:     container.Config{Image: testImage, Cmd: []string{"true"}},
		HostConfig: container.HostConfig{Mounts: []mount.Mount{{Type: mount.TypeTmpfs, Target: "/scratch"}}},
	})
	if err != nil {
		t.Fatal(err)
	}
	if ms := v.inspect(mt.ID).Mounts; len(ms) != 1 || ms[0].Type != mount.TypeTmpfs || ms[0].Destination != "/scratch" {
		t.Errorf("--mount type=tmpfs: mounts %+v", ms)
	}
}

// run starts a created container, waits for its end and returns its
// output.
func (v *env) run(id string) string {
	v.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	wait, err := v.e.ContainerWait(ctx, id, container.WaitConditionNextExit)
	if err != nil {
		v.t.Fatal(err)
	}
	if err := v.e.ContainerStart(ctx, id); err != nil {
		v.t.Fatal(err)
	}
	select {
	case <-wait:
	case <-ctx.Done():
		v.t.Fatalf("container %s did not end", id)
	}
	var out bytes.Buffer
	if err := v.e.ContainerLogs(ctx, id, engine.LogOptions{Stdout: true, Stderr: true, Tail: -1}, &out, &out); err != nil {
		v.t.Fatal(err)
	}
	return out.String()
}

// TestListShowsAndFiltersAnnotations: the list carries HostConfig's
// annotations and the annotation filter selects by key or key=value.
func TestListShowsAndFiltersAnnotations(t *testing.T) {
	v := newEnv(t)
	ctx := context.Background()
	annotated, err := v.e.ContainerCreate(ctx, engine.CreateOptions{
		Config:     container.Config{Image: testImage, Cmd: []string{"true"}},
		HostConfig: container.HostConfig{Annotations: map[string]string{"com.example.key": "value"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	v.create("plain", nil, nil)
	for filter, want := range map[string]int{"com.example.key": 1, "com.example.key=value": 1, "com.example.key=other": 0} {
		list, err := v.e.ContainerList(ctx, true, 0, filters.Args{"annotation": {filter}})
		if err != nil {
			t.Fatal(err)
		}
		if len(list) != want || (want == 1 && (list[0].ID != annotated.ID || list[0].HostConfig.Annotations["com.example.key"] != "value")) {
			t.Errorf("annotation=%s: %+v", filter, list)
		}
	}
}

// TestVolumeSubpath mounts a folder of a volume; a subpath that is not
// relative, missing, or leaves the volume through a symlink is refused.
func TestVolumeSubpath(t *testing.T) {
	v := newEnv(t)
	ctx := context.Background()
	create := func(sub string, cmd ...string) (string, error) {
		resp, err := v.e.ContainerCreate(ctx, engine.CreateOptions{
			Config: container.Config{Image: testImage, Cmd: cmd},
			HostConfig: container.HostConfig{Mounts: []mount.Mount{{Type: mount.TypeVolume, Source: "vol", Target: "/volume",
				VolumeOptions: &mount.VolumeOptions{Subpath: sub}}}},
		})
		return resp.ID, err
	}
	id, err := create("", "sh", "-c", "mkdir /volume/subdir && echo world > /volume/subdir/hello.txt && ln -s / /volume/root && ln -s ../subdir /volume/subdir/self")
	if err != nil {
		t.Fatal(err)
	}
	v.run(id)
	id, err = create("subdir/self", "cat", "/volume/hello.txt")
	if err != nil {
		t.Fatal(err)
	}
	if out := v.run(id); out != "world\n" {
		t.Fatalf("subpath subdir/self: %q", out)
	}
	for sub, want := range map[string]string{
		"../../etc/passwd": "subpath must be a relative path within the volume",
		"not-existing":     "cannot access path not-existing",
		"root/etc":         "path concatenation escapes the base directory",
	} {
		if _, err := create(sub, "true"); !errdefs.IsInvalidParameter(err) || !strings.Contains(err.Error(), want) {
			t.Errorf("subpath %s: %v, want %q", sub, err, want)
		}
	}
}

// TestNewVolumeGetsTheImageContent: as Docker, an empty volume mounted over
// a folder of the image starts with that folder's content; nocopy and a
// volume with content are left alone.
func TestNewVolumeGetsTheImageContent(t *testing.T) {
	v := newEnv(t)
	ctx := context.Background()
	run := func(hc container.HostConfig, cmd string) string {
		t.Helper()
		resp, err := v.e.ContainerCreate(ctx, engine.CreateOptions{Config: container.Config{Image: testImage, Cmd: []string{"sh", "-c", cmd}}, HostConfig: hc})
		if err != nil {
			t.Fatal(err)
		}
		return v.run(resp.ID)
	}
	if out := run(container.HostConfig{Binds: []string{"etc:/etc"}}, "cat /etc/passwd | head -1; echo mine > /etc/extra"); !strings.HasPrefix(out, "root:") {
		t.Fatalf("a new volume over /etc: %q, want the image's passwd", out)
	}
	if out := run(container.HostConfig{Binds: []string{"etc:/etc"}}, "cat /etc/extra"); out != "mine\n" {
		t.Fatalf("the volume on its second use: %q", out)
	}
	if out := run(container.HostConfig{Binds: []string{"bare:/etc:nocopy"}}, "test -e /etc/passwd || echo not-copied"); out != "not-copied\n" {
		t.Fatalf("nocopy: %q", out)
	}
	anon := run(container.HostConfig{Mounts: []mount.Mount{{Type: mount.TypeVolume, Target: "/etc"}}}, "test -s /etc/passwd && echo copied")
	if anon != "copied\n" {
		t.Fatalf("an anonymous volume: %q", anon)
	}
}

// The memory sandbox has no network stack, so no host port can reach it:
// -p and -P are refused, naming the backend.
func TestMemoryBackendRefusesPublishedPorts(t *testing.T) {
	v := newEnv(t)
	for name, hc := range map[string]container.HostConfig{
		"-p": {PortBindings: network.PortMap{network.MustParsePort("80/tcp"): {{HostPort: "8080"}}}},
		"-P": {PublishAllPorts: true},
	} {
		_, err := v.e.ContainerCreate(context.Background(), engine.CreateOptions{Config: container.Config{Image: testImage, Cmd: []string{"true"}}, HostConfig: hc})
		if !errdefs.IsNotImplemented(err) || err.Error() != "publishing ports (-p, -P) is not supported by the memory backend" {
			t.Errorf("%s: %v", name, err)
		}
	}
}
