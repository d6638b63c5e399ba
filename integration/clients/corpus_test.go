package clients

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sockerless/sockerless/internal/testenv"
)

// Images every engine gets. Both come from hack/testimages.sh; the names the
// clients insist on are tags of them.
const (
	busyboxImage     = testenv.BusyboxImage
	busyboxBashImage = testenv.BusyboxBashImage
)

// tags maps the names the clients ask for to the offline images: act's
// job image, gitlab-ci-local's default image and its helper image (which
// needs bash and rsync to copy artifacts and caches).
var tags = map[string]string{
	"alpine:latest":                       busyboxImage,
	"firecow/gitlab-ci-local-util:latest": busyboxBashImage,
}

// caseTimeout bounds one client run.
const caseTimeout = 5 * time.Minute

// engine is a Docker API endpoint the corpora run against.
type engine struct {
	name, host string
}

func cacheDir() string {
	if d := os.Getenv("SOCKERLESS_CACHE"); d != "" {
		return d
	}
	home, _ := os.UserHomeDir() // an empty home gives a relative path that is then missing
	return filepath.Join(home, ".cache", "sockerless")
}

// missing skips tb, or fails it when $SOCKERLESS_REQUIRE lists requirement
// (CI lists "dockerd" and "clients", so a broken set-up cannot pass).
func missing(tb testing.TB, requirement, format string, args ...any) {
	tb.Helper()
	if testenv.Required(requirement) {
		tb.Fatalf(format+" (required by %s)", append(args, testenv.RequireEnv)...)
	}
	tb.Skipf(format, args...)
}

// clientBinary returns the client named by the environment variable env,
// which `eval "$(hack/clients.sh env)"` sets.
func clientBinary(tb testing.TB, env string) string {
	tb.Helper()
	p := os.Getenv(env)
	if p == "" {
		missing(tb, "clients", "%s is not set: run hack/clients.sh install, then eval \"$(hack/clients.sh env)\"", env)
	}
	if _, err := os.Stat(p); err != nil {
		missing(tb, "clients", "%s=%s: %v (run hack/clients.sh install)", env, p, err)
	}
	return p
}

// engines starts a fresh sockerless with the offline images and tags, and
// prepares the reference dockerd the same way.
func engines(tb testing.TB) []engine {
	tb.Helper()
	host := testenv.DockerHost(tb)
	images := filepath.Join(cacheDir(), "images")
	for _, ref := range []string{busyboxImage, busyboxBashImage} {
		if _, err := docker(host, "image", "inspect", "--format", "{{.Id}}", ref); err != nil {
			missing(tb, "dockerd", "image %s is not in the reference engine: run DOCKER_HOST=%s hack/testimages.sh", ref, host)
		}
	}
	d := startDaemon(tb)
	for _, tarball := range []string{"busybox-image.tar", "busybox-bash-image.tar"} {
		p := filepath.Join(images, tarball)
		if _, err := os.Stat(p); err != nil {
			missing(tb, "dockerd", "no offline image %s: %v (run hack/testimages.sh)", p, err)
		}
		if out, err := docker(d.host, "load", "-q", "-i", p); err != nil {
			tb.Fatalf("load %s into sockerless: %v\n%s", p, err, out)
		}
	}
	all := []engine{{engineSockerless, d.host}, {engineDockerd, host}}
	service := writeServiceImage(tb, filepath.Join(images, "busybox-image.tar"), tb.TempDir())
	for _, e := range all {
		if out, err := docker(e.host, "load", "-q", "-i", service); err != nil {
			tb.Fatalf("%s: load the service image: %v\n%s", e.name, err, out)
		}
		for tag, src := range tags {
			if out, err := docker(e.host, "tag", src, tag); err != nil {
				tb.Fatalf("%s: tag %s %s: %v\n%s", e.name, src, tag, err, out)
			}
		}
	}
	return all
}

// clientCase is one workflow or pipeline folder with its expectations.
type clientCase struct {
	name, dir   string
	exit        int
	args        []string
	memoryError string
	results     []string
}

// loadCases reads testdata/<kind>/*/case.txt.
func loadCases(tb testing.TB, kind string, atLeast int) []clientCase {
	tb.Helper()
	dirs, err := filepath.Glob(filepath.Join("testdata", kind, "*", "case.txt"))
	if err != nil {
		tb.Fatal(err)
	}
	var cases []clientCase
	for _, f := range dirs {
		c, err := parseCase(f)
		if err != nil {
			tb.Fatalf("%s: %v", f, err)
		}
		cases = append(cases, c)
	}
	if len(cases) < atLeast {
		tb.Fatalf("testdata/%s has %d cases, want at least %d", kind, len(cases), atLeast)
	}
	return cases
}

func parseCase(file string) (clientCase, error) {
	c := clientCase{dir: filepath.Dir(file), name: filepath.Base(filepath.Dir(file))}
	b, err := os.ReadFile(file)
	if err != nil {
		return c, err
	}
	header, results, ok := strings.Cut(string(b), "-- results --\n")
	if !ok {
		return c, errors.New("no \"-- results --\" line")
	}
	sawExit := false
	for _, line := range strings.Split(header, "\n") {
		key, value, _ := strings.Cut(line, ":")
		value = strings.TrimSpace(value)
		switch key {
		case "exit":
			if c.exit, err = strconv.Atoi(value); err != nil {
				return c, fmt.Errorf("exit: %v", err)
			}
			sawExit = true
		case "args":
			c.args = append(c.args, strings.Fields(value)...)
		case "memory-error":
			c.memoryError = value
		case "":
		default:
			if !strings.HasPrefix(key, "#") {
				return c, fmt.Errorf("unknown key %q", key)
			}
		}
	}
	if !sawExit {
		return c, errors.New("no exit: line")
	}
	for _, r := range strings.Split(results, "\n") {
		if r != "" {
			c.results = append(c.results, r)
		}
	}
	if len(c.results) == 0 && c.exit == 0 {
		return c, errors.New("a passing case must list the results its jobs compute")
	}
	slices.Sort(c.results)
	return c, nil
}

