package wasm

import (
	"context"
	"sync"
	"sync/atomic"
)

// Gate holds the processes of one container while it is paused, as the
// cgroup freezer holds a Docker container's tasks. A sandbox process can
// only make progress that anyone observes through a host call (a write, a
// file operation, a clock, a sleep ending, a command started), so every
// host call passes the gate: Wait before a call that only blocks or
// reads, Enter and the returned leave around a call whose effect others
// see, so that Pause returns only once no such effect is under way. A guest
// computing without host calls runs on until its next one; nothing it does
// is visible before then.
//
// The zero Gate is open; a nil *Gate is always open.
type Gate struct {
	// thawed is nil while the gate is open; while paused, Unpause closes
	// it. It is read without the lock on the way through an open gate (the
	// path of every host call) and written under it.
	thawed atomic.Pointer[chan struct{}]

	mu sync.Mutex
	// busy counts effects under way; idle is closed when it drops to zero
	// while Pause waits.
	busy int
	idle chan struct{}
}

// Wait returns at once while the gate is open; while it is closed it
// returns when Unpause opens it or with ctx's error when ctx ends (a
// signal: a paused process can still be killed).
func (g *Gate) Wait(ctx context.Context) error {
	if g == nil {
		return nil
	}
	ch := g.thawed.Load()
	if ch == nil {
		return nil
	}
	select {
	case <-*ch:
		return nil
	case <-ctx.Done():
		return context.Cause(ctx)
	}
}

// Enter waits like Wait, then counts an effect under way until leave is
// called. The effect must not block for long: Pause waits for it.
func (g *Gate) Enter(ctx context.Context) (leave func(), err error) {
	if g == nil {
		return func() {}, nil
	}
	for {
		g.mu.Lock()
		ch := g.thawed.Load()
		if ch == nil {
			g.busy++
			g.mu.Unlock()
			return g.leave, nil
		}
		g.mu.Unlock()
		// Paused: wait for Unpause, then check again (a Pause may have
		// followed it at once).
		select {
		case <-*ch:
		case <-ctx.Done():
			return func() {}, context.Cause(ctx)
		}
	}
}

func (g *Gate) leave() {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.busy--
	if g.busy == 0 && g.idle != nil {
		close(g.idle)
		g.idle = nil
	}
}

// Pause closes the gate and returns once the effects under way have ended.
// If ctx ends first the gate is opened again and ctx's error returned.
// Pausing a closed gate does nothing.
func (g *Gate) Pause(ctx context.Context) error {
	g.mu.Lock()
	if g.thawed.Load() != nil {
		g.mu.Unlock()
		return nil
	}
	ch := make(chan struct{})
	g.thawed.Store(&ch)
	if g.busy == 0 {
		g.mu.Unlock()
		return nil
	}
	if g.idle == nil {
		g.idle = make(chan struct{})
	}
	idle := g.idle
	g.mu.Unlock()
	select {
	case <-idle:
		return nil
	case <-ctx.Done():
		g.Unpause()
		return context.Cause(ctx)
	}
}

// Unpause opens the gate: every held process goes on. Unpausing an open
// gate does nothing.
func (g *Gate) Unpause() {
	g.mu.Lock()
	defer g.mu.Unlock()
	if ch := g.thawed.Swap(nil); ch != nil {
		close(*ch)
	}
}

// Paused says whether the gate is closed.
func (g *Gate) Paused() bool {
	return g.thawed.Load() != nil
}
