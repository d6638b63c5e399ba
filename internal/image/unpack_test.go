package image

import (
	"archive/tar"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"sort"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/opencontainers/go-digest"

	"github.com/sockerless/sockerless/internal/sandbox/confine"
)

var _ Extractor = (*confine.FS)(nil)

// storeLayers commits an image made of these plain layer tars, by hand
// through the store's own write path.
func storeLayers(t *testing.T, s *Store, tag string, layers ...[]byte) string {
	t.Helper()
	cfg := map[string]any{"architecture": "amd64", "os": "linux", "rootfs": map[string]any{"type": "layers", "diff_ids": []string{}}}
	var diffs []string
	for _, l := range layers {
		diffs = append(diffs, digest.FromBytes(l).String())
	}
	cfg["rootfs"] = map[string]any{"type": "layers", "diff_ids": diffs}
	raw, err := json.Marshal(cfg)
	if err != nil {
		t.Fatal(err)
	}
	c := candidate{config: raw}
	for _, l := range layers {
		c.layers = append(c.layers, layerSource{open: func() (io.Reader, error) { return bytes.NewReader(l), nil }})
	}
	named, err := parseTag(tag)
	if err != nil {
		t.Fatal(err)
	}
	c.tags = append(c.tags, named)
	rec, err := s.store(context.Background(), c)
	if err != nil {
		t.Fatalf("store: %v", err)
	}
	return rec.id
}

// tree lists a host folder: path → "dir", "link:<target>" or the content.
func tree(t *testing.T, root string) map[string]string {
	t.Helper()
	out := map[string]string{}
	err := filepath.Walk(root, func(p string, fi os.FileInfo, err error) error {
		if err != nil || p == root {
			return err
		}
		rel, err := filepath.Rel(root, p)
		if err != nil {
			return err
		}
		switch {
		case fi.Mode()&os.ModeSymlink != 0:
			target, err := os.Readlink(p)
			if err != nil {
				return err
			}
			out[rel] = "link:" + target
		case fi.IsDir():
			out[rel] = "dir"
		default:
			data, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			out[rel] = string(data)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestUnpack_AppliesLayersAndWhiteouts(t *testing.T) {
	if err := confine.Check(); err != nil {
		t.Skipf("confine unavailable here: %v", err)
	}
	s := openStore(t, "")
	lower := makeTar(t,
		tarEntry{name: "etc/", typ: tar.TypeDir},
		tarEntry{name: "etc/keep", body: "keep"},
		tarEntry{name: "etc/gone", body: "gone"},
		tarEntry{name: "opaque/", typ: tar.TypeDir},
		tarEntry{name: "opaque/old1", body: "1"},
		tarEntry{name: "opaque/sub/", typ: tar.TypeDir},
		tarEntry{name: "opaque/sub/old2", body: "2"},
		tarEntry{name: "was-dir/", typ: tar.TypeDir},
		tarEntry{name: "was-dir/child", body: "c"},
		tarEntry{name: "was-file", body: "f"},
		tarEntry{name: "bin/", typ: tar.TypeDir},
		tarEntry{name: "bin/sh", typ: tar.TypeSymlink, link: "busybox"},
	)
	upper := makeTar(t,
		tarEntry{name: "etc/", typ: tar.TypeDir},
		tarEntry{name: "etc/.wh.gone"},
		tarEntry{name: "etc/keep", body: "changed"},
		tarEntry{name: "opaque/", typ: tar.TypeDir},
		tarEntry{name: "opaque/.wh..wh..opq"},
		tarEntry{name: "opaque/new", body: "n"},
		tarEntry{name: "was-dir", body: "now a file"},
		tarEntry{name: "was-file/", typ: tar.TypeDir},
		tarEntry{name: "was-file/inside", body: "i"},
		tarEntry{name: "bin/.wh.sh"},
	)
	id := storeLayers(t, s, "layered:1", lower, upper)

	root := t.TempDir()
	fsys, err := confine.New(root, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := fsys.Close(); err != nil {
			t.Error(err)
		}
	})
	if err := s.Unpack(context.Background(), id, fsys); err != nil {
		t.Fatalf("Unpack: %v", err)
	}
	want := map[string]string{
		"etc": "dir", "etc/keep": "changed",
		"opaque": "dir", "opaque/new": "n",
		"was-dir":  "now a file",
		"was-file": "dir", "was-file/inside": "i",
		"bin": "dir",
	}
	if diff := cmp.Diff(want, tree(t, root)); diff != "" {
		t.Errorf("container root (-want +got):\n%s", diff)
	}
}

func TestUnpack_BaseImage(t *testing.T) {
	if err := confine.Check(); err != nil {
		t.Skipf("confine unavailable here: %v", err)
	}
	s := openStore(t, "")
	img, err := s.EnsureBase(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	root := t.TempDir()
	fsys, err := confine.New(root, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := fsys.Close(); err != nil {
			t.Error(err)
		}
	})
	if err := s.Unpack(context.Background(), BaseImage, fsys); err != nil {
		t.Fatalf("Unpack: %v", err)
	}
	got := tree(t, root)
	if got["bin/sh"] != "link:busybox" || got["etc/passwd"] != "root:x:0:0:root:/root:/bin/sh\n" {
		t.Errorf("base root: bin/sh=%q etc/passwd=%q", got["bin/sh"], got["etc/passwd"])
	}
	var dirs []string
	for p, v := range got {
		if v == "dir" {
			dirs = append(dirs, p)
		}
	}
	sort.Strings(dirs)
	if diff := cmp.Diff([]string{"bin", "etc", "root", "tmp", "usr", "usr/bin", "usr/local", "usr/local/bin"}, dirs); diff != "" {
		t.Errorf("folders (-want +got):\n%s", diff)
	}
	if _, err := s.Get(img.ID); err != nil {
		t.Fatal(err)
	}
	if err := s.Unpack(context.Background(), "nosuch", fsys); err == nil || err.Error() != "No such image: nosuch:latest" {
		t.Errorf("Unpack(nosuch) = %v", err)
	}
}
