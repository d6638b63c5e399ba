package integration

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/moby/moby/client"

	"github.com/sockerless/sockerless/internal/testenv"
)

// On the docker backend, networks are the engine's: a network created
// through Sockerless is on the engine, containers created on it reach each
// other by name and alias through the engine's DNS, and container:<name>
// shares the other's network namespace. Traffic only crosses the network
// the test created (and a container's own loopback).
func TestDockerBackendNetworks(t *testing.T) {
	d, engine := dockerBackend(t, "")
	img := testenv.BusyboxImage
	ctx := context.Background()
	net, netID := testNetwork(t, d, "sockerless-it-net")
	if _, err := engine.NetworkInspect(ctx, netID, client.NetworkInspectOptions{}); err != nil {
		t.Fatalf("network %s is not on the engine: %v", netID, err)
	}

	// One connection at a time; the loop restarts the listener after each.
	srv := strings.TrimSpace(d.must(t, "run", "-d", "--name", "srv", "--network", net, "--network-alias", "web", img,
		"sh", "-c", "i=0; while true; do i=$((i+1)); echo answer-$i | nc -l -p 8080; done"))
	t.Cleanup(func() { _, _ = d.docker("rm", "-f", srv) })

	// Bounded retries: the listener may not be up yet, or between two
	// connections. $0 is the host to reach.
	const fetch = `for n in $(seq 100); do out=$(nc "$0" 8080 2>/dev/null) && [ -n "$out" ] && { echo "$out"; exit 0; }; sleep 0.1; done; exit 1`
	t.Run("by name and by alias", func(t *testing.T) {
		for _, host := range []string{"srv", "web"} {
			out := d.must(t, "run", "--rm", "--network", net, img, "sh", "-c", fetch, host)
			if !strings.HasPrefix(out, "answer-") {
				t.Fatalf("nc %s: %q", host, out)
			}
		}
	})

	t.Run("container network mode shares the namespace", func(t *testing.T) {
		out := d.must(t, "run", "--rm", "--network", "container:srv", img, "sh", "-c", fetch, "127.0.0.1")
		if !strings.HasPrefix(out, "answer-") {
			t.Fatalf("nc 127.0.0.1 in container:srv: %q", out)
		}
	})

	t.Run("inspect shows the engine's endpoint with Sockerless's names", func(t *testing.T) {
		real, ok := engineContainer(t, engine, srv)
		if !ok {
			t.Fatal("no engine container")
		}
		res, err := engine.ContainerInspect(ctx, real.ID, client.ContainerInspectOptions{})
		if err != nil {
			t.Fatal(err)
		}
		want := res.Container.NetworkSettings.Networks[net]
		if want == nil || !want.IPAddress.IsValid() {
			t.Fatalf("engine endpoint on %s: %+v", net, want)
		}
		got := d.must(t, "inspect", "--format", fmt.Sprintf(`{{with index .NetworkSettings.Networks %q}}{{.IPAddress}} {{.NetworkID}} {{.Aliases}} {{.DNSNames}}{{end}}`, net), "srv")
		wantLine := fmt.Sprintf("%s %s [web] [srv web %s]\n", want.IPAddress, netID, srv[:12])
		if len(want.DNSNames) == 0 {
			// An engine before API 1.45 has no DNSNames.
			wantLine = fmt.Sprintf("%s %s [web] []\n", want.IPAddress, netID)
		}
		if got != wantLine {
			t.Fatalf("inspect srv: %q, want %q", got, wantLine)
		}
		members := d.must(t, "network", "inspect", "--format", `{{range $id, $c := .Containers}}{{$id}} {{$c.Name}}{{end}}`, net)
		if members != srv+" srv\n" {
			t.Fatalf("network members %q, want %s srv", members, srv)
		}
	})

	t.Run("disconnect and connect are the engine's", func(t *testing.T) {
		d.must(t, "network", "disconnect", net, "srv")
		if out := d.must(t, "inspect", "--format", "{{len .NetworkSettings.Networks}}", "srv"); out != "0\n" {
			t.Fatalf("networks after disconnect: %q", out)
		}
		d.must(t, "network", "connect", "--alias", "again", net, "srv")
		out := d.must(t, "run", "--rm", "--network", net, img, "sh", "-c", fetch, "again")
		if !strings.HasPrefix(out, "answer-") {
			t.Fatalf("nc again: %q", out)
		}
	})
}
