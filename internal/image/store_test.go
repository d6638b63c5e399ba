package image

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/opencontainers/go-digest"
)

// crashEnv makes the test binary a child that changes a store until killed.
const crashEnv = "SOCKERLESS_IMAGE_CRASH_CHILD"

func TestMain(m *testing.M) {
	if spec := os.Getenv(crashEnv); spec != "" {
		crashChild(spec)
		return
	}
	os.Exit(m.Run())
}

// crashChild loads, tags and removes images in a loop, printing a line
// after each round, until it is killed. spec is "storedir:archive,archive…".
func crashChild(spec string) {
	dir, list, _ := strings.Cut(spec, ":")
	archives := strings.Split(list, ",")
	s, err := Open(dir, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	ctx := context.Background()
	for i := 0; ; i++ {
		data, err := os.ReadFile(archives[i%len(archives)])
		if err == nil {
			_, err = s.Load(ctx, bytes.NewReader(data))
		}
		if err == nil {
			err = s.Tag(fmt.Sprintf("crash/%d:latest", i%len(archives)), fmt.Sprintf("other:%d", i))
		}
		if err == nil && i%2 == 1 {
			_, err = s.Remove(fmt.Sprintf("crash/%d", (i+1)%len(archives)), true)
		}
		if err != nil && !strings.Contains(err.Error(), "No such image") {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(2)
		}
		fmt.Println("round", i)
	}
}

// checkConsistent opens dir and checks that every image's config and
// layers are there with the right digests and tmp/ is empty.
func checkConsistent(t *testing.T, dir string) *Store {
	t.Helper()
	s := openStore(t, dir)
	for _, img := range s.List() {
		raw, err := os.ReadFile(s.blobPathID(img.ID))
		if err != nil || digest.FromBytes(raw).String() != img.ID {
			t.Fatalf("image %s: config missing or wrong (%v)", img.ID, err)
		}
		for _, l := range img.Layers {
			data, err := os.ReadFile(s.layerPathID(l.DiffID))
			if err != nil || digest.FromBytes(data).String() != l.DiffID {
				t.Fatalf("image %s: layer %s missing or wrong (%v)", img.ID, l.DiffID, err)
			}
		}
	}
	if ents, err := os.ReadDir(s.path("tmp")); err != nil || len(ents) != 0 {
		t.Fatalf("tmp/ after Open: %v, %v", ents, err)
	}
	return s
}

func TestStore_SurvivesKill(t *testing.T) {
	if testing.Short() {
		t.Skip("starts child processes")
	}
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), "store")
	var archives []string
	for i := range 3 {
		p := filepath.Join(t.TempDir(), fmt.Sprintf("a%d.tar", i))
		data := dockerSave(t, map[string]v1.Image{fmt.Sprintf("crash/%d:latest", i): randomImage(t, 3, "linux", "amd64")})
		if err := os.WriteFile(p, data, 0o600); err != nil {
			t.Fatal(err)
		}
		archives = append(archives, p)
	}
	for round := range 6 {
		cmd := exec.Command(exe, "-test.run=^$")
		cmd.Env = append(os.Environ(), crashEnv+"="+dir+":"+strings.Join(archives, ","))
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		out, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		// Kill after a random number of completed rounds: the kill lands
		// somewhere inside the next one.
		lines := bufio.NewScanner(out)
		for n := rand.IntN(4); n >= 0 && lines.Scan(); n-- {
		}
		if err := cmd.Process.Kill(); err != nil {
			t.Fatal(err)
		}
		if err := cmd.Wait(); err != nil && !strings.Contains(err.Error(), "killed") {
			t.Fatalf("child: %v\n%s", err, stderr.String())
		}
		if stderr.Len() > 0 {
			t.Fatalf("round %d: child failed: %s", round, stderr.String())
		}
		checkConsistent(t, dir)
	}
}

