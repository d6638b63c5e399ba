package wasm

import (
	"sync"
	"sync/atomic"
	"time"

	"github.com/tetratelabs/wazero/experimental"
	"golang.org/x/sys/unix"
)

// Usage accounts the instances of one container: how many are live, the
// bytes of linear memory they hold, and the CPU time their threads spent.
// All figures are measured: memory through wazero's allocator hook, CPU
// through the per-thread CPU clock of the OS thread each instance is pinned
// to while it runs. The zero value is ready to use; a nil *Usage accounts
// nothing.
type Usage struct {
	memBytes atomic.Int64
	live     atomic.Int64

	mu      sync.Mutex
	doneCPU time.Duration
	running map[int]time.Duration // thread id -> CPU clock at start
}

// Live is the number of instances running now.
func (u *Usage) Live() int { return int(u.live.Load()) }

// MemoryBytes is the linear memory held by live instances.
func (u *Usage) MemoryBytes() int64 { return u.memBytes.Load() }

// CPU is the CPU time spent by all instances so far, live ones included.
func (u *Usage) CPU() time.Duration {
	u.mu.Lock()
	defer u.mu.Unlock()
	total := u.doneCPU
	for tid, start := range u.running {
		total += threadCPU(tid) - start
	}
	return total
}

// begin starts accounting the calling (locked) thread; the returned func
// ends it.
func (u *Usage) begin() func() {
	if u == nil {
		return func() {}
	}
	tid := unix.Gettid()
	start := threadCPU(tid)
	u.live.Add(1)
	u.mu.Lock()
	if u.running == nil {
		u.running = map[int]time.Duration{}
	}
	u.running[tid] = start
	u.mu.Unlock()
	return func() {
		used := threadCPU(tid) - start
		u.mu.Lock()
		delete(u.running, tid)
		u.doneCPU += used
		u.mu.Unlock()
		u.live.Add(-1)
	}
}

// threadCPU reads a thread's CPU clock; Linux encodes the thread id in the
// clock id (MAKE_THREAD_CPUCLOCK(tid, CPUCLOCK_SCHED)).
func threadCPU(tid int) time.Duration {
	clock := int32((^tid)<<3 | 6)
	var ts unix.Timespec
	if err := unix.ClockGettime(clock, &ts); err != nil {
		return 0 // the thread is gone: its time was counted by its end
	}
	return time.Duration(ts.Nano())
}

// Allocate implements experimental.MemoryAllocator: every instance's linear
// memory is a plain slice whose length is counted while it lives.
func (u *Usage) Allocate(capacity, max uint64) experimental.LinearMemory {
	return &trackedMemory{u: u, max: max}
}

type trackedMemory struct {
	u   *Usage
	buf []byte
	max uint64
}

func (m *trackedMemory) Reallocate(size uint64) []byte {
	if size > m.max {
		return nil
	}
	old := len(m.buf)
	if uint64(cap(m.buf)) >= size {
		m.buf = m.buf[:size]
	} else {
		grown := make([]byte, size, min(max(size, 2*uint64(cap(m.buf))), m.max))
		copy(grown, m.buf)
		m.buf = grown
	}
	m.u.memBytes.Add(int64(len(m.buf) - old))
	return m.buf
}

func (m *trackedMemory) Free() {
	m.u.memBytes.Add(-int64(len(m.buf)))
	m.buf = nil
}

var _ experimental.MemoryAllocator = (*Usage)(nil)
