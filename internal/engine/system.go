package engine

import (
	"context"
	"os"
	"runtime"
	"slices"
	"strings"
	"time"

	"github.com/moby/moby/api/types/events"
	"github.com/moby/moby/api/types/swarm"
	"github.com/moby/moby/api/types/system"
	"golang.org/x/sys/unix"

	"github.com/sockerless/sockerless/internal/filters"
)

func numCPU() int { return runtime.NumCPU() }

// SystemInfo reports the daemon honestly: the backend, the counts, the host.
func (e *Engine) SystemInfo(ctx context.Context) (system.Info, error) {
	e.mu.Lock()
	var running, stopped int
	for _, c := range e.containers {
		c.mu.Lock()
		if c.rec.State.Running {
			running++
		} else {
			stopped++
		}
		c.mu.Unlock()
	}
	total := len(e.containers)
	e.mu.Unlock()
	var si unix.Sysinfo_t
	mem := int64(0)
	if unix.Sysinfo(&si) == nil {
		mem = int64(si.Totalram) * int64(si.Unit)
	}
	host, _ := os.Hostname() // empty if the kernel does not say
	kernel := kernelVersion()
	bi := e.cfg.Backend.Info()
	return system.Info{
		ID: "sockerless", Containers: total, ContainersRunning: running, ContainersStopped: stopped,
		Images: 0, Driver: bi.Name, DockerRootDir: e.cfg.DataRoot,
		OperatingSystem: bi.OperatingSystem, OSType: "linux", Architecture: machine(), KernelVersion: kernel,
		NCPU: runtime.NumCPU(), MemTotal: mem, Name: host, ServerVersion: e.cfg.Version,
		LoggingDriver: logDriver, CgroupDriver: "none", CgroupVersion: "",
		Labels: []string{"com.sockerless.backend=" + bi.Name}, DefaultRuntime: bi.Name,
		Runtimes:        map[string]system.RuntimeWithStatus{bi.Name: {}},
		Swarm:           swarm.Info{LocalNodeState: swarm.LocalNodeStateInactive},
		Plugins:         system.PluginsInfo{Volume: []string{"local"}, Network: []string{"bridge", "host", "null"}, Log: []string{logDriver}},
		Warnings:        []string{},
		SecurityOptions: []string{},
		SystemTime:      time.Now().Format(time.RFC3339Nano),
	}, nil
}

// SystemVersion reports the versions.
func (e *Engine) SystemVersion(ctx context.Context, apiVersion, minAPI string) system.VersionResponse {
	return system.VersionResponse{
		Platform: struct{ Name string }{Name: "Sockerless"},
		Version:  e.cfg.Version, APIVersion: apiVersion, MinAPIVersion: minAPI,
		GoVersion: runtime.Version(), Os: runtime.GOOS, Arch: runtime.GOARCH,
		Components: []system.ComponentVersion{{Name: "Engine", Version: e.cfg.Version, Details: map[string]string{
			"ApiVersion": apiVersion, "MinAPIVersion": minAPI, "Backend": e.cfg.Backend.Info().Name,
			"GoVersion": runtime.Version(), "Os": runtime.GOOS, "Arch": runtime.GOARCH, "Experimental": "false",
			"GitCommit": "", "BuildTime": "", "KernelVersion": kernelVersion(),
		}}},
	}
}

// SubscribeEvents returns past events in [since, until] and, without until,
// a channel of new ones.
func (e *Engine) SubscribeEvents(ctx context.Context, since, until time.Time, f filters.Args) ([]events.Message, <-chan events.Message, error) {
	past, live := e.events.Subscribe(ctx)
	var out []events.Message
	for _, m := range past {
		t := time.Unix(0, m.TimeNano)
		if (!since.IsZero() && t.Before(since)) || (!until.IsZero() && t.After(until)) || !matchEvent(m, f) {
			continue
		}
		out = append(out, m)
	}
	if since.IsZero() {
		out = nil // without since, only new events are sent
	}
	filtered := make(chan events.Message)
	go func() {
		defer close(filtered)
		var stop <-chan time.Time
		if !until.IsZero() {
			t := time.NewTimer(time.Until(until))
			defer t.Stop()
			stop = t.C
		}
		for {
			select {
			case m, ok := <-live:
				if !ok {
					return
				}
				if matchEvent(m, f) {
					select {
					case filtered <- m:
					case <-ctx.Done():
						return
					}
				}
			case <-stop:
				return
			case <-ctx.Done():
				return
			}
		}
	}()
	return out, filtered, nil
}

func matchEvent(m events.Message, f filters.Args) bool {
	if !f.Match("type", string(m.Type)) {
		return false
	}
	if ev := f.Get("event"); len(ev) > 0 && !slices.ContainsFunc(ev, func(x string) bool {
		a := string(m.Action)
		return a == x || strings.HasPrefix(a, x+":")
	}) {
		return false
	}
	// container, network and volume match as dockerd's: a prefix of the
	// actor's ID or of its "name" attribute, whatever the event's type.
	for _, k := range []string{"container", "network", "volume"} {
		if vs := f.Get(k); len(vs) > 0 && !slices.ContainsFunc(vs, func(x string) bool {
			return strings.HasPrefix(m.Actor.ID, x) || strings.HasPrefix(m.Actor.Attributes["name"], x)
		}) {
			return false
		}
	}
	if is := f.Get("image"); len(is) > 0 && !slices.Contains(is, m.Actor.Attributes["image"]) {
		return false
	}
	return f.MatchLabels("label", m.Actor.Attributes)
}

func kernelVersion() string {
	var uts unix.Utsname
	if unix.Uname(&uts) != nil {
		return ""
	}
	return unix.ByteSliceToString(uts.Release[:])
}

// machine is the hardware name as uname -m prints it (dockerd reports that,
// e.g. x86_64, not Go's amd64).
func machine() string {
	var uts unix.Utsname
	if unix.Uname(&uts) != nil {
		return runtime.GOARCH
	}
	return unix.ByteSliceToString(uts.Machine[:])
}
