package integration

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/client"

	"github.com/sockerless/sockerless/internal/testenv"
)

// On the docker backend, published ports are the engine's: -p and -P bind
// host ports on the engine's host (its userland proxy), docker port, inspect
// and ps show the host ports the engine chose, and a fetch over 127.0.0.1
// reaches the container's server. The test's network binds its default
// host address to 127.0.0.1 (for -P), so nothing listens beyond loopback;
// the reference engine has no default bridge, hence the network.
func TestDockerBackendPorts(t *testing.T) {
	d, engine := dockerBackend(t, "")
	img := testenv.BusyboxImage
	net, _ := testNetwork(t, d, "sockerless-it-ports", "-o", "com.docker.network.bridge.host_binding_ipv4=127.0.0.1")

	// serve runs httpd on port in a container of image whose page holds a computed
	// value and the container's hostname (its short ID): only that
	// container serves it.
	serve := func(t *testing.T, name, image, port string, opts ...string) (id, page string) {
		t.Helper()
		script := fmt.Sprintf(`mkdir -p /www && echo "page-$((6*7))-$(hostname)" > /www/index.html && exec httpd -f -p %s -h /www`, port)
		args := append(append([]string{"run", "-d", "--name", name, "--network", net}, opts...), image, "sh", "-c", script)
		id = strings.TrimSpace(d.must(t, args...))
		t.Cleanup(func() { _, _ = d.docker("rm", "-f", id) })
		return id, fmt.Sprintf("page-42-%s\n", id[:12])
	}

	t.Run("-p with a host port the engine chooses", func(t *testing.T) {
		id, page := serve(t, "web", img, "8080", "-p", "127.0.0.1::8080")
		hostPort := enginePort(t, engine, id, "8080/tcp")
		addr := "127.0.0.1:" + hostPort
		if out := d.must(t, "port", "web"); out != "8080/tcp -> "+addr+"\n" {
			t.Fatalf("docker port web: %q, want 8080/tcp -> %s", out, addr)
		}
		if got := fetch(t, addr); got != page {
			t.Fatalf("GET %s: %q, want %q", addr, got, page)
		}
		bindings := d.must(t, "inspect", "--format", "{{json .HostConfig.PortBindings}}", "web")
		if bindings != `{"8080/tcp":[{"HostIp":"127.0.0.1","HostPort":""}]}`+"\n" {
			t.Fatalf("HostConfig.PortBindings: %s", bindings)
		}
		if out := d.must(t, "ps", "--filter", "name=^web$", "--format", "{{.Ports}}"); out != addr+"->8080/tcp\n" {
			t.Fatalf("ps Ports: %q, want %s->8080/tcp", out, addr)
		}
		for filter, want := range map[string]string{
			"publish=" + hostPort: "web\n", "expose=8080": "web\n", "expose=8000-8090/tcp": "web\n",
			"expose=8080/udp": "", "publish=8080": "",
		} {
			if out := d.must(t, "ps", "--filter", filter, "--filter", "name=^web$", "--format", "{{.Names}}"); out != want {
				t.Errorf("ps --filter %s: %q, want %q", filter, out, want)
			}
		}
	})

	t.Run("-P publishes the exposed ports", func(t *testing.T) {
		id, page := serve(t, "all", img, "8081", "-P", "--expose", "8081")
		hostPort := enginePort(t, engine, id, "8081/tcp")
		addr := "127.0.0.1:" + hostPort
		if out := d.must(t, "port", "all", "8081"); out != addr+"\n" {
			t.Fatalf("docker port all 8081: %q, want %s", out, addr)
		}
		if got := fetch(t, addr); got != page {
			t.Fatalf("GET %s: %q, want %q", addr, got, page)
		}
		if out := d.must(t, "inspect", "--format", "{{.HostConfig.PublishAllPorts}} {{json .Config.ExposedPorts}}", "all"); out != `true {"8081/tcp":{}}`+"\n" {
			t.Fatalf("inspect: %q", out)
		}
	})

	t.Run("-P publishes the image's EXPOSE", func(t *testing.T) {
		exposing := exposingImage(t, engine, img, "8082/tcp")
		id, page := serve(t, "fromimage", exposing, "8082", "-P")
		addr := "127.0.0.1:" + enginePort(t, engine, id, "8082/tcp")
		if out := d.must(t, "port", "fromimage"); out != "8082/tcp -> "+addr+"\n" {
			t.Fatalf("docker port fromimage: %q, want 8082/tcp -> %s", out, addr)
		}
		if got := fetch(t, addr); got != page {
			t.Fatalf("GET %s: %q, want %q", addr, got, page)
		}
		if out := d.must(t, "inspect", "--format", "{{json .Config.ExposedPorts}}", "fromimage"); out != `{"8082/tcp":{}}`+"\n" {
			t.Fatalf("Config.ExposedPorts: %q", out)
		}
	})

	t.Run("bad port filter", func(t *testing.T) {
		if out, err := d.docker("ps", "--filter", "publish=1:2"); err == nil || !strings.Contains(err.Error(), "should not contain ':'") {
			t.Fatalf("ps --filter publish=1:2: %q %v", out, err)
		}
	})
}

