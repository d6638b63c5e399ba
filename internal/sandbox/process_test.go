package sandbox

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/sockerless/sockerless/internal/sandbox/shell"
)

func TestComputedOutputAndStatus(t *testing.T) {
	c := newTestContainer(t, newTestEngine(t), newTestRoot(t))
	for _, tc := range []struct {
		args   []string
		stdout string
		status int
	}{
		{[]string{"sh", "-c", "echo $((6*7))"}, "42\n", 0},
		{[]string{"echo", "top", "level"}, "top level\n", 0},
		{[]string{"sh", "-c", "exit 7"}, "", 7},
		{[]string{"false"}, "", 1},
		{[]string{"sh", "-c", "no-such-command"}, "", 127},
		{[]string{"sh", "-c", `printf '%X %05.1f\n' 255 3.14159`}, "FF 003.1\n", 0},
	} {
		r := run(t, c, "", tc.args...)
		if r.stdout != tc.stdout || r.status != tc.status {
			t.Errorf("%q: got %q status %d, want %q status %d (stderr %q)", tc.args, r.stdout, r.status, tc.stdout, tc.status, r.stderr)
		}
	}
}

// TestContainerIdentity checks that the shell reports the container's
// identity, never the daemon's.
func TestContainerIdentity(t *testing.T) {
	c := newTestContainer(t, newTestEngine(t), newTestRoot(t))
	r := run(t, c, "", "sh", "-c", `echo "$$ $PPID $UID $EUID $HOME $HOSTNAME"; sh -c 'echo $$'; command -v apt-get || echo no-apt-get; pwd -P`)
	fields := strings.Fields(r.stdout)
	if len(fields) != 9 {
		t.Fatalf("unexpected output %q (stderr %q)", r.stdout, r.stderr)
	}
	if fields[0] != "1" || fields[1] != "0" || fields[2] != "0" || fields[3] != "0" || fields[4] != "/root" || fields[5] != "sandbox" {
		t.Errorf("identity: %q", fields[:6])
	}
	if fields[6] == fields[0] || fields[6] == strconv.Itoa(os.Getpid()) {
		t.Errorf("nested shell pid %s", fields[6])
	}
	if fields[7] != "no-apt-get" || fields[8] != "/work" {
		t.Errorf("lookup/pwd: %q", fields[7:])
	}
}

func TestNativeBinaryRefused(t *testing.T) {
	root := newTestRoot(t)
	native, err := os.ReadFile("/proc/self/exe") // this test binary: a real ELF file
	if err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(root, "usr", "local", "bin")
	if err := os.MkdirAll(bin, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(bin, "tool"), native, 0o755); err != nil {
		t.Fatal(err)
	}
	c := newTestContainer(t, newTestEngine(t), root)
	want := "exec format error: /usr/local/bin/tool is a native binary; the memory backend runs its built-in userland and .wasm programs — use the docker or a cloud backend for native images"
	for _, args := range [][]string{{"tool", "--version"}, {"/usr/local/bin/tool"}, {"sh", "-c", "tool; echo status=$?"}} {
		r := run(t, c, "", args...)
		if !strings.Contains(r.stderr, want) {
			t.Errorf("%q: stderr %q, want the exec format error", args, r.stderr)
		}
		if args[0] == "sh" {
			if r.stdout != "status=126\n" {
				t.Errorf("%q: stdout %q", args, r.stdout)
			}
		} else if r.status != 126 {
			t.Errorf("%q: status %d, want 126", args, r.status)
		}
	}
}

// TestRsyncRefusesWhatItDoesNotDo checks that the sandbox's local rsync
// names what it lacks instead of copying something else (its copies are
// compared with real rsync in the corpus).
func TestRsyncRefusesWhatItDoesNotDo(t *testing.T) {
	c := newTestContainer(t, newTestEngine(t), newTestRoot(t))
	for _, tc := range []struct {
		args   []string
		status int
		stderr string
	}{
		{[]string{"rsync", "--delete", "-a", "/etc/", "/tmp/x"}, 1, "option --delete is not supported by the memory backend's rsync"},
		{[]string{"rsync", "-az", "/etc/", "/tmp/x"}, 1, "option -z is not supported by the memory backend's rsync"},
		{[]string{"rsync", "-a", "/etc/", "host:/tmp/x"}, 1, "host:/tmp/x: remote transfers are not supported by the memory backend"},
		{[]string{"rsync", "-a", "/etc/passwd"}, 1, "copies between local paths"},
	} {
		r := run(t, c, "", tc.args...)
		if r.status != tc.status || !strings.Contains(r.stderr, tc.stderr) {
			t.Errorf("%q: status %d, stderr %q; want %d and %q", tc.args, r.status, r.stderr, tc.status, tc.stderr)
		}
	}
	if r := run(t, c, "", "ls", "/tmp"); r.stdout != "" {
		t.Errorf("a refused rsync wrote into /tmp: %q", r.stdout)
	}
}

