package image

import (
	"archive/tar"
	"bytes"
	"context"
	"errors"
	"io"
	"io/fs"
	"log"
	"log/slog"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/registry"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
)

func testLogger(t testing.TB) *slog.Logger {
	return slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelDebug}))
}

// openStore opens a store in dir (a new temporary folder when empty).
func openStore(t testing.TB, dir string) *Store {
	t.Helper()
	if dir == "" {
		dir = t.TempDir()
	}
	s, err := Open(dir, testLogger(t))
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	return s
}

// randomImage is a random image with layers of gzip-compressed random tars,
// for the given platform ("" keeps random's defaults).
func randomImage(t testing.TB, layers int64, os_, arch string) v1.Image {
	t.Helper()
	img, err := random.Image(1024, layers)
	if err != nil {
		t.Fatal(err)
	}
	if os_ != "" {
		cf, err := img.ConfigFile()
		if err != nil {
			t.Fatal(err)
		}
		cf = cf.DeepCopy()
		cf.OS, cf.Architecture = os_, arch
		if img, err = mutate.ConfigFile(img, cf); err != nil {
			t.Fatal(err)
		}
	}
	return img
}

// imageID is the ID Docker gives img: the sha256 of its config.
func imageID(t testing.TB, img v1.Image) string {
	t.Helper()
	h, err := img.ConfigName()
	if err != nil {
		t.Fatal(err)
	}
	return h.String()
}

// dockerSave is what `docker save` writes for these references (a
// name.Digest reference gives an untagged entry).
func dockerSave(t testing.TB, refs map[string]v1.Image) []byte {
	t.Helper()
	m := map[name.Reference]v1.Image{}
	for r, img := range refs {
		ref, err := name.ParseReference(r)
		if err != nil {
			t.Fatal(err)
		}
		m[ref] = img
	}
	var buf bytes.Buffer
	if err := tarball.MultiRefWrite(m, &buf); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// ociLayout is an OCI image layout holding img with the given descriptor
// annotations, as a tarball.
func ociLayout(t testing.TB, items ...layoutItem) []byte {
	t.Helper()
	dir := t.TempDir()
	p, err := layout.Write(dir, empty.Index)
	if err != nil {
		t.Fatal(err)
	}
	for _, it := range items {
		opts := []layout.Option{layout.WithAnnotations(it.annotations)}
		if it.index != nil {
			err = p.AppendIndex(it.index, opts...)
		} else {
			err = p.AppendImage(it.image, opts...)
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	return tarDir(t, dir)
}

type layoutItem struct {
	image       v1.Image
	index       v1.ImageIndex
	annotations map[string]string
}

// tarDir tars a folder, names relative to it.
func tarDir(t testing.TB, dir string) []byte {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || p == dir {
			return err
		}
		rel, err := filepath.Rel(dir, p)
		if err != nil {
			return err
		}
		fi, err := d.Info()
		if err != nil {
			return err
		}
		hdr, err := tar.FileInfoHeader(fi, "")
		if err != nil {
			return err
		}
		hdr.Name = filepath.ToSlash(rel)
		if err := tw.WriteHeader(hdr); err != nil {
			return err
		}
		if d.Type().IsRegular() {
			data, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			_, err = tw.Write(data)
			return err
		}
		return nil
	})
	if err == nil {
		err = tw.Close()
	}
	if err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// tarEntry describes one entry of a tar built by makeTar.
type tarEntry struct {
	name, body, link string
	typ              byte
	mode             int64
}

func makeTar(t testing.TB, entries ...tarEntry) []byte {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, e := range entries {
		typ, mode := e.typ, e.mode
		if typ == 0 {
			typ = tar.TypeReg
		}
		if mode == 0 {
			mode = 0o644
			if typ == tar.TypeDir {
				mode = 0o755
			}
		}
		hdr := &tar.Header{Name: e.name, Typeflag: typ, Mode: mode, Linkname: e.link, Size: int64(len(e.body))}
		if typ != tar.TypeReg {
			hdr.Size = 0
		}
		if err := tw.WriteHeader(hdr); err != nil {
			t.Fatal(err)
		}
		if _, err := io.WriteString(tw, e.body); err != nil && typ == tar.TypeReg {
			t.Fatal(err)
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// serveRegistry serves an in-memory registry on 127.0.0.1 and returns its
// host:port.
func serveRegistry(t testing.TB) (string, *httptest.Server) {
	t.Helper()
	srv := httptest.NewServer(registry.New(registry.Logger(log.New(io.Discard, "", 0))))
	t.Cleanup(srv.Close)
	return strings.TrimPrefix(srv.URL, "http://"), srv
}

// load loads an archive and fails the test on error.
func load(t testing.TB, s *Store, data []byte) []string {
	t.Helper()
	names, err := s.Load(context.Background(), bytes.NewReader(data))
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	return names
}

// layerBytes returns the uncompressed tar of each layer of img.
func layerBytes(t testing.TB, img v1.Image) [][]byte {
	t.Helper()
	layers, err := img.Layers()
	if err != nil {
		t.Fatal(err)
	}
	var out [][]byte
	for _, l := range layers {
		rc, err := l.Uncompressed()
		if err != nil {
			t.Fatal(err)
		}
		data, err := io.ReadAll(rc)
		if cerr := rc.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, data)
	}
	return out
}

// readTar lists a tar's entries.
func readTar(t testing.TB, data []byte) []tarEntry {
	t.Helper()
	var out []tarEntry
	tr := tar.NewReader(bytes.NewReader(data))
	for {
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		body, err := io.ReadAll(tr)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, tarEntry{name: hdr.Name, body: string(body), link: hdr.Linkname, typ: hdr.Typeflag, mode: hdr.Mode})
	}
}

func errorsIs(err, target error) bool { return errors.Is(err, target) }

// tarDiffSize is Docker's size of a layer: regular file bytes plus symlink
// target lengths.
func tarDiffSize(t testing.TB, data []byte) int64 {
	t.Helper()
	var n int64
	for _, e := range readTar(t, data) {
		switch e.typ {
		case tar.TypeReg:
			n += int64(len(e.body))
		case tar.TypeSymlink:
			n += int64(len(e.link))
		}
	}
	return n
}
