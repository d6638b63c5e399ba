package sandbox

import (
	"archive/tar"
	"bytes"
	"context"
	"fmt"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/moby/moby/api/pkg/stdcopy"
	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/client"

	"github.com/sockerless/sockerless/internal/testenv"
)

// BenchmarkCommandInShellLoop measures the cost of one external command in
// a script: `cat f >/dev/null` 1,000 times in a while loop, repeated; the
// reported figure is the median over repetitions of the per-command time.
func BenchmarkCommandInShellLoop(b *testing.B) {
	c := newTestContainer(b, newTestEngine(b), newTestRoot(b))
	script := `i=0; while [ $i -lt 1000 ]; do cat /etc/hostname >/dev/null; i=$((i+1)); done`
	var per []time.Duration
	for b.Loop() {
		start := time.Now()
		if r := run(b, c, "", "sh", "-c", script); r.status != 0 {
			b.Fatalf("loop failed: %+v", r)
		}
		per = append(per, time.Since(start)/1000)
	}
	b.ReportMetric(float64(median(per).Microseconds())/1000, "ms/cmd-median")
}

func median(ds []time.Duration) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[len(s)/2]
}

// BenchmarkEngineStartWarmCache measures New with the compilation cache
// already filled (the second and later daemon starts).
func BenchmarkEngineStartWarmCache(b *testing.B) {
	dir := b.TempDir()
	warm, err := New(context.Background(), Config{CacheDir: dir})
	if err != nil {
		b.Fatal(err)
	}
	if err := warm.Close(context.Background()); err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		e, err := New(context.Background(), Config{CacheDir: dir})
		if err != nil {
			b.Fatal(err)
		}
		if err := e.Close(context.Background()); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkIdleProcesses starts 100 `tail -f /dev/null` processes and
// reports the Go heap and stack they add, per process.
func BenchmarkIdleProcesses(b *testing.B) {
	c := newTestContainer(b, newTestEngine(b), newTestRoot(b))
	const n = 100
	for b.Loop() {
		before := memInUse()
		procs := make([]*Process, n)
		for i := range procs {
			p, err := c.Start(context.Background(), ProcessSpec{Args: []string{"tail", "-f", "/dev/null"}, Dir: "/"})
			if err != nil {
				b.Fatal(err)
			}
			procs[i] = p
		}
		for c.Stats().Processes < n {
			time.Sleep(time.Millisecond)
		}
		b.ReportMetric(float64(memInUse()-before)/n, "bytes/idle-process")
		b.ReportMetric(float64(c.Stats().Instances), "instances")
		for _, p := range procs {
			if err := p.Signal(9); err != nil {
				b.Fatal(err)
			}
			if _, err := p.Wait(context.Background()); err != nil {
				b.Fatal(err)
			}
		}
	}
}

func memInUse() int64 {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return int64(m.HeapInuse + m.StackInuse)
}

// BenchmarkCorpusVsDockerd runs the CI-script corpus in the sandbox and the
// same scripts in a container of the reference dockerd holding the same
// userland (bash, BusyBox applets, jq; one exec per step, as CI runners do), in the same run, and prints the ratio. It also
// reports how many cases give the recorded output on each.
func BenchmarkCorpusVsDockerd(b *testing.B) {
	cases := loadCorpus(b)
	cli := testenv.DockerClient(b)
	testenv.RequireImage(b, cli, testenv.BusyboxBashImage)
	ctx := context.Background()

	created, err := cli.ContainerCreate(ctx, client.ContainerCreateOptions{
		Config: &container.Config{Image: testenv.BusyboxBashImage, Cmd: []string{"tail", "-f", "/dev/null"}},
	})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() {
		if _, err := cli.ContainerRemove(context.Background(), created.ID, client.ContainerRemoveOptions{Force: true}); err != nil {
			b.Error(err)
		}
	})
	if _, err := cli.ContainerStart(ctx, created.ID, client.ContainerStartOptions{}); err != nil {
		b.Fatal(err)
	}
	e := newTestEngine(b)
	c := newTestContainer(b, e, newTestRoot(b))

	for b.Loop() {
		round := fmt.Sprint(time.Now().UnixNano())
		sandboxStart := time.Now()
		sandboxOK := 0
		var sandboxOff, dockerOff []string
		for _, tc := range cases {
			dir := "/cases/" + round + "/" + tc.name
			if err := c.FS().MkdirAll(dir+"/work", 0o755); err != nil {
				b.Fatal(err)
			}
			if err := c.FS().WriteFile(dir+"/step.sh", []byte(tc.script), 0o755); err != nil {
				b.Fatal(err)
			}
			var out bytes.Buffer
			spec := ProcessSpec{Args: append(slices.Clone(tc.shell), dir+"/step.sh"), Dir: dir + "/work", Stdout: &out,
				Env: []string{"PATH=" + defaultPath, "HOME=/root", "CI=true"}}
			if tc.stdin != "" {
				spec.Stdin = strings.NewReader(tc.stdin)
			}
			p, err := c.Start(ctx, spec)
			if err != nil {
				b.Fatal(err)
			}
			st, err := p.Wait(ctx)
			if err != nil {
				b.Fatal(err)
			}
			if st == tc.exit && out.String() == tc.stdout {
				sandboxOK++
			} else {
				sandboxOff = append(sandboxOff, tc.name)
			}
		}
		sandboxTime := time.Since(sandboxStart)

		dockerStart := time.Now()
		dockerOK := 0
		for _, tc := range cases {
			st, out := dockerStep(b, cli, created.ID, "/cases/"+round+"/"+tc.name, tc)
			if st == tc.exit && out == tc.stdout {
				dockerOK++
			} else {
				dockerOff = append(dockerOff, tc.name)
			}
		}
		dockerTime := time.Since(dockerStart)

		b.ReportMetric(sandboxTime.Seconds(), "s-sandbox")
		b.ReportMetric(dockerTime.Seconds(), "s-dockerd")
		b.ReportMetric(dockerTime.Seconds()/sandboxTime.Seconds(), "x-faster")
		b.ReportMetric(float64(sandboxOK), "cases-ok-sandbox")
		b.ReportMetric(float64(dockerOK), "cases-ok-dockerd")
		b.Logf("%d cases: sandbox %v (%d as recorded), dockerd %v (%d as recorded), sandbox %.1fx faster",
			len(cases), sandboxTime.Round(time.Millisecond), sandboxOK, dockerTime.Round(time.Millisecond), dockerOK,
			dockerTime.Seconds()/sandboxTime.Seconds())
		b.Logf("differing from the record: sandbox %v; dockerd %v", sandboxOff, dockerOff)
	}
}

