package sandbox

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"
)

// TestStartResolvesCommand: a command with nothing to run fails Start with
// the status and words runc gives (checked against the engine: `docker run
// IMAGE nope` and friends), and no process starts; names the sandbox runs
// without a file (applets, helpers) and executable files still start.
func TestStartResolvesCommand(t *testing.T) {
	root := newTestRoot(t)
	bin := filepath.Join(root, "usr", "local", "bin")
	if err := os.MkdirAll(bin, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(bin, "hello"), []byte("#!/bin/sh\necho hello from $0\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(bin, "plain"), []byte("echo not executable\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	c := newTestContainer(t, newTestEngine(t), root)
	env := []string{"PATH=/usr/local/bin:/usr/bin:/bin"}

	for _, tc := range []struct {
		args    []string
		status  int
		message string
	}{
		{[]string{"nope"}, 127, `exec: "nope": executable file not found in $PATH`},
		{[]string{"cd", "/"}, 127, `exec: "cd": executable file not found in $PATH`},  // a builtin is not an executable
		{[]string{"plain"}, 127, `exec: "plain": executable file not found in $PATH`}, // on $PATH, not executable: passed over
		{[]string{"/no/such/binary"}, 127, `exec: "/no/such/binary": stat /no/such/binary: no such file or directory`},
		{[]string{"./nope"}, 127, `exec: "./nope": stat ./nope: no such file or directory`},
		{[]string{"/etc/passwd/x"}, 127, `exec: "/etc/passwd/x": stat /etc/passwd/x: not a directory`},
		{[]string{"/etc/passwd"}, 126, `exec: "/etc/passwd": permission denied`},
		{[]string{"/etc"}, 126, `exec: "/etc": is a directory: permission denied`},
	} {
		var out bytes.Buffer
		p, err := c.Start(context.Background(), ProcessSpec{Args: tc.args, Env: env, Dir: "/work", Stdout: &out, Stderr: &out})
		var ce *CommandError
		if !errors.As(err, &ce) {
			if p != nil {
				_, _ = p.Wait(context.Background())
			}
			t.Errorf("%q: Start gave %v (%q), want a CommandError", tc.args, err, out.String())
			continue
		}
		if ce.Status != tc.status || ce.Message != tc.message {
			t.Errorf("%q: got %d %q, want %d %q", tc.args, ce.Status, ce.Message, tc.status, tc.message)
		}
	}
	if n := len(c.Top()); n != 0 {
		t.Errorf("%d processes after refused starts", n)
	}

	for _, tc := range []struct {
		args   []string
		stdout string
	}{
		{[]string{"hello"}, "hello from /usr/local/bin/hello\n"},                // a script on $PATH
		{[]string{"/usr/local/bin/hello"}, "hello from /usr/local/bin/hello\n"}, // by its path
		{[]string{"echo", "applet"}, "applet\n"},                                // an applet by name, no file
		{[]string{"/bin/echo", "applet"}, "applet\n"},                           // an applet's path the image lacks
		{[]string{"sh", "-c", "echo shell"}, "shell\n"},                         // a helper
		{[]string{"busybox", "echo", "multi"}, "multi\n"},
	} {
		var out, errb bytes.Buffer
		p, err := c.Start(context.Background(), ProcessSpec{Args: tc.args, Env: env, Dir: "/work", Stdout: &out, Stderr: &errb})
		if err != nil {
			t.Errorf("%q: %v", tc.args, err)
			continue
		}
		if st, err := p.Wait(context.Background()); err != nil || st != 0 || out.String() != tc.stdout {
			t.Errorf("%q: status %d %v, stdout %q stderr %q, want %q", tc.args, st, err, out.String(), errb.String(), tc.stdout)
		}
	}
}

// TestBareRootRunsNothingByName: in a root no image filled (docker create
// without an image) nothing stands in for a command: applets and helpers
// by name are not found, as on the engine, whose empty root has no files.
func TestBareRootRunsNothingByName(t *testing.T) {
	e := newTestEngine(t)
	c, err := e.NewContainer(ContainerConfig{Root: newTestRoot(t), Hostname: "sandbox", Bare: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := c.Close(); err != nil {
			t.Error(err)
		}
	})
	for _, args := range [][]string{{"true"}, {"sh", "-c", "true"}, {"/bin/sh", "-c", "true"}, {"busybox", "true"}} {
		_, err := c.Start(context.Background(), ProcessSpec{Args: args, Dir: "/"})
		var ce *CommandError
		if !errors.As(err, &ce) || ce.Status != 127 {
			t.Errorf("%q in a bare root: %v", args, err)
		}
	}
}
