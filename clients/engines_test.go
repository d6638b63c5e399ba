// Package clients runs real third-party Docker clients (docker compose,
// testcontainers-go, docker-py, dockerode) against a fresh Sockerless on the
// memory backend and against the reference dockerd, and counts the passing
// cases per client and engine. A case that passes on dockerd and fails on
// Sockerless is a Sockerless bug; one that fails on both is a broken case.
//
// The clients come from hack/clients.sh (pinned versions, cached); its env
// lines name them. A missing client or engine skips its tests, or fails them
// when $SOCKERLESS_REQUIRE lists "clients" or "dockerd".
package clients

import (
	"bytes"
	"context"
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

// image is the offline test image (hack/testimages.sh) every scenario runs.
const image = testenv.BusyboxImage

// reportEnv names a file the pass counts are written to (make test prints
// it: go test shows a passing package's output only with -v).
const reportEnv = "SOCKERLESS_CLIENTS_REPORT"

var binary string

func TestMain(m *testing.M) {
	var cleanup func() error
	var err error
	if binary, cleanup, err = testenv.BuildDaemon(true); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	code := m.Run()
	summary := tally.String()
	fmt.Print(summary)
	if path := os.Getenv(reportEnv); path != "" {
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

// engine is a Docker API endpoint a scenario runs against.
type engine struct {
	name string // "sockerless" or "dockerd"
	host string // DOCKER_HOST value, unix://PATH
}

// engines returns a fresh Sockerless (its own data root, the test image
// loaded) and the reference dockerd (with the test image).
func engines(t *testing.T) []engine {
	t.Helper()
	ref := testenv.DockerClient(t)
	testenv.RequireImage(t, ref, image)
	return []engine{{name: "sockerless", host: startSockerless(t)}, {name: "dockerd", host: testenv.DockerHost(t)}}
}

// startSockerless starts the daemon on a private socket and data root and
// loads the test image from the cache hack/testimages.sh fills.
func startSockerless(t *testing.T) string {
	t.Helper()
	tar := filepath.Join(cacheDir(), "images", "busybox-image.tar")
	if _, err := os.Stat(tar); err != nil {
		unavailable(t, "dockerd", "no cached test image (run hack/testimages.sh): %v", err)
	}
	sock := filepath.Join(t.TempDir(), "s.sock")
	// Written by the process until it ends; read only after cmd.Wait.
	var log bytes.Buffer
	cmd := exec.Command(binary, "serve", "-H", "unix://"+sock, "--data-root", t.TempDir(), "--log-level", "debug")
	cmd.Stdout, cmd.Stderr = &log, &log
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
			t.Logf("signal sockerless: %v", err)
		}
		if err := cmd.Wait(); err != nil {
			t.Logf("sockerless exit: %v", err)
		}
		if t.Failed() {
			t.Logf("sockerless log:\n%s", log.String())
		}
	})
	host := "unix://" + sock
	for i := 0; ; i++ {
		if _, err := os.Stat(sock); err == nil {
			if _, err := dockerCLI(t, host, "", "version", "--format", "{{.Server.Version}}"); err == nil {
				break
			}
		}
		if i == 1500 {
			// The log is read once the process has ended (in the cleanup).
			t.Fatal("sockerless did not come up within 30 s")
		}
		time.Sleep(20 * time.Millisecond)
	}
	if out, err := dockerCLI(t, host, "", "load", "-q", "-i", tar); err != nil {
		t.Fatalf("loading %s: %v\n%s", tar, err, out)
	}
	return host
}

func cacheDir() string {
	if d := os.Getenv("SOCKERLESS_CACHE"); d != "" {
		return d
	}
	home, _ := os.UserHomeDir()
	return filepath.Join(home, ".cache", "sockerless")
}

// unavailable skips t, or fails it when $SOCKERLESS_REQUIRE lists what.
func unavailable(t testing.TB, what, format string, args ...any) {
	t.Helper()
	msg := fmt.Sprintf(format, args...)
	if testenv.Required(what) {
		t.Fatalf("%s (required by %s)", msg, testenv.RequireEnv)
	}
	t.Skip(msg)
}

