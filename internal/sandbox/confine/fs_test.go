package confine

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"golang.org/x/sys/unix"
)

// tree makes a host folder layout: name → content, "->target" for a symlink,
// a trailing "/" for a folder.
func tree(t *testing.T, base string, files map[string]string) {
	t.Helper()
	for name, content := range files {
		p := filepath.Join(base, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		switch {
		case len(content) > 2 && content[:2] == "->":
			if err := os.Symlink(content[2:], p); err != nil {
				t.Fatal(err)
			}
		case name[len(name)-1] == '/':
			if err := os.MkdirAll(p, 0o755); err != nil {
				t.Fatal(err)
			}
		default:
			if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
}

func newFS(t *testing.T, mounts ...Mount) (*FS, string) {
	t.Helper()
	base := t.TempDir()
	root := filepath.Join(base, "root")
	tree(t, base, map[string]string{
		"host-secret":         "host",
		"root/etc/passwd":     "container passwd",
		"root/etc/abs":        "->/etc/passwd",
		"root/etc/rel":        "->../../../../../host-secret",
		"root/etc/loop":       "->/etc/loop",
		"root/bin/sh":         "shell",
		"root/usr/bin/":       "",
		"root/lib":            "->usr/lib",
		"root/usr/lib/x.so":   "lib",
		"root/into-vol":       "->/vol/data.txt",
		"root/into-vol-dir":   "->/vol",
		"volume/data.txt":     "volume data",
		"volume/etc/passwd":   "volume passwd",
		"volume/abs":          "->/etc/passwd",
		"volume/up":           "->../host-secret",
		"volume/sub/deep.txt": "deep",
		"readonly/ro.txt":     "ro",
	})
	for i := range mounts {
		mounts[i].Source = filepath.Join(base, mounts[i].Source)
	}
	f, err := New(root, mounts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := f.Close(); err != nil {
			t.Error(err)
		}
	})
	return f, base
}

func TestReadResolvesInsideRoot(t *testing.T) {
	for _, withMounts := range []bool{false, true} {
		var mounts []Mount
		if withMounts {
			mounts = []Mount{{Target: "/vol", Source: "volume"}, {Target: "/ro", Source: "readonly", ReadOnly: true}}
		}
		f, _ := newFS(t, mounts...)
		cases := []struct {
			path, want string
			err        error
		}{
			{"/etc/passwd", "container passwd", nil},
			{"/etc/abs", "container passwd", nil},
			{"/etc/rel", "", unix.ENOENT},
			{"/../../../../host-secret", "", unix.ENOENT},
			{"/etc/../../../host-secret", "", unix.ENOENT},
			{"/lib/x.so", "lib", nil},
			{"/etc/loop", "", unix.ELOOP},
		}
		if withMounts {
			cases = append(cases, []struct {
				path, want string
				err        error
			}{
				{"/vol/data.txt", "volume data", nil},
				{"/vol/abs", "container passwd", nil}, // absolute links start at the container root, as in a mount namespace
				{"/vol/up", "", unix.ENOENT},
				{"/vol/../etc/passwd", "container passwd", nil},
				{"/into-vol", "volume data", nil}, // a root link into a volume lands in it
				{"/into-vol-dir/sub/deep.txt", "deep", nil},
				{"/ro/ro.txt", "ro", nil},
			}...)
		}
		for _, tc := range cases {
			b, err := f.ReadFile(tc.path)
			if tc.err != nil {
				if !errors.Is(err, tc.err) {
					t.Errorf("mounts=%v %s: err %v, want %v", withMounts, tc.path, err, tc.err)
				}
				continue
			}
			if err != nil || string(b) != tc.want {
				t.Errorf("mounts=%v %s: %q %v, want %q", withMounts, tc.path, b, err, tc.want)
			}
		}
	}
}

func TestWritesStayInsideAndRespectMounts(t *testing.T) {
	f, base := newFS(t, Mount{Target: "/vol", Source: "volume"}, Mount{Target: "/ro", Source: "readonly", ReadOnly: true})
	if err := f.WriteFile("/etc/rel", []byte("x"), 0o644); err != nil {
		t.Fatalf("write through a dangling link: %v", err)
	}
	if b, _ := os.ReadFile(filepath.Join(base, "host-secret")); string(b) != "host" {
		t.Fatalf("host file changed: %q", b)
	}
	if err := f.WriteFile("/ro/new", []byte("x"), 0o644); !errors.Is(err, unix.EROFS) {
		t.Errorf("write to a read-only mount: %v", err)
	}
	if err := f.Remove("/ro/ro.txt"); !errors.Is(err, unix.EROFS) {
		t.Errorf("remove on a read-only mount: %v", err)
	}
	if err := f.Rename("/vol/data.txt", "/etc/data.txt"); !errors.Is(err, unix.EXDEV) {
		t.Errorf("rename across mounts: %v", err)
	}
	if err := f.Remove("/vol"); !errors.Is(err, unix.EBUSY) {
		t.Errorf("remove a mount point: %v", err)
	}
	if err := f.MkdirAll("/vol/a/b/", 0o755); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(base, "volume", "a", "b")); err != nil {
		t.Errorf("mkdir in a volume did not reach the volume: %v", err)
	}
	if _, err := os.Stat(filepath.Join(base, "root", "vol")); err != nil {
		t.Errorf("mount point not created in the root: %v", err)
	}
}

func TestRealpath(t *testing.T) {
	f, _ := newFS(t, Mount{Target: "/vol", Source: "volume"})
	for in, want := range map[string]string{
		"/lib/x.so":           "/usr/lib/x.so",
		"/into-vol-dir/sub/":  "/vol/sub",
		"/etc/abs":            "/etc/passwd",
		"/usr/../lib/missing": "/usr/lib/missing",
		"/../../..":           "/",
	} {
		got, err := f.Realpath(in)
		if err != nil || got != want {
			t.Errorf("Realpath(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
}
