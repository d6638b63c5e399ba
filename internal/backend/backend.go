// Package backend is the contract between the engine, which owns every
// Docker semantic, and the places containers really run (the memory
// sandbox, a Docker engine, cloud services).
//
// A backend knows nothing of names, labels, filters, restart policies,
// health checks or events: it creates a workload from a resolved [Spec],
// starts processes in it, and reports their exits. What it cannot do it
// says in [Capabilities]; the engine checks them and answers with a
// NotImplemented error naming the backend, so a backend never emulates.
//
// Lifecycle: Create → (Start → Process.Wait)* → Remove. A workload outlives
// its main process: "restart" starts a new main process in the same
// workload, keeping its filesystem, as Docker does.
package backend

import (
	"context"
	"io"
	"syscall"
	"time"

	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/network"
)

// Info describes a backend.
type Info struct {
	// Name is the backend's name as given to --backend.
	Name string
	// OperatingSystem is what /info reports for the backend.
	OperatingSystem string
	Capabilities    Capabilities
}

// Capabilities say which optional operations a backend has.
type Capabilities struct {
	// Exec: processes besides the main one.
	Exec bool
	// Archive: docker cp both ways and stat of a path.
	Archive bool
	// Pause: suspend and resume every process.
	Pause bool
	// TTY: processes with a terminal.
	TTY bool
	// Users: processes as a user other than root.
	Users bool
}

// Mount is a host folder (a bind or a volume's folder) at a guest path.
type Mount struct {
	Source   string
	Target   string
	ReadOnly bool
	// CopyUp: a volume that is empty when the container is created gets
	// the image's content at Target first, as Docker populates a new
	// volume (unless nocopy).
	CopyUp bool
}

// Networking is how a workload reaches the network.
type Networking string

// The networkings. The engine keeps the records of every network (names,
// addresses, aliases); a backend learns only which kind the workload is on.
const (
	// NetworkIsolated is the default bridge or user-defined networks: the
	// engine's own naming domains and address allocations.
	NetworkIsolated Networking = "isolated"
	// NetworkHost shares the host's network stack (--network host).
	NetworkHost Networking = "host"
	// NetworkNone has loopback only (--network none).
	NetworkNone Networking = "none"
)

// Spec is a container as the backend needs it: the image's configuration
// already merged with the create options.
type Spec struct {
	ID string
	// ImageID is empty for a container created without an image (an
	// empty root, as with dockerd).
	ImageID  string
	Config   container.Config
	Mounts   []Mount
	Hostname string
	// HostsFile is the /etc/hosts content the container gets.
	HostsFile []byte
	// Networking is the kind of network the container was created on.
	Networking Networking
	// ExtraHosts are the --add-host entries ("name:ip"), already in
	// HostsFile; a backend whose platform writes /etc/hosts itself passes
	// them on instead.
	ExtraHosts []string
	// Network is set for a Networker backend only: the networks as the
	// create request gave them, for the platform to connect.
	Network *NetworkSpec
}

// NetworkSpec is a container's networking as the create request gave it,
// for a backend whose platform owns the networks (Networker).
type NetworkSpec struct {
	// Mode is the network mode as sent ("" is the platform's default);
	// in container:<id> the ID is the engine's record of the other
	// container, whose workload is Peer.
	Mode      container.NetworkMode
	Peer      Handle
	Endpoints map[string]*network.EndpointSettings
	// DNSNames are the names the container answers to on user-defined
	// networks besides its aliases: its name and short ID.
	DNSNames []string
	// PortBindings and PublishAllPorts are -p and -P as sent, for the
	// platform to bind its host's ports (the container ports are in
	// Spec.Config.ExposedPorts too).
	PortBindings    network.PortMap
	PublishAllPorts bool
}

// Handle is a backend's persisted reference to a workload, kept by the
// engine in its store so that a restarted daemon can find it again.
type Handle struct {
	Backend string `json:"backend"`
	ID      string `json:"id"`
	// Data is backend-defined (e.g. a cloud resource name).
	Data string `json:"data,omitempty"`
}

// Stdio connects a process. Stdin is nil unless the client attached stdin.
type Stdio struct {
	Stdin          io.Reader
	Stdout, Stderr io.Writer
	TTY            bool
}

// ProcessSpec is a process to start in a workload.
type ProcessSpec struct {
	Args []string
	Env  []string
	Dir  string
	User string
	// Main marks the container's main process (a start or a restart, with
	// the Config the workload was created with); otherwise the process is
	// an exec or a health probe. Backends whose platform fixes the main
	// process at create (a Docker engine) start it rather than a new one.
	Main bool
}

// CommandError is a Start refused because the process's command cannot be
// run in the workload, found before the process is reported started (as an
// OCI runtime looks it up in `create`). Status is the exit status the
// engine records: 127 when the command is not found, 126 when it cannot be
// executed. Message is the runtime's reason, worded as Go's os/exec words it
// (`exec: "nope": executable file not found in $PATH`); the engine adds the
// Docker engine's framing around it. A platform that words its refusals
// itself (a Docker engine) returns a StartError instead.
type CommandError struct {
	Status  int
	Message string
}

