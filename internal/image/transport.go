package image

import (
	"fmt"
	"net/http"
	"net/netip"
)

// insecureRegistryCIDRs are the only addresses a registry may be reached
// at over plain HTTP: dockerd's default (--insecure-registry is empty, so
// only loopback). /info reports the same list.
var insecureRegistryCIDRs = []netip.Prefix{netip.MustParsePrefix("::1/128"), netip.MustParsePrefix("127.0.0.0/8")}

// secureOnly refuses plain-HTTP requests to registries that are not on
// loopback. go-containerregistry falls back to HTTP for registries on
// private (RFC 1918) addresses and *.local names when HTTPS fails; dockerd
// does not, and a fallback an attacker on the path can force by blocking
// HTTPS would pull unverified content, so Sockerless keeps Docker's rule.
type secureOnly struct{ base http.RoundTripper }

func (s secureOnly) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.URL.Scheme == "http" && !loopbackHost(req.URL.Hostname()) {
		return nil, fmt.Errorf("refusing plain HTTP to registry %s: only registries on loopback (%v) may be reached without TLS",
			req.URL.Host, insecureRegistryCIDRs)
	}
	return s.base.RoundTrip(req)
}

// loopbackHost reports whether host names the local machine: "localhost"
// or an address in insecureRegistryCIDRs.
func loopbackHost(host string) bool {
	if host == "localhost" {
		return true
	}
	addr, err := netip.ParseAddr(host)
	if err != nil {
		return false
	}
	addr = addr.Unmap()
	for _, p := range insecureRegistryCIDRs {
		if p.Contains(addr) {
			return true
		}
	}
	return false
}

// InsecureRegistryCIDRs returns the address ranges where a registry may be
// reached over plain HTTP, for /info.
func InsecureRegistryCIDRs() []netip.Prefix {
	return append([]netip.Prefix(nil), insecureRegistryCIDRs...)
}
