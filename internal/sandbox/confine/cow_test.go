package confine

import (
	"os"
	"path/filepath"
	"testing"
	"time"
)

// TestSharedFilesAreCopiedBeforeChange hard-links a "template" file into a
// root, then changes it through the FS in every way: the template keeps its
// content, mode and times; files of mounts are never copied.
func TestSharedFilesAreCopiedBeforeChange(t *testing.T) {
	base := t.TempDir()
	tmpl := filepath.Join(base, "template")
	root := filepath.Join(base, "root")
	vol := filepath.Join(base, "vol")
	for _, d := range []string{tmpl, filepath.Join(root, "etc"), vol} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	old := time.Unix(1_000_000, 0)
	for _, name := range []string{"a", "b", "c", "d"} {
		src := filepath.Join(tmpl, name)
		if err := os.WriteFile(src, []byte("template "+name), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.Chtimes(src, old, old); err != nil {
			t.Fatal(err)
		}
		if err := os.Link(src, filepath.Join(root, "etc", name)); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Symlink("/etc/d", filepath.Join(root, "link-to-d")); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(vol, "v"), []byte("volume"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Link(filepath.Join(vol, "v"), filepath.Join(vol, "v2")); err != nil {
		t.Fatal(err)
	}
	f, err := New(root, []Mount{{Target: "/data", Source: vol}})
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()

	if err := f.WriteFile("/etc/a", []byte("changed"), 0o644); err != nil {
		t.Fatal(err)
	}
	af, err := f.OpenFile("/etc/b", os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := af.WriteString(" appended"); err != nil {
		t.Fatal(err)
	}
	if err := af.Close(); err != nil {
		t.Fatal(err)
	}
	if err := f.Chmod("/etc/c", 0o755); err != nil {
		t.Fatal(err)
	}
	if err := f.WriteFile("/link-to-d", []byte("through a symlink"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := f.WriteFile("/data/v", []byte("volume changed"), 0o644); err != nil {
		t.Fatal(err)
	}

	for name, want := range map[string]string{"a": "changed", "b": "template b appended", "c": "template c", "d": "through a symlink"} {
		got, err := f.ReadFile("/etc/" + name)
		if err != nil || string(got) != want {
			t.Errorf("container /etc/%s: %q %v, want %q", name, got, err, want)
		}
		orig, err := os.ReadFile(filepath.Join(tmpl, name))
		if err != nil || string(orig) != "template "+name {
			t.Errorf("template %s changed: %q %v", name, orig, err)
		}
		fi, err := os.Stat(filepath.Join(tmpl, name))
		if err != nil || fi.Mode().Perm() != 0o644 || !fi.ModTime().Equal(old) {
			t.Errorf("template %s metadata changed: %v %v", name, fi.Mode(), fi.ModTime())
		}
	}
	if fi, err := f.Stat("/etc/c"); err != nil || fi.Mode().Perm() != 0o755 {
		t.Errorf("chmod in the container: %v %v", fi.Mode(), err)
	}
	if b, err := os.ReadFile(filepath.Join(vol, "v2")); err != nil || string(b) != "volume changed" {
		t.Errorf("a volume's hard links must stay shared: %q %v", b, err)
	}
}
