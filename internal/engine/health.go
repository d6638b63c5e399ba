package engine

import (
	"bytes"
	"context"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/events"

	"github.com/sockerless/sockerless/internal/backend"
)

// healthChecker runs a container's health check while it runs.
type healthChecker struct {
	cancel context.CancelFunc
}

const healthLogSize = 5

// startHealth starts the checker of a running container; callers hold c.mu.
func (c *ctr) startHealth() {
	hc := c.rec.Config.Healthcheck
	if hc == nil || len(hc.Test) == 0 || hc.Test[0] == "NONE" {
		return
	}
	c.rec.State.Health = &container.Health{Status: container.Starting, Log: []*container.HealthcheckResult{}}
	ctx, cancel := context.WithCancel(c.e.bgCtx)
	c.health = &healthChecker{cancel: cancel}
	cfg := *hc
	c.e.goBackground(func(context.Context) { c.runHealth(ctx, cfg) })
}

// stopHealth stops the checker; callers hold c.mu.
func (c *ctr) stopHealth() {
	if c.health != nil {
		c.health.cancel()
		c.health = nil
	}
}

func orDefault(d, def time.Duration) time.Duration {
	if d <= 0 {
		return def
	}
	return d
}

func (c *ctr) runHealth(ctx context.Context, cfg container.HealthConfig) {
	interval := orDefault(cfg.Interval, 30*time.Second)
	timeout := orDefault(cfg.Timeout, 30*time.Second)
	retries := cfg.Retries
	if retries <= 0 {
		retries = 3
	}
	var args []string
	switch cfg.Test[0] {
	case "CMD":
		args = cfg.Test[1:]
	case "CMD-SHELL":
		args = []string{"/bin/sh", "-c", strings.Join(cfg.Test[1:], " ")}
	default:
		args = cfg.Test
	}
	started := time.Now()
	t := time.NewTimer(orDefault(cfg.StartInterval, interval))
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		// As dockerd, no check runs while the container is paused, and a
		// check the pause caught is not counted.
		if !c.paused() {
			res := c.probe(ctx, args, timeout)
			if ctx.Err() != nil {
				return
			}
			if !c.paused() {
				c.recordHealth(res, retries, time.Since(started) < cfg.StartPeriod)
			}
		}
		t.Reset(interval)
	}
}

func (c *ctr) paused() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.rec.State.Paused
}

// probe runs the check command once, as an exec.
func (c *ctr) probe(ctx context.Context, args []string, timeout time.Duration) *container.HealthcheckResult {
	res := &container.HealthcheckResult{Start: time.Now()}
	c.mu.Lock()
	rec := c.rec
	c.mu.Unlock()
	var out bytes.Buffer
	w := &limitedWriter{w: &out, n: 4096}
	proc, err := c.e.cfg.Backend.Start(ctx, rec.Handle, backend.ProcessSpec{
		Args: args, Env: rec.Config.Env, Dir: rec.Config.WorkingDir, User: rec.Config.User,
	}, backend.Stdio{Stdout: w, Stderr: w})
	if err != nil {
		res.End, res.ExitCode, res.Output = time.Now(), -1, err.Error()
		return res
	}
	wctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	exit, err := proc.Wait(wctx)
	if err != nil {
		// The probe overran its timeout. As dockerd, it is killed and
		// waited for (briefly: a backend may not signal execs), and what
		// it wrote so far is reported.
		if proc.Signal(ctx, 9) == nil {
			kctx, kcancel := context.WithTimeout(ctx, 10*time.Second)
			_, _ = proc.Wait(kctx) // its status is the timeout's -1
			kcancel()
		}
		res.End, res.ExitCode = time.Now(), -1
		res.Output = "Health check exceeded timeout (" + timeout.String() + ")"
		if o := w.String(); o != "" {
			res.Output += ": " + o
		}
		return res
	}
	res.End, res.ExitCode, res.Output = time.Now(), exit.Code, w.String()
	return res
}

func (c *ctr) recordHealth(res *container.HealthcheckResult, retries int, inStartPeriod bool) {
	c.mu.Lock()
	if c.rec.State.Health == nil || !c.rec.State.Running {
		c.mu.Unlock()
		return
	}
	// A new Health each time: snapshots of the record (inspect, list)
	// share the pointer and read it without the lock.
	h := &container.Health{}
	*h = *c.rec.State.Health
	c.rec.State.Health = h
	old := h.Status
	h.Log = append(slices.Clone(h.Log), res)
	if len(h.Log) > healthLogSize {
		h.Log = h.Log[len(h.Log)-healthLogSize:]
	}
	if res.ExitCode == 0 {
		h.Status, h.FailingStreak = container.Healthy, 0
	} else if !inStartPeriod {
		h.FailingStreak++
		if h.FailingStreak >= retries {
			h.Status = container.Unhealthy
		}
	}
	status := h.Status
	if err := c.persist(); err != nil {
		c.e.log.Warn("health not persisted", "container_id", c.rec.ID, "err", err)
	}
	c.notify()
	attrs := c.attrs()
	c.mu.Unlock()
	if status != old {
		c.e.events.Publish(events.ContainerEventType, events.Action("health_status: "+string(status)), c.rec.ID, attrs)
	}
}

// limitedWriter keeps the first n bytes (Docker keeps 4 KiB of probe output).
type limitedWriter struct {
	mu sync.Mutex // a probe left running past its timeout may still write
	w  *bytes.Buffer
	n  int
}

func (l *limitedWriter) Write(b []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if room := l.n - l.w.Len(); room > 0 {
		l.w.Write(b[:min(len(b), room)])
	}
	return len(b), nil
}

func (l *limitedWriter) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.String()
}
