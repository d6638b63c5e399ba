package engine

import (
	"path"
	"strings"

	"github.com/moby/moby/api/types/container"

	"github.com/sockerless/sockerless/internal/errdefs"
)

// validateCreate refuses what dockerd refuses before it looks at the image,
// with its messages, and normalizes the working folder as it does.
func validateCreate(cfg *container.Config, hc *container.HostConfig) error {
	if cfg.WorkingDir != "" {
		if !path.IsAbs(cfg.WorkingDir) {
			return errdefs.InvalidParameter("the working directory '%s' is invalid, it needs to be an absolute path", cfg.WorkingDir)
		}
		cfg.WorkingDir = path.Clean(cfg.WorkingDir)
	}
	for _, kv := range cfg.Env {
		if k, _, _ := strings.Cut(kv, "="); k == "" {
			return errdefs.InvalidParameter("invalid environment variable: %s", kv)
		}
	}
	for dst := range hc.Tmpfs {
		if path.Clean(dst) == "/" {
			return errdefs.InvalidParameter("invalid specification: destination can't be '/'")
		}
		if !path.IsAbs(dst) {
			return errdefs.InvalidParameter("invalid mount path: '%s' mount path must be absolute", dst)
		}
	}
	return nil
}