// project copies the case (without case.txt) into a fresh git repository,
// as both clients expect a checkout.
func project(tb testing.TB, c clientCase) string {
	tb.Helper()
	dst := filepath.Join(tb.TempDir(), c.name)
	err := filepath.WalkDir(c.dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(c.dir, p)
		if err != nil || rel == "case.txt" {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		if d.IsDir() {
			return os.MkdirAll(filepath.Join(dst, rel), 0o755)
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dst, rel), b, info.Mode().Perm())
	})
	if err != nil {
		tb.Fatal(err)
	}
	for _, args := range [][]string{
		{"init", "-q", "-b", "main"},
		{"add", "-A"},
		{"-c", "user.name=ci", "-c", "user.email=ci@example.invalid", "commit", "-q", "-m", "case " + c.name},
		{"remote", "add", "origin", "https://gitlab.example.invalid/group/" + c.name + ".git"},
	} {
		cmd := exec.Command("git", args...)
		cmd.Dir = dst
		if out, err := cmd.CombinedOutput(); err != nil {
			tb.Fatalf("git %v: %v\n%s", args, err, out)
		}
	}
	return dst
}

// run is one client run's outcome.
type run struct {
	exit    int
	output  string
	results []string
	took    time.Duration
}

// runClient runs argv in dir against host with a private HOME and docker
// config, and collects the RESULT lines with outputLine.
func runClient(tb testing.TB, host, dir string, outputLine *regexp.Regexp, argv ...string) run {
	tb.Helper()
	home := tb.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), caseTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "DOCKER_HOST="+host, "HOME="+home, "DOCKER_CONFIG="+filepath.Join(home, ".docker"),
		"XDG_CACHE_HOME="+filepath.Join(home, ".cache"), "PATH=/usr/local/bin:"+os.Getenv("PATH"), "NO_COLOR=1", "FORCE_COLOR=0")
	start := time.Now()
	out, err := cmd.CombinedOutput()
	r := run{output: string(out), took: time.Since(start)}
	var exitErr *exec.ExitError
	switch {
	case ctx.Err() != nil:
		tb.Fatalf("%s did not finish in %v:\n%s", filepath.Base(argv[0]), caseTimeout, out)
	case errors.As(err, &exitErr):
		r.exit = exitErr.ExitCode()
	case err != nil:
		tb.Fatalf("%s: %v", argv[0], err)
	}
	sc := bufio.NewScanner(strings.NewReader(r.output))
	sc.Buffer(make([]byte, 0, 64*1024), 4*1024*1024)
	for sc.Scan() {
		if m := outputLine.FindStringSubmatch(sc.Text()); m != nil {
			if v, ok := strings.CutPrefix(strings.TrimRight(m[1], " \r"), "RESULT "); ok {
				r.results = append(r.results, v)
			}
		}
	}
	slices.Sort(r.results)
	return r
}

// check compares a run with the case and says what is off ("" when it
// passes).
func check(c clientCase, e engine, r run) string {
	if e.name == engineSockerless && c.memoryError != "" {
		if r.exit == 0 || !strings.Contains(r.output, c.memoryError) {
			return fmt.Sprintf("want a failure naming %q on the memory backend, got exit %d", c.memoryError, r.exit)
		}
		return ""
	}
	if r.exit != c.exit {
		return fmt.Sprintf("exit %d, want %d", r.exit, c.exit)
	}
	if !slices.Equal(r.results, c.results) {
		return fmt.Sprintf("results %q, want %q", r.results, c.results)
	}
	return ""
}

// casesAtOnce is how many cases run at the same time on one engine: the
// clients mostly wait on the engine (dockerd's container starts above all),
// so a few at once shorten the run. The benchmark runs them one by one.
const casesAtOnce = 3

// runCorpus runs every case on every engine (the engines in parallel, up to
// casesAtOnce cases at once on each), counts passes and fails each case
// that is off. Case names are unique, and so are the container, volume and
// network names the clients derive from them.
func runCorpus(t *testing.T, client string, cases []clientCase, engines []engine, runCase func(testing.TB, engine, clientCase) run) {
	for _, e := range engines {
		t.Run(e.name, func(t *testing.T) {
			t.Parallel()
			slots := make(chan struct{}, casesAtOnce)
			var wg sync.WaitGroup
			for _, c := range cases {
				slots <- struct{}{}
				wg.Add(1)
				go func() {
					defer func() { <-slots; wg.Done() }()
					t.Run(c.name, func(t *testing.T) {
						r := runCase(t, e, c)
						problem := check(c, e, r)
						tally.add(client, e.name, problem == "", e.name == engineSockerless && c.memoryError != "")
						if problem != "" {
							t.Errorf("%s on %s: %s\n%s", c.name, e.name, problem, r.output)
						}
					})
				}()
			}
			wg.Wait()
		})
	}
}