func TestStore_PersistsAcrossReopen(t *testing.T) {
	dir := t.TempDir()
	s := openStore(t, dir)
	if _, err := s.EnsureBase(context.Background()); err != nil {
		t.Fatal(err)
	}
	load(t, s, dockerSave(t, map[string]v1.Image{"app:1": randomImage(t, 2, "linux", "amd64")}))
	if err := s.Tag("app:1", "example.com/app:2"); err != nil {
		t.Fatal(err)
	}
	before := s.List()
	after := checkConsistent(t, dir).List()
	if diff := cmp.Diff(before, after); diff != "" {
		t.Errorf("images after reopen (-before +after):\n%s", diff)
	}
}

func TestOpen_RemovesUnreferencedContent(t *testing.T) {
	dir := t.TempDir()
	s := openStore(t, dir)
	load(t, s, dockerSave(t, map[string]v1.Image{"app:1": randomImage(t, 1, "linux", "amd64")}))
	stray := []string{
		filepath.Join(dir, "blobs", "sha256", strings.Repeat("1", 64)),
		filepath.Join(dir, "layers", "sha256", strings.Repeat("2", 64)),
		filepath.Join(dir, "tmp", "layer-123"),
	}
	for _, p := range stray {
		if err := os.WriteFile(p, []byte("left by a crash"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	checkConsistent(t, dir)
	for _, p := range stray {
		if _, err := os.Stat(p); !os.IsNotExist(err) {
			t.Errorf("%s survived Open (%v)", p, err)
		}
	}
}

func TestOpen_DamagedStore(t *testing.T) {
	t.Run("unreadable index is an error", func(t *testing.T) {
		dir := t.TempDir()
		if err := os.WriteFile(filepath.Join(dir, "index.json"), []byte("{"), 0o600); err != nil {
			t.Fatal(err)
		}
		if _, err := Open(dir, testLogger(t)); err == nil || !strings.Contains(err.Error(), "index.json") {
			t.Fatalf("Open = %v, want an error naming index.json", err)
		}
	})
	t.Run("image with a missing layer is dropped", func(t *testing.T) {
		dir := t.TempDir()
		s := openStore(t, dir)
		load(t, s, dockerSave(t, map[string]v1.Image{"app:1": randomImage(t, 1, "linux", "amd64"), "keep:1": randomImage(t, 1, "linux", "amd64")}))
		img, err := s.Get("app:1")
		if err != nil {
			t.Fatal(err)
		}
		if err := os.Remove(s.layerPathID(img.Layers[0].DiffID)); err != nil {
			t.Fatal(err)
		}
		s = checkConsistent(t, dir)
		if _, err := s.Get("app:1"); err == nil {
			t.Error("image with a missing layer still resolves")
		}
		if _, err := s.Get("keep:1"); err != nil {
			t.Error(err)
		}
	})
}

func TestStore_Concurrent(t *testing.T) {
	dir := t.TempDir()
	s := openStore(t, dir)
	shared := randomImage(t, 1, "linux", "amd64")
	var wg sync.WaitGroup
	errs := make(chan error, 64)
	for g := range 4 {
		data := dockerSave(t, map[string]v1.Image{fmt.Sprintf("g%d:1", g): randomImage(t, 2, "linux", "amd64"), "shared:1": shared})
		wg.Go(func() {
			for i := range 10 {
				if _, err := s.Load(context.Background(), bytes.NewReader(data)); err != nil {
					errs <- err
					return
				}
				if err := s.Tag(fmt.Sprintf("g%d:1", g), fmt.Sprintf("g%d:%d", g, i+2)); err != nil {
					errs <- err
					return
				}
				if _, err := s.Get("shared"); err != nil && !strings.Contains(err.Error(), "No such image") {
					errs <- err
					return
				}
				if _, err := s.Remove(fmt.Sprintf("g%d:1", g), true); err != nil {
					errs <- err
					return
				}
				if _, err := s.Prune(context.Background()); err != nil {
					errs <- err
					return
				}
				s.List()
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	before := s.List()
	if diff := cmp.Diff(before, checkConsistent(t, dir).List()); diff != "" {
		t.Errorf("after reopen (-before +after):\n%s", diff)
	}
}
