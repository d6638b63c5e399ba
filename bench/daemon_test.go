// Package bench measures the sockerless daemon against the reference dockerd
// (hack/dockerd.sh) in the same run, with the same offline image on both:
// `docker run --rm` and `docker exec` through the real docker CLI,
// create/start/wait/remove throughput through the official Go client, and
// the resident memory of the daemons, idle and with 100 idle containers.
//
//	make bench
//	# or, with the reference engine and its images in place:
//	eval "$(hack/dockerd.sh env)" && go test -run '^$' -bench . -benchtime 1x ./bench/
//
// TestMain builds cmd/sockerless (without -race), starts it on a private
// socket and data root, loads busybox-image.tar from the hack/testimages.sh
// cache into it with `docker load`, and stops it by PID at the end. The
// benchmarks report figures only; none of them asserts on a time. They skip
// when the reference engine or the image tarball is missing, or fail when
// $SOCKERLESS_REQUIRE contains "dockerd".
package bench

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/client"

	"github.com/sockerless/sockerless/internal/testenv"
)

const (
	image = testenv.BusyboxImage

	// runs is how many timed CLI invocations each engine gets per figure.
	runs = 20
	// cycleCount and cycleConcurrency shape the Go client throughput test;
	// cycleLimit bounds it in time on each engine.
	cycleCount       = 200
	cycleConcurrency = 8
	cycleLimit       = 120 * time.Second
	// idleCount containers are started on sockerless for the memory figure,
	// dockerdIdleCount on dockerd (about 0.5 s and 15 MiB each there; the
	// figure is scaled to 100), each within idleLimit.
	idleCount        = 100
	dockerdIdleCount = 10
	idleLimit        = 120 * time.Second
	// cliTimeout bounds one docker CLI invocation.
	cliTimeout = 60 * time.Second
	// labelKey marks every container these benchmarks create, with this
	// process's PID as the value, so cleanup never touches anyone else's.
	labelKey = "sockerless.bench"
)

var (
	labelValue = strconv.Itoa(os.Getpid())

	// Set up by TestMain.
	sl        *daemon // the sockerless daemon, nil when setUp failed
	setUpErr  error   // why there is no sl
	noImage   string  // why the image could not be loaded, if it could not
	dockerCfg string  // an empty DOCKER_CONFIG for the CLI
	idleRSSkB int64   // sockerless VmRSS after start and one `docker version`
)

