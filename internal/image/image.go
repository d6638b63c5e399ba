package image

import (
	"encoding/json"
	"slices"
	"strings"
	"time"

	"github.com/distribution/reference"
	dockerspec "github.com/moby/docker-image-spec/specs-go/v1"
	"github.com/opencontainers/go-digest"
)

// Image is a snapshot of a stored image. It is the caller's own copy.
type Image struct {
	// ID is "sha256:" and the hex sha256 of the config.
	ID string
	// Config is the image config, as pulled or loaded.
	Config dockerspec.DockerOCIImage
	// Comment is the Docker-specific top-level "comment" of the config.
	Comment string
	// Layers are the image's layers, base first.
	Layers []Layer
	// Size is the sum of the uncompressed layer sizes.
	Size int64
	// RepoTags are the familiar names of the tags (e.g. "busybox:latest"),
	// sorted.
	RepoTags []string
	// RepoDigests are the familiar digest references (e.g.
	// "busybox@sha256:…"), sorted.
	RepoDigests []string
	// LastTagTime is when a tag was last pointed at the image (zero if none).
	LastTagTime time.Time
}

// Layer is one stored layer of an image.
type Layer struct {
	// DiffID is the sha256 of the uncompressed layer tar.
	DiffID string
	// Size is the size of the uncompressed layer tar.
	Size int64
}

// dockerExtra holds the top-level config fields Docker has and the OCI
// image spec lacks.
type dockerExtra struct {
	Comment string `json:"comment,omitempty"`
}

// parseConfig decodes an image config; the result must name its layers.
func parseConfig(raw []byte) (*dockerspec.DockerOCIImage, error) {
	var cfg dockerspec.DockerOCIImage
	if err := json.Unmarshal(raw, &cfg); err != nil {
		return nil, badContent("invalid image config: %v", err)
	}
	for _, d := range cfg.RootFS.DiffIDs {
		if err := d.Validate(); err != nil || d.Algorithm() != digest.SHA256 {
			return nil, badContent("invalid image config: diff ID %q", d)
		}
	}
	return &cfg, nil
}

// snapshotLocked makes the caller's copy of rec with its current references.
func (s *Store) snapshotLocked(rec *record) *Image {
	cfg, err := parseConfig(rec.raw)
	if err != nil {
		// The config was parsed when the image was stored; it cannot fail now.
		panic("image: stored config no longer parses: " + err.Error())
	}
	var extra dockerExtra
	if err := json.Unmarshal(rec.raw, &extra); err != nil {
		panic("image: stored config no longer parses: " + err.Error())
	}
	img := &Image{ID: rec.id, Config: *cfg, Comment: extra.Comment, LastTagTime: rec.lastTagTime}
	for i, d := range rec.diffIDs {
		img.Layers = append(img.Layers, Layer{DiffID: d, Size: rec.sizes[i]})
		img.Size += rec.sizes[i]
	}
	img.RepoTags, img.RepoDigests = s.namesLocked(rec.id)
	return img
}

// namesLocked lists the familiar tag and digest references of an image.
func (s *Store) namesLocked(id string) (tags, digests []string) {
	tags, digests = []string{}, []string{}
	for _, named := range s.refsOfLocked(id) {
		if _, ok := named.(reference.Canonical); ok {
			digests = append(digests, reference.FamiliarString(named))
		} else {
			tags = append(tags, reference.FamiliarString(named))
		}
	}
	return tags, digests
}

// refsOfLocked lists the references to an image, sorted by familiar string
// as Docker's reference store lists them.
func (s *Store) refsOfLocked(id string) []reference.Named {
	var out []reference.Named
	for ref, target := range s.refs {
		if target != id {
			continue
		}
		named, err := reference.ParseNormalizedNamed(ref)
		if err != nil {
			continue // Open dropped unparsable references; none can be added
		}
		out = append(out, named)
	}
	slices.SortFunc(out, func(a, b reference.Named) int {
		return strings.Compare(reference.FamiliarString(a), reference.FamiliarString(b))
	})
	return out
}

// chainIDs computes the chain IDs of a layer stack, base first, as the
// OCI image spec defines them.
func chainIDs(diffIDs []string) []string {
	out := make([]string, len(diffIDs))
	for i, d := range diffIDs {
		if i == 0 {
			out[i] = d
			continue
		}
		out[i] = digest.FromString(out[i-1] + " " + d).String()
	}
	return out
}

// shortID is the 12-character form of an ID or digest.
func shortID(id string) string {
	if i := strings.IndexByte(id, ':'); i >= 0 {
		id = id[i+1:]
	}
	if len(id) > 12 {
		id = id[:12]
	}
	return id
}
