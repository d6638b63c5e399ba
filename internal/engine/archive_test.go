package engine_test

import (
	"archive/tar"
	"bytes"
	"context"
	"io"
	"strings"
	"testing"
)

// TestCopyPathsThatNameAFolder: docker cp paths ending in / or /. assert a
// folder, as with dockerd: a file there is an error; DIR/. is the folder's
// contents, named ./...
func TestCopyPathsThatNameAFolder(t *testing.T) {
	v := newEnv(t)
	ctx := context.Background()
	id := v.create("cp", nil, nil)
	for _, p := range []string{"/etc/passwd/", "/etc/passwd/."} {
		if _, err := v.e.ContainerStatPath(ctx, id, p); err == nil || !strings.Contains(err.Error(), "not a directory") {
			t.Errorf("stat %s: %v, want a 'not a directory' error", p, err)
		}
		if _, err := v.e.ContainerArchivePath(ctx, id, p, io.Discard); err == nil || !strings.Contains(err.Error(), "not a directory") {
			t.Errorf("archive %s: %v, want a 'not a directory' error", p, err)
		}
	}
	names := func(p string) []string {
		t.Helper()
		var buf bytes.Buffer
		if _, err := v.e.ContainerArchivePath(ctx, id, p, &buf); err != nil {
			t.Fatalf("archive %s: %v", p, err)
		}
		var out []string
		tr := tar.NewReader(&buf)
		for {
			h, err := tr.Next()
			if err == io.EOF {
				return out
			}
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, h.Name)
		}
	}
	if st, err := v.e.ContainerStatPath(ctx, id, "/etc/."); err != nil || st.Name != "." || !st.Mode.IsDir() {
		t.Errorf("stat /etc/.: %+v %v", st, err)
	}
	if got := names("/etc/passwd"); len(got) != 1 || got[0] != "passwd" {
		t.Errorf("archive /etc/passwd: %q", got)
	}
	for p, prefix := range map[string]string{"/etc/": "etc/", "/etc/.": "./"} {
		got := names(p)
		if len(got) < 2 || got[0] != prefix || !strings.Contains(strings.Join(got, " "), prefix+"passwd") {
			t.Errorf("archive %s: %q, want entries under %s", p, got, prefix)
		}
	}
}
