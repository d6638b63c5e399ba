package image

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"

	"github.com/sockerless/sockerless/internal/errdefs"
)

func TestLoad(t *testing.T) {
	a := randomImage(t, 2, "linux", "amd64")
	b := randomImage(t, 1, "linux", "amd64")
	arm := randomImage(t, 1, "linux", "arm64")
	multi := mutate.AppendManifests(empty.Index,
		mutate.IndexAddendum{Add: arm, Descriptor: v1.Descriptor{Platform: &v1.Platform{OS: "linux", Architecture: "arm64"}}},
		mutate.IndexAddendum{Add: a, Descriptor: v1.Descriptor{Platform: &v1.Platform{OS: "linux", Architecture: "amd64"}}},
	)
	bDigest, err := b.Digest()
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		archive []byte
		want    []string
		tags    map[string]v1.Image // ref → image it must resolve to
	}{
		{
			name:    "docker save, one tag",
			archive: dockerSave(t, map[string]v1.Image{"example.com/app:1": a}),
			want:    []string{"example.com/app:1"},
			tags:    map[string]v1.Image{"example.com/app:1": a},
		},
		{
			name:    "docker save, two tags of one image",
			archive: dockerSave(t, map[string]v1.Image{"busybox:x": a, "busybox:y": a}),
			want:    []string{"busybox:x", "busybox:y"},
			tags:    map[string]v1.Image{"busybox:x": a, "docker.io/library/busybox:y": a},
		},
		{
			name:    "docker save, untagged image",
			archive: dockerSave(t, map[string]v1.Image{"example.com/b@" + bDigest.String(): b}),
			want:    []string{imageID(t, b)},
		},
		{
			name:    "oci layout, containerd name",
			archive: ociLayout(t, layoutItem{image: a, annotations: map[string]string{annotationContainerdName: "docker.io/library/app:oci", annotationRefName: "oci"}}),
			want:    []string{"app:oci"},
			tags:    map[string]v1.Image{"app:oci": a},
		},
		{
			name:    "oci layout, full ref.name",
			archive: ociLayout(t, layoutItem{image: b, annotations: map[string]string{annotationRefName: "example.com/b:2"}}),
			want:    []string{"example.com/b:2"},
			tags:    map[string]v1.Image{"example.com/b:2": b},
		},
		{
			name:    "oci layout, bare tag names no repository",
			archive: ociLayout(t, layoutItem{image: b, annotations: map[string]string{annotationRefName: "latest"}}),
			want:    []string{imageID(t, b)},
		},
		{
			name:    "oci layout, multi-platform index picks linux/amd64",
			archive: ociLayout(t, layoutItem{index: multi, annotations: map[string]string{annotationRefName: "example.com/multi:1"}}),
			want:    []string{"example.com/multi:1"},
			tags:    map[string]v1.Image{"example.com/multi:1": a},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := openStore(t, "")
			got := load(t, s, tc.archive)
			// tarball.MultiRefWrite orders a manifest's tags at random.
			if diff := cmp.Diff(tc.want, got, cmpopts.SortSlices(strings.Compare)); diff != "" {
				t.Errorf("loaded names (-want +got):\n%s", diff)
			}
			for ref, img := range tc.tags {
				checkStored(t, s, ref, img)
			}
		})
	}
}

// checkStored checks that ref resolves to img with its config and layer
// bytes as stored.
func checkStored(t *testing.T, s *Store, ref string, img v1.Image) {
	t.Helper()
	got, err := s.Get(ref)
	if err != nil {
		t.Fatalf("Get(%q): %v", ref, err)
	}
	if want := imageID(t, img); got.ID != want {
		t.Fatalf("Get(%q).ID = %s, want %s", ref, got.ID, want)
	}
	raw, err := img.RawConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	stored, err := os.ReadFile(s.blobPathID(got.ID))
	if err != nil || !bytes.Equal(stored, raw) {
		t.Errorf("stored config differs from the image's (err %v)", err)
	}
	for i, want := range layerBytes(t, img) {
		data, err := os.ReadFile(s.layerPathID(got.Layers[i].DiffID))
		if err != nil || !bytes.Equal(data, want) {
			t.Errorf("layer %d: stored bytes differ from the uncompressed layer (err %v)", i, err)
		}
		if size := tarDiffSize(t, want); got.Layers[i].Size != size {
			t.Errorf("layer %d: size %d, want %d", i, got.Layers[i].Size, size)
		}
	}
}

// rewriteTar returns the archive with entries changed by edit (which may
// return false to drop one).
func rewriteTar(t *testing.T, archive []byte, edit func(name string, body []byte) ([]byte, bool)) []byte {
	t.Helper()
	entries := readTar(t, archive)
	var out []tarEntry
	for _, e := range entries {
		body, keep := edit(e.name, []byte(e.body))
		if keep {
			e.body = string(body)
			out = append(out, e)
		}
	}
	return makeTar(t, out...)
}

