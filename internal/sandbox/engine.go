package sandbox

import (
	"context"
	"errors"
	"fmt"
	"maps"

	"github.com/sockerless/sockerless/internal/sandbox/confine"
	"github.com/sockerless/sockerless/internal/sandbox/userland"
	"github.com/sockerless/sockerless/internal/sandbox/wasm"
)

// Config configures an [Engine].
type Config struct {
	// CacheDir keeps compiled machine code between runs (recommended: a
	// folder under the daemon's data root). Empty compiles in memory.
	CacheDir string
	// MemoryLimitPages caps each instance's linear memory in 64 KiB pages;
	// zero means wasm.DefaultMemoryLimitPages (256 MiB).
	MemoryLimitPages uint32
}

// Engine is shared by every container of a daemon: one wasm runtime, the
// userland compiled once.
type Engine struct {
	rt       *wasm.Runtime
	userland *wasm.Module
	applets  map[string]bool
}

// New starts the engine. It refuses to start where paths cannot be confined
// (no openat2).
func New(ctx context.Context, cfg Config) (*Engine, error) {
	if err := confine.Check(); err != nil {
		return nil, fmt.Errorf("sandbox: %w", err)
	}
	rt, err := wasm.New(ctx, wasm.Config{CacheDir: cfg.CacheDir, MemoryLimitPages: cfg.MemoryLimitPages})
	if err != nil {
		return nil, fmt.Errorf("sandbox: %w", err)
	}
	mod, err := rt.Compile(ctx, userland.Module())
	if err != nil {
		return nil, errors.Join(fmt.Errorf("sandbox: userland: %w", err), rt.Close(ctx))
	}
	return &Engine{rt: rt, userland: mod, applets: userland.Applets()}, nil
}

// Close stops the runtime. Containers must be closed first.
func (e *Engine) Close(ctx context.Context) error { return e.rt.Close(ctx) }

// Applets returns the names of the userland's commands.
func (e *Engine) Applets() map[string]bool { return maps.Clone(e.applets) }