const defaultPath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

// dockerStep copies a step into the container and runs it with docker exec.
func dockerStep(b *testing.B, cli *client.Client, id, dir string, tc corpusCase) (int, string) {
	ctx := context.Background()
	var archive bytes.Buffer
	tw := tar.NewWriter(&archive)
	for _, h := range []*tar.Header{
		{Name: strings.TrimPrefix(dir, "/") + "/", Typeflag: tar.TypeDir, Mode: 0o755},
		{Name: strings.TrimPrefix(dir, "/") + "/work/", Typeflag: tar.TypeDir, Mode: 0o755},
		{Name: strings.TrimPrefix(dir, "/") + "/step.sh", Typeflag: tar.TypeReg, Mode: 0o755, Size: int64(len(tc.script))},
	} {
		if err := tw.WriteHeader(h); err != nil {
			b.Fatal(err)
		}
	}
	if _, err := tw.Write([]byte(tc.script)); err != nil {
		b.Fatal(err)
	}
	if err := tw.Close(); err != nil {
		b.Fatal(err)
	}
	if _, err := cli.CopyToContainer(ctx, id, client.CopyToContainerOptions{DestinationPath: "/", Content: &archive}); err != nil {
		b.Fatal(err)
	}
	ex, err := cli.ExecCreate(ctx, id, client.ExecCreateOptions{
		Cmd: append(slices.Clone(tc.shell), dir+"/step.sh"), WorkingDir: dir + "/work",
		Env:          []string{"HOME=/root", "CI=true"},
		AttachStdout: true, AttachStderr: true, AttachStdin: tc.stdin != "",
	})
	if err != nil {
		b.Fatal(err)
	}
	att, err := cli.ExecAttach(ctx, ex.ID, client.ExecAttachOptions{})
	if err != nil {
		b.Fatal(err)
	}
	defer att.Close()
	// A step that runs away must not hang the benchmark.
	if err := att.Conn.SetDeadline(time.Now().Add(2 * time.Minute)); err != nil {
		b.Fatal(err)
	}
	if tc.stdin != "" {
		if _, err := att.Conn.Write([]byte(tc.stdin)); err != nil {
			b.Fatal(err)
		}
		if err := att.CloseWrite(); err != nil {
			b.Fatal(err)
		}
	}
	var stdout, stderr bytes.Buffer
	if _, err := stdcopy.StdCopy(&stdout, &stderr, att.Reader); err != nil {
		b.Fatal(err)
	}
	for {
		res, err := cli.ExecInspect(ctx, ex.ID, client.ExecInspectOptions{})
		if err != nil {
			b.Fatal(err)
		}
		if !res.Running {
			return res.ExitCode, stdout.String()
		}
		time.Sleep(time.Millisecond)
	}
}
