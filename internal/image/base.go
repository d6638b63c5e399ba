package image

import (
	"archive/tar"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/distribution/reference"
	dockerspec "github.com/moby/docker-image-spec/specs-go/v1"
	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/sockerless/sockerless/internal/sandbox/userland"
)

// BaseImage is the built-in image every store has from its first start:
// the sandbox's BusyBox userland as /bin/busybox with an applet link per
// command, root's passwd and group, CMD ["sh"]. Its platform is linux/wasm.
const BaseImage = "sockerless/base:latest"

// basePath is the PATH of the base image (Docker's default).
const basePath = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

// EnsureBase stores the base image built from the embedded userland and
// points [BaseImage] at it. It is idempotent; when the userland module
// changed, the tag moves to the new image and the old one is left dangling
// (a container may still use it). Run it at daemon start.
func (s *Store) EnsureBase(ctx context.Context) (*Image, error) {
	return s.ensureBase(ctx, userland.Module(), userland.Applets())
}

func (s *Store) ensureBase(ctx context.Context, module []byte, applets map[string]bool) (*Image, error) {
	layer, config, err := buildBase(module, applets)
	if err != nil {
		return nil, err
	}
	named, err := reference.ParseNormalizedNamed(BaseImage)
	if err != nil {
		return nil, fmt.Errorf("image: base image name: %w", err)
	}
	id := digest.FromBytes(config).String()
	s.mu.Lock()
	if s.refs[named.String()] == id {
		img := s.snapshotLocked(s.images[id])
		s.mu.Unlock()
		return img, nil
	}
	s.mu.Unlock()

	diffID := digest.FromBytes(layer).String()
	defer s.lease(id, diffID)()
	if !s.hasLayer(diffID) {
		if _, err := s.writeLayer(ctx, bytes.NewReader(layer), 0, diffID, ""); err != nil {
			return nil, fmt.Errorf("image: store base layer: %w", err)
		}
	}
	if _, err := s.writeConfig(config); err != nil {
		return nil, err
	}
	rec, err := s.commit(config, []reference.Named{named})
	if err != nil {
		return nil, err
	}
	s.logger.Info("base image ready", "image_id", rec.id, "ref", BaseImage)
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.snapshotLocked(rec), nil
}

// baseEntry is one file of the base layer.
type baseEntry struct {
	name string
	typ  byte
	mode int64
	link string
	data []byte
}

// buildBase builds the base layer (a plain tar) and config. Both are
// functions of the module bytes and applet names only: entries are sorted,
// owned by 0:0, with mtime 0, and the config's times are the Unix epoch.
func buildBase(module []byte, applets map[string]bool) (layer, config []byte, err error) {
	entries := []baseEntry{
		{name: "bin/", typ: tar.TypeDir, mode: 0o755},
		{name: "bin/busybox", typ: tar.TypeReg, mode: 0o755, data: module},
		{name: "etc/", typ: tar.TypeDir, mode: 0o755},
		{name: "etc/group", typ: tar.TypeReg, mode: 0o644, data: []byte("root:x:0:\n")},
		{name: "etc/passwd", typ: tar.TypeReg, mode: 0o644, data: []byte("root:x:0:0:root:/root:/bin/sh\n")},
		{name: "root/", typ: tar.TypeDir, mode: 0o700},
		{name: "tmp/", typ: tar.TypeDir, mode: 0o1777},
		{name: "usr/", typ: tar.TypeDir, mode: 0o755},
		{name: "usr/bin/", typ: tar.TypeDir, mode: 0o755},
		{name: "usr/local/", typ: tar.TypeDir, mode: 0o755},
		{name: "usr/local/bin/", typ: tar.TypeDir, mode: 0o755},
	}
	names := map[string]bool{"sh": true, "bash": true}
	for a := range applets {
		names[a] = true
	}
	delete(names, "busybox")
	for n := range names {
		entries = append(entries, baseEntry{name: "bin/" + n, typ: tar.TypeSymlink, mode: 0o777, link: "busybox"})
	}
	slices.SortFunc(entries, func(a, b baseEntry) int { return compareNames(a.name, b.name) })

	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, e := range entries {
		hdr := &tar.Header{
			Name: e.name, Typeflag: e.typ, Mode: e.mode, Linkname: e.link,
			Size: int64(len(e.data)), ModTime: time.Unix(0, 0), Format: tar.FormatPAX,
		}
		if err := tw.WriteHeader(hdr); err != nil {
			return nil, nil, fmt.Errorf("image: base layer: %w", err)
		}
		if _, err := tw.Write(e.data); err != nil {
			return nil, nil, fmt.Errorf("image: base layer: %w", err)
		}
	}
	if err := tw.Close(); err != nil {
		return nil, nil, fmt.Errorf("image: base layer: %w", err)
	}
	layer = buf.Bytes()

	epoch := time.Unix(0, 0).UTC()
	cfg := dockerspec.DockerOCIImage{
		Image: ocispec.Image{
			Created:  &epoch,
			Platform: ocispec.Platform{Architecture: "wasm", OS: "linux"},
			RootFS:   ocispec.RootFS{Type: "layers", DiffIDs: []digest.Digest{digest.FromBytes(layer)}},
			History: []ocispec.History{{
				Created:   &epoch,
				CreatedBy: "sockerless built-in base image: BusyBox WASI userland " + digest.FromBytes(module).String(),
				Comment:   "built by the daemon from its embedded BusyBox module; /bin/busybox with one link per applet",
			}},
		},
		Config: dockerspec.DockerOCIImageConfig{
			ImageConfig: ocispec.ImageConfig{Env: []string{basePath}, Cmd: []string{"sh"}},
		},
	}
	config, err = json.Marshal(cfg)
	if err != nil {
		return nil, nil, errors.Join(errors.New("image: base config"), err)
	}
	return layer, config, nil
}

// compareNames orders tar names so that a folder comes before what it holds.
func compareNames(a, b string) int {
	trim := func(s string) string {
		if len(s) > 0 && s[len(s)-1] == '/' {
			return s[:len(s)-1]
		}
		return s
	}
	a, b = trim(a), trim(b)
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}
