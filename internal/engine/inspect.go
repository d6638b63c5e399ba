package engine

import (
	"context"
	"slices"
	"strings"
	"time"

	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/network"
)

// ContainerInspect returns the full inspect shape.
func (e *Engine) ContainerInspect(ctx context.Context, name string) (container.InspectResponse, error) {
	c, err := e.lookup(name)
	if err != nil {
		return container.InspectResponse{}, err
	}
	rec, _ := c.snapshot()
	cfg := rec.Config
	hc := withDefaults(rec.HostConfig, e.cfg.Backend.Info().Name)
	state := rec.State
	logPath := c.logs.path
	if state.StartedAt == zeroTime && state.Error == "" {
		logPath = "" // as dockerd: the log file belongs to the first start, even one that failed
	}
	mounts := slices.Clone(rec.Mounts)
	if mounts == nil {
		mounts = []container.MountPoint{}
	}
	p, err := e.described(ctx, rec)
	if err != nil {
		return container.InspectResponse{}, err
	}
	nets := e.networksOf(rec, p)
	out := container.InspectResponse{
		ID: rec.ID, Created: rec.Created.Format(time.RFC3339Nano), Path: rec.Path, Args: rec.Args,
		State: &state, Image: rec.ImageID, Name: rec.Name, RestartCount: rec.RestartCount,
		Driver: e.cfg.Backend.Info().Name, Platform: "linux",
		LogPath: logPath, HostnamePath: "", HostsPath: "", ResolvConfPath: "",
		ExecIDs: e.execIDs(c), HostConfig: &hc, Config: &cfg, Mounts: mounts,
		NetworkSettings: &container.NetworkSettings{Ports: network.PortMap{}, Networks: nets},
	}
	if p != nil {
		e.overlay(p, &out)
	}
	return out, nil
}

// withDefaults fills what dockerd fills in an inspected HostConfig when the
// create request left it out: the restart policy "no", the daemon's log
// driver (json-file, the format of the container's log file) and runtime
// (the backend), empty port bindings, the OOM killer setting.
func withDefaults(hc container.HostConfig, runtime string) container.HostConfig {
	if hc.RestartPolicy.Name == "" {
		hc.RestartPolicy.Name = container.RestartPolicyDisabled
	}
	if hc.LogConfig.Type == "" {
		hc.LogConfig.Type = "json-file"
	}
	if hc.LogConfig.Config == nil {
		hc.LogConfig.Config = map[string]string{}
	}
	if hc.Runtime == "" {
		hc.Runtime = runtime
	}
	if hc.PortBindings == nil {
		hc.PortBindings = network.PortMap{}
	}
	if hc.OomKillDisable == nil {
		disabled := false
		hc.OomKillDisable = &disabled
	}
	return hc
}

// summary is one row of docker ps.
func (e *Engine) summary(rec record, nets map[string]*network.EndpointSettings) container.Summary {
	s := container.Summary{
		ID: rec.ID, Names: []string{rec.Name}, Image: rec.Image, ImageID: rec.ImageID,
		Command: commandLine(rec.Path, rec.Args),
		Created: rec.Created.Unix(), Ports: []container.PortSummary{}, Labels: rec.Config.Labels,
		State: rec.State.Status, Status: statusText(rec), Mounts: slices.Clone(rec.Mounts),
	}
	if s.Labels == nil {
		s.Labels = map[string]string{}
	}
	if s.Mounts == nil {
		s.Mounts = []container.MountPoint{}
	}
	s.HostConfig.NetworkMode = string(rec.HostConfig.NetworkMode)
	s.HostConfig.Annotations = rec.HostConfig.Annotations
	s.NetworkSettings = &container.NetworkSettingsSummary{Networks: nets}
	if rec.State.Health != nil {
		s.Health = &container.HealthSummary{Status: rec.State.Health.Status, FailingStreak: rec.State.Health.FailingStreak}
	}
	return s
}

// statusText is docker ps's STATUS column ("Up 3 seconds", "Exited (0) 2
// minutes ago").
func statusText(rec record) string {
	switch {
	case rec.State.Restarting:
		return "Restarting (" + itoa(rec.State.ExitCode) + ") " + ago(rec.State.FinishedAt)
	case rec.State.Running:
		s := "Up " + since(rec.State.StartedAt)
		if rec.State.Paused {
			return s + " (Paused)"
		}
		if h := rec.State.Health; h != nil {
			s += " (" + map[container.HealthStatus]string{container.Starting: "health: starting", container.Healthy: "healthy", container.Unhealthy: "unhealthy"}[h.Status] + ")"
		}
		return s
	case rec.State.Status == container.StateRemoving:
		return "Removal In Progress"
	case rec.State.Status == container.StateExited:
		return "Exited (" + itoa(rec.State.ExitCode) + ") " + ago(rec.State.FinishedAt)
	}
	return "Created"
}

func since(ts string) string {
	t, err := time.Parse(time.RFC3339Nano, ts)
	if err != nil {
		return "Less than a second"
	}
	return humanDuration(time.Since(t))
}

func ago(ts string) string { return since(ts) + " ago" }

// humanDuration follows the docker/go-units wording.
func humanDuration(d time.Duration) string {
	switch s := int(d.Seconds()); {
	case s < 1:
		return "Less than a second"
	case s == 1:
		return "1 second"
	case s < 60:
		return itoa(s) + " seconds"
	case d.Minutes() < 2:
		return "About a minute"
	case d.Minutes() < 60:
		return itoa(int(d.Minutes())) + " minutes"
	case d.Hours() < 2:
		return "About an hour"
	case d.Hours() < 48:
		return itoa(int(d.Hours())) + " hours"
	}
	return itoa(int(d.Hours()/24)) + " days"
}

// commandLine is docker ps's COMMAND as dockerd builds it: the path, then
// the arguments joined with spaces, those containing a space in single
// quotes (without escaping: it is for display).
func commandLine(path string, args []string) string {
	words := []string{path}
	for _, a := range args {
		if strings.Contains(a, " ") {
			a = "'" + a + "'"
		}
		words = append(words, a)
	}
	return strings.Join(words, " ")
}
