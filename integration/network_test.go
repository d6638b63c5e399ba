package integration

import (
	"encoding/json"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestNetworks drives docker network with the real CLI: built-ins, create,
// ls, inspect, run on a network with an alias, name resolution through
// /etc/hosts, connect/disconnect, events, errors with dockerd's messages,
// rm and prune.
func TestNetworks(t *testing.T) {
	if os.Getenv(BackendEnv) == "docker" {
		t.Skip("the memory backend's own network records (the default bridge, names through /etc/hosts, endpoints from create): " +
			"on the docker backend networks are the engine's (TestDockerBackendNetworks, the differential suite)")
	}
	d := startDaemon(t, "")
	t.Parallel()
	start := strconv.FormatInt(time.Now().Unix(), 10)

	t.Run("built-in networks", func(t *testing.T) {
		out := d.must(t, "network", "ls", "--format", "{{.Name}} {{.Driver}} {{.Scope}}")
		for _, want := range []string{"bridge bridge local", "host host local", "none null local"} {
			if !strings.Contains(out, want+"\n") {
				t.Fatalf("network ls lacks %q:\n%s", want, out)
			}
		}
		if out := d.must(t, "network", "inspect", "-f", "{{range .IPAM.Config}}{{.Subnet}} {{.Gateway}}{{end}}", "bridge"); out != "172.17.0.0/16 172.17.0.1\n" {
			t.Fatalf("bridge IPAM: %q", out)
		}
	})

	var appID string
	t.Run("create, ls and inspect", func(t *testing.T) {
		appID = strings.TrimSpace(d.must(t, "network", "create", "--label", "team=x", "app"))
		d.must(t, "network", "create", "--subnet", "10.99.0.0/24", "--gateway", "10.99.0.1", "fixed")
		if out := d.must(t, "network", "inspect", "-f", "{{.Id}} {{.Driver}} {{.Scope}} {{.Labels}}{{range .IPAM.Config}} {{.Subnet}} {{.Gateway}}{{end}}", appID[:6]); out != appID+" bridge local map[team:x] 172.18.0.0/16 172.18.0.1\n" {
			t.Fatalf("inspect by prefix: %q", out)
		}
		if out := d.must(t, "network", "ls", "-q", "--no-trunc", "--filter", "label=team=x"); out != appID+"\n" {
			t.Fatalf("ls label filter: %q", out)
		}
		if out := d.must(t, "network", "ls", "--format", "{{.Name}}", "--filter", "type=custom"); out != "app\nfixed\n" {
			t.Fatalf("ls type=custom: %q", out)
		}
	})

	t.Run("names resolve through /etc/hosts", func(t *testing.T) {
		d.must(t, "run", "-d", "--name", "server", "--network", "app", "--network-alias", "web", baseImage, "sleep", "300")
		ip := strings.TrimSpace(d.must(t, "inspect", "-f", "{{(index .NetworkSettings.Networks \"app\").IPAddress}}", "server"))
		if ip != "172.18.0.2" {
			t.Fatalf("server IP %q", ip)
		}
		hosts := d.must(t, "run", "--rm", "--network", "app", baseImage, "cat", "/etc/hosts")
		var line string
		for _, l := range strings.Split(hosts, "\n") {
			if strings.HasPrefix(l, ip+"\t") {
				line = l
			}
		}
		fields := strings.Fields(line)
		if len(fields) < 3 || fields[1] != "server" || fields[2] != "web" {
			t.Fatalf("no line for server and web at %s in:\n%s", ip, hosts)
		}
		out := d.must(t, "network", "inspect", "-f", `{{range .Containers}}{{.Name}} {{.IPv4Address}} {{.MacAddress}}{{end}}`, "app")
		if out != "server 172.18.0.2/16 02:42:ac:12:00:02\n" {
			t.Fatalf("network inspect containers: %q", out)
		}
		if out := d.must(t, "ps", "--filter", "network=app", "--format", "{{.Names}} {{.Networks}}"); out != "server app\n" {
			t.Fatalf("ps network filter: %q", out)
		}
	})

	t.Run("connect and disconnect", func(t *testing.T) {
		d.must(t, "network", "connect", "--alias", "db", "--ip", "10.99.0.50", "fixed", "server")
		if out := d.must(t, "inspect", "-f", `{{with index .NetworkSettings.Networks "fixed"}}{{.IPAddress}} {{.Gateway}} {{.IPPrefixLen}} {{.MacAddress}} {{.Aliases}}{{end}}`, "server"); out != "10.99.0.50 10.99.0.1 24 02:42:0a:63:00:32 [db]\n" {
			t.Fatalf("after connect: %q", out)
		}
		d.must(t, "run", "-d", "--name", "peer", "--network", "fixed", baseImage, "sleep", "300")
		if out := d.must(t, "exec", "peer", "cat", "/etc/hosts"); !strings.Contains(out, "10.99.0.50\tserver db ") {
			t.Fatalf("peer hosts after connect:\n%s", out)
		}
		d.must(t, "network", "disconnect", "fixed", "server")
		if out := d.must(t, "exec", "peer", "cat", "/etc/hosts"); strings.Contains(out, "server") {
			t.Fatalf("peer hosts after disconnect:\n%s", out)
		}
		if out := d.must(t, "inspect", "-f", "{{len .NetworkSettings.Networks}}", "server"); out != "1\n" {
			t.Fatalf("networks after disconnect: %q", out)
		}
	})

	t.Run("errors as dockerd", func(t *testing.T) {
		for _, c := range []struct {
			args []string
			want string
		}{
			{[]string{"network", "rm", "bridge"}, "bridge is a pre-defined network and cannot be removed"},
			{[]string{"network", "rm", "app"}, "error while removing network: network app id " + appID + " has active endpoints"},
			{[]string{"network", "inspect", "nosuch"}, "network nosuch not found"},
			{[]string{"network", "create", "app"}, "network with name app already exists"},
			{[]string{"network", "connect", "app", "server"}, "endpoint with name server already exists in network app"},
			{[]string{"network", "create", "-d", "macvlan", "mv"}, `network driver "macvlan" is not supported`},
			{[]string{"run", "--rm", "--network", "nosuch", baseImage, "true"}, "network nosuch not found"},
		} {
			out, err := d.docker(c.args...)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("docker %s: %q %v, want %q", strings.Join(c.args, " "), out, err, c.want)
			}
		}
	})

	t.Run("rm, prune and events", func(t *testing.T) {
		d.must(t, "rm", "-f", "server", "peer")
		d.must(t, "network", "create", "--label", "keep=1", "kept")
		d.must(t, "network", "rm", "fixed")
		out := d.must(t, "network", "prune", "-f", "--filter", "label!=keep")
		if !strings.Contains(out, "Deleted Networks:\napp\n") {
			t.Fatalf("prune: %q", out)
		}
		if out := d.must(t, "network", "ls", "--format", "{{.Name}}", "--filter", "type=custom"); out != "kept\n" {
			t.Fatalf("after prune: %q", out)
		}
		out = d.must(t, "events", "--since", start, "--until", strconv.FormatInt(time.Now().Unix()+1, 10), "--filter", "type=network", "--format", "{{json .}}")
		var seen []string
		for _, l := range strings.Split(strings.TrimSpace(out), "\n") {
			var m struct {
				Action string
				Actor  struct{ Attributes map[string]string }
			}
			if err := json.Unmarshal([]byte(l), &m); err != nil {
				t.Fatalf("event %q: %v", l, err)
			}
			a := m.Actor.Attributes
			if a["type"] != "bridge" || a["name"] == "" || (strings.HasSuffix(m.Action, "connect") && a["container"] == "") {
				t.Fatalf("event attributes: %s", l)
			}
			seen = append(seen, m.Action+":"+a["name"])
		}
		for _, want := range []string{"create:app", "connect:app", "connect:fixed", "disconnect:fixed", "disconnect:app", "destroy:fixed", "destroy:app"} {
			if !strings.Contains(","+strings.Join(seen, ",")+",", ","+want+",") {
				t.Errorf("no %s event in %v", want, seen)
			}
		}
	})
}
