package engine

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/moby/moby/api/types/container"

	"github.com/sockerless/sockerless/internal/backend"
	"github.com/sockerless/sockerless/internal/errdefs"
)

// refreshHosts rewrites /etc/hosts of every running container on the
// given networks and of the container self (one that is starting). A
// container that is not running gets its file when it starts. Callers hold
// n.mu, which orders the writes. A backend without backend.HostsWriter
// keeps the file it wrote at create.
func (e *Engine) refreshHosts(ctx context.Context, networkIDs []string, self string) {
	hw, ok := e.cfg.Backend.(backend.HostsWriter)
	if !ok {
		return
	}
	all := e.records()
	for _, rec := range all {
		touched := rec.ID == self
		for _, ep := range networkPeer(rec, all).Endpoints {
			touched = touched || slices.Contains(networkIDs, ep.NetworkID)
		}
		if !touched || rec.State.Status == container.StateRemoving || (!rec.State.Running && rec.ID != self) {
			continue
		}
		if err := hw.WriteHosts(context.WithoutCancel(ctx), rec.Handle, e.hostsFile(rec, all)); err != nil && !errdefs.IsNotFound(err) {
			e.log.Warn("/etc/hosts not updated", "container_id", rec.ID, "err", err)
		}
	}
}

// hostsFile is the /etc/hosts of rec: the standard entries, the extra
// hosts (--add-host), the container itself (hostname, and on user-defined
// networks its name and aliases) on each of its addresses, then, for each
// user-defined network it is on, the other containers there by name,
// aliases and short ID. all is every container record; callers hold n.mu.
func (e *Engine) hostsFile(rec record, all []record) []byte {
	rec = networkPeer(rec, all) // container:<id> shares the other's file
	var b strings.Builder
	b.WriteString("127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n" +
		"fe00::0\tip6-localnet\nff00::0\tip6-mcastprefix\nff02::1\tip6-allnodes\nff02::2\tip6-allrouters\n")
	for _, h := range rec.HostConfig.ExtraHosts {
		host, ip, ok := strings.Cut(h, ":")
		if !ok {
			host, ip, _ = strings.Cut(h, "=")
		}
		if ip == "host-gateway" {
			if br := e.networks.byName("bridge"); br != nil {
				ip = br.Gateway.String()
			}
		}
		fmt.Fprintf(&b, "%s\t%s\n", ip, host)
	}
	hostname := rec.Config.Hostname
	selfListed := false
	for _, ep := range rec.Endpoints {
		r := e.networks.byID[ep.NetworkID]
		if r == nil || !ep.IP.IsValid() {
			continue
		}
		names := []string{hostname} // first: the canonical name
		if r.userDefined() {
			for _, n := range dnsNames(rec, ep) {
				if n != hostname {
					names = append(names, n)
				}
			}
		}
		fmt.Fprintf(&b, "%s\t%s\n", ep.IP, strings.Join(names, " "))
		selfListed = true
	}
	if !selfListed {
		// host and none: no address of its own; the hostname still resolves.
		fmt.Fprintf(&b, "127.0.1.1\t%s\n", hostname)
	}
	seen := map[string]bool{}
	for _, ep := range rec.Endpoints {
		r := e.networks.byID[ep.NetworkID]
		if r == nil || !r.userDefined() {
			continue
		}
		for _, peer := range all {
			if peer.ID == rec.ID || peer.State.Status == container.StateRemoving {
				continue
			}
			for _, pep := range peer.Endpoints {
				if pep.NetworkID != r.ID || !pep.IP.IsValid() {
					continue
				}
				line := fmt.Sprintf("%s\t%s\n", pep.IP, strings.Join(dnsNames(peer, pep), " "))
				if !seen[line] {
					seen[line] = true
					b.WriteString(line)
				}
			}
		}
	}
	return []byte(b.String())
}
