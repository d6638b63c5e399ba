package confine

import (
	"archive/tar"
	"bytes"
	"io/fs"
	"os"
	"path/filepath"
	"testing"
)

// TestExtractTarKeepsModes: entries get their own mode bits, whatever the
// umask, including the sticky bit of a /tmp and the setuid bit of a file.
func TestExtractTarKeepsModes(t *testing.T) {
	fsys, base := newFS(t)
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	entries := []tar.Header{
		{Name: "tmp/", Typeflag: tar.TypeDir, Mode: 0o1777},
		{Name: "bin/", Typeflag: tar.TypeDir, Mode: 0o777},
		{Name: "bin/su", Typeflag: tar.TypeReg, Mode: 0o4755},
		{Name: "bin/tool", Typeflag: tar.TypeReg, Mode: 0o777},
	}
	for _, h := range entries {
		if err := tw.WriteHeader(&h); err != nil {
			t.Fatal(err)
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := fsys.ExtractTar("/", &buf); err != nil {
		t.Fatal(err)
	}
	want := map[string]fs.FileMode{
		"tmp":      fs.ModeDir | fs.ModeSticky | 0o777,
		"bin":      fs.ModeDir | 0o777,
		"bin/su":   fs.ModeSetuid | 0o755,
		"bin/tool": 0o777,
	}
	for name, mode := range want {
		fi, err := os.Lstat(filepath.Join(base, "root", name))
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode() != mode {
			t.Errorf("%s: mode %v, want %v", name, fi.Mode(), mode)
		}
	}
}
