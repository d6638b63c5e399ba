// Package wasm runs WASI preview-1 programs (the BusyBox userland and .wasm
// files found in images) for the sandbox, with wazero.
//
// One [Runtime] per process compiles each module once (and caches the
// machine code on disk), then every command is a fresh instance: no state
// leaks from one command to the next, and an instance costs about 0.1 MiB.
// Guests see only the container's [confine.FS]; stdin reads, sleeps and busy
// loops end when the command's context is cancelled.
package wasm

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"sync"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/imports/wasi_snapshot_preview1"
)

// DefaultMemoryLimitPages caps each instance's linear memory at 256 MiB
// (64 KiB pages). BusyBox applets use well under 1 MiB.
const DefaultMemoryLimitPages = 4096

// Config configures a [Runtime].
type Config struct {
	// CacheDir keeps compiled machine code between daemon runs. Empty means
	// compile in memory only.
	CacheDir string
	// MemoryLimitPages caps every instance's linear memory; zero means
	// DefaultMemoryLimitPages.
	MemoryLimitPages uint32
}

// Runtime compiles and runs modules. It is safe for concurrent use.
type Runtime struct {
	rt wazero.Runtime

	mu       sync.Mutex
	compiled map[[32]byte]*compileResult
}

type compileResult struct {
	done chan struct{}
	mod  wazero.CompiledModule
	err  error
}

// New starts a runtime with WASI preview 1 and the sandbox host module.
func New(ctx context.Context, cfg Config) (*Runtime, error) {
	limit := cfg.MemoryLimitPages
	if limit == 0 {
		limit = DefaultMemoryLimitPages
	}
	rc := wazero.NewRuntimeConfigCompiler().
		WithCloseOnContextDone(true). // docker stop must end a busy loop
		WithMemoryLimitPages(limit)
	if cfg.CacheDir != "" {
		cache, err := wazero.NewCompilationCacheWithDir(cfg.CacheDir)
		if err != nil {
			return nil, fmt.Errorf("wasm: compilation cache %q: %w", cfg.CacheDir, err)
		}
		rc = rc.WithCompilationCache(cache)
	}
	rt := wazero.NewRuntimeWithConfig(ctx, rc)
	if _, err := wasi_snapshot_preview1.Instantiate(ctx, rt); err != nil {
		return nil, errors.Join(fmt.Errorf("wasm: wasi: %w", err), rt.Close(ctx))
	}
	if err := instantiateHostModule(ctx, rt); err != nil {
		return nil, errors.Join(err, rt.Close(ctx))
	}
	return &Runtime{rt: rt, compiled: map[[32]byte]*compileResult{}}, nil
}

// Close releases every compiled module and instance.
func (r *Runtime) Close(ctx context.Context) error { return r.rt.Close(ctx) }

// Module is a compiled program.
type Module struct {
	compiled wazero.CompiledModule
	// Digest is the sha256 of the module's bytes.
	Digest [32]byte
}

// Compile compiles a module once per content: concurrent and later calls with
// the same bytes share the result.
func (r *Runtime) Compile(ctx context.Context, bin []byte) (*Module, error) {
	sum := sha256.Sum256(bin)
	r.mu.Lock()
	res, ok := r.compiled[sum]
	if !ok {
		res = &compileResult{done: make(chan struct{})}
		r.compiled[sum] = res
	}
	r.mu.Unlock()
	if !ok {
		res.mod, res.err = r.rt.CompileModule(ctx, bin)
		if res.err != nil {
			res.err = fmt.Errorf("wasm: compile: %w", res.err)
			r.mu.Lock()
			delete(r.compiled, sum) // let a later call retry
			r.mu.Unlock()
		}
		close(res.done)
	}
	select {
	case <-res.done:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	if res.err != nil {
		return nil, res.err
	}
	return &Module{compiled: res.mod, Digest: sum}, nil
}

// IsWasm reports whether b starts with the WebAssembly binary magic.
func IsWasm(b []byte) bool {
	return len(b) >= 4 && b[0] == 0 && b[1] == 'a' && b[2] == 's' && b[3] == 'm'
}