func TestLoad_HostileInput(t *testing.T) {
	img := randomImage(t, 2, "linux", "amd64")
	good := dockerSave(t, map[string]v1.Image{"hostile:1": img})
	var manifest []struct {
		Config string
		Layers []string
	}
	for _, e := range readTar(t, good) {
		if e.name == "manifest.json" {
			if err := json.Unmarshal([]byte(e.body), &manifest); err != nil {
				t.Fatal(err)
			}
		}
	}
	layer0 := manifest[0].Layers[0]
	tests := []struct {
		name    string
		archive []byte
		class   error
		msg     string // substring of the error
	}{
		{"not a tar", []byte("this is not a tar archive"), errdefs.ErrInvalidParameter, "invalid archive: unexpected EOF"},
		{"empty", nil, errdefs.ErrInvalidParameter, "invalid archive: empty tar stream"},
		{"no manifest", makeTar(t, tarEntry{name: "hello", body: "hi"}), errdefs.ErrInvalidParameter, "neither manifest.json nor index.json found"},
		{"pre-1.10 archive", makeTar(t, tarEntry{name: "repositories", body: "{}"}), errdefs.ErrNotImplemented, "pre-1.10"},
		{"manifest is not JSON", makeTar(t, tarEntry{name: "manifest.json", body: "{"}), errdefs.ErrInvalidParameter, "manifest.json"},
		{"manifest lists nothing", makeTar(t, tarEntry{name: "manifest.json", body: "[]"}), errdefs.ErrInvalidParameter, "lists no image"},
		{"missing layer", rewriteTar(t, good, func(n string, b []byte) ([]byte, bool) { return b, n != layer0 }), errdefs.ErrInvalidParameter, "no such file in archive"},
		{"missing config", rewriteTar(t, good, func(n string, b []byte) ([]byte, bool) { return b, n != manifest[0].Config }), errdefs.ErrInvalidParameter, "no such file in archive"},
		{"layer does not match diff ID", rewriteTar(t, good, func(n string, b []byte) ([]byte, bool) {
			if n == layer0 {
				b = append([]byte(nil), b...)
				b[len(b)/2] ^= 0xff
			}
			return b, true
		}), errdefs.ErrInvalidParameter, "layer 0"},
		{"layer replaced by another tar", rewriteTar(t, good, func(n string, b []byte) ([]byte, bool) {
			if n == layer0 {
				b = makeTar(t, tarEntry{name: "other", body: "x"})
			}
			return b, true
		}), errdefs.ErrInvalidParameter, `invalid diffID for layer 0: expected "sha256:`},
		{"escaping names and a link loop", makeTar(t,
			tarEntry{name: "../../manifest.json", body: `[{"Config":"c.json","RepoTags":["x:1"],"Layers":["/../../l.tar"]}]`},
			tarEntry{name: "c.json", typ: '2', link: "d.json"},
			tarEntry{name: "d.json", typ: '2', link: "c.json"},
		), errdefs.ErrInvalidParameter, "too many levels of links"},
		{"bad tag", rewriteTar(t, good, func(n string, b []byte) ([]byte, bool) {
			if n == "manifest.json" {
				b = bytes.ReplaceAll(b, []byte("hostile:1"), []byte("Hostile:1"))
			}
			return b, true
		}), errdefs.ErrInvalidParameter, "must be lowercase"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			s := openStore(t, filepath.Join(dir, "store"))
			_, err := s.Load(context.Background(), bytes.NewReader(tc.archive))
			if err == nil || !errorsIs(err, tc.class) || !strings.Contains(err.Error(), tc.msg) {
				t.Fatalf("Load: %v; want class %v and message containing %q", err, tc.class, tc.msg)
			}
			if n := len(s.List()); n != 0 {
				t.Errorf("%d images stored after a failed load", n)
			}
			// Nothing lands outside the store, and nothing stays in tmp/.
			ents, err := os.ReadDir(dir)
			if err != nil || len(ents) != 1 {
				t.Errorf("folder holding the store has %v (err %v), want only the store", ents, err)
			}
			if ents, err := os.ReadDir(s.path("tmp")); err != nil || len(ents) != 0 {
				t.Errorf("tmp/ holds %v (err %v)", ents, err)
			}
		})
	}
}

func TestLoad_VerifiesOCIBlobDigests(t *testing.T) {
	img := randomImage(t, 1, "linux", "amd64")
	good := ociLayout(t, layoutItem{image: img, annotations: map[string]string{annotationRefName: "example.com/x:1"}})
	layers, err := img.Layers()
	if err != nil {
		t.Fatal(err)
	}
	d, err := layers[0].Digest()
	if err != nil {
		t.Fatal(err)
	}
	bad := rewriteTar(t, good, func(n string, b []byte) ([]byte, bool) {
		if n == "blobs/sha256/"+d.Hex {
			b = append([]byte(nil), b...)
			b[len(b)-1] ^= 0xff
		}
		return b, true
	})
	s := openStore(t, "")
	_, err = s.Load(context.Background(), bytes.NewReader(bad))
	if !errdefs.IsInvalidParameter(err) || !strings.Contains(err.Error(), "layer 0") {
		t.Fatalf("Load of a tampered blob: %v, want InvalidParameter about layer 0", err)
	}
}