// enginePort is the host port the engine bound for the container port of
// the Sockerless container id, from the engine's own inspect.
func enginePort(t *testing.T, engine *client.Client, id, port string) string {
	t.Helper()
	real, ok := engineContainer(t, engine, id)
	if !ok {
		t.Fatal("no engine container")
	}
	res, err := engine.ContainerInspect(context.Background(), real.ID, client.ContainerInspectOptions{})
	if err != nil {
		t.Fatal(err)
	}
	raw, err := json.Marshal(res.Container.NetworkSettings.Ports)
	if err != nil {
		t.Fatal(err)
	}
	var ports map[string][]struct{ HostIp, HostPort string }
	if err := json.Unmarshal(raw, &ports); err != nil {
		t.Fatal(err)
	}
	b := ports[port]
	if len(b) != 1 || b[0].HostIp != "127.0.0.1" || b[0].HostPort == "" {
		t.Fatalf("engine bindings of %s: %s", port, raw)
	}
	return b[0].HostPort
}

// fetch gets / from addr (a 127.0.0.1 address), retrying a bounded number
// of times while the server comes up.
func fetch(t *testing.T, addr string) string {
	t.Helper()
	c := &http.Client{Timeout: 5 * time.Second}
	var last error
	for range 100 {
		res, err := c.Get("http://" + addr + "/")
		if err == nil {
			body, rerr := io.ReadAll(res.Body)
			if cerr := res.Body.Close(); rerr == nil {
				rerr = cerr
			}
			if rerr == nil && res.StatusCode == http.StatusOK {
				return string(body)
			}
			err = fmt.Errorf("status %s, body %q, read: %v", res.Status, body, rerr)
		}
		last = err
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("GET http://%s/: %v", addr, last)
	return ""
}

// exposingImage commits, on the engine, an image of base that EXPOSEs port,
// removed at the end of the test.
func exposingImage(t *testing.T, engine *client.Client, base, port string) string {
	t.Helper()
	ctx := context.Background()
	ref := fmt.Sprintf("sockerless-it-expose:%d", os.Getpid())
	c, err := engine.ContainerCreate(ctx, client.ContainerCreateOptions{
		Config: &container.Config{Image: base, Cmd: []string{"true"}}, HostConfig: &container.HostConfig{NetworkMode: "none"},
	})
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		if _, err := engine.ContainerRemove(ctx, c.ID, client.ContainerRemoveOptions{Force: true}); err != nil {
			t.Error(err)
		}
	}()
	if _, err := engine.ContainerCommit(ctx, c.ID, client.ContainerCommitOptions{Reference: ref, Changes: []string{"EXPOSE " + port}}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if _, err := engine.ImageRemove(ctx, ref, client.ImageRemoveOptions{Force: true}); err != nil {
			t.Error(err)
		}
	})
	return ref
}
