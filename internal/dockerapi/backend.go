package dockerapi

import (
	"context"
	"io"
	"time"

	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/events"
	"github.com/moby/moby/api/types/image"
	"github.com/moby/moby/api/types/network"
	"github.com/moby/moby/api/types/registry"
	"github.com/moby/moby/api/types/system"
	"github.com/moby/moby/api/types/volume"
	"github.com/sockerless/sockerless/internal/filters"
)

// The API layer declares what it needs from the engine as small role
// interfaces, the way moby's routers do. Handlers decode the request into
// these calls; the engine owns every Docker semantic. Every method returns
// errors of an internal/errdefs class, which the layer maps to a status once
// (see errors.go).

// SystemBackend serves /_ping, /version, /info, /events and /system/df.
type SystemBackend interface {
	SystemInfo(ctx context.Context) (system.Info, error)
	SystemVersion(ctx context.Context) (system.VersionResponse, error)
	// SubscribeEvents returns past events in [since, until] matching f, and,
	// when until is zero, a channel of new ones that is closed when ctx ends.
	SubscribeEvents(ctx context.Context, since, until time.Time, f filters.Args) ([]events.Message, <-chan events.Message, error)
	SystemDiskUsage(ctx context.Context) (system.DiskUsage, error)
}

// ContainerCreateConfig is a decoded POST /containers/create.
type ContainerCreateConfig struct {
	Name     string
	Platform string
	Request  container.CreateRequest
}

// LogsOptions are the query of GET /containers/{id}/logs.
type LogsOptions struct {
	Stdout, Stderr, Timestamps, Follow bool
	Since, Until                       time.Time
	// Tail is the number of last lines; negative means all.
	Tail int
}

// AttachOptions describe an attach.
type AttachOptions struct {
	Logs, Stream bool
	DetachKeys   string
	// Attach takes over the connection and returns the client's streams
	// (nil for those not requested), framed as the container's TTY setting
	// wants. The backend calls it once the client is registered with the
	// container, as dockerd calls GetStreams: a client that starts the
	// container after seeing the upgrade then misses no output.
	Attach func() (stdin io.Reader, stdout, stderr io.Writer, err error)
}

// ContainerBackend is the container lifecycle.
type ContainerBackend interface {
	ContainerCreate(ctx context.Context, cfg ContainerCreateConfig) (container.CreateResponse, error)
	ContainerList(ctx context.Context, all bool, limit int, size bool, f filters.Args) ([]container.Summary, error)
	ContainerInspect(ctx context.Context, name string, size bool) (container.InspectResponse, error)
	ContainerStart(ctx context.Context, name string) error
	// ContainerStop: signal "" means the container's StopSignal; timeout nil
	// means its StopTimeout (default 10 s).
	ContainerStop(ctx context.Context, name, signal string, timeout *int) error
	ContainerRestart(ctx context.Context, name, signal string, timeout *int) error
	ContainerKill(ctx context.Context, name, signal string) error
	// ContainerWait returns when the condition is met: the exit code, or an
	// error of the wait itself.
	ContainerWait(ctx context.Context, name string, condition container.WaitCondition) (<-chan container.WaitResponse, error)
	ContainerRemove(ctx context.Context, name string, force, removeVolumes bool) error
	ContainerRename(ctx context.Context, name, newName string) error
	// ContainerLogs writes log records to stdout/stderr (the layer frames
	// them) until the logs end or, with Follow, the container stops or ctx ends.
	ContainerLogs(ctx context.Context, name string, opts LogsOptions, stdout, stderr io.Writer) error
	ContainerAttach(ctx context.Context, name string, opts AttachOptions) error
	ContainerResize(ctx context.Context, name string, height, width uint) error
	ContainerTop(ctx context.Context, name, psArgs string) (container.TopResponse, error)
	// ContainerStats writes one stats document (stream=false) or a stream of
	// them, one per second, until ctx ends.
	ContainerStats(ctx context.Context, name string, stream bool, w func(container.StatsResponse) error) error
	ContainerChanges(ctx context.Context, name string) ([]container.FilesystemChange, error)
	ContainerExport(ctx context.Context, name string, w io.Writer) error
	ContainerPause(ctx context.Context, name string) error
	ContainerUnpause(ctx context.Context, name string) error
	ContainerUpdate(ctx context.Context, name string, hc container.UpdateConfig) (container.UpdateResponse, error)
	ContainersPrune(ctx context.Context, f filters.Args) (container.PruneReport, error)
}

