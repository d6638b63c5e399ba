package daemon

import (
	"context"
	"errors"
	"io"

	"github.com/moby/moby/api/types/container"
	imagetypes "github.com/moby/moby/api/types/image"
	"github.com/moby/moby/api/types/registry"
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
	if h := cfg.Healthcheck; h != nil {
		out.Healthcheck = &container.HealthConfig{Test: h.Test, Interval: h.Interval, Timeout: h.Timeout,
			StartPeriod: h.StartPeriod, StartInterval: h.StartInterval, Retries: h.Retries}
	}
	return out, nil
}

// api adapts the engine and the image store to the API layer's roles.
type api struct {
	*engine.Engine
	images *image.Store
}

func (a *api) SystemInfo(ctx context.Context) (system.Info, error) {
	info, err := a.Engine.SystemInfo(ctx)
	info.Images = len(a.images.List())
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
	iu := imagetypes.DiskUsage{}
	for _, img := range a.images.List() {
		s := img.Summary()
		_, used := a.Engine.ImageUse(img.ID)
		if used {
			s.Containers = 1
			iu.ActiveCount++
		} else {
			iu.Reclaimable += s.Size
		}
		iu.Items = append(iu.Items, s)
		iu.TotalSize += s.Size
		iu.TotalCount++
	}
	return system.DiskUsage{ImageUsage: &iu, ContainerUsage: &cu, VolumeUsage: &vu}, nil
}

func (a *api) ContainerCreate(ctx context.Context, cfg dockerapi.ContainerCreateConfig) (container.CreateResponse, error) {
	req := cfg.Request
	if req.Config == nil {
		return container.CreateResponse{}, errdefs.InvalidParameter("config cannot be empty in order to create a container")
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
	return a.Engine.ContainerList(ctx, all, limit, f)
}

func (a *api) ContainerInspect(ctx context.Context, name string, size bool) (container.InspectResponse, error) {
	return a.Engine.ContainerInspect(ctx, name)
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

func (a *api) ImagePull(ctx context.Context, ref, platform string, auth registry.AuthConfig, progress dockerapi.PullProgress) error {
	var perr error
	_, err := a.images.Pull(ctx, ref, image.PullOptions{Platform: platform, Auth: &auth}, func(p image.Progress) {
		if perr == nil {
			perr = progress(p.Status, p.ID, p.Current, p.Total)
		}
	})
	return errors.Join(err, perr)
}

func (a *api) ImageLoad(ctx context.Context, r io.Reader, progress func(line string) error) error {
	loaded, err := a.images.Load(ctx, r)
	if err != nil {
		return err
	}
	for _, name := range loaded {
		line := "Loaded image: " + name + "\n"
		if len(name) > 7 && name[:7] == "sha256:" {
			line = "Loaded image ID: " + name + "\n"
		}
		if err := progress(line); err != nil {
			return err
		}
	}
	return nil
}

func (a *api) ImageInspect(ctx context.Context, ref string) (imagetypes.InspectResponse, error) {
	return a.images.Inspect(ref)
}

func (a *api) ImageList(ctx context.Context, all bool, f filters.Args) ([]imagetypes.Summary, error) {
	if err := f.Validate("dangling", "label", "reference", "before", "since"); err != nil {
		return nil, err
	}
	out := []imagetypes.Summary{}
	for _, img := range a.images.List() {
		s := img.Summary()
		if !f.MatchLabels("label", s.Labels) {
			continue
		}
		if d, set, err := f.Bool("dangling"); err != nil {
			return nil, err
		} else if set && d != (len(s.RepoTags) == 0) {
			continue
		}
		out = append(out, s)
	}
	return out, nil
}

func (a *api) ImageTag(ctx context.Context, source, repo, tag string) error {
	target := repo
	if tag != "" {
		target += ":" + tag
	}
	return a.images.Tag(source, target)
}

func (a *api) ImageHistory(ctx context.Context, ref string) ([]imagetypes.HistoryResponseItem, error) {
	return a.images.History(ref)
}

func (a *api) ImageRemove(ctx context.Context, ref string, force, noPrune bool) ([]imagetypes.DeleteResponse, error) {
	return a.images.Remove(ref, force)
}

func (a *api) ImagesPrune(ctx context.Context, f filters.Args) (imagetypes.PruneReport, error) {
	return a.images.Prune(ctx)
}

func (a *api) ImageSave(ctx context.Context, refs []string, w io.Writer) error {
	return errdefs.NotImplemented("docker save is not implemented yet")
}
