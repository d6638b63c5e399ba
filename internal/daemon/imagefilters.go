package daemon

import (
	"path"
	"time"

	"github.com/distribution/reference"
	imagetypes "github.com/moby/moby/api/types/image"

	"github.com/sockerless/sockerless/internal/errdefs"
	"github.com/sockerless/sockerless/internal/filters"
	"github.com/sockerless/sockerless/internal/image"
)

// keepReferences applies dockerd's reference filter to an image summary:
// it keeps the tags and digests that match one of the patterns (path.Match
// on the familiar or canonical reference, or on the name alone, so
// "busybox" matches "busybox:latest") and reports whether any is left. An image without a
// matching reference is not listed.
func keepReferences(s *imagetypes.Summary, patterns []string) (bool, error) {
	match := func(refs []string) ([]string, error) {
		var kept []string
		for _, r := range refs {
			named, err := reference.ParseNormalizedNamed(r)
			if err != nil {
				return nil, err
			}
			// As dockerd: the familiar reference and name, and the
			// canonical ones (docker.io/library/busybox[:latest]).
			targets := []string{reference.FamiliarString(named), reference.FamiliarName(named), reference.TagNameOnly(named).String(), named.Name()}
			for _, p := range patterns {
				ok, err := matchAny(p, targets)
				if err != nil {
					return nil, errdefs.InvalidParameter("invalid reference filter %q: %v", p, err)
				}
				if ok {
					kept = append(kept, r)
					break
				}
			}
		}
		return kept, nil
	}
	tags, err := match(s.RepoTags)
	if err != nil {
		return false, err
	}
	digests, err := match(s.RepoDigests)
	if err != nil {
		return false, err
	}
	if tags == nil {
		tags = []string{}
	}
	if digests == nil {
		digests = []string{}
	}
	s.RepoTags, s.RepoDigests = tags, digests
	return len(tags)+len(digests) > 0, nil
}

func matchAny(pattern string, targets []string) (bool, error) {
	for _, t := range targets {
		if ok, err := path.Match(pattern, t); ok || err != nil {
			return ok, err
		}
	}
	return false, nil
}

// createdBound resolves the before or since filter (an image reference or
// ID) to that image's creation time; zero when the filter is not set.
func createdBound(store *image.Store, f filters.Args, key string) (time.Time, error) {
	var bound time.Time
	for _, ref := range f.Get(key) {
		img, err := store.Get(ref)
		if err != nil {
			return time.Time{}, err
		}
		if img.Config.Created != nil {
			bound = *img.Config.Created
		}
	}
	return bound, nil
}

// createdWithin applies before and since: dockerd lists images created
// strictly before, or strictly after, the named image.
func createdWithin(img *image.Image, before, since time.Time) bool {
	var created time.Time
	if img.Config.Created != nil {
		created = *img.Config.Created
	}
	if !before.IsZero() && !created.Before(before) {
		return false
	}
	return since.IsZero() || created.After(since)
}
