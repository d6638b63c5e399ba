package image

import (
	"archive/tar"
	"bytes"
	"context"
	"os"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/sockerless/sockerless/internal/sandbox/userland"
)

func TestEnsureBase_StableAcrossOpens(t *testing.T) {
	ctx := context.Background()
	var ids []string
	for range 2 {
		s := openStore(t, "") // a fresh folder each time: the ID is a function of the module
		img, err := s.EnsureBase(ctx)
		if err != nil {
			t.Fatalf("EnsureBase: %v", err)
		}
		again, err := s.EnsureBase(ctx)
		if err != nil {
			t.Fatalf("second EnsureBase: %v", err)
		}
		if again.ID != img.ID || len(s.List()) != 1 {
			t.Fatalf("EnsureBase is not idempotent: %s then %s, %d images", img.ID, again.ID, len(s.List()))
		}
		ids = append(ids, img.ID)
	}
	if ids[0] != ids[1] {
		t.Fatalf("base image ID differs between stores: %v", ids)
	}
}

func TestEnsureBase_Content(t *testing.T) {
	s := openStore(t, "")
	img, err := s.EnsureBase(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	in := img.Inspect()
	if in.Os != "linux" || in.Architecture != "wasm" || !cmp.Equal(in.RepoTags, []string{BaseImage}) {
		t.Errorf("platform %s/%s tags %v", in.Os, in.Architecture, in.RepoTags)
	}
	if diff := cmp.Diff([]string{basePath}, in.Config.Env); diff != "" {
		t.Errorf("Env (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"sh"}, in.Config.Cmd); diff != "" {
		t.Errorf("Cmd (-want +got):\n%s", diff)
	}
	if in.Created != "1970-01-01T00:00:00Z" || len(img.Config.History) != 1 {
		t.Errorf("Created %q, history %v", in.Created, img.Config.History)
	}
	data, err := os.ReadFile(s.layerPathID(img.Layers[0].DiffID))
	if err != nil {
		t.Fatal(err)
	}
	entries := map[string]tarEntry{}
	tr := tar.NewReader(bytes.NewReader(data))
	for {
		hdr, err := tr.Next()
		if err != nil {
			break
		}
		if hdr.Uid != 0 || hdr.Gid != 0 || hdr.ModTime.Unix() != 0 {
			t.Errorf("%s: owner %d:%d mtime %v", hdr.Name, hdr.Uid, hdr.Gid, hdr.ModTime)
		}
		body := new(bytes.Buffer)
		if _, err := body.ReadFrom(tr); err != nil {
			t.Fatal(err)
		}
		entries[hdr.Name] = tarEntry{name: hdr.Name, typ: hdr.Typeflag, mode: hdr.Mode, link: hdr.Linkname, body: body.String()}
	}
	if e := entries["bin/busybox"]; e.body != string(userland.Module()) || e.mode != 0o755 {
		t.Errorf("bin/busybox: mode %o, %d bytes; want the userland module", e.mode, len(e.body))
	}
	for _, n := range []string{"sh", "bash", "cat", "ls"} {
		if e := entries["bin/"+n]; e.typ != tar.TypeSymlink || e.link != "busybox" {
			t.Errorf("bin/%s = %+v, want a link to busybox", n, e)
		}
	}
	for a := range userland.Applets() {
		if _, ok := entries["bin/"+a]; !ok {
			t.Errorf("no bin/%s", a)
		}
	}
	wantModes := map[string]int64{"tmp/": 0o1777, "root/": 0o700, "etc/": 0o755, "usr/bin/": 0o755, "usr/local/bin/": 0o755}
	for n, m := range wantModes {
		if e, ok := entries[n]; !ok || e.typ != tar.TypeDir || e.mode != m {
			t.Errorf("%s = %+v, want a folder with mode %o", n, e, m)
		}
	}
	if e := entries["etc/passwd"]; e.body != "root:x:0:0:root:/root:/bin/sh\n" {
		t.Errorf("etc/passwd = %q", e.body)
	}
	if e := entries["etc/group"]; e.body != "root:x:0:\n" {
		t.Errorf("etc/group = %q", e.body)
	}
}

func TestEnsureBase_NewModuleMovesTag(t *testing.T) {
	ctx := context.Background()
	s := openStore(t, "")
	applets := map[string]bool{"cat": true}
	old, err := s.ensureBase(ctx, []byte("\x00asm old"), applets)
	if err != nil {
		t.Fatal(err)
	}
	cur, err := s.ensureBase(ctx, []byte("\x00asm new"), applets)
	if err != nil {
		t.Fatal(err)
	}
	if old.ID == cur.ID {
		t.Fatal("a different module gave the same image ID")
	}
	got, err := s.Get(BaseImage)
	if err != nil || got.ID != cur.ID {
		t.Fatalf("Get(%s) = %v, %v; want %s", BaseImage, got, err, cur.ID)
	}
	prev, err := s.Get(old.ID)
	if err != nil || len(prev.RepoTags) != 0 {
		t.Fatalf("old base image: %v, %v; want it kept, untagged", prev, err)
	}
}