// ArchiveBackend serves docker cp.
type ArchiveBackend interface {
	ContainerStatPath(ctx context.Context, name, path string) (container.PathStat, error)
	// ContainerArchivePath writes a tar of path; the stat is for the header.
	ContainerArchivePath(ctx context.Context, name, path string, w io.Writer) (container.PathStat, error)
	ContainerExtractToDir(ctx context.Context, name, path string, noOverwriteDirNonDir, copyUIDGID bool, tar io.Reader) error
}

// ExecStartOptions describe a started exec on a hijacked connection.
type ExecStartOptions struct {
	Stdin          io.Reader
	Stdout, Stderr io.Writer
	Detach, TTY    bool
}

// ExecBackend serves /containers/{id}/exec and /exec/{id}/*.
type ExecBackend interface {
	ExecCreate(ctx context.Context, name string, req container.ExecCreateRequest) (container.ExecCreateResponse, error)
	// ExecStart runs the exec to its end when attached, or starts it and
	// returns when detached.
	ExecStart(ctx context.Context, execID string, opts ExecStartOptions) error
	ExecInspect(ctx context.Context, execID string) (container.ExecInspectResponse, error)
	ExecResize(ctx context.Context, execID string, height, width uint) error
}

// PullProgress receives Docker's JSON progress messages.
type PullProgress func(status, id string, current, total int64) error

// ImageBackend serves /images/*.
type ImageBackend interface {
	ImagePull(ctx context.Context, ref, platform string, auth registry.AuthConfig, progress PullProgress) error
	ImageLoad(ctx context.Context, r io.Reader, progress func(line string) error) error
	ImageInspect(ctx context.Context, ref string) (image.InspectResponse, error)
	ImageList(ctx context.Context, all bool, f filters.Args) ([]image.Summary, error)
	ImageTag(ctx context.Context, source, repo, tag string) error
	ImageHistory(ctx context.Context, ref string) ([]image.HistoryResponseItem, error)
	ImageRemove(ctx context.Context, ref string, force, noPrune bool) ([]image.DeleteResponse, error)
	ImagesPrune(ctx context.Context, f filters.Args) (image.PruneReport, error)
	ImageSave(ctx context.Context, refs []string, w io.Writer) error
}

// VolumeBackend serves /volumes/*.
type VolumeBackend interface {
	VolumeCreate(ctx context.Context, req volume.CreateRequest) (volume.Volume, error)
	VolumeList(ctx context.Context, f filters.Args) (volume.ListResponse, error)
	VolumeInspect(ctx context.Context, name string) (volume.Volume, error)
	VolumeRemove(ctx context.Context, name string, force bool) error
	VolumesPrune(ctx context.Context, f filters.Args) (volume.PruneReport, error)
}

// NetworkBackend serves /networks/*. References are a network's ID, name
// or unique ID prefix; containers are referenced as elsewhere.
type NetworkBackend interface {
	NetworkCreate(ctx context.Context, req network.CreateRequest) (network.CreateResponse, error)
	NetworkList(ctx context.Context, f filters.Args) ([]network.Summary, error)
	// NetworkInspect: verbose asks for swarm service details; scope limits
	// the search to networks of that scope ("" is any).
	NetworkInspect(ctx context.Context, ref string, verbose bool, scope string) (network.Inspect, error)
	NetworkRemove(ctx context.Context, ref string) error
	NetworkConnect(ctx context.Context, ref string, req network.ConnectRequest) error
	NetworkDisconnect(ctx context.Context, ref string, req network.DisconnectRequest) error
	NetworksPrune(ctx context.Context, f filters.Args) (network.PruneReport, error)
}
