package image

import (
	"context"
	"crypto/sha256"
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/moby/moby/api/types/image"

	"github.com/sockerless/sockerless/internal/errdefs"
)

// fixture is a store with three images: a tagged busybox:latest and
// busybox:1 (two layers), b tagged example.com/app:1 (one layer), and c
// untagged.
type fixture struct {
	s       *Store
	a, b, c string // IDs
	aDiffs  []string
	bDiff   string
	uses    map[string]Use
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	a, b, c := randomImage(t, 2, "linux", "amd64"), randomImage(t, 1, "linux", "amd64"), randomImage(t, 1, "linux", "amd64")
	cDigest, err := c.Digest()
	if err != nil {
		t.Fatal(err)
	}
	f := &fixture{s: openStore(t, ""), a: imageID(t, a), b: imageID(t, b), c: imageID(t, c), uses: map[string]Use{}}
	load(t, f.s, dockerSave(t, map[string]v1.Image{"busybox:latest": a, "busybox:1": a, "example.com/app:1": b, "example.com/c@" + cDigest.String(): c}))
	f.s.SetInUse(func(id string) (Use, bool) { u, ok := f.uses[id]; return u, ok })
	img, err := f.s.Get(f.a)
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range img.Layers {
		f.aDiffs = append(f.aDiffs, l.DiffID)
	}
	img, err = f.s.Get(f.b)
	if err != nil {
		t.Fatal(err)
	}
	f.bDiff = img.Layers[0].DiffID
	return f
}

// checkErr checks an error's class and its exact message.
func checkErr(t *testing.T, err, class error, msg string) {
	t.Helper()
	if class == nil {
		if err != nil {
			t.Fatalf("unexpected error: %v", err)
		}
		return
	}
	if !errorsIs(err, class) || err.Error() != msg {
		t.Fatalf("error = %v\nwant class %v and message %q", err, class, msg)
	}
}

func TestGet(t *testing.T) {
	f := newFixture(t)
	hex := strings.TrimPrefix(f.a, "sha256:")
	a64 := strings.Repeat("a", 64)
	tests := []struct {
		ref   string
		want  string
		class error
		msg   string
	}{
		{ref: "busybox", want: f.a},
		{ref: "busybox:1", want: f.a},
		{ref: "library/busybox", want: f.a},
		{ref: "docker.io/library/busybox:latest", want: f.a},
		{ref: "example.com/app:1", want: f.b},
		{ref: f.a, want: f.a},
		{ref: hex, want: f.a},
		{ref: hex[:12], want: f.a},
		{ref: "sha256:" + hex[:12], want: f.a},
		{ref: f.c, want: f.c},
		// Messages as dockerd 20.10 gives them for DELETE and history.
		{ref: "nosuch", class: errdefs.ErrNotFound, msg: "No such image: nosuch:latest"},
		{ref: "nosuch:v1", class: errdefs.ErrNotFound, msg: "No such image: nosuch:v1"},
		{ref: "example.com/app", class: errdefs.ErrNotFound, msg: "No such image: example.com/app:latest"},
		{ref: "sha256:0000", class: errdefs.ErrNotFound, msg: "No such image: sha256:0000"},
		{ref: a64, class: errdefs.ErrNotFound, msg: "No such image: sha256:" + a64},
		{ref: "sha256:" + a64, class: errdefs.ErrNotFound, msg: "No such image: sha256:" + a64},
		{ref: "foo@sha256:" + a64, class: errdefs.ErrNotFound, msg: "No such image: foo@sha256:" + a64},
		{ref: "", class: errdefs.ErrInvalidParameter, msg: "image name cannot be blank"},
		// dockerd 20.10 omits "(library/Foo)"; current Docker (same reference library) prints it.
		{ref: "Foo", class: errdefs.ErrInvalidParameter, msg: "invalid reference format: repository name (library/Foo) must be lowercase"},
		{ref: "busybox@sha256:zz", class: errdefs.ErrInvalidParameter, msg: "invalid reference format"},
	}
	for _, tc := range tests {
		t.Run(tc.ref, func(t *testing.T) {
			img, err := f.s.Get(tc.ref)
			checkErr(t, err, tc.class, tc.msg)
			if err == nil && img.ID != tc.want {
				t.Errorf("Get(%q) = %s, want %s", tc.ref, img.ID, tc.want)
			}
		})
	}
}

