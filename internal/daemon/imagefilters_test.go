package daemon

import (
	"bytes"
	"context"
	"log/slog"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/tarball"

	"github.com/sockerless/sockerless/internal/filters"
	"github.com/sockerless/sockerless/internal/image"
)

// imagesCreated loads one random image per reference, created at the
// given times, into a fresh store (which also has the base image).
func imagesCreated(t *testing.T, created map[string]time.Time) localImages {
	t.Helper()
	st, err := image.Open(t.TempDir(), slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.EnsureBase(context.Background()); err != nil {
		t.Fatal(err)
	}
	byTime := map[time.Time]v1.Image{}
	refs := map[name.Reference]v1.Image{}
	for r, at := range created {
		img, ok := byTime[at]
		if !ok {
			if img, err = random.Image(256, 1); err != nil {
				t.Fatal(err)
			}
			if img, err = mutate.CreatedAt(img, v1.Time{Time: at}); err != nil {
				t.Fatal(err)
			}
			byTime[at] = img
		}
		ref, err := name.ParseReference(r)
		if err != nil {
			t.Fatal(err)
		}
		refs[ref] = img
	}
	var buf bytes.Buffer
	if err := tarball.MultiRefWrite(refs, &buf); err != nil {
		t.Fatal(err)
	}
	if _, err := st.Load(context.Background(), &buf); err != nil {
		t.Fatal(err)
	}
	return localImages{ImageConfigs{Images: st}}
}

// list returns the RepoTags of each listed image, sorted.
func list(t *testing.T, l localImages, f filters.Args) [][]string {
	t.Helper()
	got, err := l.ImageList(context.Background(), false, f)
	if err != nil {
		t.Fatal(err)
	}
	var out [][]string
	for _, s := range got {
		out = append(out, s.RepoTags)
	}
	slices.SortFunc(out, func(a, b []string) int { return slices.Compare(a, b) })
	return out
}

// The reference, before and since filters of GET /images/json, as dockerd
// applies them (docker-py's images.list(name=...) sends reference).
func TestImageListFilters(t *testing.T) {
	old := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	l := imagesCreated(t, map[string]time.Time{
		"example/old:1": old, "example/new:2": old.Add(time.Hour), "example/new:latest": old.Add(time.Hour),
	})
	for _, c := range []struct {
		filter filters.Args
		want   [][]string
	}{
		{filters.Args{"reference": {"example/new"}}, [][]string{{"example/new:2", "example/new:latest"}}},
		{filters.Args{"reference": {"example/new:2"}}, [][]string{{"example/new:2"}}},
		{filters.Args{"reference": {"example/*"}}, [][]string{{"example/new:2", "example/new:latest"}, {"example/old:1"}}},
		{filters.Args{"reference": {"example/old", "sockerless/base"}}, [][]string{{"example/old:1"}, {"sockerless/base:latest"}}},
		{filters.Args{"reference": {"nothing"}}, nil},
		{filters.Args{"reference": {"docker.io/example/new"}}, [][]string{{"example/new:2", "example/new:latest"}}},
		{filters.Args{"reference": {"docker.io/example/old:*"}}, [][]string{{"example/old:1"}}},
		{filters.Args{"reference": {"docker.io/library/base"}}, nil},
		{filters.Args{"since": {"example/old:1"}}, [][]string{{"example/new:2", "example/new:latest"}}},
		{filters.Args{"before": {"example/new:latest"}}, [][]string{{"example/old:1"}, {"sockerless/base:latest"}}},
		{filters.Args{"before": {"example/new:2"}, "since": {"sockerless/base"}}, [][]string{{"example/old:1"}}},
		{filters.Args{"until": {strconv.FormatInt(old.Add(time.Minute).Unix(), 10)}, "since": {"sockerless/base"}}, [][]string{{"example/old:1"}}},
		{filters.Args{"until": {old.Add(2 * time.Hour).Format(time.RFC3339)}, "reference": {"example/*"}}, [][]string{{"example/new:2", "example/new:latest"}, {"example/old:1"}}},
	} {
		if got := list(t, l, c.filter); !slices.EqualFunc(got, c.want, slices.Equal) {
			t.Errorf("%v: got %v, want %v", c.filter, got, c.want)
		}
	}
	if _, err := l.ImageList(context.Background(), false, filters.Args{"since": {"no/such:image"}}); err == nil {
		t.Error("since an unknown image: no error")
	}
	if _, err := l.ImageList(context.Background(), false, filters.Args{"until": {"soon"}}); err == nil {
		t.Error("until soon: no error")
	}
}
