package engine_test

import (
	"context"
	"strings"
	"testing"

	"github.com/moby/moby/api/types/container"

	"github.com/sockerless/sockerless/internal/engine"
	"github.com/sockerless/sockerless/internal/errdefs"
)

// A container records the daemon's logging driver, as dockerd does:
// docker-py's containers.run reads it back to decide whether to fetch the
// output, and gets nothing when it is empty.
func TestCreateRecordsLoggingDriver(t *testing.T) {
	v := newEnv(t)
	id := v.create("logged", nil, nil)
	if got := v.inspect(id).HostConfig.LogConfig.Type; got != "json-file" {
		t.Fatalf("LogConfig.Type = %q, want json-file", got)
	}
}

// A driver the daemon does not have is refused, not silently replaced.
func TestCreateRefusesOtherLoggingDrivers(t *testing.T) {
	v := newEnv(t)
	_, err := v.e.ContainerCreate(context.Background(), engine.CreateOptions{
		Config:     container.Config{Image: "sockerless/base:latest", Cmd: []string{"true"}},
		HostConfig: container.HostConfig{LogConfig: container.LogConfig{Type: "syslog"}},
	})
	if !errdefs.IsNotImplemented(err) || !strings.Contains(err.Error(), `logging driver "syslog"`) {
		t.Fatalf("err = %v, want a NotImplemented error naming the driver", err)
	}
}
