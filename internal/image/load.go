package image

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/distribution/reference"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/opencontainers/go-digest"

	"github.com/sockerless/sockerless/internal/errdefs"
)

// candidate is one image found in a loaded archive, not yet stored.
type candidate struct {
	config []byte
	layers []layerSource
	tags   []reference.Named
}

// layerSource is a layer blob to store.
type layerSource struct {
	open   func() (io.Reader, error)
	digest string // sha256 of the blob, when the source names it
}

// Load stores the images of a `docker load` archive: a `docker save`
// tarball (manifest.json, with or without the OCI layout Docker 25+ adds)
// or an OCI image layout tarball (index.json; names from the
// io.containerd.image.name or org.opencontainers.image.ref.name
// annotations). It returns the familiar names it tagged and, for images
// without a name, their IDs ("sha256:…"), in archive order; on error, those
// of the images stored before the failure. Tags that
// pointed at other images move; those images stay, untagged.
//
// The archive is spooled to the store's tmp folder and read in place:
// names inside it are only ever looked up, never used as file names.
//
// # Errors
//
// InvalidParameter for a malformed archive or content that does not match
// its digests (Docker's "invalid diffID for layer N: expected …, got …");
// NotImplemented for pre-1.10 archives with neither manifest.json nor
// index.json.
func (s *Store) Load(ctx context.Context, r io.Reader) ([]string, error) {
	f, err := os.CreateTemp(s.path("tmp"), "load-*")
	if err != nil {
		return nil, fmt.Errorf("image: load: %w", err)
	}
	defer func() {
		// The spool file is unreferenced; Open empties tmp/ if this fails.
		if err := errors.Join(f.Close(), os.Remove(f.Name())); err != nil {
			s.logger.Warn("load spool not removed", "path", f.Name(), "err", err)
		}
	}()
	if _, err := io.Copy(f, ctxReader{ctx, r}); err != nil {
		return nil, fmt.Errorf("image: load: %w", err)
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return nil, fmt.Errorf("image: load: %w", err)
	}
	arc, err := indexArchive(f)
	if err != nil {
		return nil, err
	}
	var cands []candidate
	switch {
	case arc.has("manifest.json"):
		cands, err = dockerSaveCandidates(arc)
	case arc.has("index.json"):
		cands, err = ociLayoutCandidates(arc)
	case arc.has("repositories"):
		err = errdefs.NotImplemented("loading a pre-1.10 docker save archive (no manifest.json) is not supported")
	default:
		err = errdefs.InvalidParameter("invalid archive: neither manifest.json nor index.json found")
	}
	if err != nil {
		return nil, err
	}
	var loaded []string
	for _, c := range cands {
		rec, err := s.store(ctx, c)
		if err != nil {
			s.collect() // what the failed image wrote
			return loaded, err
		}
		if len(c.tags) == 0 {
			loaded = append(loaded, rec.id)
		}
		for _, t := range c.tags {
			loaded = append(loaded, reference.FamiliarString(t))
		}
	}
	return loaded, nil
}

// store verifies and stores a candidate's layers and config, then commits
// it with its tags.
func (s *Store) store(ctx context.Context, c candidate) (*record, error) {
	cfg, err := parseConfig(c.config)
	if err != nil {
		return nil, errdefs.InvalidParameter("%w", err)
	}
	if len(cfg.RootFS.DiffIDs) != len(c.layers) {
		return nil, errdefs.InvalidParameter("invalid manifest, layers length mismatch: expected %d, got %d", len(cfg.RootFS.DiffIDs), len(c.layers))
	}
	keys := []string{digest.FromBytes(c.config).String()}
	for _, d := range cfg.RootFS.DiffIDs {
		keys = append(keys, d.String())
	}
	defer s.lease(keys...)()
	for i, l := range c.layers {
		diffID := cfg.RootFS.DiffIDs[i].String()
		if s.hasLayer(diffID) {
			continue
		}
		r, err := l.open()
		if err != nil {
			return nil, err
		}
		if _, err := s.writeLayer(ctx, r, i, diffID, l.digest); err != nil {
			if ce := (*contentError)(nil); errors.As(err, &ce) {
				return nil, errdefs.InvalidParameter("%w", err)
			}
			return nil, err
		}
	}
	if _, err := s.writeConfig(c.config); err != nil {
		return nil, err
	}
	return s.commit(c.config, c.tags)
}

// dockerSaveCandidates reads manifest.json, the index `docker save` writes.
func dockerSaveCandidates(arc *archive) ([]candidate, error) {
	data, err := arc.readSmall("manifest.json")
	if err != nil {
		return nil, err
	}
	var manifest tarball.Manifest
	if err := json.Unmarshal(data, &manifest); err != nil {
		return nil, errdefs.InvalidParameter("invalid archive: manifest.json: %v", err)
	}
	if len(manifest) == 0 {
		return nil, errdefs.InvalidParameter("invalid archive: manifest.json lists no image")
	}
	var out []candidate
	for _, d := range manifest {
		config, err := arc.readSmall(d.Config)
		if err != nil {
			return nil, err
		}
		c := candidate{config: config}
		for _, t := range d.RepoTags {
			named, err := parseTag(t)
			if err != nil {
				return nil, errdefs.InvalidParameter("invalid tag %q: %w", t, err)
			}
			c.tags = append(c.tags, named)
		}
		for _, p := range d.Layers {
			if !arc.has(p) {
				return nil, errdefs.InvalidParameter("invalid archive: %s: no such file in archive", cleanName(p))
			}
			c.layers = append(c.layers, layerSource{open: func() (io.Reader, error) { return arc.open(p) }})
		}
		out = append(out, c)
	}
	return out, nil
}
