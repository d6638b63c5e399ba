package integration

import (
	"strconv"
	"strings"
	"testing"
	"time"
)

// counterScript prints a counter in a bounded loop with short sleeps.
const counterScript = `i=0; while [ $i -lt 100000 ]; do i=$((i+1)); echo $i; sleep 0.05; done`

// TestDockerPause drives pause and unpause with the docker CLI: a paused
// container prints nothing, shows "(Paused)" in ps, refuses exec with
// dockerd's message, and goes on after unpause; kill, stop and restart of a
// paused container behave as on dockerd.
func TestDockerPause(t *testing.T) {
	d := startDaemon(t, "")
	t.Parallel()
	since := strconv.FormatInt(time.Now().Add(-time.Second).Unix(), 10)

	d.must(t, "run", "-d", "--name", "counter", baseImage, "sh", "-c", counterScript)
	logLines := func() int { return strings.Count(d.must(t, "logs", "counter"), "\n") }
	waitLines := func(more int) {
		t.Helper()
		deadline := time.Now().Add(20 * time.Second)
		for time.Now().Before(deadline) {
			if logLines() > more {
				return
			}
			time.Sleep(50 * time.Millisecond)
		}
		t.Fatalf("the counter did not go past %d lines", more)
	}
	waitLines(1)

	t.Run("paused: state, ps, no output", func(t *testing.T) {
		d.must(t, "pause", "counter")
		if out := d.must(t, "inspect", "-f", "{{.State.Status}} {{.State.Paused}} {{.State.Running}}", "counter"); out != "paused true true\n" {
			t.Fatalf("inspect: %q", out)
		}
		if out := d.must(t, "ps", "--filter", "name=counter", "--format", "{{.Status}}"); !strings.HasPrefix(out, "Up ") || !strings.HasSuffix(out, " (Paused)\n") {
			t.Fatalf("ps status: %q", out)
		}
		if out := d.must(t, "ps", "-q", "--filter", "status=paused"); strings.Count(out, "\n") != 1 {
			t.Fatalf("ps status=paused: %q", out)
		}
		before := logLines()
		time.Sleep(500 * time.Millisecond) // ten loop turns, had it run
		if after := logLines(); after != before {
			t.Fatalf("the paused container printed: %d lines, then %d", before, after)
		}
	})
	t.Run("exec and pause again are refused", func(t *testing.T) {
		if _, err := d.docker("exec", "counter", "true"); err == nil || !strings.Contains(err.Error(), "Container counter is paused, unpause the container before exec") {
			t.Fatalf("exec into a paused container: %v", err)
		}
		if _, err := d.docker("pause", "counter"); err == nil || !strings.Contains(err.Error(), "is already paused") {
			t.Fatalf("pause of a paused container: %v", err)
		}
	})
	t.Run("unpause: it goes on", func(t *testing.T) {
		n := logLines()
		d.must(t, "unpause", "counter")
		if out := d.must(t, "inspect", "-f", "{{.State.Status}} {{.State.Paused}}", "counter"); out != "running false\n" {
			t.Fatalf("inspect: %q", out)
		}
		waitLines(n)
		if _, err := d.docker("unpause", "counter"); err == nil || !strings.Contains(err.Error(), "is not paused") {
			t.Fatalf("unpause of a running container: %v", err)
		}
		if out := d.must(t, "exec", "counter", "sh", "-c", "echo $((6*7))"); out != "42\n" {
			t.Fatalf("exec after unpause: %q", out)
		}
	})
	t.Run("kill ends a paused container", func(t *testing.T) {
		d.must(t, "pause", "counter")
		d.must(t, "kill", "counter")
		if out := d.must(t, "wait", "counter"); out != "137\n" {
			t.Fatalf("wait after kill: %q", out)
		}
		if out := d.must(t, "inspect", "-f", "{{.State.Status}} {{.State.Paused}}", "counter"); out != "exited false\n" {
			t.Fatalf("inspect: %q", out)
		}
	})
	t.Run("restart and stop of a paused container", func(t *testing.T) {
		d.must(t, "start", "counter")
		waitLines(1)
		d.must(t, "pause", "counter")
		d.must(t, "restart", "-t", "1", "counter")
		if out := d.must(t, "inspect", "-f", "{{.State.Status}} {{.State.Paused}}", "counter"); out != "running false\n" {
			t.Fatalf("inspect after restart: %q", out)
		}
		n := logLines()
		waitLines(n) // the new run is not held
		d.must(t, "pause", "counter")
		d.must(t, "stop", "-t", "1", "counter")
		if out := d.must(t, "inspect", "-f", "{{.State.Status}} {{.State.Paused}}", "counter"); out != "exited false\n" {
			t.Fatalf("inspect after stop: %q", out)
		}
	})
	t.Run("events", func(t *testing.T) {
		until := strconv.FormatInt(time.Now().Add(time.Second).Unix(), 10)
		out := d.must(t, "events", "--since", since, "--until", until, "--filter", "container=counter", "--format", "{{.Action}}")
		// pause, unpause, the kill of a paused container (no unpause: it
		// ends frozen), then restart and stop, each resuming it first.
		var got []string
		for _, a := range strings.Fields(out) {
			if a == "pause" || a == "unpause" {
				got = append(got, a)
			}
		}
		want := "pause unpause pause pause unpause pause unpause"
		if strings.Join(got, " ") != want {
			t.Fatalf("pause and unpause events: %q, want %q (all: %q)", strings.Join(got, " "), want, out)
		}
	})
}
