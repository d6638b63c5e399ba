package sandbox

import (
	"archive/tar"
	"bytes"
	"crypto/sha256"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sockerless/sockerless/internal/sandbox/confine"
)

const canaryText = "HOST-CANARY-7f3a9c"

// escapeFixture is a container root next to host files it must not reach:
// a canary file and folder beside the root, symlinks planted in the image
// that point at them, and a volume whose own symlinks point out of it.
type escapeFixture struct {
	root, canaryDir, canary, volume string
	canarySum                       [32]byte
	canaryMtime                     time.Time
}

func newEscapeFixture(t *testing.T) *escapeFixture {
	t.Helper()
	base := t.TempDir()
	f := &escapeFixture{
		root:      filepath.Join(base, "root"),
		canaryDir: filepath.Join(base, "hostsecret"),
		volume:    filepath.Join(base, "volume"),
	}
	f.canary = filepath.Join(f.canaryDir, "canary")
	for _, d := range []string{f.root, f.canaryDir, f.volume} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(f.canary, []byte(canaryText+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	root := newTestRoot(t)
	if err := os.Rename(root, f.root+".tmp"); err != nil {
		t.Fatal(err)
	}
	if err := os.RemoveAll(f.root); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(f.root+".tmp", f.root); err != nil {
		t.Fatal(err)
	}
	links := map[string]string{
		filepath.Join(f.root, "abs-link"):      f.canary,                                // absolute host path
		filepath.Join(f.root, "rel-link"):      "../../../../../../../../.." + f.canary, // climbs out
		filepath.Join(f.root, "dir-link"):      f.canaryDir,                             // a host folder
		filepath.Join(f.root, "proc-link"):     "/proc/self/root" + f.canary,            // through /proc
		filepath.Join(f.volume, "up"):          "../hostsecret/canary",                  // out of the volume
		filepath.Join(f.volume, "abs"):         f.canary,                                // absolute, in a volume
		filepath.Join(f.root, "tmp", "volref"): "/data/up",                              // root → volume → out
	}
	for link, target := range links {
		if err := os.Symlink(target, link); err != nil {
			t.Fatal(err)
		}
	}
	fi, err := os.Stat(f.canary)
	if err != nil {
		t.Fatal(err)
	}
	f.canarySum, f.canaryMtime = sha256.Sum256([]byte(canaryText+"\n")), fi.ModTime()
	return f
}

// checkCanary fails the test if the canary or its folder changed.
func (f *escapeFixture) checkCanary(t *testing.T) {
	t.Helper()
	b, err := os.ReadFile(f.canary)
	if err != nil {
		t.Fatalf("canary: %v", err)
	}
	fi, err := os.Stat(f.canary)
	if err != nil {
		t.Fatal(err)
	}
	if sha256.Sum256(b) != f.canarySum || !fi.ModTime().Equal(f.canaryMtime) || fi.Mode().Perm() != 0o644 {
		t.Fatalf("host canary changed: %q mode %v mtime %v", b, fi.Mode(), fi.ModTime())
	}
	ents, err := os.ReadDir(f.canaryDir)
	if err != nil {
		t.Fatal(err)
	}
	if len(ents) != 1 {
		t.Fatalf("host canary folder gained files: %v", ents)
	}
}

// TestEscapeAttempts runs scripts that try to read or change a host file.
// Every one must fail to see the canary, and the canary must stay as it was.
func TestEscapeAttempts(t *testing.T) {
	e := newTestEngine(t)
	f := newEscapeFixture(t)
	c := newTestContainer(t, e, f.root, confine.Mount{Target: "/data", Source: f.volume})
	host := f.canary
	attempts := []struct{ name, script string }{
		{"lexical dotdot", `cat /../../../../../../..` + host},
		{"relative dotdot from cwd", `cd /work; cat ../../../../../../../..` + host},
		{"absolute symlink in image", `cat /abs-link`},
		{"relative symlink in image", `cat /rel-link`},
		{"symlink to host folder", `ls /dir-link; cat /dir-link/canary`},
		{"symlink made by the script", `ln -s ../../../../../../../../..` + filepath.Dir(host) + ` /tmp/made; cat /tmp/made/canary; ls /tmp/made`},
		{"absolute symlink made by the script", `ln -s ` + host + ` /tmp/made2; cat /tmp/made2; head -c 64 /tmp/made2`},
		{"read redirection through symlink", `while read -r l; do echo "$l"; done < /abs-link`},
		{"write redirection through symlink", `echo pwned > /abs-link; echo pwned >> /rel-link; echo pwned > /dir-link/canary`},
		{"cd through symlinks", `cd /dir-link && cat canary; cd /../../../..; ls; pwd -P`},
		{"glob above the root", `echo /../../*/hostsecret/* /../../../*/*/canary; ls /../..`},
		{"hardlink to host path", `ln /../../../../..` + host + ` /tmp/hard; cat /tmp/hard; ln /abs-link /tmp/hard2; cat /tmp/hard2`},
		{"proc", `cat /proc/self/environ; cat /proc/1/root` + host + `; cat /proc-link; ls /proc`},
		{"find and xargs", `find / -name canary 2>/dev/null | xargs cat; find / -name canary -exec cat {} \;`},
		{"volume escapes", `cat /data/up; cat /data/abs; cat /data/../../..` + host + `; cat /tmp/volref; ln -s / /data/rootlink; cat /data/rootlink` + host},
		{"helpers with host paths", `jq -R . /abs-link; jq -n --rawfile s /rel-link '$s'; timeout 2 cat /abs-link; env cat /dir-link/canary; nohup cat /abs-link; chmod 777 /abs-link /dir-link/canary`},
		{"source and sh of host files", `. /abs-link; source /rel-link; sh /abs-link; bash /dir-link/canary`},
		{"command lookup", `command -v apt-get dpkg go; type apt-get; hash apt-get; which apt-get`},
		{"tar inside the sandbox", `cd /tmp && tar -xf /work/evil.tar; cat /tmp/evil/*; ls /tmp`},
		{"awk file and pipes", `awk '{print}' /abs-link; awk 'BEGIN{while ((getline l < "/rel-link") > 0) print l; system("cat /abs-link")}'`},
	}
	if err := os.WriteFile(filepath.Join(f.root, "work", "evil.tar"), hostileTar(t, host), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, a := range attempts {
		t.Run(a.name, func(t *testing.T) {
			r := run(t, c, "", "sh", "-c", a.script)
			if strings.Contains(r.stdout+r.stderr, canaryText) {
				t.Errorf("host canary leaked:\nstdout: %s\nstderr: %s", r.stdout, r.stderr)
			}
			if strings.Contains(r.stdout, "hostsecret/canary") {
				t.Errorf("host folder listed: %s", r.stdout)
			}
			f.checkCanary(t)
		})
	}
}

// hostileTar holds entries that try to climb out, an absolute name, a
// symlink to / followed by a file under it, and a hard link to a host path.
func hostileTar(t *testing.T, host string) []byte {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	add := func(h *tar.Header, body string) {
		h.Size = int64(len(body))
		if h.Mode == 0 {
			h.Mode = 0o644
		}
		if err := tw.WriteHeader(h); err != nil {
			t.Fatal(err)
		}
		if _, err := tw.Write([]byte(body)); err != nil {
			t.Fatal(err)
		}
	}
	add(&tar.Header{Name: "../../../../../../../../.." + host, Typeflag: tar.TypeReg}, "pwned\n")
	add(&tar.Header{Name: host, Typeflag: tar.TypeReg}, "pwned\n")
	add(&tar.Header{Name: "evil", Typeflag: tar.TypeSymlink, Linkname: "/"}, "")
	add(&tar.Header{Name: "evil" + host, Typeflag: tar.TypeReg}, "pwned\n")
	add(&tar.Header{Name: "evil/hard", Typeflag: tar.TypeLink, Linkname: "../../../../../../../.." + host}, "")
	add(&tar.Header{Name: "dirlink", Typeflag: tar.TypeSymlink, Linkname: filepath.Dir(host)}, "")
	add(&tar.Header{Name: "dirlink/canary", Typeflag: tar.TypeReg}, "pwned\n")
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// TestExtractTarRefusesBreakouts feeds the host-side extractor (docker cp)
// hostile archives: each is refused or stays inside, and the canary holds.
func TestExtractTarRefusesBreakouts(t *testing.T) {
	f := newEscapeFixture(t)
	fsys, err := confine.New(f.root, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer fsys.Close()
	err = fsys.ExtractTar("/work", bytes.NewReader(hostileTar(t, f.canary)))
	if !errors.Is(err, confine.ErrBreakout) {
		t.Fatalf("hostile archive: got %v, want ErrBreakout", err)
	}
	f.checkCanary(t)

	// Entries that stay inside but write through symlinks land in the root.
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, h := range []*tar.Header{
		{Name: "evil", Typeflag: tar.TypeSymlink, Linkname: "/"},
		{Name: "evil" + f.canary, Typeflag: tar.TypeReg, Mode: 0o644, Size: 6},
	} {
		if err := tw.WriteHeader(h); err != nil {
			t.Fatal(err)
		}
		if h.Size > 0 {
			if _, err := tw.Write([]byte("pwned\n")); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := fsys.ExtractTar("/work", &buf); err != nil {
		t.Fatal(err)
	}
	f.checkCanary(t)
	if b, err := os.ReadFile(filepath.Join(f.root, f.canary)); err != nil || string(b) != "pwned\n" {
		t.Fatalf("write through an extracted symlink should land inside the root: %q %v", b, err)
	}
}