// TestWasmProgramInRoot runs a WASI program that the image carries, by path
// and from $PATH; it sees the container's files only.
func TestWasmProgramInRoot(t *testing.T) {
	if _, err := exec.LookPath("go"); err != nil {
		t.Skip("needs the go tool to build the WASI test program")
	}
	root := newTestRoot(t)
	out := filepath.Join(root, "usr", "local", "bin", "probe")
	build := exec.Command("go", "build", "-o", out, "./testdata/wasiprobe")
	build.Env = append(os.Environ(), "GOOS=wasip1", "GOARCH=wasm")
	if b, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, b)
	}
	if err := os.WriteFile(filepath.Join(root, "work", "in.txt"), []byte("inside"), 0o644); err != nil {
		t.Fatal(err)
	}
	c := newTestContainer(t, newTestEngine(t), root)
	r := run(t, c, "", "probe", "in.txt", "/etc/hostname", "/../../../../proc/self/environ")
	want := "args: [in.txt /etc/hostname /../../../../proc/self/environ] wd: /work <nil>\nin.txt: \"inside\"\n/etc/hostname: \"sandbox\\n\"\n/../../../../proc/self/environ: error\n"
	if r.stdout != want || r.status != 3 {
		t.Errorf("got %q status %d (stderr %q), want %q status 3", r.stdout, r.status, r.stderr, want)
	}
	r = run(t, c, "", "sh", "-c", "/usr/local/bin/probe /work/in.txt | tail -1")
	if r.stdout != "/work/in.txt: \"inside\"\n" {
		t.Errorf("by path: %q (stderr %q)", r.stdout, r.stderr)
	}
}