// clientPath returns the value of env, set by `eval "$(hack/clients.sh env)"`.
func clientPath(t testing.TB, env, client string) string {
	t.Helper()
	p := os.Getenv(env)
	if p == "" {
		unavailable(t, "clients", "%s is not installed: %s is not set (run hack/clients.sh install %s, then eval \"$(hack/clients.sh env)\")", client, env, client)
	}
	return p
}

// dockerCLI runs the docker CLI at host with a private config folder
// (config may name one, e.g. with the compose plugin) and returns its
// combined output.
func dockerCLI(t testing.TB, host, config string, args ...string) (string, error) {
	t.Helper()
	if config == "" {
		config = t.TempDir()
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, dockerBinary(), args...)
	cmd.Env = append(os.Environ(), "DOCKER_HOST="+host, "DOCKER_CONFIG="+config)
	out, err := cmd.CombinedOutput()
	if err != nil {
		return string(out), fmt.Errorf("docker %s: %w\n%s", strings.Join(args, " "), err, out)
	}
	return string(out), nil
}

// dockerBinary prefers the base image's docker CLI (28.2) over Debian's
// older /usr/bin/docker.
func dockerBinary() string {
	if _, err := os.Stat("/usr/local/bin/docker"); err == nil {
		return "/usr/local/bin/docker"
	}
	return "docker"
}

// counts tallies case results per client and engine.
type counts struct {
	mu      sync.Mutex
	results map[string]map[string]map[string]bool // client -> case -> engine -> passed
}

var tally = &counts{results: map[string]map[string]map[string]bool{}}

// runCase runs one case as a subtest of t (named after the engine) and
// records its result for client.
func runCase(t *testing.T, client string, e engine, name string, fn func(t *testing.T)) bool {
	t.Helper()
	ok := t.Run(name, fn)
	tally.mu.Lock()
	defer tally.mu.Unlock()
	byCase := tally.results[client]
	if byCase == nil {
		byCase = map[string]map[string]bool{}
		tally.results[client] = byCase
	}
	if byCase[name] == nil {
		byCase[name] = map[string]bool{}
	}
	byCase[name][e.name] = ok
	return ok
}

// String prints passes per client and engine, then the cases that pass on
// dockerd only (Sockerless bugs) and those that fail on both (broken cases).
func (c *counts) String() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	var b strings.Builder
	b.WriteString("ecosystem clients: cases passed per engine\n")
	fmt.Fprintf(&b, "%-16s %12s %12s\n", "client", "sockerless", "dockerd")
	names := make([]string, 0, len(c.results))
	for n := range c.results {
		names = append(names, n)
	}
	sort.Strings(names)
	var onlyDockerd, bothFail []string
	for _, client := range names {
		cases := make([]string, 0, len(c.results[client]))
		for n := range c.results[client] {
			cases = append(cases, n)
		}
		sort.Strings(cases)
		pass := map[string]int{}
		ran := map[string]int{}
		for _, name := range cases {
			r := c.results[client][name]
			for eng, ok := range r {
				ran[eng]++
				if ok {
					pass[eng]++
				}
			}
			sl, slRan := r["sockerless"]
			dd, ddRan := r["dockerd"]
			switch {
			case slRan && ddRan && dd && !sl:
				onlyDockerd = append(onlyDockerd, client+"/"+name)
			case slRan && ddRan && !dd && !sl:
				bothFail = append(bothFail, client+"/"+name)
			}
		}
		cell := func(eng string) string {
			if ran[eng] == 0 {
				return "-"
			}
			return fmt.Sprintf("%d/%d", pass[eng], ran[eng])
		}
		fmt.Fprintf(&b, "%-16s %12s %12s\n", client, cell("sockerless"), cell("dockerd"))
	}
	if len(onlyDockerd) > 0 {
		fmt.Fprintf(&b, "pass on dockerd, fail on Sockerless (Sockerless bugs): %s\n", strings.Join(onlyDockerd, ", "))
	}
	if len(bothFail) > 0 {
		fmt.Fprintf(&b, "fail on both engines (broken cases): %s\n", strings.Join(bothFail, ", "))
	}
	return b.String()
}