func TestTag(t *testing.T) {
	hex := strings.Repeat("ab", 32)
	tests := []struct {
		source, target string
		class          error
		msg            string
		resolves       string // the target's normalized form, on success
	}{
		{source: "busybox", target: "new", resolves: "new:latest"},
		{source: "busybox", target: "example.com/x/y:2", resolves: "example.com/x/y:2"},
		{source: "nosuch", target: "x", class: errdefs.ErrNotFound, msg: "No such image: nosuch:latest"},
		{source: "busybox", target: "Foo", class: errdefs.ErrInvalidParameter, msg: "invalid reference format: repository name (library/Foo) must be lowercase"},
		{source: "busybox", target: "foo bar", class: errdefs.ErrInvalidParameter, msg: "invalid reference format"},
		{source: "busybox", target: "foo@sha256:" + hex, class: errdefs.ErrInvalidParameter, msg: "refusing to create a tag with a digest reference"},
		{source: "busybox", target: "sha256:" + hex, class: errdefs.ErrInvalidParameter, msg: "refusing to create an ambiguous tag using digest algorithm as name"},
		{source: "busybox", target: hex, class: errdefs.ErrInvalidParameter, msg: "invalid repository name (" + hex + "), cannot specify 64-byte hexadecimal strings"},
	}
	for _, tc := range tests {
		t.Run(tc.target, func(t *testing.T) {
			f := newFixture(t)
			err := f.s.Tag(tc.source, tc.target)
			checkErr(t, err, tc.class, tc.msg)
			if err != nil {
				return
			}
			img, err := f.s.Get(tc.target)
			if err != nil || img.ID != f.a || !cmp.Equal(img.RepoTags, []string{"busybox:1", "busybox:latest", tc.resolves}) || img.LastTagTime.IsZero() {
				t.Errorf("after Tag: %+v, %v", img, err)
			}
		})
	}
}

func TestTag_MovesTag(t *testing.T) {
	f := newFixture(t)
	if err := f.s.Tag("example.com/app:1", "busybox:1"); err != nil {
		t.Fatal(err)
	}
	a, err := f.s.Get(f.a)
	if err != nil || !cmp.Equal(a.RepoTags, []string{"busybox:latest"}) {
		t.Fatalf("image a: %v, %v", a, err)
	}
}

func chain(ds ...string) string {
	c := ds[0]
	for _, d := range ds[1:] {
		c = fmt.Sprintf("sha256:%x", sha256.Sum256([]byte(c+" "+d)))
	}
	return c
}

func TestRemove(t *testing.T) {
	const cid = "38a90ff39cd3f3c2c4c348beb3410d3715cd8668563cd9af82dd864b5d769619"
	type tcase struct {
		name  string
		uses  func(f *fixture) map[string]Use
		ref   func(f *fixture) string
		force bool
		want  func(f *fixture) []image.DeleteResponse
		class error
		msg   func(f *fixture) string
		kept  []string // refs that must still resolve
	}
	stopped := func(id func(*fixture) string) func(f *fixture) map[string]Use {
		return func(f *fixture) map[string]Use { return map[string]Use{id(f): {ContainerID: cid}} }
	}
	running := func(id func(*fixture) string) func(f *fixture) map[string]Use {
		return func(f *fixture) map[string]Use { return map[string]Use{id(f): {ContainerID: cid, Running: true}} }
	}
	idB := func(f *fixture) string { return f.b }
	lit := func(s string) func(*fixture) string { return func(*fixture) string { return s } }
	tests := []tcase{
		{name: "no such image", ref: lit("nosuch"), class: errdefs.ErrNotFound, msg: lit("No such image: nosuch:latest")},
		{name: "no such tag", ref: lit("busybox:2"), class: errdefs.ErrNotFound, msg: lit("No such image: busybox:2")},
		{name: "bad name", ref: lit("Foo"), class: errdefs.ErrInvalidParameter, msg: lit("invalid reference format: repository name (library/Foo) must be lowercase")},
		{name: "untag one of two", ref: lit("busybox:1"),
			want: func(*fixture) []image.DeleteResponse { return []image.DeleteResponse{{Untagged: "busybox:1"}} }, kept: []string{"busybox:latest"}},
		{name: "ID of an image with two tags", ref: func(f *fixture) string { return shortID(f.a) }, class: errdefs.ErrConflict,
			msg: func(f *fixture) string {
				return "conflict: unable to delete " + shortID(f.a) + " (must be forced) - image is referenced in multiple repositories"
			}},
		{name: "forced ID of an image with two tags", ref: func(f *fixture) string { return shortID(f.a) }, force: true,
			want: func(f *fixture) []image.DeleteResponse {
				return []image.DeleteResponse{{Untagged: "busybox:1"}, {Untagged: "busybox:latest"}, {Deleted: f.a},
					{Deleted: chain(f.aDiffs...)}, {Deleted: f.aDiffs[0]}}
			}},
		{name: "last tag", ref: lit("example.com/app:1"),
			want: func(f *fixture) []image.DeleteResponse {
				return []image.DeleteResponse{{Untagged: "example.com/app:1"}, {Deleted: f.b}, {Deleted: f.bDiff}}
			}},
		{name: "last tag, stopped container", uses: stopped(idB), ref: lit("example.com/app:1"), class: errdefs.ErrConflict,
			msg: func(f *fixture) string {
				return `conflict: unable to remove repository reference "example.com/app:1" (must force) - container 38a90ff39cd3 is using its referenced image ` + shortID(f.b)
			}},
		{name: "ID, stopped container", uses: stopped(idB), ref: func(f *fixture) string { return shortID(f.b) }, class: errdefs.ErrConflict,
			msg: func(f *fixture) string {
				return "conflict: unable to delete " + shortID(f.b) + " (must be forced) - image is being used by stopped container 38a90ff39cd3"
			}},
		{name: "forced last tag, stopped container", uses: stopped(idB), ref: lit("example.com/app:1"), force: true,
			want: func(f *fixture) []image.DeleteResponse {
				return []image.DeleteResponse{{Untagged: "example.com/app:1"}, {Deleted: f.b}, {Deleted: f.bDiff}}
			}},
		{name: "forced last tag, running container keeps the image", uses: running(idB), ref: lit("example.com/app:1"), force: true,
			want: func(f *fixture) []image.DeleteResponse {
				return []image.DeleteResponse{{Untagged: "example.com/app:1"}}
			},
			kept: []string{"b"}},
		{name: "forced ID, running container", uses: running(idB), ref: func(f *fixture) string { return f.b }, force: true, class: errdefs.ErrConflict,
			msg: func(f *fixture) string {
				return "conflict: unable to delete " + shortID(f.b) + " (cannot be forced) - image is being used by running container 38a90ff39cd3"
			}},
		{name: "untagged image by ID", ref: func(f *fixture) string { return f.c },
			want: func(f *fixture) []image.DeleteResponse {
				img, err := f.s.Get(f.c)
				if err != nil {
					t.Fatal(err)
				}
				return []image.DeleteResponse{{Deleted: f.c}, {Deleted: img.Layers[0].DiffID}}
			}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t)
			if tc.uses != nil {
				f.uses = tc.uses(f)
			}
			var want []image.DeleteResponse
			if tc.want != nil {
				want = tc.want(f)
			}
			got, err := f.s.Remove(tc.ref(f), tc.force)
			if tc.class != nil {
				checkErr(t, err, tc.class, tc.msg(f))
				return
			}
			checkErr(t, err, nil, "")
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("Remove (-want +got):\n%s", diff)
			}
			for _, k := range tc.kept {
				if k == "b" {
					k = f.b
				}
				if _, err := f.s.Get(k); err != nil {
					t.Errorf("%s is gone: %v", k, err)
				}
			}
			for _, r := range want {
				if r.Deleted == f.a || r.Deleted == f.b {
					if _, err := f.s.Get(r.Deleted); !errdefs.IsNotFound(err) {
						t.Errorf("deleted image still resolves: %v", err)
					}
				}
			}
		})
	}
}

