package sandbox

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/sockerless/sockerless/internal/sandbox/confine"
)

var testCacheDir = filepath.Join(os.TempDir(), "sockerless-test-wasm-cache")

// newTestEngine starts an engine shared by a test, with a disk cache that
// survives test runs.
func newTestEngine(t testing.TB) *Engine {
	t.Helper()
	e, err := New(context.Background(), Config{CacheDir: testCacheDir})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := e.Close(context.Background()); err != nil {
			t.Error(err)
		}
	})
	return e
}

// newTestRoot makes a container root like a minimal image: /tmp, /work,
// /root, /etc with passwd, group and hostname.
func newTestRoot(t testing.TB) string {
	t.Helper()
	root := t.TempDir()
	for _, d := range []string{"tmp", "work", "root", "etc"} {
		if err := os.MkdirAll(filepath.Join(root, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	files := map[string]string{
		"etc/passwd":   "root:x:0:0:root:/root:/bin/sh\n",
		"etc/group":    "root:x:0:\n",
		"etc/hostname": "sandbox\n",
	}
	for name, content := range files {
		if err := os.WriteFile(filepath.Join(root, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return root
}

func newTestContainer(t testing.TB, e *Engine, root string, mounts ...confine.Mount) *Container {
	t.Helper()
	c, err := e.NewContainer(ContainerConfig{Root: root, Mounts: mounts, Hostname: "sandbox"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := c.Close(); err != nil {
			t.Error(err)
		}
	})
	return c
}

type result struct {
	stdout, stderr string
	status         int
}

// run runs a command line to its end.
func run(t testing.TB, c *Container, stdin string, args ...string) result {
	t.Helper()
	var out, errb bytes.Buffer
	spec := ProcessSpec{Args: args, Dir: "/work", Stdout: &out, Stderr: &errb,
		Env: []string{"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "HOME=/root", "CI=true"}}
	if stdin != "" {
		spec.Stdin = bytes.NewBufferString(stdin)
	}
	p, err := c.Start(context.Background(), spec)
	if err != nil {
		t.Fatal(err)
	}
	st, err := p.Wait(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return result{out.String(), errb.String(), st}
}
