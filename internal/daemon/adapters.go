package daemon

import (
	"context"
	"io"

	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/network"
	"github.com/moby/moby/api/types/system"

	"github.com/sockerless/sockerless/internal/dockerapi"
	"github.com/sockerless/sockerless/internal/engine"
	"github.com/sockerless/sockerless/internal/errdefs"
	"github.com/sockerless/sockerless/internal/filters"
	"github.com/sockerless/sockerless/internal/image"
	"github.com/sockerless/sockerless/internal/sandbox/confine"
)

// Unpacker lets the memory backend fill a root from the image store.
type Unpacker struct{ Images *image.Store }

// Unpack implements memory.Unpacker.
func (u Unpacker) Unpack(ctx context.Context, id string, root *confine.FS) error {
	return u.Images.Unpack(ctx, id, root)
}

// ImageConfigs gives the engine what a container takes from its image.
type ImageConfigs struct{ Images *image.Store }

// ImageConfig implements engine.ImageStore.
func (c ImageConfigs) ImageConfig(ctx context.Context, ref string) (engine.ImageConfig, error) {
	img, err := c.Images.Get(ref)
	if err != nil {
		return engine.ImageConfig{}, err
	}
	cfg := img.Config.Config
	out := engine.ImageConfig{
		ID: img.ID, User: cfg.User, Env: cfg.Env, Entrypoint: cfg.Entrypoint, Cmd: cfg.Cmd,
		WorkingDir: cfg.WorkingDir, Labels: cfg.Labels, Volumes: cfg.Volumes, StopSignal: cfg.StopSignal,
	}
	if out.ExposedPorts, err = exposedPorts(img.ID, cfg.ExposedPorts); err != nil {
		return engine.ImageConfig{}, err
	}
	if h := cfg.Healthcheck; h != nil {
		out.Healthcheck = &container.HealthConfig{Test: h.Test, Interval: h.Interval, Timeout: h.Timeout,
			StartPeriod: h.StartPeriod, StartInterval: h.StartInterval, Retries: h.Retries}
	}
	return out, nil
}

// exposedPorts reads an image's EXPOSE ("80/tcp"); one that is not a port
// is the image's defect, named.
func exposedPorts(id string, exposed map[string]struct{}) (network.PortSet, error) {
	if len(exposed) == 0 {
		return nil, nil
	}
	out := network.PortSet{}
	for s := range exposed {
		p, err := network.ParsePort(s)
		if err != nil {
			return nil, errdefs.InvalidParameter("image %s: exposed port %q: %v", id, s, err)
		}
		out[p] = struct{}{}
	}
	return out, nil
}

// api adapts the engine and the image role to the API layer's roles.
type api struct {
	*engine.Engine
	imageRole
}

// indexServer is Docker Hub's index, the default registry of every image
// name without a host (dockerd's registry.IndexServer).
const indexServer = "https://index.docker.io/v1/"

func (a *api) SystemInfo(ctx context.Context) (system.Info, error) {
	info, err := a.Engine.SystemInfo(ctx)
	if err != nil {
		return info, err
	}
	list, err := a.ImageList(ctx, false, nil)
	if err != nil {
		return info, err
	}
	info.Images = len(list)
	info.IndexServerAddress = indexServer
	info.RegistryConfig, err = a.RegistryConfig(ctx)
	return info, err
}

func (a *api) SystemVersion(ctx context.Context) (system.VersionResponse, error) {
	return a.Engine.SystemVersion(ctx, APIVersion, MinAPIVersion), nil
}

func (a *api) SystemDiskUsage(ctx context.Context) (system.DiskUsage, error) {
	cu, err := a.Engine.ContainerDiskUsage(ctx)
	if err != nil {
		return system.DiskUsage{}, err
	}
	vu, err := a.Engine.VolumeDiskUsage(ctx)
	if err != nil {
		return system.DiskUsage{}, err
	}
	iu, err := a.ImageDiskUsage(ctx, a.Engine)
	if err != nil {
		return system.DiskUsage{}, err
	}
	return system.DiskUsage{ImageUsage: &iu, ContainerUsage: &cu, VolumeUsage: &vu}, nil
}

func (a *api) ContainerCreate(ctx context.Context, cfg dockerapi.ContainerCreateConfig) (container.CreateResponse, error) {
	req := cfg.Request
	if req.Config == nil {
		return container.CreateResponse{}, errdefs.InvalidParameter("config cannot be empty in order to create a container")
	}
	if err := a.checkPlatform(ctx, req.Config.Image, cfg.Platform); err != nil {
		return container.CreateResponse{}, err
	}
	opts := engine.CreateOptions{Name: cfg.Name, Config: *req.Config}
	if req.HostConfig != nil {
		opts.HostConfig = *req.HostConfig
	}
	if nc := req.NetworkingConfig; nc != nil {
		opts.Networks = nc.EndpointsConfig
	}
	return a.Engine.ContainerCreate(ctx, opts)
}

func (a *api) ContainerList(ctx context.Context, all bool, limit int, size bool, f filters.Args) ([]container.Summary, error) {
	list, err := a.Engine.ContainerList(ctx, all, limit, f)
	if err != nil || !size {
		return list, err
	}
	for i := range list {
		rw, rootFS, err := a.Engine.ContainerSizes(ctx, list[i].ID)
		if errdefs.IsNotFound(err) {
			continue // removed since it was listed
		}
		if err != nil {
			return nil, err
		}
		list[i].SizeRw, list[i].SizeRootFs = rw, rootFS
	}
	return list, nil
}

func (a *api) ContainerInspect(ctx context.Context, name string, size bool) (container.InspectResponse, error) {
	resp, err := a.Engine.ContainerInspect(ctx, name)
	if err != nil || !size {
		return resp, err
	}
	rw, rootFS, err := a.Engine.ContainerSizes(ctx, resp.ID)
	if err != nil {
		return container.InspectResponse{}, err
	}
	resp.SizeRw, resp.SizeRootFs = &rw, &rootFS
	return resp, nil
}

func (a *api) ContainerLogs(ctx context.Context, name string, o dockerapi.LogsOptions, stdout, stderr io.Writer) error {
	return a.Engine.ContainerLogs(ctx, name, engine.LogOptions{
		Stdout: o.Stdout, Stderr: o.Stderr, Timestamps: o.Timestamps, Follow: o.Follow,
		Since: o.Since, Until: o.Until, Tail: o.Tail,
	}, stdout, stderr)
}

func (a *api) ContainerAttach(ctx context.Context, name string, o dockerapi.AttachOptions) error {
	return a.Engine.ContainerAttach(ctx, name, engine.AttachOptions{Logs: o.Logs, Stream: o.Stream, DetachKeys: o.DetachKeys, Attach: o.Attach})
}

func (a *api) ContainerExtractToDir(ctx context.Context, name, path string, noOverwriteDirNonDir, copyUIDGID bool, r io.Reader) error {
	return a.Engine.ContainerExtractToDir(ctx, name, path, noOverwriteDirNonDir, r)
}

func (a *api) ExecStart(ctx context.Context, id string, o dockerapi.ExecStartOptions) error {
	return a.Engine.ExecStart(ctx, id, engine.ExecStartOptions{Stdin: o.Stdin, Stdout: o.Stdout, Stderr: o.Stderr, Detach: o.Detach, TTY: o.TTY})
}
