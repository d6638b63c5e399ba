package daemon

import (
	"context"
	"io"

	"github.com/moby/moby/api/types/container"
	imagetypes "github.com/moby/moby/api/types/image"
	"github.com/moby/moby/api/types/registry"

	"github.com/sockerless/sockerless/internal/backends/docker"
	"github.com/sockerless/sockerless/internal/dockerapi"
	"github.com/sockerless/sockerless/internal/engine"
	"github.com/sockerless/sockerless/internal/filters"
)

// engineImages are the Docker engine's images, for the docker backend:
// every image call is the engine's, and containers are created from the
// image ID the engine resolves.
type engineImages struct{ im *docker.Images }

func (e engineImages) ImageConfig(ctx context.Context, ref string) (engine.ImageConfig, error) {
	img, err := e.im.Inspect(ctx, ref)
	if err != nil {
		return engine.ImageConfig{}, err
	}
	out := engine.ImageConfig{ID: img.ID}
	if cfg := img.Config; cfg != nil {
		out.User, out.Env, out.Entrypoint, out.Cmd = cfg.User, cfg.Env, cfg.Entrypoint, cfg.Cmd
		out.WorkingDir, out.Labels, out.Volumes, out.StopSignal = cfg.WorkingDir, cfg.Labels, cfg.Volumes, cfg.StopSignal
		if out.ExposedPorts, err = exposedPorts(img.ID, cfg.ExposedPorts); err != nil {
			return engine.ImageConfig{}, err
		}
		if h := cfg.Healthcheck; h != nil {
			out.Healthcheck = &container.HealthConfig{Test: h.Test, Interval: h.Interval, Timeout: h.Timeout,
				StartPeriod: h.StartPeriod, StartInterval: h.StartInterval, Retries: h.Retries}
		}
	}
	return out, nil
}

func (e engineImages) ImagePull(ctx context.Context, ref, platform string, auth registry.AuthConfig, progress dockerapi.PullProgress) error {
	return e.im.Pull(ctx, ref, platform, auth, progress)
}

func (e engineImages) ImageLoad(ctx context.Context, r io.Reader, progress func(line string) error) error {
	return e.im.Load(ctx, r, progress)
}

func (e engineImages) ImageInspect(ctx context.Context, ref string) (imagetypes.InspectResponse, error) {
	return e.im.Inspect(ctx, ref)
}

func (e engineImages) ImageList(ctx context.Context, all bool, f filters.Args) ([]imagetypes.Summary, error) {
	return e.im.List(ctx, all, f)
}

func (e engineImages) ImageTag(ctx context.Context, source, repo, tag string) error {
	target := repo
	if tag != "" {
		target += ":" + tag
	}
	return e.im.Tag(ctx, source, target)
}

func (e engineImages) ImageHistory(ctx context.Context, ref string) ([]imagetypes.HistoryResponseItem, error) {
	return e.im.History(ctx, ref)
}

func (e engineImages) ImageRemove(ctx context.Context, ref string, force, noPrune bool) ([]imagetypes.DeleteResponse, error) {
	return e.im.Remove(ctx, ref, force, noPrune)
}

func (e engineImages) ImagesPrune(ctx context.Context, f filters.Args) (imagetypes.PruneReport, error) {
	return e.im.Prune(ctx, f)
}

func (e engineImages) ImageSave(ctx context.Context, refs []string, w io.Writer) error {
	return e.im.Save(ctx, refs, w)
}

// ImageDiskUsage is the engine's own account: it knows which of its images
// the containers use.
func (e engineImages) ImageDiskUsage(ctx context.Context, _ imageUsers) (imagetypes.DiskUsage, error) {
	return e.im.DiskUsage(ctx)
}

// RegistryConfig is the engine's: it is the one that pulls.
func (e engineImages) RegistryConfig(ctx context.Context) (*registry.ServiceConfig, error) {
	return e.im.RegistryConfig(ctx)
}