func TestMain(m *testing.M) {
	flag.Parse()
	// `go test ./...` runs no benchmarks: do not build and start a daemon
	// for nothing.
	if f := flag.Lookup("test.bench"); f == nil || f.Value.String() == "" {
		os.Exit(m.Run())
	}
	dir, err := os.MkdirTemp("", "sockerless-bench-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	dockerCfg = filepath.Join(dir, "docker-config")
	if err := os.Mkdir(dockerCfg, 0o700); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	sl, setUpErr = startDaemon(dir)
	code := m.Run()
	if sl != nil {
		if err := sl.stop(); err != nil {
			fmt.Fprintln(os.Stderr, err)
			code = 1
		}
	}
	if err := os.RemoveAll(dir); err != nil {
		fmt.Fprintln(os.Stderr, err)
	}
	os.Exit(code)
}

// daemon is the sockerless process under test.
type daemon struct {
	cmd  *exec.Cmd
	host string
	log  *bytes.Buffer
	done chan struct{} // closed when cmd.Wait returned
	err  error         // cmd.Wait's result, after done
}

func startDaemon(dir string) (*daemon, error) {
	bin := filepath.Join(dir, "sockerless")
	if out, err := exec.Command("go", "build", "-o", bin, "../cmd/sockerless").CombinedOutput(); err != nil {
		return nil, fmt.Errorf("build: %v\n%s", err, out)
	}
	socket := filepath.Join(dir, "s.sock")
	d := &daemon{host: "unix://" + socket, log: &bytes.Buffer{}, done: make(chan struct{})}
	d.cmd = exec.Command(bin, "serve", "-H", d.host, "--data-root", filepath.Join(dir, "data"))
	d.cmd.Stdout, d.cmd.Stderr = d.log, d.log
	if err := d.cmd.Start(); err != nil {
		return nil, err
	}
	go func() { d.err = d.cmd.Wait(); close(d.done) }()
	deadline := time.Now().Add(30 * time.Second)
	for {
		if _, err := os.Stat(socket); err == nil {
			if out, err := cli(d.host, "version", "--format", "{{.Server.Version}}"); err == nil && out != "" {
				break
			}
		}
		select {
		case <-d.done:
			return nil, fmt.Errorf("sockerless exited: %v\n%s", d.err, d.log.String())
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			err := d.stop()
			return nil, fmt.Errorf("sockerless did not come up in 30 s (stop: %v)\n%s", err, d.log.String())
		}
	}
	idleRSSkB = treeRSS([]int{d.cmd.Process.Pid})

	tarball := filepath.Join(cacheDir(), "images", "busybox-image.tar")
	if _, err := os.Stat(tarball); err != nil {
		noImage = fmt.Sprintf("no offline image: %v (run hack/testimages.sh)", err)
	} else if out, err := cli(d.host, "load", "-i", tarball); err != nil {
		return d, fmt.Errorf("load %s: %v\n%s", tarball, err, out)
	} else if want := "Loaded image: " + image + "\n"; out != want {
		return d, fmt.Errorf("load %s: %q, want %q", tarball, out, want)
	}
	return d, nil
}

// stop ends the daemon by its PID: SIGTERM, then SIGKILL after 20 s.
func (d *daemon) stop() error {
	if err := d.cmd.Process.Signal(syscall.SIGTERM); err != nil && !errors.Is(err, os.ErrProcessDone) {
		return fmt.Errorf("signal sockerless (pid %d): %w", d.cmd.Process.Pid, err)
	}
	select {
	case <-d.done:
		return nil
	case <-time.After(20 * time.Second):
	}
	if err := d.cmd.Process.Kill(); err != nil && !errors.Is(err, os.ErrProcessDone) {
		return err
	}
	<-d.done
	return fmt.Errorf("sockerless (pid %d) ignored SIGTERM for 20 s; killed", d.cmd.Process.Pid)
}

func cacheDir() string {
	if c := os.Getenv("SOCKERLESS_CACHE"); c != "" {
		return c
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return ".cache/sockerless"
	}
	return filepath.Join(home, ".cache", "sockerless")
}

// engine is one of the two daemons as the benchmarks see it.
type engine struct {
	name string
	host string
	cli  *client.Client
	pid  int // the daemon's PID, 0 when unknown
}

// engines returns sockerless and the reference dockerd, both with the image,
// or skips (fails under SOCKERLESS_REQUIRE=dockerd). Each engine's labelled
// containers are removed when b ends.
func engines(b *testing.B) (s, d *engine) {
	b.Helper()
	if setUpErr != nil {
		b.Fatalf("sockerless set-up: %v", setUpErr)
	}
	if noImage != "" {
		if testenv.Required("dockerd") {
			b.Fatal(noImage)
		}
		b.Skip(noImage)
	}
	dcli := testenv.DockerClient(b)
	testenv.RequireImage(b, dcli, image)
	d = &engine{name: "dockerd", host: testenv.DockerHost(b), cli: dcli, pid: dockerdPID()}

	scli, err := client.New(client.WithHost(sl.host))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() {
		if err := scli.Close(); err != nil {
			b.Error(err)
		}
	})
	s = &engine{name: "sockerless", host: sl.host, cli: scli, pid: sl.cmd.Process.Pid}
	for _, e := range []*engine{s, d} {
		b.Cleanup(func() { e.removeOurs(b) })
	}
	return s, d
}

// removeOurs force-removes every container this process labelled.
func (e *engine) removeOurs(tb testing.TB) {
	ctx, cancel := context.WithTimeout(context.Background(), 120*time.Second)
	defer cancel()
	list, err := e.cli.ContainerList(ctx, client.ContainerListOptions{
		All:     true,
		Filters: make(client.Filters).Add("label", labelKey+"="+labelValue),
	})
	if err != nil {
		tb.Errorf("%s: listing our containers: %v", e.name, err)
		return
	}
	for _, c := range list.Items {
		if _, err := e.cli.ContainerRemove(ctx, c.ID, client.ContainerRemoveOptions{Force: true}); err != nil {
			tb.Errorf("%s: remove %s: %v", e.name, c.ID, err)
		}
	}
}

