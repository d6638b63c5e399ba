package integration

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/docker/go-units"
)

// TestDockerCLI drives the daemon with the real docker CLI through what a
// user does first: run with computed output, detached with logs -f, exec,
// cp both ways, stop and kill, ps filters, volumes, restart policy.
func TestDockerCLI(t *testing.T) {
	d := startDaemon(t, "")
	t.Parallel()

	t.Run("images lists the built-in image from the first start", func(t *testing.T) {
		if out := d.must(t, "images", "--format", "{{.Repository}}:{{.Tag}}"); !strings.Contains(out, baseImage) {
			t.Fatalf("images: %q", out)
		}
	})
	t.Run("info says where plain-HTTP registries may be", func(t *testing.T) {
		// The pull path refuses plain HTTP off loopback (internal/image), as
		// dockerd's default; docker info shows that list and the index.
		out := d.must(t, "info", "--format", "{{.IndexServerAddress}} {{json .RegistryConfig.InsecureRegistryCIDRs}}")
		if want := `https://index.docker.io/v1/ ["::1/128","127.0.0.0/8"]` + "\n"; out != want {
			t.Fatalf("info: %q, want %q", out, want)
		}
	})
	t.Run("run computes", func(t *testing.T) {
		if out := d.must(t, "run", "--rm", baseImage, "sh", "-c", "echo $((6*7))"); out != "42\n" {
			t.Fatalf("run: %q", out)
		}
	})
	t.Run("run exit code and stdin", func(t *testing.T) {
		out, err := d.dockerIn("echo from-stdin $((2+3))\nexit 5\n", "run", "-i", "--rm", baseImage, "sh")
		if out != "from-stdin 5\n" || err == nil || !strings.Contains(err.Error(), "exit status 5") {
			t.Fatalf("run -i: %q %v", out, err)
		}
	})
	t.Run("detached and logs -f", func(t *testing.T) {
		d.must(t, "run", "-d", "--name", "bg", baseImage, "sh", "-c", "for i in 1 2 3; do echo line$i; done; echo oops >&2")
		if out := d.must(t, "logs", "-f", "bg"); out != "line1\nline2\nline3\n" {
			t.Fatalf("logs -f stdout: %q", out)
		}
		if out := d.must(t, "wait", "bg"); out != "0\n" {
			t.Fatalf("wait: %q", out)
		}
	})
	t.Run("exec with env and workdir", func(t *testing.T) {
		d.must(t, "run", "-d", "--name", "idle", baseImage, "tail", "-f", "/dev/null")
		if out := d.must(t, "exec", "-e", "FOO=bar", "-w", "/tmp", "idle", "sh", "-c", "echo $FOO $(pwd) $((7*6))"); out != "bar /tmp 42\n" {
			t.Fatalf("exec: %q", out)
		}
		if _, err := d.docker("exec", "idle", "sh", "-c", "exit 9"); err == nil || !strings.Contains(err.Error(), "exit status 9") {
			t.Fatalf("exec exit code: %v", err)
		}
	})
	t.Run("cp both ways", func(t *testing.T) {
		src := filepath.Join(t.TempDir(), "in.txt")
		if err := os.WriteFile(src, []byte("copied in\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		d.must(t, "cp", src, "idle:/root/in.txt")
		if out := d.must(t, "exec", "idle", "cat", "/root/in.txt"); out != "copied in\n" {
			t.Fatalf("cp in: %q", out)
		}
		d.must(t, "exec", "idle", "sh", "-c", "mkdir -p /out/sub && echo $((40+2)) > /out/sub/answer")
		dst := t.TempDir()
		d.must(t, "cp", "idle:/out", dst)
		b, err := os.ReadFile(filepath.Join(dst, "out", "sub", "answer"))
		if err != nil || string(b) != "42\n" {
			t.Fatalf("cp out: %q %v", b, err)
		}
	})
	t.Run("cp out of DIR/. copies the contents, through a link with a trailing slash", func(t *testing.T) {
		d.must(t, "exec", "idle", "sh", "-c", "mkdir -p /arts/job && echo $((6*7)) > /arts/job/answer && ln -s arts /artslink")
		dst := t.TempDir()
		d.must(t, "cp", "idle:/arts/.", dst+"/.")
		if b, err := os.ReadFile(filepath.Join(dst, "job", "answer")); err != nil || string(b) != "42\n" {
			t.Fatalf("cp DIR/.: %q %v", b, err)
		}
		linked := t.TempDir()
		d.must(t, "cp", "idle:/artslink/", linked+"/copy")
		if b, err := os.ReadFile(filepath.Join(linked, "copy", "job", "answer")); err != nil || string(b) != "42\n" {
			t.Fatalf("cp LINK/: %q %v", b, err)
		}
		if _, err := d.docker("cp", "idle:/arts/job/answer/.", t.TempDir()); err == nil || !strings.Contains(err.Error(), "not a directory") {
			t.Fatalf("cp FILE/.: %v", err)
		}
	})
	t.Run("containers of one image do not share writes", func(t *testing.T) {
		d.must(t, "run", "--rm", baseImage, "sh", "-c", "echo intruder >> /etc/passwd; chmod +x /etc/group; rm /bin/cat")
		if out := d.must(t, "run", "--rm", baseImage, "sh", "-c", "grep -c intruder /etc/passwd; test -x /etc/group && echo shared-mode || echo own-mode; ls /bin/cat"); out != "0\nown-mode\n/bin/cat\n" {
			t.Fatalf("second container saw the first one's writes: %q", out)
		}
	})
	t.Run("diff lists changes against the image", func(t *testing.T) {
		d.must(t, "run", "--name", "differ", baseImage, "sh", "-c", "mkdir -p /app && echo x > /app/f && rm /bin/yes")
		if out := d.must(t, "diff", "differ"); out != "A /app\nA /app/f\nC /bin\nD /bin/yes\n" {
			t.Fatalf("diff: %q", out)
		}
	})
	t.Run("sizes measure what a container wrote", func(t *testing.T) {
		memoryBackendOnly(t, "the engine's writable layer holds its mount-point stubs, so SizeRw is never 0 (the sandbox writes nothing into a root)")
		d.must(t, "create", "--name", "unwritten", baseImage, "true")
		d.must(t, "run", "--name", "writer", baseImage, "sh", "-c", "head -c 5000 /dev/zero > /big")
		var rw0, root0, rw, root int64
		if _, err := fmt.Sscan(d.must(t, "inspect", "-s", "-f", "{{.SizeRw}} {{.SizeRootFs}}", "unwritten"), &rw0, &root0); err != nil {
			t.Fatal(err)
		}
		if _, err := fmt.Sscan(d.must(t, "inspect", "-s", "-f", "{{.SizeRw}} {{.SizeRootFs}}", "writer"), &rw, &root); err != nil {
			t.Fatal(err)
		}
		// Disk blocks, as the engine's containerd snapshotter counts them:
		// the 5000 bytes written take whole blocks, and the writable
		// layer's top folder is counted even when nothing was written.
		if rw0 < 0 || root0 <= 0 || rw-rw0 < 5000 || (rw-rw0)%512 != 0 || root-root0 != rw-rw0 {
			t.Fatalf("sizes: unwritten %d/%d, writer %d/%d", rw0, root0, rw, root)
		}
		if out := d.must(t, "ps", "-a", "-s", "--filter", "name=^writer$", "--format", "{{.Size}}"); !strings.HasPrefix(out, units.HumanSizeWithPrecision(float64(rw), 3)+" (virtual ") {
			t.Fatalf("ps -s: %q for %d bytes", out, rw)
		}
		d.must(t, "rm", "unwritten") // a created container would confuse later subtests' filters
	})
	t.Run("stop and kill exit codes", func(t *testing.T) {
		memoryBackendOnly(t, "sleep is PID 1, ignores SIGTERM and is killed (137), as on dockerd; in the sandbox SIGTERM ends it (143)")
		d.must(t, "run", "-d", "--name", "stopme", baseImage, "sleep", "100")
		d.must(t, "stop", "stopme")
		if out := d.must(t, "inspect", "-f", "{{.State.ExitCode}} {{.State.Status}}", "stopme"); out != "143 exited\n" {
			t.Fatalf("stop: %q", out)
		}
		d.must(t, "run", "-d", "--name", "killme", baseImage, "sleep", "100")
		d.must(t, "kill", "killme")
		if out := d.must(t, "wait", "killme"); out != "137\n" {
			t.Fatalf("kill: %q", out)
		}
	})
	t.Run("ps filters", func(t *testing.T) {
		memoryBackendOnly(t, "the exit codes of the stop and kill subtest differ (see there)")
		d.must(t, "run", "-d", "--name", "labelled", "--label", "team=ci", baseImage, "sleep", "100")
		names := func(args ...string) []string {
			out := d.must(t, append([]string{"ps", "--format", "{{.Names}}"}, args...)...)
			n := strings.Fields(out)
			slices.Sort(n)
			return n
		}
		if got := names("--filter", "label=team=ci"); !slices.Equal(got, []string{"labelled"}) {
			t.Errorf("label filter: %v", got)
		}
		if got := names("-a", "--filter", "exited=137"); !slices.Equal(got, []string{"killme"}) {
			t.Errorf("exited filter: %v", got)
		}
		if got := names("-a", "--filter", "status=exited", "--filter", "name=stop"); !slices.Equal(got, []string{"stopme"}) {
			t.Errorf("status+name filter: %v", got)
		}
		if got := names(); !slices.Contains(got, "idle") || slices.Contains(got, "stopme") {
			t.Errorf("running only: %v", got)
		}
	})
	t.Run("volume shared across containers", func(t *testing.T) {
		d.must(t, "volume", "create", "shared")
		d.must(t, "run", "--rm", "-v", "shared:/data", baseImage, "sh", "-c", "echo $((6*7)) > /data/answer")
		if out := d.must(t, "run", "--rm", "-v", "shared:/data:ro", baseImage, "cat", "/data/answer"); out != "42\n" {
			t.Fatalf("volume: %q\ndaemon log:\n%s", out, d.log.String())
		}
		if _, err := d.docker("run", "--rm", "-v", "shared:/data:ro", baseImage, "sh", "-c", "echo x > /data/answer"); err == nil {
			t.Fatal("write to a read-only volume succeeded")
		}
	})
	t.Run("logs are records of lines", func(t *testing.T) {
		d.must(t, "run", "--name", "lines", baseImage, "sh", "-c", "printf 'a\\nb'; printf 'c\\n'; seq 3; printf tail")
		if out := d.must(t, "logs", "--tail", "2", "lines"); out != "3\ntail" {
			t.Errorf("--tail 2: %q", out)
		}
		out := d.must(t, "logs", "-t", "lines")
		lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
		if len(lines) != 6 || !strings.HasSuffix(lines[1], " bc") || !strings.HasSuffix(lines[5], " tail") {
			t.Errorf("-t: %q", out)
		}
	})
	t.Run("entrypoint override and anonymous volumes", func(t *testing.T) {
		if out := d.must(t, "run", "--rm", "--entrypoint", "", baseImage, "echo", "no-entrypoint"); out != "no-entrypoint\n" {
			t.Errorf("--entrypoint '': %q", out)
		}
		if out := d.must(t, "run", "--rm", "--entrypoint", "sh", baseImage, "-c", "echo $((2*21))"); out != "42\n" {
			t.Errorf("--entrypoint sh: %q", out)
		}
		if out := d.must(t, "run", "--rm", "-v", "/anon", baseImage, "sh", "-c", "test -d /anon && echo mounted"); out != "mounted\n" {
			t.Errorf("-v /anon: %q", out)
		}
	})
	t.Run("what the backend cannot do is refused", func(t *testing.T) {
		memoryBackendOnly(t, "processes run as other users (-u)")
		if _, err := d.docker("run", "--rm", "-p", "8080:80", baseImage, "true"); err == nil || !strings.Contains(err.Error(), "publishing ports") {
			t.Errorf("-p: %v", err)
		}
		done := make(chan error, 1)
		go func() { _, err := d.docker("run", "--rm", "-u", "1000", baseImage, "id"); done <- err }()
		select {
		case err := <-done:
			if err == nil || !strings.Contains(err.Error(), "every process runs as root") {
				t.Errorf("-u 1000: %v", err)
			}
		case <-time.After(30 * time.Second):
			t.Fatal("docker run --rm of a container that cannot start hangs")
		}
		if out := d.must(t, "ps", "-a", "--filter", "status=created", "--format", "{{.Image}}"); strings.Contains(out, baseImage) {
			t.Errorf("--rm container left behind: %q", out)
		}
	})
	t.Run("tmpfs mounts", func(t *testing.T) {
		if out := d.must(t, "run", "--rm", "--tmpfs", "/scratch", "--mount", "type=tmpfs,destination=/t2", baseImage, "sh", "-c", "echo $((6*7)) > /scratch/a && cat /scratch/a && touch /t2/b && ls /t2"); out != "42\nb\n" {
			t.Fatalf("tmpfs: %q", out)
		}
	})
	t.Run("restart policy restarts", func(t *testing.T) {
		d.must(t, "run", "-d", "--name", "flaky", "--restart", "on-failure:2", baseImage, "sh", "-c", "echo try; exit 1")
		deadline := time.Now().Add(20 * time.Second)
		for time.Now().Before(deadline) {
			if out := d.must(t, "inspect", "-f", "{{.RestartCount}} {{.State.Status}}", "flaky"); out == "2 exited\n" {
				if logs := d.must(t, "logs", "flaky"); logs != "try\ntry\ntry\n" {
					t.Fatalf("logs of 3 runs: %q", logs)
				}
				return
			}
			time.Sleep(50 * time.Millisecond)
		}
		t.Fatal("restart policy did not run the container 3 times")
	})
	t.Run("errors look like dockerd's", func(t *testing.T) {
		if _, err := d.docker("inspect", "--type", "container", "nosuch"); err == nil || !strings.Contains(err.Error(), "No such container: nosuch") {
			t.Errorf("unknown container: %v", err)
		}
		if _, err := d.docker("run", "--name", "idle", baseImage, "true"); err == nil || !strings.Contains(err.Error(), `The container name "/idle" is already in use`) {
			t.Errorf("name conflict: %v", err)
		}
		if _, err := d.docker("run", "--rm", "--pull", "never", "no/such-image:1", "true"); err == nil || !strings.Contains(err.Error(), "No such image") && !strings.Contains(err.Error(), "Unable to find image") {
			t.Errorf("missing image: %v", err)
		}
		// The start fails in runc's words, from which the CLI takes 127.
		if _, err := d.docker("run", "--rm", baseImage, "/bin/no-such-binary"); err == nil || !strings.Contains(err.Error(), "exit status 127") ||
			!strings.Contains(err.Error(), `error during container init: exec: "/bin/no-such-binary": stat /bin/no-such-binary: no such file or directory`) {
			t.Errorf("missing binary: %v", err)
		}
	})
}

// TestMemoryBackendBindsFolders: a bind of an existing file or socket is
// refused with an error naming what the memory backend lacks (act binds
// the Docker socket by default), a missing source becomes a folder as with
// dockerd, and a folder bind carries computed output back to the host.
func TestMemoryBackendBindsFolders(t *testing.T) {
	d := startDaemonArgs(t, "")
	t.Parallel()
	dir := t.TempDir()
	file := filepath.Join(dir, "file.txt")
	if err := os.WriteFile(file, []byte("x\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := d.docker("run", "--rm", "-v", file+":/etc/file.txt", builtinImage, "true")
	if err == nil || !strings.Contains(err.Error(), "memory backend: binding "+file+" at /etc/file.txt is not supported: it mounts folders, not single files or sockets") {
		t.Fatalf("file bind: %v", err)
	}
	made := filepath.Join(dir, "made", "here")
	d.must(t, "run", "--rm", "-v", made+":/out", builtinImage, "sh", "-c", "echo $((6*7)) > /out/answer")
	if b, err := os.ReadFile(filepath.Join(made, "answer")); err != nil || string(b) != "42\n" {
		t.Fatalf("folder bind: %q %v", b, err)
	}
}
