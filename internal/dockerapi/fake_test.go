package dockerapi

import (
	"context"
	"io"
	"log/slog"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/events"
	"github.com/moby/moby/api/types/image"
	"github.com/moby/moby/api/types/registry"
	"github.com/moby/moby/api/types/system"
	"github.com/moby/moby/api/types/volume"
	"github.com/sockerless/sockerless/internal/errdefs"
	"github.com/sockerless/sockerless/internal/filters"
)

// The fakes are structs of function fields, one per role (Nomad's
// MockDriver style). A nil field answers NotImplemented, so a test sets
// only what it exercises.

var errUnset = errdefs.NotImplemented("fake: method not set")

type fakeSystem struct {
	info    func(context.Context) (system.Info, error)
	version func(context.Context) (system.VersionResponse, error)
	events  func(context.Context, time.Time, time.Time, filters.Args) ([]events.Message, <-chan events.Message, error)
	df      func(context.Context) (system.DiskUsage, error)
}

func (f *fakeSystem) SystemInfo(ctx context.Context) (system.Info, error) {
	if f.info == nil {
		return system.Info{}, errUnset
	}
	return f.info(ctx)
}

func (f *fakeSystem) SystemVersion(ctx context.Context) (system.VersionResponse, error) {
	if f.version == nil {
		return system.VersionResponse{}, errUnset
	}
	return f.version(ctx)
}

func (f *fakeSystem) SubscribeEvents(ctx context.Context, since, until time.Time, a filters.Args) ([]events.Message, <-chan events.Message, error) {
	if f.events == nil {
		return nil, nil, errUnset
	}
	return f.events(ctx, since, until, a)
}

func (f *fakeSystem) SystemDiskUsage(ctx context.Context) (system.DiskUsage, error) {
	if f.df == nil {
		return system.DiskUsage{}, errUnset
	}
	return f.df(ctx)
}

type fakeContainers struct {
	create  func(context.Context, ContainerCreateConfig) (container.CreateResponse, error)
	list    func(context.Context, bool, int, bool, filters.Args) ([]container.Summary, error)
	inspect func(context.Context, string) (container.InspectResponse, error)
	start   func(context.Context, string) error
	stop    func(context.Context, string, string, *int) error
	wait    func(context.Context, string, container.WaitCondition) (<-chan container.WaitResponse, error)
	logs    func(context.Context, string, LogsOptions, io.Writer, io.Writer) error
	attach  func(context.Context, string, attachStreams) error
}

func (f *fakeContainers) ContainerCreate(ctx context.Context, c ContainerCreateConfig) (container.CreateResponse, error) {
	if f.create == nil {
		return container.CreateResponse{}, errUnset
	}
	return f.create(ctx, c)
}

func (f *fakeContainers) ContainerList(ctx context.Context, all bool, limit int, size bool, a filters.Args) ([]container.Summary, error) {
	if f.list == nil {
		return nil, errUnset
	}
	return f.list(ctx, all, limit, size, a)
}

func (f *fakeContainers) ContainerInspect(ctx context.Context, name string, _ bool) (container.InspectResponse, error) {
	if f.inspect == nil {
		return container.InspectResponse{}, errUnset
	}
	return f.inspect(ctx, name)
}

func (f *fakeContainers) ContainerStart(ctx context.Context, name string) error {
	if f.start == nil {
		return errUnset
	}
	return f.start(ctx, name)
}

func (f *fakeContainers) ContainerStop(ctx context.Context, name, sig string, t *int) error {
	if f.stop == nil {
		return errUnset
	}
	return f.stop(ctx, name, sig, t)
}

func (f *fakeContainers) ContainerRestart(ctx context.Context, name, sig string, t *int) error {
	return errUnset
}

func (f *fakeContainers) ContainerKill(context.Context, string, string) error { return errUnset }

func (f *fakeContainers) ContainerWait(ctx context.Context, name string, c container.WaitCondition) (<-chan container.WaitResponse, error) {
	if f.wait == nil {
		return nil, errUnset
	}
	return f.wait(ctx, name, c)
}

func (f *fakeContainers) ContainerRemove(context.Context, string, bool, bool) error { return errUnset }

func (f *fakeContainers) ContainerRename(context.Context, string, string) error { return errUnset }

func (f *fakeContainers) ContainerLogs(ctx context.Context, name string, o LogsOptions, stdout, stderr io.Writer) error {
	if f.logs == nil {
		return errUnset
	}
	return f.logs(ctx, name, o, stdout, stderr)
}

func (f *fakeContainers) ContainerAttach(ctx context.Context, name string, o AttachOptions) error {
	if f.attach == nil {
		return errUnset
	}
	stdin, stdout, stderr, err := o.Attach()
	if err != nil {
		return err
	}
	return f.attach(ctx, name, attachStreams{Stdin: stdin, Stdout: stdout, Stderr: stderr})
}

// attachStreams are the client's streams a fake attach gets.
type attachStreams struct {
	Stdin          io.Reader
	Stdout, Stderr io.Writer
}

func (f *fakeContainers) ContainerResize(context.Context, string, uint, uint) error { return errUnset }

func (f *fakeContainers) ContainerTop(context.Context, string, string) (container.TopResponse, error) {
	return container.TopResponse{}, errUnset
}

func (f *fakeContainers) ContainerStats(context.Context, string, bool, func(container.StatsResponse) error) error {
	return errUnset
}