// cli runs the real docker CLI against host and returns its stdout.
func cli(host string, args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), cliTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, dockerCLI(), args...)
	cmd.Env = append(os.Environ(), "DOCKER_HOST="+host, "DOCKER_CONFIG="+dockerCfg, "DOCKER_CONTEXT=")
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		return out.String(), fmt.Errorf("docker %s: %w: %s", strings.Join(args, " "), err, errb.String())
	}
	return out.String(), nil
}

func dockerCLI() string {
	if _, err := os.Stat("/usr/local/bin/docker"); err == nil {
		return "/usr/local/bin/docker"
	}
	return "docker"
}

// timeCLI returns the wall time of one CLI invocation, process start to exit.
func (e *engine) timeCLI(b *testing.B, args ...string) time.Duration {
	b.Helper()
	start := time.Now()
	if out, err := cli(e.host, args...); err != nil {
		b.Fatalf("%s: %v (stdout %q)", e.name, err, out)
	}
	return time.Since(start)
}

// medianTimes runs each engine's command runs times, interleaved so that a
// slow patch of the machine hits both, after one untimed warm-up each.
func medianTimes(b *testing.B, s, d *engine, sArgs, dArgs []string) (sMed, dMed time.Duration) {
	b.Helper()
	s.timeCLI(b, sArgs...)
	d.timeCLI(b, dArgs...)
	var st, dt []time.Duration
	for range runs {
		st = append(st, s.timeCLI(b, sArgs...))
		dt = append(dt, d.timeCLI(b, dArgs...))
	}
	return median(st), median(dt)
}

func median(ds []time.Duration) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[len(s)/2]
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// BenchmarkRunRm times `docker run --rm IMAGE true` through the docker CLI
// on each engine (median of 20), and `docker version` as the CLI's floor.
func BenchmarkRunRm(b *testing.B) {
	s, d := engines(b)
	run := []string{"run", "--rm", "--label", labelKey + "=" + labelValue, image, "true"}
	version := []string{"version", "--format", "{{.Server.Version}}"}
	for b.Loop() {
		sRun, dRun := medianTimes(b, s, d, run, run)
		sVer, dVer := medianTimes(b, s, d, version, version)
		b.ReportMetric(ms(sRun), "sockerless-ms/run")
		b.ReportMetric(ms(dRun), "dockerd-ms/run")
		b.ReportMetric(ms(dRun)/ms(sRun), "dockerd/sockerless")
		b.ReportMetric(ms(sVer), "sockerless-ms/version")
		b.ReportMetric(ms(dVer), "dockerd-ms/version")
		b.Logf("docker run --rm %s true, median of %d: sockerless %.1f ms, dockerd %.1f ms, dockerd/sockerless %.2fx; "+
			"docker version (CLI floor): sockerless %.1f ms, dockerd %.1f ms; run minus floor: sockerless %.1f ms, dockerd %.1f ms",
			image, runs, ms(sRun), ms(dRun), ms(dRun)/ms(sRun), ms(sVer), ms(dVer), ms(sRun-sVer), ms(dRun-dVer))
	}
}

// BenchmarkExec times `docker exec C true` through the docker CLI, C a
// running `tail -f /dev/null` container on each engine (median of 20).
func BenchmarkExec(b *testing.B) {
	s, d := engines(b)
	ids := map[*engine]string{}
	for _, e := range []*engine{s, d} {
		out, err := cli(e.host, "run", "-d", "--label", labelKey+"="+labelValue, image, "tail", "-f", "/dev/null")
		if err != nil {
			b.Fatalf("%s: %v", e.name, err)
		}
		ids[e] = strings.TrimSpace(out)
	}
	for b.Loop() {
		sExec, dExec := medianTimes(b, s, d, []string{"exec", ids[s], "true"}, []string{"exec", ids[d], "true"})
		b.ReportMetric(ms(sExec), "sockerless-ms/exec")
		b.ReportMetric(ms(dExec), "dockerd-ms/exec")
		b.ReportMetric(ms(dExec)/ms(sExec), "dockerd/sockerless")
		b.Logf("docker exec C true, median of %d: sockerless %.1f ms, dockerd %.1f ms, dockerd/sockerless %.2fx",
			runs, ms(sExec), ms(dExec), ms(dExec)/ms(sExec))
	}
}

