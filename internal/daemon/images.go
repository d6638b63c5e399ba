package daemon

import (
	"context"
	"errors"
	"io"
	"time"

	imagetypes "github.com/moby/moby/api/types/image"
	"github.com/moby/moby/api/types/registry"

	"github.com/sockerless/sockerless/internal/dockerapi"
	"github.com/sockerless/sockerless/internal/engine"
	"github.com/sockerless/sockerless/internal/errdefs"
	"github.com/sockerless/sockerless/internal/filters"
	"github.com/sockerless/sockerless/internal/image"
)

// imageRole is where a daemon's images live, chosen with the backend:
// the daemon's own store for the memory backend (localImages), the Docker
// engine itself for the docker backend (engineImages), whose containers
// run from the engine's images. One role answers both the image API and
// the engine's image lookups, so what `docker images` lists is what
// containers are created from.
type imageRole interface {
	dockerapi.ImageBackend
	engine.ImageStore
	// ImageDiskUsage is the image part of /system/df.
	ImageDiskUsage(ctx context.Context, users imageUsers) (imagetypes.DiskUsage, error)
	// RegistryConfig says how pulls reach registries, for /info.
	RegistryConfig(ctx context.Context) (*registry.ServiceConfig, error)
}

// imageUsers tells whether a container uses an image.
type imageUsers interface {
	ImageUse(id string) (engine.ImageUser, bool)
}

// localImages is the daemon's own image store.
type localImages struct {
	ImageConfigs
}

// RegistryConfig is the puller's: Docker Hub is the default index, and
// only loopback registries may be reached without TLS (internal/image).
func (l localImages) RegistryConfig(context.Context) (*registry.ServiceConfig, error) {
	return &registry.ServiceConfig{
		InsecureRegistryCIDRs: image.InsecureRegistryCIDRs(),
		IndexConfigs: map[string]*registry.IndexInfo{
			"docker.io": {Name: "docker.io", Mirrors: []string{}, Secure: true, Official: true},
		},
		Mirrors: []string{},
	}, nil
}

func (l localImages) ImageDiskUsage(ctx context.Context, users imageUsers) (imagetypes.DiskUsage, error) {
	iu := imagetypes.DiskUsage{}
	for _, img := range l.Images.List() {
		s := img.Summary()
		if _, used := users.ImageUse(img.ID); used {
			s.Containers = 1
			iu.ActiveCount++
		} else {
			iu.Reclaimable += s.Size
		}
		iu.Items = append(iu.Items, s)
		iu.TotalSize += s.Size
		iu.TotalCount++
	}
	return iu, nil
}

func (l localImages) ImagePull(ctx context.Context, ref, platform string, auth registry.AuthConfig, progress dockerapi.PullProgress) error {
	var perr error
	_, err := l.Images.Pull(ctx, ref, image.PullOptions{Platform: platform, Auth: &auth}, func(p image.Progress) {
		if perr == nil {
			perr = progress(p.Status, p.ID, p.Current, p.Total)
		}
	})
	return errors.Join(err, perr)
}

func (l localImages) ImageLoad(ctx context.Context, r io.Reader, progress func(line string) error) error {
	loaded, err := l.Images.Load(ctx, r)
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

func (l localImages) ImageInspect(ctx context.Context, ref string) (imagetypes.InspectResponse, error) {
	return l.Images.Inspect(ref)
}

func (l localImages) ImageList(ctx context.Context, all bool, f filters.Args) ([]imagetypes.Summary, error) {
	if err := f.Validate("dangling", "label", "reference", "before", "since", "until"); err != nil {
		return nil, err
	}
	before, err := createdBound(l.Images, f, "before")
	if err != nil {
		return nil, err
	}
	// until (a time) narrows before, as dockerd applies both.
	now := time.Now()
	for _, v := range f.Get("until") {
		t, err := filters.Timestamp("until", v, now)
		if err != nil {
			return nil, err
		}
		if before.IsZero() || t.Before(before) {
			before = t
		}
	}
	since, err := createdBound(l.Images, f, "since")
	if err != nil {
		return nil, err
	}
	out := []imagetypes.Summary{}
	for _, img := range l.Images.List() {
		s := img.Summary()
		if !f.MatchLabels("label", s.Labels) || !createdWithin(img, before, since) {
			continue
		}
		if d, set, err := f.Bool("dangling"); err != nil {
			return nil, err
		} else if set && d != (len(s.RepoTags) == 0) {
			continue
		}
		if f.Has("reference") {
			if ok, err := keepReferences(&s, f.Get("reference")); err != nil {
				return nil, err
			} else if !ok {
				continue
			}
		}
		out = append(out, s)
	}
	return out, nil
}

func (l localImages) ImageTag(ctx context.Context, source, repo, tag string) error {
	target := repo
	if tag != "" {
		target += ":" + tag
	}
	return l.Images.Tag(source, target)
}

func (l localImages) ImageHistory(ctx context.Context, ref string) ([]imagetypes.HistoryResponseItem, error) {
	return l.Images.History(ref)
}

func (l localImages) ImageRemove(ctx context.Context, ref string, force, noPrune bool) ([]imagetypes.DeleteResponse, error) {
	return l.Images.Remove(ref, force)
}

func (l localImages) ImagesPrune(ctx context.Context, f filters.Args) (imagetypes.PruneReport, error) {
	return l.Images.Prune(ctx)
}

func (l localImages) ImageSave(ctx context.Context, refs []string, w io.Writer) error {
	return errdefs.NotImplemented("docker save is not implemented yet")
}
