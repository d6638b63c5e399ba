package clients

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestComposeLifecycle runs compose/lifecycle.yaml on each engine: a
// one-shot init service (service_completed_successfully), env_file and
// environment, entrypoint, working_dir, a read-only bind mount, a tmpfs,
// `up --wait`, cp both ways, top, restart, kill, `up --exit-code-from`, and
// pause and unpause.
func TestComposeLifecycle(t *testing.T) {
	plugin := clientPath(t, "SOCKERLESS_COMPOSE", "compose")
	for _, e := range engines(t) {
		t.Run(e.name, func(t *testing.T) {
			p := newProject(t, e, plugin, "compose/lifecycle.yaml")
			step := func(name string, fn func(t *testing.T)) { runCase(t, "compose", e, name, fn) }

			step("up_wait_completed_init", func(t *testing.T) {
				p.must(t, "up", "-d", "--wait")
				if got := p.ps(t, "-a"); len(got) != 2 || got[0].Service != "app" || got[0].Health != "healthy" || got[1].Service != "init" || got[1].State != "exited" {
					t.Fatalf("ps -a after up --wait: %+v", got)
				}
				// environment wins over env_file; init's output reached app
				// through the volume; the bind mount is the host folder.
				out := p.must(t, "logs", "--no-color", "--no-log-prefix", "app")
				if out != "mode=service seed=42 greeting=hello from a bind mount\n" {
					t.Fatalf("app log %q", out)
				}
			})
			step("mounts", func(t *testing.T) {
				out, err := p.run("exec", "-T", "app", "sh", "-c", "pwd; echo t > /scratch/f && cat /scratch/f; echo x > /conf/new")
				if err == nil || !strings.HasPrefix(out, "/shared\nt\n") {
					t.Fatalf("working dir, tmpfs and a write to the read-only bind mount: %v %q", err, out)
				}
				if _, err := os.Stat("compose/conf/new"); !os.IsNotExist(err) {
					t.Fatalf("the read-only bind mount was written: %v", err)
				}
			})
			step("cp", func(t *testing.T) {
				dir := t.TempDir()
				p.must(t, "cp", "app:/shared/seed", filepath.Join(dir, "seed"))
				if b, err := os.ReadFile(filepath.Join(dir, "seed")); err != nil || string(b) != "42\n" {
					t.Fatalf("copied out %q: %v", b, err)
				}
				if err := os.WriteFile(filepath.Join(dir, "in"), []byte("6 7\n"), 0o644); err != nil {
					t.Fatal(err)
				}
				p.must(t, "cp", filepath.Join(dir, "in"), "app:/tmp/in")
				if out := p.must(t, "exec", "-T", "app", "sh", "-c", "read a b < /tmp/in; echo $((a*b))"); out != "42\n" {
					t.Fatalf("copied in: %q", out)
				}
			})
			step("top", func(t *testing.T) {
				if out := p.must(t, "top", "app"); !strings.Contains(out, "sleep 300") {
					t.Fatalf("top lacks the app's sleep:\n%s", out)
				}
			})
			step("restart_kill", func(t *testing.T) {
				p.must(t, "exec", "-T", "app", "sh", "-c", "echo kept > /shared/mark")
				p.must(t, "restart", "-t", "0", "app")
				if out := p.must(t, "exec", "-T", "app", "cat", "/shared/mark"); out != "kept\n" {
					t.Fatalf("after restart: %q", out)
				}
				p.must(t, "kill", "-s", "SIGKILL", "app")
				out := p.docker(t, "inspect", "--format", "{{.State.Status}} {{.State.ExitCode}}", p.name+"-app-1")
				if out != "exited 137\n" {
					t.Fatalf("after kill: %q", out)
				}
			})
			step("exit_code_from", func(t *testing.T) {
				out, err := p.run("--profile", "job", "up", "--exit-code-from", "job", "job")
				if err == nil || !strings.Contains(err.Error(), "exit status 3") || !strings.Contains(out, "job sum 50") {
					t.Fatalf("up --exit-code-from job: %v\n%s", err, out)
				}
			})
			step("pause", func(t *testing.T) {
				p.must(t, "up", "-d", "--wait", "app")
				p.must(t, "pause", "app")
				if got := p.ps(t, "app"); len(got) != 1 || got[0].State != "paused" {
					t.Fatalf("after pause: %+v", got)
				}
				p.must(t, "unpause", "app")
				if out := p.must(t, "exec", "-T", "app", "sh", "-c", "echo $((1+1))"); out != "2\n" {
					t.Fatalf("exec after unpause: %q", out)
				}
			})
		})
	}
}
