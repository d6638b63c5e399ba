package engine

// Connect and disconnect: the network API calls that change a container's
// endpoints. A running container's endpoint is made or released at once;
// a created or stopped one keeps only the configuration for its next start.

import (
	"context"
	"fmt"
	"slices"

	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/events"
	"github.com/moby/moby/api/types/network"

	"github.com/sockerless/sockerless/internal/errdefs"
)

// NetworkConnect connects a container to a network with an endpoint
// configuration (aliases, IPAMConfig.IPv4Address, MAC address). As with
// dockerd, a running container gets its endpoint (address, connect event)
// at once; another one keeps the configuration for its next start.
func (e *Engine) NetworkConnect(ctx context.Context, ref string, req network.ConnectRequest) error {
	e.networks.mu.Lock()
	defer e.networks.mu.Unlock()
	// The container first, as dockerd.
	c, err := e.lookup(req.Container)
	if err != nil {
		return err
	}
	r, err := e.networks.find(ref)
	if errdefs.IsNotFound(err) {
		return e.connectUnknown(c, ref, req.EndpointConfig, err)
	}
	if err != nil {
		return err
	}
	c.mu.Lock()
	name, id, eps := c.rec.Name, c.rec.ID, c.rec.Endpoints
	removing := c.removed || c.rec.State.Status == container.StateRemoving
	c.mu.Unlock()
	if removing {
		return errdefs.Conflict("container %s is marked for removal and cannot be connected or disconnected to the network", id)
	}
	if err := e.connectCheck(r, name, eps, req.EndpointConfig); err != nil {
		return err
	}
	ep, err := e.newEndpoint(r, req.EndpointConfig)
	if err != nil {
		return err
	}
	c.mu.Lock()
	running := c.rec.State.Running
	if running {
		if ep, err = e.activate(r, ep, id); err != nil {
			c.mu.Unlock()
			return err
		}
	}
	c.rec.Endpoints = append(c.rec.Endpoints, ep)
	err = c.persist()
	if err != nil {
		c.rec.Endpoints = c.rec.Endpoints[:len(c.rec.Endpoints)-1]
	}
	c.mu.Unlock()
	if err != nil {
		e.networks.release(r.ID, ep.IP)
		return err
	}
	if running {
		e.events.Publish(events.NetworkEventType, events.ActionConnect, r.ID, map[string]string{"container": id, "name": r.Name, "type": r.Driver})
		e.refreshHosts(ctx, []string{r.ID}, id)
	}
	return nil
}

// disconnectUnknown is a disconnect from a network that does not exist
// (any more): as dockerd, a container that is not running drops its
// configuration by that name, or says it is not connected (a 500); a
// running one gets notFound.
func (e *Engine) disconnectUnknown(c *ctr, ref string, notFound error) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.rec.State.Running {
		return notFound
	}
	i := slices.IndexFunc(c.rec.Endpoints, func(ep endpoint) bool {
		return ep.Network == ref && (ep.NetworkID == "" || e.networks.byID[ep.NetworkID] == nil)
	})
	if i < 0 {
		return fmt.Errorf("container %s is not connected to the network %s", c.rec.ID, ref)
	}
	old := c.rec.Endpoints
	c.rec.Endpoints = slices.Delete(slices.Clone(old), i, i+1)
	if err := c.persist(); err != nil {
		c.rec.Endpoints = old
		return err
	}
	return nil
}

// connectUnknown is a connect to a network that does not exist: as
// dockerd, a container that is not running keeps the configuration by the
// name given (its start will fail); a running one gets notFound.
func (e *Engine) connectUnknown(c *ctr, ref string, cfg *network.EndpointSettings, notFound error) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.rec.State.Running || c.removed || c.rec.State.Status == container.StateRemoving {
		return notFound
	}
	ep := endpoint{Network: ref}
	if cfg != nil {
		ep.Aliases = slices.Clone(cfg.Aliases)
		if cfg.IPAMConfig != nil {
			ep.Requested = cfg.IPAMConfig.IPv4Address
		}
		if len(cfg.DriverOpts) > 0 {
			ep.DriverOpts = cfg.DriverOpts
		}
		if len(cfg.MacAddress) > 0 {
			ep.RequestedMAC = cfg.MacAddress.String()
		}
	}
	old := c.rec.Endpoints
	eps := slices.DeleteFunc(slices.Clone(old), func(o endpoint) bool { return o.NetworkID == "" && o.Network == ref })
	c.rec.Endpoints = append(eps, ep)
	if err := c.persist(); err != nil {
		c.rec.Endpoints = old
		return err
	}
	return nil
}

// NetworkDisconnect disconnects a container from a network and releases
// its address. Force changes nothing here: an endpoint is always removable.
func (e *Engine) NetworkDisconnect(ctx context.Context, ref string, req network.DisconnectRequest) error {
	e.networks.mu.Lock()
	defer e.networks.mu.Unlock()
	r, err := e.networks.find(ref)
	if errdefs.IsNotFound(err) {
		c, cerr := e.lookup(req.Container)
		if cerr != nil {
			return err
		}
		return e.disconnectUnknown(c, ref, err)
	}
	if err != nil {
		return err
	}
	c, err := e.lookup(req.Container)
	if err != nil {
		return err
	}
	c.mu.Lock()
	id := c.rec.ID
	i := slices.IndexFunc(c.rec.Endpoints, func(ep endpoint) bool { return ep.NetworkID == r.ID })
	if i < 0 {
		c.mu.Unlock()
		// dockerd's error has no class here: a 500.
		return fmt.Errorf("container %s is not connected to the network %s", id, r.Name)
	}
	if r.Driver == "host" {
		c.mu.Unlock()
		return errdefs.InvalidParameter("container cannot be disconnected from host network or connected to host network")
	}
	ep := c.rec.Endpoints[i]
	old := c.rec.Endpoints
	c.rec.Endpoints = slices.Delete(slices.Clone(old), i, i+1)
	err = c.persist()
	if err != nil {
		c.rec.Endpoints = old
	}
	c.mu.Unlock()
	if err != nil {
		return err
	}
	if ep.active() {
		e.networks.release(r.ID, ep.IP)
		e.events.Publish(events.NetworkEventType, events.ActionDisconnect, r.ID, map[string]string{"container": id, "name": r.Name, "type": r.Driver})
		e.refreshHosts(ctx, []string{r.ID}, id)
	}
	return nil
}