// BenchmarkCycles measures create+start+wait+remove cycles of `true`
// through the Go client, 8 at a time, 200 per engine (bounded in time).
func BenchmarkCycles(b *testing.B) {
	s, d := engines(b)
	for b.Loop() {
		rate := map[*engine]float64{}
		for _, e := range []*engine{s, d} {
			n, elapsed, err := e.cycles(cycleCount, cycleConcurrency, cycleLimit)
			if err != nil {
				b.Fatalf("%s: after %d cycles: %v", e.name, n, err)
			}
			rate[e] = float64(n) / elapsed.Seconds()
			if n < cycleCount {
				b.Logf("%s: only %d of %d cycles within %v", e.name, n, cycleCount, cycleLimit)
			}
			b.ReportMetric(rate[e], e.name+"-cycles/s")
		}
		b.ReportMetric(rate[s]/rate[d], "sockerless/dockerd")
		b.Logf("create+start+wait+remove of true, %d cycles at concurrency %d: sockerless %.1f/s, dockerd %.1f/s, sockerless/dockerd %.2fx",
			cycleCount, cycleConcurrency, rate[s], rate[d], rate[s]/rate[d])
	}
}

// cycles runs up to n cycles on conc workers, stopping early at limit; it
// returns the number completed, the time taken and the first error.
func (e *engine) cycles(n, conc int, limit time.Duration) (int, time.Duration, error) {
	ctx, cancel := context.WithTimeout(context.Background(), limit)
	defer cancel()
	todo := make(chan struct{}, n)
	for range n {
		todo <- struct{}{}
	}
	close(todo)
	var (
		mu    sync.Mutex
		done  int
		first error
	)
	start := time.Now()
	var wg sync.WaitGroup
	for range conc {
		wg.Go(func() {
			for range todo {
				if ctx.Err() != nil {
					return
				}
				err := e.cycle(ctx)
				mu.Lock()
				if err == nil {
					done++
				} else if first == nil && ctx.Err() == nil {
					first = err
					cancel()
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	return done, time.Since(start), first
}

// cycle creates a container running true, starts it, waits for its exit
// and removes it.
func (e *engine) cycle(ctx context.Context) error {
	created, err := e.cli.ContainerCreate(ctx, client.ContainerCreateOptions{
		Config: &container.Config{Image: image, Cmd: []string{"true"}, Labels: map[string]string{labelKey: labelValue}},
	})
	if err != nil {
		return fmt.Errorf("create: %w", err)
	}
	err = e.startAndWait(ctx, created.ID)
	// Remove even when the cycle failed or ran out of time.
	rctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, rerr := e.cli.ContainerRemove(rctx, created.ID, client.ContainerRemoveOptions{Force: err != nil}); rerr != nil && err == nil {
		err = fmt.Errorf("remove: %w", rerr)
	}
	return err
}

func (e *engine) startAndWait(ctx context.Context, id string) error {
	// The wait is registered before the POST returns, so the exit cannot be
	// missed.
	wait := e.cli.ContainerWait(ctx, id, client.ContainerWaitOptions{Condition: container.WaitConditionNextExit})
	if _, err := e.cli.ContainerStart(ctx, id, client.ContainerStartOptions{}); err != nil {
		return fmt.Errorf("start: %w", err)
	}
	select {
	case res := <-wait.Result:
		if res.Error != nil {
			return fmt.Errorf("wait: %s", res.Error.Message)
		}
		if res.StatusCode != 0 {
			return fmt.Errorf("exit code %d", res.StatusCode)
		}
		return nil
	case err := <-wait.Error:
		return fmt.Errorf("wait: %w", err)
	}
}

// BenchmarkIdleRSS reports the resident memory of the sockerless process
// idle (after start and one `docker version`) and the memory 100 idle
// `tail -f /dev/null` containers add to it; for comparison, the same for
// dockerd (dockerd and its containerd idle; for the containers, what 10 of
// them add to dockerd, containerd, their shims and processes, times 10).
func BenchmarkIdleRSS(b *testing.B) {
	s, d := engines(b)
	for b.Loop() {
		sBefore, sAfter := s.idleContainers(b, idleCount)
		b.ReportMetric(kToM(idleRSSkB), "sockerless-idle-MiB")
		b.ReportMetric(kToM(sAfter-sBefore), "sockerless-MiB/100-idle")
		if d.pid == 0 {
			b.Logf("sockerless: idle %.1f MiB; before %d containers %.1f MiB, with them %.1f MiB: +%.1f MiB per %d; "+
				"dockerd: no PID from %s, no memory figures",
				kToM(idleRSSkB), idleCount, kToM(sBefore), kToM(sAfter), kToM(sAfter-sBefore), idleCount, dockerdPIDFile())
			continue
		}
		dBefore, dAfter := d.idleContainers(b, dockerdIdleCount)
		dAdded := (dAfter - dBefore) * idleCount / dockerdIdleCount
		b.ReportMetric(kToM(dBefore), "dockerd+containerd-MiB")
		b.ReportMetric(kToM(dAdded), "dockerd-MiB/100-idle")
		if sAfter > sBefore {
			b.ReportMetric(float64(dAdded)/float64(sAfter-sBefore), "dockerd/sockerless-per-container")
		}
		b.Logf("RSS: sockerless idle %.1f MiB (%.1f MiB with the image loaded and the other benchmarks run), +%.1f MiB per %d idle containers; "+
			"dockerd+containerd idle %.1f MiB, +%.1f MiB per %d (measured on %d: dockerd, containerd, shims, tail processes); "+
			"per container dockerd/sockerless %.0fx",
			kToM(idleRSSkB), kToM(sBefore), kToM(sAfter-sBefore), idleCount,
			kToM(dBefore), kToM(dAdded), idleCount, dockerdIdleCount, float64(dAdded)/float64(sAfter-sBefore))
	}
}

func kToM(kB int64) float64 { return float64(kB) / 1024 }

// idleContainers starts count `tail -f /dev/null` containers through the
// Go client, waits until they all run, and returns the engine's RSS (kB)
// before and with them; it removes them afterwards.
func (e *engine) idleContainers(b *testing.B, count int) (before, after int64) {
	b.Helper()
	defer e.removeOurs(b)
	before = e.rss(nil)
	ctx, cancel := context.WithTimeout(context.Background(), idleLimit)
	defer cancel()
	todo := make(chan struct{}, count)
	for range count {
		todo <- struct{}{}
	}
	close(todo)
	var (
		mu    sync.Mutex
		ids   []string
		first error
	)
	var wg sync.WaitGroup
	for range cycleConcurrency {
		wg.Go(func() {
			for range todo {
				if ctx.Err() != nil {
					return
				}
				id, err := e.startIdle(ctx)
				mu.Lock()
				if id != "" {
					ids = append(ids, id)
				}
				if err != nil && first == nil {
					first = err
					cancel()
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if first != nil {
		b.Fatalf("%s: starting idle containers: %v", e.name, first)
	}
	if err := ctx.Err(); err != nil {
		b.Fatalf("%s: started %d of %d idle containers within %v", e.name, len(ids), count, idleLimit)
	}
	// Every one of them must be running before the figure is taken.
	for {
		list, err := e.cli.ContainerList(ctx, client.ContainerListOptions{
			Filters: make(client.Filters).Add("label", labelKey+"="+labelValue).Add("status", "running"),
		})
		if err != nil {
			b.Fatalf("%s: %v", e.name, err)
		}
		if len(list.Items) >= count {
			break
		}
		select {
		case <-ctx.Done():
			b.Fatalf("%s: %d of %d idle containers running after %v", e.name, len(list.Items), count, idleLimit)
		case <-time.After(100 * time.Millisecond):
		}
	}
	time.Sleep(time.Second) // let the start-up garbage settle
	return before, e.rss(ids)
}

func (e *engine) startIdle(ctx context.Context) (string, error) {
	created, err := e.cli.ContainerCreate(ctx, client.ContainerCreateOptions{
		Config: &container.Config{Image: image, Cmd: []string{"tail", "-f", "/dev/null"}, Labels: map[string]string{labelKey: labelValue}},
	})
	if err != nil {
		return "", fmt.Errorf("create: %w", err)
	}
	if _, err := e.cli.ContainerStart(ctx, created.ID, client.ContainerStartOptions{}); err != nil {
		return created.ID, fmt.Errorf("start: %w", err)
	}
	return created.ID, nil
}

// rss returns the VmRSS (kB) of the engine's daemon and its descendants,
// plus, for dockerd, the containerd shims of the containers ids (they are
// reparented away from containerd) and their descendants.
func (e *engine) rss(ids []string) int64 {
	roots := []int{e.pid}
	if e.name == "dockerd" && len(ids) > 0 {
		roots = append(roots, shims(ids)...)
	}
	return treeRSS(roots)
}

func dockerdPIDFile() string {
	state := os.Getenv("SOCKERLESS_STATE")
	if state == "" {
		state = "/tmp/sockerless-dockerd"
	}
	return filepath.Join(state, "dockerd.pid")
}

// dockerdPID returns the reference dockerd's PID from hack/dockerd.sh's pid
// file, or 0 when there is none or it is not a live dockerd.
func dockerdPID() int {
	raw, err := os.ReadFile(dockerdPIDFile())
	if err != nil {
		return 0
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(raw)))
	if err != nil {
		return 0
	}
	if comm, err := os.ReadFile(fmt.Sprintf("/proc/%d/comm", pid)); err != nil || strings.TrimSpace(string(comm)) != "dockerd" {
		return 0
	}
	return pid
}

// procs maps every PID in /proc to its parent's.
func procs() map[int]int {
	parent := map[int]int{}
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return parent
	}
	for _, ent := range entries {
		pid, err := strconv.Atoi(ent.Name())
		if err != nil {
			continue
		}
		stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
		if err != nil {
			continue // gone
		}
		// pid (comm) state ppid ...; comm may hold spaces and parentheses.
		i := bytes.LastIndexByte(stat, ')')
		if i < 0 {
			continue
		}
		f := strings.Fields(string(stat[i+1:]))
		if len(f) < 2 {
			continue
		}
		if ppid, err := strconv.Atoi(f[1]); err == nil {
			parent[pid] = ppid
		}
	}
	return parent
}

// shims returns the PIDs of the containerd shims serving the containers ids.
func shims(ids []string) []int {
	want := map[string]bool{}
	for _, id := range ids {
		want[id] = true
	}
	var out []int
	for pid := range procs() {
		raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
		if err != nil {
			continue
		}
		args := strings.Split(string(raw), "\x00")
		if len(args) == 0 || !strings.Contains(filepath.Base(args[0]), "containerd-shim") {
			continue
		}
		for i := 0; i+1 < len(args); i++ {
			if args[i] == "-id" && want[args[i+1]] {
				out = append(out, pid)
				break
			}
		}
	}
	return out
}

// treeRSS sums VmRSS (kB) over roots and all their descendants.
func treeRSS(roots []int) int64 {
	children := map[int][]int{}
	for pid, ppid := range procs() {
		children[ppid] = append(children[ppid], pid)
	}
	seen := map[int]bool{}
	var total int64
	queue := slices.Clone(roots)
	for len(queue) > 0 {
		pid := queue[0]
		queue = queue[1:]
		if pid <= 0 || seen[pid] {
			continue
		}
		seen[pid] = true
		total += vmRSS(pid)
		queue = append(queue, children[pid]...)
	}
	return total
}

// vmRSS returns VmRSS (kB) from /proc/pid/status, 0 when unreadable.
func vmRSS(pid int) int64 {
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	for line := range strings.SplitSeq(string(raw), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			f := strings.Fields(rest)
			if len(f) > 0 {
				n, _ := strconv.ParseInt(f[0], 10, 64)
				return n
			}
		}
	}
	return 0
}