func (f *fakeContainers) ContainerChanges(context.Context, string) ([]container.FilesystemChange, error) {
	return nil, errUnset
}

func (f *fakeContainers) ContainerExport(context.Context, string, io.Writer) error { return errUnset }

func (f *fakeContainers) ContainerPause(context.Context, string) error { return errUnset }

func (f *fakeContainers) ContainerUnpause(context.Context, string) error { return errUnset }

func (f *fakeContainers) ContainerUpdate(context.Context, string, container.UpdateConfig) (container.UpdateResponse, error) {
	return container.UpdateResponse{}, errUnset
}

func (f *fakeContainers) ContainersPrune(context.Context, filters.Args) (container.PruneReport, error) {
	return container.PruneReport{}, errUnset
}

type fakeExec struct {
	inspect func(context.Context, string) (container.ExecInspectResponse, error)
	start   func(context.Context, string, ExecStartOptions) error
}

func (f *fakeExec) ExecCreate(context.Context, string, container.ExecCreateRequest) (container.ExecCreateResponse, error) {
	return container.ExecCreateResponse{}, errUnset
}

func (f *fakeExec) ExecStart(ctx context.Context, id string, o ExecStartOptions) error {
	if f.start == nil {
		return errUnset
	}
	return f.start(ctx, id, o)
}

func (f *fakeExec) ExecInspect(ctx context.Context, id string) (container.ExecInspectResponse, error) {
	if f.inspect == nil {
		return container.ExecInspectResponse{}, errUnset
	}
	return f.inspect(ctx, id)
}

func (f *fakeExec) ExecResize(context.Context, string, uint, uint) error { return errUnset }

type fakeImages struct {
	pull func(context.Context, string, string, registry.AuthConfig, PullProgress) error
}

func (f *fakeImages) ImagePull(ctx context.Context, ref, platform string, auth registry.AuthConfig, p PullProgress) error {
	if f.pull == nil {
		return errUnset
	}
	return f.pull(ctx, ref, platform, auth, p)
}

func (f *fakeImages) ImageLoad(context.Context, io.Reader, func(string) error) error { return errUnset }

func (f *fakeImages) ImageInspect(_ context.Context, ref string) (image.InspectResponse, error) {
	return image.InspectResponse{}, errdefs.NotFound("No such image: %s", ref)
}

func (f *fakeImages) ImageList(context.Context, bool, filters.Args) ([]image.Summary, error) {
	return nil, errUnset
}

func (f *fakeImages) ImageTag(context.Context, string, string, string) error { return errUnset }

func (f *fakeImages) ImageHistory(context.Context, string) ([]image.HistoryResponseItem, error) {
	return nil, errUnset
}

func (f *fakeImages) ImageRemove(context.Context, string, bool, bool) ([]image.DeleteResponse, error) {
	return nil, errUnset
}

func (f *fakeImages) ImagesPrune(context.Context, filters.Args) (image.PruneReport, error) {
	return image.PruneReport{}, errUnset
}

func (f *fakeImages) ImageSave(context.Context, []string, io.Writer) error { return errUnset }

type fakeVolumes struct {
	prune func(filters.Args) (volume.PruneReport, error)
}

func (fakeVolumes) VolumeCreate(context.Context, volume.CreateRequest) (volume.Volume, error) {
	return volume.Volume{}, errUnset
}

func (fakeVolumes) VolumeList(context.Context, filters.Args) (volume.ListResponse, error) {
	return volume.ListResponse{}, nil
}

func (fakeVolumes) VolumeInspect(context.Context, string) (volume.Volume, error) {
	return volume.Volume{}, errUnset
}

func (fakeVolumes) VolumeRemove(context.Context, string, bool) error { return errUnset }

func (f fakeVolumes) VolumesPrune(_ context.Context, a filters.Args) (volume.PruneReport, error) {
	if f.prune != nil {
		return f.prune(a)
	}
	return volume.PruneReport{}, errUnset
}

// Interface guards.
var (
	_ SystemBackend    = (*fakeSystem)(nil)
	_ ContainerBackend = (*fakeContainers)(nil)
	_ ExecBackend      = (*fakeExec)(nil)
	_ ImageBackend     = (*fakeImages)(nil)
	_ VolumeBackend    = fakeVolumes{}
)

// newTestServer serves cfg on 127.0.0.1 with logs going to the test.
// testLog passes the server's log to the test's output until the test
// ends, and drops it after: a hijacked connection's handler is not waited
// for by httptest.Server.Close and may log its request once the test has
// returned.
type testLog struct {
	mu   sync.Mutex
	w    io.Writer
	done bool
}

func (l *testLog) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.done {
		return len(p), nil
	}
	return l.w.Write(p)
}

func (l *testLog) stop() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.done = true
}

func newTestServer(t *testing.T, cfg Config) *httptest.Server {
	t.Helper()
	lw := &testLog{w: t.Output()}
	t.Cleanup(lw.stop)
	cfg.Logger = slog.New(slog.NewTextHandler(lw, &slog.HandlerOptions{Level: slog.LevelDebug}))
	if cfg.BackendName == "" {
		cfg.BackendName = "fake"
	}
	if cfg.ServerVersion == "" {
		cfg.ServerVersion = "0.0.0-test"
	}
	ts := httptest.NewServer(New(cfg).Handler())
	t.Cleanup(ts.Close)
	return ts
}