func (e *CommandError) Error() string { return e.Message }

// Exit is how a process ended.
type Exit struct {
	Code int
	At   time.Time
}

// Process is a running process.
type Process interface {
	// Wait blocks until the process ends.
	Wait(ctx context.Context) (Exit, error)
	// Signal delivers a signal; signalling an ended process is not an error.
	Signal(ctx context.Context, sig syscall.Signal) error
	Resize(ctx context.Context, width, height uint) error
}

// Backend runs workloads.
//
// # Errors
//
// Methods return internal/errdefs classes: NotFound for an unknown handle,
// InvalidParameter for a spec the backend refuses, NotImplemented for a
// capability it lacks, Unavailable when its service cannot be reached.
type Backend interface {
	Info() Info
	// Create makes the workload (its root filesystem) without running it.
	Create(ctx context.Context, spec Spec) (Handle, error)
	// Start starts a process in the workload: the main one, or an exec.
	// A command that cannot be run is a *CommandError.
	Start(ctx context.Context, h Handle, p ProcessSpec, stdio Stdio) (Process, error)
	// Remove deletes the workload; its processes must have ended.
	Remove(ctx context.Context, h Handle) error
}

// Archiver is implemented by backends with Capabilities.Archive.
type Archiver interface {
	StatPath(ctx context.Context, h Handle, path string) (container.PathStat, error)
	GetArchive(ctx context.Context, h Handle, path string, w io.Writer) (container.PathStat, error)
	PutArchive(ctx context.Context, h Handle, path string, noOverwriteDirNonDir bool, r io.Reader) error
}

// Stats are measured figures of a workload.
type Stats struct {
	Processes   int
	MemoryBytes int64
	CPU         time.Duration
}

// Inspector is implemented by backends that can report processes and usage.
type Inspector interface {
	Top(ctx context.Context, h Handle) ([]TopProcess, error)
	Stats(ctx context.Context, h Handle) (Stats, error)
}

// TopProcess is one row of docker top.
type TopProcess struct {
	PID, PPID int
	Started   time.Time
	Args      []string
}

// Pauser is implemented by backends with Capabilities.Pause: every
// process of the workload is suspended until Unpause.
type Pauser interface {
	Pause(ctx context.Context, h Handle) error
	Unpause(ctx context.Context, h Handle) error
}

// Reattacher is implemented by backends whose workloads outlive the daemon
// (a Docker engine, a cloud service). After a daemon restart the engine
// reattaches to every container its records say was running, so that the
// platform's state, not the record, says whether it still runs.
type Reattacher interface {
	// Reattach connects stdio to the workload's running main process and
	// returns it; when that process has ended it returns a nil Process and
	// how it ended.
	Reattach(ctx context.Context, h Handle, stdio Stdio) (Process, Exit, error)
}

// HostsWriter is implemented by backends that can replace a workload's
// /etc/hosts after Create. The engine rewrites it when the container's
// networks or the containers on them change; without it the file keeps
// what Spec.HostsFile had at create.
type HostsWriter interface {
	WriteHosts(ctx context.Context, h Handle, content []byte) error
}

// Changer is implemented by backends that can list a workload's filesystem
// changes against its image (docker diff).
type Changer interface {
	Changes(ctx context.Context, h Handle) ([]container.FilesystemChange, error)
}

// Sizer is implemented by backends that can measure a workload's root
// (inspect and list with size=1): rw is what the container wrote, rootFS
// the whole root including the image's files.
type Sizer interface {
	Sizes(ctx context.Context, h Handle) (rw, rootFS int64, err error)
}

// Networker is implemented by backends whose platform owns the networks
// (the docker backend: the Docker engine's networks are the truth). The
// engine then keeps no endpoints for the backend's containers: it passes
// the create request's networking in Spec.Network, and a container's
// networks in inspect and list are those of the platform's record
// (Describe).
type Networker interface {
	Describer
	// PlatformNetworks marks the role; it does nothing.
	PlatformNetworks()
}

// Describer is implemented by backends whose platform keeps its own record
// of a workload (the docker backend: the engine's inspect). Inspect then
// shows the platform's facts the engine does not keep: the storage driver,
// the image manifest, the paths of the files the platform writes
// (/etc/hosts, ...), its namespace modes and masked paths, and, with a
// Networker, the sandbox and networks.
type Describer interface {
	Describe(ctx context.Context, h Handle) (container.InspectResponse, error)
}

// StartError is a main process the platform could not start, with the exit
// code the platform gave the workload for it (dockerd's: 127 when the
// command is not found, 126 when it cannot be invoked); the engine records
// it as the container's exit code.
type StartError struct {
	Code int
	Err  error
}

func (e *StartError) Error() string { return e.Err.Error() }
func (e *StartError) Unwrap() error { return e.Err }
