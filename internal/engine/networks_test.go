package engine_test

import (
	"context"
	"errors"
	"log/slog"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/network"

	"github.com/sockerless/sockerless/internal/backends/memory"
	"github.com/sockerless/sockerless/internal/daemon"
	"github.com/sockerless/sockerless/internal/engine"
	"github.com/sockerless/sockerless/internal/errdefs"
	"github.com/sockerless/sockerless/internal/filters"
	"github.com/sockerless/sockerless/internal/image"
	"github.com/sockerless/sockerless/internal/store"
)

// env is an engine over a real store, image store and memory backend in a
// temporary data root; reopen closes and builds it again on the same root.
type env struct {
	t    *testing.T
	root string
	st   *store.Store
	mem  *memory.Backend
	e    *engine.Engine
}

func newEnv(t *testing.T) *env {
	v := &env{t: t, root: t.TempDir()}
	v.open()
	t.Cleanup(v.close)
	return v
}

func (v *env) open() {
	ctx := context.Background()
	st, err := store.Open(filepath.Join(v.root, "state.db"))
	if err != nil {
		v.t.Fatal(err)
	}
	images, err := image.Open(filepath.Join(v.root, "image"), slog.New(slog.DiscardHandler))
	if err != nil {
		v.t.Fatal(err)
	}
	if _, err := images.EnsureBase(ctx); err != nil {
		v.t.Fatal(err)
	}
	mem, err := memory.New(ctx, memory.Config{DataRoot: filepath.Join(v.root, "memory"), Images: daemon.Unpacker{Images: images}, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		v.t.Fatal(err)
	}
	e, err := engine.New(ctx, engine.Config{DataRoot: filepath.Join(v.root, "engine"), Store: st, Backend: mem, Images: daemon.ImageConfigs{Images: images}})
	if err != nil {
		v.t.Fatal(err)
	}
	v.st, v.mem, v.e = st, mem, e
}

func (v *env) close() {
	if v.e == nil {
		return
	}
	if err := v.e.Close(); err != nil {
		v.t.Error(err)
	}
	if err := v.mem.Close(context.Background()); err != nil {
		v.t.Error(err)
	}
	if err := v.st.Close(); err != nil {
		v.t.Error(err)
	}
	v.e = nil
}

func (v *env) reopen() { v.close(); v.open() }

// create makes a container on the given networks (the first one is the
// NetworkMode) with per-network aliases.
func (v *env) create(name string, nets []string, aliases map[string][]string) string {
	v.t.Helper()
	return v.createCmd(name, nets, aliases, "true")
}

func (v *env) createCmd(name string, nets []string, aliases map[string][]string, cmd ...string) string {
	v.t.Helper()
	opts := engine.CreateOptions{Name: name, Config: container.Config{Image: "sockerless/base:latest", Cmd: cmd}}
	if len(nets) > 0 {
		opts.HostConfig.NetworkMode = container.NetworkMode(nets[0])
		opts.Networks = map[string]*network.EndpointSettings{}
		for _, n := range nets {
			opts.Networks[n] = &network.EndpointSettings{Aliases: aliases[n]}
		}
	}
	resp, err := v.e.ContainerCreate(context.Background(), opts)
	if err != nil {
		v.t.Fatal(err)
	}
	return resp.ID
}

// up creates a container that idles on the given networks and starts it:
// endpoints (addresses, IDs) exist while a container runs.
func (v *env) up(name string, nets []string, aliases map[string][]string) string {
	v.t.Helper()
	id := v.createCmd(name, nets, aliases, "sleep", "infinity")
	if err := v.e.ContainerStart(context.Background(), id); err != nil {
		v.t.Fatal(err)
	}
	return id
}

func (v *env) inspect(name string) container.InspectResponse {
	v.t.Helper()
	c, err := v.e.ContainerInspect(context.Background(), name)
	if err != nil {
		v.t.Fatal(err)
	}
	return c
}

func (v *env) hosts(id string) string {
	v.t.Helper()
	b, err := os.ReadFile(filepath.Join(v.root, "memory", "containers", id, "rootfs", "etc", "hosts"))
	if err != nil {
		v.t.Fatal(err)
	}
	return string(b)
}

func TestBuiltinNetworksAreStable(t *testing.T) {
	v := newEnv(t)
	ctx := context.Background()
	ids := map[string]string{}
	for _, name := range []string{"bridge", "host", "none"} {
		n, err := v.e.NetworkInspect(ctx, name, false, "")
		if err != nil {
			t.Fatal(err)
		}
		ids[name] = n.ID
	}
	br, _ := v.e.NetworkInspect(ctx, "bridge", false, "")
	if br.Driver != "bridge" || br.Scope != "local" || len(br.IPAM.Config) != 1 ||
		br.IPAM.Config[0].Subnet != netip.MustParsePrefix("172.17.0.0/16") || br.IPAM.Config[0].Gateway != netip.MustParseAddr("172.17.0.1") {
		t.Fatalf("bridge: %+v", br)
	}
	if none, _ := v.e.NetworkInspect(ctx, "none", false, ""); none.Driver != "null" || none.IPAM.Config != nil {
		t.Fatalf("none: %+v", none)
	}
	v.reopen()
	for name, id := range ids {
		if n, err := v.e.NetworkInspect(ctx, name, false, ""); err != nil || n.ID != id {
			t.Fatalf("%s after restart: %s %v, want %s", name, n.ID, err, id)
		}
	}
	if err := v.e.NetworkRemove(ctx, "bridge"); !isForbidden(err) || err.Error() != "bridge is a pre-defined network and cannot be removed" {
		t.Fatalf("rm bridge: %v", err)
	}
}

func TestNetworkAddressesAndHosts(t *testing.T) {
	v := newEnv(t)
	ctx := context.Background()
	resp, err := v.e.NetworkCreate(ctx, network.CreateRequest{Name: "app", Labels: map[string]string{"k": "v"}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := v.e.NetworkCreate(ctx, network.CreateRequest{Name: "app"}); !errdefs.IsConflict(err) {
		t.Fatalf("duplicate: %v", err)
	}
	if _, err := v.e.NetworkCreate(ctx, network.CreateRequest{Name: "ov", Driver: "overlay"}); !errdefs.IsNotImplemented(err) || !strings.Contains(err.Error(), `"overlay"`) {
		t.Fatalf("overlay: %v", err)
	}
	n, err := v.e.NetworkInspect(ctx, resp.ID[:5], false, "")
	if err != nil || n.Name != "app" || n.IPAM.Config[0].Subnet != netip.MustParsePrefix("172.18.0.0/16") {
		t.Fatalf("inspect by prefix: %+v %v", n, err)
	}

	// Created, a container has its configuration and no endpoint yet.
	web := v.createCmd("web1", []string{"app"}, map[string][]string{"app": {"web"}}, "sleep", "infinity")
	if ws := v.inspect("web1").NetworkSettings.Networks["app"]; ws == nil || ws.IPAddress.IsValid() || ws.NetworkID != "" || ws.EndpointID != "" ||
		ws.MacAddress != nil || ws.DNSNames != nil || strings.Join(ws.Aliases, ",") != "web" {
		t.Fatalf("created web1 endpoint: %+v", ws)
	}
	if err := v.e.ContainerStart(ctx, web); err != nil {
		t.Fatal(err)
	}
	cli := v.up("cli", []string{"app"}, nil)
	def := v.up("def", nil, nil)

	ws := v.inspect("web1").NetworkSettings.Networks["app"]
	if ws == nil || ws.IPAddress != netip.MustParseAddr("172.18.0.2") || ws.Gateway != netip.MustParseAddr("172.18.0.1") ||
		ws.IPPrefixLen != 16 || ws.MacAddress.String() != "02:42:ac:12:00:02" || ws.NetworkID != resp.ID || ws.EndpointID == "" {
		t.Fatalf("web1 endpoint: %+v", ws)
	}
	if got := strings.Join(ws.DNSNames, ","); got != "web1,web,"+web[:12] {
		t.Fatalf("DNSNames %q", got)
	}
	if d := v.inspect("def").NetworkSettings.Networks["bridge"]; d == nil || d.IPAddress != netip.MustParseAddr("172.17.0.2") || d.DNSNames != nil {
		t.Fatalf("default bridge endpoint: %+v", d)
	}
	// cli sees web1 by name and alias; web1 sees cli (rewritten on cli's
	// start); the default bridge resolves no names.
	if h := v.hosts(cli); !strings.Contains(h, "172.18.0.2\tweb1 web "+web[:12]+"\n") || !strings.Contains(h, "172.18.0.3\t"+cli[:12]+" cli\n") {
		t.Fatalf("cli hosts:\n%s", h)
	}
	if h := v.hosts(web); !strings.Contains(h, "172.18.0.3\tcli "+cli[:12]+"\n") {
		t.Fatalf("web1 hosts:\n%s", h)
	}
	if h := v.hosts(def); strings.Contains(h, "web1") || !strings.Contains(h, "172.17.0.2\t"+def[:12]+"\n") {
		t.Fatalf("def hosts:\n%s", h)
	}
	ni, _ := v.e.NetworkInspect(ctx, "app", false, "")
	if r := ni.Containers[web]; r.Name != "web1" || r.IPv4Address != netip.MustParsePrefix("172.18.0.2/16") || r.EndpointID != ws.EndpointID {
		t.Fatalf("network containers: %+v", ni.Containers)
	}

	// connect with a fixed address, then disconnect: the address is free again.
	if err := v.e.NetworkConnect(ctx, "app", network.ConnectRequest{Container: "def", EndpointConfig: &network.EndpointSettings{
		Aliases: []string{"db"}, IPAMConfig: &network.EndpointIPAMConfig{IPv4Address: netip.MustParseAddr("172.18.5.5")},
	}}); err != nil {
		t.Fatal(err)
	}
	if h := v.hosts(cli); !strings.Contains(h, "172.18.5.5\tdef db "+def[:12]+"\n") {
		t.Fatalf("after connect:\n%s", h)
	}
	if err := v.e.NetworkConnect(ctx, "app", network.ConnectRequest{Container: "cli", EndpointConfig: &network.EndpointSettings{
		IPAMConfig: &network.EndpointIPAMConfig{IPv4Address: netip.MustParseAddr("172.18.5.5")},
	}}); !isForbidden(err) {
		t.Fatalf("connect twice: %v", err)
	}
	if err := v.e.NetworkRemove(ctx, "app"); !isForbidden(err) || !strings.Contains(err.Error(), "has active endpoints") {
		t.Fatalf("rm in use: %v", err)
	}
	if err := v.e.NetworkDisconnect(ctx, "app", network.DisconnectRequest{Container: "def"}); err != nil {
		t.Fatal(err)
	}
	if h := v.hosts(cli); strings.Contains(h, "def") {
		t.Fatalf("after disconnect:\n%s", h)
	}

	// A stop ends the endpoint: the address goes back to the network and
	// leaves the others' hosts files; the network's ID and the names stay.
	zero := 0
	if err := v.e.ContainerStop(ctx, "web1", "", &zero); err != nil {
		t.Fatal(err)
	}
	ws = v.inspect("web1").NetworkSettings.Networks["app"]
	if ws == nil || ws.IPAddress.IsValid() || ws.EndpointID != "" || ws.Gateway.IsValid() || ws.MacAddress != nil || ws.NetworkID != resp.ID ||
		strings.Join(ws.DNSNames, ",") != "web1,web,"+web[:12] {
		t.Fatalf("stopped web1 endpoint: %+v", ws)
	}
	if h := v.hosts(cli); strings.Contains(h, "web1") {
		t.Fatalf("after web1's stop:\n%s", h)
	}
	if ip := v.inspect(v.up("again", []string{"app"}, nil)).NetworkSettings.Networks["app"].IPAddress; ip != netip.MustParseAddr("172.18.0.2") {
		t.Fatalf("released address not reused: %v", ip)
	}
	// Started again, web1 gets a free address.
	if err := v.e.ContainerStart(ctx, web); err != nil {
		t.Fatal(err)
	}
	if ip := v.inspect("web1").NetworkSettings.Networks["app"].IPAddress; ip != netip.MustParseAddr("172.18.0.4") {
		t.Fatalf("web1 restarted: %v", ip)
	}

	// Running allocations survive a daemon restart only with their
	// containers: a clean stop stops them, so their addresses are free.
	v.reopen()
	other := v.up("other", []string{"app"}, nil)
	if ip := v.inspect(other).NetworkSettings.Networks["app"].IPAddress; ip != netip.MustParseAddr("172.18.0.2") {
		t.Fatalf("after restart: %v", ip)
	}
	if err := v.e.ContainerRemove(ctx, "web1", true, false); err != nil {
		t.Fatal(err)
	}

	list, err := v.e.NetworkList(ctx, filters.Args{"type": {"custom"}})
	if err != nil || len(list) != 1 || list[0].Name != "app" {
		t.Fatalf("type=custom: %+v %v", list, err)
	}
	if list, _ := v.e.NetworkList(ctx, filters.Args{"dangling": {"true"}}); len(list) != 0 {
		t.Fatalf("dangling: %+v", list)
	}
	for _, id := range []string{cli, other, def} {
		if err := v.e.ContainerRemove(ctx, id, true, false); err != nil {
			t.Fatal(err)
		}
	}
	if err := v.e.ContainerRemove(ctx, "again", true, false); err != nil {
		t.Fatal(err)
	}
	rep, err := v.e.NetworksPrune(ctx, filters.Args{"label": {"k=v"}})
	if err != nil || len(rep.NetworksDeleted) != 1 || rep.NetworksDeleted[0] != "app" {
		t.Fatalf("prune: %+v %v", rep, err)
	}
}

func TestCreateNetworkErrors(t *testing.T) {
	v := newEnv(t)
	ctx := context.Background()
	cases := []struct {
		req  network.CreateRequest
		is   func(error) bool
		want string
	}{
		{network.CreateRequest{Name: "bridge"}, isForbidden, "operation is not permitted on predefined bridge network "},
		{network.CreateRequest{Name: "x", IPAM: &network.IPAM{Config: []network.IPAMConfig{{Subnet: netip.MustParsePrefix("172.17.5.0/24")}}}}, isForbidden, "Pool overlaps with other one on this address space"},
		{network.CreateRequest{Name: "x", IPAM: &network.IPAM{Config: []network.IPAMConfig{{Subnet: netip.MustParsePrefix("10.9.0.0/24"), Gateway: netip.MustParseAddr("10.1.1.1")}}}}, errdefs.IsInvalidParameter, "failed to allocate gateway (10.1.1.1): Requested address is out of range"},
	}
	for _, c := range cases {
		if _, err := v.e.NetworkCreate(ctx, c.req); !c.is(err) || err.Error() != c.want {
			t.Errorf("%+v: %v, want %q", c.req, err, c.want)
		}
	}
	if _, err := v.e.ContainerCreate(ctx, engine.CreateOptions{Config: container.Config{Image: "sockerless/base:latest", Cmd: []string{"true"}}, HostConfig: container.HostConfig{NetworkMode: "nosuch"}}); !errdefs.IsInvalidParameter(err) || err.Error() != "network nosuch not found" {
		t.Errorf("unknown network at create: %v", err)
	}
	// host and none give no address and exclude other networks.
	id := v.up("hostc", []string{"host"}, nil)
	if s := v.inspect(id).NetworkSettings.Networks["host"]; s == nil || s.IPAddress.IsValid() || s.NetworkID == "" || s.EndpointID == "" {
		t.Fatalf("host endpoint: %+v", s)
	}
	if err := v.e.NetworkConnect(ctx, "bridge", network.ConnectRequest{Container: id}); !errdefs.IsInvalidParameter(err) {
		t.Fatalf("connect a host container: %v", err)
	}
}

// TestEndpointsLiveWithTheRun: as dockerd, a created container holds no
// endpoint, so a network with only created containers on it can be
// removed (their next start fails), and connecting a created container
// records the configuration without an address or a connect event.
func TestEndpointsLiveWithTheRun(t *testing.T) {
	v := newEnv(t)
	ctx := context.Background()
	for _, n := range []string{"gone", "later"} {
		if _, err := v.e.NetworkCreate(ctx, network.CreateRequest{Name: n}); err != nil {
			t.Fatal(err)
		}
	}
	id := v.createCmd("c1", []string{"gone"}, nil, "sleep", "infinity")
	if ni, _ := v.e.NetworkInspect(ctx, "gone", false, ""); len(ni.Containers) != 0 {
		t.Fatalf("endpoints of a created container: %+v", ni.Containers)
	}
	if err := v.e.NetworkRemove(ctx, "gone"); err != nil {
		t.Fatalf("removing a network only a created container is on: %v", err)
	}
	if err := v.e.ContainerStart(ctx, id); !errdefs.IsNotFound(err) || err.Error() != "failed to set up container networking: network gone not found" {
		t.Fatalf("start on a removed network: %v", err)
	}
	if st := v.inspect(id).State; st.Running || st.Status != container.StateCreated {
		t.Fatalf("after the failed start: %+v", st)
	}
	// The configuration stays by name, as dockerd keeps it, and can be
	// dropped and given again while the container is not running.
	if s := v.inspect(id).NetworkSettings.Networks["gone"]; s == nil || s.NetworkID != "" || s.EndpointID != "" {
		t.Fatalf("configuration on a removed network: %+v", s)
	}
	if err := v.e.NetworkDisconnect(ctx, "gone", network.DisconnectRequest{Container: id}); err != nil {
		t.Fatal(err)
	}
	if err := v.e.NetworkDisconnect(ctx, "gone", network.DisconnectRequest{Container: id}); err == nil || err.Error() != "container "+id+" is not connected to the network gone" {
		t.Fatalf("disconnect again: %v", err)
	}
	if err := v.e.NetworkConnect(ctx, "gone", network.ConnectRequest{Container: id, EndpointConfig: &network.EndpointSettings{Aliases: []string{"al"}}}); err != nil {
		t.Fatal(err)
	}
	if s := v.inspect(id).NetworkSettings.Networks["gone"]; s == nil || strings.Join(s.Aliases, ",") != "al" {
		t.Fatalf("connected by name: %+v", s)
	}

	other := v.createCmd("d1", []string{"later"}, nil, "sleep", "infinity")
	if err := v.e.NetworkConnect(ctx, "bridge", network.ConnectRequest{Container: other}); err != nil {
		t.Fatal(err)
	}
	if s := v.inspect(other).NetworkSettings.Networks["bridge"]; s == nil || s.IPAddress.IsValid() || s.EndpointID != "" {
		t.Fatalf("connected while created: %+v", s)
	}
	if err := v.e.ContainerStart(ctx, other); err != nil {
		t.Fatal(err)
	}
	nets := v.inspect(other).NetworkSettings.Networks
	if nets["bridge"] == nil || !nets["bridge"].IPAddress.IsValid() || nets["later"] == nil || !nets["later"].IPAddress.IsValid() {
		t.Fatalf("after the start: %+v %+v", nets["bridge"], nets["later"])
	}
	if err := v.e.NetworkRemove(ctx, "later"); !isForbidden(err) {
		t.Fatalf("removing a network a running container is on: %v", err)
	}
}

func isForbidden(err error) bool { return errors.Is(err, errdefs.ErrForbidden) }

// TestContainerNetworkMode checks --network container:<name>: no endpoint
// of its own, the other container's hostname and /etc/hosts, and a start
// refused while the other container is not running (as dockerd).
func TestContainerNetworkMode(t *testing.T) {
	v := newEnv(t)
	ctx := context.Background()
	if _, err := v.e.NetworkCreate(ctx, network.CreateRequest{Name: "pod"}); err != nil {
		t.Fatal(err)
	}
	job := v.createCmd("job", []string{"pod"}, map[string][]string{"pod": {"svc"}}, "sleep", "infinity")
	create := func(hc container.HostConfig, cfg container.Config) (string, error) {
		cfg.Image, cfg.Cmd = "sockerless/base:latest", []string{"tail", "-f", "/dev/null"}
		resp, err := v.e.ContainerCreate(ctx, engine.CreateOptions{Config: cfg, HostConfig: hc})
		return resp.ID, err
	}
	step, err := create(container.HostConfig{NetworkMode: "container:job"}, container.Config{})
	if err != nil {
		t.Fatal(err)
	}
	got := v.inspect(step)
	if got.HostConfig.NetworkMode != container.NetworkMode("container:"+job) || len(got.NetworkSettings.Networks) != 0 {
		t.Errorf("mode %q, networks %v; want container:%s and none of its own", got.HostConfig.NetworkMode, got.NetworkSettings.Networks, job)
	}
	if want := v.inspect(job).Config.Hostname; got.Config.Hostname != want {
		t.Errorf("hostname %q, want the job's %q", got.Config.Hostname, want)
	}
	if err := v.e.ContainerStart(ctx, step); !errdefs.IsConflict(err) || !strings.Contains(err.Error(), "cannot join network of a non running container") {
		t.Fatalf("start while the job is not running: %v", err)
	}
	if err := v.e.ContainerStart(ctx, "job"); err != nil {
		t.Fatal(err)
	}
	if err := v.e.ContainerStart(ctx, step); err != nil {
		t.Fatal(err)
	}
	if own, shared := v.hosts(job), v.hosts(step); own != shared || !strings.Contains(shared, "svc") {
		t.Errorf("/etc/hosts of the step:\n%s\nwant the job's:\n%s", shared, own)
	}
	if _, err := create(container.HostConfig{NetworkMode: "container:job"}, container.Config{Hostname: "x"}); !errdefs.IsInvalidParameter(err) {
		t.Errorf("hostname with container mode: %v", err)
	}
	if _, err := create(container.HostConfig{NetworkMode: "container:nosuch"}, container.Config{}); !errdefs.IsInvalidParameter(err) {
		t.Errorf("unknown container: %v", err)
	}
}