func TestPrune_DanglingOnly(t *testing.T) {
	f := newFixture(t)
	cImg, err := f.s.Get(f.c)
	if err != nil {
		t.Fatal(err)
	}
	f.uses = map[string]Use{f.c: {ContainerID: "c1"}}
	report, err := f.s.Prune(context.Background())
	if err != nil || len(report.ImagesDeleted) != 0 {
		t.Fatalf("Prune with the dangling image in use: %+v, %v", report, err)
	}
	f.uses = map[string]Use{}
	report, err = f.s.Prune(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	want := image.PruneReport{
		ImagesDeleted:  []image.DeleteResponse{{Deleted: f.c}, {Deleted: cImg.Layers[0].DiffID}},
		SpaceReclaimed: uint64(cImg.Size),
	}
	if diff := cmp.Diff(want, report); diff != "" {
		t.Errorf("Prune (-want +got):\n%s", diff)
	}
	if n := len(f.s.List()); n != 2 {
		t.Errorf("%d images left, want 2", n)
	}
	if f.s.hasLayer(cImg.Layers[0].DiffID) {
		t.Error("pruned layer still stored")
	}
}

func TestHistoryAndInspect(t *testing.T) {
	f := newFixture(t)
	img, err := f.s.Get("busybox")
	if err != nil {
		t.Fatal(err)
	}
	hist, err := f.s.History("busybox")
	if err != nil {
		t.Fatal(err)
	}
	if len(hist) != len(img.Config.History) || len(hist) == 0 {
		t.Fatalf("history has %d entries, config %d", len(hist), len(img.Config.History))
	}
	if hist[0].ID != f.a || !cmp.Equal(hist[0].Tags, []string{"busybox:1", "busybox:latest"}) {
		t.Errorf("newest entry %+v", hist[0])
	}
	var sum int64
	for _, h := range hist[1:] {
		if h.ID != "<missing>" {
			t.Errorf("older entry ID %q", h.ID)
		}
	}
	for _, h := range hist {
		sum += h.Size
	}
	if sum != img.Size {
		t.Errorf("history sizes sum to %d, image size %d", sum, img.Size)
	}
	in, err := f.s.Inspect("busybox:1")
	if err != nil {
		t.Fatal(err)
	}
	if in.ID != f.a || in.Os != "linux" || in.Architecture != "amd64" || in.RootFS.Type != "layers" ||
		!cmp.Equal(in.RootFS.Layers, f.aDiffs) || in.Size != img.Size || in.Config == nil {
		t.Errorf("Inspect = %+v", in)
	}
	sum2 := img.Summary()
	if sum2.ID != f.a || sum2.Size != img.Size || sum2.Containers != -1 || !cmp.Equal(sum2.RepoTags, in.RepoTags) {
		t.Errorf("Summary = %+v", sum2)
	}
	if _, err := f.s.History("nosuch"); err == nil || err.Error() != "No such image: nosuch:latest" {
		t.Errorf("History(nosuch) = %v", err)
	}
}
