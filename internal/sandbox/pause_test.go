package sandbox

import (
	"context"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

// counters are processes that append a counter to a file in a bounded loop
// with short sleeps, each through another kind of host call: the shell's
// builtins and sleep helper, BusyBox's own file writes and nanosleep (awk
// running usleep through the host module), and an exec-like second process.
type counter struct {
	name, file string
	args       []string
}

var counters = []counter{
	{"shell loop", "/tmp/shell", []string{"sh", "-c", `i=0; while [ $i -lt 20000 ]; do i=$((i+1)); echo $i >> /tmp/shell; sleep 0.01; done`}},
	{"awk loop (wasm)", "/tmp/awk", []string{"awk", `BEGIN { for (i = 1; i <= 20000; i++) { print i >> "/tmp/awk"; fflush("/tmp/awk"); system("usleep 10000") } }`}},
}

// TestPauseHoldsEveryProcess pauses a container whose processes write all
// the time: while paused their files do not change at all; after Unpause
// they grow again.
func TestPauseHoldsEveryProcess(t *testing.T) {
	root := newTestRoot(t)
	c := newTestContainer(t, newTestEngine(t), root)
	var procs []*Process
	for _, cn := range counters {
		p, out := start(t, c, ProcessSpec{Args: cn.args})
		procs = append(procs, p)
		t.Cleanup(func() {
			if err := p.Signal(syscall.SIGKILL); err == nil {
				waitWithin(t, p, time.Now())
			}
			if t.Failed() {
				t.Logf("%s output: %q", cn.name, out.String())
			}
		})
	}
	for _, cn := range counters {
		waitGrows(t, root, cn.file, "")
	}

	if err := c.Pause(context.Background()); err != nil {
		t.Fatal(err)
	}
	if !c.Paused() {
		t.Fatal("Paused() is false after Pause")
	}
	before := readAll(t, root, counters)
	time.Sleep(300 * time.Millisecond) // thirty loop turns, had they run
	after := readAll(t, root, counters)
	for i, cn := range counters {
		if before[i] != after[i] {
			t.Errorf("%s: the file changed while paused (%d bytes, then %d)", cn.name, len(before[i]), len(after[i]))
		}
	}
	for _, p := range procs {
		select {
		case <-p.Done():
			t.Fatal("a process ended while paused")
		default:
		}
	}

	c.Unpause()
	if c.Paused() {
		t.Fatal("Paused() is true after Unpause")
	}
	for i, cn := range counters {
		waitGrows(t, root, cn.file, after[i])
	}
}

// TestPauseHoldsASleepPastItsDeadline: a sleep whose deadline passes while
// paused wakes only after Unpause (the freezer's semantics), in the shell's
// sleep and in BusyBox's nanosleep; a process started while paused (an
// exec) is held before its first command.
func TestPauseHoldsASleepPastItsDeadline(t *testing.T) {
	root := newTestRoot(t)
	c := newTestContainer(t, newTestEngine(t), root)
	sleepers := []*Process{}
	for _, args := range [][]string{
		{"sh", "-c", "sleep 0.1; echo woke > /tmp/helper"},
		{"sh", "-c", "usleep 100000 && echo woke > /tmp/wasm"},
	} {
		p, _ := start(t, c, ProcessSpec{Args: args})
		sleepers = append(sleepers, p)
	}
	waitTop(t, c, 2)
	if err := c.Pause(context.Background()); err != nil {
		t.Fatal(err)
	}
	exec, _ := start(t, c, ProcessSpec{Args: []string{"sh", "-c", "echo ran > /tmp/exec"}})
	time.Sleep(400 * time.Millisecond) // past both deadlines
	for _, f := range []string{"/tmp/helper", "/tmp/wasm", "/tmp/exec"} {
		if _, err := os.Stat(filepath.Join(root, f)); !os.IsNotExist(err) {
			t.Errorf("%s exists while paused (%v)", f, err)
		}
	}
	for _, p := range append(sleepers, exec) {
		select {
		case <-p.Done():
			t.Fatal("a process ended while paused")
		default:
		}
	}
	c.Unpause()
	for _, p := range append(sleepers, exec) {
		if st := waitWithin(t, p, time.Now()); st != 0 {
			t.Errorf("status %d after Unpause", st)
		}
	}
	for _, f := range []string{"/tmp/helper", "/tmp/wasm", "/tmp/exec"} {
		if _, err := os.Stat(filepath.Join(root, f)); err != nil {
			t.Errorf("after Unpause: %v", err)
		}
	}
}

// TestKillEndsAPausedProcess: SIGKILL ends a paused process, as it ends a
// frozen one.
func TestKillEndsAPausedProcess(t *testing.T) {
	c := newTestContainer(t, newTestEngine(t), newTestRoot(t))
	p, _ := start(t, c, ProcessSpec{Args: counters[0].args})
	waitTop(t, c, 1)
	if err := c.Pause(context.Background()); err != nil {
		t.Fatal(err)
	}
	at := time.Now()
	if err := p.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	if st := waitWithin(t, p, at); st != 137 {
		t.Errorf("status %d, want 137", st)
	}
	c.Unpause()
}

// waitGrows waits (bounded) until a file in the root differs from was and
// is not empty.
func waitGrows(t *testing.T, root, name, was string) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		b, err := os.ReadFile(filepath.Join(root, name))
		if err != nil && !os.IsNotExist(err) {
			t.Fatal(err)
		}
		if len(b) > 0 && string(b) != was {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("%s did not grow", name)
}

func readAll(t *testing.T, root string, cs []counter) []string {
	t.Helper()
	out := make([]string, len(cs))
	for i, cn := range cs {
		b, err := os.ReadFile(filepath.Join(root, cn.file))
		if err != nil {
			t.Fatal(err)
		}
		out[i] = string(b)
	}
	return out
}

// waitTop waits (bounded) until n processes started with Start show in top
// and have reached their first command.
func waitTop(t *testing.T, c *Container, n int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if len(c.Top()) >= 2*n { // each shell and the command it runs
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("fewer than %d processes in top: %v", n, c.Top())
}
