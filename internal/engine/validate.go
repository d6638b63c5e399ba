package engine

import (
	"path"
	"strings"
	"time"

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
	if cfg.StopSignal != "" {
		if s, ok := parseSignal(cfg.StopSignal); !ok || s == 0 {
			return errdefs.InvalidParameter("Invalid signal: %s", cfg.StopSignal)
		}
	}
	if err := validateHealthcheck(cfg.Healthcheck); err != nil {
		return err
	}
	if hc.AutoRemove && !hc.RestartPolicy.IsNone() {
		return errdefs.InvalidParameter("can't create 'AutoRemove' container with restart policy")
	}
	if err := container.ValidateRestartPolicy(hc.RestartPolicy); err != nil {
		return errdefs.InvalidParameter("%v", err)
	}
	if hc.Resources.CPUShares < 0 {
		return errdefs.InvalidParameter("invalid CPU shares (%d): value must be a positive integer", hc.Resources.CPUShares)
	}
	switch {
	case !hc.IpcMode.Valid():
		return errdefs.InvalidParameter("invalid IPC mode: %v", hc.IpcMode)
	case !hc.PidMode.Valid():
		return errdefs.InvalidParameter("invalid PID mode: %v", hc.PidMode)
	case hc.ShmSize < 0:
		return errdefs.InvalidParameter("SHM size can not be less than 0")
	case !hc.UTSMode.Valid():
		return errdefs.InvalidParameter("invalid UTS mode: %v", hc.UTSMode)
	case hc.OomScoreAdj < -1000 || hc.OomScoreAdj > 1000:
		return errdefs.InvalidParameter("Invalid value %d, range for oom score adj is [-1000, 1000]", hc.OomScoreAdj)
	}
	if _, ok := hc.Annotations[""]; ok {
		return errdefs.InvalidParameter("invalid Annotations: the empty string is not permitted as an annotation key")
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

func validateHealthcheck(h *container.HealthConfig) error {
	if h == nil {
		return nil
	}
	for _, d := range []struct {
		name  string
		value time.Duration
	}{{"Interval", h.Interval}, {"Timeout", h.Timeout}, {"StartPeriod", h.StartPeriod}, {"StartInterval", h.StartInterval}} {
		if d.value != 0 && d.value < container.MinimumDuration {
			return errdefs.InvalidParameter("%s in Healthcheck cannot be less than %s", d.name, container.MinimumDuration)
		}
	}
	if h.Retries < 0 {
		return errdefs.InvalidParameter("Retries in Healthcheck cannot be negative")
	}
	return nil
}
