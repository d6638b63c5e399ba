// Package testenv gives Go tests access to the reference Docker engine and the
// offline test images.
//
// It is test-helper code: import it only from _test.go files, never from
// non-test code (it depends on package testing and skips or fails tests).
//
// The engine comes from hack/dockerd.sh and is found through
// $SOCKERLESS_TEST_DOCKER_HOST:
//
//	hack/dockerd.sh start
//	eval "$(hack/dockerd.sh env)"
//	DOCKER_HOST=$SOCKERLESS_TEST_DOCKER_HOST hack/testimages.sh
//
// When the engine or an image is missing, tests are skipped, unless
// $SOCKERLESS_REQUIRE (a comma-separated list) contains "dockerd", in which
// case they fail. CI sets it so that a broken set-up cannot pass silently.
package testenv

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/moby/moby/client"
)

// BusyboxImage is the offline BusyBox image built by hack/testimages.sh: all
// applets in /bin, a /bin/bash shim, CMD ["sh"].
const BusyboxImage = "sockerless-test/busybox:latest"

// BusyboxBashImage is BusyboxImage with Debian's real bash, GNU timeout and
// gojq as jq: the userland the sandbox offers, for comparing scripts.
const BusyboxBashImage = "sockerless-test/busybox-bash:latest"

// HostEnv names the environment variable that holds the engine's address,
// for example unix:///tmp/sockerless-dockerd/docker.sock.
const HostEnv = "SOCKERLESS_TEST_DOCKER_HOST"

// RequireEnv names the environment variable listing the requirements that
// must fail a test instead of skipping it when they are not met.
const RequireEnv = "SOCKERLESS_REQUIRE"

// pingTimeout bounds how long DockerHost waits for the engine to answer.
const pingTimeout = 5 * time.Second

// Required reports whether $SOCKERLESS_REQUIRE lists name.
func Required(name string) bool {
	for _, r := range strings.Split(os.Getenv(RequireEnv), ",") {
		if strings.TrimSpace(r) == name {
			return true
		}
	}
	return false
}

// unavailable skips t, or fails it when the requirement is listed in
// $SOCKERLESS_REQUIRE.
func unavailable(t testing.TB, requirement, format string, args ...any) {
	t.Helper()
	msg := fmt.Sprintf(format, args...)
	if Required(requirement) {
		t.Fatalf("%s (required by %s=%s)", msg, RequireEnv, os.Getenv(RequireEnv))
	}
	t.Skip(msg)
}

// pings caches the outcome of pinging each host, so a missing engine costs
// the ping timeout once per test binary rather than once per test.
var pings sync.Map // host -> error (nil on success)

// DockerHost returns $SOCKERLESS_TEST_DOCKER_HOST after checking that the
// engine there answers /_ping within 5 s. Otherwise it skips the test, or
// fails it when $SOCKERLESS_REQUIRE contains "dockerd".
func DockerHost(t testing.TB) string {
	t.Helper()
	host := os.Getenv(HostEnv)
	if host == "" {
		unavailable(t, "dockerd", "no Docker engine: %s is not set (see hack/dockerd.sh)", HostEnv)
	}
	v, ok := pings.Load(host)
	if !ok {
		v, _ = pings.LoadOrStore(host, ping(host))
	}
	if err, _ := v.(error); err != nil {
		unavailable(t, "dockerd", "no Docker engine at %s=%s: %v", HostEnv, host, err)
	}
	return host
}

// ping checks that the engine at host answers /_ping within pingTimeout.
func ping(host string) error {
	cli, err := client.New(client.WithHost(host))
	if err != nil {
		return err
	}
	defer func() { _ = cli.Close() }() // nothing to report for a probe
	ctx, cancel := context.WithTimeout(context.Background(), pingTimeout)
	defer cancel()
	_, err = cli.Ping(ctx, client.PingOptions{})
	return err
}

// DockerClient returns a client for the engine from DockerHost (skipping or
// failing the test like DockerHost). The client negotiates the API version
// with the engine and is closed when the test ends.
func DockerClient(t testing.TB) *client.Client {
	t.Helper()
	host := DockerHost(t)
	cli, err := client.New(client.WithHost(host))
	if err != nil {
		t.Fatalf("docker client for %s: %v", host, err)
	}
	t.Cleanup(func() {
		if err := cli.Close(); err != nil {
			t.Logf("closing docker client: %v", err)
		}
	})
	ctx, cancel := context.WithTimeout(context.Background(), pingTimeout)
	defer cancel()
	if _, err := cli.Ping(ctx, client.PingOptions{NegotiateAPIVersion: true}); err != nil {
		t.Fatalf("negotiating API version with %s: %v", host, err)
	}
	return cli
}

// RequireImage checks that the image ref is present in the engine behind cli.
// When it is not, the test is skipped (or fails when $SOCKERLESS_REQUIRE
// contains "dockerd") with a hint to run hack/testimages.sh.
func RequireImage(t testing.TB, cli *client.Client, ref string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_, err := cli.ImageInspect(ctx, ref)
	switch {
	case err == nil:
	case cerrdefs.IsNotFound(err):
		unavailable(t, "dockerd", "image %s is not in the engine at %s: run DOCKER_HOST=%s hack/testimages.sh",
			ref, cli.DaemonHost(), cli.DaemonHost())
	default:
		t.Fatalf("inspecting image %s: %v", ref, err)
	}
}

// EngineHostEnv names the environment variable that holds the address of the
// current Docker engine (hack/engine.sh), the reference of the differential
// tests, for example unix:///tmp/sockerless-engine/docker.sock.
const EngineHostEnv = "SOCKERLESS_TEST_ENGINE_HOST"

// EngineHost returns $SOCKERLESS_TEST_ENGINE_HOST after checking that the
// engine there answers /_ping within 5 s. Otherwise it skips the test, or
// fails it when $SOCKERLESS_REQUIRE contains "engine".
func EngineHost(t testing.TB) string {
	t.Helper()
	host := os.Getenv(EngineHostEnv)
	if host == "" {
		unavailable(t, "engine", "no current Docker engine: %s is not set (see hack/engine.sh)", EngineHostEnv)
	}
	v, ok := pings.Load(host)
	if !ok {
		v, _ = pings.LoadOrStore(host, ping(host))
	}
	if err, _ := v.(error); err != nil {
		unavailable(t, "engine", "no current Docker engine at %s=%s: %v", EngineHostEnv, host, err)
	}
	return host
}

// ImageTarball returns the path of a `docker save` tarball cached by
// hack/testimages.sh (for example "busybox-image.tar"), skipping the test
// (or failing it when $SOCKERLESS_REQUIRE contains "dockerd") when it is
// missing.
func ImageTarball(t testing.TB, name string) string {
	t.Helper()
	cache := os.Getenv("SOCKERLESS_CACHE")
	if cache == "" {
		home, err := os.UserHomeDir()
		if err != nil {
			t.Fatalf("no $SOCKERLESS_CACHE and no home folder: %v", err)
		}
		cache = filepath.Join(home, ".cache", "sockerless")
	}
	path := filepath.Join(cache, "images", name)
	if _, err := os.Stat(path); err != nil {
		unavailable(t, "dockerd", "no offline image tarball: %v (run hack/testimages.sh)", err)
	}
	return path
}
