package clients

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// project drives `docker compose` (the v2 CLI plugin) for one project on
// one engine.
type project struct {
	e      engine
	name   string
	file   string
	config string // DOCKER_CONFIG with cli-plugins/docker-compose
}

// newProject installs the compose binary as a CLI plugin in a private
// DOCKER_CONFIG folder and removes the project's resources when the test
// ends, whatever happened.
func newProject(t *testing.T, e engine, plugin, file string) *project {
	t.Helper()
	config := t.TempDir()
	if err := os.Mkdir(filepath.Join(config, "cli-plugins"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(plugin, filepath.Join(config, "cli-plugins", "docker-compose")); err != nil {
		t.Fatal(err)
	}
	abs, err := filepath.Abs(file)
	if err != nil {
		t.Fatal(err)
	}
	base := strings.TrimSuffix(filepath.Base(file), ".yaml")
	p := &project{e: e, name: fmt.Sprintf("slcompose-%s-%d", base, os.Getpid()), file: abs, config: config}
	t.Cleanup(func() {
		if out, err := p.run("--profile", "*", "down", "-v", "-t", "0", "--remove-orphans"); err != nil {
			t.Logf("cleaning up project %s: %v\n%s", p.name, err, out)
		}
	})
	return p
}

// run runs `docker compose -p NAME -f FILE args...` and returns its
// combined output.
func (p *project) run(args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, dockerBinary(), append([]string{"compose", "-p", p.name, "-f", p.file}, args...)...)
	cmd.Env = append(os.Environ(), "DOCKER_HOST="+p.e.host, "DOCKER_CONFIG="+p.config, "SCENARIO_IMAGE="+image)
	out, err := cmd.CombinedOutput()
	if err != nil {
		return string(out), fmt.Errorf("docker compose %s: %w\n%s", strings.Join(args, " "), err, out)
	}
	return string(out), nil
}

func (p *project) must(t *testing.T, args ...string) string {
	t.Helper()
	out, err := p.run(args...)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// docker runs the plain docker CLI against the project's engine.
func (p *project) docker(t *testing.T, args ...string) string {
	t.Helper()
	out, err := dockerCLI(t, p.e.host, p.config, args...)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// psEntry is a line of `docker compose ps --format json`.
type psEntry struct {
	Name, Service, State, Health string
}

func (p *project) ps(t *testing.T, args ...string) []psEntry {
	t.Helper()
	out := p.must(t, append([]string{"ps", "--format", "json"}, args...)...)
	var list []psEntry
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		if line == "" {
			continue
		}
		var e psEntry
		if err := json.Unmarshal([]byte(line), &e); err != nil {
			t.Fatalf("ps line %q: %v", line, err)
		}
		list = append(list, e)
	}
	slices.SortFunc(list, func(a, b psEntry) int { return strings.Compare(a.Name, b.Name) })
	return list
}

// TestCompose runs the project of compose/compose.yaml through its life on
// each engine: up with depends_on service_healthy, ps, logs, exec, run, a
// named volume, a user network, profiles, scale, down -v; and
// compose/ports.yaml, whose loopback port dockerd publishes and the memory
// backend refuses.
func TestCompose(t *testing.T) {
	plugin := clientPath(t, "SOCKERLESS_COMPOSE", "compose")
	for _, e := range engines(t) {
		t.Run(e.name, func(t *testing.T) {
			p := newProject(t, e, plugin, "compose/compose.yaml")
			volume, network := p.name+"_data", p.name+"_backend"
			step := func(name string, fn func(t *testing.T)) { runCase(t, "compose", e, name, fn) }

			step("up_depends_on_healthy", func(t *testing.T) {
				p.must(t, "up", "-d")
				// app may start only once db's health check has passed.
				var db, app []inspected
				if err := json.Unmarshal([]byte(p.docker(t, "inspect", p.name+"-db-1")), &db); err != nil {
					t.Fatal(err)
				}
				if err := json.Unmarshal([]byte(p.docker(t, "inspect", p.name+"-app-1")), &app); err != nil {
					t.Fatal(err)
				}
				if db[0].State.Health == nil {
					t.Fatal("db has no health state")
				}
				var passed time.Time
				for _, l := range db[0].State.Health.Log {
					if l.ExitCode == 0 {
						passed = parseTime(t, l.End)
						break
					}
				}
				started := parseTime(t, app[0].State.StartedAt)
				if passed.IsZero() || started.Before(passed) {
					t.Fatalf("app started at %v, db's first passing health check ended at %v", started, passed)
				}
			})
			step("ps", func(t *testing.T) {
				got := p.ps(t)
				want := []psEntry{
					{p.name + "-app-1", "app", "running", ""},
					{p.name + "-db-1", "db", "running", "healthy"},
					{p.name + "-worker-1", "worker", "running", ""},
					{p.name + "-worker-2", "worker", "running", ""},
				}
				if !slices.Equal(got, want) {
					t.Fatalf("ps:\n got %+v\nwant %+v", got, want)
				}
			})
			step("logs", func(t *testing.T) {
				out := p.must(t, "logs", "--no-color", "--no-log-prefix", "db", "app")
				for _, line := range []string{"db wrote 42", "app read 42"} {
					if !slices.Contains(strings.Split(out, "\n"), line) {
						t.Fatalf("logs lack %q:\n%s", line, out)
					}
				}
			})
			step("exec", func(t *testing.T) {
				if out := p.must(t, "exec", "-T", "db", "sh", "-c", "echo $((2+3)) $(cat /data/answer)"); out != "5 42\n" {
					t.Fatalf("exec output %q", out)
				}
				out, err := p.run("exec", "-T", "app", "sh", "-c", "exit 4")
				if err == nil || !strings.Contains(err.Error(), "exit status 4") {
					t.Fatalf("exec of a failing command: %v %q", err, out)
				}
			})
			step("run", func(t *testing.T) {
				out := p.must(t, "run", "--rm", "-T", "app", "sh", "-c", "echo run $(( $(cat /data/answer) + 1 ))")
				if !strings.HasSuffix(out, "run 43\n") {
					t.Fatalf("run output %q", out)
				}
				if left := p.docker(t, "ps", "-aq", "--filter", "label=com.docker.compose.project="+p.name, "--filter", "label=com.docker.compose.oneoff=True"); left != "" {
					t.Fatalf("run --rm left containers: %q", left)
				}
			})
			step("named_volume", func(t *testing.T) {
				out := p.docker(t, "volume", "inspect", "--format", `{{index .Labels "com.docker.compose.volume"}} {{.Driver}}`, volume)
				if out != "data local\n" {
					t.Fatalf("volume %s: %q", volume, out)
				}
				// What db wrote to the volume, seen through another container.
				if out := p.docker(t, "run", "--rm", "-v", volume+":/v", image, "sh", "-c", "expr $(cat /v/answer) \\* 2"); out != "84\n" {
					t.Fatalf("volume content: %q", out)
				}
			})
			step("user_network", func(t *testing.T) {
				out := p.docker(t, "network", "inspect", "--format", `{{.Driver}} {{len .Containers}}`, network)
				if out != "bridge 4\n" {
					t.Fatalf("network %s: %q", network, out)
				}
				aliases := p.docker(t, "inspect", "--format", `{{json (index .NetworkSettings.Networks "`+network+`").Aliases}}`, p.name+"-app-1")
				var list []string
				if err := json.Unmarshal([]byte(aliases), &list); err != nil {
					t.Fatal(err)
				}
				if !slices.Contains(list, "app") || !slices.Contains(list, "api") {
					t.Fatalf("app's aliases on %s: %v", network, list)
				}
			})
			step("profiles", func(t *testing.T) {
				p.must(t, "--profile", "debug", "up", "-d", "debug")
				if out := p.must(t, "logs", "--no-color", "--no-log-prefix", "debug"); out != "debug tools 100\n" {
					t.Fatalf("debug logs %q", out)
				}
				if got := p.ps(t, "debug"); len(got) != 1 || got[0].State != "running" {
					t.Fatalf("debug: %+v", got)
				}
			})
			step("scale", func(t *testing.T) {
				p.must(t, "up", "-d", "--scale", "worker=3")
				var workers []string
				for _, c := range p.ps(t, "worker") {
					if c.State == "running" {
						workers = append(workers, c.Name)
					}
				}
				if len(workers) != 3 {
					t.Fatalf("running workers %v, want 3", workers)
				}
				if out := p.must(t, "exec", "--index", "3", "-T", "worker", "sh", "-c", "echo $((3*3))"); out != "9\n" {
					t.Fatalf("exec in worker 3: %q", out)
				}
			})
			step("down_volumes", func(t *testing.T) {
				p.must(t, "--profile", "debug", "down", "-v", "-t", "1")
				if left := p.docker(t, "ps", "-aq", "--filter", "label=com.docker.compose.project="+p.name); left != "" {
					t.Fatalf("containers left: %q", left)
				}
				if left := p.docker(t, "volume", "ls", "-q", "--filter", "name="+volume); left != "" {
					t.Fatalf("volume left: %q", left)
				}
				if left := p.docker(t, "network", "ls", "-q", "--filter", "name="+network); left != "" {
					t.Fatalf("network left: %q", left)
				}
			})

			step("published_port", func(t *testing.T) {
				ports := newProject(t, e, plugin, "compose/ports.yaml")
				out, err := ports.run("up", "-d")
				if e.name == "sockerless" {
					// The memory backend has no network stack: refused, by name.
					if err == nil || !strings.Contains(out, "publishing ports (-p, -P) is not supported by the memory backend") {
						t.Fatalf("up with a published port: %v\n%s", err, out)
					}
					return
				}
				if err != nil {
					t.Fatal(err)
				}
				addr := strings.TrimSpace(ports.must(t, "port", "web", "8080"))
				if !strings.HasPrefix(addr, "127.0.0.1:") || addr == "127.0.0.1:0" {
					t.Fatalf("published address %q", addr)
				}
			})
		})
	}
}

// inspected is the part of `docker inspect` the ordering check reads.
type inspected struct {
	State struct {
		StartedAt string
		Health    *struct {
			Log []struct {
				End      string
				ExitCode int
			}
		}
	}
}

func parseTime(t *testing.T, s string) time.Time {
	t.Helper()
	v, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		t.Fatalf("time %q: %v", s, err)
	}
	return v
}
