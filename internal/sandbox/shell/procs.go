package shell

import (
	"context"
	"slices"
	"sync"
	"time"
)

// ProcInfo describes one running command of a container, for docker top.
type ProcInfo struct {
	PID, PPID int
	Args      []string
	Started   time.Time
	// Kind says what runs it: "shell" (the interpreter), "wasm" (a WASI
	// instance) or "helper" (a host-side helper such as sleep or timeout).
	Kind string
}

// Procs is a container's process table. Sandbox PIDs start at 1 and are
// never the daemon's.
type Procs struct {
	mu    sync.Mutex
	last  int
	procs map[int]*proc
}

type proc struct {
	info   ProcInfo
	cancel context.CancelCauseFunc
}

// add registers a command and returns its PID and a function that removes it.
func (t *Procs) add(ppid int, kind string, args []string, cancel context.CancelCauseFunc) (int, func()) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.procs == nil {
		t.procs = map[int]*proc{}
	}
	t.last++
	pid := t.last
	t.procs[pid] = &proc{info: ProcInfo{PID: pid, PPID: ppid, Args: slices.Clone(args), Started: time.Now(), Kind: kind}, cancel: cancel}
	return pid, func() {
		t.mu.Lock()
		delete(t.procs, pid)
		t.mu.Unlock()
	}
}

// List returns the running commands, by PID.
func (t *Procs) List() []ProcInfo {
	t.mu.Lock()
	defer t.mu.Unlock()
	out := make([]ProcInfo, 0, len(t.procs))
	for _, p := range t.procs {
		out = append(out, p.info)
	}
	slices.SortFunc(out, func(a, b ProcInfo) int { return a.PID - b.PID })
	return out
}

// Len is the number of running commands.
func (t *Procs) Len() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return len(t.procs)
}

// signal ends a command (and what it runs) with the given cause.
func (t *Procs) signal(pid int, cause error) bool {
	t.mu.Lock()
	p := t.procs[pid]
	t.mu.Unlock()
	if p == nil || p.cancel == nil {
		return false
	}
	p.cancel(cause)
	return true
}
