package clients

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// tcCases are the tests of clients/testcontainers, run on both engines.
var tcCases = []string{
	"TestLogWait", "TestExecWait", "TestHealthWait", "TestExec", "TestCopyInAndOut", "TestNetwork", "TestLifecycle",
	"TestLogConsumer", "TestFileAndExitWait", "TestReuse",
}

// TestTestcontainers compiles the testcontainers-go 0.45.0 cases (their
// own module, clients/testcontainers) once and runs them against each
// engine with the reaper (Ryuk) disabled; then, on Sockerless only, the
// case that checks the reaper is refused with the backend's error (see
// TestReaperRefused there for why it cannot run on the memory backend).
func TestTestcontainers(t *testing.T) {
	dir := clientPath(t, "SOCKERLESS_TESTCONTAINERS", "testcontainers")
	bin := filepath.Join(t.TempDir(), "testcontainers.test")
	build := exec.Command("go", "test", "-c", "-o", bin, ".")
	build.Dir = dir
	build.Env = append(os.Environ(), "GOWORK=off")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("building the testcontainers-go cases: %v\n%s", err, out)
	}
	for _, e := range engines(t) {
		t.Run(e.name, func(t *testing.T) {
			results, out := runGoTests(t, bin, e, "", "TESTCONTAINERS_RYUK_DISABLED=true")
			for _, name := range tcCases {
				runCase(t, "testcontainers-go", e, name, func(t *testing.T) {
					if r := results[name]; r != "PASS" {
						t.Fatalf("%s: %q (want PASS); output:\n%s", name, r, out)
					}
				})
			}
			if e.name != "sockerless" {
				return
			}
			results, out = runGoTests(t, bin, e, "^TestReaperRefused$", "TESTCONTAINERS_RYUK_DISABLED=false", "SCENARIO_REAPER=1")
			runCase(t, "testcontainers-go", e, "TestReaperRefused", func(t *testing.T) {
				if r := results["TestReaperRefused"]; r != "PASS" {
					t.Fatalf("TestReaperRefused: %q (want PASS); output:\n%s", r, out)
				}
			})
		})
	}
}

var goTestResult = regexp.MustCompile(`(?m)^--- (PASS|FAIL|SKIP): (\S+)`)

// runGoTests runs a compiled Go test binary against engine e and returns
// the result of each top-level test by name, and the whole output.
func runGoTests(t *testing.T, bin string, e engine, run string, env ...string) (map[string]string, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	args := []string{"-test.v", "-test.count=1"}
	if run != "" {
		args = append(args, "-test.run", run)
	}
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Dir = filepath.Dir(bin)
	cmd.Env = append(os.Environ(), append(env, "DOCKER_HOST="+e.host, "SCENARIO_ENGINE="+e.name, "SCENARIO_IMAGE="+image)...)
	outb, err := cmd.CombinedOutput()
	out := string(outb)
	results := map[string]string{}
	for _, m := range goTestResult.FindAllStringSubmatch(out, -1) {
		results[m[2]] = m[1]
	}
	if err != nil && !strings.Contains(out, "--- FAIL") {
		t.Errorf("%s: %v\n%s", bin, err, out)
	}
	return results, out
}
