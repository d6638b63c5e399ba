package image

import (
	"slices"
	"strings"
	"time"

	"github.com/distribution/reference"
	"github.com/moby/moby/api/types/image"
	"github.com/sockerless/sockerless/internal/errdefs"
)

// Get resolves ref as Docker does: a name (the tag defaults to latest, names
// are normalized under docker.io/library/), a name@digest, a full ID with or
// without "sha256:", or a unique ID prefix.
//
// # Errors
//
// InvalidParameter for a malformed reference; NotFound, reading
// "No such image: <ref>", when nothing matches.
func (s *Store) Get(ref string) (*Image, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	rec, err := s.resolveLocked(ref)
	if err != nil {
		return nil, err
	}
	return s.snapshotLocked(rec), nil
}

// List returns every image, newest first (by config creation time, then ID).
func (s *Store) List() []*Image {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]*Image, 0, len(s.images))
	for _, rec := range s.images {
		out = append(out, s.snapshotLocked(rec))
	}
	slices.SortFunc(out, func(a, b *Image) int {
		if c := created(b).Compare(created(a)); c != 0 {
			return c
		}
		return strings.Compare(a.ID, b.ID)
	})
	return out
}

func created(img *Image) time.Time {
	if img.Config.Created == nil {
		return time.Time{}
	}
	return *img.Config.Created
}

// resolveLocked follows Docker's GetImage: references first, then IDs.
func (s *Store) resolveLocked(ref string) (*record, error) {
	if ref == "" {
		return nil, errdefs.InvalidParameter("image name cannot be blank")
	}
	parsed, err := reference.ParseAnyReference(ref)
	if err != nil {
		return nil, errdefs.InvalidParameter("%w", err)
	}
	named, ok := parsed.(reference.Named)
	if !ok {
		if d, ok := parsed.(reference.Digested); ok {
			if rec := s.images[d.Digest().String()]; rec != nil {
				return rec, nil
			}
		}
		return nil, notFound(parsed)
	}
	if id, ok := s.refs[refKey(named).String()]; ok {
		return s.images[id], nil
	}
	if rec := s.searchLocked(ref); rec != nil {
		return rec, nil
	}
	return nil, notFound(parsed)
}

// refKey is the form a reference is indexed under: a digest reference
// without its tag, a name with its tag (latest by default).
func refKey(named reference.Named) reference.Named {
	if c, ok := named.(reference.Canonical); ok {
		if out, err := reference.WithDigest(reference.TrimNamed(named), c.Digest()); err == nil {
			return out
		}
	}
	return reference.TagNameOnly(named)
}

// searchLocked finds the image whose ID starts with the hex prefix (with or
// without "sha256:"), if exactly one does.
func (s *Store) searchLocked(prefix string) *record {
	hex := strings.TrimPrefix(prefix, "sha256:")
	if hex == "" || len(hex) > 64 || strings.Trim(hex, "0123456789abcdef") != "" {
		return nil
	}
	var found *record
	for id, rec := range s.images {
		if strings.HasPrefix(id, "sha256:"+hex) {
			if found != nil {
				return nil // ambiguous, as Docker's digest set says
			}
			found = rec
		}
	}
	return found
}

// notFound is Docker's ErrImageDoesNotExist.
func notFound(ref reference.Reference) error {
	if named, ok := ref.(reference.Named); ok {
		ref = reference.TagNameOnly(named)
	}
	return errdefs.NotFound("No such image: %s", reference.FamiliarString(ref))
}

// Inspect returns the image as GET /images/{name}/json reports it.
//
// # Errors
//
// As [Store.Get].
func (s *Store) Inspect(ref string) (image.InspectResponse, error) {
	img, err := s.Get(ref)
	if err != nil {
		return image.InspectResponse{}, err
	}
	return img.Inspect(), nil
}

// Inspect converts the snapshot to the Engine API's inspect response.
func (img *Image) Inspect() image.InspectResponse {
	cfg := img.Config.Config
	out := image.InspectResponse{
		ID:           img.ID,
		RepoTags:     img.RepoTags,
		RepoDigests:  img.RepoDigests,
		Comment:      img.Comment,
		Author:       img.Config.Author,
		Config:       &cfg,
		Architecture: img.Config.Architecture,
		Variant:      img.Config.Variant,
		Os:           img.Config.OS,
		OsVersion:    img.Config.OSVersion,
		Size:         img.Size,
		RootFS:       image.RootFS{Type: "layers"},
	}
	if img.Config.Created != nil {
		out.Created = img.Config.Created.Format(time.RFC3339Nano)
	}
	for _, l := range img.Layers {
		out.RootFS.Layers = append(out.RootFS.Layers, l.DiffID)
	}
	out.Metadata.LastTagTime = img.LastTagTime
	return out
}

// Summary converts the snapshot to an entry of GET /images/json. Container
// counts and shared sizes are not computed here (-1, as Docker reports
// them when not asked).
func (img *Image) Summary() image.Summary {
	labels := img.Config.Config.Labels
	if labels == nil {
		labels = map[string]string{}
	}
	return image.Summary{
		Containers:  -1,
		Created:     created(img).Unix(),
		ID:          img.ID,
		Labels:      labels,
		RepoDigests: img.RepoDigests,
		RepoTags:    img.RepoTags,
		SharedSize:  -1,
		Size:        img.Size,
	}
}

// History returns the image's history as GET /images/{name}/history does:
// newest first, layer sizes on the entries that made a layer, the image ID
// and tags on the newest entry and "<missing>" on the others.
//
// # Errors
//
// As [Store.Get]; an error when the config's history names more layers than
// the image has.
func (s *Store) History(ref string) ([]image.HistoryResponseItem, error) {
	img, err := s.Get(ref)
	if err != nil {
		return nil, err
	}
	out := []image.HistoryResponseItem{}
	layer := 0
	for _, h := range img.Config.History {
		item := image.HistoryResponseItem{ID: "<missing>", CreatedBy: h.CreatedBy, Comment: h.Comment, Tags: []string{}}
		if h.Created != nil {
			item.Created = h.Created.Unix()
		}
		if !h.EmptyLayer {
			if layer >= len(img.Layers) {
				return nil, errdefs.InvalidParameter("too many non-empty layers in History section")
			}
			item.Size = img.Layers[layer].Size
			layer++
		}
		out = append(out, item)
	}
	slices.Reverse(out)
	if len(out) > 0 {
		out[0].ID = img.ID
		out[0].Tags = img.RepoTags
	}
	return out, nil
}