func TestNestedShells(t *testing.T) {
	root := newTestRoot(t)
	scripts := map[string]string{
		"work/env-bash.sh": "#!/usr/bin/env bash\necho \"env-bash $0 $#\"\n",
		"work/sh.sh":       "#!/bin/sh -e\necho \"sh $1\"\nfalse\necho not-reached\n",
		"work/plain.sh":    "echo plain $1\n",
		"work/pipefail.sh": "false | true\necho after\n",
	}
	for name, body := range scripts {
		if err := os.WriteFile(filepath.Join(root, name), []byte(body), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	c := newTestContainer(t, newTestEngine(t), root)
	for _, tc := range []struct {
		args   []string
		stdin  string
		stdout string
		status int
	}{
		{[]string{"sh", "-c", `echo "$0 $1 $#"`, "zero", "one"}, "", "zero one 1\n", 0},
		{[]string{"./env-bash.sh", "a", "b"}, "", "env-bash ./env-bash.sh 2\n", 0},
		{[]string{"./sh.sh", "x"}, "", "sh x\n", 1},
		{[]string{"sh", "plain.sh", "y"}, "", "plain y\n", 0},
		{[]string{"./plain.sh", "z"}, "", "plain z\n", 0},
		{[]string{"bash", "--noprofile", "--norc", "-eo", "pipefail", "pipefail.sh"}, "", "", 1},
		{[]string{"bash", "-e", "pipefail.sh"}, "", "after\n", 0},
		{[]string{"sh", "-s", "p1"}, "echo from-stdin $1\nexit 4\necho no\n", "from-stdin p1\n", 4},
		{[]string{"sh"}, "set -e\necho one\nfalse\necho two\n", "one\n", 1},
		{[]string{"sh", "-c", "cat <(echo x)"}, "", "", 2},
	} {
		r := run(t, c, tc.stdin, tc.args...)
		if r.stdout != tc.stdout || r.status != tc.status {
			t.Errorf("%q: got %q status %d, want %q status %d (stderr %q)", tc.args, r.stdout, r.status, tc.stdout, tc.status, r.stderr)
		}
	}
	r := run(t, c, "", "sh", "-c", "cat <(echo x)")
	if !strings.Contains(r.stderr, "process substitution") {
		t.Errorf("process substitution: stderr %q, want a clear refusal", r.stderr)
	}
}

// start begins a process whose output is collected.
func start(t *testing.T, c *Container, spec ProcessSpec) (*Process, *lockedBuffer) {
	t.Helper()
	out := &lockedBuffer{}
	spec.Stdout, spec.Stderr = out, out
	if spec.Dir == "" {
		spec.Dir = "/work"
	}
	p, err := c.Start(context.Background(), spec)
	if err != nil {
		t.Fatal(err)
	}
	return p, out
}

// waitWithin waits for a process, failing (not hanging) if it does not end
// long before its own natural end; the measured latency is logged.
func waitWithin(t *testing.T, p *Process, since time.Time) int {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	st, err := p.Wait(ctx)
	if err != nil {
		t.Fatalf("process did not end after the signal: %v", err)
	}
	t.Logf("ended %v after the signal", time.Since(since).Round(time.Millisecond))
	return st
}

// TestSignalsEndBlockedWork signals processes blocked in a sleep, a read of
// stdin (builtin and wasm), a busy awk loop and an idle helper; each ends
// with the status Docker reports.
func TestSignalsEndBlockedWork(t *testing.T) {
	c := newTestContainer(t, newTestEngine(t), newTestRoot(t))
	cases := []struct {
		name   string
		args   []string
		stdin  bool
		sig    syscall.Signal
		status int
	}{
		{"sleep 30 s in a shell", []string{"sh", "-c", "sleep 30s; echo no"}, false, syscall.SIGTERM, 143},
		{"usleep 30 s (wasm nanosleep)", []string{"usleep", "30000000"}, false, syscall.SIGTERM, 143},
		{"sleep infinity", []string{"sleep", "infinity"}, false, syscall.SIGKILL, 137},
		{"read builtin on stdin", []string{"sh", "-c", "read x; echo no"}, true, syscall.SIGTERM, 143},
		{"wasm read on stdin", []string{"head", "-n", "1"}, true, syscall.SIGINT, 130},
		{"busy awk", []string{"awk", "BEGIN{while(1){}}"}, false, syscall.SIGKILL, 137},
		{"tail -f /dev/null", []string{"tail", "-f", "/dev/null"}, false, syscall.SIGTERM, 143},
		{"cat on open stdin", []string{"cat"}, true, syscall.SIGTERM, 143},
		{"timeout around sleep", []string{"timeout", "60", "sleep", "50"}, false, syscall.SIGTERM, 143},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			spec := ProcessSpec{Args: tc.args}
			var stdinW *io.PipeWriter
			if tc.stdin {
				var r *io.PipeReader
				r, stdinW = io.Pipe()
				spec.Stdin = r
				defer stdinW.Close()
			}
			p, out := start(t, c, spec)
			waitRunning(t, c, p)
			if tc.name == "busy awk" {
				waitCPU(t, c)
			}
			at := time.Now()
			if err := p.Signal(tc.sig); err != nil {
				t.Fatal(err)
			}
			if st := waitWithin(t, p, at); st != tc.status {
				t.Errorf("status %d, want %d (output %q)", st, tc.status, out.String())
			}
			if strings.Contains(out.String(), "no") {
				t.Errorf("work after the signal ran: %q", out.String())
			}
			if err := p.Signal(syscall.SIGTERM); !errors.Is(err, ErrProcessDone) {
				t.Errorf("signal after exit: %v", err)
			}
		})
	}
}

// waitRunning polls until the process shows in top (it is started).
func waitRunning(t *testing.T, c *Container, p *Process) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if len(c.Top()) > 0 {
			time.Sleep(20 * time.Millisecond) // let it reach its blocking call
			return
		}
		select {
		case <-p.Done():
			t.Fatal("process ended before it was signalled")
		case <-time.After(5 * time.Millisecond):
		}
	}
	t.Fatal("process never showed in top")
}

func waitCPU(t *testing.T, c *Container) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if c.Stats().CPU > 50*time.Millisecond {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatal("busy loop used no CPU")
}

