package engine_test

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"io"
	"testing"

	"github.com/klauspost/compress/zstd"

	"github.com/sockerless/sockerless/internal/errdefs"
)

func tarOf(t *testing.T, name, content string) []byte {
	t.Helper()
	var b bytes.Buffer
	tw := tar.NewWriter(&b)
	if err := tw.WriteHeader(&tar.Header{Name: name, Mode: 0o644, Size: int64(len(content))}); err != nil {
		t.Fatal(err)
	}
	if _, err := io.WriteString(tw, content); err != nil {
		t.Fatal(err)
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func compress(t *testing.T, raw []byte, newWriter func(io.Writer) (io.WriteCloser, error)) []byte {
	t.Helper()
	var b bytes.Buffer
	w, err := newWriter(&b)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Write(raw); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// readBack returns the content of the one file in the archive of path.
func readBack(t *testing.T, v *env, id, path string) string {
	t.Helper()
	var b bytes.Buffer
	if _, err := v.e.ContainerArchivePath(context.Background(), id, path, &b); err != nil {
		t.Fatal(err)
	}
	tr := tar.NewReader(&b)
	if _, err := tr.Next(); err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(tr)
	if err != nil {
		t.Fatal(err)
	}
	return string(got)
}

// PUT archive takes compressed tars, as dockerd does (testcontainers-go
// sends gzip).
func TestExtractCompressedArchives(t *testing.T) {
	v := newEnv(t)
	id := v.create("archives", nil, nil)
	ctx := context.Background()
	for name, body := range map[string][]byte{
		"plain": tarOf(t, "plain.txt", "plain\n"),
		"gzip": compress(t, tarOf(t, "gzip.txt", "gzip\n"), func(w io.Writer) (io.WriteCloser, error) {
			return gzip.NewWriter(w), nil
		}),
		"zstd": compress(t, tarOf(t, "zstd.txt", "zstd\n"), func(w io.Writer) (io.WriteCloser, error) {
			return zstd.NewWriter(w)
		}),
	} {
		if err := v.e.ContainerExtractToDir(ctx, id, "/tmp", false, bytes.NewReader(body)); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if got := readBack(t, v, id, "/tmp/"+name+".txt"); got != name+"\n" {
			t.Errorf("%s: extracted %q", name, got)
		}
	}
	xz := []byte{0xfd, '7', 'z', 'X', 'Z', 0x00, 0, 0}
	if err := v.e.ContainerExtractToDir(ctx, id, "/tmp", false, bytes.NewReader(xz)); !errdefs.IsNotImplemented(err) {
		t.Errorf("xz: %v, want NotImplemented", err)
	}
	bad := []byte{0x1f, 0x8b, 0x08, 0, 0}
	if err := v.e.ContainerExtractToDir(ctx, id, "/tmp", false, bytes.NewReader(bad)); err == nil {
		t.Error("a truncated gzip stream was accepted")
	}
}
