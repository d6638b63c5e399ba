package wasm

import (
	"context"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"sync"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"
)

// The "sandbox" host module gives BusyBox what WASI preview 1 lacks: running
// another command. The patched BusyBox imports it (third_party/busybox).
//
//	spawn_wait(argv, len) -> status      xargs, find -exec, awk system()
//	popen(argv, len, mode) -> handle     awk "cmd" | getline, print | "cmd"
//	pclose(handle) -> status
//
// argv is NUL-separated. popen's mode 0 lets the guest read the child's
// stdout, mode 1 lets it write the child's stdin; the guest opens its end as
// the file /dev/sandbox/pipe/<handle>. Statuses are 0..255, -1 when the host
// could not run the command.
const hostModule = "sandbox"

// pipePrefix is where a guest finds the ends of its popen pipes.
const pipePrefix = "/dev/sandbox/pipe/"

type runKey struct{}

// run is the per-instance state the host functions reach through ctx.
type run struct {
	spec Spec
	ctx  context.Context // the guest's: ends when it is killed

	mu    sync.Mutex
	next  int32
	pipes map[int32]*pipe
}

type pipe struct {
	guestEnd *os.File // handed to the guest on open, once
	opened   bool
	done     chan struct{}
	status   int
	cancel   context.CancelFunc
}

func instantiateHostModule(ctx context.Context, rt wazero.Runtime) error {
	_, err := rt.NewHostModuleBuilder(hostModule).
		NewFunctionBuilder().WithFunc(spawnWait).Export("spawn_wait").
		NewFunctionBuilder().WithFunc(popen).Export("popen").
		NewFunctionBuilder().WithFunc(pclose).Export("pclose").
		Instantiate(ctx)
	if err != nil {
		return fmt.Errorf("wasm: host module %q: %w", hostModule, err)
	}
	return nil
}

func readArgv(m api.Module, ptr, n uint32) ([]string, bool) {
	b, ok := m.Memory().Read(ptr, n)
	if !ok || n == 0 {
		return nil, false
	}
	return strings.Split(strings.TrimSuffix(string(b), "\x00"), "\x00"), true
}

func spawnWait(ctx context.Context, m api.Module, ptr, n uint32) int32 {
	st, _ := ctx.Value(runKey{}).(*run)
	argv, ok := readArgv(m, ptr, n)
	if st == nil || st.spec.Spawn == nil || !ok || st.hold() != 0 {
		return -1
	}
	// The child runs on its own goroutine (and so its own OS thread): the
	// parent's thread CPU clock then counts only the parent.
	status := make(chan int, 1)
	go func() { status <- st.spec.Spawn(ctx, argv, nil, st.spec.Stdout, st.spec.Stderr) }()
	s := <-status
	if st.hold() != 0 { // the child ended while paused: the parent goes on after Unpause
		return -1
	}
	return int32(s)
}

func popen(ctx context.Context, m api.Module, ptr, n, mode uint32) int32 {
	st, _ := ctx.Value(runKey{}).(*run)
	argv, ok := readArgv(m, ptr, n)
	if st == nil || st.spec.Spawn == nil || !ok || mode > 1 || st.hold() != 0 {
		return -1
	}
	r, w, err := os.Pipe()
	if err != nil {
		return -1
	}
	cctx, cancel := context.WithCancel(ctx)
	p := &pipe{done: make(chan struct{}), cancel: cancel}
	var childIn io.Reader
	childOut, childEnd := st.spec.Stdout, r
	if mode == 0 {
		p.guestEnd, childOut, childEnd = r, w, w
	} else {
		p.guestEnd, childIn = w, r
	}
	go func() {
		defer close(p.done)
		p.status = st.spec.Spawn(cctx, argv, childIn, childOut, st.spec.Stderr)
		_ = childEnd.Close() // EOF for the guest (mode 0); already drained (mode 1)
	}()
	st.mu.Lock()
	h := st.next
	st.next++
	st.pipes[h] = p
	st.mu.Unlock()
	return h
}

func pclose(ctx context.Context, h int32) int32 {
	st, _ := ctx.Value(runKey{}).(*run)
	if st == nil || st.hold() != 0 {
		return -1
	}
	st.mu.Lock()
	p := st.pipes[h]
	delete(st.pipes, h)
	st.mu.Unlock()
	if p == nil {
		return -1
	}
	if !p.opened {
		_ = p.guestEnd.Close() // never opened by the guest: nobody else closes it
	}
	select {
	case <-p.done:
	case <-ctx.Done():
		p.cancel()
		<-p.done
		return -1
	}
	p.cancel()
	if st.hold() != 0 {
		return -1
	}
	return int32(p.status)
}

// openPipe hands the guest its end of a popen pipe, once.
func (st *run) openPipe(name string) (*os.File, bool) {
	n, err := strconv.ParseInt(name, 10, 32)
	if err != nil {
		return nil, false
	}
	h := int32(n)
	st.mu.Lock()
	defer st.mu.Unlock()
	p := st.pipes[h]
	if p == nil || p.opened {
		return nil, false
	}
	p.opened = true
	return p.guestEnd, true
}

// closePipes ends children the guest never pclosed: a command's helpers do
// not outlive it.
func (st *run) closePipes() {
	st.mu.Lock()
	pipes := st.pipes
	st.pipes = map[int32]*pipe{}
	st.mu.Unlock()
	for _, p := range pipes {
		if !p.opened {
			_ = p.guestEnd.Close()
		}
		p.cancel()
		<-p.done
	}
}