func TestStopSignalsAreRefusedAndIgnoredSignalsIgnored(t *testing.T) {
	c := newTestContainer(t, newTestEngine(t), newTestRoot(t))
	p, _ := start(t, c, ProcessSpec{Args: []string{"sleep", "infinity"}})
	if err := p.Signal(syscall.SIGSTOP); !errors.Is(err, ErrUnsupported) {
		t.Errorf("SIGSTOP: %v, want ErrUnsupported", err)
	}
	if err := p.Signal(syscall.SIGWINCH); err != nil {
		t.Errorf("SIGWINCH: %v", err)
	}
	select {
	case <-p.Done():
		t.Fatal("an ignored signal ended the process")
	case <-time.After(50 * time.Millisecond):
	}
	if err := p.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	if st := waitWithin(t, p, time.Now()); st != 137 {
		t.Errorf("status %d", st)
	}
}

func TestTopAndStatsAreMeasured(t *testing.T) {
	c := newTestContainer(t, newTestEngine(t), newTestRoot(t))
	p, _ := start(t, c, ProcessSpec{Args: []string{"sh", "-c", "sleep infinity & awk 'BEGIN{while(1){}}'"}})
	waitCPU(t, c)
	top := c.Top()
	var kinds []string
	for _, pi := range top {
		kinds = append(kinds, fmt.Sprintf("%d/%d %s %s", pi.PID, pi.PPID, pi.Kind, strings.Join(pi.Args, " ")))
	}
	joined := strings.Join(kinds, "\n")
	for _, want := range []string{"1/0 shell sh -c", "/1 helper sleep infinity", "/1 wasm awk BEGIN"} {
		if !strings.Contains(joined, want) {
			t.Errorf("top lacks %q:\n%s", want, joined)
		}
	}
	st := c.Stats()
	if st.Instances != 1 || st.MemoryBytes < 64<<10 || st.Processes != 3 {
		t.Errorf("stats %+v, want 1 instance holding linear memory, 3 processes", st)
	}
	if err := p.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	waitWithin(t, p, time.Now())
	waitIdle(t, c)
	if st := c.Stats(); st.MemoryBytes != 0 || st.CPU < 50*time.Millisecond {
		t.Errorf("after exit: %+v", st)
	}
}

// TestTopPrintsTheContainersProcesses runs top, the default command of
// moby's integration tests: it lists the container's own processes and
// runs until a signal ends it.
func TestTopPrintsTheContainersProcesses(t *testing.T) {
	c := newTestContainer(t, newTestEngine(t), newTestRoot(t))
	r := run(t, c, "", "sh", "-c", "top -b -n 2 -d 0.01")
	frame := "  PID  PPID USER     COMMAND\n" +
		"    1     0 root     sh -c top -b -n 2 -d 0.01\n" +
		"    2     1 root     top -b -n 2 -d 0.01\n"
	if r.stdout != frame+"\n"+frame || r.status != 0 {
		t.Errorf("top -b -n 2: status %d, output:\n%s%s", r.status, r.stdout, r.stderr)
	}
	if r := run(t, c, "", "top", "-x"); r.status != 1 || !strings.Contains(r.stderr, "invalid option -- 'x'") {
		t.Errorf("top -x: %+v", r)
	}

	p, out := start(t, c, ProcessSpec{Args: []string{"top"}})
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(out.String(), "root     top\n") && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	if err := p.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if st := waitWithin(t, p, time.Now()); st != 143 {
		t.Errorf("top after SIGTERM: status %d, want 143; output %q", st, out.String())
	}
}

// TestDockerEnvironment: every process gets PATH, HOME and HOSTNAME, and
// TERM with a terminal, as Docker gives them; a shell exports PWD and
// SHLVL, as ash does (moby's exec test reads PWD from `sh -c env`).
func TestDockerEnvironment(t *testing.T) {
	c := newTestContainer(t, newTestEngine(t), newTestRoot(t))
	var out bytes.Buffer
	p, err := c.Start(context.Background(), ProcessSpec{Args: []string{"env"}, Env: []string{"FOO=bar"}, Dir: "/tmp", Stdout: &out, TTY: true})
	if err != nil {
		t.Fatal(err)
	}
	if st, err := p.Wait(context.Background()); err != nil || st != 0 {
		t.Fatalf("env: %d %v", st, err)
	}
	got := strings.Fields(out.String())
	slices.Sort(got)
	want := []string{"FOO=bar", "HOME=/root", "HOSTNAME=sandbox", "PATH=" + shell.DefaultPath, "TERM=xterm"}
	if !slices.Equal(got, want) {
		t.Errorf("env with a TTY: %q, want %q", got, want)
	}
	r := run(t, c, "", "sh", "-c", `env | grep -E '^(PWD|SHLVL)=' | sort; cd /tmp && sh -c 'env | grep -E "^(PWD|SHLVL)=" | sort'`)
	if r.stdout != "PWD=/work\nSHLVL=1\nPWD=/tmp\nSHLVL=2\n" {
		t.Errorf("shell environment: %q %q", r.stdout, r.stderr)
	}
}

