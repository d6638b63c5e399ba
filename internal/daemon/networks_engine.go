package daemon

import (
	"context"

	"github.com/moby/moby/api/types/events"
	"github.com/moby/moby/api/types/network"

	"github.com/sockerless/sockerless/internal/backend"
	"github.com/sockerless/sockerless/internal/backends/docker"
	"github.com/sockerless/sockerless/internal/filters"
)

// engineNetworks are the Docker engine's networks, for the docker backend:
// every network call is the engine's, so its IPAM and endpoints are the
// truth, as images are (images_engine.go). The daemon's engine still
// resolves container references, translates the engine's container IDs
// back to its own, and keeps the events.
type engineNetworks struct {
	nets       *docker.Networks
	containers platformContainers
}

// platformContainers is what engineNetworks needs of the engine.
type platformContainers interface {
	ContainerHandle(ref string) (string, backend.Handle, error)
	ContainerOfWorkload(data string) (id, name string, ok bool)
	NetworkEvent(action events.Action, id string, attrs map[string]string)
}

func (n engineNetworks) NetworkCreate(ctx context.Context, req network.CreateRequest) (network.CreateResponse, error) {
	resp, err := n.nets.Create(ctx, req)
	if err != nil {
		return resp, err
	}
	driver := req.Driver
	if driver == "" {
		driver = "bridge"
	}
	n.containers.NetworkEvent(events.ActionCreate, resp.ID, map[string]string{"name": req.Name, "type": driver})
	return resp, nil
}

func (n engineNetworks) NetworkList(ctx context.Context, f filters.Args) ([]network.Summary, error) {
	return n.nets.List(ctx, f)
}

// NetworkInspect shows the containers by the daemon's IDs and names;
// containers on the engine that are not the daemon's keep the engine's.
func (n engineNetworks) NetworkInspect(ctx context.Context, ref string, verbose bool, scope string) (network.Inspect, error) {
	out, err := n.nets.Inspect(ctx, ref, verbose, scope)
	if err != nil || len(out.Containers) == 0 {
		return out, err
	}
	cs := make(map[string]network.EndpointResource, len(out.Containers))
	for engineID, res := range out.Containers {
		if id, name, ok := n.containers.ContainerOfWorkload(engineID); ok {
			engineID, res.Name = id, name
		}
		cs[engineID] = res
	}
	out.Containers = cs
	return out, nil
}

func (n engineNetworks) NetworkRemove(ctx context.Context, ref string) error {
	in, err := n.nets.Inspect(ctx, ref, false, "")
	if err != nil {
		return err
	}
	if err := n.nets.Remove(ctx, ref); err != nil {
		return err
	}
	n.containers.NetworkEvent(events.ActionDestroy, in.ID, map[string]string{"name": in.Name, "type": in.Driver})
	return nil
}

func (n engineNetworks) NetworkConnect(ctx context.Context, ref string, req network.ConnectRequest) error {
	return n.connection(ctx, ref, req.Container, events.ActionConnect, func(h backend.Handle) error {
		return n.nets.Connect(ctx, ref, h, req.EndpointConfig)
	})
}

func (n engineNetworks) NetworkDisconnect(ctx context.Context, ref string, req network.DisconnectRequest) error {
	return n.connection(ctx, ref, req.Container, events.ActionDisconnect, func(h backend.Handle) error {
		return n.nets.Disconnect(ctx, ref, h, req.Force)
	})
}

// connection resolves the container (first, as the engine does), makes
// the change on the engine and publishes its event. A network the engine
// no longer lists afterwards gets no event here (the engine keeps its own).
func (n engineNetworks) connection(ctx context.Context, ref, container string, action events.Action, change func(backend.Handle) error) error {
	id, h, err := n.containers.ContainerHandle(container)
	if err != nil {
		return err
	}
	if err := change(h); err != nil {
		return err
	}
	if in, err := n.nets.Inspect(ctx, ref, false, ""); err == nil {
		n.containers.NetworkEvent(action, in.ID, map[string]string{"container": id, "name": in.Name, "type": in.Driver})
	}
	return nil
}

func (n engineNetworks) NetworksPrune(ctx context.Context, f filters.Args) (network.PruneReport, error) {
	return n.nets.Prune(ctx, f)
}
