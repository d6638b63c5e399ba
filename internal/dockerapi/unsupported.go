package dockerapi

import (
	"net/http"

	"github.com/sockerless/sockerless/internal/errdefs"
)

// unsupportedRoutes answers the API areas Sockerless does not serve yet
// with 501 and a message naming the area, instead of dockerd's routes
// succeeding or a bare 404 that clients would misread as "no such object".
func (s *Server) unsupportedRoutes() {
	areas := []struct {
		patterns []string
		what     string
	}{
		{[]string{"POST /build", "POST /build/prune", "POST /build/cancel"}, "image builds are not supported"},
		{[]string{"POST /commit"}, "committing a container to an image is not supported"},
		{[]string{"POST /auth"}, "registry login is not supported: pass credentials with each pull (X-Registry-Auth)"},
		{[]string{"GET /images/search"}, "searching a registry is not supported"},
		{[]string{"POST /session"}, "interactive build sessions are not supported"},
		{[]string{"GET /distribution/{name...}"}, "registry distribution inspection is not supported"},
		{[]string{"GET /swarm", "POST /swarm/{action...}", "GET /nodes", "GET /services", "GET /tasks", "GET /secrets", "GET /configs"}, "swarm mode is not supported"},
		{[]string{"GET /plugins", "POST /plugins/{action...}"}, "plugins are not supported"},
	}
	for _, a := range areas {
		err := errdefs.NotImplemented("%s", a.what)
		for _, p := range a.patterns {
			s.handle(p, func(http.ResponseWriter, *http.Request) error { return err })
		}
	}
}