// waitIdle polls until the container has no process and no instance.
func waitIdle(t *testing.T, c *Container) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if st := c.Stats(); st.Processes == 0 && st.Instances == 0 {
			return
		}
		time.Sleep(5 * time.Millisecond)
	}
	t.Fatalf("container not idle: %+v %v", c.Stats(), c.Top())
}

func TestTTYMergesStreamsWithCRLF(t *testing.T) {
	c := newTestContainer(t, newTestEngine(t), newTestRoot(t))
	var out bytes.Buffer
	p, err := c.Start(context.Background(), ProcessSpec{
		Args: []string{"sh", "-c", "echo out; echo err >&2; printf 'a\\nb\\n' | cat"}, Dir: "/", TTY: true, Stdout: &out,
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Resize(120, 40); err != nil {
		t.Fatal(err)
	}
	if st, err := p.Wait(context.Background()); err != nil || st != 0 {
		t.Fatalf("status %d err %v", st, err)
	}
	if out.String() != "out\r\nerr\r\na\r\nb\r\n" {
		t.Errorf("tty output %q", out.String())
	}
	if w, h := p.Size(); w != 120 || h != 40 {
		t.Errorf("size %dx%d", w, h)
	}
}

func TestUnsupportedUserIsRefused(t *testing.T) {
	c := newTestContainer(t, newTestEngine(t), newTestRoot(t))
	_, err := c.Start(context.Background(), ProcessSpec{Args: []string{"true"}, User: "1000:1000"})
	if !errors.Is(err, ErrUnsupported) {
		t.Fatalf("got %v, want ErrUnsupported", err)
	}
}

// TestConcurrentProcessesShareRoot runs processes at once in one root.
func TestConcurrentProcessesShareRoot(t *testing.T) {
	c := newTestContainer(t, newTestEngine(t), newTestRoot(t))
	var wg sync.WaitGroup
	for i := range 16 {
		wg.Go(func() {
			r := run(t, c, "", "sh", "-c", fmt.Sprintf("seq %d | awk '{s+=$1} END{print s+0}' > /tmp/sum%d; cat /tmp/sum%d", i*100, i, i))
			if want := fmt.Sprintf("%d\n", i*100*(i*100+1)/2); r.stdout != want {
				t.Errorf("process %d: %q, want %q (stderr %q)", i, r.stdout, want, r.stderr)
			}
		})
	}
	wg.Wait()
}

// TestNoLeakAfterManyCommands runs 1,000 commands and checks that
// goroutines, instances, linear memory and process entries return to where
// they were.
func TestNoLeakAfterManyCommands(t *testing.T) {
	c := newTestContainer(t, newTestEngine(t), newTestRoot(t))
	run(t, c, "", "true") // warm up lazily started goroutines
	before := runtime.NumGoroutine()
	r := run(t, c, "", "sh", "-c", "i=0; while [ $i -lt 1000 ]; do cat /etc/hostname >/dev/null; i=$((i+1)); done; echo $i")
	if r.stdout != "1000\n" || r.status != 0 {
		t.Fatalf("loop: %q status %d stderr %q", r.stdout, r.status, r.stderr)
	}
	waitIdle(t, c)
	deadline := time.Now().Add(10 * time.Second)
	for runtime.NumGoroutine() > before && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if after := runtime.NumGoroutine(); after > before {
		t.Errorf("goroutines: %d before, %d after 1,000 commands", before, after)
	}
	if st := c.Stats(); st.Instances != 0 || st.MemoryBytes != 0 || st.Processes != 0 {
		t.Errorf("after 1,000 commands: %+v", st)
	}
}

// lockedBuffer is a bytes.Buffer safe for the concurrent writers a process
// has (stdout and stderr of background jobs).
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
