// Package clients runs real CI runners — nektos/act (GitHub Actions) and
// gitlab-ci-local (GitLab CI) — on a corpus of workflows and pipelines,
// against a fresh Sockerless daemon (memory backend) and against the
// reference dockerd, and checks what each run computed.
//
// The clients come from hack/clients.sh (pinned versions, cached in
// $SOCKERLESS_CACHE/clients, named by $SOCKERLESS_ACT and
// $SOCKERLESS_GITLAB_CI_LOCAL); the engines and images from hack/dockerd.sh and
// hack/testimages.sh. Each case is a folder under testdata/act or
// testdata/gitlab-ci holding a project (workflows or .gitlab-ci.yml and
// files) and case.txt:
//
//	exit: 0                    the client's exit status (1: the run must fail)
//	args: --job build          extra client arguments (optional, repeatable)
//	memory-error: TEXT         on the memory backend the run must fail and print
//	                           TEXT: a feature it cannot offer, refused clearly
//	-- results --
//	sum=42                     every "RESULT ..." line the jobs print, sorted
//
// A case passes when the exit status and the RESULT lines are as listed: the
// values come from the jobs' own computations, so only real execution
// produces them. A case failing on dockerd is a broken case; one passing on
// dockerd and failing on Sockerless is a Sockerless bug. The pass counts of
// both engines are printed at the end of the run.
package clients

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/sockerless/sockerless/internal/testenv"
)

// binary is the sockerless daemon built by TestMain.
var binary string

func TestMain(m *testing.M) {
	// Without -race: the corpora measure and exercise the daemon through
	// real clients; the daemon's own tests run with -race.
	var cleanup func() error
	var err error
	if binary, cleanup, err = testenv.BuildDaemon(false); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	code := m.Run()
	summary := tally.String()
	fmt.Print(summary)
	// go test shows a passing package's output only with -v: the counts
	// also go to the report file make test prints.
	if path := os.Getenv(reportEnv); path != "" && summary != "" {
		if err := testenv.AppendReport(path, summary); err != nil {
			fmt.Fprintln(os.Stderr, err)
			code = 1
		}
	}
	if err := cleanup(); err != nil {
		fmt.Fprintln(os.Stderr, err)
	}
	os.Exit(code)
}

// tally counts passing cases per client and engine, printed after the run.
var tally = &passCounts{counts: map[string]map[string][3]int{}}

type passCounts struct {
	mu     sync.Mutex
	counts map[string]map[string][3]int // client -> engine -> {passed, run, of them refusals}
}

// add counts a case; refusal marks a case whose expected outcome is the
// backend's clear refusal of a feature it cannot offer.
func (p *passCounts) add(client, engine string, passed, refusal bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.counts[client] == nil {
		p.counts[client] = map[string][3]int{}
	}
	c := p.counts[client][engine]
	c[1]++
	if passed {
		c[0]++
		if refusal {
			c[2]++
		}
	}
	p.counts[client][engine] = c
}

// String is one line per client: the pass counts on each engine.
func (p *passCounts) String() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	var clients []string
	for c := range p.counts {
		clients = append(clients, c)
	}
	sort.Strings(clients)
	var b strings.Builder
	for _, c := range clients {
		var parts []string
		for _, e := range []string{engineSockerless, engineDockerd} {
			if n, ok := p.counts[c][e]; ok {
				part := fmt.Sprintf("%s %d/%d passed", e, n[0], n[1])
				if n[2] > 0 {
					part += fmt.Sprintf(" (%d of them a clear refusal, as expected)", n[2])
				}
				parts = append(parts, part)
			}
		}
		fmt.Fprintf(&b, "client corpus %s: %s\n", c, strings.Join(parts, ", "))
	}
	return b.String()
}

// reportEnv names a file the pass counts are appended to (make test sets
// it and prints the file after the run).
const reportEnv = "SOCKERLESS_CLIENTS_REPORT"

const (
	engineSockerless = "sockerless"
	engineDockerd    = "dockerd"
)

// daemon is a sockerless process on a private socket and data root.
type daemon struct {
	cmd  *exec.Cmd
	host string
	log  *lockedWriter
	done chan struct{}
}

// startDaemon starts a fresh sockerless (memory backend) and stops it by
// PID when tb ends.
func startDaemon(tb testing.TB) *daemon {
	tb.Helper()
	dir := tb.TempDir()
	sock := filepath.Join(dir, "s.sock")
	d := &daemon{host: "unix://" + sock, log: &lockedWriter{}, done: make(chan struct{})}
	d.cmd = exec.Command(binary, "serve", "-H", d.host, "--data-root", filepath.Join(dir, "data"))
	d.cmd.Stdout, d.cmd.Stderr = d.log, d.log
	if err := d.cmd.Start(); err != nil {
		tb.Fatal(err)
	}
	go func() {
		_ = d.cmd.Wait() // the exit is reported by stop
		close(d.done)
	}()
	tb.Cleanup(func() {
		if err := d.cmd.Process.Signal(syscall.SIGTERM); err != nil && !errors.Is(err, os.ErrProcessDone) {
			tb.Errorf("signal sockerless (pid %d): %v", d.cmd.Process.Pid, err)
		}
		select {
		case <-d.done:
		case <-time.After(20 * time.Second):
			tb.Errorf("sockerless (pid %d) ignored SIGTERM for 20 s; killing it", d.cmd.Process.Pid)
			_ = d.cmd.Process.Kill() // already reported
			<-d.done
		}
	})
	deadline := time.Now().Add(30 * time.Second)
	for {
		if _, err := os.Stat(sock); err == nil {
			if _, err := docker(d.host, "version", "--format", "{{.Server.Version}}"); err == nil {
				return d
			}
		}
		select {
		case <-d.done:
			tb.Fatalf("sockerless exited at start:\n%s", d.log.String())
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			tb.Fatalf("sockerless did not come up in 30 s:\n%s", d.log.String())
		}
	}
}

// lockedWriter is the daemon's log: its stdout and stderr are copied in by
// two goroutines while the test may read it.
type lockedWriter struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

func (l *lockedWriter) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

// dockerCLI prefers the base image's docker CLI to Debian's older one.
func dockerCLI() string {
	if _, err := os.Stat("/usr/local/bin/docker"); err == nil {
		return "/usr/local/bin/docker"
	}
	return "docker"
}

// docker runs the docker CLI against host.
func docker(host string, args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, dockerCLI(), args...)
	cmd.Env = append(os.Environ(), "DOCKER_HOST="+host)
	out, err := cmd.CombinedOutput()
	if err != nil {
		return string(out), fmt.Errorf("docker %s: %w: %s", strings.Join(args, " "), err, out)
	}
	return string(out), nil
}
