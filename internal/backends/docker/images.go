package docker

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/distribution/reference"
	"github.com/moby/moby/api/pkg/authconfig"
	"github.com/moby/moby/api/types/image"
	"github.com/moby/moby/api/types/jsonstream"
	"github.com/moby/moby/api/types/registry"
	"github.com/moby/moby/client"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/sockerless/sockerless/internal/errdefs"
)

// Images are the engine's images. With the docker backend, containers run
// from the engine's images, so the daemon answers every image call from
// here: `docker images` shows what containers really run from.
type Images struct{ cli *client.Client }

// Images returns the engine's image operations.
func (b *Backend) Images() *Images { return &Images{cli: b.cli} }

// Inspect inspects an image on the engine.
func (im *Images) Inspect(ctx context.Context, ref string) (image.InspectResponse, error) {
	res, err := im.cli.ImageInspect(ctx, ref)
	return res.InspectResponse, fromEngine(err)
}

// List lists the engine's images; filters are passed on as they are.
func (im *Images) List(ctx context.Context, all bool, filters map[string][]string) ([]image.Summary, error) {
	f := client.Filters{}
	for k, vs := range filters {
		f.Add(k, vs...)
	}
	res, err := im.cli.ImageList(ctx, client.ImageListOptions{All: all, Filters: f})
	return res.Items, fromEngine(err)
}

// Pull pulls on the engine and relays its progress messages.
func (im *Images) Pull(ctx context.Context, ref, platform string, auth registry.AuthConfig, progress func(status, id string, current, total int64) error) error {
	opts := client.ImagePullOptions{}
	if auth != (registry.AuthConfig{}) {
		enc, err := authconfig.Encode(auth)
		if err != nil {
			return err
		}
		opts.RegistryAuth = enc
	}
	if platform != "" {
		p, err := parsePlatform(platform)
		if err != nil {
			return err
		}
		opts.Platforms = []ocispec.Platform{p}
	}
	resp, err := im.cli.ImagePull(ctx, ref, opts)
	if err != nil {
		return fromEngine(err)
	}
	// JSONMessages reads the stream to its end and closes it.
	for msg, err := range resp.JSONMessages(ctx) {
		if err != nil {
			return err
		}
		if msg.Error != nil {
			return fmt.Errorf("%s", msg.Error.Message)
		}
		var cur, total int64
		if msg.Progress != nil {
			cur, total = msg.Progress.Current, msg.Progress.Total
		}
		if err := progress(msg.Status, msg.ID, cur, total); err != nil {
			return err
		}
	}
	return nil
}

// parsePlatform reads os[/arch[/variant]].
func parsePlatform(s string) (ocispec.Platform, error) {
	parts := strings.Split(s, "/")
	if len(parts) > 3 || parts[0] == "" {
		return ocispec.Platform{}, fmt.Errorf("invalid platform %q: want os[/arch[/variant]]", s)
	}
	p := ocispec.Platform{OS: parts[0]}
	if len(parts) > 1 {
		p.Architecture = parts[1]
	}
	if len(parts) > 2 {
		p.Variant = parts[2]
	}
	return p, nil
}

// Load loads a tar on the engine and relays its result lines.
func (im *Images) Load(ctx context.Context, r io.Reader, progress func(line string) error) error {
	res, err := im.cli.ImageLoad(ctx, r, client.ImageLoadWithQuiet(true))
	if err != nil {
		return fromEngine(err)
	}
	dec := json.NewDecoder(res)
	for {
		var msg jsonstream.Message
		if err := dec.Decode(&msg); errors.Is(err, io.EOF) {
			return res.Close()
		} else if err != nil {
			return errors.Join(err, res.Close())
		}
		if msg.Error != nil {
			return errors.Join(fmt.Errorf("%s", msg.Error.Message), res.Close())
		}
		if msg.Stream != "" {
			if err := progress(msg.Stream); err != nil {
				return errors.Join(err, res.Close())
			}
		}
	}
}

// Tag tags an image on the engine.
func (im *Images) Tag(ctx context.Context, source, target string) error {
	// The client refuses a bad target before sending it, wrapped in its
	// own words; the engine's answer is this parse error, a 400.
	if _, err := reference.ParseNormalizedNamed(target); err != nil {
		return errdefs.InvalidParameter("%v", err)
	}
	_, err := im.cli.ImageTag(ctx, client.ImageTagOptions{Source: source, Target: target})
	return fromEngine(err)
}

// History is the engine's history of an image.
func (im *Images) History(ctx context.Context, ref string) ([]image.HistoryResponseItem, error) {
	res, err := im.cli.ImageHistory(ctx, ref)
	return res.Items, fromEngine(err)
}

// Remove removes an image on the engine, which refuses images its
// containers use.
func (im *Images) Remove(ctx context.Context, ref string, force, noPrune bool) ([]image.DeleteResponse, error) {
	res, err := im.cli.ImageRemove(ctx, ref, client.ImageRemoveOptions{Force: force, PruneChildren: !noPrune})
	return res.Items, fromEngine(err)
}

// Prune prunes the engine's images.
func (im *Images) Prune(ctx context.Context, filters map[string][]string) (image.PruneReport, error) {
	f := client.Filters{}
	for k, vs := range filters {
		f.Add(k, vs...)
	}
	res, err := im.cli.ImagePrune(ctx, client.ImagePruneOptions{Filters: f})
	return res.Report, fromEngine(err)
}

// Save streams the engine's tar of refs to w.
func (im *Images) Save(ctx context.Context, refs []string, w io.Writer) error {
	res, err := im.cli.ImageSave(ctx, refs)
	if err != nil {
		return fromEngine(err)
	}
	_, err = io.Copy(w, res)
	return errors.Join(err, res.Close())
}

// DiskUsage is the image part of the engine's /system/df.
func (im *Images) DiskUsage(ctx context.Context) (image.DiskUsage, error) {
	res, err := im.cli.DiskUsage(ctx, client.DiskUsageOptions{Images: true, Verbose: true})
	if err != nil {
		return image.DiskUsage{}, fromEngine(err)
	}
	u := res.Images
	return image.DiskUsage{ActiveCount: u.ActiveCount, TotalCount: u.TotalCount, Reclaimable: u.Reclaimable, TotalSize: u.TotalSize, Items: u.Items}, nil
}

// RegistryConfig is the engine's registry configuration, from its /info.
func (im *Images) RegistryConfig(ctx context.Context) (*registry.ServiceConfig, error) {
	res, err := im.cli.Info(ctx, client.InfoOptions{})
	if err != nil {
		return nil, fromEngine(err)
	}
	return res.Info.RegistryConfig, nil
}
